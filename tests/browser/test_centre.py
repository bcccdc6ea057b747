"""Centre staff on a desktop, in headless Chromium: plan a session, import, schedule.

Each page is checked by axe-core (WCAG 2.x A/AA); a second, CSP-enforcing browser checks the
live dashboard's htmx polling runs without a console error. No fixed sleeps: Playwright waits.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from ntc_jury.models import Candidate, ExamSession, ScheduleSlot
from tests.browser import assert_no_axe_violations, assert_no_console_errors
from tests.factories import STAFF_PASSWORD, make_staff

pytestmark = pytest.mark.browser
CSV = Path(__file__).resolve().parents[1] / "data" / "imports" / "candidats_utf8.csv"


@pytest.fixture
def staff(db, ntc, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "CANDIDATE_IMPORT_DIR", str(tmp_path / "imports"))
    user = make_staff()
    db.session.commit()
    return user


def sign_in(page, user):
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/centre/")


def count(db, query) -> int:
    db.session.rollback()  # see what the server committed
    return db.session.execute(query).scalar_one()


def test_staff_plans_imports_and_schedules(db, staff, axe_desktop, new_page):
    page = axe_desktop
    sign_in(page, staff)
    assert_no_axe_violations(page, "sessions list (desktop)")

    page.get_by_role("link", name="Nouvelle session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle session")
    assert_no_axe_violations(page, "new session form (desktop)")
    page.get_by_label("Type de session et version du référentiel").select_option(
        label="TP-00338 v07 — Titre professionnel complet"
    )
    page.get_by_label("Centre", exact=True).fill("Centre de Lyon")
    page.get_by_label("Salles (séparées par des virgules)").fill("Salle 14, Salle 12")
    page.get_by_label("Premier jour").fill("2026-03-10")
    page.get_by_label("Dernier jour").fill("2026-03-11")
    page.get_by_role("button", name="Créer la session").click()
    expect(page.locator(".flash-success")).to_contain_text("Session créée")
    assert_no_axe_violations(page, "session page (desktop)")
    session_id = count(db, select(func.max(ExamSession.id)))

    page.get_by_role("link", name="Importer un fichier").click()
    assert_no_axe_violations(page, "import form (desktop)")
    page.get_by_label("Fichier des candidats (CSV ou Excel .xlsx)").set_input_files(CSV)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("heading", name="3 candidats seront créés")).to_be_visible()
    assert count(db, select(func.count()).select_from(Candidate)) == 0  # only a preview
    assert_no_axe_violations(page, "import preview (desktop)")
    page.get_by_role("button", name="Créer les 3 candidats").click()
    expect(page.locator(".flash-success")).to_contain_text("3 candidats importés.")
    expect(page.locator("#candidate-table tbody tr")).to_have_count(3)
    assert count(db, select(func.count()).select_from(Candidate)) == 3

    page.get_by_role("navigation", name="Pages de la session").get_by_role(
        "link", name="Planning"
    ).click()
    assert_no_axe_violations(page, "schedule page, empty (desktop)")
    expect(page.get_by_label("Salle du jury")).to_have_value("Salle 12")
    page.get_by_role("button", name="Générer le planning").click()
    expect(page.locator(".flash-success")).to_contain_text("Planning généré.")
    expect(page.locator("#schedule-table tbody tr")).to_have_count(3)
    assert count(db, select(func.count()).select_from(ScheduleSlot)) == 3 * 13
    assert_no_axe_violations(page, "schedule page (desktop)")

    page.get_by_role("link", name="Plan de la journée (imprimable)").click()
    expect(page.locator(".plan-day")).to_have_count(2)
    assert_no_axe_violations(page, "day plan (desktop)")

    # The live dashboard under the real CSP: htmx polls it, nothing is refused or thrown.
    watched = new_page("desktop")
    sign_in(watched, staff)
    watched.goto(f"/centre/sessions/{session_id}/suivi")
    first = watched.locator("#dashboard-title").inner_text()
    with watched.expect_response(
        re.compile(rf"/centre/sessions/{session_id}/suivi$"), timeout=15_000
    ) as polled:
        pass
    assert polled.value.request.headers.get("hx-request") == "true"
    expect(watched.locator("#dashboard")).to_have_count(1)
    assert first.startswith("État à")
    assert_no_console_errors(watched)
    assert_no_console_errors(page)
