"""Offline-first, proven in Chromium: nothing lost, nothing doubled, pages readable offline."""

from __future__ import annotations

import contextlib
import json
import uuid

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import func, select

from ntc_jury.core.vocabulary import OperationStatus
from ntc_jury.jury.operations import apply_operation
from ntc_jury.models import AppliedOperation, AuditEvent, ConflictDeclaration, Mark, Observation
from tests.browser import assert_no_axe_violations
from tests.browser.conftest import CHROMIUM_ARGS, CHROMIUM_PATH, PROFILES
from tests.factories import issue_access, make_session

SYNCED = (
    "() => { const s = document.getElementById('sync-status');"
    " return s && s.dataset.pending === '0' && s.dataset.state === 'saved'; }"
)
CONTROLLED = "() => navigator.serviceWorker.controller !== null"


@pytest.fixture
def scene(ntc, db):
    session = make_session(ntc, jurors=2, candidates=2)
    juror = session.jury_members[1]
    issued = issue_access(juror)
    for candidate in session.candidates:
        apply_operation(
            member=juror,
            op_id=str(uuid.uuid4()),
            kind="conflict",
            payload={"candidate_id": candidate.id, "has_conflict": False},
        )
    db.session.commit()
    return session, juror, issued


@pytest.fixture
def open_app(browser, live_server, tmp_path):
    """Open the app like a phone that keeps its storage across restarts (persistent profile)."""
    contexts = []

    def launch(*, bypass_csp: bool = False):
        # bypass_csp only where a test runs axe-core, which is injected into the page.
        context = browser.browser_type.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM_PATH),
            headless=True,
            args=CHROMIUM_ARGS,
            base_url=live_server,
            bypass_csp=bypass_csp,
            **PROFILES["phone"],
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context, context.pages[0] if context.pages else context.new_page()

    yield launch
    for context in contexts:
        # Some were already closed by the test on purpose (the phone closing the app).
        with contextlib.suppress(PlaywrightError):
            context.close()


SHELL_LOG = "() => window.ntcOfflineShell || []"


def _sign_in(page, issued):
    _sign_in_uncontrolled(page, issued)
    _wait_until_controlled(page)


def _sign_in_uncontrolled(page, issued):
    page.goto(f"/j/{issued.token}")
    page.fill("input[name=pin]", issued.pin)
    page.click("#pin-form button[type=submit]")
    page.wait_for_url("**/jury/")


def _wait_until_controlled(page):
    """The first worker installed and in charge; a failed install is retried by the page
    itself (app.js), so a timeout here names what the worker said."""
    try:
        page.wait_for_function(CONTROLLED, timeout=30_000)
    except PlaywrightTimeoutError:
        pytest.fail(f"no service worker in charge; the page saw {page.evaluate(SHELL_LOG)}")


@pytest.fixture
def flaky_server(app):
    """Make the live server answer 503 to the next `times` requests for a path (a request
    that bad wifi lost); counts every request made for it."""
    wrapped = app.wsgi_app
    failing: dict[str, int] = {}
    seen: dict[str, int] = {}

    def middleware(environ, start_response):
        path = environ.get("PATH_INFO", "")
        seen[path] = seen.get(path, 0) + 1
        if failing.get(path, 0) > 0:
            failing[path] -= 1
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"lost"]
        return wrapped(environ, start_response)

    class Flaky:
        def fail(self, path: str, times: int) -> None:
            failing[path] = times

        def requests(self, path: str) -> int:
            return seen.get(path, 0)

    app.wsgi_app = middleware
    try:
        yield Flaky()
    finally:
        app.wsgi_app = wrapped


def _phase_urls(page, candidate_id):
    page.goto(f"/jury/candidats/{candidate_id}")
    hrefs = page.eval_on_selector_all(
        "#phases a.phase-title", "links => links.map(a => a.getAttribute('href'))"
    )
    assert hrefs, "the cleared juror sees the phases as links"
    return hrefs


def _criteria_buttons(page):
    return page.locator("li.criterion button.tick:not([disabled])")


def _on_a_phase_page(scene, open_app):
    """Signed in on a fresh phone, on a phase page with criteria, everything synced."""
    session, _juror, issued = scene
    context, page = open_app()
    _sign_in(page, issued)
    urls = _phase_urls(page, session.candidates[0].id)
    page.goto(urls[5])
    page.wait_for_function(SYNCED)
    return context, page, urls


OPERATIONS = "**/jury/operations"


def go_offline(context) -> None:
    """The network gone. Chromium's offline emulation alone let a send through now and then
    (CI, PostgreSQL: a POST reached the server from a page controlled by the service
    worker), so the outbox's endpoint is cut as well, as the wifi would cut it."""
    context.set_offline(True)
    context.route(OPERATIONS, lambda route: route.abort("internetdisconnected"))


def test_offline_ticks_survive_reload_and_restart_and_arrive_once(db, scene, open_app):
    session, juror, issued = scene
    context, page = open_app()
    _sign_in(page, issued)
    plan = {}
    for candidate in session.candidates:
        urls = _phase_urls(page, candidate.id)
        # Two MSP oral phases and one ET phase, visited online so they are cached.
        plan[candidate.id] = [urls[2], urls[5], urls[7]]
        for url in plan[candidate.id]:
            page.goto(url)
    go_offline(context)
    ticked = []
    for candidate in session.candidates:
        for url in plan[candidate.id]:
            page.goto(url)
            buttons = _criteria_buttons(page)
            for index in range(min(5, buttons.count(), 30 - len(ticked))):
                button = buttons.nth(index)
                if button.get_attribute("aria-pressed") == "false":
                    button.click()
                    item = button.locator("xpath=ancestor::li[1]").get_attribute("id")
                    ticked.append((candidate.id, item))
    assert len(set(ticked)) == len(ticked) == 30
    phase_url = plan[session.candidates[0].id][0]
    page.goto(phase_url)
    note = page.locator("textarea[data-observation]").last
    note.fill("Écoute active, reformulation précise")
    page.wait_for_function(
        "n => Number(document.querySelector('#sync-status').dataset.pending) === n",
        arg=len(ticked) + 1,
    )
    assert "Hors ligne" in page.text_content("#sync-status")
    pending_before = len(ticked) + 1

    page.reload()  # offline: the page comes from the service worker's cache
    # The outbox replays what this device recorded onto the cached page (asynchronously).
    page.wait_for_function(
        "() => [...document.querySelectorAll('textarea[data-observation]')]"
        ".some(t => t.value.startsWith('Écoute'))"
    )
    page.wait_for_function("() => document.querySelector('#sync-status').dataset.pending > 0")
    for candidate_id, item in ticked:
        if candidate_id == session.candidates[0].id and page.locator(f"#{item}").count():
            assert page.locator(f"#{item} button.tick").get_attribute("aria-pressed") == "true"

    context.close()  # the phone closes the app, still offline
    context, page = open_app()
    go_offline(context)
    page.goto(phase_url)
    # Counted as the start-up reads the phone's storage (a note left as a draft by the reload
    # is recorded then): wait for the whole count, not the first figure shown.
    page.wait_for_function(
        "n => Number(document.querySelector('#sync-status').dataset.pending) === n",
        arg=pending_before,
    )
    assert db.session.scalar(select(func.count()).select_from(Mark)) == 0

    context.unroute(OPERATIONS)
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(SYNCED)
    db.session.rollback()  # end the test's read snapshot: see what the server committed
    ops = db.session.scalars(
        select(AppliedOperation).where(AppliedOperation.jury_member_id == juror.id)
    ).all()
    marks = [o for o in ops if o.kind == "mark"]
    assert len(marks) == len(ticked)
    assert all(o.status == OperationStatus.APPLIED for o in marks)
    assert len({o.op_id for o in ops}) == len(ops)
    observed = db.session.scalar(
        select(func.count())
        .select_from(Mark)
        .where(Mark.jury_member_id == juror.id, Mark.observed.is_(True))
    )
    assert observed == len(ticked)
    text = db.session.scalar(select(Observation.text).where(Observation.jury_member_id == juror.id))
    assert text == "Écoute active, reformulation précise"
    page.wait_for_function(
        "() => document.getElementById('ledger-status').dataset.agree === 'true'"
    )


def test_flipping_the_network_fifty_times_during_two_hundred_ticks(db, scene, open_app):
    session, juror, issued = scene
    context, page = open_app()
    _sign_in(page, issued)
    candidate = session.candidates[0]
    url = _phase_urls(page, candidate.id)[5]  # the face-to-face negotiation: many criteria
    page.goto(url)
    buttons = _criteria_buttons(page)
    count = buttons.count()
    assert count >= 10
    presses = [0] * count
    offline = False
    for tick in range(200):
        if tick % 4 == 0:
            offline = not offline
            context.set_offline(offline)
            page.evaluate(
                f"() => window.dispatchEvent(new Event('{'offline' if offline else 'online'}'))"
            )
        buttons.nth(tick % count).click()
        presses[tick % count] += 1
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(SYNCED, timeout=60_000)
    db.session.rollback()  # end the test's read snapshot: see what the server committed
    ops = db.session.scalars(
        select(AppliedOperation).where(
            AppliedOperation.jury_member_id == juror.id, AppliedOperation.kind == "mark"
        )
    ).all()
    assert len(ops) == 200, "every tick arrived"
    assert len({o.op_id for o in ops}) == 200, "none twice"
    audited = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "mark_recorded")
    )
    assert audited == 200
    expected_on = sum(1 for n in presses if n % 2 == 1)
    on = db.session.scalar(
        select(func.count())
        .select_from(Mark)
        .where(Mark.jury_member_id == juror.id, Mark.observed.is_(True))
    )
    assert on == expected_on
    for index in range(count):
        state = buttons.nth(index).get_attribute("aria-pressed")
        assert state == ("true" if presses[index] % 2 else "false")


def _applied_marks(db, juror) -> int:
    db.session.rollback()  # end the test's read snapshot: see what the server committed
    return db.session.scalar(
        select(func.count())
        .select_from(AppliedOperation)
        .where(AppliedOperation.jury_member_id == juror.id, AppliedOperation.kind == "mark")
    )


def test_the_status_never_says_saved_before_the_phone_kept_the_tick(db, scene, open_app):
    """The status changes in the tap itself, before IndexedDB answers: a stale "Tout est
    enregistré" right after a tap was what a test (and a juror) could read as synced."""
    _session, juror, _issued = scene
    _context, page, _urls = _on_a_phase_page(scene, open_app)
    during_tap = page.evaluate(
        """() => {
            document.querySelector('li.criterion button.tick:not([disabled])').click();
            const s = document.getElementById('sync-status');
            return [s.dataset.state, s.dataset.pending];
        }"""
    )
    assert during_tap == ["pending", "1"]
    page.wait_for_function(SYNCED)
    assert _applied_marks(db, juror) == 1


def test_a_tick_the_phone_could_not_keep_is_shown_as_an_error(db, scene, open_app):
    _session, juror, _issued = scene
    _context, page, _urls = _on_a_phase_page(scene, open_app)
    page.evaluate(
        "() => { window.idbKeyval.set = () => Promise.reject(new Error('QuotaExceededError')); }"
    )
    button = _criteria_buttons(page).first
    item = button.locator("xpath=ancestor::li[1]")
    button.click()
    page.wait_for_function("() => document.getElementById('sync-status').dataset.state === 'error'")
    assert "recommencez" in page.text_content("#sync-status")
    assert item.get_attribute("data-state") == "error"
    assert _applied_marks(db, juror) == 0


def test_the_app_is_installable_and_the_worker_controls_juror_pages(
    db, scene, open_app, live_server
):
    _session, _juror, issued = scene
    _context, page = open_app()
    _sign_in(page, issued)
    manifest_href = page.get_attribute("link[rel=manifest]", "href")
    manifest = json.loads(page.evaluate("href => fetch(href).then(r => r.text())", manifest_href))
    assert manifest["lang"] == "fr" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/jury/"
    sizes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        status = page.evaluate("src => fetch(src).then(r => r.status)", icon["src"])
        assert status == 200
    scope = page.evaluate("() => navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server + "/"
    assert page.evaluate(CONTROLLED)


def test_signing_out_wipes_the_cached_pages_and_the_outbox(db, scene, open_app):
    session, _juror, issued = scene
    context, page = open_app()
    _sign_in(page, issued)
    page.goto(_phase_urls(page, session.candidates[0].id)[2])
    assert (
        page.evaluate("() => caches.open('ntc-pages').then(c => c.keys()).then(k => k.length)") > 0
    )
    page.click("#sign-out-form button")
    page.wait_for_url("**/")
    assert page.evaluate("() => caches.has('ntc-pages')") is False
    pending = page.evaluate(
        "() => new Promise(r => { const q = indexedDB.open('ntc-outbox');"
        " q.onsuccess = () => { const db = q.result; const t = db.transaction('operations');"
        " const c = t.objectStore('operations').count(); c.onsuccess = () => r(c.result); }; })"
    )
    assert pending == 0
    context.set_offline(True)
    page.goto(f"/jury/candidats/{session.candidates[0].id}")
    assert "Hors ligne" in page.content()


def test_the_summary_sheet_opens_offline(db, scene, open_app):
    session, _juror, issued = scene
    chair = session.jury_members[0]
    from ntc_jury.core.vocabulary import SessionState
    from ntc_jury.models import Deliberation

    db.session.add(Deliberation(session_id=session.id, round=1, opened_by_id=chair.id))
    session.state = SessionState.DELIBERATION
    db.session.commit()
    context, page = open_app()
    _sign_in(page, issued)
    candidate = session.candidates[0]
    page.goto(f"/jury/deliberation/candidats/{candidate.id}/synthese")
    assert "Fiche de synthèse" in page.text_content("h1")
    context.set_offline(True)
    page.reload()
    assert "Fiche de synthèse" in page.text_content("h1")
    assert candidate.last_name.upper() in page.text_content("#summary-sheet")
    assert "sous réserve de validation par la DDETS" in page.text_content("#summary-sheet")


def test_a_new_version_waits_for_the_jurors_go_ahead(db, scene, open_app, app):
    _session, _juror, issued = scene
    _context, page = open_app()
    _sign_in(page, issued)
    assert page.is_hidden("#update-banner")
    assets = app.extensions["ntc_assets"]
    original = assets["version"]
    assets["version"] = original + "-next"  # what a deployment of new assets looks like
    try:
        page.evaluate("() => navigator.serviceWorker.getRegistration().then(r => r.update())")
        page.wait_for_selector("#update-banner", state="visible")
        # Until the juror agrees, the page keeps the worker it started with.
        assert page.evaluate("() => navigator.serviceWorker.controller !== null")
        with page.expect_navigation():
            page.click("[data-update-app]")
        page.wait_for_function(CONTROLLED)
        assert page.is_hidden("#update-banner")
    finally:
        assets["version"] = original


def test_a_shell_file_lost_once_does_not_cost_the_offline_install(scene, open_app, flaky_server):
    _session, _juror, issued = scene
    _context, page = open_app()
    flaky_server.fail("/sw.js", 1_000)  # no worker until the juror's page, below
    _sign_in_uncontrolled(page, issued)
    flaky_server.fail("/sw.js", 0)
    flaky_server.fail("/hors-ligne", 1)
    page.reload()
    _wait_until_controlled(page)
    # The worker fetched the lost file again within the same install: the page never saw
    # a failed install.
    assert flaky_server.requests("/hors-ligne") == 2
    log = page.evaluate(SHELL_LOG)
    assert log and log[-1] == "ready" and not any(e.startswith("failed") for e in log), log
    assert page.locator("#offline-shell").is_hidden()


def test_a_failed_first_install_is_tried_again_and_the_juror_is_told(scene, open_app, flaky_server):
    _session, _juror, issued = scene
    flaky_server.fail("/hors-ligne", 1_000)  # wifi that never delivers it, for now
    _context, page = open_app(bypass_csp=True)
    _sign_in_uncontrolled(page, issued)
    notice = page.locator("#offline-shell")
    notice.wait_for(state="visible", timeout=20_000)
    assert "pas encore prêt pour le hors-ligne" in notice.inner_text()
    assert_no_axe_violations(page, "the juror's home with the offline notice shown")
    assert page.evaluate("() => document.documentElement.dataset.offlineShell") == "failed"
    page.evaluate("() => { window.sameDocument = true; }")
    flaky_server.fail("/hors-ligne", 0)  # the network is back
    # The page registers the worker again by itself, without a reload.
    _wait_until_controlled(page)
    page.wait_for_function("() => document.documentElement.dataset.offlineShell === 'ready'")
    assert page.evaluate("() => window.sameDocument") is True
    assert notice.is_hidden()
    log = page.evaluate(SHELL_LOG)
    assert log[-1] == "ready", log
    assert "failed · /hors-ligne : HTTP 503" in log, log
    # Offline now, a page never visited still gets the offline page from the new worker.
    page.context.set_offline(True)
    page.goto("/jury/nulle-part")
    assert page.locator("#offline-page").is_visible()
    page.context.set_offline(False)


def _observation_text(db, juror) -> str | None:
    db.session.rollback()  # a fresh snapshot: what the server committed
    return db.session.scalar(select(Observation.text).where(Observation.jury_member_id == juror.id))


@pytest.mark.parametrize("leave", ["next page", "reload"])
def test_a_note_typed_just_before_leaving_the_page_is_kept(db, scene, open_app, leave):
    """The juror types and taps "next phase" (or reloads) at once: the page goes before its
    debounce fires or IndexedDB answers; the next page records the note from its draft."""
    _session, juror, _issued = scene
    _context, page, urls = _on_a_phase_page(scene, open_app)
    page.locator("textarea[data-observation]").last.fill("Relance client bien menée")
    # The header counts the note being typed as waiting, not "Tout est enregistré".
    assert page.eval_on_selector("#sync-status", "s => s.dataset.pending") == "1"
    if leave == "reload":
        page.reload()
    else:
        page.goto(urls[6])
    page.wait_for_function(SYNCED)
    assert _observation_text(db, juror) == "Relance client bien menée"


def test_a_server_error_is_not_a_lost_session_and_the_tick_goes_later(
    db, scene, open_app, flaky_server
):
    _session, juror, _issued = scene
    _context, page, _urls = _on_a_phase_page(scene, open_app)
    flaky_server.fail("/jury/operations", 2)  # a proxy's error page, twice
    _criteria_buttons(page).first.click()
    page.wait_for_function(
        "() => document.getElementById('sync-status').textContent.includes('Serveur injoignable')"
    )
    assert "Session expirée" not in page.text_content("#sync-status")
    assert page.eval_on_selector("#sync-status", "s => s.dataset.pending") == "1"
    page.wait_for_function(SYNCED)  # tried again by itself once the server answers
    assert _applied_marks(db, juror) == 1


def test_a_lost_session_is_said_and_the_tick_is_kept(db, scene, open_app):
    _session, juror, _issued = scene
    context, page, _urls = _on_a_phase_page(scene, open_app)
    context.clear_cookies()  # the sign-in is gone (expired, or revoked by the centre)
    _criteria_buttons(page).first.click()
    page.wait_for_function("() => document.getElementById('sync-status').dataset.state === 'error'")
    assert "Session expirée" in page.text_content("#sync-status")
    assert len(page.evaluate("() => window.ntcOutbox.pending()")) == 1
    assert _applied_marks(db, juror) == 0


CACHED = "url => caches.open('ntc-pages').then(c => c.match(url)).then(hit => !!hit)"


def test_a_candidate_never_opened_online_is_confirmed_and_scored_offline(db, ntc, open_app):
    """From the session home alone the phone caches every candidate's phase pages; offline,
    "Aucun lien" opens them at once and the ticks follow the confirmation to the server."""
    session = make_session(ntc, jurors=2, candidates=2)
    juror = session.jury_members[1]
    issued = issue_access(juror)
    db.session.commit()
    candidate = session.candidates[1]
    context, page = open_app()
    _sign_in(page, issued)
    candidate_url = page.locator(f"#candidate-{candidate.id} a").first.evaluate("a => a.href")
    # The home page's prefetch reaches the phases of a candidate the juror never opened.
    page.wait_for_function("() => document.body.dataset.prefetched === 'deep'", timeout=30_000)
    cached = page.evaluate(
        "() => caches.open('ntc-pages').then(c => c.keys()).then(k => k.map(r => r.url))"
    )
    phase_urls = [url for url in cached if url.startswith(candidate_url + "/phases/")]

    context.set_offline(True)
    page.goto(candidate_url)
    links = page.locator("#phases a.phase-title")
    hrefs = links.evaluate_all("links => links.map(a => a.href)")
    assert len(hrefs) > 5 and sorted(hrefs) == sorted(phase_urls), cached
    assert not links.first.is_visible()  # not before the juror says "no link"
    page.click("#confirm-no-link")
    assert page.locator("#conflict .ok").is_visible()
    assert links.first.is_visible() and page.locator("#confirm-no-link").is_hidden()
    links.nth(5).click()
    page.wait_for_url(hrefs[5])
    button = _criteria_buttons(page).first  # enabled by the pending confirmation
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert "Hors ligne" in page.text_content("#sync-status")

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(SYNCED)
    db.session.rollback()
    declared = db.session.scalar(
        select(ConflictDeclaration.has_conflict).where(
            ConflictDeclaration.jury_member_id == juror.id,
            ConflictDeclaration.candidate_id == candidate.id,
        )
    )
    assert declared is False
    assert _applied_marks(db, juror) == 1
