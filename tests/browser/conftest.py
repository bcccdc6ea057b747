"""Browser fixtures: the app on a live local server, headless Chromium, phone/desktop pages.

    def test_something(db, live_server, phone):
        ...create rows with db.session, then db.session.commit()...
        phone.goto("/")            # relative to live_server (the context's base_url)

Every test in this folder gets the `browser` marker automatically.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import got_request_exception
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from . import CHROMIUM_ARGS, CHROMIUM_PATH, PROFILES, watch_console

HERE = Path(__file__).resolve().parent
DEFAULT_TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------- live server


class _ServerThread(threading.Thread):
    def __init__(self, app) -> None:
        super().__init__(name="live-server", daemon=True)
        # Port 0: the OS picks a free port. threaded=True: the browser opens several
        # connections at once (page, CSS, scripts) and keeps them alive.
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def run(self) -> None:
        self.server.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        self.server.shutdown()
        self.join(timeout=10)
        self.server.server_close()


@pytest.fixture(scope="session")
def _live_server_thread(app) -> Iterator[_ServerThread]:
    thread = _ServerThread(app)
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def live_server(_live_server_thread, app, db) -> Iterator[str]:
    """Base URL ("http://127.0.0.1:PORT") of the session `app`, served from a background thread.

    The database is the test's clean `db`: rows committed in the test (db.session.commit())
    are visible to the server; uncommitted ones are not (and may block its writes).
    An exception escaping a view during the test fails the test at teardown.
    """
    errors: list[str] = []

    def record(sender, exception, **extra):
        errors.append(f"{type(exception).__name__}: {exception}")

    got_request_exception.connect(record, app)
    try:
        yield _live_server_thread.url
    finally:
        got_request_exception.disconnect(record, app)
    if errors:
        pytest.fail("the live server raised:\n  - " + "\n  - ".join(errors), pytrace=False)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium. A missing browser fails the tests: it is never a skip."""
    if not CHROMIUM_PATH.exists():
        pytest.fail(
            f"{CHROMIUM_PATH} not found: run `make test` (it installs the Debian package "
            "`chromium`), or `apt-get install chromium`.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM_PATH), headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            pytest.fail(
                f"Chromium ({CHROMIUM_PATH}) failed to start: run `make test` "
                f"(Debian package `chromium`).\n{exc}",
                pytrace=False,
            )
        yield browser
        browser.close()


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser, live_server) -> Iterator[NewPage]:
    """Factory: new_page(profile="phone"|"desktop", *, bypass_csp=False, **context_options).

    Each call opens a fresh context (own cookies, storage, service workers) with base_url set
    to the live server and its console watched (see tests.browser.assert_no_console_errors).
    `viewport=(360, 640)` is accepted as a shortcut. Contexts are closed at teardown.
    """
    contexts: list[BrowserContext] = []

    def factory(profile: str = "phone", *, bypass_csp: bool = False, **options) -> Page:
        settings = {**PROFILES[profile], **options}
        if isinstance(settings.get("viewport"), tuple):
            width, height = settings["viewport"]
            settings["viewport"] = {"width": width, "height": height}
        context = browser.new_context(base_url=live_server, bypass_csp=bypass_csp, **settings)
        contexts.append(context)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        watch_console(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def phone(new_page) -> Page:
    """390×844 touch phone, French, CSP enforced (use `axe_phone` for axe-core)."""
    return new_page("phone")


@pytest.fixture
def desktop(new_page) -> Page:
    """1280×800 desktop, French, CSP enforced."""
    return new_page("desktop")


@pytest.fixture
def axe_phone(new_page) -> Page:
    """Like `phone` but with bypass_csp=True, so axe-core can be injected."""
    return new_page("phone", bypass_csp=True)


@pytest.fixture
def axe_desktop(new_page) -> Page:
    """Like `desktop` but with bypass_csp=True, so axe-core can be injected."""
    return new_page("desktop", bypass_csp=True)
