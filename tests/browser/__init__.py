"""Real-browser tests: headless Chromium driven by Playwright's sync API.

Fixtures live in conftest.py (`live_server`, `browser`, `new_page`, `phone`, `desktop`,
`axe_phone`, `axe_desktop`); the assertion helpers below are imported by the tests:

    from tests.browser import assert_no_axe_violations, assert_no_console_errors
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.14.1"
AXE_PATH = ROOT / ".cache" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Without these Chromium keeps trying to reach Google's servers from the test machine.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Context profiles for `new_page(profile=...)`; any key can be overridden per call.
PHONE: dict = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-FR",
    "timezone_id": "Europe/Paris",
    "service_workers": "allow",
}
DESKTOP: dict = {
    "viewport": {"width": 1280, "height": 800},
    "device_scale_factor": 1,
    "is_mobile": False,
    "has_touch": False,
    "locale": "fr-FR",
    "timezone_id": "Europe/Paris",
    "service_workers": "allow",
}
PROFILES = {"phone": PHONE, "desktop": DESKTOP}

# WCAG 2.0 / 2.1 / 2.2, levels A and AA, plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
MIN_TAP_PX = 44


# --------------------------------------------------------------------------- console / CSP


@dataclass
class ConsoleLog:
    """Console errors and uncaught exceptions of one browser context (all its pages/workers)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        where = message.location or {}
        origin = f" [{where.get('url', '')}:{where.get('lineNumber', '')}]" if where else ""
        if message.type == "error":
            self.errors.append(f"console.error: {message.text}{origin}")
        elif message.type == "warning":
            self.warnings.append(f"console.warning: {message.text}{origin}")

    def on_page_error(self, error: PlaywrightError) -> None:
        self.errors.append(f"uncaught exception: {error.name}: {error.message}")

    def clear(self) -> None:
        self.errors.clear()
        self.warnings.clear()


_LOGS: weakref.WeakKeyDictionary[BrowserContext, ConsoleLog] = weakref.WeakKeyDictionary()


def watch_console(context: BrowserContext) -> ConsoleLog:
    """Start recording console errors (CSP violations included) and JS exceptions."""
    log = _LOGS.get(context)
    if log is None:
        log = _LOGS[context] = ConsoleLog()
        context.on("console", log.on_console)
        context.on("weberror", lambda web_error: log.on_page_error(web_error.error))
    return log


def console_log(page: Page) -> ConsoleLog:
    """The log of `page`'s context (contexts made by the `new_page` fixtures are watched)."""
    return watch_console(page.context)


def assert_no_console_errors(page: Page, *, ignore: Iterable[str] = ()) -> None:
    """Fail if the page's context logged a console error or threw; `ignore` holds regexes.

    CSP violations ("Refused to load/execute ... Content Security Policy"), failed
    sub-resource loads (404 on a script or stylesheet) and uncaught exceptions all count.
    """
    patterns = [re.compile(p) for p in ignore]
    errors = [e for e in console_log(page).errors if not any(p.search(e) for p in patterns)]
    if errors:
        pytest.fail(
            f"{len(errors)} browser console error(s) on {page.url}:\n  - " + "\n  - ".join(errors),
            pytrace=False,
        )


# --------------------------------------------------------------------------- axe-core

_AXE_RUN = """async (options) => {
  const result = await window.axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
  }));
}"""


def _inject_axe(page: Page) -> None:
    if page.evaluate("() => typeof window.axe === 'object'"):
        return
    if not AXE_PATH.is_file():
        pytest.fail(
            f"axe-core is missing ({AXE_PATH.relative_to(ROOT)}): run `make test` "
            f"(or `make {AXE_PATH.relative_to(ROOT)}`) once to download it.",
            pytrace=False,
        )
    hint = (
        "axe-core could not be injected: the page's Content-Security-Policy blocks it. "
        "Use a context made with bypass_csp=True (the `axe_phone` / `axe_desktop` fixtures, "
        "or new_page(bypass_csp=True))."
    )
    try:
        page.add_script_tag(path=str(AXE_PATH))
    except PlaywrightError as exc:
        pytest.fail(f"{hint}\n{exc}", pytrace=False)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        pytest.fail(hint, pytrace=False)


def axe_violations(page: Page, *, tags: Iterable[str] = AXE_TAGS, disable: Iterable[str] = ()):
    """Run axe-core on the current document; returns the violations as plain dicts."""
    _inject_axe(page)
    options: dict = {
        "runOnly": {"type": "tag", "values": list(tags)},
        "resultTypes": ["violations"],
    }
    disabled = list(disable)
    if disabled:
        options["rules"] = {rule: {"enabled": False} for rule in disabled}
    return page.evaluate(_AXE_RUN, options)


def format_axe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        first = v["nodes"][0] if v["nodes"] else {"target": [], "summary": ""}
        summary = " ".join((first.get("summary") or "").split())
        lines.append(
            f"  - {v['id']} [{v['impact']}] {v['help']} ({len(v['nodes'])} node(s))\n"
            f"      first: {' '.join(map(str, first['target']))}\n"
            f"      {summary}\n"
            f"      {v['helpUrl']}"
        )
    return "\n".join(lines)


def assert_no_axe_violations(
    page: Page, context_label: str, *, tags: Iterable[str] = AXE_TAGS, disable: Iterable[str] = ()
) -> None:
    """Fail with a readable list if axe-core (WCAG 2.x A/AA + best practices) finds anything.

    The page must come from a context with bypass_csp=True (`axe_phone`, `axe_desktop`).
    `disable` turns off named rules: give a reason in the calling test.
    """
    violations = axe_violations(page, tags=tags, disable=disable)
    if violations:
        pytest.fail(
            f"axe-core found {len(violations)} violation(s) on {context_label} ({page.url}):\n"
            + format_axe_violations(violations),
            pytrace=False,
        )


# --------------------------------------------------------------------------- layout

_OVERFLOW = """(width) => {
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 0.5 && getComputedStyle(el).position !== 'fixed') {
      const classes = typeof el.className === 'string' && el.className.trim()
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${classes}` +
                ` right=${Math.round(r.right)}`);
    }
  }
  return {
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
    wide: wide.slice(0, 10),
  };
}"""


def assert_no_horizontal_scroll(page: Page) -> None:
    """The document fits the viewport width (no sideways scrolling on a phone).

    With is_mobile=True Chromium zooms out to fit wide content, which widens innerWidth:
    so innerWidth is also checked against the viewport that was asked for.
    """
    viewport = page.viewport_size["width"]
    m = page.evaluate(_OVERFLOW, viewport)
    if not (m["scrollWidth"] <= m["innerWidth"] == viewport):
        pytest.fail(
            f"horizontal scrolling on {page.url} at {viewport}px: scrollWidth={m['scrollWidth']}, "
            f"innerWidth={m['innerWidth']}; elements past the right edge: {m['wide']}",
            pytrace=False,
        )


_TAP_TARGETS = """([scopes, minPx]) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
                   '[role=button], [role=link], [role=tab], [role=checkbox], [role=radio]';
  const small = [];
  let checked = 0;
  for (const scope of document.querySelectorAll(scopes)) {
    for (const el of scope.querySelectorAll(selector)) {
      const style = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      if (style.visibility === 'hidden' || r.width === 0 || r.height === 0) continue;
      // WCAG 2.5.8 "inline" exception: a link inside a sentence sizes with the text.
      if (style.display === 'inline' && el.parentElement &&
          el.parentElement.textContent.trim().length > el.textContent.trim().length) continue;
      checked += 1;
      if (r.height < minPx - 0.01 || r.width < minPx - 0.01) {
        const label = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
        small.push(`<${el.tagName.toLowerCase()}> "${label.slice(0, 40)}" ` +
                   `${Math.round(r.width)}×${Math.round(r.height)}px`);
      }
    }
  }
  return { checked, small };
}"""


def assert_tap_targets(
    page: Page,
    scopes: str = "header, main, footer",
    *,
    min_px: int = MIN_TAP_PX,
    expect_some: bool = True,
) -> int:
    """Every visible control in `scopes` is at least `min_px` high and wide; returns the count.

    Links inside running text are exempt (WCAG 2.5.8 inline exception).
    """
    result = page.evaluate(_TAP_TARGETS, [scopes, min_px])
    if expect_some and not result["checked"]:
        pytest.fail(f"no tap target found in {scopes!r} on {page.url}", pytrace=False)
    if result["small"]:
        pytest.fail(
            f"tap targets under {min_px}px on {page.url} "
            f"({page.viewport_size['width']}px wide):\n  - " + "\n  - ".join(result["small"]),
            pytrace=False,
        )
    return result["checked"]


# --------------------------------------------------------------------------- shared steps


def sign_in_juror(page: Page, token: str, pin: str) -> None:
    """A juror's link, then their PIN, as on the phone; lands on the session home."""
    page.goto(f"/j/{token}")
    page.get_by_label("Code PIN (6 chiffres)").fill(pin)
    page.get_by_role("button", name="Accéder à la session").click()
    page.wait_for_url(re.compile(r"/jury/$"))


def read_committed(db, statement) -> list:
    """Read what the live server wrote: a fresh snapshot, released at once (SQLite's lock)."""
    db.session.rollback()
    try:
        return db.session.execute(statement).all()
    finally:
        db.session.rollback()
