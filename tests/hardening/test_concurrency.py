"""Issue 9, part 1: three jurors tick every grid of twelve candidates at once, through gunicorn.

Each juror's phone sends its operations in small batches to the outbox endpoint, in a random
order, over two connections at once (two threads per juror, six in all against two workers).
The database must then hold exactly the expected marks, each operation applied once and
audited once, with an intact hash chain; replaying operations (even with another payload, or
from another juror) changes nothing. Last, one phone sends the same new operations twice at
once in opposite orders: each is applied once (on PostgreSQL this used to deadlock).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from .conftest import (
    Browser,
    ScoringWorld,
    Tick,
    applied_operations,
    assert_exactly_applied,
    audit_rows,
    batches,
    fresh_read,
    marks_of,
)

LANES_PER_JUROR = 2
LARGEST_BATCH = 12
INVALID_OP = "Identifiant d'opération invalide."


def _send_lane(browser: Browser, lane: list[list[dict]]) -> list[dict]:
    results, left = [], sum(len(b) for b in lane)
    for batch in lane:
        left -= len(batch)
        results.extend(browser.send(batch, pending=left))
    return results


def _run_lanes(lanes: list[tuple[Browser, list[list[dict]]]]) -> list[dict]:
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        futures = [pool.submit(_send_lane, browser, lane) for browser, lane in lanes]
        return [result for future in futures for result in future.result()]


def _lanes_for(world: ScoringWorld, browsers, ops_by_juror) -> list:
    lanes = []
    for juror in world.jurors:
        ops = ops_by_juror.get(juror.id, [])
        for index in range(LANES_PER_JUROR):
            share = ops[index::LANES_PER_JUROR]
            twin = browsers[juror.id].clone()
            lanes.append((twin, batches(share, world.rng, largest=LARGEST_BATCH)))
    return lanes


def test_three_jurors_ticking_every_grid_in_parallel_end_exactly_as_expected(
    gunicorn_server, scoring_world
):
    world = scoring_world
    browsers = {}
    for juror in world.jurors:
        browsers[juror.id] = gunicorn_server.browser()
        browsers[juror.id].sign_in_juror(juror.token, juror.pin)
    ticks = world.all_ticks
    assert len(world.jurors) == 3 and len(world.candidate_ids) == 12
    # Every criterion of the RE, in every modality of every grid, for every juror.
    assert len(ticks) == 3 * 12 * 87

    ops_by_juror: dict[int, list[dict]] = {}
    for juror in world.jurors:
        mine = list(world.ticks[juror.id])
        world.rng.shuffle(mine)
        ops_by_juror[juror.id] = [t.operation() for t in mine]
    results = _run_lanes(_lanes_for(world, browsers, ops_by_juror))

    assert len(results) == len(ticks)
    refused = [r for r in results if r["status"] != "applied"]
    assert refused == [], refused[:5]
    assert_exactly_applied(world, ticks)

    # Replays: a random subset sent again at once, in another order, some with the opposite
    # value (the op id decides, not the payload), and some by a juror who did not make them.
    fresh_read()
    audit_before, marks_before = audit_rows(), marks_of(world.session_id)
    replayed: list[Tick] = world.rng.sample(ticks, k=len(ticks) // 6)
    replays: dict[int, list[dict]] = {}
    for tick in replayed:
        flip = world.rng.random() < 0.3
        replays.setdefault(tick.juror_id, []).append(
            tick.operation(observed=(not tick.observed) if flip else None)
        )
    stolen: dict[int, list[dict]] = {}
    juror_ids = [j.id for j in world.jurors]
    for tick in world.rng.sample(ticks, k=60):
        thief = juror_ids[(juror_ids.index(tick.juror_id) + 1) % len(juror_ids)]
        stolen.setdefault(thief, []).append(tick.operation(observed=not tick.observed))
    with ThreadPoolExecutor(max_workers=2) as pool:
        replay_future = pool.submit(_run_lanes, _lanes_for(world, browsers, replays))
        stolen_future = pool.submit(_run_lanes, _lanes_for(world, browsers, stolen))
        replay_results, stolen_results = replay_future.result(), stolen_future.result()

    assert len(replay_results) == len(replayed)
    assert {r["status"] for r in replay_results} == {"already_applied"}
    by_id = {t.op_id: t for t in ticks}
    for result in replay_results:
        tick = by_id[result["op_id"]]
        # The answer stored the first time, not the replayed payload.
        assert result["result"] == {
            "criterion_id": tick.criterion_id,
            "modality": tick.modality,
            "observed": tick.observed,
        }
    assert len(stolen_results) == 60
    assert {(r["status"], r["message"], len(r["result"])) for r in stolen_results} == {
        ("refused", INVALID_OP, 0)
    }
    fresh_read()
    assert audit_rows() == audit_before
    assert marks_of(world.session_id) == marks_before
    assert len(applied_operations()) == len(ticks) + len(world.setup_op_ids)
    assert_exactly_applied(world, ticks)
    gunicorn_server.assert_no_server_errors()


def test_the_same_new_operations_sent_twice_at_once_in_opposite_orders_apply_once(
    gunicorn_server, scoring_world
):
    """A phone resending a batch while the first send is still being applied (a timeout on
    flaky wifi, a second tab): both requests race on the same new op ids, in opposite orders."""
    world = scoring_world
    juror = world.jurors[0]
    phone = gunicorn_server.browser()
    phone.sign_in_juror(juror.token, juror.pin)
    ticks = world.ticks[juror.id][:240]
    rounds = [ticks[i : i + 12] for i in range(0, len(ticks), 12)]
    start = Barrier(2)

    def lane(order: int, browser: Browser) -> list[dict]:
        results = []
        for batch in rounds:
            ops = [t.operation() for t in batch][::order]
            start.wait(timeout=30)
            results.extend(browser.send(ops))
        return results

    with ThreadPoolExecutor(max_workers=2) as pool:
        forward = pool.submit(lane, 1, phone.clone())
        backward = pool.submit(lane, -1, phone.clone())
        answers = forward.result() + backward.result()

    statuses: dict[str, list[str]] = {}
    for answer in answers:
        statuses.setdefault(answer["op_id"], []).append(answer["status"])
    assert len(statuses) == len(ticks)
    assert {tuple(sorted(s)) for s in statuses.values()} == {("already_applied", "applied")}
    assert_exactly_applied(world, ticks)
    gunicorn_server.assert_no_server_errors()
