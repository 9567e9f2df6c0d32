from typing import Annotated

from fastapi import APIRouter, Depends, Query

from boxoffice.accounts import service as accounts_service
from boxoffice.accounts.errors import HasUpcomingEvents
from boxoffice.admin import service
from boxoffice.admin.errors import CannotModifySelf
from boxoffice.admin.schemas import (
    AdminUserDetail,
    AdminUserRead,
    AuditEntryRead,
    AuditFilters,
    BookingCounts,
    EventCounts,
    PlatformStats,
    UserChange,
    UserCounts,
    UserFilters,
)
from boxoffice.auth.dependencies import ROLE_ERRORS, CurrentAdmin
from boxoffice.bookings.schemas import BookingRead
from boxoffice.db import Session
from boxoffice.errors import NotFound, problem_responses
from boxoffice.schemas import IdInPath, Page, Pagination
from boxoffice.security import no_store
from boxoffice.users.schemas import UserRead

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(no_store)])

_READ = problem_responses(*ROLE_ERRORS)
_ONE_USER = problem_responses(*ROLE_ERRORS, NotFound)
_CHANGE_USER = problem_responses(*ROLE_ERRORS, NotFound, CannotModifySelf)


@router.get("/users", responses=_READ)
async def list_users(
    filters: Annotated[UserFilters, Query()],
    page: Pagination,
    _admin: CurrentAdmin,
    session: Session,
) -> Page[AdminUserRead]:
    """Users with how many bookings they made and events they organize; `q` searches e-mail and
    name."""
    users, total = await service.list_users(
        session, page, role=filters.role, q=filters.q, is_active=filters.is_active
    )
    return Page.of(
        [
            AdminUserRead.of(u.user, bookings_count=u.bookings_count, events_count=u.events_count)
            for u in users
        ],
        total,
        page,
    )


@router.get("/users/{user_id}", responses=_ONE_USER)
async def read_user(user_id: IdInPath, admin: CurrentAdmin, session: Session) -> AdminUserDetail:
    """One user with their counts, latest bookings and latest events."""
    detail = await service.user_detail(session, user_id, admin)
    return AdminUserDetail.of(
        detail.user,
        bookings_count=detail.bookings_count,
        events_count=detail.events_count,
        recent_bookings=[BookingRead.model_validate(b) for b in detail.recent_bookings],
        recent_events=list(detail.recent_events),
    )


@router.patch("/users/{user_id}", responses=_CHANGE_USER)
async def change_user(
    user_id: IdInPath, body: UserChange, admin: CurrentAdmin, session: Session
) -> UserRead:
    """Changes a user's role, bans them (`is_active: false`: their tokens stop working, their
    upcoming bookings are cancelled) or lifts a ban."""
    user = await service.change_user(
        session, admin, user_id, role=body.role, is_active=body.is_active
    )
    return UserRead.model_validate(user)


@router.delete("/users/{user_id}", status_code=204, responses=_CHANGE_USER)
async def delete_user(user_id: IdInPath, admin: CurrentAdmin, session: Session) -> None:
    """Bans the user; nothing is erased, so their history stays whole."""
    await service.ban(session, admin, user_id)


@router.post(
    "/users/{user_id}/erase",
    status_code=204,
    responses=problem_responses(*ROLE_ERRORS, NotFound, CannotModifySelf, HasUpcomingEvents),
)
async def erase_user(user_id: IdInPath, admin: CurrentAdmin, session: Session) -> None:
    """Erases a user's account as DELETE /users/me does for its owner, without the password."""
    await accounts_service.erase_by_admin(session, admin, user_id)


@router.get("/stats", responses=_READ)
async def platform_stats(_admin: CurrentAdmin, session: Session) -> PlatformStats:
    """Counts of users by role, events by status, bookings by status, and seats sold."""
    stats = await service.stats(session)
    return PlatformStats(
        users=UserCounts.model_validate(stats.users),
        events=EventCounts.model_validate(stats.events),
        bookings=BookingCounts.model_validate(stats.bookings),
        seats_sold=stats.seats_sold,
    )


@router.get("/audit-log", responses=_READ)
async def audit_log(
    filters: Annotated[AuditFilters, Query()],
    page: Pagination,
    _admin: CurrentAdmin,
    session: Session,
) -> Page[AuditEntryRead]:
    """Who changed what, newest first."""
    entries, total = await service.audit_log(
        session, page, actor_id=filters.actor_id, action=filters.action
    )
    return Page.of([AuditEntryRead.model_validate(e) for e in entries], total, page)
