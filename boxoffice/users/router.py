from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from boxoffice.accounts import service as accounts_service
from boxoffice.accounts.errors import HasUpcomingEvents
from boxoffice.accounts.schemas import AccountErasure, DataExport
from boxoffice.auth import service as auth_service
from boxoffice.auth.dependencies import SIGNED_IN_ERRORS, CurrentUser
from boxoffice.auth.errors import WrongCurrentPassword
from boxoffice.auth.schemas import PasswordChangeRequest, TokenPair
from boxoffice.db import Session
from boxoffice.errors import problem_responses
from boxoffice.ratelimit import Limit, password_check, per_address
from boxoffice.security import no_store
from boxoffice.settings import AppSettings
from boxoffice.users import service
from boxoffice.users.errors import AccountDisabled, InvalidUnsubscribeToken
from boxoffice.users.schemas import (
    MailWishes,
    OneClickUnsubscribe,
    ProfileUpdate,
    UnsubscribeToken,
    UserRead,
)

router = APIRouter(prefix="/users", tags=["users"], dependencies=[Depends(no_store)])


@router.get("/me", responses=problem_responses(*SIGNED_IN_ERRORS))
async def read_me(user: CurrentUser) -> UserRead:
    """The calling user."""
    return UserRead.model_validate(user)


@router.patch("/me", responses=problem_responses(*SIGNED_IN_ERRORS))
async def update_me(body: ProfileUpdate, user: CurrentUser, session: Session) -> UserRead:
    """Changes the calling user's name, and whether reminders and event changes are mailed to
    them; fields left out stay as they are."""
    return UserRead.model_validate(
        await service.update_profile(
            session,
            user,
            full_name=body.full_name,
            notify_reminders=body.notify_reminders,
            notify_changes=body.notify_changes,
        )
    )


async def _password_checks(request: Request, user: CurrentUser) -> None:
    await password_check(request, user.email)


@router.post(
    "/me/password",
    # The address's login limit as well as the account's: a stolen session must not become a
    # way to guess the password it lacks.
    dependencies=[Depends(per_address(Limit.AUTH)), Depends(_password_checks)],
    responses=problem_responses(*SIGNED_IN_ERRORS, WrongCurrentPassword, AccountDisabled),
)
async def change_password(
    body: PasswordChangeRequest, user: CurrentUser, session: Session, settings: AppSettings
) -> TokenPair:
    """Changes the password and gives a new token pair; every token issued before, in every
    session, stops working."""
    return await auth_service.change_password(
        session,
        settings,
        user,
        current_password=body.current_password,
        new_password=body.new_password,
    )


@router.get("/me/export", responses=problem_responses(*SIGNED_IN_ERRORS))
async def export_me(user: CurrentUser, session: Session, response: Response) -> DataExport:
    """Everything stored about the calling user, as one JSON file to download: profile, bookings
    with their tickets, payments and refunds, sessions, messages, and the audit log's entries
    about them. No secrets, and nothing about anyone else."""
    response.headers["Content-Disposition"] = (
        f'attachment; filename="boxoffice-export-{user.id}.json"'
    )
    return await accounts_service.export(session, user)


@router.delete(
    "/me",
    status_code=204,
    dependencies=[Depends(per_address(Limit.AUTH)), Depends(_password_checks)],
    responses=problem_responses(*SIGNED_IN_ERRORS, WrongCurrentPassword, HasUpcomingEvents),
)
async def erase_me(body: AccountErasure, user: CurrentUser, session: Session) -> None:
    """Erases the calling user's account: upcoming bookings cancelled (seats back, refunds),
    sessions and scanner keys ended, e-mail and name erased; it can never log in again. Counts
    and history stay, anonymous."""
    await accounts_service.erase_self(session, user, password=body.password)


# A person who opens the link in a browser, or a mail client that ignores
# List-Unsubscribe-Post, only reads this page: a GET changes nothing (link checkers and
# previews follow links). Its form posts the one-click body back to the same address.
_UNSUBSCRIBE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Unsubscribe - boxoffice</title></head>
<body>
<main>
<h1>Stop reminders and event changes</h1>
<p>Messages about your bookings, payments and cancellations still come.
You can turn either back on under My account.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>
</main>
</body>
</html>
"""


@router.get(
    "/unsubscribe",
    response_class=HTMLResponse,
    responses={
        **problem_responses(),
        200: {"content": {"text/html": {}}, "description": "A page with the button"},
    },
)
async def unsubscribe_page(token: Annotated[UnsubscribeToken, Query()]) -> str:  # noqa: ARG001
    """The page of an unsubscribe link, for a browser: a button that sends the one-click
    POST. Changes nothing by itself."""
    return _UNSUBSCRIBE_PAGE


@router.post("/unsubscribe", responses=problem_responses(InvalidUnsubscribeToken))
async def unsubscribe(
    token: Annotated[UnsubscribeToken, Query()],
    body: Annotated[OneClickUnsubscribe, Form()],  # noqa: ARG001
    session: Session,
    settings: AppSettings,
) -> MailWishes:
    """RFC 8058 one-click unsubscribe, the address in every message's `List-Unsubscribe`
    header: turns off reminders and event changes for the user the token was made for. No
    login; the token is the proof. Idempotent."""
    return MailWishes.model_validate(await service.unsubscribe(session, settings, token))
