"""Take the README's screenshots of the real pages, on a throwaway database with the demo.

    .venv/bin/python scripts/screenshots.py

Starts the app on a free port with a temporary SQLite database, loads the referential and
the demo session, signs in as the demo chair and as the demo staff member in headless
Chromium, and writes PNG files to docs/screenshots/. For the deliberation pages, the demo's
three jurors then score its first candidate through the app's own operations (with a few
disagreements), and the chair opens the deliberation.
"""

from __future__ import annotations

import re
import sys
import tempfile
import threading
import uuid
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ntc_jury import create_app  # noqa: E402
from ntc_jury.deliberation import operations as deliberation_ops  # noqa: E402
from ntc_jury.extensions import db  # noqa: E402
from ntc_jury.jury.operations import apply_operation  # noqa: E402
from ntc_jury.jury.queries import candidate_plan, session_referential  # noqa: E402
from ntc_jury.models import ExamSession  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="ntc-shots-"))
    url = f"sqlite:///{workdir / 'shots.sqlite'}"
    server = make_server("127.0.0.1", 0, None)  # replaced below once we know the port
    port = server.socket.getsockname()[1]
    server.server_close()
    base = f"http://127.0.0.1:{port}"
    app = create_app({"SECRET_KEY": "screenshots", "DATABASE_URL": url, "PUBLIC_URL": base})
    with app.app_context():
        db.create_all()
    demo = _run_cli(app, ["referential", "load", str(ROOT / "seed/referentials/tp-00338-v07.yaml")])
    demo = _run_cli(app, ["demo"])
    chair_link = re.search(r"lien (http\S+)", demo).group(1)
    chair_pin = re.search(r"PIN\s+(\d{6})", demo).group(1)
    staff_email = re.search(r"e-mail (\S+)", demo).group(1)
    staff_password = re.search(r"mot de passe (\S+)", demo).group(1)

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="fr-FR",
            ).new_page()
            phone.goto(base + "/")
            phone.screenshot(path=OUT / "home-phone.png", full_page=True)
            phone.goto(chair_link)
            phone.screenshot(path=OUT / "juror-pin.png")
            phone.fill("input[name=pin]", chair_pin)
            phone.click("button[type=submit]")
            phone.wait_for_url("**/jury/**")
            phone.screenshot(path=OUT / "juror-session-home.png", full_page=True)
            phone.click(".candidate-link")
            phone.click("#confirm-no-link")
            phone.wait_for_selector("#phases a.phase-title")
            phone.locator("#phases a.phase-title").nth(5).click()
            phone.wait_for_selector("li.criterion button.tick")
            for index in (0, 2, 3):
                phone.locator("li.criterion button.tick").nth(index).click()
            phone.wait_for_function(
                "() => document.getElementById('sync-status').dataset.state === 'saved'"
            )
            phone.evaluate("() => window.scrollTo(0, 0)")
            phone.screenshot(path=OUT / "juror-phase.png")
            desk = browser.new_context(
                viewport={"width": 1280, "height": 800}, locale="fr-FR"
            ).new_page()
            desk.goto(base + "/connexion")
            desk.fill("input[name=email]", staff_email)
            desk.fill("input[name=password]", staff_password)
            desk.click("#sign-in-form button[type=submit]")
            desk.wait_for_url("**/centre/**")
            desk.click("#sessions a")
            desk.screenshot(path=OUT / "staff-session.png", full_page=True)
            candidate_id = _score_and_open_deliberation(app)
            phone.goto(f"{base}/jury/deliberation/")
            phone.screenshot(path=OUT / "chair-deliberation.png", full_page=True)
            phone.goto(f"{base}/jury/deliberation/candidats/{candidate_id}")
            phone.screenshot(path=OUT / "chair-candidate-board.png")
            browser.close()
    finally:
        server.shutdown()
        thread.join()
    for path in sorted(OUT.glob("*.png")):
        print(path.relative_to(ROOT))


def _score_and_open_deliberation(app) -> int:
    """The demo's jurors score its first candidate; the chair opens the deliberation."""
    with app.app_context():
        session = db.session.execute(db.select(ExamSession)).scalars().one()
        members = sorted(session.jury_members, key=lambda m: not m.is_chair)
        candidate = min(session.candidates, key=lambda c: c.id)
        for rank, member in enumerate(members):
            _operate(member, "conflict", candidate_id=candidate.id, has_conflict=False)
            plan = candidate_plan(session_referential(member), member, candidate)
            for modality, competencies in plan.grids.items():
                for competency in competencies:
                    for criterion in competency.criteria:
                        # Each juror leaves out a different criterion in three: disagreements.
                        observed = (criterion.position + rank) % 3 != 0
                        _operate(
                            member,
                            "mark",
                            candidate_id=candidate.id,
                            modality=modality,
                            criterion_id=criterion.id,
                            observed=observed,
                        )
                _operate(
                    member, "grid", candidate_id=candidate.id, modality=modality, completed=True
                )
        deliberation_ops.open_deliberation(chair=members[0], acknowledge=True)
        db.session.commit()
        return candidate.id


def _operate(member, kind: str, **payload) -> None:
    outcome = apply_operation(member=member, op_id=str(uuid.uuid4()), kind=kind, payload=payload)
    if outcome.status != "applied":
        raise SystemExit(f"{kind} {payload}: {outcome.message}")


def _run_cli(app, args: list[str]) -> str:
    result = app.test_cli_runner().invoke(args=args)
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return result.output


if __name__ == "__main__":
    main()
