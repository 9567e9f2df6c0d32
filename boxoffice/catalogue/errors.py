"""What can refuse a change to an event's ticket types or quotas."""

from boxoffice.errors import Conflict


class TicketTypeInUse(Conflict):
    code = "ticket_type_in_use"


class LastTicketType(Conflict):
    code = "last_ticket_type"


class QuotaBelowTaken(Conflict):
    code = "quota_below_taken"
