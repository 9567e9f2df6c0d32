"""Health and readiness probes for load balancers and orchestrators."""

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from boxoffice.errors import ServiceUnavailable, problem_responses

router = APIRouter(tags=["operations"])


@router.get("/healthz", responses=problem_responses())
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz", responses=problem_responses(ServiceUnavailable))
async def readyz(request: Request) -> dict[str, str]:
    """The database answers; a load balancer should send traffic here only then."""
    try:
        async with request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        raise ServiceUnavailable(
            "the database is not reachable", headers={"Retry-After": "5"}
        ) from error
    return {"status": "ready"}
