"""Signing in, as a juror on a phone and as staff, in Chromium."""

from __future__ import annotations

from ntc_jury.auth import operations as auth_ops
from tests.browser import assert_no_axe_violations, assert_no_console_errors
from tests.factories import STAFF_PASSWORD, issue_access, make_session, make_staff


def test_a_juror_opens_the_link_types_the_pin_and_lands_on_the_candidates(db, ntc, phone):
    session = make_session(ntc, jurors=2, candidates=3)
    issued = issue_access(session.jury_members[1])
    db.session.commit()
    phone.goto(f"/j/{issued.token}")
    assert session.jury_members[1].full_name in phone.text_content("h1")
    phone.fill("input[name=pin]", issued.pin)
    phone.click("#pin-form button[type=submit]")
    phone.wait_for_url("**/jury/")
    assert phone.text_content("h1") == "Candidats du jour"
    names = phone.locator("#candidate-list .name").all_text_contents()
    assert names == [c.full_name for c in session.candidates]
    assert_no_console_errors(phone)


def test_a_wrong_pin_gets_a_french_message_and_stays_on_the_form(db, ntc, phone):
    session = make_session(ntc, jurors=2, candidates=1)
    issued = issue_access(session.jury_members[0])
    db.session.commit()
    phone.goto(f"/j/{issued.token}")
    wrong = "000000" if issued.pin != "000000" else "111111"
    phone.fill("input[name=pin]", wrong)
    phone.click("#pin-form button[type=submit]")
    message = phone.text_content("#pin-form .field-error")
    assert "Code PIN incorrect" in message
    assert phone.get_attribute("input[name=pin]", "aria-invalid") == "true"
    assert "/j/" in phone.url


def test_a_revoked_link_is_refused(db, ntc, phone):
    session = make_session(ntc, jurors=2, candidates=1)
    member = session.jury_members[1]
    issued = issue_access(member)
    auth_ops.revoke_jury_access(member=member, actor=None)
    db.session.commit()
    response = phone.goto(f"/j/{issued.token}")
    assert response.status == 403
    assert "révoqué" in phone.text_content("#link-refused")
    assert phone.locator("input[name=pin]").count() == 0


def test_staff_sign_in_and_out(db, ntc, desktop):
    staff = make_staff(admin=True)
    make_session(ntc, jurors=2, candidates=1)
    db.session.commit()
    desktop.goto("/connexion")
    desktop.fill("input[name=email]", staff.email)
    desktop.fill("input[name=password]", "not the password")
    desktop.click("#sign-in-form button[type=submit]")
    assert "incorrect" in desktop.text_content("#sign-in-form")
    desktop.fill("input[name=password]", STAFF_PASSWORD)
    desktop.click("#sign-in-form button[type=submit]")
    desktop.wait_for_url("**/centre/**")
    desktop.click("text=Se déconnecter")
    desktop.wait_for_url("**/")
    assert "Vous êtes déconnecté" in desktop.text_content(".flashes")
    desktop.goto("/centre/")
    assert "/connexion" in desktop.url


def test_sign_in_pages_are_accessible(db, ntc, new_page):
    session = make_session(ntc, jurors=2, candidates=1)
    issued = issue_access(session.jury_members[0])
    db.session.commit()
    page = new_page("phone", bypass_csp=True)
    page.goto(f"/j/{issued.token}")
    assert_no_axe_violations(page, "PIN page")
    page.goto("/connexion")
    assert_no_axe_violations(page, "staff sign-in page")
