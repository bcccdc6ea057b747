"""How long 200 operations queued offline take to reach the server once the network returns.

    .venv/bin/python bench/offline_sync.py [--operations 200] [--runs 3]

Target (issue 7): under 5 s on this 2-core machine. The juror's phone is emulated by
headless Chromium; operations are real ticks recorded through the outbox while offline.
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness import CHROMIUM, CHROMIUM_ARGS, PHONE, demo_server, sign_in
from playwright.sync_api import sync_playwright

SYNCED = (
    "() => { const s = document.getElementById('sync-status');"
    " return s.dataset.pending === '0' && s.dataset.state === 'saved'; }"
)


def one_run(browser, server, link, pin, operations: int) -> float:
    context = browser.new_context(base_url=server.base, **PHONE)
    page = context.new_page()
    sign_in(page, link, pin)
    page.click(".candidate-link")
    page.click("#confirm-no-link")
    page.wait_for_selector("#phases a.phase-title")
    page.locator("#phases a.phase-title").nth(5).click()
    page.wait_for_selector("li.criterion button.tick")
    context.set_offline(True)
    page.evaluate("() => window.dispatchEvent(new Event('offline'))")
    buttons = page.locator("li.criterion button.tick:not([disabled])")
    count = buttons.count()
    for index in range(operations):
        buttons.nth(index % count).click()
    page.wait_for_function(
        "n => Number(document.getElementById('sync-status').dataset.pending) === n", arg=operations
    )
    start = time.perf_counter()
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(SYNCED, timeout=120_000)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with demo_server() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        times = []
        for run in range(args.runs):
            link, pin = server.links[run % len(server.links)]
            times.append(one_run(browser, server, link, pin, args.operations))
        browser.close()
    print(f"offline sync of {args.operations} queued operations, {args.runs} runs")
    print("  seconds: " + ", ".join(f"{t:.2f}" for t in times))
    print(f"  median: {statistics.median(times):.2f} s (target < 5 s)")


if __name__ == "__main__":
    main()
