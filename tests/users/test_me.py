import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import auth_headers, make_user

ME = "/api/v1/users/me"


async def test_me_shows_the_caller(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db, email="ann@example.com", full_name="Ann")

    response = await client.get(ME, headers=await auth_headers(db, settings, user))

    assert response.status_code == 200
    assert response.json() | {"created_at": None} == {
        "id": user.id,
        "email": "ann@example.com",
        "full_name": "Ann",
        "role": "attendee",
        "is_active": True,
        "email_verified": True,
        "notify_reminders": True,
        "notify_changes": True,
        "created_at": None,
    }


async def test_full_name_can_be_changed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db)
    headers = await auth_headers(db, settings, user)

    response = await client.patch(ME, headers=headers, json={"full_name": "  Ann Smith "})

    assert response.status_code == 200
    assert response.json()["full_name"] == "Ann Smith"
    assert (await client.get(ME, headers=headers)).json()["full_name"] == "Ann Smith"


async def test_role_cannot_be_changed_through_the_profile(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db, role=Role.ATTENDEE)
    headers = await auth_headers(db, settings, user)

    response = await client.patch(ME, headers=headers, json={"full_name": "Ann", "role": "admin"})

    assert response.status_code == 422
    assert (await client.get(ME, headers=headers)).json()["role"] == "attendee"


async def test_blank_full_name_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db)

    response = await client.patch(
        ME, headers=await auth_headers(db, settings, user), json={"full_name": "   "}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "full_name"]


async def test_mail_preferences_change_alone_and_leave_the_rest(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db, full_name="Ann")
    headers = await auth_headers(db, settings, user)

    response = await client.patch(ME, headers=headers, json={"notify_reminders": False})

    assert response.status_code == 200
    me = (await client.get(ME, headers=headers)).json()
    assert (me["full_name"], me["notify_reminders"], me["notify_changes"]) == ("Ann", False, True)
