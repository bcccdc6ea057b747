"""Retention: which sessions are due for the purge, and what the purge removes.

Kept for good: the stored documents (the PV and the sheets, which the purge never touches),
decisions with their reasons, presence, ticks and grid completions (the aggregate results),
incidents and fraud reports (part of the minutes), the jury. Removed: the candidates'
identity beyond their candidate number (names become "Candidat n° …"), birth date and place,
e-mail, disability arrangements, company context and presence note; every observation; the
reasons given for conflicts of interest; and the same texts where the audit log and the
jurors' operation log repeat them.

The audit log is hash-chained, so its rows are redacted, not deleted: their `before`/`after`
become {"purged": true} while `hash` and `prev_hash` stay. The purge's own audit event lists,
for each redacted row, its id, its hash and the digest of the fields it keeps
(`kept_fields_digest`), which is how `flask audit verify` tells a purged row from a forged one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from ..audit.chain import HASHED_FIELDS, event_hash
from ..extensions import db
from ..models import (
    AppliedOperation,
    AuditEvent,
    Candidate,
    ConflictDeclaration,
    ExamSession,
    JuryMember,
    Observation,
)

# Audit actions whose before/after repeat personal texts (observations, conflict reasons,
# identity corrections, circumstances of an absence).
PERSONAL_ACTIONS = ("observation_saved", "conflict_declared", "candidate_updated")
PRESENCE_ACTION = "presence_decided"
PERSONAL_OPERATIONS = ("observation", "conflict")
REDACTED = {"purged": True}
# A declared conflict keeps a reason (a database constraint); this one says it was purged.
PURGED_REASON = "(purgé)"
PERSONAL_FIELDS = (
    "birth_date",
    "birth_place",
    "email",
    "disability_arrangements",
    "company_context",
    "presence_note",
)
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([ymd])\s*$", re.IGNORECASE)


class DurationError(ValueError):
    """A retention period that cannot be read; the message is French."""


def parse_duration(text: str) -> tuple[int, str]:
    """ "5y", "18m", "30d" → (5, "y"), (18, "m"), (30, "d")."""
    match = _DURATION.match(text or "")
    if match is None:
        raise DurationError(
            _(
                "Durée illisible : %(text)s. Écrivez un nombre suivi de y (années), m (mois) "
                "ou d (jours), par exemple 5y, 18m ou 30d.",
                text=text,
            )
        )
    return int(match.group(1)), match.group(2).lower()


def cutoff(now: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """`now` minus the duration, in calendar months and years (31 March − 1m = 28/29 Feb)."""
    if unit == "d":
        return now - dt.timedelta(days=amount)
    months = amount * 12 if unit == "y" else amount
    index = now.year * 12 + (now.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def due_sessions(before: dt.datetime) -> list[ExamSession]:
    """Sessions closed (signed and locked) before `before` and not purged yet."""
    return list(
        db.session.execute(
            select(ExamSession)
            .where(
                ExamSession.closed_at.is_not(None),
                ExamSession.closed_at < before,
                ExamSession.purged_at.is_(None),
            )
            .order_by(ExamSession.closed_at, ExamSession.id)
        ).scalars()
    )


@dataclass
class PurgePlan:
    """What the purge of one session removes; the dry run prints it, --apply does it."""

    session: ExamSession
    candidates: list[Candidate]
    personal_fields: dict[str, int]
    observations: list[int]
    conflict_reasons: list[int]
    audit_rows: list[AuditEvent]
    operations: list[int]
    pseudonyms: dict[int, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "candidates": len(self.candidates),
            **{f"{name}": n for name, n in self.personal_fields.items()},
            "observations": len(self.observations),
            "conflict_reasons": len(self.conflict_reasons),
            "audit_rows": len(self.audit_rows),
            "operations": len(self.operations),
        }


def pseudonym(candidate: Candidate) -> str:
    return f"Candidat n° {candidate.candidate_number}"


def plan_purge(session: ExamSession) -> PurgePlan:
    """Read what the purge would remove; writes nothing."""
    candidates = list(
        db.session.execute(
            select(Candidate).where(Candidate.session_id == session.id).order_by(Candidate.id)
        ).scalars()
    )
    ids = [c.id for c in candidates]
    fields = {"names": sum(1 for c in candidates if c.last_name != pseudonym(c) or c.first_name)}
    for name in PERSONAL_FIELDS:
        fields[name] = sum(1 for c in candidates if getattr(c, name) not in (None, ""))
    observations = list(
        db.session.execute(
            select(Observation.id).where(Observation.candidate_id.in_(ids))
        ).scalars()
    )
    reasons = list(
        db.session.execute(
            select(ConflictDeclaration.id).where(
                ConflictDeclaration.candidate_id.in_(ids),
                ConflictDeclaration.reason != "",
                ConflictDeclaration.reason != PURGED_REASON,
            )
        ).scalars()
    )
    audit_rows = [
        row
        for row in db.session.execute(
            select(AuditEvent)
            .where(
                AuditEvent.session_id == session.id,
                AuditEvent.action.in_((*PERSONAL_ACTIONS, PRESENCE_ACTION)),
            )
            .order_by(AuditEvent.id)
        ).scalars()
        if _repeats_personal_text(row)
    ]
    operations = list(
        db.session.execute(
            select(AppliedOperation.id)
            .join(JuryMember, JuryMember.id == AppliedOperation.jury_member_id)
            .where(
                JuryMember.session_id == session.id,
                AppliedOperation.kind.in_(PERSONAL_OPERATIONS),
            )
        ).scalars()
    )
    return PurgePlan(session, candidates, fields, observations, reasons, audit_rows, operations)


def _repeats_personal_text(row: AuditEvent) -> bool:
    kept = [v for v in (row.before, row.after) if v is not None]
    if kept and all(v == REDACTED for v in kept):
        return False
    if row.action != PRESENCE_ACTION:
        return True
    # A presence decision's note says why the candidate was absent: only that one is personal.
    return any(isinstance(v, dict) and v.get("note") for v in (row.before, row.after))


def kept_fields_digest(row: AuditEvent) -> str:
    """The chain's hash over what a redacted row keeps: everything but before/after."""
    fields = {name: getattr(row, name) for name in HASHED_FIELDS}
    return event_hash(row.prev_hash, {**fields, "before": None, "after": None})


def apply_purge(plan: PurgePlan) -> list[list]:
    """Do what the plan lists; returns [id, hash, kept fields digest] of each redacted row."""
    for candidate in plan.candidates:
        candidate.last_name = pseudonym(candidate)
        candidate.first_name = ""
        candidate.birth_date = None
        for name in PERSONAL_FIELDS:
            if name != "birth_date":
                setattr(candidate, name, "")
    if plan.observations:
        db.session.execute(delete(Observation).where(Observation.id.in_(plan.observations)))
    if plan.conflict_reasons:
        db.session.execute(
            update(ConflictDeclaration)
            .where(ConflictDeclaration.id.in_(plan.conflict_reasons))
            .values(reason=PURGED_REASON)
        )
    if plan.operations:
        for operation in db.session.execute(
            select(AppliedOperation).where(AppliedOperation.id.in_(plan.operations))
        ).scalars():
            operation.payload = {"candidate_id": operation.payload.get("candidate_id"), **REDACTED}
    redacted = []
    for row in plan.audit_rows:
        redacted.append([row.id, row.hash, kept_fields_digest(row)])
        row.before = None if row.before is None else dict(REDACTED)
        row.after = None if row.after is None else dict(REDACTED)
    db.session.flush()
    return redacted
