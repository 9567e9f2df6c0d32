"""An event at the door: its organizer, bookings made through the API, and its lists."""

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.events.models import Event
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import auth_headers, make_event, make_user


@dataclass
class Door:
    client: httpx.AsyncClient
    db: AsyncSession
    settings: Settings
    event: Event
    owner: dict[str, str]

    @classmethod
    async def open(
        cls, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, capacity: int = 50
    ) -> "Door":
        organizer = await make_user(db, role=Role.ORGANIZER)
        event = await make_event(db, organizer, capacity=capacity)
        return cls(client, db, settings, event, await auth_headers(db, settings, organizer))

    async def book(self, seats: int = 1, **body: Any) -> dict[str, Any]:
        """A booking of `seats`, or of the `lines` given in `body`."""
        holder = await make_user(self.db)
        asked = body if "lines" in body else {"seats": seats, **body}
        response = await self.client.post(
            "/api/v1/bookings",
            headers=await auth_headers(self.db, self.settings, holder),
            json={"event_id": self.event.id, **asked},
        )
        assert response.status_code == 201, response.text
        booking: dict[str, Any] = response.json()
        booking["headers"] = await auth_headers(self.db, self.settings, holder)
        return booking

    async def lists(self) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/api/v1/events/{self.event.id}/check-in-lists", headers=self.owner
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def main_entrance(self) -> int:
        return int((await self.lists())[0]["id"])

    async def add_list(self, **body: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/v1/events/{self.event.id}/check-in-lists",
            headers=self.owner,
            json={"name": "Side door", **body},
        )
        assert response.status_code == 201, response.text
        made: dict[str, Any] = response.json()
        return made

    async def scan(
        self, list_id: int, code: str, headers: dict[str, str] | None = None, **body: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/check-in-lists/{list_id}/scans",
            headers=self.owner if headers is None else headers,
            json={"code": code, **body},
        )

    async def counts(self, list_id: int) -> dict[str, int]:
        response = await self.client.get(f"/api/v1/check-in-lists/{list_id}", headers=self.owner)
        assert response.status_code == 200, response.text
        counts: dict[str, int] = response.json()["counts"]
        return counts

    async def scanner_key(self, list_id: int, name: str = "Phone 1") -> dict[str, str]:
        response = await self.client.post(
            f"/api/v1/check-in-lists/{list_id}/scanner-keys",
            headers=self.owner,
            json={"name": name},
        )
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['key']}"}
