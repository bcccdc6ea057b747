"""Jurors: personal link + PIN, issued, reissued and revoked by staff, valid around the session."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text

from ntc_jury.auth import credentials, identity
from ntc_jury.core.vocabulary import ActorKind
from ntc_jury.models import AuditEvent, JuryMember, SignInThrottle
from tests.factories import issue_access, make_session, make_staff, sign_in_juror, sign_in_staff
from tests.jury.markup import parse

from . import fresh_client, page_text

WRONG_PIN = "Code PIN incorrect. Vérifiez les 6 chiffres remis par le centre."
NOT_SIX_DIGITS = "Le code PIN compte exactement 6 chiffres."
UNKNOWN_LINK = "Ce lien n'est pas reconnu."
REVOKED_LINK = "Ce lien a été révoqué par le centre d'examen."
NOT_YET = "Ce lien n'est pas encore actif : il est valable du"
EXPIRED = "Ce lien a expiré : il était valable du"


class Clock:
    """Stands in for `utcnow` in the module under test; tests move it instead of sleeping."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def move(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The date the link window is judged against: 15 June 2026, 10:00 UTC."""
    clock = Clock(dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(identity, "utcnow", clock)
    return clock


@pytest.fixture
def client(app, db):
    return fresh_client(app)


@pytest.fixture
def exam(db, ntc, clock):
    """A session today with two jurors (the first is chair) and three candidates."""
    return make_session(ntc, starts_on=clock.now.date(), candidates=3)


def audit(db, action: str) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )


def assert_signed_out(client) -> None:
    response = client.get("/jury/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


def staff_client(app, db):
    user = make_staff()
    db.session.commit()
    signed_in = fresh_client(app)
    assert sign_in_staff(signed_in, user).status_code == 302
    return signed_in, user


def card_of(response) -> tuple[str, str]:
    """The link and the PIN printed on an access card page."""
    body = page_text(response)
    link = re.search(r'class="access-link">.*?<code>([^<]+)</code>', body, re.S).group(1)
    pin = re.search(r"data-pin>\s*(\d+)\s*<", body).group(1)
    return link, pin


# --------------------------------------------------------------------------- issuing


def test_the_database_holds_neither_the_token_nor_the_pin(db, exam):
    issued = issue_access(exam.jury_members[0])
    db.session.commit()

    assert re.fullmatch(r"\d{6}", issued.pin)
    assert len(issued.token) >= 32
    rows = db.session.execute(text("SELECT * FROM jury_member")).mappings().all()
    for row in rows:
        for column, value in row.items():
            assert issued.token not in str(value), f"token stored in jury_member.{column}"
            if isinstance(value, str):
                assert issued.pin not in value, f"PIN stored in jury_member.{column}"
            else:
                assert str(value) != issued.pin, f"PIN stored in jury_member.{column}"
    audit_rows = db.session.execute(text("SELECT * FROM audit_event")).mappings().all()
    assert not any(issued.token in str(value) for row in audit_rows for value in row.values())
    member = db.session.get(JuryMember, issued.member.id)
    assert member.access_token_sha256 == credentials.token_digest(issued.token)
    assert member.pin_hash != issued.pin
    assert credentials.password_matches(member.pin_hash, issued.pin)
    assert [e.action for e in audit(db, "jury_access_issued")] == ["jury_access_issued"]


def test_every_juror_gets_their_own_link(db, exam):
    first, second = (issue_access(m) for m in exam.jury_members)

    assert first.token != second.token
    assert first.member.access_token_sha256 != second.member.access_token_sha256


# --------------------------------------------------------------------------- signing in


def test_the_link_asks_for_the_pin(client, db, exam):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()

    response = client.get(f"/j/{issued.token}")

    assert response.status_code == 200
    body = page_text(response)
    assert 'id="pin-form"' in body and 'name="pin"' in body
    assert issued.member.full_name in body


def test_the_right_pin_opens_the_session_and_lists_its_candidates(client, db, ntc, exam):
    other = make_session(ntc, starts_on=exam.starts_on)
    issued = issue_access(exam.jury_members[1])
    db.session.commit()

    response = sign_in_juror(client, issued)

    assert response.status_code == 302
    assert response.headers["Location"] == "/jury/"
    home = client.get("/jury/")
    assert home.status_code == 200
    body = page_text(home)
    for candidate in exam.candidates:
        assert candidate.full_name in body
    for candidate in other.candidates:
        assert not re.search(rf"\b{candidate.last_name}\b", body, re.IGNORECASE)
    [event] = audit(db, "sign_in")
    assert (event.actor_kind, event.actor_id, event.session_id) == (
        ActorKind.JUROR,
        issued.member.id,
        exam.id,
    )
    db.session.refresh(issued.member)
    assert issued.member.last_seen_at is not None


def test_the_pin_may_come_with_spaces_around_it(client, db, exam):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()

    response = client.post(f"/j/{issued.token}", data={"pin": f" {issued.pin} "})

    assert response.headers["Location"] == "/jury/"


def test_a_wrong_pin_is_refused_in_french_and_counted(client, db, exam):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    wrong = f"{(int(issued.pin) + 1) % 1_000_000:06d}"

    response = client.post(f"/j/{issued.token}", data={"pin": wrong})

    assert response.status_code == 401
    assert WRONG_PIN in page_text(response)
    assert_signed_out(client)
    [event] = audit(db, "sign_in_failed")
    assert (event.actor_kind, event.target_id, event.session_id) == (
        ActorKind.ANONYMOUS,
        str(issued.member.id),
        exam.id,
    )
    counter = db.session.get(SignInThrottle, f"link:{issued.member.id}")
    assert counter.failures == 1


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        ("12345", NOT_SIX_DIGITS),
        ("1234567", NOT_SIX_DIGITS),
        ("12a456", NOT_SIX_DIGITS),
        ("", "Saisissez votre code PIN."),
    ],
    ids=["5 digits", "7 digits", "a letter", "empty"],
)
def test_a_pin_that_is_not_six_digits_is_a_validation_error(client, db, exam, pin, message):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()

    response = client.post(f"/j/{issued.token}", data={"pin": pin})

    assert response.status_code == 422
    assert message in page_text(response)
    assert_signed_out(client)
    assert audit(db, "sign_in_failed") == []


def test_an_unknown_link_is_404_in_french(client, db, exam):
    response = client.get("/j/pas-un-vrai-lien")

    assert response.status_code == 404
    assert UNKNOWN_LINK in page_text(response)
    assert client.get("/j/" + "x" * 500).status_code == 404


def test_a_juror_signs_out(client, db, exam):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    sign_in_juror(client, issued)

    response = client.post("/deconnexion")

    assert response.status_code == 302
    assert_signed_out(client)
    [event] = audit(db, "sign_out")
    assert (event.actor_kind, event.actor_id, event.session_id) == (
        ActorKind.JUROR,
        issued.member.id,
        exam.id,
    )


# --------------------------------------------------------------------------- staff: cards


def test_the_access_card_shows_a_qr_code_the_link_and_the_pin(app, db, exam):
    staff, user = staff_client(app, db)
    member = exam.jury_members[1]

    response = staff.post(
        f"/centre/sessions/{exam.id}/jury/{member.id}/acces", data={"op_id": str(uuid.uuid4())}
    )

    assert response.status_code == 200
    body = page_text(response)
    assert re.search(r'<div class="qr"[^>]*>\s*<svg\b', body), "no inline SVG QR code"
    assert "<script" not in body.split('<section class="access-cards"')[1]
    link, pin = card_of(response)
    assert re.fullmatch(r"\d{6}", pin)
    assert link.startswith(app.config["PUBLIC_URL"].rstrip("/") + "/j/")
    token = link.rsplit("/", 1)[1]
    db.session.refresh(member)
    assert member.access_token_sha256 == credentials.token_digest(token)
    assert credentials.password_matches(member.pin_hash, pin)
    [event] = audit(db, "jury_access_issued")
    assert (event.actor_kind, event.actor_id, event.target_id) == (
        ActorKind.STAFF,
        user.id,
        str(member.id),
    )
    # What is printed really signs the juror in.
    juror = fresh_client(app)
    assert juror.post(f"/j/{token}", data={"pin": pin}).headers["Location"] == "/jury/"


def test_printing_all_cards_issues_every_jurors_access(app, db, exam):
    staff, _ = staff_client(app, db)
    issue_access(exam.jury_members[0])
    db.session.commit()

    response = staff.post(f"/centre/sessions/{exam.id}/cartes", data={"op_id": str(uuid.uuid4())})

    assert response.status_code == 200
    body = page_text(response)
    assert body.count("<svg") == len(exam.jury_members) == 2
    assert len(re.findall(r"data-pin>\s*\d{6}\s*<", body)) == 2
    assert [e.target_id for e in audit(db, "jury_access_reissued")] == [
        str(exam.jury_members[0].id)
    ]
    assert len(audit(db, "jury_access_issued")) == 2  # the factory's first one, then the view's


def test_staff_cannot_reach_a_juror_through_another_sessions_url(app, db, ntc, exam):
    other = make_session(ntc, starts_on=exam.starts_on)
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    staff, _ = staff_client(app, db)
    member = issued.member

    revoke = staff.post(f"/centre/sessions/{other.id}/jury/{member.id}/revoquer")
    reissue = staff.post(
        f"/centre/sessions/{other.id}/jury/{member.id}/acces", data={"op_id": str(uuid.uuid4())}
    )

    assert revoke.status_code == reissue.status_code == 404
    db.session.refresh(member)
    assert member.access_revoked_at is None
    assert member.access_token_sha256 == credentials.token_digest(issued.token)


# --------------------------------------------------------------------------- reissue, revoke


def test_reissue_kills_the_old_link_and_the_sign_ins_made_with_it(app, client, db, exam):
    old = issue_access(exam.jury_members[1])
    db.session.commit()
    sign_in_juror(client, old)
    assert client.get("/jury/").status_code == 200
    staff, _ = staff_client(app, db)

    response = staff.post(
        f"/centre/sessions/{exam.id}/jury/{old.member.id}/acces", data={"op_id": str(uuid.uuid4())}
    )

    assert response.status_code == 200
    assert_signed_out(client)
    refused = client.get(f"/j/{old.token}")
    assert refused.status_code == 404
    assert UNKNOWN_LINK in page_text(refused)
    assert client.post(f"/j/{old.token}", data={"pin": old.pin}).status_code == 404
    link, pin = card_of(response)
    assert client.post(urlsplit(link).path, data={"pin": pin}).status_code == 302
    assert client.get("/jury/").status_code == 200
    assert [e.action for e in audit(db, "jury_access_reissued")] == ["jury_access_reissued"]


def test_revoke_refuses_the_link_and_ends_the_sign_in(app, client, db, exam):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    sign_in_juror(client, issued)
    assert client.get("/jury/").status_code == 200
    staff, user = staff_client(app, db)

    response = staff.post(f"/centre/sessions/{exam.id}/jury/{issued.member.id}/revoquer")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/centre/sessions/{exam.id}"
    assert_signed_out(client)
    refused = client.get(f"/j/{issued.token}")
    assert refused.status_code == 403
    assert REVOKED_LINK in page_text(refused)
    assert "révoqué" in page_text(refused)
    assert client.post(f"/j/{issued.token}", data={"pin": issued.pin}).status_code == 403
    assert_signed_out(client)
    member = db.session.get(JuryMember, issued.member.id)
    db.session.refresh(member)
    assert member.access_revoked_at is not None
    assert member.pin_hash is None
    [event] = audit(db, "jury_access_revoked")
    assert (event.actor_kind, event.actor_id, event.target_id, event.session_id) == (
        ActorKind.STAFF,
        user.id,
        str(member.id),
        exam.id,
    )


def test_a_revoked_juror_can_be_given_a_new_link(client, db, exam):
    from ntc_jury.auth.operations import revoke_jury_access

    member = exam.jury_members[1]
    issue_access(member)
    revoke_jury_access(member=member, actor=None)
    fresh = issue_access(member)
    db.session.commit()

    assert sign_in_juror(client, fresh).headers["Location"] == "/jury/"


# --------------------------------------------------------------------------- the window


def test_a_link_does_not_work_three_days_before_the_session(client, db, ntc, clock):
    exam = make_session(ntc, starts_on=clock.now.date() + dt.timedelta(days=3))
    issued = issue_access(exam.jury_members[1])
    db.session.commit()

    page = client.get(f"/j/{issued.token}")
    attempt = sign_in_juror(client, issued)

    assert page.status_code == attempt.status_code == 403
    assert NOT_YET in page_text(page)
    assert_signed_out(client)
    assert audit(db, "sign_in") == []


def test_a_link_works_from_the_day_before_the_session(client, db, ntc, clock):
    exam = make_session(ntc, starts_on=clock.now.date() + dt.timedelta(days=1))
    issued = issue_access(exam.jury_members[1])
    db.session.commit()

    assert sign_in_juror(client, issued).headers["Location"] == "/jury/"
    assert client.get("/jury/").status_code == 200


def test_the_sign_in_ends_when_the_link_window_closes(app, client, db, exam, clock):
    exam.ends_on = exam.starts_on + dt.timedelta(days=2)  # a three-day session
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    sign_in_juror(client, issued)
    days_after = app.config["JURY_LINK_DAYS_AFTER"]

    clock.now = dt.datetime.combine(
        exam.ends_on + dt.timedelta(days=days_after), dt.time(23, 59), tzinfo=dt.UTC
    )
    assert client.get("/jury/").status_code == 200  # the last day still works

    clock.move(minutes=2)  # ends_on + JURY_LINK_DAYS_AFTER + 1 day
    assert_signed_out(client)
    refused = client.get(f"/j/{issued.token}")
    assert refused.status_code == 403
    assert EXPIRED in page_text(refused)
    assert sign_in_juror(client, issued).status_code == 403


def test_the_window_follows_the_setting(app, client, db, exam, clock, monkeypatch):
    monkeypatch.setitem(app.config, "JURY_LINK_DAYS_AFTER", 1)
    issued = issue_access(exam.jury_members[1])
    db.session.commit()

    clock.move(days=2)

    assert sign_in_juror(client, issued).status_code == 403


def refusal_page(client, token: str):
    response = client.get(f"/j/{token}")
    page = parse(page_text(response))
    assert page.by_id("pin-form") is None
    return response.status_code, page


def test_a_link_opened_too_early_says_from_when_it_works_and_whom_to_ask(
    app, client, db, ntc, clock, monkeypatch
):
    monkeypatch.setitem(app.config, "JURY_LINK_DAYS_AFTER", 7)
    exam = make_session(ntc, starts_on=dt.date(2026, 6, 18), centre="AFPA Lyon Vénissieux")
    exam.manager_name = "Claire Responsable"
    issued = issue_access(exam.jury_members[1])
    db.session.commit()

    status, page = refusal_page(client, issued.token)

    assert status == 403
    assert page.by_id("link-window").text() == (
        "Ce lien n'est pas encore actif : il est valable du 17 juin 2026 au 25 juin 2026."
    )
    assert page.by_id("link-contact").text() == (
        "Pour toute question, contactez le centre d'examen : AFPA Lyon Vénissieux "
        "(responsable de session : Claire Responsable)."
    )


def test_an_expired_link_says_when_it_worked_and_whom_to_ask(
    app, client, db, ntc, clock, monkeypatch
):
    monkeypatch.setitem(app.config, "JURY_LINK_DAYS_AFTER", 7)
    exam = make_session(ntc, starts_on=dt.date(2026, 3, 13))
    issued = issue_access(exam.jury_members[1])
    db.session.commit()

    status, page = refusal_page(client, issued.token)

    assert status == 403
    assert page.by_id("link-window").text() == (
        "Ce lien a expiré : il était valable du 12 mars 2026 au 20 mars 2026."
    )
    assert page.by_id("link-contact").text() == (
        "Pour toute question, contactez le centre d'examen : Centre de test."
    )


def test_a_revoked_link_says_so_and_whom_to_ask_whatever_the_date(client, db, ntc, clock):
    from ntc_jury.auth.operations import revoke_jury_access

    exam = make_session(ntc, starts_on=dt.date(2026, 3, 13), centre="GRETA Nord")
    member = exam.jury_members[1]
    issued = issue_access(member)
    revoke_jury_access(member=member, actor=None)
    db.session.commit()

    status, page = refusal_page(client, issued.token)

    assert status == 403
    assert REVOKED_LINK in page.by_id("link-refused").text()
    assert page.by_id("link-window") is None  # new dates would not help: a new link would
    assert "GRETA Nord" in page.by_id("link-contact").text()


def test_a_link_that_matches_no_juror_reveals_nothing(client, db, ntc, clock):
    exam = make_session(ntc, starts_on=dt.date(2026, 3, 13), centre="GRETA Nord")
    exam.manager_name = "Claire Responsable"
    old = issue_access(exam.jury_members[1])
    issue_access(exam.jury_members[1])  # reissued: the old link matches nobody now
    db.session.commit()

    for token in (old.token, "pas-un-vrai-lien"):
        status, page = refusal_page(client, token)
        assert status == 404
        assert UNKNOWN_LINK in page.by_id("link-refused").text()
        assert page.by_id("link-window") is None and page.by_id("link-contact") is None
        body = page.text()
        assert "GRETA" not in body and "Claire" not in body and "2026" not in body


def _copy_of_cookies(app, client):
    """Another browser holding the same cookies (copied, or stolen)."""
    thief = fresh_client(app)
    for name in ("ntc_session", "ntc_remember"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def test_after_a_juror_signs_out_a_copy_of_their_cookies_is_signed_out_too(app, client, db, exam):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    sign_in_juror(client, issued)
    thief = _copy_of_cookies(app, client)
    assert thief.get("/jury/").status_code == 200
    remembered_only = fresh_client(app)
    remembered_only.set_cookie("ntc_remember", client.get_cookie("ntc_remember").value)

    client.post("/deconnexion")

    assert_signed_out(thief)
    assert_signed_out(remembered_only)
    # Their link and PIN still work: signing out is not a revocation.
    assert sign_in_juror(fresh_client(app), issued).status_code == 302
