"""How long the procès-verbal of a 12-candidate locked session takes to produce.

    .venv/bin/python bench/pv_render.py [--candidates 12] [--runs 5] [--engine weasyprint]

Target (issue 6): under 3 s on this 2-core machine. Not a test: it prints figures.

The session is built by tests/minutes/builders.py (3 jurors, one recused for a candidate,
a failing candidate with reasons, incidents) in a throwaway SQLite database. Each run does
what `generate_minutes` does before storing the file: read every candidate's board, hash the
session's data, render the HTML and turn it into a PDF/A-3b. The first run of the process is
reported apart: it pays for WeasyPrint's and fontconfig's start-up.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ntc_jury import create_app  # noqa: E402
from ntc_jury.extensions import db  # noqa: E402
from ntc_jury.minutes import operations, queries, rendering, session_data  # noqa: E402
from ntc_jury.referential.loader import load_referential_file  # noqa: E402
from tests.minutes.builders import build_locked_session  # noqa: E402

REFERENTIAL = ROOT / "seed" / "referentials" / "tp-00338-v07.yaml"
TARGET_SECONDS = 3.0


def produce(session) -> bytes:
    """Everything generate_minutes does for a new version, except storing it."""
    digest, _body = session_data.data_sha256(session)
    content = queries.minutes_content(session)
    return rendering.render_document(
        "minutes/pdf/minutes.html",
        content=content,
        session=session,
        ref=content.ref,
        data_sha256=digest,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", choices=("weasyprint", "pdfkit"), default="weasyprint")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="ntc-bench-pv-"))
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
            "PDF_ENGINE": args.engine,
        }
    )
    with app.app_context():
        db.create_all()
        certification = load_referential_file(REFERENTIAL)
        built = build_locked_session(certification, candidates=args.candidates)
        session = built.session

        load = os.getloadavg()[0]
        started = time.perf_counter()
        cold_pdf = produce(session)
        cold = time.perf_counter() - started
        timings, cpu = [], []
        for _ in range(args.runs):
            db.session.expire_all()
            started, cpu_started = time.perf_counter(), time.process_time()
            pdf = produce(session)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        started = time.perf_counter()
        version = operations.generate_minutes(session=session).version
        db.session.commit()
        stored_seconds = time.perf_counter() - started

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    median = statistics.median(timings)
    print(f"PV of a {args.candidates}-candidate locked session, engine {args.engine}")
    print(f"  {pages} pages, {len(pdf) / 1024:.0f} KiB (first run {len(cold_pdf) / 1024:.0f} KiB)")
    # Other processes share the 2 cores: the CPU time is what the PV costs by itself.
    print(f"  load average when the runs started: {load:.1f} (2 cores)")
    print(f"  first run of the process (cold): {cold:.2f} s")
    print(
        f"  warm, {args.runs} runs: median {median:.2f} s, "
        f"min {min(timings):.2f} s, max {max(timings):.2f} s; "
        f"CPU time median {statistics.median(cpu):.2f} s"
    )
    print(f"  generate_minutes with storage (version {version}): {stored_seconds:.2f} s")
    # The target is for a running server, whose workers have paid the start-up already.
    verdict = "OK" if median < TARGET_SECONDS else "OVER TARGET"
    print(f"  target < {TARGET_SECONDS:.0f} s (warm median): {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
