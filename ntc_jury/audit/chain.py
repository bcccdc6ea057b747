"""How an audit row's hash is computed: the same function writes and verifies."""

from __future__ import annotations

import hashlib
import json

GENESIS = "0" * 64

HASHED_FIELDS = (
    "at",
    "session_id",
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "op_id",
    "ip",
)


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def event_hash(prev_hash: str, fields: dict) -> str:
    """SHA-256 over the previous hash and this row's fields, as canonical JSON."""
    body = {name: _plain(fields.get(name)) for name in HASHED_FIELDS}
    canonical = json.dumps(
        {"prev": prev_hash, **body}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
