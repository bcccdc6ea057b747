"""What the juror's phone shows when the server refuses, the network is gone, or a grid
changes state: the QA findings on the juror's pages, proven in Chromium at 390 × 844."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ntc_jury.core.vocabulary import Presence
from ntc_jury.jury.operations import apply_operation
from ntc_jury.models import Candidate, ConflictDeclaration, JuryMember, Mark, Observation
from tests.browser import (
    assert_no_console_errors,
    assert_tap_targets,
    read_committed,
    test_scoring,
)
from tests.browser.test_scoring import (
    Day,
    confirm_no_link,
    criterion_button,
    expect_synced,
    phase_path,
    settled,
    sign_in,
)

pytestmark = pytest.mark.browser
day = test_scoring.day  # the scoring tests' day: a juror, two candidates, signed in by link


def on_the_server(db, day: Day, kind: str, **payload) -> None:
    """What another tab of this juror (or the staff) does meanwhile, straight on the server."""
    db.session.rollback()
    member = db.session.get(JuryMember, day.juror_id)
    outcome = apply_operation(
        member=member,
        op_id=str(uuid.uuid4()),
        kind=kind,
        payload={"candidate_id": day.candidate_id, **payload},
    )
    assert outcome.ok, outcome.message
    db.session.commit()


def open_phase(page: Page, day: Day, code: str = "MSP-NEGOCIATION") -> None:
    sign_in(page, day)
    page.goto(f"/jury/candidats/{day.candidate_id}")
    confirm_no_link(page)
    page.goto(phase_path(day, code))
    settled(page)


def test_a_refused_tick_goes_back_and_says_why_next_to_it(db, day, phone):
    page = phone
    open_phase(page, day)
    first, second = day.criteria["CP6"][0], day.criteria["CP6"][1]
    # The grid is completed in another tab while this one is open.
    on_the_server(db, day, "grid", modality="MSP", completed=True)

    criterion_button(page, first).click()
    item = page.locator(f"#crit-MSP-{first}")
    expect(item).to_have_attribute("data-state", "error")
    # Back to unticked, and the next tap would tick it again.
    expect(criterion_button(page, first)).to_have_attribute("aria-pressed", "false")
    expect(item.locator("input[name=observed]")).to_have_value("1")
    expect(item.get_by_role("alert")).to_have_text("Grille terminée : rouvrez-la pour la modifier.")
    expect(page.locator("#grid-MSP .grid-count")).to_have_text(
        re.compile(r"^0/\d+ critères observés$")
    )
    status = page.locator("#sync-status")
    expect(status).to_have_attribute("data-state", "error")
    expect(status).to_have_text("1 saisie refusée : voir le message sous celle-ci")
    # The device's ledger does not count it: it still agrees with the server.
    assert page.evaluate("() => window.ntcOutbox.refused.length") == 1
    # The refusal came with what the server holds: the grid shows completed, not the opposite
    # of the message, and the other criteria wait for it to be reopened.
    grid_button = page.locator("#grid-MSP button")
    expect(grid_button).to_have_text("Rouvrir la grille MSP")
    expect(criterion_button(page, second)).to_be_disabled()

    # Reopened here: a new tap on the first one is applied, its message goes.
    grid_button.click()
    expect(page.locator("#grid-MSP")).to_have_attribute("data-state", "saved")
    criterion_button(page, first).click()
    expect(item).to_have_attribute("data-state", "saved")
    expect(criterion_button(page, first)).to_have_attribute("aria-pressed", "true")
    expect(item.get_by_role("alert")).to_have_count(0)
    expect(status).to_have_text("Tout est enregistré")
    marks = read_committed(db, select(Mark.criterion_id).where(Mark.observed.is_(True)))
    assert marks == [(first,)]
    assert_no_console_errors(page)


def test_a_refused_grid_completion_goes_back(db, day, phone):
    page = phone
    open_phase(page, day)
    # The staff marks the candidate absent while the page is open.
    db.session.rollback()
    db.session.get(Candidate, day.candidate_id).presence = Presence.ABSENT
    db.session.commit()

    grid = page.locator("#grid-MSP")
    grid.locator("button").click()  # empty grid: a second tap confirms
    grid.locator("button").click()
    expect(grid).to_have_attribute("data-state", "error")
    expect(grid).not_to_have_class(re.compile(r"\bfinished\b"))
    expect(grid.get_by_role("alert")).to_have_text(
        "Ce candidat est absent : il ne peut pas être évalué."
    )
    expect(page.locator("#sync-status")).to_have_attribute("data-state", "error")
    assert_no_console_errors(page)


def test_signing_out_offline_wipes_nothing_and_says_the_network_is_needed(db, day, phone):
    page = phone
    open_phase(page, day)
    criterion = day.criteria["CP6"][0]
    page.context.set_offline(True)
    criterion_button(page, criterion).click()
    expect(page.locator("#sync-status")).to_have_text("Hors ligne · 1 en attente")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.get_by_role("button", name="Se déconnecter").click()
    notice = page.locator("#sign-out-offline")
    expect(notice).to_be_visible()
    expect(notice).to_have_text(
        "Se déconnecter demande le réseau : rien n'a été effacé de ce téléphone. "
        "Réessayez une fois connecté."
    )
    expect(notice).to_have_attribute("role", "alert")
    # Still the juror's page, with its outbox and timers untouched.
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert dialogs == []
    assert len(page.evaluate("() => window.ntcOutbox.pending()")) == 1

    # Back online: the tick is sent, and signing out goes through.
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("#sync-status")).to_have_text("Tout est enregistré")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/$"))
    marks = read_committed(db, select(Mark.criterion_id).where(Mark.observed.is_(True)))
    assert marks == [(criterion,)]


# Resolves once the outbox holds an operation with that text (polled in the page).
HOLDS_TEXT = """text => new Promise((resolve) => {
  const check = () => window.ntcOutbox.pending().then((entries) => {
    if (entries.some((e) => e[1].payload.text === text)) resolve(true);
    else setTimeout(check, 50);
  });
  check();
})"""


def test_a_note_typed_offline_counts_once_and_its_last_text_arrives(db, day, phone):
    page = phone
    open_phase(page, day)
    phase_id = day.phases["MSP-NEGOCIATION"]
    note = page.locator(f"#obs-phase-{phase_id}")
    page.context.set_offline(True)
    words = ["Reformule", "bien", "les", "objections", "du", "client", "fictif"]
    typed = ""
    for word in words:
        typed = f"{typed} {word}".strip()
        note.press_sequentially(word if typed == word else f" {word}")
        # Saved at the pause: each pause records the whole text so far.
        page.evaluate(HOLDS_TEXT, typed)
    status = page.locator("#sync-status")
    expect(status).to_have_text("Hors ligne · 1 en attente")
    pending = page.evaluate("() => window.ntcOutbox.pending()")
    assert [e[1]["payload"]["text"] for e in pending] == [typed]

    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(status).to_have_text("Tout est enregistré")
    notes = read_committed(db, select(Observation.phase_id, Observation.text))
    assert notes == [(phase_id, typed)]


def test_the_ledger_waits_instead_of_agreeing_while_ticks_wait(db, day, phone):
    page = phone
    open_phase(page, day)
    ledger = page.locator("#ledger-status")
    expect(ledger).to_have_text("Cet appareil et le serveur concordent (0 critère observé).")
    page.context.set_offline(True)
    criterion_button(page, day.criteria["CP6"][0]).click()
    expect(ledger).to_have_text("Comparaison avec le serveur après l'envoi des saisies en attente.")
    expect(ledger).not_to_have_attribute("data-agree", re.compile(".*"))

    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(ledger).to_have_attribute("data-agree", "true", timeout=15_000)
    expect(ledger).to_have_text("Cet appareil et le serveur concordent (1 critère observé).")


def test_completing_and_reopening_a_grid_redraws_its_badge_button_and_flash(db, day, phone):
    page = phone
    open_phase(page, day)
    grid = page.locator("#grid-MSP")
    button = grid.locator("button")
    badge = grid.get_by_text("Grille terminée", exact=True)
    flash = page.locator("#grid-MSP-done")
    tick = criterion_button(page, day.criteria["CP6"][0])
    tick.click()
    expect(badge).to_be_hidden()
    expect(flash).to_be_hidden()
    expect(button).not_to_have_class(re.compile(r"\bsecondary\b"))

    button.click()  # complete
    expect(grid).to_have_class(re.compile(r"\bfinished\b"))
    expect(badge).to_be_visible()
    expect(flash).to_be_visible()
    expect(flash).to_have_text("Grille MSP terminée : rouvrez-la pour la modifier.")
    expect(button).to_have_text("Rouvrir la grille MSP")
    expect(button).to_have_class(re.compile(r"\bsecondary\b"))
    expect(tick).to_be_disabled()

    button.click()  # reopen
    expect(grid).not_to_have_class(re.compile(r"\bfinished\b"))
    expect(badge).to_be_hidden()
    expect(flash).to_be_hidden()
    expect(button).not_to_have_class(re.compile(r"\bsecondary\b"))
    expect(tick).to_be_enabled()
    expect(grid).to_have_attribute("data-state", "saved")

    # The candidate page's card follows too.
    page.goto(f"/jury/candidats/{day.candidate_id}")
    card = page.locator("#grid-QP")
    card.locator("button").click()
    card.locator("button").click()  # empty grid: a second tap confirms
    expect(card.get_by_text("Grille terminée", exact=True)).to_be_visible()
    expect(card.locator("button")).to_have_class(re.compile(r"\bsecondary\b"))
    assert_no_console_errors(page)


def test_every_tap_target_on_the_juror_pages_is_at_least_48px(db, day, phone):
    page = phone
    sign_in(page, day)
    checked = assert_tap_targets(page, "header, main, footer", min_px=48)
    page.goto(f"/jury/candidats/{day.candidate_id}")
    page.locator("summary", has_text="Déclarer un lien avec ce candidat").click()
    checked += assert_tap_targets(page, "header, main, footer", min_px=48)
    confirm_no_link(page)
    # The phase links, one line each on this page.
    expect(page.locator("a.phase-title").first).to_be_visible()
    checked += assert_tap_targets(page, "header, main, footer", min_px=48)
    page.goto(phase_path(day, "MSP-NEGOCIATION"))
    settled(page)
    for summary in page.locator("details.sub summary").all():
        summary.click()
    checked += assert_tap_targets(page, "header, main, footer", min_px=48)
    assert checked > 20


def test_the_no_link_confirmation_takes_the_focus_and_is_announced(db, day, phone):
    page = phone
    sign_in(page, day)
    page.goto(f"/jury/candidats/{day.candidate_id}")
    settled(page)
    button = page.get_by_role("button", name="Aucun lien avec ce candidat")
    button.focus()
    page.keyboard.press("Enter")
    confirmation = page.locator("#conflict").get_by_role("status")
    expect(confirmation).to_have_text("Vous avez confirmé n'avoir aucun lien avec ce candidat.")
    expect(confirmation).to_be_focused()
    expect(button).to_be_hidden()


def test_a_link_declared_offline_is_said_at_once_and_nothing_else_is_offered(db, day, phone):
    page = phone
    sign_in(page, day)
    page.goto(f"/jury/candidats/{day.candidate_id}")
    settled(page)
    page.context.set_offline(True)
    page.locator("summary", has_text="Déclarer un lien avec ce candidat").click()
    page.get_by_label("Nature du lien").fill("Ancien collègue")
    page.get_by_role("button", name="Déclarer le lien et ne pas évaluer").click()

    declared = page.locator("#conflict-declared")
    expect(declared).to_be_visible()
    expect(declared).to_have_text(
        "Lien déclaré : enregistré sur ce téléphone, il sera envoyé au serveur dès que le "
        "réseau le permet. Vous n'évaluez pas ce candidat."
    )
    expect(declared).to_be_focused()
    expect(page.get_by_role("button", name="Aucun lien avec ce candidat")).to_be_hidden()
    expect(page.locator("details.declare-conflict")).to_be_hidden()
    for button in page.locator("#grids button").all():
        expect(button).to_be_disabled()
    expect(page.locator("#sync-status")).to_have_text("Hors ligne · 1 en attente")

    # Sent once the network is back; the page then shows what the server has.
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("#conflict")).to_contain_text(
        "Vous avez déclaré un lien : Ancien collègue.", timeout=15_000
    )
    declared_rows = read_committed(db, select(ConflictDeclaration.has_conflict))
    assert declared_rows == [(True,)]


def test_a_note_typed_offline_says_it_waits_for_the_network(db, day, phone):
    page = phone
    open_phase(page, day)
    phase_id = day.phases["MSP-NEGOCIATION"]
    note = page.locator(f"#obs-phase-{phase_id}")
    status = page.locator(f"#obs-phase-{phase_id}-status")
    page.context.set_offline(True)
    page.evaluate("() => window.dispatchEvent(new Event('offline'))")
    note.press_sequentially("Posture d'expert")
    expect(status).to_have_text("En attente du réseau")
    page.evaluate(HOLDS_TEXT, "Posture d'expert")
    expect(status).to_have_text("En attente du réseau")
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(status).to_have_text("Observation enregistrée")


def test_the_candidate_page_counts_the_ticks_still_waiting_on_the_phone(db, day, phone):
    page = phone
    open_phase(page, day)
    # The wifi drops every send: the ticks stay on the phone, the server renders none.
    page.route("**/jury/operations", lambda route: route.abort())
    for criterion in day.criteria["CP6"][:3]:
        criterion_button(page, criterion).click()
        expect(criterion_button(page, criterion)).to_have_attribute("aria-pressed", "true")
    page.evaluate(
        """() => new Promise((resolve) => {
          const check = () => window.ntcOutbox.pending().then((e) =>
            e.length === 3 ? resolve(true) : setTimeout(check, 50));
          check();
        })"""
    )

    page.goto(f"/jury/candidats/{day.candidate_id}")
    expect(page.locator("#grid-MSP .grid-count")).to_have_text(
        re.compile(r"^3/\d+ critères observés$")
    )
    expect(page.locator("#grid-ET .grid-count")).to_have_text(
        re.compile(r"^0/\d+ critères observés$")
    )


def wait_pending(page: Page, n: int) -> None:
    page.evaluate(
        """(n) => new Promise((resolve) => {
          const check = () => window.ntcOutbox.pending().then((e) =>
            e.length === n ? resolve(true) : setTimeout(check, 50));
          check();
        })""",
        n,
    )


def test_the_session_home_shows_what_the_phone_recorded_before_the_server_has_it(db, day, phone):
    page = phone
    sign_in(page, day)
    row = page.locator(f"#candidate-{day.candidate_id}")
    expect(row.locator("[data-home=grids]")).to_have_text("Grilles 0/3")
    page.goto(f"/jury/candidats/{day.candidate_id}")
    settled(page)
    # The wifi drops every send: the confirmation and the grid stay on the phone.
    page.route("**/jury/operations", lambda route: route.abort())
    page.get_by_role("button", name="Aucun lien avec ce candidat").click()
    grid = page.locator("#grid-MSP button")
    grid.click()
    grid.click()  # a grid with nothing observed asks for a second tap
    wait_pending(page, 2)

    page.goto("/jury/")

    # Rendered by the server without them, then shown as this phone recorded them.
    expect(row.locator("[data-home=to-confirm]")).to_be_hidden()
    expect(row.locator("[data-home=declared]")).to_be_hidden()
    expect(row.locator("[data-home=grids]")).to_have_text("Grilles 1/3")
    assert read_committed(db, select(ConflictDeclaration)) == []


def test_a_second_tab_follows_the_ticks_notes_and_refusals_of_the_first(db, day, phone):
    first = phone
    open_phase(first, day)
    second = first.context.new_page()  # same phone, same outbox: another tab on the page
    second.goto(phase_path(day, "MSP-NEGOCIATION"))
    settled(second)
    ticked, other = day.criteria["CP6"][0], day.criteria["CP6"][1]

    # Ticked in the first tab: the second shows it, and its count, without a reload.
    criterion_button(first, ticked).click()
    expect(first.locator(f"#crit-MSP-{ticked}")).to_have_attribute("data-state", "saved")
    expect(criterion_button(second, ticked)).to_have_attribute("aria-pressed", "true")
    expect(second.locator(f"#crit-MSP-{ticked}")).to_have_attribute("data-state", "saved")
    expect(second.locator("#grid-MSP .grid-count")).to_have_text(
        re.compile(r"^1/\d+ critères observés$")
    )
    # A tap there starts from that state: it unticks rather than ticking it again.
    criterion_button(second, ticked).click()
    expect(second.locator(f"#crit-MSP-{ticked}")).to_have_attribute("data-state", "saved")
    expect(criterion_button(first, ticked)).to_have_attribute("aria-pressed", "false")
    assert read_committed(db, select(Mark.observed).where(Mark.criterion_id == ticked)) == [
        (False,)
    ]

    # A note typed in one tab is the note the other one continues: nothing is overwritten
    # with the older text it was rendered with.
    note_id = f"#obs-phase-{day.phases['MSP-NEGOCIATION']}"
    first.locator(note_id).fill("Écoute active")
    expect(first.locator(f"{note_id}-status")).to_have_text("Observation enregistrée")
    expect(second.locator(note_id)).to_have_value("Écoute active")
    # The juror goes to the other tab: the first one is hidden, its note still focused
    # (headless Chromium keeps every tab visible, so the first tab is told it is hidden).
    first.evaluate(
        """() => {
          Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    assert first.evaluate("() => document.activeElement.id") == note_id[1:]
    second.locator(note_id).press("End")
    second.locator(note_id).press_sequentially(", reformule.")
    expect(second.locator(f"{note_id}-status")).to_have_text("Observation enregistrée")
    expect(first.locator(note_id)).to_have_value("Écoute active, reformule.")
    expect_synced(second)  # the other tab shows a note as soon as it is recorded: wait for it
    assert read_committed(db, select(Observation.text)) == [("Écoute active, reformule.",)]

    # Refused (the grid was completed meanwhile): both tabs say so and take the tick back.
    on_the_server(db, day, "grid", modality="MSP", completed=True)
    criterion_button(first, other).click()
    for page in (first, second):
        expect(page.locator(f"#crit-MSP-{other}")).to_have_attribute("data-state", "error")
        expect(criterion_button(page, other)).to_have_attribute("aria-pressed", "false")
        expect(page.locator("#sync-status")).to_have_text(
            "1 saisie refusée : voir le message sous celle-ci"
        )
        expect(page.locator(f"#crit-MSP-{other}").get_by_role("alert")).to_have_text(
            "Grille terminée : rouvrez-la pour la modifier."
        )
    assert read_committed(db, select(Mark.id).where(Mark.criterion_id == other)) == []
    assert_no_console_errors(first)
