"""What the browser benchmarks share: a throwaway app with the demo, served locally.

Not a test: benchmarks print figures and are run by hand (see bench/README.md).
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ntc_jury import create_app  # noqa: E402
from ntc_jury.extensions import db  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-FR",
}


@dataclass
class DemoServer:
    base: str
    app: object
    links: list[tuple[str, str]]  # (link, PIN) of each demo juror


@contextlib.contextmanager
def demo_server() -> Iterator[DemoServer]:
    """The app on a free loopback port with the referential and the demo session."""
    workdir = Path(tempfile.mkdtemp(prefix="ntc-bench-"))
    probe = make_server("127.0.0.1", 0, None)
    port = probe.socket.getsockname()[1]
    probe.server_close()
    base = f"http://127.0.0.1:{port}"
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
            "PUBLIC_URL": base,
        }
    )
    with app.app_context():
        db.create_all()
    runner = app.test_cli_runner()
    runner.invoke(args=["referential", "load", str(ROOT / "seed/referentials/tp-00338-v07.yaml")])
    output = runner.invoke(args=["demo"]).output
    links = list(
        zip(
            re.findall(r"lien (http\S+)", output), re.findall(r"PIN\s+(\d{6})", output), strict=True
        )
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield DemoServer(base, app, links)
    finally:
        server.shutdown()
        thread.join()


def sign_in(page, link: str, pin: str) -> None:
    page.goto(link)
    page.fill("input[name=pin]", pin)
    page.click("#pin-form button[type=submit]")
    page.wait_for_url("**/jury/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
