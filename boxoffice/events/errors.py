"""What can refuse a change to an event."""

from boxoffice.errors import Conflict


class InvalidTransition(Conflict):
    code = "invalid_transition"


class EventNotEditable(Conflict):
    code = "event_not_editable"


class CapacityBelowBooked(Conflict):
    code = "capacity_below_booked"
