"""What can refuse an account's erasure."""

from boxoffice.errors import Conflict


class HasUpcomingEvents(Conflict):
    code = "has_upcoming_events"
