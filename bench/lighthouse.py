"""Lighthouse 12 scores of the juror's pages at mobile settings, signed in.

    .venv/bin/python bench/lighthouse.py

Installs lighthouse@12 from npm into .cache/lighthouse on first run (the newest major needs
Node 22; this machine has Node 20), serves the demo session, signs a juror in with
Playwright to get the session cookie, opens the deliberation so the summary sheet exists,
then runs Lighthouse with Debian's Chromium on the session home, a candidate, a phase and
a summary sheet. Target (issue 9): 1.0 for performance, accessibility and best practices.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

from harness import CHROMIUM, CHROMIUM_ARGS, PHONE, ROOT, demo_server, sign_in
from playwright.sync_api import sync_playwright

CACHE = ROOT / ".cache" / "lighthouse"
BIN = CACHE / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")


def ensure_lighthouse() -> None:
    if BIN.exists():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    if not (CACHE / "package.json").exists():
        (CACHE / "package.json").write_text('{"private": true}')
    subprocess.run(["npm", "install", "--silent", "lighthouse@12"], cwd=CACHE, check=True)


def prepare(server) -> tuple[list[str], str]:
    """Sign the chair in, clear a candidate, open the deliberation; return URLs and cookie."""
    from ntc_jury.core.vocabulary import SessionState
    from ntc_jury.extensions import db
    from ntc_jury.jury.operations import apply_operation
    from ntc_jury.models import Candidate, Deliberation, ExamSession, JuryMember

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server.base, **PHONE)
        page = context.new_page()
        link, pin = server.links[0]
        sign_in(page, link, pin)
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        browser.close()
    with server.app.app_context():
        chair = db.session.query(JuryMember).filter_by(role="chair").one()
        candidate = db.session.query(Candidate).order_by(Candidate.schedule_position).first()
        apply_operation(
            member=chair,
            op_id=str(uuid.uuid4()),
            kind="conflict",
            payload={"candidate_id": candidate.id, "has_conflict": False},
        )
        session = db.session.get(ExamSession, chair.session_id)
        db.session.add(Deliberation(session_id=session.id, round=1, opened_by_id=chair.id))
        session.state = SessionState.DELIBERATION
        db.session.commit()
        phase_id = session.format.phases[5].id
        urls = [
            f"{server.base}/jury/",
            f"{server.base}/jury/candidats/{candidate.id}",
            f"{server.base}/jury/candidats/{candidate.id}/phases/{phase_id}",
            f"{server.base}/jury/deliberation/candidats/{candidate.id}/synthese",
        ]
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return urls, cookie


def run(url: str, cookie: str, out: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(
        [
            str(BIN),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--extra-headers={json.dumps({'Cookie': cookie})}",
            "--chrome-flags=--headless=new " + " ".join(CHROMIUM_ARGS),
        ],
        check=True,
        env=env,
    )
    report = json.loads(out.read_text())
    scores = {c: report["categories"][c]["score"] for c in CATEGORIES}
    failing = [
        f"{a['id']} ({a['score']})"
        for a in report["audits"].values()
        if a.get("score") is not None and a["score"] < 0.9 and a.get("scoreDisplayMode") == "binary"
    ]
    metrics = {
        key: report["audits"][key]["displayValue"]
        for key in (
            "first-contentful-paint",
            "largest-contentful-paint",
            "total-blocking-time",
            "cumulative-layout-shift",
            "speed-index",
        )
    }
    return {"scores": scores, "failing": failing, "metrics": metrics}


def main() -> None:
    ensure_lighthouse()
    with demo_server() as server:
        urls, cookie = prepare(server)
        work = Path(tempfile.mkdtemp(prefix="ntc-lh-"))
        print("Lighthouse 12, mobile settings (performance / accessibility / best practices)")
        for index, url in enumerate(urls):
            result = run(url, cookie, work / f"{index}.json")
            s = result["scores"]
            path = url.split("://", 1)[1].split("/", 1)[1]
            print(
                f"  /{path}: {s['performance']:.2f} / {s['accessibility']:.2f} / "
                f"{s['best-practices']:.2f}"
            )
            if s["performance"] < 1:
                print("      " + ", ".join(f"{k} {v}" for k, v in result["metrics"].items()))
            for audit in result["failing"]:
                print(f"      failing: {audit}")


if __name__ == "__main__":
    main()
