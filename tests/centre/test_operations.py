"""Centre writes: sessions and their life cycle, jury members, candidates; each one audited."""

from __future__ import annotations

import datetime as dt

import pytest

from ntc_jury.centre import operations as ops
from ntc_jury.centre.rules import CentreError
from ntc_jury.core.vocabulary import JuryRole, Route, SessionState
from ntc_jury.models import ExamSession, HeldCcp, JuryMember, SessionFormat
from tests.centre.conftest import audit_actions, count
from tests.factories import add_candidate, make_session


def _format(db, ntc, code):
    return db.session.execute(
        db.select(SessionFormat).filter_by(certification_id=ntc.id, code=code)
    ).scalar_one()


def test_create_session_records_everything_and_audits(db, ntc, staff):
    made = ops.create_session(
        certification=ntc,
        format_code="CCP1",
        centre=" Centre AFPA ",
        starts_on=dt.date(2026, 3, 10),
        ends_on=dt.date(2026, 3, 11),
        site="Lyon",
        rooms="Salle 1, Salle 2",
        ceres_number="2026-0042",
        manager=staff,
        actor=staff,
    )
    db.session.commit()
    stored = db.session.get(ExamSession, made.id)
    assert (stored.format.code, stored.centre, stored.ends_on) == (
        "CCP1",
        "Centre AFPA",
        dt.date(2026, 3, 11),
    )
    assert stored.manager_id == staff.id and stored.manager_name == staff.name
    assert stored.state == SessionState.PLANNED
    assert audit_actions(db, made.id) == ["session_created"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"format_code": "CCP9"}, "Type de session inconnu"),
        ({"ends_on": dt.date(2026, 3, 9)}, "La date de fin précède"),
    ],
)
def test_create_session_refusals(db, ntc, fields, message):
    values = {"format_code": "TITLE", "centre": "C", "starts_on": dt.date(2026, 3, 10)} | fields
    with pytest.raises(CentreError, match=message):
        ops.create_session(certification=ntc, **values)
    assert count(db, ExamSession) == 0


def test_update_session_changes_format_and_drops_the_timetable(db, ntc, exam):
    from ntc_jury.centre.schedule_operations import DayPlan, generate_schedule
    from ntc_jury.models import ScheduleSlot

    generate_schedule(session=exam, plan=DayPlan(dt.time(8), dt.time(20)))
    assert count(db, ScheduleSlot) > 0
    ops.update_session(
        session=exam,
        format=_format(db, ntc, "CCP2"),
        centre="Autre centre",
        starts_on=exam.starts_on,
        ends_on=None,
        ceres_number="X-1",
    )
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(ExamSession, exam.id)
    assert stored.format.code == "CCP2" and stored.centre == "Autre centre"
    assert count(db, ScheduleSlot) == 0
    events = audit_actions(db, exam.id)
    assert events[-1] == "session_updated"


def test_update_session_refuses_format_change_once_started(db, ntc, exam):
    ops.change_state(session=exam, target=SessionState.IN_PROGRESS)
    with pytest.raises(CentreError, match="tant que la session est planifiée"):
        ops.update_session(
            session=exam,
            format=_format(db, ntc, "CCP1"),
            centre="C",
            starts_on=exam.starts_on,
            ends_on=None,
        )


@pytest.mark.parametrize(
    ("path", "target", "allowed"),
    [
        ([], SessionState.IN_PROGRESS, True),
        ([], SessionState.CLOSED, False),
        ([], SessionState.ARCHIVED, False),
        ([], SessionState.PLANNED, False),
        ([SessionState.IN_PROGRESS], SessionState.PLANNED, True),
        ([SessionState.IN_PROGRESS], SessionState.DELIBERATION, False),  # the chair opens it
        ([SessionState.IN_PROGRESS], SessionState.ARCHIVED, False),
    ],
)
def test_state_machine(db, exam, path, target, allowed):
    for step in path:
        ops.change_state(session=exam, target=step)
    before = exam.state
    if allowed:
        ops.change_state(session=exam, target=target)
        assert exam.state == target
        assert audit_actions(db, exam.id)[-1] == "session_state_changed"
    else:
        with pytest.raises(CentreError) as refused:
            ops.change_state(session=exam, target=target)
        assert exam.state == before
        assert any(word in str(refused.value) for word in ("session", "délibération", "close"))


def test_closed_session_can_be_archived_but_not_reopened_by_staff(db, exam):
    exam.state = SessionState.CLOSED
    with pytest.raises(CentreError, match="président du jury"):
        ops.change_state(session=exam, target=SessionState.DELIBERATION)
    ops.change_state(session=exam, target=SessionState.ARCHIVED)
    assert exam.state == SessionState.ARCHIVED
    with pytest.raises(CentreError, match="ne peut pas passer"):
        ops.change_state(session=exam, target=SessionState.CLOSED)


def test_a_session_cannot_start_without_a_full_jury_and_candidates(db, ntc):
    bare = make_session(ntc, jurors=1, candidates=0)
    with pytest.raises(CentreError) as refused:
        ops.change_state(session=bare, target=SessionState.IN_PROGRESS)
    message = str(refused.value)
    assert "au moins 2 membres" in message and "au moins un candidat" in message
    assert bare.state == SessionState.PLANNED


def test_jury_member_update_and_chair(db, exam):
    chair, member = exam.jury_members
    ops.update_jury_member(
        member=member,
        first_name="Anne",
        last_name="Durand",
        email=" ANNE@example.org ",
        habilitation_number="HAB-1",
        habilitation_valid_until=dt.date(2030, 1, 1),
    )
    ops.set_chair(session=exam, member=member)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(JuryMember, member.id)
    assert (stored.email, stored.habilitation_number, stored.role) == (
        "anne@example.org",
        "HAB-1",
        JuryRole.CHAIR,
    )
    assert db.session.get(JuryMember, chair.id).role == JuryRole.MEMBER
    assert audit_actions(db, exam.id)[-2:] == ["jury_member_updated", "chair_changed"]


def test_jury_member_email_stays_unique(db, exam):
    chair, member = exam.jury_members
    with pytest.raises(CentreError, match="fait déjà partie"):
        ops.update_jury_member(member=member, first_name="A", last_name="B", email=chair.email)


def test_jury_is_frozen_once_deliberating(db, exam):
    exam.state = SessionState.DELIBERATION
    with pytest.raises(CentreError, match="ne peuvent plus être modifiés"):
        ops.add_jury_member(session=exam, first_name="A", last_name="B", email="a@example.org")
    with pytest.raises(CentreError):
        add_candidate(exam)


def test_candidate_duplicates_by_number_or_person(db, exam):
    first = exam.candidates[0]
    with pytest.raises(CentreError, match="existe déjà"):
        add_candidate(exam, candidate_number=first.candidate_number.lower())
    with pytest.raises(CentreError, match="déjà inscrit"):
        add_candidate(
            exam,
            last_name=first.last_name.upper(),
            first_name="prénom",  # accents and case do not make another person
            birth_date=first.birth_date,
        )


def test_update_candidate_eligibility_and_held_ccps(db, exam):
    candidate = exam.candidates[0]
    ops.update_candidate(
        candidate=candidate,
        candidate_number="N-1",
        last_name="Martin",
        first_name="Léa",
        route=Route.CAPITALISATION,
        birth_date=dt.date(1995, 5, 4),
        held_ccp_codes=("CCP1",),
        dossier_received=True,
        production_pages=35,
        ecf_passed=False,
    )
    db.session.commit()
    db.session.expire_all()
    assert [h.ccp.code for h in db.session.execute(db.select(HeldCcp)).scalars()] == ["CCP1"]
    ops.update_candidate(
        candidate=candidate,
        candidate_number="N-1",
        last_name="Martin",
        first_name="Léa",
        route=Route.CAPITALISATION,
        birth_date=dt.date(1995, 5, 4),
        held_ccp_codes=(),
    )
    db.session.commit()
    assert count(db, HeldCcp) == 0
    assert audit_actions(db, exam.id)[-2:] == ["candidate_updated", "candidate_updated"]


def test_a_ccp_session_refuses_its_own_ccp_as_held(db, ntc):
    ccp1 = make_session(ntc, format_code="CCP1", candidates=0)
    with pytest.raises(CentreError, match="CCP de cette session"):
        add_candidate(ccp1, route=Route.CAPITALISATION, held_ccp_codes=("CCP1",))
