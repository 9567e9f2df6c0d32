"""Imports every model, so that Base.metadata knows the whole schema (Alembic, tests)."""

from boxoffice.apikeys.models import ApiKey
from boxoffice.audit import AuditEntry
from boxoffice.auth.models import AccountToken, AuthSession
from boxoffice.bookings.models import Booking, IdempotencyRecord, Ticket
from boxoffice.catalogue.models import Quota, TicketType
from boxoffice.db import Base
from boxoffice.door.models import CheckInList, Presence, Scan, ScannerKey
from boxoffice.events.models import Event
from boxoffice.notifications.models import Notification
from boxoffice.users.models import User
from boxoffice.webhooks.models import Webhook, WebhookDelivery, WebhookMessage

__all__ = [
    "AccountToken",
    "ApiKey",
    "AuditEntry",
    "AuthSession",
    "Base",
    "Booking",
    "CheckInList",
    "Event",
    "IdempotencyRecord",
    "Notification",
    "Presence",
    "Quota",
    "Scan",
    "ScannerKey",
    "Ticket",
    "TicketType",
    "User",
    "Webhook",
    "WebhookDelivery",
    "WebhookMessage",
]
