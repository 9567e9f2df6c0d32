"""Scanner keys: shown once, kept only as a hash, told from an access token by their prefix."""

import hashlib
import secrets

PREFIX = "bxs_"


def new_scanner_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def is_scanner_key(token: str) -> bool:
    return token.startswith(PREFIX)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
