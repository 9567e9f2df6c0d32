"""What can refuse a payment or a provider's callback."""

from boxoffice.errors import BadRequest, Conflict


class PaymentNotAllowed(Conflict):
    code = "payment_not_allowed"


class InvalidSignature(BadRequest):
    code = "invalid_signature"
