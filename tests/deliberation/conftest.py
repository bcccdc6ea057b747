"""A deliberation scene: an NTC session whose jurors scored through the app's own operations.

Ticks, grids and conflict declarations go through `apply_operation` (the juror's single write
path); decisions, signatures and reopening through `ntc_jury.deliberation.operations`.
Referential ids are looked up by their RE codes, never hard-coded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from ntc_jury.core.referential import CandidatePlan, CompetencyDef, ReferentialDef
from ntc_jury.core.suggestion import CompetencySuggestion
from ntc_jury.core.vocabulary import Presence, Route
from ntc_jury.deliberation import operations as delib_ops
from ntc_jury.deliberation import queries as delib_queries
from ntc_jury.extensions import db
from ntc_jury.jury import operations as jury_ops
from ntc_jury.jury import queries as jury_queries
from ntc_jury.models import AuditEvent, Candidate, ExamSession, JuryMember
from ntc_jury.referential.queries import referential
from tests.factories import add_candidate, make_session

REASON = "Le jury a délibéré sur les éléments observés."
# (juror, competency code, 1-based criterion position) → did that juror observe it?
Observed = Callable[[JuryMember, str, int], bool]


def new_op() -> str:
    return str(uuid.uuid4())


def count(model, **filters) -> int:
    return db.session.execute(
        select(func.count()).select_from(model).filter_by(**filters)
    ).scalar_one()


def events(action: str, **filters) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent).filter_by(action=action, **filters).order_by(AuditEvent.id)
        ).scalars()
    )


def everything(_juror, _code, _position) -> bool:
    return True


@dataclass
class Jury:
    session: ExamSession

    @property
    def chair(self) -> JuryMember:
        return next(m for m in self.session.jury_members if m.is_chair)

    @property
    def member(self) -> JuryMember:
        return next(m for m in self.session.jury_members if not m.is_chair)

    @property
    def jurors(self) -> list[JuryMember]:
        return list(self.session.jury_members)

    @property
    def candidates(self) -> list[Candidate]:
        return list(self.session.candidates)

    @property
    def ref(self) -> ReferentialDef:
        return referential(self.session.certification_id)

    def competency(self, code: str) -> CompetencyDef:
        return next(c for c in self.ref.competencies if c.code == code)

    def ccp_id(self, code: str) -> int:
        return next(c.id for c in self.ref.ccps if c.code == code)

    def plan(self, candidate: Candidate) -> CandidatePlan:
        return jury_queries.candidate_plan(self.ref, self.chair, candidate)

    def modalities_of(self, candidate: Candidate, competency: CompetencyDef) -> list[str]:
        """The grids (modality codes) that hold `competency` for this candidate, in order."""
        plan = self.plan(candidate)
        return [m for m, held in plan.grids.items() if competency in held]

    # ------------------------------------------------------------------ scoring

    def op(self, juror: JuryMember, kind: str, candidate: Candidate, **payload):
        payload["candidate_id"] = candidate.id
        return jury_ops.apply_operation(member=juror, op_id=new_op(), kind=kind, payload=payload)

    def applied(self, juror: JuryMember, kind: str, candidate: Candidate, **payload):
        outcome = self.op(juror, kind, candidate, **payload)
        assert outcome.status == "applied", (kind, payload, outcome.message)
        return outcome

    def clear(self, candidate: Candidate, jurors: Iterable[JuryMember] | None = None) -> None:
        """Each juror confirms "aucun lien avec ce candidat"."""
        for juror in jurors if jurors is not None else self.jurors:
            self.applied(juror, "conflict", candidate, has_conflict=False)

    def declare_conflict(self, juror: JuryMember, candidate: Candidate) -> None:
        self.applied(juror, "conflict", candidate, has_conflict=True, reason="Ancien formateur")

    def score(
        self,
        candidate: Candidate,
        *,
        jurors: Iterable[JuryMember] | None = None,
        observed: Observed = everything,
        complete: bool = True,
    ) -> None:
        """Each juror (cleared first) ticks what `observed` says, once per criterion in the
        first grid holding its competency, then declares every grid complete."""
        jurors = list(jurors) if jurors is not None else self.jurors
        self.clear(candidate, jurors)
        plan = self.plan(candidate)
        for juror in jurors:
            for competency in plan.competencies:
                modality = self.modalities_of(candidate, competency)[0]
                for criterion in competency.criteria:
                    if observed(juror, competency.code, criterion.position):
                        self.applied(
                            juror,
                            "mark",
                            candidate,
                            modality=modality,
                            criterion_id=criterion.id,
                            observed=True,
                        )
            if complete:
                for modality in plan.grids:
                    self.applied(juror, "grid", candidate, modality=modality, completed=True)

    # ------------------------------------------------------------------ deliberation

    def open(self, *, acknowledge: bool = False):
        return delib_ops.open_deliberation(chair=self.chair, acknowledge=acknowledge)

    def board(self, candidate: Candidate, member: JuryMember | None = None):
        return delib_queries.candidate_board(member or self.chair, candidate.id)

    def decide_competencies(self, candidate: Candidate) -> None:
        """Competency decisions that follow the suggestions (reasons where the rules ask)."""
        for item in self.board(candidate).competencies:
            negative = item.result.suggestion == CompetencySuggestion.EVIDENT_NOT_MASTERED
            delib_ops.record_competency_decision(
                chair=self.chair,
                candidate_id=candidate.id,
                competency_id=item.competency.id,
                outcome="not_mastered" if negative else "mastered",
                reason=REASON if negative else "",
            )

    def decide_ccps(self, candidate: Candidate) -> None:
        for ccp, result, _decision in self.board(candidate).ccps:
            outcome = {"pending": "acquired"}.get(result.suggestion.value, result.suggestion.value)
            delib_ops.record_ccp_decision(
                chair=self.chair,
                candidate_id=candidate.id,
                ccp_id=ccp.id,
                outcome=outcome,
                reason=REASON if outcome == "not_acquired" else "",
            )

    def decide_title(self, candidate: Candidate) -> None:
        board = self.board(candidate)
        if board.title is None:
            return
        result, _decision = board.title
        outcome = "not_obtained" if result.suggestion.value == "not_obtained" else "obtained"
        delib_ops.record_title_decision(
            chair=self.chair,
            candidate_id=candidate.id,
            outcome=outcome,
            reason=REASON if outcome == "not_obtained" else "",
        )

    def record_present(self, candidate: Candidate) -> None:
        if candidate.presence == Presence.EXPECTED:
            delib_ops.record_presence(
                chair=self.chair, candidate_id=candidate.id, presence="present", note=""
            )

    def decide_everything(self) -> None:
        for candidate in self.candidates:
            self.record_present(candidate)
            self.decide_competencies(candidate)
            self.decide_ccps(candidate)
            self.decide_title(candidate)

    def sign_all(self) -> None:
        for juror in self.jurors:
            if juror.present:
                delib_ops.sign(member=juror, user_agent="pytest")


def make_jury(
    certification, *, format_code: str = "TITLE", jurors: int = 2, candidates: int = 1
) -> Jury:
    session = make_session(certification, format_code=format_code, jurors=jurors, candidates=0)
    for _ in range(candidates):
        add_candidate(session, route=Route.TRAINING)
    db.session.flush()
    db.session.refresh(session)
    return Jury(session)


@pytest.fixture
def in_request(app, db):
    """Operations run inside a request (their French messages pick the visitor's language)."""
    with app.test_request_context("/jury/deliberation/", method="POST"):
        yield


@pytest.fixture
def ccp1_jury(ntc, db) -> Jury:
    """A CCP1 session (4 competencies), a chair and a member, one training candidate."""
    return make_jury(ntc, format_code="CCP1", candidates=1)


@pytest.fixture
def scored(ccp1_jury, in_request) -> Jury:
    """The CCP1 jury with every grid completed by both jurors, every criterion observed."""
    ccp1_jury.score(ccp1_jury.candidates[0])
    return ccp1_jury


@pytest.fixture
def sign_in(app, db):
    """sign_in(member) → a test client signed in as that juror (link + PIN)."""
    from tests.auth import fresh_client
    from tests.factories import issue_access, sign_in_juror

    def signed_in(member: JuryMember):
        issued = issue_access(member)
        db.session.commit()
        client = fresh_client(app)
        response = sign_in_juror(client, issued)
        assert response.status_code == 302, response.status_code
        return client

    return signed_in
