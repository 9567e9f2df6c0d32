"""Ticket codes: unguessable, yet short enough to read out and type at a door."""

import io
import secrets

import segno

# No 0/O, 1/I/L: nothing that reads as something else.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10  # 31**10 is about 2**49.5: far beyond guessing, and 10 keys to type.


def new_ticket_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(typed: str) -> str:
    """What a door person types: any case, spaces or dashes between groups."""
    return typed.strip().upper().replace("-", "").replace(" ", "")


def qr_svg(code: str) -> bytes:
    """The ticket code as a QR code (SVG) that a door scanner reads back into check-in."""
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(
        buffer, kind="svg", scale=8, border=4, dark="#000", light="#fff", title=f"Ticket {code}"
    )
    return buffer.getvalue()
