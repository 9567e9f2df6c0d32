"""Rate limits with `limits`: in memory per process, or shared by every process through Redis."""

import logging
import math
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError

from boxoffice.auth.dependencies import CurrentUser
from boxoffice.errors import RateLimited
from boxoffice.settings import Settings
from boxoffice.users.models import User

logger = logging.getLogger("boxoffice.ratelimit")


class Limit(StrEnum):
    AUTH = "auth"
    BOOKINGS = "bookings"
    DEFAULT = "default"
    PASSWORD = "password"


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        self._prefix = settings.rate_limit_prefix
        storage: Storage = (
            RedisStorage(f"async+{settings.redis_url}", implementation="redispy")
            if settings.redis_url
            else MemoryStorage()
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._items: dict[Limit, RateLimitItem] = {
            Limit.AUTH: parse(settings.rate_limit_auth),
            Limit.BOOKINGS: parse(settings.rate_limit_bookings),
            Limit.DEFAULT: parse(settings.rate_limit_default),
            Limit.PASSWORD: parse(settings.rate_limit_password),
        }

    async def hit(self, limit: Limit, identity: str) -> None:
        """Counts one request of `identity`; raises RateLimited once it is over the limit."""
        if not self.enabled:
            return
        item = self._items[limit]
        keys = (self._prefix, limit.value, identity)
        try:
            allowed = await self._limiter.hit(item, *keys)
            if allowed:
                return
            stats = await self._limiter.get_window_stats(item, *keys)
        except (StorageError, RedisError, ConnectionError, OSError, TimeoutError):
            # An unreachable Redis must not take the whole API down with it: let traffic through.
            logger.warning("rate limit storage unreachable; request allowed", exc_info=True)
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"too many requests; try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def per_address(limit: Limit) -> Callable[[Request], Awaitable[None]]:
    async def check(request: Request) -> None:
        await request.app.state.rate_limiter.hit(limit, client_address(request))

    return check


async def password_check(request: Request, email: str) -> None:
    """Counts one password check against the account, whatever the address (SPEC §6a). Counted
    before the check, right or wrong, so that parallel guesses cannot all slip in before the
    count; unknown addresses are counted alike, so a 429 says nothing about who is registered."""
    account = email.strip().lower()
    await request.app.state.rate_limiter.hit(Limit.PASSWORD, f"account:{account}")


def per_user(limit: Limit) -> Callable[[Request, User], Awaitable[None]]:
    async def check(request: Request, user: CurrentUser) -> None:
        await request.app.state.rate_limiter.hit(limit, f"user:{user.id}")

    return check
