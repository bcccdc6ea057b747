"""Time a 10 000-candidate import: decoding, checking, and the bulk insert with its commit.

    .venv/bin/python bench/import_candidates.py [rows] [database URL]

Runs against a throw-away SQLite file by default (or the URL given, e.g. PostgreSQL) and
prints the seconds each step took. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ntc_jury import create_app  # noqa: E402
from ntc_jury.centre import operations as centre_ops  # noqa: E402
from ntc_jury.centre.candidate_operations import import_candidates  # noqa: E402
from ntc_jury.centre.importing import parse_file  # noqa: E402
from ntc_jury.centre.queries import import_context  # noqa: E402
from ntc_jury.extensions import db  # noqa: E402
from ntc_jury.referential.loader import load_referential_file  # noqa: E402

REFERENTIAL = ROOT / "seed" / "referentials" / "tp-00338-v07.yaml"


def make_file(rows: int) -> bytes:
    lines = ["Nom;Prénom;Date de naissance;Numéro de candidat;Parcours;CCP déjà obtenus"]
    routes = ("formation", "VAE", "capitalisation")
    for i in range(rows):
        held = "CCP1" if i % 3 == 2 else ""
        lines.append(f"Nom{i};Prénom{i};{1 + i % 28:02d}/01/1990;B{i:06d};{routes[i % 3]};{held}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{folder}/bench.sqlite"
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
        with app.app_context():
            db.drop_all()
            db.create_all()
            ntc = load_referential_file(REFERENTIAL)
            session = centre_ops.create_session(
                certification=ntc, format_code="TITLE", centre="Bench", starts_on=dt.date.today()
            )
            db.session.commit()
            data = make_file(rows)

            started = time.perf_counter()
            parsed = parse_file(data, "bench.csv", import_context(session, dt.date.today()))
            checked = time.perf_counter()
            assert parsed.ok, parsed.problems[:5]
            count = import_candidates(session=session, rows=parsed.rows, source="bench.csv")
            db.session.commit()
            written = time.perf_counter()
            db.drop_all()

    print(f"{count} candidates from a {len(data) / 1024:.0f} KiB CSV ({url.split(':')[0]}):")
    print(f"  read and check : {checked - started:6.2f} s")
    print(f"  bulk insert    : {written - checked:6.2f} s (one audit event)")
    print(f"  total          : {written - started:6.2f} s")


if __name__ == "__main__":
    main()
