"""Candidate pages as staff: add, edit with the eligibility checklist, ids checked."""

from __future__ import annotations

import html

from ntc_jury.core.vocabulary import Presence, Route
from ntc_jury.models import Candidate, HeldCcp
from tests.centre.conftest import audit_actions, count
from tests.factories import make_session


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def candidate_data(**changes) -> dict:
    return {
        "candidate_number": "2026-010",
        "last_name": "Moreau",
        "first_name": "Julie",
        "birth_date": "1994-03-12",
        "route": "formation",
        "company_context": "Contexte A",
        "disability_arrangements": "Tiers temps",
        "company_hours": "364",
        "company_proof_received": "y",
        "dossier_received": "y",
        "production_received": "y",
        "production_pages": "35",
        "production_slides": "30",
        "ecf": "yes",
    } | changes


def test_add_candidate(staff_client, db, exam):
    page = staff_client.get(f"/centre/sessions/{exam.id}/candidats/nouveau")
    assert page.status_code == 200 and "CCP déjà acquis" in text(page)
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/nouveau",
        data=candidate_data(route="capitalisation", held_ccps=["CCP1"]),
    )
    assert response.status_code == 303
    added = db.session.execute(
        db.select(Candidate).filter_by(candidate_number="2026-010")
    ).scalar_one()
    assert added.route == Route.CAPITALISATION and added.ecf_passed is True
    assert added.company_hours == 364 and added.disability_arrangements == "Tiers temps"
    assert [h.ccp.code for h in added.held_ccps] == ["CCP1"]
    assert added.schedule_position == 2  # after the two candidates already there
    assert audit_actions(db, exam.id)[-1] == "candidate_added"


def test_invalid_candidate_is_422_in_french(staff_client, db, exam):
    before = count(db, Candidate)
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/nouveau",
        data=candidate_data(
            birth_date="31/02/1990",
            company_hours="-3",
            route="stage",
            held_ccps=["CCP9"],
            company_context="Contexte gardé",
        ),
    )
    assert response.status_code == 422
    page = text(response)
    assert "Nombre d'heures invalide." in page
    assert "Choisissez formation, VAE ou capitalisation." in page
    assert "CCP inconnu : CCP9." in page
    assert 'value="Contexte gardé"' in page
    assert count(db, Candidate) == before


def test_duplicate_candidate_is_refused(staff_client, db, exam):
    first = exam.candidates[0]
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/nouveau",
        data=candidate_data(candidate_number=first.candidate_number),
    )
    assert response.status_code == 422
    assert "existe déjà dans cette session" in text(response)


def test_edit_candidate_updates_the_checklist(staff_client, db, exam):
    candidate = exam.candidates[0]
    url = f"/centre/sessions/{exam.id}/candidats/{candidate.id}/modifier"
    page = text(staff_client.get(url))
    assert 'id="check-dossier"' in page and "Manque : Dossier professionnel reçu" in page
    response = staff_client.post(url, data=candidate_data(production_pages="40", ecf=""))
    assert response.status_code == 303
    db.session.expire_all()
    stored = db.session.get(Candidate, candidate.id)
    assert stored.dossier_received and stored.production_pages == 40 and stored.ecf_passed is None
    page = text(staff_client.get(url))
    assert "Fait : Dossier professionnel reçu" in page
    assert "Manque : Document de 32 à 38 pages (déclaré : 40)" in page
    assert "Manque : ECF validées" in page
    detail = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert "Dossier incomplet" in detail


def test_complete_file_is_shown_complete(staff_client, db, exam):
    candidate = exam.candidates[0]
    url = f"/centre/sessions/{exam.id}/candidats/{candidate.id}/modifier"
    staff_client.post(url, data=candidate_data())
    detail = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    row = detail.split(f'id="candidate-{candidate.id}"')[1].split("</tr>")[0]
    assert "Dossier complet" in row


def test_held_ccps_can_be_cleared(staff_client, db, exam):
    candidate = exam.candidates[0]
    url = f"/centre/sessions/{exam.id}/candidats/{candidate.id}/modifier"
    staff_client.post(url, data=candidate_data(held_ccps=["CCP1", "CCP2"]))
    assert count(db, HeldCcp) == 2
    staff_client.post(url, data=candidate_data())
    assert count(db, HeldCcp) == 0


def test_candidate_of_another_session_is_404(staff_client, db, ntc, exam):
    other = make_session(ntc)
    db.session.commit()
    stranger = other.candidates[0]
    url = f"/centre/sessions/{exam.id}/candidats/{stranger.id}/modifier"
    assert staff_client.get(url).status_code == 404
    assert staff_client.post(url, data=candidate_data()).status_code == 404
    db.session.expire_all()
    assert db.session.get(Candidate, stranger.id).last_name != "Moreau"


def test_staff_record_a_candidate_absent_on_exam_day_with_the_circumstances(staff_client, db, exam):
    candidate = exam.candidates[0]
    url = f"/centre/sessions/{exam.id}/candidats/{candidate.id}/modifier"
    assert "Jour de l'examen" in text(staff_client.get(url))
    assert 'name="presence"' not in text(
        staff_client.get(f"/centre/sessions/{exam.id}/candidats/nouveau")
    )
    data = candidate_data(
        candidate_number=candidate.candidate_number,
        last_name=candidate.last_name,
        first_name=candidate.first_name,
        birth_date=candidate.birth_date.isoformat(),
    )

    missing = staff_client.post(url, data=data | {"presence": "absent", "presence_note": " "})
    assert missing.status_code == 422
    assert "Précisez les circonstances de l'absence ou de l'abandon." in text(missing)
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).presence == Presence.EXPECTED

    saved = staff_client.post(
        url, data=data | {"presence": "absent", "presence_note": "Prévenu par téléphone."}
    )
    assert saved.status_code == 303
    db.session.expire_all()
    stored = db.session.get(Candidate, candidate.id)
    assert (stored.presence, stored.presence_note) == (Presence.ABSENT, "Prévenu par téléphone.")
    assert audit_actions(db, exam.id)[-1] == "candidate_updated"
    detail = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert f'id="presence-{candidate.id}">Absent</strong>' in detail
