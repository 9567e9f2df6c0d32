"""What can refuse a change to an event."""

from boxoffice.errors import Conflict


class EventNotEditable(Conflict):
    code = "event_not_editable"


class CapacityBelowBooked(Conflict):
    code = "capacity_below_booked"
