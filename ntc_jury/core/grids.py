"""Per-criterion evaluation: who scored a criterion through each modality, and what they saw."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CriterionRule:
    """When the jurors of one modality, together, count a criterion as observed."""

    min_share: float = 0.5
    strict: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_share <= 1.0:
            raise ValueError(f"min_share must lie within [0, 1], got {self.min_share!r}")
        # Both corner cases make the ticks meaningless: the first can never hold, the second
        # always holds, so a misconfiguration would silently decide every criterion.
        if self.strict and self.min_share == 1.0:
            raise ValueError("a strict rule with min_share=1.0 can never hold")
        if not self.strict and self.min_share == 0.0:
            raise ValueError("a non-strict rule with min_share=0.0 always holds")

    def holds(self, yes: int, counted: int) -> bool:
        """True when `yes` observations out of `counted` jurors satisfy the rule."""
        if counted <= 0:
            return False
        # Plain float division on purpose: k/n and a threshold typed as a decimal literal round
        # to the same float when they are mathematically equal (4/5 == 0.8), Fraction would not.
        share = yes / counted
        return share > self.min_share if self.strict else share >= self.min_share


@dataclass(frozen=True, slots=True)
class JuryEvidence:
    """Everything the jurors recorded for one candidate."""

    jurors: tuple[int, ...]
    recused: frozenset[int] = frozenset()
    completed: frozenset[tuple[int, str]] = frozenset()
    ticks: frozenset[tuple[int, int, str]] = frozenset()

    @classmethod
    def build(
        cls,
        jurors: Iterable[int],
        recused: Iterable[int] = (),
        completed: Iterable[tuple[int, str]] = (),
        ticks: Iterable[tuple[int, int, str]] = (),
    ) -> JuryEvidence:
        """Build evidence from any iterables (e.g. database rows), dropping duplicate jurors."""
        return cls(
            jurors=tuple(dict.fromkeys(jurors)),
            recused=frozenset(recused),
            completed=frozenset(completed),
            ticks=frozenset(ticks),
        )

    def active_jurors(self) -> tuple[int, ...]:
        """Assigned, non-recused jurors in display order."""
        return tuple(j for j in dict.fromkeys(self.jurors) if j not in self.recused)

    def recused_jurors(self) -> tuple[int, ...]:
        """Assigned jurors who declared a conflict of interest, in display order."""
        return tuple(j for j in dict.fromkeys(self.jurors) if j in self.recused)

    def counted_jurors(self, modality: str) -> tuple[int, ...]:
        """Active jurors who declared their `modality` grid complete."""
        return tuple(j for j in self.active_jurors() if (j, modality) in self.completed)


@dataclass(frozen=True, slots=True)
class ModalityVotes:
    """How the jurors scored one criterion through one modality."""

    modality: str
    # (juror_id, observed) for every counted juror; an unticked criterion in a completed grid
    # is an explicit "not observed", which is why completion matters more than ticks.
    ballots: tuple[tuple[int, bool], ...]
    not_completed: tuple[int, ...]
    # Jurors who ticked but have not completed the grid: shown to the jury, never counted.
    unconfirmed_ticks: tuple[int, ...]
    observed: bool

    @property
    def votes(self) -> dict[int, bool]:
        """Counted jurors' answers as {juror_id: observed}."""
        return dict(self.ballots)

    @property
    def yes(self) -> int:
        """Number of counted jurors who observed the criterion."""
        return sum(1 for _, seen in self.ballots if seen)

    @property
    def counted(self) -> int:
        """Number of counted jurors (completed grid, not recused)."""
        return len(self.ballots)

    @property
    def scored(self) -> bool:
        """True when at least one counted juror scored the criterion here."""
        return bool(self.ballots)

    @property
    def agreement(self) -> bool:
        """True when every counted juror gave the same answer (and there is at least one)."""
        return self.scored and self.yes in (0, self.counted)

    @property
    def disagreement(self) -> bool:
        """True when counted jurors gave different answers."""
        return 0 < self.yes < self.counted


@dataclass(frozen=True, slots=True)
class CriterionTrace:
    """Why a criterion is, or is not, observed by the jury."""

    position: int  # 1-based rank within the competency, as printed in the referential
    criterion_id: int
    observed: bool
    not_evaluated: bool
    modalities: tuple[ModalityVotes, ...]

    @property
    def disagreement(self) -> bool:
        """True when counted jurors disagree in at least one modality."""
        return any(m.disagreement for m in self.modalities)

    @property
    def observed_in(self) -> tuple[str, ...]:
        """Modalities in which the criterion rule holds."""
        return tuple(m.modality for m in self.modalities if m.observed)


def assess_criterion(
    position: int,
    criterion_id: int,
    modalities: tuple[str, ...],
    evidence: JuryEvidence,
    rule: CriterionRule,
) -> CriterionTrace:
    """Score one criterion across the modalities that evaluate its competency."""
    active = evidence.active_jurors()
    per_modality = []
    for modality in modalities:
        ballots = []
        not_completed = []
        unconfirmed = []
        for juror in active:
            ticked = (juror, criterion_id, modality) in evidence.ticks
            if (juror, modality) in evidence.completed:
                ballots.append((juror, ticked))
            else:
                not_completed.append(juror)
                if ticked:
                    unconfirmed.append(juror)
        yes = sum(1 for _, seen in ballots if seen)
        per_modality.append(
            ModalityVotes(
                modality=modality,
                ballots=tuple(ballots),
                not_completed=tuple(not_completed),
                unconfirmed_ticks=tuple(unconfirmed),
                observed=rule.holds(yes, len(ballots)),
            )
        )
    return CriterionTrace(
        position=position,
        criterion_id=criterion_id,
        observed=any(m.observed for m in per_modality),
        not_evaluated=not any(m.scored for m in per_modality),
        modalities=tuple(per_modality),
    )
