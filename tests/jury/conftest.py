"""A scoring scene: an NTC session, its jurors and candidates, and shortcuts to operate on it.

Operations go through `apply_operation`, the app's single write path; the referential's ids
(criteria, competencies, phases) are looked up by their RE codes, never hard-coded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from ntc_jury.core.referential import CompetencyDef, PhaseDef, ReferentialDef
from ntc_jury.jury import operations
from ntc_jury.models import Candidate, ExamSession, JuryMember
from ntc_jury.referential.queries import referential
from tests.factories import make_session


def new_op() -> str:
    return str(uuid.uuid4())


def count(db, model, **filters) -> int:
    return db.session.execute(
        select(func.count()).select_from(model).filter_by(**filters)
    ).scalar_one()


@dataclass
class Scene:
    session: ExamSession
    juror: JuryMember  # the juror whose writes the tests make (not the chair)
    other: JuryMember  # another juror of the same session (the chair)
    candidate: Candidate

    @property
    def ref(self) -> ReferentialDef:
        return referential(self.session.certification_id)

    def competency(self, code: str) -> CompetencyDef:
        return next(c for c in self.ref.competencies if c.code == code)

    def criterion(self, competency_code: str, position: int = 1) -> int:
        """The id of a criterion by its competency's code and its 1-based position."""
        return self.competency(competency_code).criteria[position - 1].id

    def phase(self, code: str, session: ExamSession | None = None) -> PhaseDef:
        fmt = self.ref.format((session or self.session).format_id)
        return next(p for p in fmt.phases if p.code == code)

    def transversal(self, code: str) -> int:
        return next(t.id for t in self.ref.transversals if t.code == code)

    def op(self, kind: str, *, member=None, candidate=None, op_id=None, **payload):
        """Apply one operation (the caller's juror by default) and return its outcome."""
        payload.setdefault("candidate_id", (candidate or self.candidate).id)
        return operations.apply_operation(
            member=member or self.juror, op_id=op_id or new_op(), kind=kind, payload=payload
        )

    def clear(self, *, member=None, candidate=None):
        """The juror confirms "aucun lien avec ce candidat"."""
        outcome = self.op("conflict", member=member, candidate=candidate, has_conflict=False)
        assert outcome.status == "applied", outcome.message
        return outcome

    def tick(self, criterion_id: int, *, modality: str = "MSP", observed: bool = True, **kw):
        return self.op(
            "mark", modality=modality, criterion_id=criterion_id, observed=observed, **kw
        )


@pytest.fixture
def scene(ntc, db) -> Scene:
    """A TITLE session with two jurors and two candidates, committed."""
    session = make_session(ntc, jurors=2, candidates=2)
    db.session.commit()
    return Scene(
        session=session,
        juror=session.jury_members[1],
        other=session.jury_members[0],
        candidate=session.candidates[0],
    )


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
