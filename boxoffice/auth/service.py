"""Sign-up, login sessions, rotating refresh tokens and their revocation."""

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.apikeys import service as apikeys_service
from boxoffice.apikeys.models import ApiKey, in_force
from boxoffice.auth import passwords, tokens
from boxoffice.auth.errors import (
    InvalidAccountToken,
    InvalidCredentials,
    RefreshTokenReused,
    WrongCurrentPassword,
)
from boxoffice.auth.models import TOKEN_VALIDITY, AccountToken, AuthSession, TokenPurpose
from boxoffice.auth.schemas import TokenPair
from boxoffice.auth.tokens import TokenType
from boxoffice.db import after_transaction, changed_one, utcnow
from boxoffice.errors import InvalidToken, RateLimited, Unprocessable
from boxoffice.keys import API_KEY, USE_PRECISION, key_hash
from boxoffice.notifications import outbox
from boxoffice.notifications.models import NotificationKind
from boxoffice.settings import Settings
from boxoffice.users import service as users_service
from boxoffice.users.models import Role, User


@dataclass(frozen=True)
class Authenticated:
    """Who calls: a login session's user, or an API key's owner (`session_id` None)."""

    user: User
    session_id: str | None


async def register(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    full_name: str,
    role: Role,
) -> User:
    """A sign-up: the account, and a `verify_email` message to its address."""
    user = await create_account(
        session, email=email, password=password, full_name=full_name, role=role, verified=False
    )
    await request_verification(session, settings, user)
    return user


async def create_account(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    full_name: str,
    role: Role,
    verified: bool,
) -> User:
    """An account; `verified` for those whose address the operator vouches for (the command
    line's admin, the demo's accounts), which get no `verify_email` message."""
    # A non-ASCII domain is written to in punycode, which every server takes; a non-ASCII
    # mailbox name only through a server that takes SMTPUTF8. Refused here, rather than
    # accepted and then failing at every message.
    settings = session.info.get("settings")
    utf8 = settings is not None and settings.smtp_utf8
    if not utf8 and not email.rpartition("@")[0].isascii():
        why = (
            "the part before the @ must be plain ASCII (no accents, no other scripts):"
            " this site's mail server cannot deliver to it"
        )
        raise Unprocessable(f"email: {why}", errors=[{"loc": ["body", "email"], "msg": why}])
    password_hash = await passwords.hash_password(password)
    return await users_service.create(
        session,
        email=email,
        full_name=full_name,
        password_hash=password_hash,
        role=role,
        email_verified=verified,
    )


# An address not verified yet is sent nothing but these links (SPEC §13): no more than this many
# a day, registration's included, so that an account cannot be used to flood someone's mailbox.
VERIFICATIONS_PER_DAY = 3
_DAY = timedelta(days=1)


async def request_verification(session: AsyncSession, settings: Settings, user: User) -> None:
    """Sends a `verify_email` link to the user's address (anew: an older link stops working);
    429 once VERIFICATIONS_PER_DAY were sent in the last 24 hours."""
    await _issue_account_token(session, settings, user.id, TokenPurpose.VERIFY_EMAIL)


async def request_password_reset(session: AsyncSession, settings: Settings, email: str) -> None:
    """Sends a `password_reset` link if an account has this address. Nothing in the answer or
    its timing tells whether one has: an unknown address gets the same statements, with a
    decoy token that belongs to nobody and no message."""
    user = await users_service.find_by_email(session, email)
    await _issue_account_token(
        session, settings, None if user is None else user.id, TokenPurpose.PASSWORD_RESET
    )


async def verify_email(session: AsyncSession, token: str) -> User:
    user = await _redeem(session, token, TokenPurpose.VERIFY_EMAIL)
    user.email_verified = True
    await session.flush()
    return user


async def reset_password(session: AsyncSession, token: str, new_password: str) -> User:
    """Sets the password and ends every session of the user. Following the link proves the
    address as a verification would, so it counts as one."""
    # Hashed before the token is taken: no lock waits on the hashing.
    password_hash = await passwords.hash_password(new_password)
    user = await _redeem(session, token, TokenPurpose.PASSWORD_RESET)
    user.password_hash = password_hash
    user.email_verified = True
    # The user's row before their sessions: the lock order a ban follows too.
    await session.flush()
    await revoke_all_sessions(session, user.id)
    return user


_MESSAGES = {
    TokenPurpose.VERIFY_EMAIL: NotificationKind.VERIFY_EMAIL,
    TokenPurpose.PASSWORD_RESET: NotificationKind.PASSWORD_RESET,
}


async def _issue_account_token(
    session: AsyncSession, settings: Settings, user_id: int | None, purpose: TokenPurpose
) -> None:
    now = utcnow()
    seed = tokens.new_seed()
    # Only the newest link works: older unused ones end now.
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(expires_at=now)
    )
    if purpose is TokenPurpose.VERIFY_EMAIL and user_id is not None:
        await _within_daily_verifications(session, user_id, now)
    session.add(
        AccountToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=tokens.account_token_hash(tokens.account_token(settings, seed)),
            created_at=now,
            expires_at=now + TOKEN_VALIDITY[purpose],
        )
    )
    await session.flush()
    if user_id is not None:
        await outbox.account_link(session, _MESSAGES[purpose], user_id, seed=seed)


async def _within_daily_verifications(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Refuses a verification link past the day's allowance; the tokens of the last day are the
    count (housekeeping keeps them that long). Read after the UPDATE that ends the older links
    and with row locks: a concurrent request for the same user waits for this one's commit and
    then counts its link too."""
    sent = (
        await session.scalars(
            select(AccountToken.created_at)
            .where(
                AccountToken.user_id == user_id,
                AccountToken.purpose == TokenPurpose.VERIFY_EMAIL,
                AccountToken.created_at > now - _DAY,
            )
            .order_by(AccountToken.created_at)
            .with_for_update()
        )
    ).all()
    if len(sent) < VERIFICATIONS_PER_DAY:
        return
    retry_after = max(1, math.ceil((sent[-VERIFICATIONS_PER_DAY] + _DAY - now).total_seconds()))
    raise RateLimited(
        f"{VERIFICATIONS_PER_DAY} verification links were sent to this address in the last"
        f" 24 hours; ask again in {retry_after} seconds",
        headers={"Retry-After": str(retry_after)},
    )


async def _redeem(session: AsyncSession, token: str, purpose: TokenPurpose) -> User:
    """Uses the token up, or refuses it: used, expired, superseded, of another purpose, a decoy
    or never issued all get the same answer. A conditional UPDATE, so that of two requests
    racing with one token exactly one gets through."""
    token_hash = tokens.account_token_hash(token)
    now = utcnow()
    used = await changed_one(
        session,
        update(AccountToken)
        .where(
            AccountToken.token_hash == token_hash,
            AccountToken.purpose == purpose,
            AccountToken.user_id.is_not(None),
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False),
    )
    if not used:
        raise InvalidAccountToken("this link is not valid any more; ask for a new one")
    user_id = await session.scalar(
        select(AccountToken.user_id).where(AccountToken.token_hash == token_hash)
    )
    assert user_id is not None  # the UPDATE matched only tokens of a user
    return await users_service.get(session, user_id)


async def login(
    session: AsyncSession, settings: Settings, *, email: str, password: str
) -> TokenPair:
    user = await users_service.find_by_email(session, email)
    if user is None:
        await passwords.spend_verification_time(password)
        raise InvalidCredentials("wrong e-mail or password")
    if not await passwords.verify_password(password, user.password_hash):
        raise InvalidCredentials("wrong e-mail or password")
    # start_session refuses a disabled account, after the password: only its owner learns it.
    return await start_session(session, settings, user)


async def refresh(session: AsyncSession, settings: Settings, refresh_token: str) -> TokenPair:
    claims = tokens.decode(settings, refresh_token, expected=TokenType.REFRESH)
    now = utcnow()
    next_jti = tokens.new_id()
    # Compare-and-swap on the family's current jti: of two racing refreshes with the same token
    # exactly one rotates it, and the other is treated as the reuse it is.
    rotated = await changed_one(
        session,
        update(AuthSession)
        .where(
            AuthSession.id == claims.session_id,
            AuthSession.user_id == claims.user_id,
            AuthSession.refresh_jti == claims.jti,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .values(refresh_jti=next_jti, expires_at=now + timedelta(days=settings.refresh_token_days)),
    )
    if not rotated:
        await _revoke_family_if_reused(session, claims)
        raise InvalidToken("the refresh token is no longer valid; log in again")
    user = await users_service.get(session, claims.user_id)
    if not user.is_active:
        raise InvalidToken("this account has been disabled")
    return _token_pair(settings, user, claims.session_id, next_jti)


async def _revoke_family_if_reused(session: AsyncSession, claims: tokens.TokenClaims) -> None:
    family = await session.get(AuthSession, claims.session_id)
    if family is None or family.user_id != claims.user_id or family.revoked_at is not None:
        return
    if family.refresh_jti != claims.jti:
        family.revoked_at = utcnow()
        await session.flush()
        raise RefreshTokenReused(
            "this refresh token was already used; every token of its session is revoked"
        )


# Every request behind a login runs this: built once, so that none pays for building it again.
_SESSION_USER = (
    select(User)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(
        AuthSession.id == bindparam("session_id"),
        User.id == bindparam("user_id"),
        AuthSession.revoked_at.is_(None),
        User.is_active.is_(True),
    )
)


# The same, holding the user's row against a ban until the transaction ends (as
# `users.service.hold_active` does), for a request about to change seats: one statement for both.
_SESSION_USER_HELD = _SESSION_USER.with_for_update(read=True, of=User)


# An API key's owner, and the key's last use: the same one statement as a session's check, and
# the same shared lock on the user's row with `hold`, so that the booking path and its lock order
# are the same whichever credential it comes with.
_KEY_USER = (
    select(User, ApiKey.id, ApiKey.last_used_at)
    .join(ApiKey, ApiKey.user_id == User.id)
    .where(
        ApiKey.key_hash == bindparam("key_hash"),
        *in_force(bindparam("now")),
        User.is_active.is_(True),
    )
)
_KEY_USER_HELD = _KEY_USER.with_for_update(read=True, of=User)


async def authenticate(
    session: AsyncSession, settings: Settings, access_token: str, *, hold: bool = False
) -> Authenticated:
    """The user of the session, or of the API key, that the bearer token names. With `hold`,
    the user's row is also held against a ban (the first lock of a booking's lock order): in the
    same statement where the database has row locks; on SQLite, by the write lock that
    `hold_active` takes."""
    shared_row_locks = session.get_bind().dialect.name != "sqlite"
    held = hold and shared_row_locks
    if API_KEY.marks(access_token):
        now = utcnow()
        row = (
            await session.execute(
                _KEY_USER_HELD if held else _KEY_USER,
                {"key_hash": key_hash(access_token), "now": now},
            )
        ).one_or_none()
        if row is None:
            raise InvalidToken("this API key was revoked, has expired, or never was one")
        user, key_id, last_used_at = row
        if last_used_at is None or last_used_at < now - USE_PRECISION:
            after_transaction(session, partial(apikeys_service.note_use, key_id=key_id))
        auth = Authenticated(user=user, session_id=None)
    else:
        claims = tokens.decode(settings, access_token, expected=TokenType.ACCESS)
        found = await session.execute(
            _SESSION_USER_HELD if held else _SESSION_USER,
            {"session_id": claims.session_id, "user_id": claims.user_id},
        )
        session_user = found.scalar_one_or_none()
        if session_user is None:
            raise InvalidToken("this session has ended; log in again")
        auth = Authenticated(user=session_user, session_id=claims.session_id)
    if hold and not shared_row_locks:
        await users_service.hold_active(session, auth.user.id)
    return auth


async def logout(session: AsyncSession, session_id: str) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_all_sessions(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def change_password(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    current_password: str,
    new_password: str,
) -> TokenPair:
    await check_password(user, current_password, "the current password is wrong")
    user.password_hash = await passwords.hash_password(new_password)
    # The user's row before their sessions: the lock order a ban follows too.
    await session.flush()
    await revoke_all_sessions(session, user.id)
    return await start_session(session, settings, user)


async def check_password(user: User, password: str, wrong: str) -> None:
    """Refuses a signed-in user's request that names a wrong password (400, not a login's 401:
    the session itself is fine). Before any lock: a check takes tens of milliseconds."""
    if not await passwords.verify_password(password, user.password_hash):
        raise WrongCurrentPassword(wrong)


async def unusable_password_hash() -> str:
    """A hash of a password nobody knows, thrown away at once: a login against it fails like any
    wrong password, where a malformed hash would make the hasher raise."""
    return await passwords.hash_password(secrets.token_urlsafe(32))


@dataclass(frozen=True)
class SessionSummary:
    """What a person may know of their own sessions: when, not the token ids."""

    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


async def sessions_of(session: AsyncSession, user_id: int) -> list[SessionSummary]:
    found = await session.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.created_at)
    )
    return [SessionSummary(s.created_at, s.expires_at, s.revoked_at) for s in found]


async def start_session(session: AsyncSession, settings: Settings, user: User) -> TokenPair:
    # A ban racing this login must not leave a session behind that an unban would revive.
    await users_service.hold_active(session, user.id)
    now = utcnow()
    auth_session = AuthSession(
        id=tokens.new_id(),
        user_id=user.id,
        refresh_jti=tokens.new_id(),
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_days),
    )
    session.add(auth_session)
    await session.flush()
    return _token_pair(settings, user, auth_session.id, auth_session.refresh_jti)


def _token_pair(settings: Settings, user: User, session_id: str, refresh_jti: str) -> TokenPair:
    def issue(type: TokenType, jti: str) -> str:
        return tokens.issue(
            settings,
            type=type,
            user_id=user.id,
            role=user.role,
            session_id=session_id,
            jti=jti,
            now=now,
        )

    now = utcnow()
    return TokenPair(
        access_token=issue(TokenType.ACCESS, tokens.new_id()),
        refresh_token=issue(TokenType.REFRESH, refresh_jti),
        expires_in=settings.access_token_minutes * 60,
    )


async def forget_account_tokens(session: AsyncSession, user_id: int) -> None:
    """The user's links, used or not, stop working and are forgotten (their account is erased:
    an old reset link must not give it a password again)."""
    await session.execute(delete(AccountToken).where(AccountToken.user_id == user_id))


async def prune_account_tokens(session: AsyncSession, now: datetime) -> int:
    """Deletes account tokens that can no longer be used (housekeeping): expired, or used, and a
    day old (the day's verification links are counted). A deleted token is refused as one
    never issued, which is what it has become."""
    result = await session.execute(
        delete(AccountToken).where(
            or_(AccountToken.expires_at < now, AccountToken.used_at.is_not(None)),
            AccountToken.created_at < now - _DAY,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def prune_ended_sessions(session: AsyncSession, ended_before: datetime) -> int:
    """Deletes sessions that ended (revoked or expired) before that moment (housekeeping). No
    token of theirs works any more either way: a token whose session is gone is refused."""
    result = await session.execute(
        delete(AuthSession).where(
            or_(AuthSession.expires_at < ended_before, AuthSession.revoked_at < ended_before)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
