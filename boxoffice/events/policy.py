"""Who may see and manage an event: the rules of SPEC §1 and §2, for every domain to apply."""

from boxoffice.events.models import Event, EventStatus
from boxoffice.users.models import Role, User


def is_manager(event: Event, user: User | None) -> bool:
    return user is not None and (user.role is Role.ADMIN or event.organizer_id == user.id)


def may_see(event: Event, user: User | None) -> bool:
    """Drafts are their organizer's and the admins'; deleted events nobody's."""
    return event.deleted_at is None and (
        event.status is not EventStatus.DRAFT or is_manager(event, user)
    )
