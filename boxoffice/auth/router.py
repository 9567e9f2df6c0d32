from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from boxoffice.apikeys.errors import NeedsLoginSession
from boxoffice.auth import service
from boxoffice.auth.dependencies import SIGNED_IN_ERRORS, CurrentLoginSession, CurrentUser
from boxoffice.auth.errors import InvalidAccountToken, InvalidCredentials
from boxoffice.auth.schemas import (
    Accepted,
    LoginRequest,
    PasswordResetAsk,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    VerifyEmailRequest,
)
from boxoffice.db import Session
from boxoffice.errors import InvalidToken, problem_responses
from boxoffice.ratelimit import Limit, password_check, per_address, reset_request_check
from boxoffice.security import no_store
from boxoffice.settings import AppSettings
from boxoffice.users.errors import AccountDisabled, EmailTaken
from boxoffice.users.schemas import UserRead

router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(no_store)])

FORM = "application/x-www-form-urlencoded"
_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            FORM: {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string", "description": "the e-mail address"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}


async def _login_credentials(request: Request) -> LoginRequest:
    """The OAuth2 password form (what /docs' Authorize button sends) or a JSON body, counted
    against the account's password checks."""
    try:
        if request.headers.get("content-type", "").startswith((FORM, "multipart/form-data")):
            form = await request.form()
            credentials = LoginRequest.model_validate(
                {"email": form.get("username"), "password": form.get("password")}
            )
        else:
            credentials = LoginRequest.model_validate_json(await request.body())
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from error
    await password_check(request, credentials.email)
    return credentials


_AUTH_LIMIT = [Depends(per_address(Limit.AUTH))]


@router.post(
    "/register", status_code=201, dependencies=_AUTH_LIMIT, responses=problem_responses(EmailTaken)
)
async def register(body: RegisterRequest, session: Session, settings: AppSettings) -> UserRead:
    """Creates an account: an attendee unless `role` is `organizer` (never `admin`). A
    `verify_email` message goes to the address."""
    user = await service.register(
        session,
        settings,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        role=body.role,
    )
    return UserRead.model_validate(user)


@router.post(
    "/verify-email/request",
    status_code=202,
    dependencies=_AUTH_LIMIT,
    responses=problem_responses(*SIGNED_IN_ERRORS),
)
async def request_verification(
    user: CurrentUser, session: Session, settings: AppSettings
) -> Accepted:
    """Sends the caller a `verify_email` message with a new link, valid 48 hours; links sent
    before stop working. At most 3 a day, registration's included (then 429 `rate_limited`,
    with Retry-After)."""
    await service.request_verification(session, settings, user)
    return Accepted(detail=f"a link to verify {user.email} was sent to it")


@router.post("/verify-email", responses=problem_responses(InvalidAccountToken))
async def verify_email(body: VerifyEmailRequest, session: Session) -> UserRead:
    """Marks the address verified, with the token of a `verify_email` link (once)."""
    return UserRead.model_validate(await service.verify_email(session, body.token))


# The same answer whether the address has an account or not.
_RESET_ASKED = Accepted(
    detail="if an account has this address, a link to reset its password was sent to it"
)


@router.post(
    "/password-reset/request",
    status_code=202,
    dependencies=_AUTH_LIMIT,
    responses=problem_responses(),
)
async def request_password_reset(
    body: PasswordResetAsk, request: Request, session: Session, settings: AppSettings
) -> Accepted:
    """Sends a `password_reset` message with a link valid 1 hour, if an account has this
    address. The answer, and the time it takes, are the same either way."""
    await reset_request_check(request, body.email)
    await service.request_password_reset(session, settings, body.email)
    return _RESET_ASKED


@router.post("/password-reset", responses=problem_responses(InvalidAccountToken))
async def reset_password(body: PasswordResetRequest, session: Session) -> UserRead:
    """Sets a new password with the token of a `password_reset` link (once), and ends every
    session of the account: log in again with the new password."""
    user = await service.reset_password(session, body.token, body.new_password)
    return UserRead.model_validate(user)


@router.post(
    "/login",
    openapi_extra=_LOGIN_BODY,
    dependencies=_AUTH_LIMIT,
    responses=problem_responses(InvalidCredentials, AccountDisabled),
)
async def login(
    credentials: Annotated[LoginRequest, Depends(_login_credentials)],
    session: Session,
    settings: AppSettings,
) -> TokenPair:
    """Starts a session: an OAuth2 password form (`username`, `password`) or JSON `{email,
    password}` gives an access token and a refresh token."""
    return await service.login(
        session, settings, email=credentials.email, password=credentials.password
    )


@router.post("/refresh", responses=problem_responses(InvalidToken))
async def refresh(body: RefreshRequest, session: Session, settings: AppSettings) -> TokenPair:
    """A new token pair for a refresh token, which rotates: presenting a rotated-out one again
    ends its whole session."""
    return await service.refresh(session, settings, body.refresh_token)


@router.post(
    "/logout", status_code=204, responses=problem_responses(*SIGNED_IN_ERRORS, NeedsLoginSession)
)
async def logout(auth: CurrentLoginSession, session: Session) -> None:
    """Ends the session of this access token, on every server process at once. An API key has
    no session: revoke it instead."""
    assert auth.session_id is not None  # a login session's
    await service.logout(session, auth.session_id)
