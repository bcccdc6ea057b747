"""Bytes a juror's phone downloads: the first visit, then later page loads.

    .venv/bin/python bench/page_weight.py

Counts the compressed (encoded) body sizes of every response, including what the service
worker precaches, in a fresh phone profile. Targets (issue 7): first visit at most 40 KB
in total (HTML, CSS, JS including htmx, icons); later page loads at most 8 KB.
"""

from __future__ import annotations

from harness import CHROMIUM, CHROMIUM_ARGS, PHONE, demo_server
from playwright.sync_api import sync_playwright


class Meter:
    def __init__(self, context) -> None:
        self.rows: list[tuple[str, int]] = []
        context.on("requestfinished", self.record)

    def record(self, request) -> None:
        try:
            size = request.sizes()["responseBodySize"]
        except Exception:  # a request without a body (e.g. a redirect) has no sizes
            size = 0
        self.rows.append((request.url, max(size, 0)))

    def take(self) -> list[tuple[str, int]]:
        rows, self.rows = self.rows, []
        return rows


def report(title: str, rows: list[tuple[str, int]], budget: int) -> None:
    total = sum(size for _, size in rows)
    print(f"{title}: {total / 1024:.1f} KB in {len(rows)} responses (budget {budget} KB)")
    for url, size in sorted(rows, key=lambda r: -r[1])[:12]:
        print(f"    {size / 1024:6.1f} KB  {url.split('://', 1)[-1].split('/', 1)[-1][:70]}")


def main() -> None:
    with demo_server() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server.base, **PHONE)
        meter = Meter(context)
        page = context.new_page()
        link, pin = server.links[1]
        page.goto(link)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.wait_for_load_state("networkidle")
        report("first visit (link + PIN page, app shell precached)", meter.take(), 40)
        page.fill("input[name=pin]", pin)
        page.click("#pin-form button[type=submit]")
        page.wait_for_url("**/jury/")
        page.wait_for_load_state("networkidle")
        meter.take()  # prefetch of candidate pages for offline use is not a page load
        page.click(".candidate-link")
        page.wait_for_load_state("domcontentloaded")
        rows = [r for r in meter.take() if "/jury/candidats/" in r[0] and r[0].count("/") <= 5]
        report("later page load (candidate page HTML; assets from cache)", rows[:1], 8)
        page.click("#confirm-no-link")
        page.wait_for_selector("#phases a.phase-title")
        meter.take()
        page.locator("#phases a.phase-title").nth(5).click()
        page.wait_for_load_state("domcontentloaded")
        rows = [r for r in meter.take() if "/phases/" in r[0]]
        report("later page load (phase page with its grid)", rows[:1], 8)
        browser.close()


if __name__ == "__main__":
    main()
