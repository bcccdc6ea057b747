"""The pages that exist today, in a real browser: layout on phones, accessibility, CSP, language."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from tests.browser import (
    assert_no_axe_violations,
    assert_no_console_errors,
    assert_no_horizontal_scroll,
    assert_tap_targets,
)

pytestmark = pytest.mark.browser

HOME_H1_FR = "Le jury du titre professionnel, sans papier"
PHONE_SIZES = [(360, 640), (390, 844)]


@pytest.mark.parametrize(("width", "height"), PHONE_SIZES, ids=lambda v: str(v))
def test_home_on_phone(new_page, width, height):
    page = new_page("phone", viewport=(width, height))
    response = page.goto("/")

    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == HOME_H1_FR
    assert_no_horizontal_scroll(page)
    assert_tap_targets(page, "header, main, footer")
    # htmx loaded from 'self' under the CSP, and our own script ran without errors.
    page.wait_for_function("() => window.htmx !== undefined")
    assert page.evaluate("() => htmx.version").startswith("2.")
    assert_no_console_errors(page)


def test_home_on_desktop(desktop):
    assert desktop.goto("/").status == 200
    assert_no_horizontal_scroll(desktop)
    assert_no_console_errors(desktop)


def test_security_headers_reach_the_browser(phone):
    response = phone.goto("/")
    csp = response.all_headers()["content-security-policy"]

    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response.all_headers()["x-content-type-options"] == "nosniff"
    # The policy is enforced, not just sent: an inline script is refused.
    ran = phone.evaluate(
        """() => new Promise((resolve) => {
             const refused = () => resolve(false);
             document.addEventListener('securitypolicyviolation', refused, {once: true});
             const s = document.createElement('script');
             s.textContent = 'window.__inlineRan = true';
             document.head.appendChild(s);
             setTimeout(() => resolve(window.__inlineRan === true), 500);
           })"""
    )
    assert ran is False


@pytest.mark.parametrize("profile", ["phone", "desktop"])
def test_home_has_no_axe_violations(new_page, profile):
    page = new_page(profile, bypass_csp=True)
    page.goto("/")
    assert_no_axe_violations(page, f"home ({profile})")


def test_404_page_is_french_and_accessible(axe_phone):
    response = axe_phone.goto("/cette-page-n-existe-pas")

    assert response.status == 404
    assert axe_phone.locator("html").get_attribute("lang") == "fr"
    assert axe_phone.locator("h1").inner_text() == "Page introuvable"
    assert_tap_targets(axe_phone, "main, footer")
    assert_no_horizontal_scroll(axe_phone)
    assert_no_axe_violations(axe_phone, "404 page (phone)")
    # The document itself is a 404; nothing else may fail.
    assert_no_console_errors(axe_phone, ignore=[r"status of 404 .*/cette-page-n-existe-pas"])


def _lang_cookie(page) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == "ntc_lang"), None)


def _home_h1(app, lang: str) -> str:
    """The heading the app renders in `lang` (French when no English catalogue is compiled)."""
    # force_locale restores Flask-Babel's per-context cache (kept on the test's app context).
    with app.test_request_context("/"), force_locale(lang):
        return gettext(HOME_H1_FR)


def test_language_switch(app, phone):
    phone.goto("/")
    assert phone.locator("html").get_attribute("lang") == "fr"
    assert phone.get_by_role("button", name="Français").get_attribute("aria-pressed") == "true"

    phone.get_by_role("button", name="English").click()
    phone.wait_for_function("() => document.documentElement.lang === 'en'")
    assert _lang_cookie(phone) == "en"
    assert phone.get_by_role("button", name="English").get_attribute("aria-pressed") == "true"
    assert phone.locator("h1").inner_text() == _home_h1(app, "en")

    phone.reload()
    assert phone.locator("html").get_attribute("lang") == "en"

    phone.get_by_role("button", name="Français").click()
    phone.wait_for_function("() => document.documentElement.lang === 'fr'")
    assert _lang_cookie(phone) == "fr"
    assert phone.locator("h1").inner_text() == HOME_H1_FR
    assert_no_console_errors(phone)


@pytest.mark.parametrize("profile", ["desktop", "phone"])
def test_skip_link_is_first_and_moves_focus_to_main(new_page, profile):
    page = new_page(profile)
    page.goto("/")

    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({text: document.activeElement.textContent.trim(),"
        " href: document.activeElement.getAttribute('href')})"
    )
    assert focused == {"text": "Aller au contenu", "href": "#main"}
    # Visible once focused (it sits off-screen otherwise).
    box = page.locator(".skip-link").bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0

    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")


def test_guards_catch_csp_violations_and_refuse_axe_under_csp(phone):
    """The helpers really fail: CSP violations and JS exceptions are reported, axe needs
    bypass_csp."""
    phone.goto("/")
    phone.evaluate(
        """() => new Promise((resolve) => {
             document.addEventListener('securitypolicyviolation', resolve, {once: true});
             const s = document.createElement('script');
             s.textContent = '1';
             document.head.appendChild(s);
           })"""
    )
    phone.wait_for_timeout(100)  # the console event follows the DOM event
    with pytest.raises(pytest.fail.Exception, match="Content Security Policy"):
        assert_no_console_errors(phone)
    phone.evaluate("() => setTimeout(() => { throw new Error('boom from a test') })")
    phone.wait_for_timeout(100)
    with pytest.raises(pytest.fail.Exception, match=r"uncaught exception: .*boom from a test"):
        assert_no_console_errors(phone, ignore=["Content Security Policy"])
    with pytest.raises(pytest.fail.Exception, match="bypass_csp=True"):
        assert_no_axe_violations(phone, "home under CSP")


def test_guards_catch_overflow_and_small_tap_targets(phone):
    phone.goto("/")
    phone.evaluate(
        """() => {
             const wide = document.createElement('div');
             wide.style.width = '600px';
             wide.textContent = 'wide';
             const tiny = document.createElement('button');
             tiny.style.minHeight = '0';
             tiny.style.padding = '0';
             tiny.textContent = 'x';
             document.querySelector('main').append(wide, tiny);
           }"""
    )
    with pytest.raises(pytest.fail.Exception, match="horizontal scrolling"):
        assert_no_horizontal_scroll(phone)
    with pytest.raises(pytest.fail.Exception, match=r'<button> "x"'):
        assert_tap_targets(phone)
