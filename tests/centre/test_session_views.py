"""Session pages as staff: create, edit, change state; French errors with 422; ids checked."""

from __future__ import annotations

import datetime as dt
import html

from ntc_jury.core.vocabulary import Route, SessionState
from ntc_jury.models import Candidate, ExamSession, SessionFormat, utcnow
from ntc_jury.referential.loader import load_referential
from tests.centre.conftest import audit_actions, count
from tests.factories import add_candidate, issue_access, make_session
from tests.referential import ntc_data


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


def _session_data(db, ntc, exam, code, **changes) -> dict:
    return {
        "format_id": _format_id(db, ntc, code),
        "centre": "Centre retapé",
        "starts_on": exam.starts_on.isoformat(),
        "ends_on": exam.ends_on.isoformat(),
        "ceres_number": "CERES-GARDÉ",
        "manager_id": 0,
        "manager_name": "",
    } | changes


def _held(db, candidate_id) -> list[tuple[str, str]]:
    db.session.expire_all()
    candidate = db.session.get(Candidate, candidate_id)
    return [(h.ccp.code, h.ccp.certification.version) for h in candidate.held_ccps]


def test_format_change_refused_when_a_candidate_holds_the_new_sessions_ccp(
    staff_client, db, ntc, exam
):
    holder = add_candidate(exam, route=Route.CAPITALISATION, held_ccp_codes=("CCP1",))
    db.session.commit()
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/modifier", data=_session_data(db, ntc, exam, "CCP1")
    )
    assert response.status_code == 422
    page = text(response)
    assert "CCP1 est le CCP de cette session : il ne peut pas être déjà acquis" in page
    assert holder.full_name in page
    assert 'value="Centre retapé"' in page and 'value="CERES-GARDÉ"' in page
    db.session.expire_all()
    stored = db.session.get(ExamSession, exam.id)
    assert (stored.format.code, stored.centre) == ("TITLE", "Centre de test")
    assert _held(db, holder.id) == [("CCP1", "07")]
    assert audit_actions(db, exam.id)[-1] != "session_updated"

    # The other CCP session fits: the held CCP1 stays.
    accepted = staff_client.post(
        f"/centre/sessions/{exam.id}/modifier", data=_session_data(db, ntc, exam, "CCP2")
    )
    assert accepted.status_code == 303
    assert db.session.get(ExamSession, exam.id).format.code == "CCP2"
    assert _held(db, holder.id) == [("CCP1", "07")]


def test_format_change_to_another_referential_version_keeps_or_refuses_held_ccps(
    staff_client, db, ntc, exam
):
    holder = add_candidate(exam, route=Route.CAPITALISATION, held_ccp_codes=("CCP2",))
    db.session.commit()
    data = ntc_data()
    data["version"] = "08"
    v08 = load_referential(data)
    db.session.commit()
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/modifier", data=_session_data(db, v08, exam, "CCP1")
    )
    assert response.status_code == 303
    # The held CCP is now the new version's CCP2, so the candidate form keeps it.
    assert _held(db, holder.id) == [("CCP2", "08")]

    data = ntc_data()
    data["version"] = "09"
    renamed = load_referential(_rename_ccp(data, "CCP2", "CCPB"))
    db.session.commit()
    refused = staff_client.post(
        f"/centre/sessions/{exam.id}/modifier", data=_session_data(db, renamed, exam, "TITLE")
    )
    assert refused.status_code == 422
    assert "CCP2 n'existe pas dans ce référentiel" in text(refused)
    assert holder.full_name in text(refused)
    assert _held(db, holder.id) == [("CCP2", "08")]


def _rename_ccp(data: dict, old: str, new: str) -> dict:
    """The same referential with one CCP code changed everywhere it is named."""

    def walk(value):
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return new if value == old else value

    return walk(data)


def _lock(db, exam, state=SessionState.CLOSED):
    exam.locked_at = utcnow()
    exam.state = state
    db.session.commit()


def test_locked_session_page_offers_only_what_still_works(staff_client, db, exam):
    member, candidate = exam.jury_members[1], exam.candidates[0]
    issue_access(member)
    open_page = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    edit_urls = [
        f"/centre/sessions/{exam.id}/modifier",
        f"/centre/sessions/{exam.id}/jury/nouveau",
        f"/centre/sessions/{exam.id}/jury/{member.id}/modifier",
        f"/centre/sessions/{exam.id}/jury/{member.id}/president",
        f"/centre/sessions/{exam.id}/jury/{member.id}/acces",
        f"/centre/sessions/{exam.id}/cartes",
        f"/centre/sessions/{exam.id}/candidats/nouveau",
        f"/centre/sessions/{exam.id}/candidats/import",
        f"/centre/sessions/{exam.id}/candidats/{candidate.id}/modifier",
    ]
    assert all(url in open_page for url in edit_urls)
    assert 'id="not-editable"' not in open_page

    _lock(db, exam)
    page = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert [url for url in edit_urls if url in page] == []
    assert f"/centre/sessions/{exam.id}/jury/{member.id}/revoquer" in page
    assert "Seul le président du jury peut rouvrir la délibération" in page
    assert 'id="not-editable"' in page
    assert "Archiver" in page  # the one state move staff still make

    exam.state = SessionState.ARCHIVED
    db.session.commit()
    archived = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert "La session est archivée : plus rien ne peut y être modifié." in archived
    assert [url for url in edit_urls if url in archived] == []


def test_edit_forms_of_a_locked_session_say_why_instead_of_a_form(staff_client, db, exam):
    member, candidate = exam.jury_members[1], exam.candidates[0]
    _lock(db, exam)
    for url in (
        f"/centre/sessions/{exam.id}/modifier",
        f"/centre/sessions/{exam.id}/jury/nouveau",
        f"/centre/sessions/{exam.id}/jury/{member.id}/modifier",
        f"/centre/sessions/{exam.id}/candidats/nouveau",
        f"/centre/sessions/{exam.id}/candidats/import",
        f"/centre/sessions/{exam.id}/candidats/{candidate.id}/modifier",
        f"/centre/sessions/{exam.id}/planning/candidats/{candidate.id}",
    ):
        response = staff_client.get(url)
        page = text(response)
        assert response.status_code == 409, url
        assert "La session est verrouillée" in page, url
        content = page.split("<main")[1].split("</main>")[0]
        assert "<form" not in content and "<input" not in content, url


def test_deliberation_keeps_session_details_editable_but_not_the_jury(staff_client, db, exam):
    exam.state = SessionState.DELIBERATION
    db.session.commit()
    page = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert f"/centre/sessions/{exam.id}/modifier" in page
    assert f"/centre/sessions/{exam.id}/jury/nouveau" not in page
    assert "La délibération est commencée" in page
    assert staff_client.get(f"/centre/sessions/{exam.id}/modifier").status_code == 200
    assert staff_client.get(f"/centre/sessions/{exam.id}/jury/nouveau").status_code == 409


def test_a_wrong_session_date_says_the_format_to_use(staff_client, db, ntc):
    response = staff_client.post(
        "/centre/sessions/nouvelle",
        data={
            "format_id": _format_id(db, ntc, "TITLE"),
            "centre": "Centre gardé",
            "starts_on": "31/02/2026",
            "ends_on": "demain",
        },
    )
    assert response.status_code == 422
    page = text(response)
    message = "Date invalide : saisissez-la au format jj/mm/aaaa (par exemple 14/03/2026)."
    assert page.count(message) == 2
    assert "N'est pas une date valide" not in page
    assert 'value="Centre gardé"' in page and 'value="demain"' in page
    assert count(db, ExamSession) == 0
