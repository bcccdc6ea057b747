"""Lighthouse 12 scores of the juror's pages at mobile settings, signed in.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--keep DIR]

Installs lighthouse@12 from npm into .cache/lighthouse on first run (the newest major needs
Node 22; this machine has Node 20), serves the demo session, signs a juror in with
Playwright to get the session cookie, opens the deliberation so the summary sheet exists,
then runs Lighthouse with Debian's Chromium on the session home, a candidate, a phase and
a summary sheet, `--runs` times each (every run a fresh browser profile: a first visit,
service-worker install included). Target (issue 9): 1.0 for performance, accessibility and
best practices. Prints each run's scores with its total blocking time, largest contentful
paint and cumulative layout shift, then the min / median score of each page; `--keep`
saves the JSON reports and the traces to look at the rest (long tasks, main-thread breakdown).

Lighthouse simulates a phone by multiplying every main-thread task it observed by 4, so on a
shared machine the time a task spent waiting for a CPU is multiplied too, and total blocking
time grows with the neighbours' load. Each run therefore also prints the load average,
Lighthouse's benchmark index (the host's speed as it measured it) and the page's own
main-thread CPU time from the trace (see `own_cpu`), which does not depend on the load.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path

from harness import CHROMIUM, CHROMIUM_ARGS, PHONE, ROOT, demo_server, sign_in
from playwright.sync_api import sync_playwright

CACHE = ROOT / ".cache" / "lighthouse"
BIN = CACHE / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")
METRICS = {
    "FCP": "first-contentful-paint",
    "LCP": "largest-contentful-paint",
    "TBT": "total-blocking-time",
    "CLS": "cumulative-layout-shift",
    "SI": "speed-index",
}


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


def own_cpu(trace: Path) -> dict:
    """The page's main-thread tasks from its first HTML parse on, at their CPU time.

    A task's wall time includes the time it waited for a CPU that another process had; its
    thread time does not. Counted like Lighthouse counts them (4× CPU slowdown, 2× for a task
    that lays out; blocking is what exceeds 50 ms) but over every task, before the first paint
    too, this is an upper bound of the blocking time a quiet host would give the page: a
    figure that does not move with the machine's load.
    """
    events = json.loads(trace.read_text())["traceEvents"]
    navigation = [
        e
        for e in events
        if e.get("name") == "navigationStart"
        and e.get("args", {}).get("data", {}).get("isLoadingMainFrame")
        and e["args"]["data"].get("documentLoaderURL", "").startswith("http")
    ][-1]
    thread = [
        e
        for e in events
        if (e.get("pid"), e.get("tid")) == (navigation["pid"], navigation["tid"])
        and e.get("ph") == "X"
        and e["ts"] >= navigation["ts"]
    ]
    thread.sort(key=lambda e: (e["ts"], -e.get("dur", 0)))
    tasks: list[dict] = []  # top-level tasks, with the names of what ran inside them
    for event in thread:
        if tasks and event["ts"] < tasks[-1]["end"]:
            tasks[-1]["inside"].add(event["name"])
        elif event["name"] in ("RunTask", "ThreadControllerImpl::RunTask"):
            cpu = event.get("tdur", event.get("dur", 0)) / 1000
            tasks.append({"end": event["ts"] + event.get("dur", 0), "cpu": cpu, "inside": set()})
    first_parse = next(n for n, t in enumerate(tasks) if "ParseHTML" in t["inside"])
    counted = tasks[first_parse:]
    blocking = sum(max(0, t["cpu"] * (2 if "Layout" in t["inside"] else 4) - 50) for t in counted)
    return {
        "total": sum(t["cpu"] for t in counted),
        "longest": max(t["cpu"] for t in counted),
        "blocking": blocking,
    }


def run(url: str, cookie: str, out: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(
        [
            str(BIN),
            "--save-assets",
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
    metrics = {name: report["audits"][key]["numericValue"] for name, key in METRICS.items()}
    cpu = own_cpu(out.with_name(f"{out.stem}-0.trace.json"))
    benchmark = report["environment"]["benchmarkIndex"]
    return {
        "scores": scores,
        "failing": failing,
        "metrics": metrics,
        "cpu": cpu,
        "benchmark": benchmark,
    }


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page")
    parser.add_argument("--keep", type=Path, help="folder to keep the JSON reports and traces in")
    args = parser.parse_args()
    ensure_lighthouse()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    work = args.keep or Path(tempfile.mkdtemp(prefix="ntc-lh-"))
    work.mkdir(parents=True, exist_ok=True)
    with demo_server() as server:
        urls, cookie = prepare(server)
        print(
            f"Lighthouse 12, mobile settings, {args.runs} run(s) per page "
            f"(load average {loadavg()})"
        )
        print("  perf / a11y / best practices · FCP, LCP, TBT ms · CLS · SI ms · benchmark index")
        results: dict[str, list[dict]] = {}
        for run_index in range(args.runs):
            print(f"run {run_index + 1}/{args.runs}")
            for index, url in enumerate(urls):
                path = "/" + url.split("://", 1)[1].split("/", 1)[1]
                out = work / f"{index}-{run_index + 1}.json"
                result = run(url, cookie, out)
                results.setdefault(path, []).append(result)
                s, m = result["scores"], result["metrics"]
                print(
                    f"  {path:44} {s['performance']:.2f} / {s['accessibility']:.2f} / "
                    f"{s['best-practices']:.2f} · FCP {m['FCP']:.0f}, LCP {m['LCP']:.0f}, "
                    f"TBT {m['TBT']:.0f} · CLS {m['CLS']:.3f} · SI {m['SI']:.0f} · "
                    f"{result['benchmark']:.0f}"
                )
                c = result["cpu"]
                print(
                    f"  {'':44} CPU time {c['total']:.0f} ms, longest task {c['longest']:.1f} ms, "
                    f"blocking at 4× ≤ {c['blocking']:.0f} ms"
                )
                for audit in result["failing"]:
                    print(f"      failing: {audit}")
            print(f"  (load average {loadavg()})")
        print(f"Summary over {args.runs} run(s): min / median score; max TBT, LCP, CLS")
        for path, runs in results.items():
            cells = []
            for category in CATEGORIES:
                values = [r["scores"][category] for r in runs]
                cells.append(f"{min(values):.2f}/{statistics.median(values):.2f}")
            worst = {k: max(r["metrics"][k] for r in runs) for k in ("TBT", "LCP", "CLS")}
            blocking = max(r["cpu"]["blocking"] for r in runs)
            print(
                f"  {path:44} " + "  ".join(cells) + f" · TBT ≤ {worst['TBT']:.0f} ms, "
                f"LCP ≤ {worst['LCP']:.0f} ms, CLS ≤ {worst['CLS']:.3f} · "
                f"CPU-time blocking ≤ {blocking:.0f} ms"
            )
    if args.keep:
        print(f"Reports in {work}")
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
