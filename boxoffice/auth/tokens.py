"""Signed JWTs. Whether a token still counts is the database's answer, not the signature's."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

import jwt

from boxoffice.errors import InvalidToken
from boxoffice.settings import Settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "jti", "iss", "aud", "sub", "sid", "typ"]


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    session_id: str
    jti: str
    type: TokenType


def new_id() -> str:
    return secrets.token_hex(16)


def issue(
    settings: Settings,
    *,
    type: TokenType,
    user_id: int,
    role: str,
    session_id: str,
    jti: str,
    now: datetime,
) -> str:
    lifetime = (
        timedelta(minutes=settings.access_token_minutes)
        if type is TokenType.ACCESS
        else timedelta(days=settings.refresh_token_days)
    )
    claims = {
        "sub": str(user_id),
        "role": role,
        "sid": session_id,
        "jti": jti,
        "typ": type.value,
        "iat": now,
        "exp": now + lifetime,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def decode(settings: Settings, token: str, *, expected: TokenType) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
        )
        if claims["typ"] != expected.value:
            raise InvalidToken(f"a token of type {expected.value} is needed here")
        return TokenClaims(
            user_id=int(claims["sub"]),
            session_id=str(claims["sid"]),
            jti=str(claims["jti"]),
            type=expected,
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("the token has expired; refresh it or log in again") from error
    except (jwt.InvalidTokenError, ValueError, TypeError) as error:
        raise InvalidToken("the token is not valid") from error


# One-time account tokens (a link to verify an address or reset a password). The token is made
# from a random seed and the secret key: the seed travels in the outbox row, so that the worker
# can put the token in the link when it renders the message, and neither the row nor the
# token's own row (which keeps only a SHA-256 of it) gives the token to someone who reads the
# database without the key.


def new_seed() -> str:
    return secrets.token_urlsafe(32)


def account_token(settings: Settings, seed: str) -> str:
    return _signature(settings, f"account-token:{seed}")


def _signature(settings: Settings, message: str) -> str:
    """An HMAC-SHA256 of `message` under the secret key, URL-safe; each use names its purpose
    at the start of the message, so that no token of one kind passes for another."""
    mac = _keyed(settings.secret_key.get_secret_value()).copy()
    mac.update(message.encode())
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


@lru_cache(maxsize=8)
def _keyed(key: str) -> "hmac.HMAC":
    # The key's two padded blocks hashed once: messages are signed while they are rendered,
    # on the mail worker's hot path.
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


# The one-click unsubscribe link of every message (RFC 8058, SPEC §13): the user's id and its
# signature. It needs no row and never expires, as a link in an old message must keep working;
# all it can do is turn off reminders and event changes, which the user can turn on again.


def unsubscribe_token(settings: Settings, user_id: int) -> str:
    return f"{user_id}.{_signature(settings, f'unsubscribe:{user_id}')}"


def unsubscribed_user(settings: Settings, token: str) -> int | None:
    """The user an unsubscribe token was made for, or None if it was not made with our key."""
    user_id, dot, _ = token.partition(".")
    if not (dot and user_id.isascii() and user_id.isdigit()):
        return None
    expected = unsubscribe_token(settings, int(user_id))
    return int(user_id) if hmac.compare_digest(expected.encode(), token.encode()) else None


def account_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
