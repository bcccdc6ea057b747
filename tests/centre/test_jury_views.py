"""Jury pages as staff: add, edit, choose the chair, habilitation warnings, access cards."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid

from ntc_jury.core.vocabulary import JuryRole, SessionState
from ntc_jury.models import JuryMember, utcnow
from tests.centre.conftest import audit_actions, count
from tests.factories import issue_access, make_session


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def one_form() -> dict:
    """The one-time id the session page puts in each access form."""
    return {"op_id": str(uuid.uuid4())}


def member_data(**changes) -> dict:
    return {
        "first_name": "Karim",
        "last_name": "Benali",
        "email": "karim.benali@example.org",
        "habilitation_number": "HAB-69-0218",
        "habilitation_valid_until": "2099-12-31",
    } | changes


def test_add_member_as_chair(staff_client, db, exam):
    assert staff_client.get(f"/centre/sessions/{exam.id}/jury/nouveau").status_code == 200
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/nouveau", data=member_data(chair="y")
    )
    assert response.status_code == 303
    db.session.expire_all()
    added = db.session.execute(
        db.select(JuryMember).filter_by(email="karim.benali@example.org")
    ).scalar_one()
    assert added.role == JuryRole.CHAIR and added.habilitation_number == "HAB-69-0218"
    chairs = (
        db.session.execute(db.select(JuryMember).filter_by(session_id=exam.id, role=JuryRole.CHAIR))
        .scalars()
        .all()
    )
    assert chairs == [added]
    assert audit_actions(db, exam.id)[-1] == "jury_member_added"


def test_invalid_member_form_is_422_in_french_and_keeps_input(staff_client, db, exam):
    before = count(db, JuryMember)
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/nouveau",
        data=member_data(email="pas-une-adresse", last_name="", habilitation_number="GARDÉ"),
    )
    assert response.status_code == 422
    page = text(response)
    assert "Adresse e-mail invalide." in page and "Saisissez le nom." in page
    assert 'value="GARDÉ"' in page and 'value="pas-une-adresse"' in page
    duplicate = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/nouveau",
        data=member_data(email=exam.jury_members[0].email.upper()),
    )
    assert duplicate.status_code == 422
    assert "fait déjà partie de ce jury" in text(duplicate)
    assert count(db, JuryMember) == before


def test_edit_member_and_habilitation_warning(staff_client, db, exam):
    member = exam.jury_members[1]
    short = (exam.ends_on - dt.timedelta(days=1)).isoformat()
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/{member.id}/modifier",
        data=member_data(email=member.email, habilitation_valid_until=short),
    )
    assert response.status_code == 303
    detail = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert f'id="habilitation-warning-{member.id}"' in detail
    assert "ne couvre pas la session" in detail
    form = text(staff_client.get(f"/centre/sessions/{exam.id}/jury/{member.id}/modifier"))
    assert "elle ne couvre pas la session" in form
    db.session.expire_all()
    assert db.session.get(JuryMember, member.id).first_name == "Karim"


def test_make_chair(staff_client, db, exam):
    chair, member = exam.jury_members
    response = staff_client.post(f"/centre/sessions/{exam.id}/jury/{member.id}/president")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(JuryMember, member.id).role == JuryRole.CHAIR
    assert db.session.get(JuryMember, chair.id).role == JuryRole.MEMBER
    assert audit_actions(db, exam.id)[-1] == "chair_changed"


def test_fewer_than_two_jurors_warns(staff_client, db, ntc):
    small = make_session(ntc, jurors=1)
    db.session.commit()
    page = text(staff_client.get(f"/centre/sessions/{small.id}"))
    assert 'id="jury-too-small"' in page and "au moins 2 membres" in page


def test_member_of_another_session_is_404(staff_client, db, ntc, exam):
    other = make_session(ntc)
    db.session.commit()
    stranger = other.jury_members[0]
    for url in (
        f"/centre/sessions/{exam.id}/jury/{stranger.id}/modifier",
        f"/centre/sessions/{exam.id}/jury/{stranger.id}/president",
        f"/centre/sessions/{exam.id}/jury/{stranger.id}/acces",
        f"/centre/sessions/{exam.id}/jury/{stranger.id}/revoquer",
    ):
        method = staff_client.get if url.endswith("modifier") else staff_client.post
        assert method(url).status_code == 404, url
    db.session.expire_all()
    assert db.session.get(JuryMember, stranger.id).role == JuryRole.CHAIR


def test_access_cards_still_work(staff_client, db, exam):
    member = exam.jury_members[1]
    card = staff_client.post(f"/centre/sessions/{exam.id}/jury/{member.id}/acces", data=one_form())
    assert card.status_code == 200 and "data-pin" in text(card)
    # The link and PIN in clear: neither the browser nor a proxy keeps the page.
    assert card.headers["Cache-Control"] == "private, no-store"
    db.session.expire_all()
    assert db.session.get(JuryMember, member.id).access_token_sha256
    revoke = staff_client.post(f"/centre/sessions/{exam.id}/jury/{member.id}/revoquer")
    assert revoke.status_code == 303
    db.session.expire_all()
    assert db.session.get(JuryMember, member.id).access_revoked_at is not None
    cards = staff_client.post(f"/centre/sessions/{exam.id}/cartes", data=one_form())
    assert text(cards).count("data-pin") == 2
    assert cards.headers["Cache-Control"] == "private, no-store"


def test_access_cards_give_every_day_of_a_longer_session(staff_client, db, exam):
    exam.starts_on, exam.ends_on = dt.date(2026, 12, 10), dt.date(2026, 12, 11)
    db.session.commit()
    cards = text(staff_client.post(f"/centre/sessions/{exam.id}/cartes", data=one_form()))
    assert "du 10 décembre 2026 au 11 décembre 2026" in cards


def test_a_juror_is_recorded_absent_on_exam_day_but_never_the_chair(staff_client, db, exam):
    chair, member = exam.jury_members
    page = text(staff_client.get(f"/centre/sessions/{exam.id}/jury/{member.id}/modifier"))
    assert "Présent(e) le jour de l'examen" in page and 'name="present"' in page
    new_member = staff_client.get(f"/centre/sessions/{exam.id}/jury/nouveau")
    assert 'name="present"' not in text(new_member)

    # The checkbox left unticked: absent. He neither signs nor counts towards the 2 present.
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/{member.id}/modifier",
        data=member_data(email=member.email),
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(JuryMember, member.id).present is False
    assert audit_actions(db, exam.id)[-1] == "jury_member_updated"
    detail = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert f'id="member-absent-{member.id}">Absent</strong>' in detail
    assert f'id="make-chair-{member.id}"' not in detail

    refused = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/{chair.id}/modifier",
        data=member_data(email=chair.email),
    )
    assert refused.status_code == 422
    assert "Le président du jury ne peut pas être absent" in text(refused)
    db.session.expire_all()
    assert db.session.get(JuryMember, chair.id).present is True

    # Nor can an absent juror be made chair.
    staff_client.post(f"/centre/sessions/{exam.id}/jury/{member.id}/president")
    db.session.expire_all()
    assert db.session.get(JuryMember, member.id).role == JuryRole.MEMBER
    assert db.session.get(JuryMember, chair.id).role == JuryRole.CHAIR

    back = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/{member.id}/modifier",
        data=member_data(email=member.email, present="y"),
    )
    assert back.status_code == 303
    db.session.expire_all()
    assert db.session.get(JuryMember, member.id).present is True


def test_a_juror_link_can_be_revoked_on_a_locked_session(staff_client, db, exam):
    member = exam.jury_members[1]
    issue_access(member)
    exam.locked_at = utcnow()
    exam.state = SessionState.CLOSED
    db.session.commit()
    revoke = staff_client.post(f"/centre/sessions/{exam.id}/jury/{member.id}/revoquer")
    assert revoke.status_code == 303
    db.session.expire_all()
    revoked = db.session.get(JuryMember, member.id)
    assert revoked.access_revoked_at is not None and revoked.pin_hash is None
    assert audit_actions(db, exam.id)[-1] == "jury_access_revoked"
    # The rest of the jury stays locked.
    refused = staff_client.post(f"/centre/sessions/{exam.id}/jury/{member.id}/president")
    assert refused.status_code == 409


def _pins(response) -> list[str]:
    return re.findall(r"data-pin>\s*(\d{6})\s*<", response.get_data(as_text=True))


def test_reloading_the_cards_page_issues_nothing_again(staff_client, db, exam):
    page = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    op_ids = re.findall(r'name="op_id" value="([0-9a-f-]{36})"', page)
    assert len(op_ids) == len(set(op_ids)) == len(exam.jury_members) + 1
    all_cards = f"/centre/sessions/{exam.id}/cartes"
    first = staff_client.post(all_cards, data={"op_id": op_ids[-1]})
    assert first.status_code == 200 and len(_pins(first)) == 2
    assert first.headers["Cache-Control"] == "private, no-store"
    db.session.expire_all()
    digests = [m.access_token_sha256 for m in exam.jury_members]
    events = len(audit_actions(db, exam.id))

    replay = staff_client.post(all_cards, data={"op_id": op_ids[-1]})
    assert replay.status_code == 303
    assert replay.headers["Location"] == f"/centre/sessions/{exam.id}"
    db.session.expire_all()
    assert [m.access_token_sha256 for m in exam.jury_members] == digests
    assert len(audit_actions(db, exam.id)) == events
    shown = text(staff_client.get(replay.headers["Location"]))
    assert "Ces liens et codes PIN ont déjà été émis : ils ne sont affichés qu'une fois." in shown

    # The same for one juror's card; a fresh form from the session page issues again.
    member = exam.jury_members[1]
    url = f"/centre/sessions/{exam.id}/jury/{member.id}/acces"
    assert staff_client.post(url, data={"op_id": op_ids[1]}).status_code == 200
    assert staff_client.post(url, data={"op_id": op_ids[1]}).status_code == 303
    assert staff_client.post(url, data=one_form()).status_code == 200
    assert audit_actions(db, exam.id).count("jury_access_cards_issued") == 3


def test_an_access_form_without_a_valid_id_is_refused_in_french(staff_client, db, exam):
    member = exam.jury_members[1]
    for data in ({}, {"op_id": "pas-un-identifiant"}):
        for url in (
            f"/centre/sessions/{exam.id}/cartes",
            f"/centre/sessions/{exam.id}/jury/{member.id}/acces",
        ):
            response = staff_client.post(url, data=data)
            assert response.status_code == 303, url
            shown = text(staff_client.get(response.headers["Location"]))
            assert "Ce formulaire d'émission des liens n'est pas valide." in shown
    db.session.expire_all()
    assert db.session.get(JuryMember, member.id).access_token_sha256 is None


def test_access_wording_never_needs_an_elision(staff_client, db, exam):
    member = exam.jury_members[1]
    member.first_name, member.last_name = "Anne", "Roux"
    db.session.commit()
    cards = text(
        staff_client.post(f"/centre/sessions/{exam.id}/jury/{member.id}/acces", data=one_form())
    )
    assert "Code PIN — Anne Roux" in cards and "Carte d'accès — Anne Roux" in cards
    assert "de Anne" not in cards
    revoke = staff_client.post(
        f"/centre/sessions/{exam.id}/jury/{member.id}/revoquer", follow_redirects=True
    )
    assert "Accès révoqué : Anne Roux." in text(revoke)
    assert "de Anne" not in text(revoke)


def test_the_session_page_warns_when_printed_links_would_point_elsewhere(
    staff_client, exam, app, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://127.0.0.1:5000")
    page = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert 'id="link-base-warning"' in page
    assert "pointeront vers http://127.0.0.1:5000" in page
    assert "à l'adresse http://localhost" in page

    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://localhost/")
    page = text(staff_client.get(f"/centre/sessions/{exam.id}"))
    assert 'id="link-base-warning"' not in page
