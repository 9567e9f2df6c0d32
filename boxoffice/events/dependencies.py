"""Events as route dependencies: the `{event_id}` of the path, resolved under SPEC §2's rules."""

from typing import Annotated

from fastapi import Depends

from boxoffice.auth.dependencies import CurrentOrganizer, OptionalUser
from boxoffice.db import Session
from boxoffice.events import service
from boxoffice.events.models import Event
from boxoffice.schemas import IdInPath


async def _visible_event(event_id: IdInPath, viewer: OptionalUser, session: Session) -> Event:
    return await service.get_visible(session, event_id, viewer)


async def _managed_event(event_id: IdInPath, user: CurrentOrganizer, session: Session) -> Event:
    return await service.get_managed(session, event_id, user)


# An event the caller may read: 404 for a draft of someone else's, as for one that never was.
VisibleEvent = Annotated[Event, Depends(_visible_event)]
# An event the caller may change: its organizer's or an admin's; 403 for others who can see it.
ManagedEvent = Annotated[Event, Depends(_managed_event)]
