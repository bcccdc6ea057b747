"""Once the session is locked (every signature in), the juror's phone (390 × 844) says so, shows
the juror's ticks read-only, and stops talking to the server on its own.

The page's timers run on Playwright's clock: minutes of the phone's life pass in a moment, and
"nothing polls" is checked over them rather than assumed. The server's refusals of writes on a
locked session are tested in tests/jury and tests/deliberation.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from ntc_jury.core.vocabulary import SessionState
from ntc_jury.models import JuryMember, utcnow
from tests.browser import (
    assert_no_axe_violations,
    assert_no_console_errors,
    assert_no_horizontal_scroll,
    test_scoring,
)
from tests.browser.test_juror_feedback import on_the_server
from tests.browser.test_scoring import Day, phase_path, settled, sign_in

pytestmark = pytest.mark.browser
day = test_scoring.day  # a juror, two candidates, a link and a PIN

LOCKED = (
    "La session est verrouillée : les décisions sont signées, plus aucune saisie n'est possible."
)
NOTE = "Reformule le besoin, écoute active"
# Longer than every period of the juror's pages (sync every 20 s, heartbeat every 15 s).
A_WHILE_MS = 3 * 60 * 1000
# Real time given to a request the page would make once its timers fired: far more than the
# milliseconds it takes (the storage read before it), short enough for a test.
NO_REQUEST_WITHIN_MS = 3_000


def talks_to_server(request: Request) -> bool:
    """What the juror's pages send on their own: the outbox's sync and heartbeat, the ledger's
    comparison, htmx polls."""
    path = urlsplit(request.url).path
    return (
        path == "/jury/operations"
        or path.endswith("/empreinte")
        or request.headers.get("hx-request") == "true"
    )


def lock(db, day: Day) -> None:
    """What the last signature does to the session (deliberation/operations.py `_lock`)."""
    db.session.rollback()
    session = db.session.get(JuryMember, day.juror_id).session
    session.locked_at = utcnow()
    session.state = SessionState.CLOSED
    db.session.commit()


def scored_then_locked(db, day: Day) -> tuple[int, int]:
    """The juror cleared the candidate, ticked one criterion and wrote a note; then the lock."""
    ticked, unticked = day.criteria["CP6"][0], day.criteria["CP6"][1]
    on_the_server(db, day, "conflict", has_conflict=False)
    on_the_server(db, day, "mark", modality="MSP", criterion_id=ticked, observed=True)
    on_the_server(db, day, "observation", phase_id=day.phases["MSP-NEGOCIATION"], text=NOTE)
    lock(db, day)
    return ticked, unticked


def assert_nothing_polls(page: Page) -> None:
    """Minutes pass on the page's clock, and it sends nothing."""
    with (
        pytest.raises(PlaywrightTimeoutError),
        page.expect_request(talks_to_server, timeout=NO_REQUEST_WITHIN_MS),
    ):
        page.clock.run_for(A_WHILE_MS)


def test_a_locked_session_is_said_shown_read_only_and_never_polled(db, day, phone):
    page = phone
    ticked, unticked = scored_then_locked(db, day)
    page.clock.install()
    sent: list[str] = []
    page.context.on(
        "request",
        lambda r: sent.append(f"{r.method} {urlsplit(r.url).path}") if talks_to_server(r) else None,
    )

    sign_in(page, day)
    expect(page.locator("#session-locked")).to_be_visible()
    expect(page.locator("#session-locked")).to_contain_text(LOCKED)

    page.goto(f"/jury/candidats/{day.candidate_id}")
    expect(page.locator("#session-locked")).to_contain_text(LOCKED)
    expect(page.locator("#conflict")).to_contain_text("Vous avez confirmé n'avoir aucun lien")
    expect(page.locator("#grids button, form[data-operation]")).to_have_count(0)

    page.goto(phase_path(day, "MSP-NEGOCIATION"))
    expect(page.locator("#session-locked")).to_be_visible()
    expect(page.locator("#session-locked")).to_contain_text(LOCKED)
    # The juror's ticks, as they stand, with nothing to press.
    expect(page.locator(f"#crit-MSP-{ticked} .tick-readonly")).to_have_attribute(
        "data-observed", "true"
    )
    expect(page.locator(f"#crit-MSP-{unticked} .tick-readonly")).to_have_attribute(
        "data-observed", "false"
    )
    expect(page.locator("button.tick")).to_have_count(0)
    expect(page.locator("form[data-operation]")).to_have_count(0)
    expect(page.locator("#timer")).to_have_count(0)
    note = page.get_by_label("Vos notes (ce que vous avez vu et entendu)")
    expect(note).to_have_value(NOTE)
    expect(note).not_to_be_editable()
    # This phone and the server agree, compared once when the page opened.
    expect(page.locator("#ledger-status")).to_have_attribute("data-agree", "true")
    assert_no_horizontal_scroll(page)

    assert_nothing_polls(page)
    # Not a heartbeat since signing in; one comparison per page that shows ticks, no more.
    assert [s for s in sent if s.startswith("POST")] == []
    assert sent.count(f"GET /jury/candidats/{day.candidate_id}/empreinte") <= 2, sent
    assert_no_console_errors(page)


def test_a_page_open_before_the_lock_learns_of_it_and_stops_syncing(db, day, phone):
    page = phone
    ticked = day.criteria["CP6"][0]
    on_the_server(db, day, "conflict", has_conflict=False)
    on_the_server(db, day, "mark", modality="MSP", criterion_id=ticked, observed=True)
    page.clock.install()
    sign_in(page, day)
    page.goto(phase_path(day, "MSP-NEGOCIATION"))
    settled(page)
    expect(page.locator("#session-locked")).to_be_hidden()

    lock(db, day)
    # Its next periodic sync hears of the lock: the page says so.
    page.clock.run_for(60_000)
    expect(page.locator("#session-locked")).to_be_visible()
    expect(page.locator("#session-locked")).to_contain_text(LOCKED)

    assert_nothing_polls(page)
    assert_no_console_errors(page)


def test_a_locked_sessions_pages_pass_axe(db, day, axe_phone):
    page = axe_phone
    scored_then_locked(db, day)
    sign_in(page, day)
    assert_no_axe_violations(page, "session home, locked (phone)")
    page.goto(f"/jury/candidats/{day.candidate_id}")
    assert_no_axe_violations(page, "candidate page, locked (phone)")
    page.goto(phase_path(day, "MSP-NEGOCIATION"))
    for summary in page.locator("details.sub summary").all():
        summary.click()  # the transversal ticks and competency notes too
    assert_no_axe_violations(page, "phase page, locked (phone)")


def is_state_check(request: Request) -> bool:
    return urlsplit(request.url).path == "/jury/session/etat"


def test_a_locked_page_asks_once_a_minute_and_reloads_when_reopened(db, day, phone):
    page = phone
    scored_then_locked(db, day)
    page.clock.install()
    sign_in(page, day)
    page.goto(phase_path(day, "MSP-NEGOCIATION"))
    expect(page.locator("#session-locked")).to_be_visible()
    # Still locked: one small GET a minute, and the page stays as it is.
    with page.expect_request(is_state_check) as asked:
        page.clock.run_for(60_000)
    assert asked.value.method == "GET"
    expect(page.locator("#session-locked")).to_be_visible()

    # The chair reopens the deliberation for a correction (deliberation/operations.py).
    db.session.rollback()
    session = db.session.get(JuryMember, day.juror_id).session
    session.locked_at = None
    session.state = SessionState.DELIBERATION
    db.session.commit()
    with page.expect_event("load"):
        page.clock.run_for(60_000)
    expect(page.locator("#session-locked")).to_be_hidden()
    ticked = day.criteria["CP6"][0]
    # Rendered as the reopened session is: buttons again, not the locked read-only marks.
    expect(page.locator(f"#crit-MSP-{ticked} button.tick")).to_have_count(1)
    assert_no_console_errors(page)
