"""What can refuse an admin's change to a user."""

from boxoffice.errors import Conflict


class CannotModifySelf(Conflict):
    code = "cannot_modify_self"
