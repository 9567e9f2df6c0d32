"""argon2id at OWASP's minimum (19 MiB, t=2, p=1), run in a thread: a hash takes tens of ms."""

import asyncio
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(memory_cost=19 * 1024, time_cost=2, parallelism=1),))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password: str, password_hash: str) -> bool:
    return await asyncio.to_thread(_hasher.verify, password, password_hash)


@cache
def _decoy_hash() -> str:
    return _hasher.hash("decoy password for unknown e-mails")


async def spend_verification_time(password: str) -> None:
    """Costs as much as a real check, so that response time does not tell which e-mails exist."""
    await asyncio.to_thread(_hasher.verify, password, _decoy_hash())
