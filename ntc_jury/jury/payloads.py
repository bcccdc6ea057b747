"""Reading what a phone sends: ids, flags and text, whatever JSON or a form made of them.

Nothing here trusts the client: anything that is not what a field should be reads as "none",
and the operation's rules then refuse it with a French message.
"""

from __future__ import annotations

import math
import uuid

OBSERVATION_MAX = 10_000
_ID_LIMIT = 2**31


def is_uuid(value) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def client_int(value) -> int | None:
    """An id sent by a client: an int, or ASCII digits; None for anything else.

    Ids are INTEGER columns, so a larger number names nothing (and SQLite cannot even be asked
    about a Python int past 2**63). Only ASCII digits: "¹" is a digit to str.isdigit(), not
    to int().
    """
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if abs(value) < _ID_LIMIT else None


def client_text(value) -> str:
    """A string field of the outbox's JSON; anything else is empty (a kind nobody knows)."""
    return value if isinstance(value, str) else ""


def client_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes", "oui")
    return bool(value)


def storable(value) -> bool:
    """What both databases can store: no NUL character and no lone surrogate in any text
    (only JSON escapes produce them, no keyboard does; PostgreSQL refuses both and SQLite
    cannot encode a surrogate), and numbers JSON can hold (no NaN, no infinity).

    Walked without recursion: the JSON parser accepts nesting deeper than Python's stack.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and not _encodes(item)):
                return False
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bounded(payload: dict) -> dict:
    """What is stored of a payload: only simple values, cut to a sane size."""
    kept = {}
    for key, value in list(payload.items())[:20]:
        if isinstance(value, str):
            kept[str(key)[:40]] = value[:OBSERVATION_MAX]
        elif isinstance(value, bool | int | float) or value is None:
            kept[str(key)[:40]] = value
    return kept
