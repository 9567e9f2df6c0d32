import httpx

from boxoffice.app import create_app
from tests.conftest import make_settings


async def test_health_answers_while_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200


async def test_not_ready_when_the_database_is_unreachable() -> None:
    # Port 9 (discard) on loopback has no database behind it.
    app = create_app(make_settings("postgresql+asyncpg://nobody@127.0.0.1:9/none"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/readyz")
    await app.state.engine.dispose()

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert "Retry-After" in response.headers


async def test_docs_and_openapi_are_served(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert (await client.get(path)).status_code == 200, path
