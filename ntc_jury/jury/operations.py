"""Every write a juror makes is an operation with a client-made id, applied at most once.

The same `apply_operation` serves the htmx request, the plain form POST and the offline
outbox's batch endpoint. A replayed id gets the answer stored the first time; a refused
operation is stored too, so its replay is refused the same way and never applied later.

A tick is the hottest write of the exam day, so each operation costs few round trips: the
operation id is claimed first (one INSERT that does nothing if the id exists, so no savepoint
is needed for two requests racing with one id), then one SELECT gathers what the rules need
(conflict declaration, grid completion, the value before), then the write, its audit event
and the stored answer.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..audit.operations import lock_chain, record_event
from ..core.referential import CandidatePlan, ReferentialDef
from ..core.vocabulary import OperationStatus, Presence, SessionState
from ..extensions import db
from ..models import (
    AppliedOperation,
    ConflictDeclaration,
    GridCompletion,
    JuryMember,
    Mark,
    Observation,
    TransversalMark,
    utcnow,
)
from . import queries

KINDS = ("mark", "transversal", "grid", "observation", "conflict")
BATCH_MAX = 500
OBSERVATION_MAX = 10_000
REASON_MAX = 2_000
_ID_LIMIT = 2**31


class OperationRefused(Exception):
    """The operation cannot be applied; `message` is French, `locked` means HTTP 409."""

    def __init__(self, message: str, *, locked: bool = False):
        super().__init__(message)
        self.message = message
        self.locked = locked


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


@dataclass(frozen=True)
class _Context:
    member: JuryMember
    candidate: queries.CandidateRef
    ref: ReferentialDef
    plan: CandidatePlan
    op_id: str


def apply_operation(
    *, member: JuryMember, op_id: str, kind: str, payload: dict, client_time: str = ""
) -> OperationOutcome:
    """Apply one juror operation at most once; flushes (the caller commits)."""
    lock_chain()  # before claiming the op id: see _claim
    outcome = _apply_once(member, op_id, kind, payload, client_time)
    if outcome.status == "applied":
        member.last_sync_at = utcnow()
    return outcome


def apply_batch(*, member: JuryMember, items: list, pending=None) -> list[OperationOutcome]:
    """Apply the outbox's operations in the order sent; one outcome per operation."""
    lock_chain()  # before claiming any op id: see _claim
    outcomes = []
    for item in items:
        if not isinstance(item, dict):
            outcomes.append(OperationOutcome("", "refused", _("Opération illisible.")))
            continue
        outcomes.append(
            _apply_once(
                member,
                item.get("op_id"),
                _text(item.get("kind")),
                item.get("payload"),
                _text(item.get("client_time")),
            )
        )
    if isinstance(pending, int) and not isinstance(pending, bool) and 0 <= pending < 1_000_000:
        member.device_pending = pending
    member.last_sync_at = utcnow()
    db.session.flush()
    return outcomes


def _apply_once(member, op_id, kind, payload, client_time) -> OperationOutcome:
    if not _is_uuid(op_id):
        return OperationOutcome(str(op_id)[:36], "refused", _("Identifiant d'opération invalide."))
    if not isinstance(payload, dict):
        payload = {}
    if not _storable([kind, payload, client_time]):
        # Nothing of it can be stored, so it is not claimed: an id seen before keeps its
        # answer, and a new one is refused again, the same way, if it is sent again.
        previous = _stored_or_none(op_id)
        if previous is not None:
            return _replay(previous, member)
        return OperationOutcome(op_id, "refused", _("Opération illisible."))
    claimed = _claim(member, op_id, kind, payload, client_time)
    if claimed is None:
        # Seen before (or being applied by a concurrent request, which we waited for).
        return _replay(_stored(op_id), member)
    try:
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise OperationRefused(_("Type d'opération inconnu."))
        context = _context(member, payload, op_id)
        result = handler(context, payload) or {}
    except OperationRefused as refused:
        answer = {"message": refused.message, "locked": refused.locked}
        _settle(claimed, OperationStatus.REFUSED, answer)
        return OperationOutcome(
            op_id,
            "refused",
            refused.message,
            locked=refused.locked,
            candidate_id=_int(payload.get("candidate_id")),
        )
    _settle(claimed, OperationStatus.APPLIED, result)
    return OperationOutcome(op_id, "applied", candidate_id=context.candidate.id, result=result)


def _claim(member, op_id, kind, payload, client_time) -> int | None:
    """Record the operation id for this juror; None when the id is already recorded.

    The unique op id makes a concurrent request with the same id wait for this transaction
    (PostgreSQL) or for the write lock (SQLite), then find the id taken and replay its answer.
    On PostgreSQL the caller holds the audit chain's lock first: two requests claiming the
    same ids in different orders (an outbox resending while its first send is still being
    applied) would otherwise each hold a claim the other waits for, or one would hold a claim
    while waiting for the chain's lock held by the other — a deadlock, answered with a 500.
    """
    statement = (
        _insert()(AppliedOperation)
        .values(
            op_id=op_id,
            jury_member_id=member.id,
            kind=str(kind)[:40],
            payload=_bounded(payload),
            status=OperationStatus.APPLIED,
            result={},
            client_time=str(client_time)[:40],
            applied_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["op_id"])
        .returning(AppliedOperation.id)
    )
    return db.session.execute(statement).scalar_one_or_none()


def _settle(claimed: int, status: OperationStatus, result: dict) -> None:
    """Store the answer a replay of the operation gets."""
    db.session.execute(
        update(AppliedOperation)
        .where(AppliedOperation.id == claimed)
        .values(status=status, result=result)
        .execution_options(synchronize_session=False)
    )


def _stored(op_id: str) -> AppliedOperation:
    return db.session.execute(
        select(AppliedOperation).where(AppliedOperation.op_id == op_id)
    ).scalar_one()


def _stored_or_none(op_id: str) -> AppliedOperation | None:
    return db.session.execute(
        select(AppliedOperation).where(AppliedOperation.op_id == op_id)
    ).scalar_one_or_none()


def _replay(previous: AppliedOperation, member: JuryMember) -> OperationOutcome:
    if previous.jury_member_id != member.id:
        # Never reveal or acknowledge someone else's operation.
        return OperationOutcome(previous.op_id, "refused", _("Identifiant d'opération invalide."))
    candidate_id = _int((previous.payload or {}).get("candidate_id"))
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
    )


def _context(member: JuryMember, payload: dict, op_id: str) -> _Context:
    candidate_id = _int(payload.get("candidate_id"))
    candidate = None
    if candidate_id is not None:
        candidate = queries.candidate_ref(member, candidate_id)
    if candidate is None:
        raise OperationRefused(_("Candidat inconnu dans votre session."))
    session = member.session
    if session.locked_at is not None:
        raise OperationRefused(
            _(
                "La session est verrouillée : les décisions sont signées, plus aucune saisie "
                "n'est possible."
            ),
            locked=True,
        )
    ref = queries.session_referential(member)
    return _Context(member, candidate, ref, queries.candidate_plan(ref, member, candidate), op_id)


@dataclass(frozen=True)
class _Facts:
    """What the rules need to know from the database, read in one statement."""

    has_conflict: bool | None  # None: the juror has not declared anything yet
    grid_done: bool = False
    before: object = None  # the stored value the operation replaces, None when new


def _facts(ctx: _Context, *, modality_id: int | None = None, before=None) -> _Facts:
    """The juror's declaration, the grid's completion and the previous value, in one SELECT."""
    mine = {"jury_member_id": ctx.member.id, "candidate_id": ctx.candidate.id}
    columns = [
        select(ConflictDeclaration.has_conflict).filter_by(**mine).scalar_subquery(),
        exists().where(
            GridCompletion.jury_member_id == ctx.member.id,
            GridCompletion.candidate_id == ctx.candidate.id,
            GridCompletion.modality_id == modality_id,
        )
        if modality_id is not None
        else None,
        before.scalar_subquery() if before is not None else None,
    ]
    labels = ("has_conflict", "grid_done", "before")
    chosen = [c.label(name) for c, name in zip(columns, labels, strict=True) if c is not None]
    row = db.session.execute(select(*chosen)).one()._mapping
    has_conflict = row["has_conflict"]
    return _Facts(
        has_conflict=None if has_conflict is None else bool(has_conflict),
        grid_done=bool(row.get("grid_done", False)),
        before=row.get("before"),
    )


def _require_scoring_open(ctx: _Context, facts: _Facts) -> None:
    """Ticks and grids: the juror is cleared for this candidate, who can still be scored."""
    if ctx.member.session.state not in (SessionState.PLANNED, SessionState.IN_PROGRESS):
        raise OperationRefused(
            _("La délibération est ouverte : les grilles ne peuvent plus être modifiées."),
            locked=True,
        )
    _require_cleared(facts)
    if ctx.candidate.presence == Presence.ABSENT:
        raise OperationRefused(_("Ce candidat est absent : il ne peut pas être évalué."))


def _require_cleared(facts: _Facts) -> None:
    if facts.has_conflict is None:
        raise OperationRefused(_("Confirmez d'abord que vous n'avez aucun lien avec ce candidat."))
    if facts.has_conflict:
        raise OperationRefused(
            _(
                "Vous avez déclaré un lien avec ce candidat : vous ne participez pas à son "
                "évaluation."
            )
        )


def _declaration(ctx: _Context) -> ConflictDeclaration | None:
    return db.session.execute(
        select(ConflictDeclaration).where(
            ConflictDeclaration.jury_member_id == ctx.member.id,
            ConflictDeclaration.candidate_id == ctx.candidate.id,
        )
    ).scalar_one_or_none()


def _modality_or_none(ctx: _Context, payload: dict):
    code = payload.get("modality")
    modality = ctx.ref.modality(code) if isinstance(code, str) else None
    if modality is None or code not in ctx.plan.grids:
        return None
    return modality


def _require_modality(modality):
    if modality is None:
        raise OperationRefused(_("Modalité inconnue pour ce candidat."))
    return modality


def _apply_mark(ctx: _Context, payload: dict) -> dict:
    modality = _modality_or_none(ctx, payload)
    criterion_id = _int(payload.get("criterion_id"))
    in_grid = (
        modality is not None
        and criterion_id is not None
        and ctx.plan.criterion_in_grid(criterion_id, modality.code)
    )
    key = {
        "jury_member_id": ctx.member.id,
        "candidate_id": ctx.candidate.id,
        "criterion_id": criterion_id,
        "modality_id": modality.id if modality else None,
    }
    facts = _facts(
        ctx,
        modality_id=key["modality_id"],
        before=select(Mark.observed).filter_by(**key) if in_grid else None,
    )
    _require_scoring_open(ctx, facts)
    _require_modality(modality)
    if not in_grid:
        raise OperationRefused(_("Ce critère n'est pas évalué dans cette modalité."))
    observed = _bool(payload.get("observed"))
    if facts.grid_done:
        raise OperationRefused(_("Grille terminée : rouvrez-la pour la modifier."))
    _upsert(Mark, key, {"observed": observed, "updated_at": utcnow()})
    before = facts.before
    _audit(
        ctx,
        "mark_recorded",
        "criterion",
        criterion_id,
        None if before is None else {"observed": bool(before), "modality": modality.code},
        {"observed": observed, "modality": modality.code},
    )
    return {"criterion_id": criterion_id, "modality": modality.code, "observed": observed}


def _apply_transversal(ctx: _Context, payload: dict) -> dict:
    transversal = ctx.ref.transversal(_int(payload.get("transversal_id")) or 0)
    competency_id = _int(payload.get("competency_id"))
    graded = {c.id for c in ctx.plan.competencies}
    carried = (
        transversal is not None
        and competency_id in graded
        and competency_id in transversal.competency_ids
    )
    key = {
        "jury_member_id": ctx.member.id,
        "candidate_id": ctx.candidate.id,
        "transversal_id": transversal.id if transversal else None,
        "competency_id": competency_id,
    }
    facts = _facts(
        ctx, before=select(TransversalMark.observed).filter_by(**key) if carried else None
    )
    _require_scoring_open(ctx, facts)
    if not carried:
        raise OperationRefused(
            _("Cette compétence transversale n'est pas évaluée au travers de cette compétence.")
        )
    observed = _bool(payload.get("observed"))
    _upsert(TransversalMark, key, {"observed": observed, "updated_at": utcnow()})
    before = facts.before
    _audit(
        ctx,
        "transversal_recorded",
        "transversal",
        transversal.id,
        None if before is None else {"observed": bool(before), "competency_id": competency_id},
        {"observed": observed, "competency_id": competency_id},
    )
    return {"transversal_id": transversal.id, "competency_id": competency_id, "observed": observed}


def _apply_grid(ctx: _Context, payload: dict) -> dict:
    modality = _modality_or_none(ctx, payload)
    facts = _facts(ctx, modality_id=modality.id if modality else None)
    _require_scoring_open(ctx, facts)
    _require_modality(modality)
    completed = _bool(payload.get("completed"))
    key = {
        "jury_member_id": ctx.member.id,
        "candidate_id": ctx.candidate.id,
        "modality_id": modality.id,
    }
    if completed and not facts.grid_done:
        db.session.execute(_insert()(GridCompletion).values(**key, completed_at=utcnow()))
    elif not completed and facts.grid_done:
        db.session.execute(
            delete(GridCompletion)
            .filter_by(**key)
            .execution_options(synchronize_session=False)
        )
    _audit(
        ctx,
        "grid_completed" if completed else "grid_reopened",
        "modality",
        modality.code,
        {"completed": facts.grid_done},
        {"completed": completed},
    )
    return {"modality": modality.code, "completed": completed}


def _apply_observation(ctx: _Context, payload: dict) -> dict:
    if ctx.member.session.state not in (
        SessionState.PLANNED,
        SessionState.IN_PROGRESS,
        SessionState.DELIBERATION,
    ):
        raise OperationRefused(_("Les observations ne sont plus modifiables."), locked=True)
    _require_cleared(_facts(ctx))
    text = payload.get("text")
    if not isinstance(text, str):
        raise OperationRefused(_("Observation invalide."))
    if len(text) > OBSERVATION_MAX:
        raise OperationRefused(
            _("Observation trop longue (%(max)s caractères au plus).", max=OBSERVATION_MAX)
        )
    phase_id, competency_id = _int(payload.get("phase_id")), _int(payload.get("competency_id"))
    if (phase_id is None) == (competency_id is None):
        raise OperationRefused(_("Observation invalide."))
    if phase_id is not None and phase_id not in {p.id for p in ctx.plan.phases}:
        raise OperationRefused(_("Phase inconnue pour ce candidat."))
    if competency_id is not None and competency_id not in {c.id for c in ctx.plan.competencies}:
        raise OperationRefused(_("Compétence inconnue pour ce candidat."))
    subject = {"phase_id": phase_id} if phase_id is not None else {"competency_id": competency_id}
    note = db.session.execute(
        select(Observation).filter_by(
            jury_member_id=ctx.member.id, candidate_id=ctx.candidate.id, **subject
        )
    ).scalar_one_or_none()
    before = None if note is None else {"text": note.text}
    if note is None:
        note = Observation(jury_member_id=ctx.member.id, candidate_id=ctx.candidate.id, **subject)
        db.session.add(note)
    note.text = text
    note.updated_at = utcnow()
    db.session.flush()
    _audit(
        ctx,
        "observation_saved",
        "phase" if phase_id else "competency",
        phase_id or competency_id,
        before,
        {"text": text},
    )
    return {**subject, "length": len(text)}


def _apply_conflict(ctx: _Context, payload: dict) -> dict:
    if ctx.member.session.state not in (SessionState.PLANNED, SessionState.IN_PROGRESS):
        raise OperationRefused(
            _("La délibération est ouverte : la déclaration ne peut plus changer."), locked=True
        )
    has_conflict = _bool(payload.get("has_conflict"))
    reason = payload.get("reason") if isinstance(payload.get("reason"), str) else ""
    reason = reason.strip()[:REASON_MAX]
    if has_conflict and not reason:
        raise OperationRefused(_("Indiquez la nature du lien avec le candidat."))
    declaration = _declaration(ctx)
    before = None
    if declaration is None:
        declaration = ConflictDeclaration(
            jury_member_id=ctx.member.id, candidate_id=ctx.candidate.id
        )
        db.session.add(declaration)
    else:
        before = {"has_conflict": declaration.has_conflict, "reason": declaration.reason}
    declaration.has_conflict = has_conflict
    declaration.reason = reason if has_conflict else ""
    declaration.declared_at = utcnow()
    db.session.flush()
    _audit(
        ctx,
        "conflict_declared",
        "candidate",
        ctx.candidate.id,
        before,
        {"has_conflict": has_conflict, "reason": declaration.reason},
    )
    return {"has_conflict": has_conflict}


_HANDLERS: dict[str, Callable[[_Context, dict], dict]] = {
    "mark": _apply_mark,
    "transversal": _apply_transversal,
    "grid": _apply_grid,
    "observation": _apply_observation,
    "conflict": _apply_conflict,
}


def _audit(ctx: _Context, action, target_type, target_id, before, after) -> None:
    record_event(
        action=action,
        actor=ctx.member,
        session_id=ctx.member.session_id,
        target_type=target_type,
        target_id=f"{ctx.candidate.id}:{target_id}",
        before=before,
        after=after,
        op_id=ctx.op_id,
    )


def _insert():
    """The INSERT construct of the session's database (both have ON CONFLICT)."""
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _upsert(model, key: dict, values: dict) -> None:
    """Insert or update one row by its unique key in one statement (both databases)."""
    statement = _insert()(model).values(**key, **values)
    db.session.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))


def _is_uuid(value) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _int(value) -> int | None:
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


def _text(value) -> str:
    """A string field of the outbox's JSON; anything else is empty (a kind nobody knows)."""
    return value if isinstance(value, str) else ""


def _storable(value) -> bool:
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


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes", "oui")
    return bool(value)


def _bounded(payload: dict) -> dict:
    """What is stored of a payload: only simple values, cut to a sane size."""
    kept = {}
    for key, value in list(payload.items())[:20]:
        if isinstance(value, str):
            kept[str(key)[:40]] = value[:OBSERVATION_MAX]
        elif isinstance(value, bool | int | float) or value is None:
            kept[str(key)[:40]] = value
    return kept
