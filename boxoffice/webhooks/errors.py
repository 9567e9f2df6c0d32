from boxoffice.errors import DomainError


class WebhookUrlNotAllowed(DomainError):
    """A URL that is not http(s), or names an address inside a private network (SPEC §12)."""

    status, code = 422, "webhook_url_not_allowed"
