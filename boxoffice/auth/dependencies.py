"""Who is calling, and may they: every role check of the API lives here, once."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from boxoffice.apikeys.errors import NeedsLoginSession
from boxoffice.auth import service
from boxoffice.auth.service import Authenticated
from boxoffice.db import Session
from boxoffice.errors import DomainError, Forbidden, InvalidToken, NotAuthenticated
from boxoffice.settings import AppSettings, Settings
from boxoffice.users.errors import EmailNotVerified
from boxoffice.users.models import Role, User

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


# The bearer token of the request, if any (and the security scheme of the OpenAPI document).
BearerToken = Annotated[str | None, Depends(_bearer)]


async def _authenticated(
    session: Session, settings: AppSettings, token: BearerToken
) -> Authenticated:
    return await authenticated(session, settings, token)


async def authenticated(
    session: Session, settings: AppSettings, token: str | None, *, hold: bool = False
) -> Authenticated:
    """The caller's session or API key, for guards that decide more than a role (see
    `service.authenticate` for `hold`)."""
    if token is None:
        raise NotAuthenticated(
            "log in and send the access token as 'Authorization: Bearer <token>'"
        )
    return await service.authenticate(session, settings, token, hold=hold)


CurrentAuth = Annotated[Authenticated, Depends(_authenticated)]


async def _login_session(auth: CurrentAuth) -> Authenticated:
    # An API key acts as its owner everywhere but here: a stolen key must not mint keys that
    # outlive its revocation, nor revoke the owner's other keys; and it has no session to end.
    if auth.session_id is None:
        raise NeedsLoginSession(
            "an API key cannot do this: log in with your password and use that session"
        )
    return auth


# A caller signed in with a password (a login session), not with an API key.
CurrentLoginSession = Annotated[Authenticated, Depends(_login_session)]


async def _optional_user(
    session: Session, settings: AppSettings, token: Annotated[str | None, Depends(_bearer)]
) -> User | None:
    if token is None:
        return None
    return (await service.authenticate(session, settings, token)).user


def _role_required(*roles: Role) -> Callable[[Authenticated], Awaitable[User]]:
    async def check(auth: CurrentAuth) -> User:
        return require_role(auth.user, *roles)

    return check


def require_role(user: User, *roles: Role) -> User:
    if user.role not in roles:
        allowed = " or ".join(role.value for role in roles)
        raise Forbidden(f"only {allowed} accounts may do this")
    return user


async def _any_user(auth: CurrentAuth) -> User:
    return auth.user


CurrentUser = Annotated[User, Depends(_any_user)]
OptionalUser = Annotated[User | None, Depends(_optional_user)]
CurrentAttendee = Annotated[User, Depends(_role_required(Role.ATTENDEE))]
CurrentOrganizer = Annotated[User, Depends(_role_required(Role.ORGANIZER, Role.ADMIN))]
CurrentAdmin = Annotated[User, Depends(_role_required(Role.ADMIN))]


def require_verified(settings: Settings, user: User) -> User:
    """With BOXOFFICE_REQUIRE_VERIFIED_EMAIL, only an account with a verified address may go
    on (booking, creating events: SPEC §13)."""
    if settings.require_verified_email and not user.email_verified:
        raise EmailNotVerified(
            f"verify {user.email} first: follow the link sent to it, or ask for a new one"
        )
    return user


async def _verified_organizer(settings: AppSettings, organizer: CurrentOrganizer) -> User:
    return require_verified(settings, organizer)


# An organizer or admin who may create events.
VerifiedOrganizer = Annotated[User, Depends(_verified_organizer)]

# What a route behind a login can answer before it starts (for its OpenAPI declaration): no
# token, or one that is no good; and with a role required, a role that may not.
SIGNED_IN_ERRORS: tuple[type[DomainError], ...] = (NotAuthenticated, InvalidToken)
ROLE_ERRORS: tuple[type[DomainError], ...] = (*SIGNED_IN_ERRORS, Forbidden)
