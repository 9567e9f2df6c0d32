"""Ticket codes: unguessable, yet short enough to read out and type at a door."""

import secrets

# No 0/O, 1/I/L: nothing that reads as something else.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10  # 31**10 is about 2**49.5: far beyond guessing, and 10 keys to type.


def new_ticket_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(typed: str) -> str:
    """What a door person types: any case, spaces or dashes between groups."""
    return typed.strip().upper().replace("-", "").replace(" ", "")
