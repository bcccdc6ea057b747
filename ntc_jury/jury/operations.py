"""Every write a juror makes is an operation with a client-made id, applied at most once.

The same `apply_operation` serves the htmx request, the plain form POST and the offline
outbox's batch endpoint. A replayed id gets the answer stored the first time; a refused
operation is stored too, so its replay is refused the same way and never applied later.

A tick is the hottest write of the exam day, so each operation costs few statements, built
once: one SELECT gathers what the rules need (the candidate, the juror's conflict
declaration, the grid's completion, the value before); the rules decide; one INSERT claims
the operation id with its answer (it does nothing if the id exists: then the stored answer
is replayed and nothing is written); then the write and its audit event.

Deciding before claiming is safe because writers never overlap: every operation first takes
the writers' lock (`lock_chain`: on SQLite the transaction began IMMEDIATE, on PostgreSQL
the advisory lock), and everything the rules decide on is read under it. On PostgreSQL the
juror and their session were read before it (the views read before writing, extensions.py),
so the session's state and lock are read again with the operation's facts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from ..audit.operations import lock_chain
from ..core.vocabulary import OperationStatus
from ..extensions import db, on_conflict_insert
from ..models import AppliedOperation, JuryMember, utcnow
from . import queries
from .handlers import HANDLERS, REASON_MAX, Context, OperationRefused
from .payloads import OBSERVATION_MAX, bounded, client_int, client_text, is_uuid, storable

__all__ = [
    "BATCH_MAX",
    "KINDS",
    "OBSERVATION_MAX",
    "REASON_MAX",
    "OperationOutcome",
    "OperationRefused",
    "apply_batch",
    "apply_operation",
]

KINDS = tuple(HANDLERS)
BATCH_MAX = 500
# How fresh "last synchronised" is kept: the chair and the centre read it in minutes, and
# writing the juror's row on every tick would make each tick one statement longer.
SYNC_STAMP_PRECISION = dt.timedelta(seconds=5)


@dataclass(frozen=True)
class OperationOutcome:
    op_id: str
    status: str  # "applied" | "already_applied" | "refused"
    message: str = ""
    locked: bool = False
    candidate_id: int | None = None
    result: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "refused"

    def as_json(self) -> dict:
        return {
            "op_id": self.op_id,
            "status": self.status,
            "message": self.message,
            "result": self.result,
        }


def apply_operation(
    *, member: JuryMember, op_id: str, kind: str, payload: dict, client_time: str = ""
) -> OperationOutcome:
    """Apply one juror operation at most once; flushes (the caller commits)."""
    lock_chain()  # before claiming the op id: see _claim
    _reread_session_state(member)
    outcome = _apply_once(member, op_id, kind, payload, client_time)
    if outcome.status == "applied":
        _stamp_sync(member)
    return outcome


def apply_batch(*, member: JuryMember, items: list, pending=None) -> list[OperationOutcome]:
    """Apply the outbox's operations in the order sent; one outcome per operation."""
    lock_chain()  # before claiming any op id: see _claim
    _reread_session_state(member)
    outcomes = []
    for item in items:
        if not isinstance(item, dict):
            outcomes.append(OperationOutcome("", "refused", _("Opération illisible.")))
            continue
        outcomes.append(
            _apply_once(
                member,
                item.get("op_id"),
                client_text(item.get("kind")),
                item.get("payload"),
                client_text(item.get("client_time")),
            )
        )
    reported = isinstance(pending, int) and not isinstance(pending, bool)
    # Assigned only when it changed: an unchanged juror row costs no flush at all.
    if reported and 0 <= pending < 1_000_000 and pending != member.device_pending:
        member.device_pending = pending
    _stamp_sync(member)
    if db.session.dirty:
        db.session.flush()
    return outcomes


def _stamp_sync(member: JuryMember) -> None:
    now = utcnow()
    if member.last_sync_at is None or now - member.last_sync_at >= SYNC_STAMP_PRECISION:
        member.last_sync_at = now


def _apply_once(member, op_id, kind, payload, client_time) -> OperationOutcome:
    if not is_uuid(op_id):
        return OperationOutcome(str(op_id)[:36], "refused", _("Identifiant d'opération invalide."))
    if not isinstance(payload, dict):
        payload = {}
    if not storable([kind, payload, client_time]):
        # Nothing of it can be stored, so it is not claimed: an id seen before keeps its
        # answer, and a new one is refused again, the same way, if it is sent again.
        previous = _stored(op_id)
        if previous is not None:
            return _replay(previous, member)
        return OperationOutcome(op_id, "refused", _("Opération illisible."))
    operation = (member, op_id, kind, payload, client_time)
    candidate_id = client_int(payload.get("candidate_id"))
    try:
        handler = HANDLERS.get(kind)
        if handler is None:
            raise OperationRefused(_("Type d'opération inconnu."))
        accepted = handler(_context(member, payload, op_id), payload)
    except OperationRefused as refused:
        answer = {"message": refused.message, "locked": refused.locked, **refused.state}
        if not _claim(*operation, OperationStatus.REFUSED, answer):
            return _replay(_stored(op_id), member)
        return OperationOutcome(
            op_id,
            "refused",
            refused.message,
            locked=refused.locked,
            candidate_id=candidate_id,
            result=refused.state,
        )
    if not _claim(*operation, OperationStatus.APPLIED, accepted.result):
        # Seen before: its first answer stands, and nothing is written again.
        return _replay(_stored(op_id), member)
    accepted.write()
    return OperationOutcome(op_id, "applied", candidate_id=candidate_id, result=accepted.result)


def _context(member: JuryMember, payload: dict, op_id: str) -> Context:
    candidate_id = client_int(payload.get("candidate_id"))
    ref = queries.session_referential(member)
    code = payload.get("modality")
    modality = ref.modality(code) if isinstance(code, str) else None
    found = None
    if candidate_id is not None:
        found = queries.scoring_facts(
            member,
            candidate_id,
            modality_id=modality.id if modality else None,
            criterion_id=client_int(payload.get("criterion_id")),
            transversal_id=client_int(payload.get("transversal_id")),
            competency_id=client_int(payload.get("competency_id")),
        )
    if found is not None:
        # What the juror's pages show of the session is what the rules just read.
        candidate, facts = found
        set_committed_value(member.session, "state", facts.session_state)
        set_committed_value(member.session, "locked_at", facts.session_locked_at)
    if member.session.locked_at is not None:
        raise OperationRefused(
            _(
                "La session est verrouillée : les décisions sont signées, plus aucune saisie "
                "n'est possible."
            ),
            locked=True,
        )
    if found is None:
        raise OperationRefused(_("Candidat inconnu dans votre session."))
    plan = queries.candidate_plan(ref, member, candidate)
    return Context(member, candidate, facts, ref, plan, op_id)


def _reread_session_state(member: JuryMember) -> None:
    """The session's state and lock, as loaded with the juror before the writers' lock, are
    read again under it (with the operation's facts, or on their own when needed)."""
    db.session.expire(member.session, ["state", "locked_at"])


def _claim(member, op_id, kind, payload, client_time, status, result) -> bool:
    """Record the operation id with its answer; False when the id is already recorded.

    The unique op id makes a concurrent request with the same id wait for this transaction
    (PostgreSQL) or for the write lock (SQLite), then find the id taken and replay its answer.
    On PostgreSQL the caller holds the audit chain's lock first: two requests claiming the
    same ids in different orders (an outbox resending while its first send is still being
    applied) would otherwise each hold a claim the other waits for, or one would hold a claim
    while waiting for the chain's lock held by the other — a deadlock, answered with a 500.
    """
    claimed = db.session.connection().execute(
        _claim_statement(db.session.get_bind().dialect.name),
        {
            "op_id": op_id,
            "jury_member_id": member.id,
            "kind": str(kind)[:40],
            "payload": bounded(payload),
            "status": status,
            "result": result,
            "client_time": str(client_time)[:40],
            "applied_at": utcnow(),
        },
    )
    return claimed.scalar_one_or_none() is not None


@cache
def _claim_statement(dialect: str):
    """Built once per database kind: INSERT … ON CONFLICT (op_id) DO NOTHING RETURNING id."""
    make = on_conflict_insert(dialect)
    table = AppliedOperation.__table__
    return make(table).on_conflict_do_nothing(index_elements=["op_id"]).returning(table.c.id)


def _stored(op_id: str) -> AppliedOperation | None:
    return db.session.execute(
        select(AppliedOperation).where(AppliedOperation.op_id == op_id)
    ).scalar_one_or_none()


def _replay(previous: AppliedOperation, member: JuryMember) -> OperationOutcome:
    if previous.jury_member_id != member.id:
        # Never reveal or acknowledge someone else's operation.
        return OperationOutcome(previous.op_id, "refused", _("Identifiant d'opération invalide."))
    candidate_id = client_int((previous.payload or {}).get("candidate_id"))
    if previous.status == OperationStatus.APPLIED:
        return OperationOutcome(
            previous.op_id,
            "already_applied",
            candidate_id=candidate_id,
            result=previous.result or {},
        )
    result = previous.result or {}
    return OperationOutcome(
        previous.op_id,
        "refused",
        result.get("message", ""),
        locked=bool(result.get("locked")),
        candidate_id=candidate_id,
        result={k: v for k, v in result.items() if k not in ("message", "locked")},
    )
