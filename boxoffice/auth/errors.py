"""What can refuse a login, a token or a password change."""

from boxoffice.errors import BadRequest, DomainError, InvalidToken


class InvalidCredentials(DomainError):
    status, code = 401, "invalid_credentials"


class WrongCurrentPassword(BadRequest):
    # The code of a failed login, with the status of a bad request: see errors.CODE_STATUSES.
    code = "invalid_credentials"


class RefreshTokenReused(InvalidToken):
    # The revocation of the family must outlive the 401 that reports it.
    keeps_changes = True


class InvalidAccountToken(BadRequest):
    # A link's one-time token that is used, expired, superseded or was never issued: one answer
    # for all, so that it tells nothing about which.
    code = "invalid_token"
