from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from boxoffice.auth.tokens import unsubscribed_user
from boxoffice.db import RowLock, changed_one
from boxoffice.errors import NotFound
from boxoffice.settings import Settings
from boxoffice.users.errors import AccountDisabled, EmailTaken, InvalidUnsubscribeToken
from boxoffice.users.models import ERASED_NAME, Role, User, erased_email, normalize_email


async def get(session: AsyncSession, user_id: int) -> User:
    """The user as stored now, even if this session loaded it before a change."""
    user = await session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFound(f"there is no user {user_id}")
    return user


async def set_active(session: AsyncSession, user_id: int, *, active: bool) -> bool:
    """Bans or lifts a ban; True if this call changed it, so that of two racing bans exactly one
    is audited."""
    return await _change_if(session, user_id, User.is_active.is_(not active), is_active=active)


async def erase(session: AsyncSession, user_id: int, *, password_hash: str) -> bool:
    """Replaces the account's address and name, and its password by one nobody knows, and
    disables it; True if this call erased it. The first write of an erasure: like a ban's, it
    holds the row, so a booking of the user in flight commits first or is refused."""
    return await _change_if(
        session,
        user_id,
        User.email != erased_email(user_id),
        email=erased_email(user_id),
        full_name=ERASED_NAME,
        password_hash=password_hash,
        is_active=False,
    )


async def change_role(session: AsyncSession, user_id: int, *, expected: Role, role: Role) -> bool:
    """Sets the role if it is still `expected`; True if this call changed it."""
    return await _change_if(session, user_id, User.role == expected, role=role)


async def _change_if(
    session: AsyncSession, user_id: int, condition: ColumnElement[bool], **values: object
) -> bool:
    return await changed_one(
        session,
        update(User)
        .where(User.id == user_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False),
    )


_HOLD_ACTIVE = RowLock(
    User.is_active, User.id == bindparam("user_id"), User.is_active.is_(True), shared=True
)


async def hold_active(session: AsyncSession, user_id: int) -> None:
    """Locks the user's row against a ban until the transaction ends, or refuses a disabled
    account. A ban writes this row before it sweeps the user's bookings and sessions, so what
    holds it either commits before the ban (which then sees it) or waits and is refused here;
    reading `is_active` without the lock cannot promise that. Shared, so that the user's own
    parallel requests and the foreign keys of their new rows do not wait on each other."""
    if not await holds_if_active(session, user_id):
        raise AccountDisabled("this account has been disabled; contact the platform's admins")


async def holds_if_active(session: AsyncSession, user_id: int) -> bool:
    """`hold_active` for a caller that goes on either way: whether the account is active (and
    now held against a ban)."""
    return bool(await _HOLD_ACTIVE(session, user_id=user_id))


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    found = await session.scalars(select(User).where(User.email == normalize_email(email)))
    return found.one_or_none()


async def create(
    session: AsyncSession,
    *,
    email: str,
    full_name: str,
    password_hash: str,
    role: Role,
    email_verified: bool,
) -> User:
    user = User(
        email=normalize_email(email),
        full_name=full_name,
        password_hash=password_hash,
        role=role,
        is_active=True,
        email_verified=email_verified,
    )
    session.add(user)
    try:
        # The unique index decides, not a SELECT first: two racing sign-ups cannot both win.
        await session.flush()
    except IntegrityError as error:
        raise EmailTaken(f"{user.email} is already registered; log in instead") from error
    return user


async def update_profile(
    session: AsyncSession,
    user: User,
    *,
    full_name: str | None,
    notify_reminders: bool | None,
    notify_changes: bool | None,
) -> User:
    """Changes what is given; None leaves a field as it is."""
    if full_name is not None:
        user.full_name = full_name
    if notify_reminders is not None:
        user.notify_reminders = notify_reminders
    if notify_changes is not None:
        user.notify_changes = notify_changes
    await session.flush()
    return user


async def unsubscribe(session: AsyncSession, settings: Settings, token: str) -> User:
    """A one-click unsubscribe (RFC 8058): reminders and event changes off for the token's
    user. Twice is the same as once."""
    user_id = unsubscribed_user(settings, token)
    if user_id is None:
        raise InvalidUnsubscribeToken("this unsubscribe link is not valid; use the account page")
    user = await get(session, user_id)
    return await update_profile(
        session, user, full_name=None, notify_reminders=False, notify_changes=False
    )
