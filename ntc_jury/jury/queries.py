"""Reads for a signed-in juror, always scoped to their own exam session and their own ticks.

Independence: nothing here returns another juror's marks or observations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from flask import abort
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import joinedload, selectinload

from ..core.referential import CandidatePlan, ReferentialDef, plan_for
from ..core.vocabulary import Presence, Route, SessionState
from ..extensions import db
from ..models import (
    Candidate,
    Ccp,
    ConflictDeclaration,
    ExamSession,
    GridCompletion,
    HeldCcp,
    JuryMember,
    Mark,
    Observation,
    ScheduleSlot,
    TransversalMark,
)
from ..referential.queries import referential


@dataclass(frozen=True)
class JurorCandidateState:
    """One juror's own record about one candidate."""

    ticks: frozenset[tuple[int, str]]  # (criterion_id, modality code) observed
    completed: frozenset[str]  # modality codes whose grid this juror declared complete
    phase_notes: dict[int, str]
    competency_notes: dict[int, str]
    transversals: frozenset[tuple[int, int]]  # (transversal_id, competency_id) observed
    conflict: ConflictDeclaration | None

    @property
    def recused(self) -> bool:
        return self.conflict is not None and self.conflict.has_conflict

    @property
    def cleared(self) -> bool:
        """The juror confirmed having no link with the candidate."""
        return self.conflict is not None and not self.conflict.has_conflict


@dataclass(frozen=True)
class CandidateRow:
    candidate: Candidate
    plan: CandidatePlan
    completed: int
    conflict: ConflictDeclaration | None
    # The modality codes of the grids counted in `completed`: the phone's outbox updates the
    # count from operations stored offline without counting a grid twice.
    completed_modalities: frozenset[str] = frozenset()

    @property
    def grids_total(self) -> int:
        return len(self.plan.grids)


def session_referential(member: JuryMember) -> ReferentialDef:
    return referential(member.session.certification_id)


def candidate_plan(ref: ReferentialDef, member: JuryMember, candidate) -> CandidatePlan:
    """The candidate's phases and grids (a Candidate or a CandidateRef)."""
    held = getattr(candidate, "held_ccp_codes", None)
    if held is None:
        held = frozenset(h.ccp.code for h in candidate.held_ccps)
    return plan_for(
        ref,
        ref.format(member.session.format_id),
        capitalisation=candidate.route == Route.CAPITALISATION,
        held_ccp_codes=held,
    )


@dataclass(frozen=True)
class CandidateRef:
    """What the write path needs of a candidate; plain columns, no ORM entity to build."""

    id: int
    route: Route
    presence: Presence
    held_ccp_codes: frozenset[str]


@dataclass(frozen=True)
class ScoringFacts:
    """What an operation's rules need from the database about this juror and candidate,
    read under the writers' lock (the session's state too: the chair may have just opened
    the deliberation)."""

    session_state: SessionState
    session_locked_at: dt.datetime | None
    has_conflict: bool | None  # None: the juror has not declared anything yet
    grid_done: bool  # the grid of the operation's modality is declared complete
    mark_before: bool | None  # the stored tick of the operation's criterion, None when new
    transversal_before: bool | None  # likewise for a transversal tick


def scoring_facts(
    member: JuryMember,
    candidate_id: int,
    *,
    modality_id: int | None = None,
    criterion_id: int | None = None,
    transversal_id: int | None = None,
    competency_id: int | None = None,
) -> tuple[CandidateRef, ScoringFacts] | None:
    """A candidate of the juror's own session and the juror's own record about them.

    One prepared statement whatever the operation: a tick is the hottest write of the exam
    day, and building a statement costs more CPU than SQLite takes to run it. Ids the
    operation does not name are NULL, so their subqueries find nothing.
    """
    rows = (
        db.session.connection()
        .execute(
            _scoring_facts_statement(),
            {
                "candidate_id": candidate_id,
                "session_id": member.session_id,
                "member_id": member.id,
                "modality_id": modality_id,
                "criterion_id": criterion_id,
                "transversal_id": transversal_id,
                "competency_id": competency_id,
            },
        )
        .all()
    )
    if not rows:
        return None
    first = rows[0]
    held = frozenset(row.code for row in rows if row.code is not None)
    facts = ScoringFacts(
        session_state=first.session_state,
        session_locked_at=first.session_locked_at,
        has_conflict=None if first.has_conflict is None else bool(first.has_conflict),
        grid_done=bool(first.grid_done),
        mark_before=None if first.mark_before is None else bool(first.mark_before),
        transversal_before=(
            None if first.transversal_before is None else bool(first.transversal_before)
        ),
    )
    return CandidateRef(first.id, first.route, first.presence, held), facts


@cache
def _scoring_facts_statement():
    """Built once: Core tables (no ORM compile step), correlated on the candidate's id."""
    candidate, held, ccp = Candidate.__table__, HeldCcp.__table__, Ccp.__table__
    session = ExamSession.__table__
    conflict, grid = ConflictDeclaration.__table__, GridCompletion.__table__
    mark, transversal = Mark.__table__, TransversalMark.__table__
    member_id = bindparam("member_id")

    def mine(table):
        return (table.c.jury_member_id == member_id) & (table.c.candidate_id == candidate.c.id)

    return (
        select(
            candidate.c.id,
            candidate.c.route,
            candidate.c.presence,
            ccp.c.code,
            session.c.state.label("session_state"),
            session.c.locked_at.label("session_locked_at"),
            select(conflict.c.has_conflict)
            .where(mine(conflict))
            .scalar_subquery()
            .label("has_conflict"),
            exists()
            .where(mine(grid), grid.c.modality_id == bindparam("modality_id"))
            .label("grid_done"),
            select(mark.c.observed)
            .where(
                mine(mark),
                mark.c.criterion_id == bindparam("criterion_id"),
                mark.c.modality_id == bindparam("modality_id"),
            )
            .scalar_subquery()
            .label("mark_before"),
            select(transversal.c.observed)
            .where(
                mine(transversal),
                transversal.c.transversal_id == bindparam("transversal_id"),
                transversal.c.competency_id == bindparam("competency_id"),
            )
            .scalar_subquery()
            .label("transversal_before"),
        )
        .select_from(
            candidate.join(session, session.c.id == candidate.c.session_id)
            .outerjoin(held, held.c.candidate_id == candidate.c.id)
            .outerjoin(ccp, ccp.c.id == held.c.ccp_id)
        )
        .where(
            candidate.c.id == bindparam("candidate_id"),
            candidate.c.session_id == bindparam("session_id"),
        )
    )


def candidates_query(member: JuryMember):
    return (
        select(Candidate)
        .where(Candidate.session_id == member.session_id)
        # The CCP rides on the held-CCP query: one statement whether or not any are held.
        .options(selectinload(Candidate.held_ccps).joinedload(HeldCcp.ccp))
    )


def session_candidates(member: JuryMember) -> list[Candidate]:
    """The juror's session's candidates in schedule order."""
    return list(
        db.session.execute(
            candidates_query(member).order_by(
                Candidate.schedule_position, Candidate.last_name, Candidate.id
            )
        ).scalars()
    )


def session_home_rows(member: JuryMember) -> list[CandidateRow]:
    """Every candidate with this juror's progress and conflict status (fixed query count)."""
    ref = session_referential(member)
    candidates = session_candidates(member)
    codes = {m.id: m.code for m in ref.modalities}
    completions: dict[int, set[str]] = {}
    for candidate_id, modality_id in db.session.execute(
        select(GridCompletion.candidate_id, GridCompletion.modality_id)
        .join(Candidate, Candidate.id == GridCompletion.candidate_id)
        .where(
            GridCompletion.jury_member_id == member.id, Candidate.session_id == member.session_id
        )
    ):
        completions.setdefault(candidate_id, set()).add(codes.get(modality_id, ""))
    conflicts = {
        c.candidate_id: c
        for c in db.session.execute(
            select(ConflictDeclaration).where(ConflictDeclaration.jury_member_id == member.id)
        ).scalars()
    }
    return [
        CandidateRow(
            candidate=c,
            plan=candidate_plan(ref, member, c),
            completed=len(completions.get(c.id, ())),
            conflict=conflicts.get(c.id),
            completed_modalities=frozenset(completions.get(c.id, ())),
        )
        for c in candidates
    ]


def candidate_in_session(member: JuryMember, candidate_id: int) -> Candidate | None:
    """A candidate of the juror's own session with its held CCPs, in one statement."""
    return (
        db.session.execute(
            select(Candidate)
            .where(Candidate.id == candidate_id, Candidate.session_id == member.session_id)
            .options(joinedload(Candidate.held_ccps).joinedload(HeldCcp.ccp))
        )
        .unique()
        .scalar_one_or_none()
    )


def candidate_or_404(member: JuryMember, candidate_id: int) -> Candidate:
    """A candidate of the juror's own session; any other id is a 404."""
    candidate = candidate_in_session(member, candidate_id)
    if candidate is None:
        abort(404)
    return candidate


def juror_state(
    member: JuryMember, candidate: Candidate, ref: ReferentialDef
) -> JurorCandidateState:
    """This juror's ticks, grids, notes and conflict declaration for the candidate."""
    modality_code = {m.id: m.code for m in ref.modalities}
    ticks = frozenset(
        (criterion_id, modality_code[modality_id])
        for criterion_id, modality_id in db.session.execute(
            select(Mark.criterion_id, Mark.modality_id).where(
                Mark.jury_member_id == member.id,
                Mark.candidate_id == candidate.id,
                Mark.observed.is_(True),
            )
        )
    )
    completed = frozenset(
        modality_code[modality_id]
        for (modality_id,) in db.session.execute(
            select(GridCompletion.modality_id).where(
                GridCompletion.jury_member_id == member.id,
                GridCompletion.candidate_id == candidate.id,
            )
        )
    )
    phase_notes, competency_notes = {}, {}
    for note in db.session.execute(
        select(Observation).where(
            Observation.jury_member_id == member.id, Observation.candidate_id == candidate.id
        )
    ).scalars():
        if note.phase_id is not None:
            phase_notes[note.phase_id] = note.text
        else:
            competency_notes[note.competency_id] = note.text
    transversals = frozenset(
        (transversal_id, competency_id)
        for transversal_id, competency_id in db.session.execute(
            select(TransversalMark.transversal_id, TransversalMark.competency_id).where(
                TransversalMark.jury_member_id == member.id,
                TransversalMark.candidate_id == candidate.id,
                TransversalMark.observed.is_(True),
            )
        )
    )
    conflict = db.session.execute(
        select(ConflictDeclaration).where(
            ConflictDeclaration.jury_member_id == member.id,
            ConflictDeclaration.candidate_id == candidate.id,
        )
    ).scalar_one_or_none()
    return JurorCandidateState(
        ticks, completed, phase_notes, competency_notes, transversals, conflict
    )


def candidate_slots(candidate: Candidate) -> dict[int, ScheduleSlot]:
    """The candidate's timetable, by phase id."""
    return {
        slot.phase_id: slot
        for slot in db.session.execute(
            select(ScheduleSlot).where(ScheduleSlot.candidate_id == candidate.id)
        ).scalars()
    }


def tick_digest(member: JuryMember, candidate: Candidate) -> dict:
    """Count and SHA-256 of this juror's observed ticks, as the device computes them."""
    import hashlib

    ref = session_referential(member)
    keys = sorted(f"{c}:{m}" for c, m in juror_state(member, candidate, ref).ticks)
    return {"count": len(keys), "sha256": hashlib.sha256("\n".join(keys).encode()).hexdigest()}
