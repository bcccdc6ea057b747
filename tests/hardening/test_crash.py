"""Issue 9, part 2: kill -9 the whole server in the middle of a load of ticks, restart it.

Each juror's phone keeps an outbox: every operation, in order, and the ones the server
acknowledged (HTTP 200 with "applied", or "already_applied" for a resent one). The master and
both workers are killed at once (SIGKILL to the process group) while batches are in flight.
Before anything is sent again, every acknowledged operation must be in the database with its
mark and its audit event. The server is restarted on the same database and the phones resend
what they have not seen acknowledged, until a second kill; after the second restart each
phone replays its whole list (everything, to prove idempotence). In the end every operation
is applied exactly once, nothing is doubled and the audit chain is intact.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import (
    Browser,
    ScoringWorld,
    ServerGone,
    Tick,
    applied_operations,
    assert_exactly_applied,
    audit_op_ids,
    batches,
    build_scoring_world,
    chain_problems,
    fresh_read,
    marks_of,
)

LARGEST_BATCH = 8
KILLS = 2
WAIT_SECONDS = 120.0
ACKNOWLEDGED = ("applied", "already_applied")


@pytest.fixture
def crash_world(ntc, db):
    """3 jurors × 4 candidates, every juror cleared for every candidate (1,044 ticks)."""
    return build_scoring_world(ntc, jurors=3, candidates=4)


class Progress:
    """Acknowledged operations of all phones; `reached` once `target` of them are."""

    def __init__(self, count: int, target: int):
        self.count = count
        self.target = target
        self.reached = threading.Event()
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.count += n
            if self.count >= self.target:
                self.reached.set()


class Phone:
    """A juror's outbox: every operation in order, and which ones were acknowledged."""

    def __init__(self, browser: Browser, ticks: list[Tick], world: ScoringWorld):
        self.browser = browser
        self.ticks = ticks
        self.world = world
        self.acknowledged: set[str] = set()
        self.cut_mid_request = False  # the last cut came while a batch awaited its answer

    def _send(self, ticks: list[Tick]):
        left = len(ticks)
        for batch in batches(ticks, self.world.rng, largest=LARGEST_BATCH):
            left -= len(batch)
            yield batch, self.browser.send([t.operation() for t in batch], pending=left)

    def send_until_cut(self, progress: Progress) -> None:
        """Send what was not acknowledged yet, until the server stops answering."""
        try:
            for batch, results in self._send(
                [t for t in self.ticks if t.op_id not in self.acknowledged]
            ):
                statuses = {r["status"] for r in results}
                assert statuses <= set(ACKNOWLEDGED), results
                self.acknowledged |= {t.op_id for t in batch}
                progress.add(len(batch))
        except ServerGone as gone:
            # Refused: the server was already gone when the batch left. Otherwise the batch
            # was sent and its answer never came (applied or not: the replay will tell).
            self.cut_mid_request = not isinstance(gone.__cause__, ConnectionRefusedError)
            return  # offline: the rest stays in the outbox

    def replay_everything(self) -> list[dict]:
        return [answer for _batch, results in self._send(self.ticks) for answer in results]


def _database_holds_every_acknowledged_tick(world, ticks, acknowledged) -> set[str]:
    """Checked before anything is resent; returns the op ids the database holds."""
    fresh_read()
    stored = applied_operations()
    by_id = {t.op_id: t for t in ticks}
    stored_ticks = [by_id[op_id] for op_id, (kind, _s) in stored.items() if kind == "mark"]
    stored_ids = {t.op_id for t in stored_ticks}
    assert acknowledged <= stored_ids, "an acknowledged operation is missing"
    assert {stored[op_id] for op_id in stored_ids} <= {("mark", "applied")}
    # Each stored operation whole (its mark and its one audit event), nothing else written.
    assert marks_of(world.session_id) == world.expected_marks(stored_ticks), f"seed {world.seed}"
    audited = audit_op_ids("mark_recorded")
    assert set(audited) == stored_ids
    assert set(audited.values()) <= {1}
    assert chain_problems() == []
    return stored_ids


def test_a_server_killed_mid_load_keeps_every_acknowledged_tick_and_replays_apply_once(
    gunicorn_server, crash_world
):
    world = crash_world
    phones = []
    for juror in world.jurors:
        browser = gunicorn_server.browser()
        browser.sign_in_juror(juror.token, juror.pin)
        ticks = list(world.ticks[juror.id])
        world.rng.shuffle(ticks)
        phones.append(Phone(browser, ticks, world))
    ticks = world.all_ticks
    stored_ids: set[str] = set()

    for kill in range(1, KILLS + 1):
        done = sum(len(phone.acknowledged) for phone in phones)
        progress = Progress(done, len(ticks) * kill // (KILLS + 1))
        with ThreadPoolExecutor(max_workers=len(phones)) as pool:
            sending = [pool.submit(phone.send_until_cut, progress) for phone in phones]
            assert progress.reached.wait(timeout=WAIT_SECONDS), "the load never got going"
            gunicorn_server.kill_hard()
            for future in sending:
                future.result(timeout=WAIT_SECONDS)
        acknowledged = set().union(*(phone.acknowledged for phone in phones))
        assert progress.target <= len(acknowledged) < len(ticks), "not killed mid-load"
        assert any(phone.cut_mid_request for phone in phones), "no batch was in flight"
        stored_ids = _database_holds_every_acknowledged_tick(world, ticks, acknowledged)
        in_doubt = stored_ids - acknowledged  # applied, but the answer was lost in the kill
        print(f"kill {kill}: {len(acknowledged)} acknowledged, {len(in_doubt)} unanswered")
        gunicorn_server.restart()  # same port, same database; the phones keep their cookies

    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        replays = [pool.submit(phone.replay_everything) for phone in phones]
        answers = [answer for future in replays for answer in future.result(WAIT_SECONDS)]

    assert len(answers) == len(ticks)
    status = {a["op_id"]: a["status"] for a in answers}
    assert {status[op_id] for op_id in stored_ids} == {"already_applied"}
    never_stored = {t.op_id for t in ticks} - stored_ids
    assert {status[op_id] for op_id in never_stored} <= {"applied"}
    assert sum(s == "applied" for s in status.values()) == len(never_stored)
    assert_exactly_applied(world, ticks)
    gunicorn_server.assert_no_server_errors()
