"""What the juror's pages need, assembled from the queries (no SQL here)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort

from ..core.referential import CandidatePlan, CompetencyDef, PhaseDef, ReferentialDef
from ..core.vocabulary import Presence
from ..models import Candidate, JuryMember
from . import queries


@dataclass(frozen=True)
class CandidatePage:
    member: JuryMember
    candidate: Candidate
    ref: ReferentialDef
    plan: CandidatePlan
    state: queries.JurorCandidateState
    detached = False  # holds database rows: renders inside the transaction

    @property
    def locked(self) -> bool:
        return self.member.session.locked_at is not None

    @property
    def absent(self) -> bool:
        """Recorded absent: nothing to evaluate (the operations refuse it too)."""
        return self.candidate.presence == Presence.ABSENT

    @property
    def _session_scoring(self) -> bool:
        """The session takes ticks (before the deliberation, not locked) for this candidate."""
        session_open = self.member.session.state.value in ("planned", "in_progress")
        return not self.locked and session_open and not self.absent

    @property
    def scoring_open(self) -> bool:
        """Ticks and grids can change (the session takes them, juror cleared)."""
        return self.state.cleared and self._session_scoring

    @property
    def awaiting_clearance(self) -> bool:
        """Scoring would be open but the juror has not yet said "no link": the page is shown
        with its controls disabled, and the outbox enables them once the juror confirms,
        offline too (the confirmation is sent before the ticks that follow it)."""
        return self.state.conflict is None and self._session_scoring

    @property
    def tick_keys(self) -> list[str]:
        """This juror's observed ticks as "criterion:modality" (the outbox's digest input)."""
        return sorted(f"{criterion}:{modality}" for criterion, modality in self.state.ticks)

    def grid_done(self, modality: str) -> bool:
        return modality in self.state.completed

    def ticked(self, criterion_id: int, modality: str) -> bool:
        return (criterion_id, modality) in self.state.ticks

    def grid_count(self, modality: str) -> tuple[int, int]:
        """Criteria ticked / criteria in the juror's grid for that modality."""
        competencies = self.plan.grid_competencies(modality)
        total = sum(len(c.criteria) for c in competencies)
        done = sum(1 for c in competencies for k in c.criteria if self.ticked(k.id, modality))
        return done, total

    def transversals_ticked(self, competency: CompetencyDef) -> int:
        """How many transversal competencies this juror observed through that competency."""
        return sum(1 for (_tid, cid) in self.state.transversals if cid == competency.id)

    def transversal_counts(self) -> list[tuple[object, int]]:
        """Per transversal competency, through how many competencies this juror observed it."""
        return [
            (t, sum(1 for (tid, _cid) in self.state.transversals if tid == t.id))
            for t in self.ref.transversals
        ]

    def transversals_of(self, competency: CompetencyDef):
        return [self.ref.transversal(tid) for tid in competency.transversal_ids]


@dataclass(frozen=True)
class _CandidateId:
    id: int


@dataclass(frozen=True)
class _TickState:
    transversals: frozenset[tuple[int, int]]


@dataclass(frozen=True)
class AppliedTickPage:
    """What a tick's fragment needs once the tick was just applied, known without a read.

    The rules let the tick through, so scoring was open, the juror cleared and the grid not
    complete; the tick's new value is the operation's. Only the ticked criterion (or
    transversal) is rendered from it.
    """

    candidate: _CandidateId
    ref: ReferentialDef
    observed: bool
    state: _TickState
    scoring_open: bool = True
    awaiting_clearance: bool = False
    locked = False  # the rules refuse every tick on a locked session
    detached = True  # plain data: renders after the transaction ended

    def ticked(self, criterion_id: int, modality: str) -> bool:
        return self.observed

    def grid_done(self, modality: str) -> bool:
        return False


def fragment_page(member: JuryMember, candidate_id: int, kind: str, outcome):
    """The page an operation's htmx fragment is rendered from.

    A tick just applied needs no read (the hot path of the exam day); anything else (a
    refusal, a replay, a grid, a note) reads the juror's whole record about the candidate.
    """
    if outcome.status == "applied" and kind in ("mark", "transversal"):
        observed = bool(outcome.result.get("observed"))
        pair = (outcome.result.get("transversal_id"), outcome.result.get("competency_id"))
        return AppliedTickPage(
            candidate=_CandidateId(candidate_id),
            ref=queries.session_referential(member),
            observed=observed,
            state=_TickState(frozenset({pair} if kind == "transversal" and observed else ())),
        )
    return candidate_page(member, candidate_id)


def candidate_page(member: JuryMember, candidate_id: int) -> CandidatePage:
    candidate = queries.candidate_or_404(member, candidate_id)
    ref = queries.session_referential(member)
    plan = queries.candidate_plan(ref, member, candidate)
    return CandidatePage(member, candidate, ref, plan, queries.juror_state(member, candidate, ref))


def phase_or_404(page: CandidatePage, phase_id: int) -> PhaseDef:
    for phase in page.plan.phases:
        if phase.id == phase_id:
            return phase
    abort(404)


def neighbours(page: CandidatePage, phase: PhaseDef) -> tuple[PhaseDef | None, PhaseDef | None]:
    """The previous and next phases where the jury is present."""
    scorable = [p for p in page.plan.phases if p.jury_present]
    if phase not in scorable:
        return None, None
    index = scorable.index(phase)
    before = scorable[index - 1] if index > 0 else None
    after = scorable[index + 1] if index + 1 < len(scorable) else None
    return before, after
