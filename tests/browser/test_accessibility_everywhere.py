"""Every page a juror, chair, staff member or visitor uses, at phone and desktop sizes.

The URL map is walked: each GET route is either visited below (axe-core WCAG 2.x A/AA, and on
a 390 × 844 phone no sideways scrolling and 44 px tap targets) or listed in NOT_PAGES with
what it serves instead of a page; a new route in neither list fails the first test.

The centre is seeded once for the module (tests/browser/everywhere_scene.py) and each person
keeps one browser context per size, so the ~70 page checks cost a page load and an axe run
each. The keyboard tests drive the main staff actions with Tab, Shift+Tab, Enter, Space and
typing only, and check that every control they stop on shows a focus ring.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from flask import got_request_exception, url_for
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import func, select

from ntc_jury.assets import asset_url
from ntc_jury.core.vocabulary import JuryRole
from ntc_jury.extensions import db
from ntc_jury.models import (
    Candidate,
    Ccp,
    ExamSession,
    HeldCcp,
    JuryMember,
    MinutesDocument,
    ScheduleSlot,
)
from ntc_jury.referential.loader import load_referential_file
from ntc_jury.referential.queries import forget_referentials
from tests.browser import (
    PROFILES,
    assert_no_axe_violations,
    assert_no_console_errors,
    assert_no_horizontal_scroll,
    assert_tap_targets,
    console_log,
    sign_in_juror,
    watch_console,
)
from tests.conftest import NTC_YAML, _wipe
from tests.factories import STAFF_PASSWORD

from .everywhere_scene import IMPORTS, Scene, build_scene

pytestmark = pytest.mark.browser
TIMEOUT_MS = 10_000
SIZES = ("phone", "desktop")

Params = Callable[[Scene], dict]


def _none(_scene: Scene) -> dict:
    return {}


# --------------------------------------------------------------------------- what is visited


@dataclass(frozen=True)
class Visit:
    """One page as one person sees it; `reach` replaces the plain GET for pages a form shows."""

    name: str
    role: str
    endpoint: str
    params: Params = _none
    status: int = 200
    reach: Callable[[Page, Scene], int] | None = None


def _access_cards(page: Page, scene: Scene) -> int:
    page.goto(f"/centre/sessions/{scene.planned}")
    row = page.locator(f"#member-{scene.card_member}")
    with page.expect_navigation() as shown:
        row.get_by_role("button", name=re.compile(r"^(Réé|É)mettre le lien$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cartes d'accès du jury")
    return shown.value.status


def _session_form_errors(page: Page, scene: Scene) -> int:
    page.goto("/centre/sessions/nouvelle")
    page.get_by_label("Centre", exact=True).fill("")
    with page.expect_navigation() as shown:
        page.get_by_role("button", name="Créer la session").click()
    expect(page.locator(".field-error").first).to_be_visible()
    return shown.value.status


def _sign_in_errors(page: Page, scene: Scene) -> int:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill("personne@example.org")
    page.get_by_label("Mot de passe").fill("pas le bon")
    with page.expect_navigation() as shown:
        page.get_by_role("button", name="Se connecter").click()
    expect(page.locator(".flash-error")).to_be_visible()
    return shown.value.status


VISITS = [
    # Anyone
    Visit("home", "anonymous", "main.home"),
    Visit("staff sign-in", "anonymous", "auth.sign_in"),
    Visit("staff sign-in refused", "anonymous", "auth.sign_in", status=401, reach=_sign_in_errors),
    Visit(
        "juror PIN",
        "anonymous",
        "auth.juror_link",
        lambda s: {"token": s.jurors["planned_member"].token},
    ),
    Visit(
        "juror link refused",
        "anonymous",
        "auth.juror_link",
        lambda s: {"token": "ce-lien-n-existe-pas"},
        status=404,
    ),
    Visit("offline", "anonymous", "pwa.offline"),
    Visit("verification form", "anonymous", "verification.verify"),
    Visit(
        "verification found",
        "anonymous",
        "verification.verify",
        lambda s: {"empreinte": s.minutes_sha256},
    ),
    # Centre staff
    Visit("sessions", "staff", "centre.sessions"),
    Visit("new session", "staff", "centre.new_session"),
    Visit(
        "new session with errors",
        "staff",
        "centre.new_session",
        status=422,
        reach=_session_form_errors,
    ),
    Visit("planned session", "staff", "centre.session_detail", lambda s: {"session_id": s.planned}),
    Visit("locked session", "staff", "centre.session_detail", lambda s: {"session_id": s.locked}),
    Visit("edit session", "staff", "centre.edit_session", lambda s: {"session_id": s.planned}),
    Visit("new candidate", "staff", "centre.new_candidate", lambda s: {"session_id": s.planned}),
    Visit(
        "candidate file",
        "staff",
        "centre.edit_candidate",
        lambda s: {"session_id": s.planned, "candidate_id": s.planned_candidate},
    ),
    Visit(
        "candidate file, capitalisation",
        "staff",
        "centre.edit_candidate",
        lambda s: {"session_id": s.planned, "candidate_id": s.holder_candidate},
    ),
    Visit("new juror", "staff", "centre.add_member", lambda s: {"session_id": s.planned}),
    Visit(
        "edit juror",
        "staff",
        "centre.edit_member",
        lambda s: {"session_id": s.planned, "member_id": s.planned_member},
    ),
    Visit("access cards", "staff", "centre.issue_access", reach=_access_cards),
    Visit("import form", "staff", "centre.import_form", lambda s: {"session_id": s.planned}),
    Visit(
        "import preview",
        "staff",
        "centre.import_preview",
        lambda s: {"session_id": s.planned, "jeton": s.import_ok},
    ),
    Visit(
        "import problems",
        "staff",
        "centre.import_preview",
        lambda s: {"session_id": s.planned, "jeton": s.import_problems},
        status=422,
    ),
    Visit("schedule", "staff", "centre.schedule", lambda s: {"session_id": s.planned}),
    Visit(
        "no schedule, deliberation begun",
        "staff",
        "centre.schedule",
        lambda s: {"session_id": s.deliberating},
    ),
    Visit("locked schedule", "staff", "centre.schedule", lambda s: {"session_id": s.locked}),
    Visit(
        "candidate's times",
        "staff",
        "centre.edit_slots",
        lambda s: {"session_id": s.planned, "candidate_id": s.planned_candidate},
    ),
    Visit("day plan", "staff", "centre.print_plan", lambda s: {"session_id": s.planned}),
    Visit("live dashboard", "staff", "centre.dashboard", lambda s: {"session_id": s.deliberating}),
    Visit("own password", "staff", "auth.change_own_password"),
    Visit("archive", "staff", "minutes.archive"),
    Visit(
        "session archive", "staff", "minutes.session_archive", lambda s: {"session_id": s.locked}
    ),
    Visit(
        "error page (404)",
        "staff",
        "centre.session_detail",
        lambda s: {"session_id": 999_999},
        status=404,
    ),
    Visit("error page (403)", "juror", "centre.sessions", status=403),
    # Administrator
    Visit("staff accounts", "admin", "auth.staff_accounts"),
    Visit("reset password", "admin", "auth.reset_password", lambda s: {"user_id": s.staff_id}),
    # Jurors (scoring pages: tests/browser/test_scoring.py goes deeper on the phone)
    Visit("juror's candidates", "juror", "jury.session_home"),
    Visit(
        "juror's candidate",
        "juror",
        "jury.candidate",
        lambda s: {"candidate_id": s.planned_candidate},
    ),
    Visit(
        "juror's phase",
        "juror",
        "jury.phase",
        lambda s: {"candidate_id": s.planned_candidate, "phase_id": s.scored_phase},
    ),
    # Chairs, and a member during the deliberation
    Visit("deliberation opening", "chair_before", "deliberation.overview"),
    Visit("deliberation overview", "chair", "deliberation.overview"),
    Visit(
        "candidate board",
        "chair",
        "deliberation.candidate",
        lambda s: {"candidate_id": s.deliberating_candidate},
    ),
    Visit(
        "summary sheet",
        "chair",
        "deliberation.summary_sheet",
        lambda s: {"candidate_id": s.deliberating_candidate},
    ),
    Visit("session summary", "chair", "deliberation.session_summary"),
    Visit(
        "candidate board (member)",
        "member",
        "deliberation.candidate",
        lambda s: {"candidate_id": s.deliberating_candidate},
    ),
    Visit("signed deliberation", "chair_locked", "deliberation.overview"),
]


@dataclass(frozen=True)
class NotAPage:
    """A GET route left out of the page checks: what it serves instead, and why."""

    serves: str  # the Content-Type it answers with (checked by test_the_routes_left_out_...)
    reason: str
    role: str = "anonymous"
    params: Params = _none


def _fingerprinted_css(_scene: Scene) -> dict:
    return {"hashed": asset_url("css/app.css").removeprefix("/assets/")}


def _locked_candidate(scene: Scene) -> dict:
    return {"session_id": scene.locked, "candidate_id": scene.locked_candidate}


NOT_PAGES: dict[str, NotAPage] = {
    "static": NotAPage("text/css", "static files", params=lambda s: {"filename": "css/app.css"}),
    "assets.asset": NotAPage("text/css", "fingerprinted static files", params=_fingerprinted_css),
    "pwa.manifest": NotAPage("application/manifest+json", "the web app manifest"),
    "pwa.service_worker": NotAPage("text/javascript", "the service worker"),
    "main.health": NotAPage("application/json", "the load balancers' health check"),
    "jury.digest": NotAPage(
        "application/json",
        "the juror's device compares it with its own ticks",
        "juror",
        lambda s: {"candidate_id": s.planned_candidate},
    ),
    "jury.session_state": NotAPage(
        "application/json", "a locked page asks whether the chair reopened", "juror"
    ),
    "deliberation.live_status": NotAPage(
        "text/html", "an htmx fragment of the deliberation overview, checked there", "chair"
    ),
    "deliberation.candidate_decisions": NotAPage(
        "text/html",
        "an htmx fragment of a member's candidate board, checked there",
        "member",
        lambda s: {"candidate_id": s.deliberating_candidate},
    ),
    "centre.jury_calendar": NotAPage(
        "text/calendar", "the jury's calendar file", "staff", lambda s: {"session_id": s.planned}
    ),
    "centre.convocation": NotAPage(
        "application/pdf",
        "a convocation letter",
        "staff",
        lambda s: {"session_id": s.planned, "candidate_id": s.planned_candidate},
    ),
    "centre.all_convocations": NotAPage(
        "application/pdf", "every convocation letter", "staff", lambda s: {"session_id": s.planned}
    ),
    "minutes.download_minutes": NotAPage(
        "application/pdf", "an archived procès-verbal", "staff", lambda s: {"session_id": s.locked}
    ),
    "minutes.download_result_sheet": NotAPage(
        "application/pdf", "an archived result sheet", "staff", _locked_candidate
    ),
    "minutes.download_synthesis_grid": NotAPage(
        "application/pdf", "an archived synthesis grid", "staff", _locked_candidate
    ),
}


# --------------------------------------------------------------------------- the seeded centre


@pytest.fixture(scope="module")
def scene(app, tmp_path_factory) -> Iterator[Scene]:
    """The seeded centre, for the whole module; emptied afterwards like the `db` fixture does."""
    saved = app.config.get("CANDIDATE_IMPORT_DIR")
    app.config["CANDIDATE_IMPORT_DIR"] = str(tmp_path_factory.mktemp("imports"))
    with app.app_context():
        try:
            certification = load_referential_file(NTC_YAML)
            built = build_scene(certification)
            db.session.remove()
            yield built
        finally:
            db.session.remove()
            _wipe(app)
            forget_referentials()
            app.config["CANDIDATE_IMPORT_DIR"] = saved


@pytest.fixture(autouse=True)
def server_errors(app) -> Iterator[None]:
    """An exception escaping a view during the test fails it (as the `live_server` fixture)."""
    errors: list[str] = []

    def record(sender, exception, **extra):
        errors.append(f"{type(exception).__name__}: {exception}")

    got_request_exception.connect(record, app)
    try:
        yield
    finally:
        got_request_exception.disconnect(record, app)
    if errors:
        pytest.fail("the live server raised:\n  - " + "\n  - ".join(errors), pytrace=False)


def _sign_in_staff(page: Page, email: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/centre/")


JUROR_ROLES = {
    "juror": "planned_member",
    "chair_before": "planned_chair",
    "chair": "deliberating_chair",
    "member": "deliberating_member",
    "chair_locked": "locked_chair",
}


@dataclass
class Visitors:
    """One signed-in browser context per (person, size), made on first use, kept for the module."""

    browser: Browser
    base_url: str
    scene: Scene
    pages: dict[tuple[str, str], Page] = field(default_factory=dict)

    def page(self, role: str, size: str, *, bypass_csp: bool = True) -> Page:
        key = (role, size) if bypass_csp else (role, f"{size}, CSP")
        if key not in self.pages:
            self.pages[key] = self._signed_in(role, size, bypass_csp=bypass_csp)
        return self.pages[key]

    def _signed_in(self, role: str, size: str, *, bypass_csp: bool) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url, bypass_csp=bypass_csp, **PROFILES[size]
        )
        context.set_default_timeout(TIMEOUT_MS)
        watch_console(context)
        page = context.new_page()
        if role in ("staff", "admin"):
            _sign_in_staff(
                page, self.scene.staff_email if role == "staff" else self.scene.admin_email
            )
        elif role in JUROR_ROLES:
            juror = self.scene.jurors[JUROR_ROLES[role]]
            sign_in_juror(page, juror.token, juror.pin)
        elif role != "anonymous":
            raise ValueError(role)
        return page

    def stranger(self, size: str) -> Page:
        """A fresh context under the real CSP, signed in as no one (closed with the others)."""
        page = self._signed_in("anonymous", size, bypass_csp=False)
        self.pages[("stranger", f"{size} #{len(self.pages)}")] = page
        return page

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture(scope="module")
def visitors(browser, _live_server_thread, scene) -> Iterator[Visitors]:
    made = Visitors(browser, _live_server_thread.url, scene)
    yield made
    made.close()


def path_of(app, endpoint: str, params: dict) -> str:
    with app.test_request_context():
        return url_for(endpoint, **params)


# --------------------------------------------------------------------------- the route list


def test_every_get_route_is_visited_or_left_out_with_a_reason(app):
    rules = list(app.url_map.iter_rules())
    get_routes = {rule.endpoint: rule.rule for rule in rules if "GET" in rule.methods}
    visited = {visit.endpoint for visit in VISITS}

    unchecked = sorted(set(get_routes) - visited - set(NOT_PAGES))
    assert not unchecked, (
        "GET routes neither visited nor left out with a reason (add a Visit to VISITS, or a "
        "NotAPage to NOT_PAGES): " + ", ".join(f"{e} ({get_routes[e]})" for e in unchecked)
    )
    known = {rule.endpoint for rule in rules}
    assert not (visited | set(NOT_PAGES)) - known, "VISITS or NOT_PAGES name a route that is gone"
    assert not visited & set(NOT_PAGES), "a route is both visited and left out"
    assert all(excluded.reason for excluded in NOT_PAGES.values())
    assert len({visit.name for visit in VISITS}) == len(VISITS), "two visits share a name"


def test_the_routes_left_out_are_not_pages(app, visitors, scene):
    """Each left-out route answers what NOT_PAGES says (a fragment is never a whole page)."""
    wrong = []
    for endpoint, excluded in NOT_PAGES.items():
        page = visitors.page(excluded.role, "desktop")
        url = path_of(app, endpoint, excluded.params(scene))
        # identity: Flask-Compress streaming /static/ files leaves the file to the garbage
        # collector (a ResourceWarning under filterwarnings=error); reported, not ours to fix.
        response = page.request.get(url, max_redirects=0, headers={"Accept-Encoding": "identity"})
        served = response.headers.get("content-type", "")
        body = response.body()
        if response.status != 200 or not served.startswith(excluded.serves):
            wrong.append(f"{endpoint} {url}: {response.status} {served!r}")
        elif served.startswith("text/html") and re.search(rb"<html|<body", body, re.IGNORECASE):
            wrong.append(f"{endpoint} {url}: a whole HTML page, not a fragment")
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------- every page


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("visit", VISITS, ids=[visit.name for visit in VISITS])
def test_page_is_accessible(app, visitors, scene, visit: Visit, size: str):
    page = visitors.page(visit.role, size)
    console_log(page).clear()
    if visit.reach is not None:
        status = visit.reach(page, scene)
    else:
        status = page.goto(path_of(app, visit.endpoint, visit.params(scene))).status
    label = f"{visit.name} ({visit.role}, {size})"
    assert status == visit.status, f"{label}: HTTP {status} at {page.url}"

    assert_no_axe_violations(page, label)
    if size == "phone":
        assert_no_horizontal_scroll(page)
        assert_tap_targets(page, "header, main, footer")
    # The document's own status is logged as a failed load when it is not 200 (as expected).
    expected = [rf"status of {visit.status} .*\[{re.escape(page.url)}:"] if status != 200 else []
    assert_no_console_errors(page, ignore=expected)


# --------------------------------------------------------------------------- keyboard only

_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgb = (text) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(text || '');
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) => {
    const f = (v) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (x, y) => {
    const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  // The ring is drawn just outside the control: it shows against the first opaque background
  // behind it.
  let behind = null;
  for (let n = el.parentElement; n && !behind; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c && c.a > 0.5) behind = c;
  }
  behind = behind || { r: 255, g: 255, b: 255, a: 1 };
  const s = getComputedStyle(el);
  const rings = [];
  if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) rings.push(rgb(s.outlineColor));
  if (s.boxShadow !== 'none') rings.push(rgb(s.boxShadow));
  return {
    tag: el.tagName.toLowerCase(),
    type: el.tagName === 'INPUT' ? el.type : '',
    what: `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}> ` +
          (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40),
    rings: rings.length,
    contrast: Math.max(0, ...rings.filter(Boolean).map((c) => ratio(c, behind))),
  };
}"""
MIN_RING_CONTRAST = 3  # WCAG 1.4.11: a focus indicator is a state of the control


def assert_focus_visible(page: Page, focus: dict | None = None) -> dict:
    """The focused control draws a ring (an outline of 2 px or more, or a box shadow), and one
    of its colours stands out 3:1 against what is behind it."""
    focus = focus or page.evaluate(_FOCUS)
    assert focus is not None, f"nothing has the focus on {page.url}"
    assert focus["rings"], f"no visible focus on {focus['what']} ({page.url})"
    assert focus["contrast"] >= MIN_RING_CONTRAST, (
        f"focus ring of {focus['what']} at {focus['contrast']:.2f}:1 on {page.url}"
    )
    return focus


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus, checking the ring on it."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if target.evaluate("(el) => el === document.activeElement"):
            assert_focus_visible(page)
            return
    pytest.fail(f"{key} never reached {target} on {page.url}", pytrace=False)


def type_into(page: Page, target: Locator, text: str) -> None:
    tab_to(page, target)
    page.keyboard.type(text)


def choose(page: Page, select: Locator, label: str, *, limit: int = 30) -> None:
    """Pick an option of a focused <select> with the arrow keys."""
    tab_to(page, select)
    page.keyboard.press("Home")
    for _ in range(limit):
        if select.evaluate("(el) => el.options[el.selectedIndex].text") == label:
            return
        page.keyboard.press("ArrowDown")
    pytest.fail(f"no option {label!r} in {select}", pytrace=False)


def type_date(page: Page, field: Locator, day: dt.date) -> None:
    """Type a date into a native date field, in the order this browser shows its parts.

    The order follows the browser's own language, not the page's (jj/mm/aaaa for a French
    Chromium, mm/dd/yyyy for an English one): a probe tells which, then the date is typed
    over it, starting again from the first part (a date field has one Tab stop per part).
    """
    tab_to(page, field)
    page.keyboard.type("11122000")  # the 11th of December in dd mm, the 12th of November in mm dd
    order = {"2000-12-11": "%d%m%Y", "2000-11-12": "%m%d%Y"}.get(field.input_value())
    assert order, f"unexpected date field order: typed 11 12 2000, got {field.input_value()!r}"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type(day.strftime(order))
    assert field.input_value() == day.isoformat()


def read(statement):
    """What the server committed: a fresh snapshot, released at once (SQLite's lock)."""
    db.session.rollback()
    try:
        return db.session.execute(statement).all()
    finally:
        db.session.rollback()


def submit_with_enter(page: Page, field: Locator, flash: str) -> None:
    """Enter in a text field submits its form (implicit submission); the next page says so."""
    tab_to(page, field)
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text(flash)


def press_enter_on(page: Page, target: Locator, *, backwards: bool = False) -> None:
    tab_to(page, target, backwards=backwards)
    page.keyboard.press("Enter")


def sign_in_with_the_keyboard(page: Page, email: str) -> None:
    page.goto("/connexion")
    type_into(page, page.get_by_label("Adresse e-mail"), email)
    type_into(page, page.get_by_label("Mot de passe"), STAFF_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/centre/$"))


def test_staff_plan_a_whole_session_with_the_keyboard_only(visitors, scene):
    page = visitors.stranger("desktop")
    sign_in_with_the_keyboard(page, scene.staff_email)
    first_day = dt.date.today() + dt.timedelta(days=60)

    # A new session, from the list.
    press_enter_on(page, page.get_by_role("link", name="Nouvelle session"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle session")
    choose(
        page,
        page.get_by_label("Type de session et version du référentiel"),
        "TP-00338 v07 — Titre professionnel complet",
    )
    type_into(page, page.get_by_label("Centre", exact=True), "Centre du clavier")
    type_into(page, page.get_by_label("Salles (séparées par des virgules)"), "Salle A, Salle B")
    type_date(page, page.get_by_label("Premier jour"), first_day)
    type_date(page, page.get_by_label("Dernier jour"), first_day + dt.timedelta(1))
    submit_with_enter(page, page.get_by_label("Numéro de session CERES"), "Session créée")
    [(session_id, starts_on, ends_on)] = read(
        select(ExamSession.id, ExamSession.starts_on, ExamSession.ends_on).where(
            ExamSession.centre == "Centre du clavier"
        )
    )
    assert (starts_on, ends_on) == (first_day, first_day + dt.timedelta(1))

    # Two jurors: the first as chair, then the chair handed to the second.
    for first_name, chair in (("Hélène", True), ("Karim", False)):
        press_enter_on(page, page.get_by_role("link", name="Ajouter un membre"))
        type_into(page, page.get_by_label("Prénom"), first_name)
        type_into(page, page.get_by_label("Nom", exact=True), "Clavier")
        type_into(page, page.get_by_label("Adresse e-mail"), f"{first_name.lower()}@example.org")
        if chair:
            tab_to(page, page.get_by_label("Président du jury"))
            page.keyboard.press("Space")
            expect(page.get_by_label("Président du jury")).to_be_checked()
        submit_with_enter(page, page.get_by_label("Numéro d'habilitation"), "ajouté(e) au jury")
    press_enter_on(page, page.get_by_role("button", name="Nommer président Karim Clavier"))
    expect(page.locator(".flash-success")).to_contain_text("préside désormais le jury")
    chairs = read(
        select(JuryMember.first_name).where(
            JuryMember.session_id == session_id, JuryMember.role == JuryRole.CHAIR
        )
    )
    assert chairs == [("Karim",)]

    # One candidate by hand, by capitalisation: the CCP already held is ticked with Space.
    press_enter_on(page, page.get_by_role("link", name="Ajouter un candidat"))
    type_into(page, page.get_by_label("Numéro de candidat"), "K-001")
    type_into(page, page.get_by_label("Nom", exact=True), "Touche")
    type_into(page, page.get_by_label("Prénom"), "Tabulation")
    type_date(page, page.get_by_label("Date de naissance"), dt.date(1996, 5, 4))
    choose(page, page.get_by_label("Parcours"), "Capitalisation")
    held = page.get_by_role("group", name="CCP déjà acquis").get_by_role("checkbox").first
    tab_to(page, held)
    page.keyboard.press("Space")
    expect(held).to_be_checked()
    submit_with_enter(page, page.get_by_label("Nombre de diapositives"), "K-001 ajouté")
    [(candidate_id, route)] = read(
        select(Candidate.id, Candidate.route).where(Candidate.candidate_number == "K-001")
    )
    assert route.value == "capitalisation"
    held_codes = read(
        select(Ccp.code)
        .join(HeldCcp, HeldCcp.ccp_id == Ccp.id)
        .where(HeldCcp.candidate_id == candidate_id)
    )
    assert held_codes == [("CCP1",)]

    # Three from a file: the file chooser is the one thing a keyboard cannot fill in a test.
    press_enter_on(page, page.get_by_role("link", name="Importer un fichier"))
    chooser = page.get_by_label("Fichier des candidats (CSV ou Excel .xlsx)")
    tab_to(page, chooser)
    chooser.set_input_files(IMPORTS / "candidats_utf8.csv")
    press_enter_on(page, page.get_by_role("button", name="Vérifier le fichier"))
    expect(page.get_by_role("heading", name="3 candidats seront créés")).to_be_visible()
    press_enter_on(page, page.get_by_role("button", name="Créer les 3 candidats"))
    expect(page.locator(".flash-success")).to_contain_text("3 candidats importés.")
    numbers = read(select(Candidate.candidate_number).where(Candidate.session_id == session_id))
    assert sorted(n for (n,) in numbers) == ["2026-101", "2026-102", "2026-103", "K-001"]

    # The timetable, from the session's own navigation.
    press_enter_on(
        page,
        page.get_by_role("navigation", name="Pages de la session").get_by_role(
            "link", name="Planning"
        ),
    )
    press_enter_on(page, page.get_by_role("button", name="Générer le planning"))
    expect(page.locator(".flash-success")).to_contain_text("Planning généré.")
    scheduled = read(
        select(func.count(func.distinct(ScheduleSlot.candidate_id)))
        .join(Candidate, ScheduleSlot.candidate_id == Candidate.id)
        .where(Candidate.session_id == session_id)
    )
    assert scheduled == [(4,)]

    # Every juror's link and PIN, printed from the session page.
    press_enter_on(
        page,
        page.get_by_role("navigation", name="Pages de la session").get_by_role(
            "link", name="Session"
        ),
        backwards=True,
    )
    press_enter_on(
        page, page.get_by_role("button", name="Émettre tous les liens et imprimer les cartes")
    )
    expect(page.locator(".access-card")).to_have_count(2)
    expect(page.locator("[data-pin]")).to_have_count(2)
    assert_no_console_errors(page)


def test_staff_archive_the_minutes_with_the_keyboard_only(visitors, scene):
    page = visitors.page("staff", "desktop", bypass_csp=False)
    page.goto("/centre/")
    press_enter_on(
        page,
        page.get_by_role("navigation", name="Navigation du centre").get_by_role(
            "link", name="Archives"
        ),
    )
    press_enter_on(page, page.locator(f"#archive-session-{scene.to_archive} a"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Archives de la session")

    press_enter_on(page, page.get_by_role("button", name="Procès-verbal", exact=True))
    expect(page.locator(".flash-success")).to_contain_text("Documents enregistrés")
    press_enter_on(
        page, page.get_by_role("button", name="Fiches de résultats et grilles de synthèse")
    )
    expect(page.locator(".flash-success")).to_contain_text("Documents enregistrés")
    kinds = read(select(MinutesDocument.kind).where(MinutesDocument.session_id == scene.to_archive))
    assert sorted(k for (k,) in kinds) == ["minutes", "result_sheet", "synthesis_grid"]
    # The downloads are reachable from the keyboard too.
    tab_to(page, page.locator("#archive-documents a").first)
    assert_no_console_errors(page)


@pytest.mark.parametrize("size", SIZES)
def test_the_focus_ring_shows_on_every_kind_of_control(visitors, scene, size):
    """Tab through whole pages, from the skip link to the language buttons: every stop (links,
    buttons, fields, checkboxes, radio buttons, the file chooser, scrolling tables) shows a ring."""
    kinds: set[str] = set()
    for role, path in (
        ("staff", f"/centre/sessions/{scene.planned}"),
        ("staff", f"/centre/sessions/{scene.planned}/candidats/{scene.planned_candidate}/modifier"),
        ("staff", f"/centre/sessions/{scene.planned}/candidats/import"),
        ("chair", f"/jury/deliberation/candidats/{scene.deliberating_candidate}"),
    ):
        page = visitors.page(role, size, bypass_csp=False)
        page.goto(path)
        for _ in range(300):
            page.keyboard.press("Tab")
            focus = page.evaluate(_FOCUS)
            if focus is None:  # past the last control: the focus left the document
                break
            assert_focus_visible(page, focus)
            kinds.add(f"{focus['tag']}[{focus['type']}]" if focus["type"] else focus["tag"])
        else:
            pytest.fail(f"Tab never left {path}: a keyboard trap?", pytrace=False)
    expected = {"a", "button", "select", "textarea", "div", "input[text]", "input[checkbox]"}
    assert expected | {"input[file]", "input[radio]", "input[date]", "input[number]"} <= kinds, (
        kinds
    )


def test_the_seeded_centre_has_what_the_pages_need(visitors, scene):
    """Guards the seed: empty pages would pass axe for the wrong reason."""
    documents = read(
        select(MinutesDocument.kind, func.count())
        .where(MinutesDocument.session_id == scene.locked)
        .group_by(MinutesDocument.kind)
    )
    assert dict(documents) == {"minutes": 1, "result_sheet": 2, "synthesis_grid": 2}
    assert read(select(func.count()).select_from(ScheduleSlot))[0][0] > 0
    # The held CCP shows as a ticked box on the candidate's file (it was a bare <option>).
    page = visitors.page("staff", "desktop")
    page.goto(f"/centre/sessions/{scene.planned}/candidats/{scene.holder_candidate}/modifier")
    boxes = page.get_by_role("group", name="CCP déjà acquis").get_by_role("checkbox")
    expect(boxes).to_have_count(2)
    expect(boxes.first).to_be_checked()
    expect(boxes.last).not_to_be_checked()
