"""Bearer keys that a device or a script keeps (scanner keys, API keys): random, shown once,
kept only as a SHA-256 hash, and told from an access token (a JWT) and from each other by their
prefix. The key is long and random, so a slow or salted hash would add nothing but time to
every request that presents one; the table (or a copy of it) opens nothing."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

# How exactly a key's `last_used_at` is kept: not a write per request.
USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class KeyKind:
    prefix: str

    def new(self) -> str:
        return self.prefix + secrets.token_urlsafe(32)

    def marks(self, token: str) -> bool:
        return token.startswith(self.prefix)


SCANNER_KEY = KeyKind("bxs_")
API_KEY = KeyKind("bxk_")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
