"""Session pages as staff: create, edit, change state; French errors with 422; ids checked."""

from __future__ import annotations

import datetime as dt
import html

from ntc_jury.core.vocabulary import SessionState
from ntc_jury.models import ExamSession, SessionFormat
from tests.centre.conftest import audit_actions, count
from tests.factories import make_session


def _format_id(db, ntc, code):
    return db.session.execute(
        db.select(SessionFormat.id).filter_by(certification_id=ntc.id, code=code)
    ).scalar_one()


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_sessions_list_links_to_each_session(staff_client, exam):
    page = text(staff_client.get("/centre/"))
    assert f'id="session-{exam.id}"' in page
    assert "Nouvelle session" in page


def test_create_session(staff_client, db, ntc, staff):
    form = staff_client.get("/centre/sessions/nouvelle")
    assert form.status_code == 200
    assert "TP-00338 v07 — Titre professionnel complet" in text(form)
    response = staff_client.post(
        "/centre/sessions/nouvelle",
        data={
            "format_id": _format_id(db, ntc, "CCP2"),
            "centre": "Centre de Lyon",
            "site": "Part-Dieu",
            "rooms": "Salle 1, Salle 2",
            "starts_on": "2026-04-02",
            "ends_on": "03/04/2026",  # typed the French way
            "ceres_number": "C-77",
            "manager_id": staff.id,
            "manager_name": "",
        },
    )
    assert response.status_code == 303
    made = db.session.execute(db.select(ExamSession)).scalar_one()
    assert response.headers["Location"] == f"/centre/sessions/{made.id}"
    assert (made.format.code, made.ends_on, made.manager_name) == (
        "CCP2",
        dt.date(2026, 4, 3),
        staff.name,
    )
    assert audit_actions(db, made.id) == ["session_created"]
    detail = text(staff_client.get(response.headers["Location"]))
    assert "Session créée" in detail and "Centre de Lyon" in detail


def test_invalid_session_form_keeps_what_was_typed(staff_client, db, ntc):
    response = staff_client.post(
        "/centre/sessions/nouvelle",
        data={
            "format_id": "not-a-number",
            "centre": "Centre gardé",
            "starts_on": "2026-05-10",
            "ends_on": "2026-05-01",
            "ceres_number": "CERES-TAPÉ",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert "Choisissez un type de session de la liste." in page
    assert "Le dernier jour précède le premier jour." in page
    assert 'value="Centre gardé"' in page and 'value="CERES-TAPÉ"' in page
    assert count(db, ExamSession) == 0


def test_edit_session(staff_client, db, ntc, exam):
    page = staff_client.get(f"/centre/sessions/{exam.id}/modifier")
    assert page.status_code == 200 and exam.ceres_number in text(page)
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/modifier",
        data={
            "format_id": _format_id(db, ntc, "TITLE"),
            "centre": "Nouveau centre",
            "starts_on": exam.starts_on.isoformat(),
            "ends_on": (exam.starts_on + dt.timedelta(days=1)).isoformat(),
            "ceres_number": "NEW-1",
            "manager_id": 0,
            "manager_name": "Claire Martin",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    stored = db.session.get(ExamSession, exam.id)
    assert (stored.centre, stored.ceres_number, stored.manager_name) == (
        "Nouveau centre",
        "NEW-1",
        "Claire Martin",
    )
    assert audit_actions(db, exam.id)[-1] == "session_updated"


def test_state_buttons_show_only_the_allowed_moves(staff_client, db, exam):
    page = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert 'value="in_progress"' in page
    assert 'value="closed"' not in page and 'value="archived"' not in page
    response = staff_client.post(f"/centre/sessions/{exam.id}/etat", data={"target": "in_progress"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ExamSession, exam.id).state == SessionState.IN_PROGRESS
    page = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert 'value="planned"' in page and 'value="in_progress"' not in page


def test_refused_transition_is_explained_in_french(staff_client, db, exam):
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/etat", data={"target": "archived"}, follow_redirects=True
    )
    assert "Une session « Planifiée » ne peut pas passer à « Archivée »." in text(response)
    db.session.expire_all()
    assert db.session.get(ExamSession, exam.id).state == SessionState.PLANNED
    garbage = staff_client.post(
        f"/centre/sessions/{exam.id}/etat", data={"target": "nowhere"}, follow_redirects=True
    )
    assert "Choisissez le nouvel état." in text(garbage)
    assert audit_actions(db, exam.id).count("session_state_changed") == 0


def test_starting_without_a_jury_is_refused(staff_client, db, ntc):
    bare = make_session(ntc, jurors=1, candidates=1)
    db.session.commit()
    response = staff_client.post(
        f"/centre/sessions/{bare.id}/etat", data={"target": "in_progress"}, follow_redirects=True
    )
    assert "La session ne peut pas démarrer : Le jury doit compter au moins 2 membres." in text(
        response
    )


def test_unknown_session_is_404(staff_client, exam):
    assert staff_client.get(f"/centre/sessions/{exam.id + 999}").status_code == 404
    assert staff_client.get(f"/centre/sessions/{exam.id + 999}/modifier").status_code == 404
    assert staff_client.post(f"/centre/sessions/{exam.id + 999}/etat").status_code == 404


def test_anonymous_and_juror_are_refused(client, db, exam):
    from tests.factories import issue_access, sign_in_juror

    assert client.get("/centre/sessions/nouvelle").status_code == 302
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    sign_in_juror(client, issued)
    assert client.get(f"/centre/sessions/{exam.id}").status_code == 403
    assert (
        client.post(f"/centre/sessions/{exam.id}/etat", data={"target": "in_progress"}).status_code
        == 403
    )
