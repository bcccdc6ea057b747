"""Removing a candidate or a juror added by mistake, and only while nothing is recorded."""

from __future__ import annotations

import html
import uuid

from sqlalchemy import select

from ntc_jury.core.vocabulary import Presence, Route, SessionState
from ntc_jury.models import (
    AppliedOperation,
    AuditEvent,
    Candidate,
    ConflictDeclaration,
    HeldCcp,
    JuryMember,
)
from tests.centre.conftest import audit_actions, count
from tests.factories import add_candidate


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def removed_event(db, action: str) -> AuditEvent:
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalar_one()


def test_a_candidate_added_by_mistake_is_removed_with_an_audit_trace(staff_client, db, exam, ntc):
    candidate = add_candidate(exam, route=Route.CAPITALISATION, held_ccp_codes=["CCP1"])
    db.session.commit()
    candidate_id, name = candidate.id, candidate.full_name
    page = text(staff_client.get(f"/centre/sessions/{exam.id}/candidats/{candidate_id}/modifier"))
    assert "Retirer ce candidat de la session" in page

    response = staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/{candidate_id}/retirer", follow_redirects=True
    )

    assert f"Candidat retiré de la session : {name}." in text(response)
    db.session.expire_all()
    assert db.session.get(Candidate, candidate_id) is None
    assert count(db, HeldCcp, candidate_id=candidate_id) == 0
    event = removed_event(db, "candidate_removed")
    assert event.before["candidate_number"] == candidate.candidate_number
    assert event.before["held_ccps"] == ["CCP1"]
    assert audit_actions(db, exam.id)[-1] == "candidate_removed"


def test_a_candidate_someone_evaluated_or_recorded_stays(staff_client, db, exam):
    [scored, absent] = exam.candidates
    juror = exam.jury_members[1]
    db.session.add(
        ConflictDeclaration(jury_member_id=juror.id, candidate_id=scored.id, has_conflict=False)
    )
    absent.presence, absent.presence_note = Presence.ABSENT, "Non venu."
    db.session.commit()

    for candidate in (scored, absent):
        url = f"/centre/sessions/{exam.id}/candidats/{candidate.id}"
        page = text(staff_client.get(f"{url}/modifier"))
        assert "Ce candidat ne peut plus être retiré" in page
        assert "Retirer ce candidat de la session" not in page

        response = staff_client.post(f"{url}/retirer", follow_redirects=True)

        assert "Indiquez-le absent ou en abandon" in text(response)
    db.session.expire_all()
    assert count(db, Candidate, session_id=exam.id) == 2
    assert "candidate_removed" not in audit_actions(db, exam.id)


def test_a_juror_added_by_mistake_is_removed_and_their_link_dies(staff_client, db, exam, app):
    member = exam.jury_members[1]
    member_id = member.id

    response = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/{member_id}/retirer", follow_redirects=True
    )

    assert f"Membre retiré du jury : {member.full_name}." in text(response)
    db.session.expire_all()
    assert db.session.get(JuryMember, member_id) is None
    event = removed_event(db, "jury_member_removed")
    assert event.before["email"] == member.email
    assert "pin_hash" not in event.before and "access_token_sha256" not in event.before


def test_the_chair_and_a_juror_who_recorded_something_stay(staff_client, db, exam):
    chair, member = exam.jury_members
    db.session.add(
        AppliedOperation(
            op_id=str(uuid.uuid4()),
            jury_member_id=member.id,
            kind="conflict",
            payload={},
            status="applied",
            result={},
            client_time="",
        )
    )
    db.session.commit()

    refused_chair = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/{chair.id}/retirer", follow_redirects=True
    )
    refused_member = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/{member.id}/retirer", follow_redirects=True
    )

    assert "nommez d'abord un autre président" in text(refused_chair)
    assert "il a déjà enregistré des saisies" in text(refused_member)
    assert count(db, JuryMember, session_id=exam.id) == 2


def test_nothing_is_removed_once_the_session_is_under_way(staff_client, db, exam):
    candidate = exam.candidates[0]
    exam.state = SessionState.DELIBERATION
    db.session.commit()

    response = staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/{candidate.id}/retirer", follow_redirects=True
    )

    assert "ne peuvent plus être modifiés" in text(response)
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id) is not None
