"""A juror scores on a phone (390 × 844), in headless Chromium: nothing typed or ticked is lost.

Waits use Playwright's auto-waiting `expect` and `wait_for_*`, never a fixed sleep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ntc_jury.models import ConflictDeclaration, GridCompletion, Mark, Modality, Observation
from ntc_jury.referential.queries import referential
from tests.browser import (
    assert_no_axe_violations,
    assert_no_console_errors,
    assert_no_horizontal_scroll,
    assert_tap_targets,
    read_committed,
    sign_in_juror,
)
from tests.factories import issue_access, make_session

pytestmark = pytest.mark.browser
CRITERION_MIN_PX = 48


@dataclass
class Day:
    token: str
    pin: str
    juror_id: int
    candidate_id: int
    name: str
    phases: dict[str, int]  # phase code → id
    criteria: dict[str, list[int]]  # competency code → criterion ids
    msp_id: int


@pytest.fixture
def day(db, ntc) -> Day:
    session = make_session(ntc, jurors=2, candidates=2)
    juror = session.jury_members[1]
    issued = issue_access(juror)
    candidate = session.candidates[0]
    ref = referential(ntc.id)
    fmt = ref.format(session.format_id)
    msp = db.session.execute(
        select(Modality.id).where(Modality.certification_id == ntc.id, Modality.code == "MSP")
    ).scalar_one()
    result = Day(
        token=issued.token,
        pin=issued.pin,
        juror_id=juror.id,
        candidate_id=candidate.id,
        name=candidate.full_name,
        phases={p.code: p.id for p in fmt.phases},
        criteria={c.code: [k.id for k in c.criteria] for c in ref.competencies},
        msp_id=msp,
    )
    db.session.commit()  # the live server sees committed rows only
    return result


def sign_in(page: Page, day: Day) -> None:
    sign_in_juror(page, day.token, day.pin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Candidats du jour")


def phase_path(day: Day, code: str) -> str:
    return f"/jury/candidats/{day.candidate_id}/phases/{day.phases[code]}"


def criterion_button(page: Page, criterion_id: int, modality: str = "MSP"):
    return page.locator(f"#crit-{modality}-{criterion_id} button.tick")


def tick(page: Page, criterion_id: int) -> None:
    """Tap a criterion; it shows ticked at once, then "saved" once the server acknowledged."""
    button = criterion_button(page, criterion_id)
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect_saved(page, criterion_id)


def expect_saved(page: Page, criterion_id: int) -> None:
    # The outbox shows a tick and marks it pending in one step: "saved" means acknowledged.
    expect(page.locator(f"#crit-MSP-{criterion_id}")).to_have_attribute("data-state", "saved")
    expect_synced(page)


def expect_synced(page: Page) -> None:
    """The outbox is empty: every operation of this device was acknowledged."""
    status = page.locator("#sync-status")
    expect(status).to_have_attribute("data-pending", "0")
    expect(status).to_have_attribute("data-state", "saved")


def settled(page: Page) -> None:
    """The outbox's first sync after a page load is over (it ends with the ledger check).

    Waiting for it keeps these tests about the juror's flow: an operation recorded while that
    first sync runs waits for the next periodic sync (reported to the lead: outbox.js).
    """
    expect(page.locator("#ledger-status")).to_have_attribute("data-agree", "true")
    expect_synced(page)


def confirm_no_link(page: Page) -> None:
    settled(page)
    page.get_by_role("button", name="Aucun lien avec ce candidat").click()
    # The declaration changes the whole page: it reloads once the server has it.
    expect(page.locator("#conflict")).to_contain_text(
        "Vous avez confirmé n'avoir aucun lien avec ce candidat."
    )
    expect(page.get_by_role("button", name="Aucun lien avec ce candidat")).to_have_count(0)


def assert_criteria_large(page: Page) -> int:
    heights = page.locator("button.tick").evaluate_all(
        "(buttons) => buttons.filter((b) => b.offsetParent !== null)"
        ".map((b) => b.getBoundingClientRect().height)"
    )
    assert heights, "no criterion shown"
    assert min(heights) >= CRITERION_MIN_PX, heights
    return len(heights)


def test_a_juror_scores_two_phases_and_finds_everything_after_a_reload(db, day, phone):
    page = phone
    sign_in(page, day)

    # The day's list, then the candidate: confirm "aucun lien" before anything else.
    page.get_by_role("link", name=re.compile(re.escape(day.name))).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(day.name)
    expect(page.get_by_role("link", name="Prospection téléphonique")).to_have_count(0)
    confirm_no_link(page)
    assert_tap_targets(page, "header, main, footer")
    assert_no_horizontal_scroll(page)

    # Phase 1 (MSP): prospection evaluates CP3 and CP5.
    page.get_by_role("link", name="Prospection téléphonique").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prospection téléphonique")
    settled(page)
    assert_criteria_large(page)
    assert_tap_targets(page, "header, main, footer")
    assert_no_horizontal_scroll(page)
    cp3_2, cp5_1 = day.criteria["CP3"][1], day.criteria["CP5"][0]
    tick(page, cp3_2)
    tick(page, cp5_1)

    # Phase 2 (MSP too): the negotiation shares the MSP grid, so CP5's tick is already there.
    page.locator(".phase-nav a", has_text="Négociation en face à face").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Négociation en face à face")
    settled(page)
    expect(criterion_button(page, cp5_1)).to_have_attribute("aria-pressed", "true")
    assert page.locator(f"#crit-MSP-{cp3_2}").count() == 0  # CP3 is not evaluated here
    cp7_1 = day.criteria["CP7"][0]
    tick(page, cp7_1)
    assert_criteria_large(page)
    # The grid's count follows the taps, without a reload (one tick came from another phase).
    expect(page.locator("#grid-MSP .grid-count")).to_have_text("3/36 critères observés")

    # An observation, saved as it is typed.
    note_text = "Reformule bien les objections ; posture d'expert."
    note = page.locator(f"#obs-phase-{day.phases['MSP-NEGOCIATION']}")
    note.fill(note_text)
    expect(page.locator(f"#obs-phase-{day.phases['MSP-NEGOCIATION']}-status")).to_have_text(
        "Observation enregistrée"
    )
    expect_synced(page)

    # The timer counts down the phase's 60 minutes.
    display = page.locator("#timer .timer-display")
    expect(display).to_have_text("60:00")
    page.get_by_role("button", name="Démarrer").click()
    expect(page.locator("#timer")).to_have_attribute("data-running", "true")
    expect(display).not_to_have_text("60:00", timeout=5_000)
    expect(display).to_have_text(re.compile(r"^59:[0-5]\d$"))

    # Grid complete: the MSP grid is done for this candidate.
    grid = page.locator("#grid-MSP")
    grid.get_by_role("button", name="Terminer la grille MSP").click()
    expect(grid).to_have_class(re.compile(r"\bfinished\b"))
    expect(grid.get_by_role("button")).to_have_text("Rouvrir la grille MSP")
    expect(criterion_button(page, cp7_1)).to_be_disabled()
    expect(grid).to_have_attribute("data-state", "saved")
    expect_synced(page)

    # Reload: everything comes back from the server, the timer from the device.
    page.reload()
    expect(criterion_button(page, cp5_1)).to_have_attribute("aria-pressed", "true")
    expect(criterion_button(page, cp7_1)).to_have_attribute("aria-pressed", "true")
    expect(note).to_have_value(note_text)
    expect(page.locator("#grid-MSP .badge-ok")).to_have_text("Grille terminée")
    expect(grid).to_contain_text("3/36 critères observés")
    expect(page.locator(".flash-success")).to_contain_text("Grille MSP terminée")
    expect(page.locator("#timer")).to_have_attribute("data-running", "true")
    shown = display.inner_text()
    assert re.fullmatch(r"59:[0-5]\d", shown), shown
    expect(display).not_to_have_text(shown, timeout=5_000)  # still counting down
    # A completed grid cannot be ticked by mistake.
    expect(criterion_button(page, cp7_1)).to_be_disabled()

    page.goto(phase_path(day, "MSP-PROSPECTION"))
    expect(criterion_button(page, cp3_2)).to_have_attribute("aria-pressed", "true")
    expect(criterion_button(page, cp5_1)).to_have_attribute("aria-pressed", "true")
    # Each phase has its own timer.
    expect(page.locator("#timer .timer-display")).to_have_text("15:00")
    page.goto("/jury/")
    expect(page.locator(f"#candidate-{day.candidate_id}")).to_contain_text("Grilles 1/3")

    marks = read_committed(
        db,
        select(Mark.criterion_id, Mark.modality_id, Mark.observed).where(
            Mark.jury_member_id == day.juror_id, Mark.candidate_id == day.candidate_id
        ),
    )
    assert sorted(marks) == sorted((c, day.msp_id, True) for c in (cp3_2, cp5_1, cp7_1))
    notes = read_committed(db, select(Observation.phase_id, Observation.text))
    assert notes == [(day.phases["MSP-NEGOCIATION"], note_text)]
    grids = read_committed(db, select(GridCompletion.jury_member_id, GridCompletion.modality_id))
    assert grids == [(day.juror_id, day.msp_id)]
    assert read_committed(db, select(ConflictDeclaration.has_conflict)) == [(False,)]
    assert_no_console_errors(page)


def test_ticking_with_the_keyboard_only(db, day, phone):
    page = phone
    sign_in(page, day)
    page.goto(f"/jury/candidats/{day.candidate_id}")
    confirm_no_link(page)
    page.goto(phase_path(day, "MSP-COMPTE-RENDU"))  # CP4 then CP8
    settled(page)
    first, second = day.criteria["CP4"][0], day.criteria["CP4"][1]

    # Tab from the top of the page until a criterion has the focus.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('tick')"):
            break
    focused = page.evaluate("() => document.activeElement.closest('li').id")
    assert focused == f"crit-MSP-{first}"

    page.keyboard.press("Space")
    expect(criterion_button(page, first)).to_have_attribute("aria-pressed", "true")
    expect_saved(page, first)
    # The focus stays on the criterion, so the juror carries on from there.
    expect(criterion_button(page, first)).to_be_focused()
    page.keyboard.press("Tab")
    expect(criterion_button(page, second)).to_be_focused()
    page.keyboard.press("Enter")
    expect(criterion_button(page, second)).to_have_attribute("aria-pressed", "true")
    expect_saved(page, second)
    expect(criterion_button(page, second)).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # and untick the first one
    expect(criterion_button(page, first)).to_have_attribute("aria-pressed", "false")
    expect_saved(page, first)

    marks = read_committed(
        db, select(Mark.criterion_id, Mark.observed).where(Mark.jury_member_id == day.juror_id)
    )
    assert sorted(marks) == sorted([(first, False), (second, True)])
    assert_no_console_errors(page)


def test_the_timer_bar_stays_small_asks_before_a_reset_and_keeps_its_warning(db, day, phone):
    page = phone
    sign_in(page, day)
    page.goto(f"/jury/candidats/{day.candidate_id}")
    confirm_no_link(page)
    page.goto(phase_path(day, "MSP-NEGOCIATION"))
    settled(page)
    timer = page.locator("#timer")
    display = timer.locator(".timer-display")
    toggle = timer.locator("[data-timer-action=toggle]")
    reset = timer.locator("[data-timer-action=reset]")
    expect(timer.get_by_role("button", name="Remettre à zéro")).to_have_count(1)
    # It stays at the top while the juror scrolls: one line on a phone, not a third of it.
    assert timer.bounding_box()["height"] < 100, timer.bounding_box()
    expect(toggle).to_have_text("Démarrer")
    toggle.click()
    expect(timer).to_have_attribute("data-running", "true")
    expect(toggle).to_have_text("Pause")
    expect(display).not_to_have_text("60:00", timeout=5_000)
    toggle.click()
    expect(timer).to_have_attribute("data-running", "false")
    expect(toggle).to_have_text("Reprendre")

    # A reset asks for a second tap: a slip of the thumb costs nothing.
    shown = display.inner_text()
    reset.click()
    expect(reset).to_have_text(re.compile("Confirmer la remise à zéro"))
    expect(display).to_have_text(shown)
    reset.click()
    expect(display).to_have_text("60:00")
    expect(toggle).to_have_text("Démarrer")

    # Time is up (61 minutes counted): the warning is still there after a reload.
    page.evaluate(
        "key => localStorage.setItem(key, JSON.stringify("
        "{elapsed: 61 * 60 * 1000, startedAt: null, warned: {zero: true}}))",
        timer.get_attribute("data-timer-key"),
    )
    page.reload()
    expect(timer).to_have_class(re.compile(r"\bover\b"))
    expect(timer.locator(".timer-alert")).to_have_text("Temps écoulé.")
    expect(display).to_have_text("-01:00")

    # Scrolled down to the criteria, the bar repeats the header's sync state.
    mirror = timer.locator(".timer-sync")
    expect(mirror).to_be_hidden()
    last = day.criteria["CP7"][-1]
    criterion_button(page, last).scroll_into_view_if_needed()
    expect(page.locator("#sync-status")).not_to_be_in_viewport()
    expect(mirror).to_be_visible()
    expect(mirror).to_have_text("Tout est enregistré")
    page.context.set_offline(True)
    criterion_button(page, last).click()
    expect(mirror).to_have_text("Hors ligne · 1 en attente")
    expect(mirror).to_have_attribute("data-state", "offline")
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(mirror).to_have_text("Tout est enregistré")
    expect_saved(page, last)


def test_an_empty_grid_is_completed_only_on_a_second_tap(db, day, phone):
    page = phone
    # The page's clock, ticking as usual until it is paused: the second tap must come within
    # the 5 s the button waits for it, however slow the machine running the test.
    page.clock.install()
    sign_in(page, day)
    page.goto(f"/jury/candidats/{day.candidate_id}")
    confirm_no_link(page)
    settled(page)
    grid = page.locator("#grid-QP")
    expect(grid.locator(".grid-count")).to_have_text(re.compile(r"^0/\d+ critères observés$"))
    button = grid.get_by_role("button")
    button.click()
    # In a second from now (the page's clock; Playwright takes seconds).
    page.clock.pause_at(page.evaluate("() => Date.now()") / 1000 + 1)
    # Nothing observed in it: a slip of the thumb costs nothing.
    expect(button).to_have_text("Aucun critère observé : touchez encore pour confirmer")
    expect(grid).not_to_have_class(re.compile(r"\bfinished\b"))
    assert page.evaluate("() => window.ntcOutbox.pending()") == []
    button.click()
    page.clock.resume()
    expect(grid).to_have_class(re.compile(r"\bfinished\b"))
    expect(button).to_have_text("Rouvrir la grille QP")
    expect_synced(page)
    done = read_committed(
        db, select(GridCompletion.id).where(GridCompletion.jury_member_id == day.juror_id)
    )
    assert len(done) == 1


def test_the_juror_pages_pass_axe(db, day, axe_phone):
    page = axe_phone
    sign_in(page, day)
    assert_no_axe_violations(page, "session home (phone)")
    assert_tap_targets(page, "header, main, footer")

    page.goto(f"/jury/candidats/{day.candidate_id}")
    assert_no_axe_violations(page, "candidate page before the conflict check (phone)")
    page.locator("summary", has_text="Déclarer un lien avec ce candidat").click()
    expect(page.get_by_label("Nature du lien")).to_be_visible()
    assert_tap_targets(page, "header, main, footer")
    assert_no_axe_violations(page, "candidate page, conflict form open (phone)")
    confirm_no_link(page)
    assert_no_axe_violations(page, "candidate page (phone)")

    page.goto(phase_path(day, "MSP-NEGOCIATION"))
    settled(page)
    tick(page, day.criteria["CP6"][0])
    page.get_by_role("button", name="Démarrer").click()
    for summary in page.locator("details.sub summary").all():
        summary.click()  # open the transversal ticks and competency notes too
    assert_criteria_large(page)
    assert_tap_targets(page, "header, main, footer")
    assert_no_horizontal_scroll(page)
    assert_no_axe_violations(page, "phase page (phone)")

    page.goto(phase_path(day, "MSP-ECRIT"))  # no jury: nothing to score
    assert_no_axe_violations(page, "phase without the jury (phone)")
