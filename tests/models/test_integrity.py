"""Integrity lives in the database, not only in Python: each constraint refuses bad rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from ntc_jury.core.vocabulary import JuryRole, OperationStatus
from ntc_jury.models import (
    AppliedOperation,
    ConflictDeclaration,
    Criterion,
    ExamSession,
    JuryMember,
    Mark,
    Modality,
    Observation,
    Phase,
    utcnow,
)
from tests.factories import make_session


@pytest.fixture
def scene(ntc, db):
    session = make_session(ntc, jurors=2, candidates=1)
    criterion = db.session.execute(select(Criterion).limit(1)).scalar_one()
    msp = db.session.execute(
        select(Modality).where(Modality.certification_id == ntc.id, Modality.code == "MSP")
    ).scalar_one()
    db.session.commit()  # the refusals below roll back; the scene must survive them
    return session, session.jury_members[0], session.candidates[0], criterion, msp


def _refused(db, *rows):
    db.session.add_all(rows)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_one_mark_per_juror_candidate_criterion_and_modality(db, scene):
    _, juror, candidate, criterion, msp = scene
    fields = dict(
        jury_member_id=juror.id,
        candidate_id=candidate.id,
        criterion_id=criterion.id,
        modality_id=msp.id,
        observed=True,
    )
    db.session.add(Mark(**fields))
    db.session.flush()
    _refused(db, Mark(**fields))


def test_a_mark_must_point_at_a_real_candidate(db, scene):
    _, juror, _, criterion, msp = scene
    _refused(
        db,
        Mark(
            jury_member_id=juror.id,
            candidate_id=999_999,
            criterion_id=criterion.id,
            modality_id=msp.id,
            observed=True,
        ),
    )


def test_only_one_chair_per_session(db, scene):
    session, *_ = scene
    assert session.jury_members[0].role == JuryRole.CHAIR
    _refused(
        db,
        JuryMember(
            session_id=session.id,
            first_name="A",
            last_name="B",
            email="second@x.org",
            role=JuryRole.CHAIR,
        ),
    )


def test_an_observation_has_exactly_one_subject(db, scene):
    _, juror, candidate, _, _ = scene
    phase = db.session.execute(select(Phase).limit(1)).scalar_one()
    _refused(db, Observation(jury_member_id=juror.id, candidate_id=candidate.id, text="x"))
    _refused(
        db,
        Observation(
            jury_member_id=juror.id,
            candidate_id=candidate.id,
            phase_id=phase.id,
            competency_id=phase.competency_links[0].competency_id if phase.competency_links else 1,
            text="x",
        ),
    )
    db.session.add(
        Observation(
            jury_member_id=juror.id, candidate_id=candidate.id, phase_id=phase.id, text="ok"
        )
    )
    db.session.flush()
    _refused(
        db,
        Observation(
            jury_member_id=juror.id, candidate_id=candidate.id, phase_id=phase.id, text="twice"
        ),
    )


def test_an_operation_id_is_applied_once(db, scene):
    _, juror, *_ = scene
    fields = dict(
        op_id="8d6c2f8e-1111-4222-8333-944455556666",
        jury_member_id=juror.id,
        kind="mark",
        payload={},
        status=OperationStatus.APPLIED,
    )
    db.session.add(AppliedOperation(**fields))
    db.session.flush()
    _refused(db, AppliedOperation(**fields))


def test_a_declared_conflict_needs_a_reason(db, scene):
    _, juror, candidate, _, _ = scene
    _refused(
        db,
        ConflictDeclaration(
            jury_member_id=juror.id, candidate_id=candidate.id, has_conflict=True, reason=""
        ),
    )


def test_enum_columns_refuse_unknown_values(db, scene):
    session, *_ = scene
    with pytest.raises(StatementError):
        db.session.execute(
            ExamSession.__table__.update().where(ExamSession.id == session.id).values(state="lost")
        )
    db.session.rollback()


def test_session_end_cannot_precede_its_start(db, scene):
    session, *_ = scene
    session.ends_on = session.starts_on - dt.timedelta(days=1)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_times_are_stored_in_utc_and_come_back_aware(db, scene):
    _, juror, *_ = scene
    paris = dt.timezone(dt.timedelta(hours=1))
    juror.last_seen_at = dt.datetime(2026, 11, 26, 10, 0, tzinfo=paris)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(JuryMember, juror.id).last_seen_at
    assert stored == dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    assert stored.tzinfo is not None
    juror.last_seen_at = dt.datetime(2026, 11, 26, 10, 0)  # naive: refused
    with pytest.raises(StatementError):
        db.session.flush()
    db.session.rollback()
    assert utcnow().tzinfo is dt.UTC
