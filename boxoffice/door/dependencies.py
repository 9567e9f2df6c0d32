"""Who may use a check-in list: its event's organizer and admins for everything, a scanner key
for scanning at that one list and downloading its tickets."""

from typing import Annotated

from fastapi import Depends

from boxoffice.auth.dependencies import BearerToken, CurrentOrganizer, authenticated, require_role
from boxoffice.db import Session
from boxoffice.door import service
from boxoffice.door.models import CheckInList
from boxoffice.door.service import Scanner
from boxoffice.errors import Forbidden, InvalidToken
from boxoffice.events import service as events
from boxoffice.keys import SCANNER_KEY
from boxoffice.schemas import IdInPath
from boxoffice.settings import AppSettings
from boxoffice.users.models import Role


async def _managed_list(list_id: IdInPath, user: CurrentOrganizer, session: Session) -> CheckInList:
    door = await service.get_list(session, list_id)
    # 404 for a list of an event the caller may not see, as for one that never was.
    await events.get_managed(session, door.event_id, user)
    return door


async def _scanning_list(
    list_id: IdInPath,
    token: BearerToken,
    session: Session,
    settings: AppSettings,
) -> tuple[CheckInList, Scanner]:
    if token is not None and SCANNER_KEY.marks(token):
        found = await service.scanner_key_list(session, token)
        if found is None:
            raise InvalidToken("this scanner key was revoked, or never was one")
        key_id, key_list = found
        if key_list != list_id:
            raise Forbidden("this scanner key scans at another check-in list only")
        return await service.get_list(session, list_id), Scanner(key_id=key_id)
    user = require_role(
        (await authenticated(session, settings, token)).user, Role.ORGANIZER, Role.ADMIN
    )
    return await _managed_list(list_id, user, session), Scanner(user_id=user.id)


# A list the caller manages: its event's organizer's or an admin's.
ManagedList = Annotated[CheckInList, Depends(_managed_list)]
# A list the caller may scan at, and who they are: a manager, or one of the list's scanner keys.
ScanningList = Annotated[tuple[CheckInList, Scanner], Depends(_scanning_list)]
