"""What can refuse a sign-up or an account's request."""

from boxoffice.errors import BadRequest, Conflict, Forbidden


class EmailTaken(Conflict):
    code = "email_taken"


class AccountDisabled(Forbidden):
    code = "account_disabled"


class EmailNotVerified(Forbidden):
    code = "email_not_verified"


class InvalidUnsubscribeToken(BadRequest):
    code = "invalid_token"
