"""What can refuse a booking, a repeat of one (Idempotency-Key), a cancellation or a check-in."""

from boxoffice.errors import Conflict, Unprocessable


class SoldOut(Conflict):
    code = "sold_out"


class AlreadyBooked(Conflict):
    code = "already_booked"


class EventNotBookable(Conflict):
    code = "event_not_bookable"


class EventStarted(Conflict):
    code = "event_started"


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"


class BookingNotConfirmed(Conflict):
    code = "booking_not_confirmed"


class RequestInProgress(Conflict):
    code = "request_in_progress"


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"


class SaleNotOpen(Conflict):
    code = "sale_not_open"


class QuantityOutOfRange(Unprocessable):
    code = "quantity_out_of_range"


class BookingNotPending(Conflict):
    code = "booking_not_pending"


class OfferExpired(Conflict):
    code = "offer_expired"


class CancellationClosed(Conflict):
    code = "cancellation_closed"
