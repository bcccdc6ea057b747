"""The referential as immutable data, and what it implies for one candidate.

Built once per certification from the database (a published version never changes), so
pages read it without queries and the rules below stay pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CriterionDef:
    id: int
    position: int  # 1-based, as the jury reads it
    text: str


@dataclass(frozen=True, slots=True)
class CompetencyDef:
    id: int
    code: str
    title: str
    ccp_code: str
    criteria: tuple[CriterionDef, ...]
    modalities: tuple[str, ...]
    transversal_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TransversalDef:
    id: int
    code: str
    title: str
    competency_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ModalityDef:
    id: int
    code: str
    title: str


@dataclass(frozen=True, slots=True)
class CcpDef:
    id: int
    code: str
    title: str
    competency_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PhaseDef:
    id: int
    code: str
    title: str
    part: str | None
    description: str | None
    minutes: int
    jury_present: bool
    supervised: bool
    modality: str | None
    competency_ids: tuple[int, ...]
    capitalisation_only: bool


@dataclass(frozen=True, slots=True)
class FormatDef:
    id: int
    code: str
    title: str
    ccp_code: str | None
    total_minutes: int
    jury_minutes: int
    phases: tuple[PhaseDef, ...]


@dataclass(frozen=True, slots=True)
class ReferentialDef:
    certification_id: int
    code: str
    version: str
    title: str
    modalities: tuple[ModalityDef, ...]
    ccps: tuple[CcpDef, ...]
    competencies: tuple[CompetencyDef, ...]
    transversals: tuple[TransversalDef, ...]
    formats: tuple[FormatDef, ...]
    _by_id: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index = self._by_id
        for kind, items in (
            ("competency", self.competencies),
            ("transversal", self.transversals),
            ("ccp", self.ccps),
            ("format", self.formats),
        ):
            for item in items:
                index[(kind, item.id)] = item
        for fmt in self.formats:
            for phase in fmt.phases:
                index[("phase", phase.id)] = phase
        for criterion_owner in self.competencies:
            for criterion in criterion_owner.criteria:
                index[("criterion", criterion.id)] = (criterion_owner, criterion)
        for modality in self.modalities:
            index[("modality", modality.code)] = modality
        for fmt in self.formats:
            index[("format-code", fmt.code)] = fmt

    def competency(self, competency_id: int) -> CompetencyDef | None:
        return self._by_id.get(("competency", competency_id))

    def transversal(self, transversal_id: int) -> TransversalDef | None:
        return self._by_id.get(("transversal", transversal_id))

    def phase(self, phase_id: int) -> PhaseDef | None:
        return self._by_id.get(("phase", phase_id))

    def format(self, format_id: int) -> FormatDef | None:
        return self._by_id.get(("format", format_id))

    def format_by_code(self, code: str) -> FormatDef | None:
        return self._by_id.get(("format-code", code))

    def modality(self, code: str) -> ModalityDef | None:
        return self._by_id.get(("modality", code))

    def criterion(self, criterion_id: int) -> tuple[CompetencyDef, CriterionDef] | None:
        """The criterion and the competency it belongs to."""
        return self._by_id.get(("criterion", criterion_id))

    def ccp_of(self, competency: CompetencyDef) -> CcpDef:
        return next(c for c in self.ccps if c.code == competency.ccp_code)


@dataclass(frozen=True, slots=True)
class CandidatePlan:
    """What one candidate takes in a session: phases, graded competencies, grids."""

    phases: tuple[PhaseDef, ...]
    competencies: tuple[CompetencyDef, ...]  # evaluated in this session (held CCPs excluded)
    # modality code → competencies that modality's grid holds, in referential order
    grids: dict[str, tuple[CompetencyDef, ...]]
    held_ccp_codes: frozenset[str]
    ccps: tuple[CcpDef, ...]  # the CCPs this session certifies for the candidate
    # The jury decides the title for this candidate in this session: titre complet
    # sessions, and capitalisation candidates at their last CCP (the others all held).
    completes_title: bool = False

    def grid_competencies(self, modality: str) -> tuple[CompetencyDef, ...]:
        return self.grids.get(modality, ())

    def phase_competencies(self, phase: PhaseDef) -> tuple[CompetencyDef, ...]:
        """The competencies a phase evaluates that this candidate is graded on."""
        graded = {c.id for c in self.grid_competencies(phase.modality or "")}
        return tuple(
            c for c in self.competencies if c.id in graded and c.id in phase.competency_ids
        )

    def criterion_in_grid(self, criterion_id: int, modality: str) -> bool:
        return any(
            criterion.id == criterion_id
            for competency in self.grid_competencies(modality)
            for criterion in competency.criteria
        )


def title_completed_in(
    referential: ReferentialDef,
    fmt: FormatDef,
    *,
    capitalisation: bool,
    held_ccp_codes: frozenset[str] | set[str] = frozenset(),
) -> bool:
    """The jury decides the title in this session: a titre complet session, or a
    capitalisation candidate's last CCP session (every other CCP already held: RE §3, the
    entretien final "se déroule en fin de session du dernier CCP")."""
    if fmt.ccp_code is None:
        return True
    return capitalisation and {c.code for c in referential.ccps} <= {*held_ccp_codes, fmt.ccp_code}


def plan_for(
    referential: ReferentialDef,
    fmt: FormatDef,
    *,
    capitalisation: bool,
    held_ccp_codes: frozenset[str] = frozenset(),
) -> CandidatePlan:
    """The candidate's phases and grids for a session format.

    Competencies of CCPs the candidate already holds are not graded again. A capitalisation
    candidate whose CCP session is their last (every other CCP already held) completes the
    title there: their entretien final is added at the end of it, and the title decided.
    """
    completes_title = title_completed_in(
        referential, fmt, capitalisation=capitalisation, held_ccp_codes=held_ccp_codes
    )
    phases = tuple(
        p for p in fmt.phases if not p.capitalisation_only or (capitalisation and completes_title)
    )
    if fmt.ccp_code is None:
        ccps = tuple(c for c in referential.ccps)
    else:
        ccps = tuple(c for c in referential.ccps if c.code == fmt.ccp_code)
    in_scope = {cid for ccp in ccps if ccp.code not in held_ccp_codes for cid in ccp.competency_ids}
    grids: dict[str, list[CompetencyDef]] = {}
    for competency in referential.competencies:
        if competency.id not in in_scope:
            continue
        for modality in competency.modalities:
            evaluated_here = any(
                p.modality == modality and competency.id in p.competency_ids for p in phases
            )
            if evaluated_here:
                grids.setdefault(modality, []).append(competency)
    graded = {c.id for grid in grids.values() for c in grid}
    return CandidatePlan(
        phases=phases,
        competencies=tuple(c for c in referential.competencies if c.id in graded),
        grids={code: tuple(items) for code, items in _in_modality_order(referential, grids)},
        held_ccp_codes=held_ccp_codes,
        ccps=ccps,
        completes_title=completes_title,
    )


def _in_modality_order(referential: ReferentialDef, grids: dict) -> list[tuple[str, list]]:
    order = {m.code: i for i, m in enumerate(referential.modalities)}
    return sorted(grids.items(), key=lambda item: order.get(item[0], len(order)))
