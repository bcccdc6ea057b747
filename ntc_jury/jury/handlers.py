"""The rules of each kind of juror operation, and the writes it makes once accepted.

A handler reads nothing itself: `operations.py` gives it the candidate and the juror's record
about them (one statement, `queries.scoring_facts`). It checks the rules, then returns the
answer and the writes to make, which run only once the operation id is claimed; a refusal
raises `OperationRefused` with a French message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select

from ..audit.operations import record_event
from ..core.referential import CandidatePlan, ReferentialDef
from ..core.vocabulary import Presence, SessionState
from ..extensions import db, on_conflict_insert
from ..models import (
    ConflictDeclaration,
    GridCompletion,
    JuryMember,
    Mark,
    Observation,
    TransversalMark,
    utcnow,
)
from . import queries
from .payloads import OBSERVATION_MAX, client_bool, client_int

REASON_MAX = 2_000
_SCORING = (SessionState.PLANNED, SessionState.IN_PROGRESS)


class OperationRefused(Exception):
    """The operation cannot be applied; `message` is French, `locked` means HTTP 409.

    `state` is what the server holds that the phone evidently did not know (a grid completed
    elsewhere): sent with the refusal, so the page shows it rather than contradicting it."""

    def __init__(self, message: str, *, locked: bool = False, state: dict | None = None):
        super().__init__(message)
        self.message = message
        self.locked = locked
        self.state = state or {}


@dataclass(frozen=True)
class Context:
    member: JuryMember
    candidate: queries.CandidateRef
    facts: queries.ScoringFacts
    ref: ReferentialDef
    plan: CandidatePlan
    op_id: str


@dataclass(frozen=True)
class Accepted:
    """An operation the rules accept: its answer, and the writes to make once it is claimed."""

    result: dict
    write: Callable[[], None]


def _require_scoring_open(ctx: Context) -> None:
    """Ticks and grids: the juror is cleared for this candidate, who can still be scored."""
    if ctx.facts.session_state not in _SCORING:
        raise OperationRefused(
            _("La délibération est ouverte : les grilles ne peuvent plus être modifiées."),
            locked=True,
        )
    _require_cleared(ctx.facts)
    if ctx.candidate.presence == Presence.ABSENT:
        raise OperationRefused(_("Ce candidat est absent : il ne peut pas être évalué."))


def _require_cleared(facts: queries.ScoringFacts) -> None:
    if facts.has_conflict is None:
        raise OperationRefused(_("Confirmez d'abord que vous n'avez aucun lien avec ce candidat."))
    if facts.has_conflict:
        raise OperationRefused(
            _(
                "Vous avez déclaré un lien avec ce candidat : vous ne participez pas à son "
                "évaluation."
            )
        )


def _modality_or_none(ctx: Context, payload: dict):
    code = payload.get("modality")
    modality = ctx.ref.modality(code) if isinstance(code, str) else None
    if modality is None or code not in ctx.plan.grids:
        return None
    return modality


def _require_modality(modality):
    if modality is None:
        raise OperationRefused(_("Modalité inconnue pour ce candidat."))
    return modality


def _mine(ctx: Context) -> dict:
    return {"jury_member_id": ctx.member.id, "candidate_id": ctx.candidate.id}


def record_mark(ctx: Context, payload: dict) -> Accepted:
    modality = _modality_or_none(ctx, payload)
    criterion_id = client_int(payload.get("criterion_id"))
    in_grid = (
        modality is not None
        and criterion_id is not None
        and ctx.plan.criterion_in_grid(criterion_id, modality.code)
    )
    _require_scoring_open(ctx)
    _require_modality(modality)
    if not in_grid:
        raise OperationRefused(_("Ce critère n'est pas évalué dans cette modalité."))
    observed = client_bool(payload.get("observed"))
    if ctx.facts.grid_done:
        raise OperationRefused(
            _("Grille terminée : rouvrez-la pour la modifier."),
            state={"grid": {"modality": modality.code, "completed": True}},
        )
    before = ctx.facts.mark_before
    row = {**_mine(ctx), "criterion_id": criterion_id, "modality_id": modality.id}

    def write() -> None:
        _execute(_upserts().mark, {**row, "observed": observed, "updated_at": utcnow()})
        _audit(
            ctx,
            "mark_recorded",
            "criterion",
            criterion_id,
            None if before is None else {"observed": before, "modality": modality.code},
            {"observed": observed, "modality": modality.code},
        )

    return Accepted(
        {"criterion_id": criterion_id, "modality": modality.code, "observed": observed}, write
    )


def record_transversal(ctx: Context, payload: dict) -> Accepted:
    transversal = ctx.ref.transversal(client_int(payload.get("transversal_id")) or 0)
    competency_id = client_int(payload.get("competency_id"))
    carried = (
        transversal is not None
        and competency_id in {c.id for c in ctx.plan.competencies}
        and competency_id in transversal.competency_ids
    )
    _require_scoring_open(ctx)
    if not carried:
        raise OperationRefused(
            _("Cette compétence transversale n'est pas évaluée au travers de cette compétence.")
        )
    observed = client_bool(payload.get("observed"))
    before = ctx.facts.transversal_before
    row = {**_mine(ctx), "transversal_id": transversal.id, "competency_id": competency_id}

    def write() -> None:
        _execute(_upserts().transversal, {**row, "observed": observed, "updated_at": utcnow()})
        _audit(
            ctx,
            "transversal_recorded",
            "transversal",
            transversal.id,
            None if before is None else {"observed": before, "competency_id": competency_id},
            {"observed": observed, "competency_id": competency_id},
        )

    return Accepted(
        {"transversal_id": transversal.id, "competency_id": competency_id, "observed": observed},
        write,
    )


def complete_grid(ctx: Context, payload: dict) -> Accepted:
    modality = _modality_or_none(ctx, payload)
    _require_scoring_open(ctx)
    _require_modality(modality)
    completed = client_bool(payload.get("completed"))
    was_done = ctx.facts.grid_done
    row = {**_mine(ctx), "modality_id": modality.id}

    def write() -> None:
        if completed and not was_done:
            db.session.execute(insert(GridCompletion).values(**row, completed_at=utcnow()))
        elif not completed and was_done:
            db.session.execute(
                delete(GridCompletion).filter_by(**row).execution_options(synchronize_session=False)
            )
        _audit(
            ctx,
            "grid_completed" if completed else "grid_reopened",
            "modality",
            modality.code,
            {"completed": was_done},
            {"completed": completed},
        )

    return Accepted({"modality": modality.code, "completed": completed}, write)


def save_observation(ctx: Context, payload: dict) -> Accepted:
    if ctx.facts.session_state not in (*_SCORING, SessionState.DELIBERATION):
        raise OperationRefused(_("Les observations ne sont plus modifiables."), locked=True)
    _require_cleared(ctx.facts)
    text = payload.get("text")
    if not isinstance(text, str):
        raise OperationRefused(_("Observation invalide."))
    if len(text) > OBSERVATION_MAX:
        raise OperationRefused(
            _("Observation trop longue (%(max)s caractères au plus).", max=OBSERVATION_MAX)
        )
    phase_id = client_int(payload.get("phase_id"))
    competency_id = client_int(payload.get("competency_id"))
    if (phase_id is None) == (competency_id is None):
        raise OperationRefused(_("Observation invalide."))
    if phase_id is not None and phase_id not in {p.id for p in ctx.plan.phases}:
        raise OperationRefused(_("Phase inconnue pour ce candidat."))
    if competency_id is not None and competency_id not in {c.id for c in ctx.plan.competencies}:
        raise OperationRefused(_("Compétence inconnue pour ce candidat."))
    subject = {"phase_id": phase_id} if phase_id is not None else {"competency_id": competency_id}

    def write() -> None:
        note = db.session.execute(
            select(Observation).filter_by(**_mine(ctx), **subject)
        ).scalar_one_or_none()
        before = None if note is None else {"text": note.text}
        if note is None:
            note = Observation(**_mine(ctx), **subject)
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

    return Accepted({**subject, "length": len(text)}, write)


def declare_conflict(ctx: Context, payload: dict) -> Accepted:
    if ctx.facts.session_state not in _SCORING:
        raise OperationRefused(
            _("La délibération est ouverte : la déclaration ne peut plus changer."), locked=True
        )
    has_conflict = client_bool(payload.get("has_conflict"))
    reason = payload.get("reason") if isinstance(payload.get("reason"), str) else ""
    reason = reason.strip()[:REASON_MAX] if has_conflict else ""
    if has_conflict and not reason:
        raise OperationRefused(_("Indiquez la nature du lien avec le candidat."))

    def write() -> None:
        declaration = db.session.execute(
            select(ConflictDeclaration).filter_by(**_mine(ctx))
        ).scalar_one_or_none()
        before = None
        if declaration is None:
            declaration = ConflictDeclaration(**_mine(ctx))
            db.session.add(declaration)
        else:
            before = {"has_conflict": declaration.has_conflict, "reason": declaration.reason}
        declaration.has_conflict = has_conflict
        declaration.reason = reason
        declaration.declared_at = utcnow()
        db.session.flush()
        _audit(
            ctx,
            "conflict_declared",
            "candidate",
            ctx.candidate.id,
            before,
            {"has_conflict": has_conflict, "reason": reason},
        )

    return Accepted({"has_conflict": has_conflict}, write)


HANDLERS: dict[str, Callable[[Context, dict], Accepted]] = {
    "mark": record_mark,
    "transversal": record_transversal,
    "grid": complete_grid,
    "observation": save_observation,
    "conflict": declare_conflict,
}


def _audit(ctx: Context, action, target_type, target_id, before, after) -> None:
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


def _execute(statement, params: dict) -> None:
    db.session.connection().execute(statement, params)


@dataclass(frozen=True)
class _Upserts:
    mark: object
    transversal: object


def _upserts() -> _Upserts:
    return _upserts_for(db.session.get_bind().dialect.name)


@cache
def _upserts_for(dialect: str) -> _Upserts:
    """Insert-or-update by the unique key, one statement, built once per database kind."""
    make = on_conflict_insert(dialect)

    def upsert(model, key: tuple[str, ...]):
        statement = make(model.__table__)
        changed = {name: statement.excluded[name] for name in ("observed", "updated_at")}
        return statement.on_conflict_do_update(index_elements=list(key), set_=changed)

    return _Upserts(
        mark=upsert(Mark, ("jury_member_id", "candidate_id", "criterion_id", "modality_id")),
        transversal=upsert(
            TransversalMark, ("jury_member_id", "candidate_id", "transversal_id", "competency_id")
        ),
    )
