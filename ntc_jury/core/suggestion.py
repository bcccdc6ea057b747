"""Suggestions for competencies, CCPs and the title: the app classifies, the jury decides.

Every result carries a structured trace (ids, counts, flags; never prose) that the web layer
renders through gettext.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .grids import (
    CriterionRule,
    CriterionTrace,
    JuryEvidence,
    ModalityVotes,
    assess_criterion,
)

__all__ = [
    "CcpOutcome",
    "CcpResult",
    "CcpSuggestion",
    "CcpTrace",
    "CompetencyOutcome",
    "CompetencyResult",
    "CompetencySpec",
    "CompetencySuggestion",
    "CompetencyTrace",
    "CriterionRule",
    "CriterionTrace",
    "JuryEvidence",
    "ModalityVotes",
    "Thresholds",
    "TitleOutcome",
    "TitleResult",
    "TitleSuggestion",
    "TitleTrace",
    "departs_from_suggestion",
    "suggest_ccp",
    "suggest_competency",
    "suggest_title",
]


class CompetencySuggestion(StrEnum):
    EVIDENT_MASTERED = "evident_mastered"
    EVIDENT_NOT_MASTERED = "evident_not_mastered"
    TO_DEBATE = "to_debate"
    NOT_EVALUATED = "not_evaluated"


class CompetencyOutcome(StrEnum):
    MASTERED = "mastered"
    NOT_MASTERED = "not_mastered"


class CcpSuggestion(StrEnum):
    ACQUIRED = "acquired"
    NOT_ACQUIRED = "not_acquired"
    ALREADY_ACQUIRED = "already_acquired"
    PENDING = "pending"


class CcpOutcome(StrEnum):
    ACQUIRED = "acquired"
    NOT_ACQUIRED = "not_acquired"
    ALREADY_ACQUIRED = "already_acquired"


class TitleSuggestion(StrEnum):
    OBTAINED = "obtained"
    NOT_OBTAINED = "not_obtained"
    PENDING = "pending"


class TitleOutcome(StrEnum):
    OBTAINED = "obtained"
    NOT_OBTAINED = "not_obtained"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Configurable cut-offs turning jurors' ticks into a competency suggestion."""

    criterion_rule: CriterionRule = field(default_factory=CriterionRule)
    mastered_at: float = 1.0
    not_mastered_below: float = 0.5

    def __post_init__(self) -> None:
        for name in ("mastered_at", "not_mastered_below"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie within [0, 1], got {value!r}")
        # Otherwise a share could be both "evident mastered" and "evident not mastered".
        if self.not_mastered_below > self.mastered_at:
            raise ValueError(
                f"not_mastered_below ({self.not_mastered_below!r}) "
                f"exceeds mastered_at ({self.mastered_at!r})"
            )


@dataclass(frozen=True, slots=True)
class CompetencySpec:
    """A competency as the referential defines it: ordered criteria, evaluating modalities."""

    id: int
    code: str
    criterion_ids: tuple[int, ...]
    modalities: tuple[str, ...]

    def __post_init__(self) -> None:
        # A duplicate would be counted twice in k/N, skewing the suggestion unnoticed.
        if len(set(self.criterion_ids)) != len(self.criterion_ids):
            raise ValueError(f"duplicate criterion ids in competency {self.code!r}")
        if len(set(self.modalities)) != len(self.modalities):
            raise ValueError(f"duplicate modalities in competency {self.code!r}")


@dataclass(frozen=True, slots=True)
class CompetencyTrace:
    """Why a competency got its suggestion."""

    competency_id: int
    code: str
    observed: int
    total: int
    thresholds: Thresholds
    criteria: tuple[CriterionTrace, ...]  # in referential order
    recused: tuple[int, ...]
    # (modality, counted juror ids) for every modality evaluating the competency.
    completed_by: tuple[tuple[str, tuple[int, ...]], ...]
    # The candidate's jury less the recused: the jurors whose grids the suggestion should
    # rest on.
    expected_jurors: tuple[int, ...] = ()

    @property
    def evaluated(self) -> bool:
        """True when at least one counted juror completed at least one grid."""
        return any(jurors for _, jurors in self.completed_by)

    @property
    def share(self) -> float | None:
        """Observed criteria over total criteria, or None without criteria."""
        return self.observed / self.total if self.total else None

    def short_of_jurors(self) -> tuple[tuple[str, int, int], ...]:
        """(modality, counted, expected) for each modality some expected juror has not
        completed: the suggestion then rests on fewer jurors than the jury, which the rule
        allows (a majority of those who scored) but the jury must be told."""
        if not self.evaluated:
            return ()  # said as such: nothing to suggest from
        expected = len(self.expected_jurors)
        return tuple(
            (modality, len(counted), expected)
            for modality, counted in self.completed_by
            if len(counted) < expected
        )

    def disagreements(self) -> tuple[CriterionTrace, ...]:
        """Criteria on which counted jurors disagree in some modality."""
        return tuple(c for c in self.criteria if c.disagreement)

    def disagreements_first(self) -> tuple[CriterionTrace, ...]:
        """All criteria, those in disagreement first, each group in referential order."""
        return self.disagreements() + tuple(c for c in self.criteria if not c.disagreement)

    def summary(self) -> dict[str, int]:
        """Counts the UI shows next to the suggestion."""
        return {
            "observed": self.observed,
            "total": self.total,
            "disagreements": len(self.disagreements()),
            "not_evaluated": sum(1 for c in self.criteria if c.not_evaluated),
            "recused": len(self.recused),
        }


@dataclass(frozen=True, slots=True)
class CompetencyResult:
    suggestion: CompetencySuggestion
    trace: CompetencyTrace


def suggest_competency(
    spec: CompetencySpec, evidence: JuryEvidence, thresholds: Thresholds = Thresholds()
) -> CompetencyResult:
    """Classify a competency from the jurors' completed grids."""
    criteria = tuple(
        assess_criterion(pos, cid, spec.modalities, evidence, thresholds.criterion_rule)
        for pos, cid in enumerate(spec.criterion_ids, start=1)
    )
    trace = CompetencyTrace(
        competency_id=spec.id,
        code=spec.code,
        observed=sum(1 for c in criteria if c.observed),
        total=len(criteria),
        thresholds=thresholds,
        criteria=criteria,
        recused=evidence.recused_jurors(),
        completed_by=tuple((m, evidence.counted_jurors(m)) for m in spec.modalities),
        expected_jurors=evidence.active_jurors(),
    )
    share = trace.share
    # Missing grids must reach the jury as such, never look like a "not mastered".
    if share is None or not trace.evaluated:
        suggestion = CompetencySuggestion.NOT_EVALUATED
    elif share >= thresholds.mastered_at:
        suggestion = CompetencySuggestion.EVIDENT_MASTERED
    elif share < thresholds.not_mastered_below:
        suggestion = CompetencySuggestion.EVIDENT_NOT_MASTERED
    else:
        suggestion = CompetencySuggestion.TO_DEBATE
    return CompetencyResult(suggestion, trace)


@dataclass(frozen=True, slots=True)
class CcpTrace:
    """Which competency decisions led to a CCP suggestion (codes in input order)."""

    already_held: bool
    mastered: tuple[str, ...]
    not_mastered: tuple[str, ...]
    undecided: tuple[str, ...]

    def summary(self) -> dict[str, int]:
        """Counts the UI shows next to the suggestion."""
        return {
            "mastered": len(self.mastered),
            "not_mastered": len(self.not_mastered),
            "undecided": len(self.undecided),
            "total": len(self.mastered) + len(self.not_mastered) + len(self.undecided),
        }


@dataclass(frozen=True, slots=True)
class CcpResult:
    suggestion: CcpSuggestion
    trace: CcpTrace


def suggest_ccp(
    competency_decisions: Mapping[str, CompetencyOutcome | str | None], already_held: bool
) -> CcpResult:
    """Classify a CCP from the jury's decisions on its competencies."""
    groups: dict[CompetencyOutcome | None, list[str]] = {
        CompetencyOutcome.MASTERED: [],
        CompetencyOutcome.NOT_MASTERED: [],
        None: [],
    }
    for code, decision in competency_decisions.items():
        # Coercion rejects stray strings loudly instead of treating them as undecided.
        groups[None if decision is None else CompetencyOutcome(decision)].append(code)
    trace = CcpTrace(
        already_held=already_held,
        mastered=tuple(groups[CompetencyOutcome.MASTERED]),
        not_mastered=tuple(groups[CompetencyOutcome.NOT_MASTERED]),
        undecided=tuple(groups[None]),
    )
    if already_held:
        suggestion = CcpSuggestion.ALREADY_ACQUIRED
    elif trace.not_mastered:
        suggestion = CcpSuggestion.NOT_ACQUIRED
    # An empty CCP is a referential error: nothing is vacuously acquired.
    elif trace.mastered and not trace.undecided:
        suggestion = CcpSuggestion.ACQUIRED
    else:
        suggestion = CcpSuggestion.PENDING
    return CcpResult(suggestion, trace)


@dataclass(frozen=True, slots=True)
class TitleTrace:
    """Which CCP decisions led to the title suggestion (codes in input order)."""

    acquired: tuple[str, ...]
    already_acquired: tuple[str, ...]
    not_acquired: tuple[str, ...]
    undecided: tuple[str, ...]

    def summary(self) -> dict[str, int]:
        """Counts the UI shows next to the suggestion."""
        return {
            "acquired": len(self.acquired),
            "already_acquired": len(self.already_acquired),
            "not_acquired": len(self.not_acquired),
            "undecided": len(self.undecided),
            "total": len(self.acquired)
            + len(self.already_acquired)
            + len(self.not_acquired)
            + len(self.undecided),
        }


@dataclass(frozen=True, slots=True)
class TitleResult:
    suggestion: TitleSuggestion
    trace: TitleTrace


def suggest_title(ccp_decisions: Mapping[str, CcpOutcome | str | None]) -> TitleResult:
    """Classify the title from the jury's decisions on the CCPs."""
    groups: dict[CcpOutcome | None, list[str]] = {outcome: [] for outcome in CcpOutcome}
    groups[None] = []
    for code, decision in ccp_decisions.items():
        groups[None if decision is None else CcpOutcome(decision)].append(code)
    trace = TitleTrace(
        acquired=tuple(groups[CcpOutcome.ACQUIRED]),
        already_acquired=tuple(groups[CcpOutcome.ALREADY_ACQUIRED]),
        not_acquired=tuple(groups[CcpOutcome.NOT_ACQUIRED]),
        undecided=tuple(groups[None]),
    )
    if trace.not_acquired:
        suggestion = TitleSuggestion.NOT_OBTAINED
    # No CCP at all is a referential error, not a title obtained by default.
    elif (trace.acquired or trace.already_acquired) and not trace.undecided:
        suggestion = TitleSuggestion.OBTAINED
    else:
        suggestion = TitleSuggestion.PENDING
    return TitleResult(suggestion, trace)


# Only definite suggestions expect a given outcome; the others leave the jury free.
# Keyed by (enum type, value) because StrEnum members of different types with the same value
# compare and hash equal ("acquired" is both a CcpSuggestion and a CcpOutcome).
_EXPECTED: dict[type[StrEnum], tuple[type[StrEnum], dict[str, str]]] = {
    CompetencySuggestion: (
        CompetencyOutcome,
        {
            CompetencySuggestion.EVIDENT_MASTERED: CompetencyOutcome.MASTERED,
            CompetencySuggestion.EVIDENT_NOT_MASTERED: CompetencyOutcome.NOT_MASTERED,
        },
    ),
    CcpSuggestion: (
        CcpOutcome,
        {
            CcpSuggestion.ACQUIRED: CcpOutcome.ACQUIRED,
            CcpSuggestion.NOT_ACQUIRED: CcpOutcome.NOT_ACQUIRED,
            CcpSuggestion.ALREADY_ACQUIRED: CcpOutcome.ALREADY_ACQUIRED,
        },
    ),
    TitleSuggestion: (
        TitleOutcome,
        {
            TitleSuggestion.OBTAINED: TitleOutcome.OBTAINED,
            TitleSuggestion.NOT_OBTAINED: TitleOutcome.NOT_OBTAINED,
        },
    ),
}


def departs_from_suggestion(
    suggestion: CompetencySuggestion | CcpSuggestion | TitleSuggestion,
    outcome: CompetencyOutcome | CcpOutcome | TitleOutcome | str | None,
) -> bool:
    """True when the jury decided against a definite suggestion (undecided never departs),
    or decided "maîtrisée" for a competency no completed grid evaluated."""
    try:
        outcome_type, expected = _EXPECTED[type(suggestion)]
    except KeyError:
        raise TypeError(f"not a suggestion: {suggestion!r}") from None
    if outcome is None:
        return False
    if isinstance(outcome, StrEnum) and not isinstance(outcome, outcome_type):
        raise TypeError(f"{outcome!r} is not a {outcome_type.__name__}")
    outcome = outcome_type(outcome)
    if suggestion is CompetencySuggestion.NOT_EVALUATED:
        # No completed grid: nothing observed supports "maîtrisée", so the jury writes why.
        return outcome == CompetencyOutcome.MASTERED
    return suggestion in expected and outcome != expected[suggestion]
