from fastapi import APIRouter, Depends

from boxoffice.apikeys import service
from boxoffice.apikeys.errors import NeedsLoginSession, TooManyApiKeys
from boxoffice.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from boxoffice.auth.dependencies import SIGNED_IN_ERRORS, CurrentLoginSession
from boxoffice.db import Session
from boxoffice.errors import NotFound, Unprocessable, problem_responses
from boxoffice.schemas import IdInPath, Items
from boxoffice.security import no_store

router = APIRouter(prefix="/users/me/api-keys", tags=["users"], dependencies=[Depends(no_store)])

_MANAGING = (*SIGNED_IN_ERRORS, NeedsLoginSession)


@router.post(
    "", status_code=201, responses=problem_responses(*_MANAGING, TooManyApiKeys, Unprocessable)
)
async def create_api_key(
    body: ApiKeyCreate, auth: CurrentLoginSession, session: Session
) -> ApiKeyCreated:
    """A key for a script: sent as `Authorization: Bearer <key>`, it acts as you (same role,
    same rules) until revoked or expired. Shown this once; only its hash is kept. Made only
    from a login session, never with another key."""
    return await service.create(session, auth.user.id, name=body.name, expires_at=body.expires_at)


@router.get("", responses=problem_responses(*_MANAGING))
async def list_api_keys(auth: CurrentLoginSession, session: Session) -> Items[ApiKeyRead]:
    """Your keys not revoked, by name, expiry and last use; never the keys themselves."""
    keys = await service.keys_of(session, auth.user.id)
    return Items(items=[ApiKeyRead.model_validate(key) for key in keys])


@router.delete("/{key_id}", status_code=204, responses=problem_responses(*_MANAGING, NotFound))
async def revoke_api_key(key_id: IdInPath, auth: CurrentLoginSession, session: Session) -> None:
    """Revokes the key: its next request is refused, on every server process."""
    await service.revoke(session, auth.user.id, key_id)
