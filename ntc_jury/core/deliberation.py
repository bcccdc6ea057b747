"""Pure rules of the deliberation: who may open it, when a reason is required, what is signed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

from .suggestion import TitleOutcome, TitleSuggestion, departs_from_suggestion

MIN_JURORS = 2


@dataclass(frozen=True, slots=True)
class CandidateReadiness:
    """One candidate at the opening: who can score them and which grids are missing."""

    candidate_id: int
    absent: bool
    eligible_jurors: tuple[int, ...]  # present jurors without a conflict with this candidate
    missing_grids: tuple[tuple[int, str], ...]  # (juror_id, modality) not declared complete


class OpeningProblem(StrEnum):
    TOO_FEW_PRESENT = "too_few_present"
    TOO_FEW_FOR_CANDIDATE = "too_few_for_candidate"


@dataclass(frozen=True, slots=True)
class Readiness:
    blocking: tuple[tuple[OpeningProblem, int | None], ...]  # (problem, candidate id or None)
    missing_grids: tuple[tuple[int, int, str], ...]  # (candidate_id, juror_id, modality)
    pending_jurors: tuple[int, ...]  # devices that report unsent operations

    @property
    def can_open(self) -> bool:
        return not self.blocking

    @property
    def needs_acknowledgement(self) -> bool:
        """Going on with grids missing or operations pending is an explicit choice."""
        return bool(self.missing_grids or self.pending_jurors)


def readiness(
    present_jurors: tuple[int, ...],
    candidates: tuple[CandidateReadiness, ...],
    pending_jurors: tuple[int, ...] = (),
) -> Readiness:
    """Whether the chair may open the deliberation, and what they must acknowledge."""
    blocking: list[tuple[OpeningProblem, int | None]] = []
    if len(present_jurors) < MIN_JURORS:
        blocking.append((OpeningProblem.TOO_FEW_PRESENT, None))
    missing: list[tuple[int, int, str]] = []
    for candidate in candidates:
        if candidate.absent:
            continue
        if len(candidate.eligible_jurors) < MIN_JURORS:
            blocking.append((OpeningProblem.TOO_FEW_FOR_CANDIDATE, candidate.candidate_id))
        missing.extend((candidate.candidate_id, j, m) for j, m in candidate.missing_grids)
    return Readiness(tuple(blocking), tuple(missing), tuple(pending_jurors))


NEGATIVE_OUTCOMES = frozenset({"not_mastered", "not_acquired", "not_obtained"})


def reason_required(outcome: str, departs: bool) -> bool:
    """Every negative decision and every decision departing from the suggestion is justified."""
    return outcome in NEGATIVE_OUTCOMES or departs


def decision_is_stale(current, recorded: str | None, outcome, reason: str) -> bool:
    """A recorded CCP or title decision the rules would now refuse, once the jury decided a
    competency or a CCP since (`current`: its suggestion now; `recorded`: the one it was
    taken against): a title "obtenu" whose CCPs are no longer all acquired, or a decision
    that now departs from its suggestion when it did not depart from the recorded one (its
    reason, if any, was not written against this suggestion), or that departs without one."""
    if outcome == TitleOutcome.OBTAINED and current != TitleSuggestion.OBTAINED:
        return True
    if not departs_from_suggestion(current, outcome):
        return False
    seen = type(current)(recorded) if recorded else None
    departed_then = seen is not None and departs_from_suggestion(seen, outcome)
    return not departed_then or not (reason or "").strip()


def decisions_digest(decisions: list[tuple]) -> str:
    """SHA-256 of the decisions as a sorted canonical list: what a signature confirms."""
    canonical = json.dumps(sorted(decisions), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def all_signed(present_jurors: frozenset[int], signed: frozenset[int]) -> bool:
    """The record locks when every present juror has signed (and there are at least two)."""
    return len(present_jurors) >= MIN_JURORS and present_jurors <= signed
