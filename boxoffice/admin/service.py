"""Running the platform: users and their roles, bans, totals and the audit log."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.admin import repository
from boxoffice.admin.errors import CannotModifySelf
from boxoffice.apikeys import service as apikeys_service
from boxoffice.audit import AuditAction, AuditEntry, record
from boxoffice.auth import service as auth_service
from boxoffice.bookings import service as bookings_service
from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.db import paginate, paginate_scalars
from boxoffice.errors import NotFound
from boxoffice.events import service as events_service
from boxoffice.events.models import EventStatus
from boxoffice.events.schemas import EventRead
from boxoffice.schemas import PageParams
from boxoffice.users import service as users_service
from boxoffice.users.models import Role, User

RECENT = 10


@dataclass(frozen=True)
class UserOverview:
    user: User
    bookings_count: int
    events_count: int


@dataclass(frozen=True)
class UserDetail(UserOverview):
    recent_bookings: Sequence[Booking]
    recent_events: Sequence[EventRead]


@dataclass(frozen=True)
class Stats:
    users: dict[Role, int]
    events: dict[EventStatus, int]
    bookings: dict[BookingStatus, int]
    seats_sold: int


async def create_admin(session: AsyncSession, *, email: str, password: str, full_name: str) -> int:
    """The command line's way to an admin (nobody is signed in there, so no actor); its id."""
    admin = await auth_service.create_account(
        session, email=email, password=password, full_name=full_name, role=Role.ADMIN, verified=True
    )
    await record(session, AuditAction.ADMIN_CREATED, actor_id=None, target_id=admin.id, via="cli")
    return admin.id


async def list_users(
    session: AsyncSession,
    page: PageParams,
    *,
    role: Role | None,
    q: str | None,
    is_active: bool | None,
) -> tuple[list[UserOverview], int]:
    query = repository.users(role=role, q=q, is_active=is_active)
    rows, total = await paginate(session, repository.with_counts(query), page, counting=query)
    return [UserOverview(*row) for row in rows], total


async def user_detail(session: AsyncSession, user_id: int, viewer: User) -> UserDetail:
    row = (await session.execute(repository.with_counts(repository.user(user_id)))).one_or_none()
    if row is None:
        raise NotFound(f"there is no user {user_id}")
    return UserDetail(
        *row,
        recent_bookings=await bookings_service.recent_of_user(session, user_id, RECENT),
        recent_events=await events_service.recent_of_organizer(session, user_id, RECENT, viewer),
    )


async def change_user(
    session: AsyncSession,
    admin: User,
    user_id: int,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
) -> User:
    """Changes the role, bans or lifts a ban. A value the user already has changes nothing and
    is not audited."""
    user = await users_service.get(session, user_id)
    if user.id == admin.id and (
        (role is not None and role is not Role.ADMIN) or is_active is False
    ):
        raise CannotModifySelf("you cannot demote or ban yourself; ask another admin")
    if is_active is False:
        await _ban(session, admin, user)
    if role is not None:
        await _change_role(session, admin, user, role)
    if is_active is True:
        await _unban(session, admin, user)
    return await users_service.get(session, user_id)


async def ban(session: AsyncSession, admin: User, user_id: int) -> None:
    """What deleting an account means: a ban. Nothing is erased, so history stays whole."""
    await change_user(session, admin, user_id, is_active=False)


async def _change_role(session: AsyncSession, admin: User, user: User, role: Role) -> None:
    # Conditional on the role we read, so that of two racing changes each audits what it saw.
    previous = user.role
    while previous is not role:
        if await users_service.change_role(session, user.id, expected=previous, role=role):
            await record(
                session,
                AuditAction.USER_ROLE_CHANGED,
                actor_id=admin.id,
                target_id=user.id,
                **{"from": previous.value, "to": role.value},
            )
            return
        previous = (await users_service.get(session, user.id)).role


async def _ban(session: AsyncSession, admin: User, user: User) -> None:
    # The user's row first: from here on a booking of theirs that is still in flight waits for
    # this transaction and is then refused, and the sweep below sees every one that got in.
    newly_banned = await users_service.set_active(session, user.id, active=False)
    cancelled = await bookings_service.cancel_upcoming_of_user(session, user.id)
    # Authentication refuses inactive users already; revoking the sessions and API keys as well
    # means that lifting the ban later does not bring the old tokens back.
    await auth_service.revoke_all_sessions(session, user.id)
    await apikeys_service.revoke_all(session, user.id)
    if newly_banned:
        await record(
            session,
            AuditAction.USER_BANNED,
            actor_id=admin.id,
            target_id=user.id,
            cancelled_bookings=cancelled,
        )


async def _unban(session: AsyncSession, admin: User, user: User) -> None:
    if await users_service.set_active(session, user.id, active=True):
        await record(session, AuditAction.USER_UNBANNED, actor_id=admin.id, target_id=user.id)


async def stats(session: AsyncSession) -> Stats:
    users = dict.fromkeys(Role, 0)
    users.update((await session.execute(repository.users_by_role())).all())
    events = dict.fromkeys(EventStatus, 0)
    events.update((await session.execute(repository.events_by_status())).all())
    bookings = dict.fromkeys(BookingStatus, 0)
    seats_sold = 0
    for status, count, seats in await session.execute(repository.bookings_by_status()):
        bookings[status] = count
        if status is BookingStatus.CONFIRMED:
            # int(): MariaDB sums integers as DECIMAL.
            seats_sold = int(seats)
    return Stats(users=users, events=events, bookings=bookings, seats_sold=seats_sold)


async def audit_log(
    session: AsyncSession,
    page: PageParams,
    *,
    actor_id: int | None,
    action: AuditAction | None,
) -> tuple[Sequence[AuditEntry], int]:
    return await paginate_scalars(
        session, repository.audit_log(actor_id=actor_id, action=action), page
    )
