"""Security headers on every response, session cookie flags, and CSRF on every POST."""

from __future__ import annotations

import datetime as dt
import json
import re
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from ntc_jury.access import public
from ntc_jury.assets import asset_url
from ntc_jury.extensions import db as _db
from ntc_jury.models import AuditEvent, SignInThrottle
from tests.auth import fresh_client, page_text
from tests.conftest import make_test_app
from tests.factories import (
    STAFF_PASSWORD,
    issue_access,
    make_session,
    make_staff,
    sign_in_juror,
)

CSRF_REFUSED = "Le formulaire a expiré ou n'est pas valide."
# Strict, but still sent to our own origin (see test_over_https_a_post_needs_…).
STRICT_REFERRER_POLICIES = {
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


@pytest.fixture
def client(app, db):
    return fresh_client(app)


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_security_headers(response) -> None:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, "no Content-Security-Policy"
    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in STRICT_REFERRER_POLICIES
    assert "hx-request" in {value.lower() for value in response.vary}


def set_cookie(response, name: str) -> str:
    """The Set-Cookie header of one cookie (fails if the response does not set it)."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, f"the response sets no {name} cookie"
    return headers[-1]


def cookie_flags(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/connexion", 200),
        ("GET", "/healthz", 200),
        ("GET", "/page-qui-n-existe-pas", 404),
        ("GET", "/centre/", 302),  # anonymous: sent to sign in
        ("GET", "/deconnexion", 405),
        ("POST", "/connexion", 422),
        ("GET", "/j/lien-inconnu", 404),
        ("GET", "/static/css/app.css", 200),
    ],
)
def test_every_response_carries_the_security_headers(client, method, path, status):
    response = client.open(path, method=method, data={} if method == "POST" else None)
    response.close()  # static files are streamed from an open file

    assert response.status_code == status
    assert_security_headers(response)


def test_fingerprinted_files_carry_them_too(client):
    response = client.get(asset_url("css/app.css"))
    response.close()

    assert response.status_code == 200
    assert_security_headers(response)


def test_htmx_and_signed_in_responses_carry_them_too(client, db, ntc):
    exam = make_session(ntc)
    issued = issue_access(exam.jury_members[0])
    db.session.commit()
    sign_in = sign_in_juror(client, issued)

    page = client.get("/jury/", headers={"HX-Request": "true"})
    forbidden = client.get("/centre/")

    assert (sign_in.status_code, page.status_code, forbidden.status_code) == (302, 200, 403)
    for response in (sign_in, page, forbidden):
        assert_security_headers(response)


def test_a_server_error_page_carries_them_too(database_url):
    broken = make_test_app(database_url, PROPAGATE_EXCEPTIONS=False)
    broken.add_url_rule("/panne", "panne", public(lambda: 1 / 0))

    response = broken.test_client().get("/panne")

    assert response.status_code == 500
    assert "Erreur du serveur" in page_text(response)
    assert_security_headers(response)


def test_pages_load_no_inline_script(client):
    """The policy forbids inline scripts, so the pages must not need any."""
    body = client.get("/connexion").get_data(as_text=True)

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", body, re.S)
    assert scripts, "the page loads htmx and app.js"
    for attributes, content in scripts:
        source = re.search(r'src="([^"]*)"', attributes).group(1)
        assert source.startswith("/") and not source.startswith("//"), source  # 'self'
        assert content.strip() == ""
    assert not re.search(r"\son[a-z]+\s*=", body), "inline event handler attribute"


# --------------------------------------------------------------------------- cookies


def committed_staff_email(db) -> str:
    """A staff account, committed; only its email is kept so that nothing in this test's
    session reads the database again (on SQLite that would hold the write lock that
    another app instance on the same database needs)."""
    email = make_staff().email
    db.session.commit()
    return email


def sign_in_as(browser, email: str, **extra):
    return browser.post("/connexion", data={"email": email, "password": STAFF_PASSWORD, **extra})


def set_cookies(response) -> dict[str, str]:
    """name → Set-Cookie header, for the cookies the response sets (not those it deletes)."""
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if not rest.startswith(";") and "max-age=0" not in header.lower():
            cookies[name] = header
    return cookies


def assert_cookie_flags(response, *, secure: bool) -> None:
    cookies = set_cookies(response)
    assert "ntc_session" in cookies
    for name, header in cookies.items():
        flags = cookie_flags(header)
        assert "httponly" in flags, f"{name} is readable by scripts"
        assert "samesite=lax" in flags, f"{name} is not SameSite=Lax"
        assert ("secure" in flags) is secure, f"{name}: Secure should be {secure}"


def committed_juror(db, ntc):
    """A juror's access, committed; the returned token and PIN are plain strings."""
    exam = make_session(ntc)
    issued = issue_access(exam.jury_members[0])
    db.session.commit()
    return issued


def test_staff_sign_in_cookies_are_httponly_and_lax_but_not_secure_by_default(client, db):
    email = committed_staff_email(db)

    response = sign_in_as(client, email)

    assert response.status_code == 302
    assert_cookie_flags(response, secure=False)


def test_juror_sign_in_cookies_have_the_same_flags(client, db, ntc):
    issued = committed_juror(db, ntc)

    response = sign_in_juror(client, issued)

    assert response.status_code == 302
    assert_cookie_flags(response, secure=False)


def test_a_jurors_cookies_last_no_longer_than_the_link(client, db, ntc, app):
    issued = committed_juror(db, ntc)
    session = issued.member.session
    last_day = session.ends_on + dt.timedelta(days=app.config["JURY_LINK_DAYS_AFTER"])
    end_of_link = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, dt.UTC)

    response = sign_in_juror(client, issued)

    for name, header in set_cookies(response).items():
        expires = re.search(r"Expires=([^;]+)", header)
        if expires:  # no Expires: a browser-session cookie
            assert parsedate_to_datetime(expires.group(1)) <= end_of_link, name


def test_cookies_are_secure_when_the_setting_says_so(db, ntc, database_url):
    email = committed_staff_email(db)
    issued = committed_juror(db, ntc)
    secure = make_test_app(database_url, SECURE_COOKIES=True)
    try:
        staff = sign_in_as(secure.test_client(), email)
        juror = sign_in_juror(secure.test_client(), issued)
        language = secure.test_client().post("/langue", data={"lang": "en", "next": "/"})
    finally:
        with secure.app_context():
            _db.engine.dispose()

    assert (staff.status_code, juror.status_code) == (302, 302)
    assert_cookie_flags(staff, secure=True)
    assert_cookie_flags(juror, secure=True)
    assert {"secure", "httponly", "samesite=lax"} <= cookie_flags(set_cookie(language, "ntc_lang"))


# --------------------------------------------------------------------------- CSRF


@pytest.fixture
def csrf_app(db, database_url):
    """The app as in production: CSRF checked on every POST."""
    checked = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    yield checked
    with checked.app_context():
        _db.engine.dispose()


def form_token(response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no csrf_token field in the page"
    return match.group(1)


def hx_headers(response) -> dict:
    match = re.search(r"<body[^>]*\shx-headers='([^']+)'", response.get_data(as_text=True))
    assert match, "no hx-headers on <body>"
    return json.loads(match.group(1))


def test_sign_in_without_a_csrf_token_is_refused(csrf_app, db):
    email = committed_staff_email(db)
    browser = csrf_app.test_client()

    response = sign_in_as(browser, email)

    assert response.status_code == 400
    assert CSRF_REFUSED in page_text(response)
    assert browser.get("/centre/").status_code == 302
    assert db.session.execute(select(AuditEvent.action)).scalars().all() == ["staff_created"]
    assert db.session.execute(select(SignInThrottle)).first() is None


def test_sign_in_with_the_forms_token_is_accepted(csrf_app, db):
    email = committed_staff_email(db)
    browser = csrf_app.test_client()
    token = form_token(browser.get("/connexion"))

    response = sign_in_as(browser, email, csrf_token=token)

    assert response.status_code == 302
    assert response.headers["Location"] == "/centre/"
    assert browser.get("/centre/").status_code == 200


def test_sign_out_without_a_csrf_token_is_refused(csrf_app, db):
    email = committed_staff_email(db)
    browser = csrf_app.test_client()
    sign_in_as(browser, email, csrf_token=form_token(browser.get("/connexion")))

    response = browser.post("/deconnexion")

    assert response.status_code == 400
    assert CSRF_REFUSED in page_text(response)
    assert browser.get("/centre/").status_code == 200  # still signed in
    actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert "sign_out" not in actions


def test_sign_out_with_the_pages_token_is_accepted(csrf_app, db):
    email = committed_staff_email(db)
    browser = csrf_app.test_client()
    sign_in_as(browser, email, csrf_token=form_token(browser.get("/connexion")))
    token = form_token(browser.get("/centre/"))  # the sign-out button's form

    response = browser.post("/deconnexion", data={"csrf_token": token})

    assert response.status_code == 302
    assert browser.get("/centre/").status_code == 302
    actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert actions[-1] == "sign_out"


def test_body_carries_the_csrf_token_for_htmx(csrf_app, db):
    email = committed_staff_email(db)
    browser = csrf_app.test_client()
    page = browser.get("/connexion")

    headers = hx_headers(page)

    assert set(headers) == {"X-CSRFToken"}
    assert headers["X-CSRFToken"] == form_token(page)
    # htmx sends it as a header, with no form field: that is accepted too.
    response = browser.post(
        "/connexion", data={"email": email, "password": STAFF_PASSWORD}, headers=headers
    )
    assert response.status_code == 302


def test_pin_form_without_a_csrf_token_is_refused_and_not_counted(csrf_app, db, ntc):
    exam = make_session(ntc)
    issued = issue_access(exam.jury_members[0])
    db.session.commit()
    browser = csrf_app.test_client()

    refused = browser.post(f"/j/{issued.token}", data={"pin": issued.pin})
    token = form_token(browser.get(f"/j/{issued.token}"))
    accepted = browser.post(f"/j/{issued.token}", data={"pin": issued.pin, "csrf_token": token})

    assert refused.status_code == 400
    assert CSRF_REFUSED in page_text(refused)
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/jury/"
    assert db.session.execute(select(SignInThrottle)).first() is None


def test_over_https_a_post_needs_a_same_origin_referrer(csrf_app, db):
    """Flask-WTF checks the Referer of HTTPS POSTs, so the Referrer-Policy must keep sending
    it to our own origin (no-referrer would break every form)."""
    email = committed_staff_email(db)
    browser = csrf_app.test_client()
    page = browser.get("/connexion", base_url="https://jury.example.org")
    token = form_token(page)
    data = {"email": email, "password": STAFF_PASSWORD, "csrf_token": token}

    no_referrer = browser.post("/connexion", data=data, base_url="https://jury.example.org")
    elsewhere = browser.post(
        "/connexion",
        data=data,
        base_url="https://jury.example.org",
        headers={"Referer": "https://attaquant.example.net/"},
    )
    same_origin = browser.post(
        "/connexion",
        data=data,
        base_url="https://jury.example.org",
        headers={"Referer": "https://jury.example.org/connexion"},
    )

    assert page.headers["Referrer-Policy"] != "no-referrer"
    assert no_referrer.status_code == elsewhere.status_code == 400
    assert same_origin.status_code == 302
