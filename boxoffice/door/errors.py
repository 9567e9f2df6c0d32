"""What the door can refuse, besides a scan's own answer (which is a 201 with `refused`)."""

from boxoffice.errors import Conflict


class LastCheckInList(Conflict):
    code = "last_check_in_list"
