"""Turning a plain form post into an operation (the JSON outbox sends operations directly)."""

from __future__ import annotations

import uuid

from ..http import local_path

PAYLOAD_FIELDS = {
    "mark": ("modality", "criterion_id", "observed"),
    "transversal": ("transversal_id", "competency_id", "observed"),
    "grid": ("modality", "completed"),
    "observation": ("phase_id", "competency_id", "text"),
    "conflict": ("has_conflict", "reason"),
}


def operation_from_form(form, candidate_id: int) -> tuple[str, str, dict]:
    """(op_id, kind, payload) from the posted fields; the candidate comes from the URL."""
    kind = form.get("kind", "")
    payload = {"candidate_id": candidate_id}
    for name in PAYLOAD_FIELDS.get(kind, ()):
        if name in form:
            payload[name] = form.get(name)
    # Forms carry an id made when the page was rendered; a form without one still works.
    op_id = form.get("op_id") or str(uuid.uuid4())
    return op_id, kind, payload


def safe_next(target: str | None) -> str | None:
    """Only local paths, never another site."""
    return local_path(target)
