"""Reads for a signed-in juror, always scoped to their own exam session and their own ticks.

Independence: nothing here returns another juror's marks or observations.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..core.referential import CandidatePlan, ReferentialDef, plan_for
from ..core.vocabulary import Presence, Route
from ..extensions import db
from ..models import (
    Candidate,
    Ccp,
    ConflictDeclaration,
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


def candidate_ref(member: JuryMember, candidate_id: int) -> CandidateRef | None:
    """A candidate of the juror's own session, with the CCPs they hold, in one statement."""
    rows = db.session.execute(
        select(Candidate.id, Candidate.route, Candidate.presence, Ccp.code)
        .outerjoin(HeldCcp, HeldCcp.candidate_id == Candidate.id)
        .outerjoin(Ccp, Ccp.id == HeldCcp.ccp_id)
        .where(Candidate.id == candidate_id, Candidate.session_id == member.session_id)
    ).all()
    if not rows:
        return None
    first = rows[0]
    held = frozenset(row.code for row in rows if row.code is not None)
    return CandidateRef(first.id, first.route, first.presence, held)


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
    completions: dict[int, int] = {}
    for candidate_id, _modality in db.session.execute(
        select(GridCompletion.candidate_id, GridCompletion.modality_id)
        .join(Candidate, Candidate.id == GridCompletion.candidate_id)
        .where(
            GridCompletion.jury_member_id == member.id, Candidate.session_id == member.session_id
        )
    ):
        completions[candidate_id] = completions.get(candidate_id, 0) + 1
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
            completed=completions.get(c.id, 0),
            conflict=conflicts.get(c.id),
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
