"""Reads of the deliberation: the whole jury's evidence, revealed once it is open.

Everything here is scoped to one exam session; suggestions are computed by ntc_jury.core.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, current_app
from sqlalchemy import String, cast, func, literal_column, select, union_all

from ..core.deliberation import CandidateReadiness, Readiness, decisions_digest, readiness
from ..core.referential import CandidatePlan, CcpDef, CompetencyDef, ReferentialDef
from ..core.suggestion import (
    CcpOutcome,
    CompetencyResult,
    CompetencySpec,
    CriterionRule,
    JuryEvidence,
    Thresholds,
    suggest_ccp,
    suggest_competency,
    suggest_title,
)
from ..core.vocabulary import Presence
from ..extensions import db
from ..jury import queries as jury_queries
from ..models import (
    Candidate,
    CandidateIncident,
    CcpDecision,
    CompetencyDecision,
    ConflictDeclaration,
    Deliberation,
    ExamSession,
    GridCompletion,
    JuryMember,
    Mark,
    Observation,
    Signature,
    TitleDecision,
    TransversalMark,
)
from ..referential.queries import referential


def thresholds() -> Thresholds:
    config = current_app.config
    return Thresholds(
        criterion_rule=CriterionRule(
            min_share=float(config["CRITERION_MIN_SHARE"]),
            strict=bool(config["CRITERION_STRICT"]),
        ),
        mastered_at=float(config["MASTERED_AT"]),
        not_mastered_below=float(config["NOT_MASTERED_BELOW"]),
    )


def current_round(session: ExamSession) -> Deliberation | None:
    """The open (not superseded) deliberation round of the session, if any."""
    return db.session.execute(
        select(Deliberation)
        .where(Deliberation.session_id == session.id, Deliberation.superseded_at.is_(None))
        .order_by(Deliberation.round.desc())
        .limit(1)
    ).scalar_one_or_none()


def jurors(session: ExamSession) -> list[JuryMember]:
    return list(
        db.session.execute(
            select(JuryMember).where(JuryMember.session_id == session.id).order_by(JuryMember.id)
        ).scalars()
    )


def _conflicts(session: ExamSession) -> dict[int, set[int]]:
    """candidate id → ids of jurors who declared a conflict with them."""
    recused: dict[int, set[int]] = {}
    for juror_id, candidate_id in db.session.execute(
        select(ConflictDeclaration.jury_member_id, ConflictDeclaration.candidate_id)
        .join(Candidate, Candidate.id == ConflictDeclaration.candidate_id)
        .where(Candidate.session_id == session.id, ConflictDeclaration.has_conflict.is_(True))
    ):
        recused.setdefault(candidate_id, set()).add(juror_id)
    return recused


def _completions(session: ExamSession, ref: ReferentialDef) -> set[tuple[int, int, str]]:
    """(candidate id, juror id, modality code) of every completed grid of the session."""
    code = {m.id: m.code for m in ref.modalities}
    return {
        (candidate_id, juror_id, code[modality_id])
        for candidate_id, juror_id, modality_id in db.session.execute(
            select(
                GridCompletion.candidate_id,
                GridCompletion.jury_member_id,
                GridCompletion.modality_id,
            )
            .join(Candidate, Candidate.id == GridCompletion.candidate_id)
            .where(Candidate.session_id == session.id)
        )
    }


def opening_readiness(member: JuryMember) -> tuple[Readiness, list[Candidate], list[JuryMember]]:
    """What stands between the chair and opening the deliberation."""
    session = member.session
    ref = referential(session.certification_id)
    members = jurors(session)
    present = tuple(m.id for m in members if m.present)
    recused = _conflicts(session)
    done = _completions(session, ref)
    candidates = jury_queries.session_candidates(member)
    rows = []
    for candidate in candidates:
        plan = jury_queries.candidate_plan(ref, member, candidate)
        eligible = tuple(j for j in present if j not in recused.get(candidate.id, set()))
        missing = tuple(
            (j, modality)
            for j in eligible
            for modality in plan.grids
            if (candidate.id, j, modality) not in done
        )
        absent = candidate.presence == Presence.ABSENT
        rows.append(CandidateReadiness(candidate.id, absent, eligible, missing))
    pending = tuple(m.id for m in members if m.device_pending > 0)
    return readiness(present, tuple(rows), pending), candidates, members


@dataclass
class CompetencyBoard:
    competency: CompetencyDef
    modalities: tuple[str, ...]
    result: CompetencyResult
    decision: CompetencyDecision | None


@dataclass
class CandidateBoard:
    candidate: Candidate
    plan: CandidatePlan
    ref: ReferentialDef
    jurors: list[JuryMember]
    recused: set[int]
    competencies: list[CompetencyBoard]
    ccps: list[tuple[CcpDef, object, CcpDecision | None]]
    title: tuple[object, TitleDecision | None] | None
    transversal_counts: dict[int, dict[int, int]]
    incidents: list = field(default_factory=list)
    phase_notes: list[tuple[JuryMember, int, str]] = field(default_factory=list)
    competency_notes: list[tuple[JuryMember, int, str]] = field(default_factory=list)

    def juror(self, juror_id: int) -> JuryMember | None:
        return next((j for j in self.jurors if j.id == juror_id), None)

    @property
    def chair_recused(self) -> bool:
        return any(j.is_chair and j.id in self.recused for j in self.jurors)

    def may_decide(self, member: JuryMember) -> bool:
        """Who records this candidate's decisions: the chair; when the chair declared a link
        with the candidate, any present juror without one, in the chair's place."""
        if member.id in self.recused:
            return False
        return member.is_chair or (self.chair_recused and member.present)

    @property
    def title_applies(self) -> bool:
        return self.title is not None

    @property
    def disagreements_first(self) -> list[CompetencyBoard]:
        """Competencies where jurors disagree come first; otherwise referential order."""
        return sorted(self.competencies, key=lambda item: not item.result.trace.disagreements())


def candidate_board(member: JuryMember, candidate_id: int) -> CandidateBoard:
    """Every juror's evidence on one candidate, with suggestions and decisions."""
    session = member.session
    ref = referential(session.certification_id)
    candidate = jury_queries.candidate_or_404(member, candidate_id)
    plan = jury_queries.candidate_plan(ref, member, candidate)
    # An absent juror is not part of the jury: whatever their phone sent is kept, not shown
    # nor counted.
    members = [m for m in jurors(session) if m.present]
    recused = _conflicts(session).get(candidate.id, set())
    code = {m.id: m.code for m in ref.modalities}
    completed = {
        (j, code[m])
        for j, m in db.session.execute(
            select(GridCompletion.jury_member_id, GridCompletion.modality_id).where(
                GridCompletion.candidate_id == candidate.id
            )
        )
    }
    ticks = {
        (j, c, code[m])
        for j, c, m in db.session.execute(
            select(Mark.jury_member_id, Mark.criterion_id, Mark.modality_id).where(
                Mark.candidate_id == candidate.id, Mark.observed.is_(True)
            )
        )
    }
    evidence = JuryEvidence.build(
        jurors=[m.id for m in members], recused=recused, completed=completed, ticks=ticks
    )
    decisions = _decisions(candidate.id)
    rules = thresholds()
    boards = []
    for competency in plan.competencies:
        modalities = tuple(m for m in plan.grids if competency in plan.grid_competencies(m))
        spec = CompetencySpec(
            competency.id, competency.code, tuple(k.id for k in competency.criteria), modalities
        )
        boards.append(
            CompetencyBoard(
                competency,
                modalities,
                suggest_competency(spec, evidence, rules),
                decisions["competency"].get(competency.id),
            )
        )
    ccps, ccp_outcomes = [], {}
    for ccp in plan.ccps:
        held = ccp.code in plan.held_ccp_codes
        outcomes = {
            c.code: (
                decisions["competency"][c.id].outcome if c.id in decisions["competency"] else None
            )
            for c in plan.competencies
            if c.id in ccp.competency_ids
        }
        decision = decisions["ccp"].get(ccp.id)
        ccps.append((ccp, suggest_ccp(outcomes, already_held=held), decision))
        # A CCP the candidate holds counts for the title, recorded "déjà acquis" or not yet.
        ccp_outcomes[ccp.code] = (
            decision.outcome if decision else (CcpOutcome.ALREADY_ACQUIRED if held else None)
        )
    title = None
    if plan.completes_title:
        for held_code in plan.held_ccp_codes:
            ccp_outcomes.setdefault(held_code, CcpOutcome.ALREADY_ACQUIRED)
        title = (suggest_title(ccp_outcomes), decisions["title"])
    board = CandidateBoard(
        candidate, plan, ref, members, recused, boards, ccps, title, _transversals(candidate)
    )
    _attach_notes(board, candidate, members)
    board.incidents = list(
        db.session.execute(
            select(CandidateIncident)
            .where(CandidateIncident.candidate_id == candidate.id)
            .order_by(CandidateIncident.reported_at, CandidateIncident.id)
        ).scalars()
    )
    return board


def _decisions(candidate_id: int) -> dict:
    return {
        "competency": {
            d.competency_id: d
            for d in db.session.execute(
                select(CompetencyDecision).where(CompetencyDecision.candidate_id == candidate_id)
            ).scalars()
        },
        "ccp": {
            d.ccp_id: d
            for d in db.session.execute(
                select(CcpDecision).where(CcpDecision.candidate_id == candidate_id)
            ).scalars()
        },
        "title": db.session.execute(
            select(TitleDecision).where(TitleDecision.candidate_id == candidate_id)
        ).scalar_one_or_none(),
    }


def _transversals(candidate: Candidate) -> dict[int, dict[int, int]]:
    """transversal id → juror id → through how many competencies it was observed."""
    counts: dict[int, dict[int, int]] = {}
    for transversal_id, juror_id, n in db.session.execute(
        select(TransversalMark.transversal_id, TransversalMark.jury_member_id, func.count())
        .where(TransversalMark.candidate_id == candidate.id, TransversalMark.observed.is_(True))
        .group_by(TransversalMark.transversal_id, TransversalMark.jury_member_id)
    ):
        counts.setdefault(transversal_id, {})[juror_id] = n
    return counts


def _attach_notes(board: CandidateBoard, candidate: Candidate, members) -> None:
    by_id = {m.id: m for m in members}
    for note in db.session.execute(
        select(Observation)
        .where(Observation.candidate_id == candidate.id, Observation.text != "")
        .order_by(Observation.jury_member_id, Observation.id)
    ).scalars():
        juror = by_id.get(note.jury_member_id)
        if juror is None:  # an absent juror's notes are not the jury's
            continue
        if note.phase_id is not None:
            board.phase_notes.append((juror, note.phase_id, note.text))
        else:
            board.competency_notes.append((juror, note.competency_id, note.text))


@dataclass
class OverviewRow:
    candidate: Candidate
    decided: int
    expected: int
    title_decision: TitleDecision | None
    ccp_decisions: dict[int, CcpDecision]


def overview(member: JuryMember) -> list[OverviewRow]:
    """Every candidate with how many of their decisions are recorded (fixed query count)."""
    session = member.session
    ref = referential(session.certification_id)
    candidates = jury_queries.session_candidates(member)
    ids = [c.id for c in candidates]
    competency_counts = {
        candidate_id: n
        for candidate_id, n in db.session.execute(
            select(CompetencyDecision.candidate_id, func.count())
            .where(CompetencyDecision.candidate_id.in_(ids))
            .group_by(CompetencyDecision.candidate_id)
        )
    }
    ccp_decisions: dict[int, dict[int, CcpDecision]] = {}
    for d in db.session.execute(
        select(CcpDecision).where(CcpDecision.candidate_id.in_(ids))
    ).scalars():
        ccp_decisions.setdefault(d.candidate_id, {})[d.ccp_id] = d
    titles = {
        d.candidate_id: d
        for d in db.session.execute(
            select(TitleDecision).where(TitleDecision.candidate_id.in_(ids))
        ).scalars()
    }
    rows = []
    for candidate in candidates:
        plan = jury_queries.candidate_plan(ref, member, candidate)
        expected = len(plan.competencies) + len(plan.ccps)
        decided = competency_counts.get(candidate.id, 0) + len(ccp_decisions.get(candidate.id, {}))
        if plan.completes_title:
            expected += 1
            decided += 1 if candidate.id in titles else 0
        rows.append(
            OverviewRow(
                candidate,
                decided,
                expected,
                titles.get(candidate.id),
                ccp_decisions.get(candidate.id, {}),
            )
        )
    return rows


@dataclass(frozen=True)
class SignedCandidate:
    """One candidate's CCP and title decisions, as a signature confirms them."""

    candidate: Candidate
    ccps: tuple[tuple[CcpDef, CcpDecision], ...]
    title: TitleDecision | None


def signing_summary(member: JuryMember, rows: list[OverviewRow]) -> list[SignedCandidate]:
    """What the sign button confirms, per candidate (from the overview's rows: no query)."""
    ccps = referential(member.session.certification_id).ccps
    return [
        SignedCandidate(
            row.candidate,
            tuple((ccp, row.ccp_decisions[ccp.id]) for ccp in ccps if ccp.id in row.ccp_decisions),
            row.title_decision,
        )
        for row in rows
    ]


def signatures(deliberation: Deliberation | None) -> dict[int, Signature]:
    if deliberation is None:
        return {}
    return {
        s.jury_member_id: s
        for s in db.session.execute(
            select(Signature).where(Signature.deliberation_id == deliberation.id)
        ).scalars()
    }


def session_decision_rows(session: ExamSession) -> list[tuple]:
    """Every decision of the session as plain tuples: what a signature covers.

    One statement: every juror's phone polls the digest of these rows while signing."""

    def constant(sql: str):
        return literal_column(sql)

    in_session = Candidate.session_id == session.id
    parts = [
        select(
            constant(f"'{kind}'"),
            model.candidate_id,
            key,
            cast(model.outcome, String),
            model.reason,
        )
        .join(Candidate, Candidate.id == model.candidate_id)
        .where(in_session)
        for model, kind, key in (
            (CompetencyDecision, "competency", CompetencyDecision.competency_id),
            (CcpDecision, "ccp", CcpDecision.ccp_id),
            (TitleDecision, "title", constant("0")),
        )
    ]
    parts.append(
        select(
            constant("'presence'"),
            Candidate.id,
            constant("0"),
            cast(Candidate.presence, String),
            constant("''"),
        ).where(in_session)
    )
    return [tuple(row) for row in db.session.execute(union_all(*parts))]


def decisions_digest_of(session: ExamSession) -> str:
    """The digest a signature confirms, of the session's decisions as they stand."""
    return decisions_digest(session_decision_rows(session))


def session_or_404(member: JuryMember) -> ExamSession:
    session = member.session
    if session is None:
        abort(404)
    return session


@dataclass
class SessionSummary:
    ccps: tuple[CcpDef, ...]
    rows: list[OverviewRow]
    ccp_counts: dict[int, dict[str, int]]
    title_counts: dict[str, int]
    title_applies: bool


def session_summary(member: JuryMember) -> SessionSummary:
    """Every candidate × CCP × title, with the counts of each outcome."""
    session = member.session
    ref = referential(session.certification_id)
    fmt = ref.format(session.format_id)
    ccps = tuple(c for c in ref.ccps if fmt.ccp_code in (None, c.code))
    rows = overview(member)
    ccp_counts = {c.id: {} for c in ccps}
    title_counts: dict[str, int] = {}
    for row in rows:
        for ccp_id, decision in row.ccp_decisions.items():
            bucket = ccp_counts.setdefault(ccp_id, {})
            bucket[decision.outcome.value] = bucket.get(decision.outcome.value, 0) + 1
        if row.title_decision is not None:
            key = row.title_decision.outcome.value
            title_counts[key] = title_counts.get(key, 0) + 1
    return SessionSummary(ccps, rows, ccp_counts, title_counts, fmt.ccp_code is None)
