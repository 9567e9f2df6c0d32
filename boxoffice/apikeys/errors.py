"""What can refuse a request about API keys."""

from boxoffice.errors import Conflict, Forbidden


class TooManyApiKeys(Conflict):
    """The cap on keys in force per account: a runaway script, not a quota to sell."""


class NeedsLoginSession(Forbidden):
    """A request that only a login session may make (managing keys, logging out)."""
