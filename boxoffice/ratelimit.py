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
from prometheus_client import Counter
from redis.exceptions import RedisError

from boxoffice.auth.dependencies import CurrentUser
from boxoffice.errors import RateLimited
from boxoffice.settings import Settings
from boxoffice.users.models import User, normalize_email

logger = logging.getLogger("boxoffice.ratelimit")

# Per process, like every metric: checks let through because the storage (Redis) failed.
STORAGE_FAILURES = Counter(
    "boxoffice_rate_limit_storage_failures",
    "Rate-limit checks let through because the rate-limit storage (Redis) could not be reached.",
)


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
            # Short timeouts: while Redis is unreachable every check waits for them.
            RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                socket_connect_timeout=1,
                socket_timeout=1,
            )
            if settings.redis_url
            else MemoryStorage()
        )
        # True while the storage fails, so that an outage is logged once, not once per request.
        self._storage_down = False
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
            if not allowed:
                stats = await self._limiter.get_window_stats(item, *keys)
        except (StorageError, RedisError, ConnectionError, OSError, TimeoutError) as error:
            # An unreachable Redis must not take the whole API down with it: let traffic through,
            # count it, and say so once per outage.
            STORAGE_FAILURES.inc()
            if not self._storage_down:
                self._storage_down = True
                logger.warning(
                    "rate limit storage unreachable; requests are let through unlimited until "
                    "it answers again (counted in boxoffice_rate_limit_storage_failures_total)",
                    extra={"error": f"{type(error).__name__}: {error}"},
                )
            return
        if self._storage_down:
            self._storage_down = False
            logger.info("rate limit storage reachable again; limits apply")
        if allowed:
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
    account = normalize_email(email)
    await request.app.state.rate_limiter.hit(Limit.PASSWORD, f"account:{account}")


async def reset_request_check(request: Request, email: str) -> None:
    """Counts a password-reset request against the address asked about, from any client, so
    that nobody can flood one mailbox; unknown addresses are counted alike."""
    account = normalize_email(email)
    await request.app.state.rate_limiter.hit(Limit.PASSWORD, f"reset:{account}")


def per_user(limit: Limit) -> Callable[[Request, User], Awaitable[None]]:
    async def check(request: Request, user: CurrentUser) -> None:
        await hit_for_user(request, limit, user.id)

    return check


async def hit_for_user(request: Request, limit: Limit, user_id: int) -> None:
    """Counts a request against the user's limit; 429 once it is spent."""
    await request.app.state.rate_limiter.hit(limit, f"user:{user_id}")
