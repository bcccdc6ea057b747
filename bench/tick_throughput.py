#!/usr/bin/env python3
"""Tick throughput and latency against gunicorn, next to a bare-stack baseline (run by hand).

    .venv/bin/python bench/tick_throughput.py                      # SQLite only
    .venv/bin/python bench/tick_throughput.py --pg "$(NTC_PG_DB=ntc_bench scripts/pg-test-db)"

For each database and gunicorn worker class it:
1. builds a throwaway database: the NTC referential, one session with N jurors (default 50)
   and enough candidates, every juror cleared ("aucun lien") for the candidate they score;
2. starts a *baseline* app under the same gunicorn settings: a tiny Flask app whose only work
   is one INSERT per request into the same kind of database;
3. starts the real app (wsgi:app), signs every juror in over HTTP (link + PIN, CSRF on);
4. drives ticks with N concurrent clients for a fixed time (wrk + a generated Lua script, or
   Python threads when wrk is missing), each request a new operation id toggling a criterion,
   through the two paths a phone uses: the htmx form POST (answered with the criterion's
   fragment) and the outbox's JSON batch (one operation per batch);
5. measures the same tick paths again at a human pace (each juror taps at --rate per second,
   open loop), which is what "p99 at 50 concurrent jurors" means for a jury room;
6. prints throughput, p50/p95/p99 and the tick/baseline ratio; checks in the database that
   every tick was applied once (operation record, audit event, mark upsert);
7. stops every process it started, by PID, and deletes what it created.

`--profile N` instead profiles N htmx ticks in-process (cProfile) and prints where time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
NTC_YAML = ROOT / "seed" / "referentials" / "tp-00338-v07.yaml"
TARGET_RATIO = 0.5
TARGET_P99_MS = 20.0
# What a phone sends: compression is part of the cost of an answer.
BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br"}


# ----------------------------------------------------------------------------- data


@dataclass
class Juror:
    token: str
    pin: str
    candidate_id: int
    phase_id: int  # the MSP phase the tick's "next" points at
    cookie: str = ""
    csrf: str = ""


@dataclass
class Scenario:
    url: str
    jurors: list[Juror]
    criteria: list[int]  # the MSP grid's criteria
    secret_key: str


def prepare_database(url: str, jurors: int, candidates: int) -> Scenario:
    """A fresh schema with one session; every juror cleared for their candidate."""
    sys.path.insert(0, str(ROOT))
    from ntc_jury import create_app
    from ntc_jury.centre import operations as centre_ops
    from ntc_jury.core.vocabulary import Route
    from ntc_jury.extensions import db
    from ntc_jury.jury.operations import apply_operation
    from ntc_jury.models import utcnow
    from ntc_jury.referential.loader import load_referential_file
    from ntc_jury.referential.queries import forget_referentials, referential

    secret_key = "bench-" + secrets.token_hex(16)
    app = create_app({"SECRET_KEY": secret_key, "DATABASE_URL": url})
    made: list[Juror] = []
    with app.app_context():
        forget_referentials()
        db.drop_all()
        db.create_all()
        cert = load_referential_file(NTC_YAML)
        session = centre_ops.create_session(
            certification=cert,
            format_code="TITLE",
            centre="Centre de mesure",
            starts_on=utcnow().date(),
            ceres_number="BENCH",
        )
        for index in range(jurors):
            centre_ops.add_jury_member(
                session=session,
                first_name=f"Juré{index}",
                last_name="Mesure",
                email=f"jure{index}@bench.example",
                chair=index == 0,
            )
        for index in range(candidates):
            centre_ops.add_candidate(
                session=session,
                candidate_number=f"B{index:04d}",
                last_name=f"Candidat{index}",
                first_name="Mesure",
                route=Route.TRAINING,
            )
        db.session.flush()
        from ntc_jury.auth import operations as auth_ops

        ref = referential(cert.id)
        fmt = ref.format(session.format_id)
        phase = next(p for p in fmt.phases if p.code == "MSP-NEGOCIATION")
        msp = [c for c in ref.competencies if "MSP" in c.modalities and c.ccp_code]
        criteria = [k.id for c in msp for k in c.criteria]
        for index, member in enumerate(session.jury_members):
            issued = auth_ops.issue_jury_access(member=member, actor=None)
            candidate = session.candidates[index % candidates]
            with app.test_request_context("/jury/operations", method="POST"):
                outcome = apply_operation(
                    member=member,
                    op_id=str(uuid.uuid4()),
                    kind="conflict",
                    payload={"candidate_id": candidate.id, "has_conflict": False},
                )
            assert outcome.status == "applied", outcome
            made.append(Juror(issued.token, issued.pin, candidate.id, phase.id))
        db.session.commit()
        db.engine.dispose()
    return Scenario(url, made, criteria, secret_key)


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine

    from ntc_jury.models import Base

    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_baseline")
    engine.dispose()


def tick_outcomes(url: str) -> dict[str, int]:
    """What the database holds: applied/refused operations, mark audit events, marks."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {
            "applied": conn.execute(
                text(
                    "SELECT count(*) FROM applied_operation WHERE kind='mark' AND status='applied'"
                )
            ).scalar_one(),
            "refused": conn.execute(
                text("SELECT count(*) FROM applied_operation WHERE status='refused'")
            ).scalar_one(),
            "audit": conn.execute(
                text("SELECT count(*) FROM audit_event WHERE action='mark_recorded'")
            ).scalar_one(),
            "marks": conn.execute(text("SELECT count(*) FROM mark")).scalar_one(),
        }
    engine.dispose()
    return counts


# ----------------------------------------------------------------------------- baseline app


def _sqlite_like_the_app(engine) -> None:
    """The app's SQLite settings (extensions.py): WAL, synchronous=NORMAL, BEGIN IMMEDIATE."""
    from sqlalchemy import event

    if "ntc_jury.extensions" in sys.modules:
        return  # its listeners, set on every Engine, already do exactly this

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def baseline_engine(url: str):
    from sqlalchemy import create_engine

    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15.0})
        _sqlite_like_the_app(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def baseline_table():
    from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table

    return Table(
        "bench_baseline",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("op_id", String(36), unique=True),
        Column("criterion_id", Integer),
        Column("observed", Boolean),
    )


def baseline_app():
    """The bare stack: Flask, SQLAlchemy, the same database, one INSERT per request."""
    from flask import Flask, request
    from sqlalchemy import insert

    engine = baseline_engine(os.environ["BENCH_BASELINE_URL"])
    table = baseline_table()
    app = Flask("baseline")

    @app.post("/tick")
    def tick():
        form = request.form
        with engine.begin() as conn:
            conn.execute(
                insert(table).values(
                    op_id=form["op_id"],
                    criterion_id=int(form["criterion_id"]),
                    observed=form.get("observed") == "1",
                )
            )
        return "ok"

    return app


FLOOR_PATHS = {"app-write": "/bench/ecriture", "juror-write": "/bench/ecriture-jure"}


def floor_app(config: dict | None = None):
    """The real app (wsgi:app, its settings from the environment) with two bench-only routes
    doing the baseline's one INSERT: what a tick pays before its own work.

    - `app-write`: anonymous, no CSRF: the app's hooks, headers and compression;
    - `juror-write`: a signed-in juror, CSRF checked, inside the app's write transaction:
      the session cookie, the juror's identity, CSRF and the writers' lock on top.
    """
    from flask import Blueprint, request
    from sqlalchemy import insert

    from ntc_jury import create_app
    from ntc_jury.access import juror_required, public
    from ntc_jury.extensions import csrf, db

    table = baseline_table()
    statement = insert(table)
    bp = Blueprint("bench_floor", __name__)

    def one_insert():
        form = request.form
        db.session.connection().execute(
            statement,
            {
                "op_id": form["op_id"],
                "criterion_id": int(form["criterion_id"]),
                "observed": form.get("observed") == "1",
            },
        )
        db.session.commit()
        return "ok"

    @bp.post(FLOOR_PATHS["app-write"])
    @public
    @csrf.exempt
    def app_write():
        return one_insert()

    @bp.post(FLOOR_PATHS["juror-write"])
    @juror_required
    def juror_write():
        return one_insert()

    app = create_app(config)  # None: from the environment, as wsgi:app
    app.register_blueprint(bp)
    return app


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Gunicorn:
    label: str
    app: str
    workers: int
    worker_class: str
    threads: int
    env: dict
    cwd: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        command = [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--error-logfile",
            str(self.log),
        ]
        if self.worker_class == "gthread":
            command += ["--threads", str(self.threads)]
        return [*command, self.app]

    def __enter__(self) -> Gunicorn:
        env = {**os.environ, **self.env}
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.cwd,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label}: gunicorn exited, see {self.log}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            time.sleep(0.1)  # waiting for a server to listen, not measuring anything
        raise RuntimeError(f"{self.label}: gunicorn did not listen within 30 s")

    def __exit__(self, *exc) -> None:
        stop(self.process)


def stop(process: subprocess.Popen | None) -> None:
    """Stop a process we started (and its workers) by its PID; never by name."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)  # gunicorn's master stops its own workers
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
        process.wait(timeout=10)


# ----------------------------------------------------------------------------- HTTP


def _request(port: int, method: str, path: str, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        conn.close()


def _cookie(headers, name: str = "ntc_session") -> str | None:
    for key, value in headers:
        if key.lower() == "set-cookie" and value.startswith(name + "="):
            return value.split(";", 1)[0]
    return None


def sign_in(port: int, juror: Juror) -> None:
    """Open the link, type the PIN (CSRF on, as on a phone), keep the cookie and CSRF token."""
    status, headers, body = _request(port, "GET", f"/j/{juror.token}")
    assert status == 200, status
    cookie = _cookie(headers)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
        r'name="csrf_token" value="([^"]+)"', body
    )
    form = urlencode({"csrf_token": token.group(1), "pin": juror.pin})
    status, headers, _ = _request(
        port,
        "POST",
        f"/j/{juror.token}",
        form,
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 302, f"sign-in answered {status}"
    juror.cookie = _cookie(headers) or cookie
    status, _, body = _request(
        port, "GET", f"/jury/candidats/{juror.candidate_id}", headers={"Cookie": juror.cookie}
    )
    assert status == 200, status
    juror.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', body).group(1)


def tick_request(path: str, juror: Juror, criterion: int, observed: bool, op_id: str):
    """(method, url, body, headers) of one tick, as the phone sends it."""
    common = {"Cookie": juror.cookie, "X-CSRFToken": juror.csrf, **BROWSER_HEADERS}
    if path == "baseline" or path in FLOOR_PATHS:
        body = urlencode(
            {
                "op_id": op_id,
                "kind": "mark",
                "modality": "MSP",
                "criterion_id": criterion,
                "observed": "1" if observed else "0",
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if path == "juror-write":
            headers.update(common)
        elif path == "app-write":
            headers.update(BROWSER_HEADERS)
        return "POST", FLOOR_PATHS.get(path, "/tick"), body, headers
    if path == "htmx":
        body = urlencode(
            {
                "op_id": op_id,
                "kind": "mark",
                "modality": "MSP",
                "criterion_id": criterion,
                "observed": "1" if observed else "0",
                "next": f"/jury/candidats/{juror.candidate_id}/phases/{juror.phase_id}",
            }
        )
        headers = {
            **common,
            "HX-Request": "true",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return "POST", f"/jury/candidats/{juror.candidate_id}/operation", body, headers
    operation = {
        "op_id": op_id,
        "kind": "mark",
        "payload": {
            "candidate_id": juror.candidate_id,
            "modality": "MSP",
            "criterion_id": criterion,
            "observed": observed,
        },
        "client_time": "2026-06-01T09:00:00+02:00",
    }
    body = json.dumps({"operations": [operation], "pending": 1})
    return "POST", "/jury/operations", body, {**common, "Content-Type": "application/json"}


# ----------------------------------------------------------------------------- load: wrk


LUA = r"""
local jurors = __JURORS__
local criteria = __CRITERIA__
local path = "__PATH__"
local counter = 0
local states = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  math.randomseed(os.time() * 97 + tid * 7919)
end

local function r16() return math.random(0, 65535) end

local function uuid4()
  return string.format("%04x%04x-%04x-4%03x-%04x-%04x%08x",
    r16(), r16(), r16(), math.random(0, 4095), 32768 + math.random(0, 16383), tid, counter)
end

local function enc(s) return (string.gsub(s, "/", "%%2F")) end

function request()
  counter = counter + 1
  local j = jurors[(counter * 13 + tid) % #jurors + 1]
  local c = criteria[counter % #criteria + 1]
  local key = j.i .. ":" .. c
  states[key] = not states[key]
  local observed = states[key]
  local op = uuid4()
  local headers = {}
  local body, url
  local form_url = ({baseline = "/tick", ["app-write"] = "__APP_WRITE__",
    ["juror-write"] = "__JUROR_WRITE__"})[path]
  if form_url then
    url = form_url
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = "op_id=" .. op .. "&kind=mark&modality=MSP&criterion_id=" .. c ..
      "&observed=" .. (observed and "1" or "0")
    if path ~= "baseline" then headers["Accept-Encoding"] = "gzip, deflate, br" end
    if path == "juror-write" then
      headers["Cookie"] = j.cookie
      headers["X-CSRFToken"] = j.csrf
    end
  else
    headers["Cookie"] = j.cookie
    headers["X-CSRFToken"] = j.csrf
    headers["Accept-Encoding"] = "gzip, deflate, br"
    if path == "htmx" then
      url = "/jury/candidats/" .. j.candidate .. "/operation"
      headers["HX-Request"] = "true"
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      body = "op_id=" .. op .. "&kind=mark&modality=MSP&criterion_id=" .. c ..
        "&observed=" .. (observed and "1" or "0") ..
        "&next=" .. enc("/jury/candidats/" .. j.candidate .. "/phases/" .. j.phase)
    else
      url = "/jury/operations"
      headers["Content-Type"] = "application/json"
      body = '{"operations": [{"op_id": "' .. op .. '", "kind": "mark", "payload": ' ..
        '{"candidate_id": ' .. j.candidate .. ', "modality": "MSP", "criterion_id": ' .. c ..
        ', "observed": ' .. (observed and "true" or "false") .. '}}], "pending": 1}'
    end
  end
  return wrk.format("POST", url, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def lua_script(path: str, jurors: list[Juror], criteria: list[int]) -> str:
    def lua_string(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    rows = ",\n".join(
        f"{{i={n}, candidate={j.candidate_id}, phase={j.phase_id}, "
        f"cookie={lua_string(j.cookie)}, csrf={lua_string(j.csrf)}}}"
        for n, j in enumerate(jurors)
    )
    return (
        LUA.replace("__JURORS__", "{\n" + rows + "\n}")
        .replace("__CRITERIA__", "{" + ", ".join(map(str, criteria)) + "}")
        .replace("__PATH__", path)
        .replace("__APP_WRITE__", FLOOR_PATHS["app-write"])
        .replace("__JUROR_WRITE__", FLOOR_PATHS["juror-write"])
    )


def run_wrk(port: int, script: Path, connections: int, duration: float) -> dict:
    threads = max(1, min(2, connections))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


# ----------------------------------------------------------------------------- load: Python


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def run_python(
    port: int,
    path: str,
    jurors: list[Juror],
    criteria: list[int],
    duration: float,
    rate: float | None,
) -> dict:
    """One thread per juror, keep-alive; closed loop (rate None) or `rate` taps per second.

    Paced latency is measured from the time the tap was due, so a client that falls behind
    (the server was slow) counts the wait too.
    """
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.5
    stop_at = start + duration

    def juror_loop(index: int, juror: Juror) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, wrong = [], []
        states: dict[int, bool] = {}
        n = 0
        interval = 1 / rate if rate else 0.0
        due = start + (index / len(jurors)) * interval
        while True:
            if rate:
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)  # the juror's pace between taps, not a measurement wait
            now = time.perf_counter()
            if now >= stop_at:
                break
            sent = due if rate else now
            criterion = criteria[(n * 7 + index) % len(criteria)]
            states[criterion] = not states.get(criterion, False)
            method, url, body, headers = tick_request(
                path, juror, criterion, states[criterion], str(uuid.uuid4())
            )
            try:
                conn.request(method, url, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    wrong.append(str(response.status))
            except (OSError, http.client.HTTPException) as exc:
                wrong.append(type(exc).__name__)
                conn.close()
            mine.append((time.perf_counter() - sent) * 1000)
            n += 1
            due += interval
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(wrong)

    workers = [
        threading.Thread(target=juror_loop, args=(i, j), daemon=True) for i, j in enumerate(jurors)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=duration + 60)
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / duration,
        "status_errors": len(errors),
        "errors_sample": sorted(set(errors))[:5],
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else float("nan"),
    }


# ----------------------------------------------------------------------------- profile


def profile_ticks(url: str, count: int, path: str) -> None:
    """cProfile of `count` ticks through the Flask test client (no HTTP server, SQLite file)."""
    import cProfile
    import pstats

    scenario = prepare_database(url, jurors=2, candidates=1)
    from ntc_jury import create_app

    app = create_app(
        {"SECRET_KEY": scenario.secret_key, "DATABASE_URL": url, "WTF_CSRF_ENABLED": False}
    )
    client = app.test_client()
    juror = scenario.jurors[1]
    assert client.post(f"/j/{juror.token}", data={"pin": juror.pin}).status_code == 302
    juror.cookie, juror.csrf = "", ""

    def ticks(n: int) -> None:
        for i in range(n):
            method, target, body, headers = tick_request(
                path,
                juror,
                scenario.criteria[i % len(scenario.criteria)],
                i % 2 == 0,
                str(uuid.uuid4()),
            )
            headers.pop("Cookie", None)
            response = client.open(target, method=method, data=body, headers=headers)
            assert response.status_code == 200, response.status_code

    ticks(50)  # warm: referential cached, templates compiled
    started = time.perf_counter()
    profiler = cProfile.Profile()
    profiler.enable()
    ticks(count)
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(
        f"{count} {path} ticks in-process: {elapsed / count * 1000:.2f} ms per tick (profiler on)\n"
    )
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(25)


# ----------------------------------------------------------------------------- CPU


def cpu_per_request(url: str, count: int) -> dict[str, float]:
    """CPU milliseconds per request in this process (Flask test client, no HTTP, no client).

    CPU time, unlike throughput, barely moves when other programs share the machine, so the
    ratio it gives is the one to trust on a busy host.
    """
    scenario = prepare_database(url, jurors=2, candidates=1)
    app = floor_app(
        {"SECRET_KEY": scenario.secret_key, "DATABASE_URL": url, "WTF_CSRF_ENABLED": False}
    )
    client = app.test_client()
    juror = scenario.jurors[1]
    assert client.post(f"/j/{juror.token}", data={"pin": juror.pin}).status_code == 302
    os.environ["BENCH_BASELINE_URL"] = url
    engine = baseline_engine(url)
    baseline_table().metadata.create_all(engine)
    engine.dispose()
    bare = baseline_app().test_client()
    clients = {"baseline": bare, "app-write": app.test_client()}  # the latter: no sign-in

    def send(path: str, i: int) -> None:
        target_client = clients.get(path, client)
        method, target, body, headers = tick_request(
            path,
            juror,
            scenario.criteria[i % len(scenario.criteria)],
            i % 2 == 0,
            str(uuid.uuid4()),
        )
        headers.pop("Cookie", None)
        response = target_client.open(target, method=method, data=body, headers=headers)
        assert response.status_code == 200, (path, response.status_code)

    figures = {}
    for path in ("baseline", *FLOOR_PATHS, "htmx", "batch"):
        for i in range(30):
            send(path, i)
        started = time.process_time()
        for i in range(count):
            send(path, i)
        figures[path] = (time.process_time() - started) / count * 1000
    return figures


# ----------------------------------------------------------------------------- main


@dataclass
class Result:
    db: str
    stack: str
    path: str
    load: str
    numbers: dict

    def line(self, baseline_rps: float | None) -> str:
        n = self.numbers
        ratio = "   — "
        if baseline_rps and self.path != "baseline" and _closed(self):
            ratio = f"{n['rps'] / baseline_rps:5.2f}"
        errors = n.get("status_errors", 0) + n.get("socket_errors", 0)
        cpu = "       —      — "
        if "server_cpu_ms" in n:
            cpu = f"{n['server_cpu_ms']:6.2f} ms {n['machine_busy']:4.0%} "
        return (
            f"{self.db:<7} {self.stack:<14} {self.path:<9} {self.load:<22} {n['rps']:8.0f} "
            f"{n['p50_ms']:7.1f} {n['p95_ms']:7.1f} {n['p99_ms']:7.1f}  {ratio}  {errors:>6}  "
            f"{cpu}"
        )


HEADER = (
    f"{'db':<7} {'gunicorn':<14} {'path':<9} {'load':<22} {'req/s':>8} "
    f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  ratio  errors  cpu/req  busy"
)


class CpuUse:
    """CPU the server's processes (gunicorn's master and workers) used during a measurement,
    and how busy the whole machine was: a server that leaves the CPU idle while its clients
    wait is held up by a lock, not by its code (Linux /proc)."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, master_pid: int):
        self.master_pid = master_pid

    def _server_seconds(self) -> float:
        pids = [self.master_pid]
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children")
            pids += [int(p) for p in children.read_text().split()]
        total = 0
        for pid in pids:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / self.TICK

    @staticmethod
    def _machine() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle, iowait
        return sum(values), idle

    def __enter__(self) -> CpuUse:
        self.server = self._server_seconds()
        self.machine = self._machine()
        return self

    def __exit__(self, *exc) -> None:
        self.server = self._server_seconds() - self.server
        total, idle = self._machine()
        self.machine = (total - self.machine[0], idle - self.machine[1])

    def figures(self, requests: int) -> dict:
        total, idle = self.machine
        return {
            "server_cpu_ms": self.server * 1000 / max(requests, 1),
            "machine_busy": 1 - idle / total if total else float("nan"),
        }


def measure_database(kind: str, url: str, args, workdir: Path, wrk: bool) -> list[Result]:
    print(f"\n== {kind}: preparing {args.jurors} jurors, {args.candidates} candidates", flush=True)
    scenario = prepare_database(url, args.jurors, args.candidates)
    engine = baseline_engine(url)
    baseline_table().metadata.create_all(engine)
    engine.dispose()
    results: list[Result] = []
    signed_in = False
    for worker_class in args.worker_classes:
        stack = f"{args.workers}×{worker_class}" + (
            f"/{args.threads}t" if worker_class == "gthread" else ""
        )
        common = dict(workers=args.workers, worker_class=worker_class, threads=args.threads)
        baseline = Gunicorn(
            f"{kind} baseline",
            "tick_throughput:baseline_app()",
            cwd=HERE,
            env={"BENCH_BASELINE_URL": url},
            log=workdir / "baseline.log",
            **common,
        )
        with baseline:
            results += run_load(kind, stack, "baseline", baseline, scenario, args, workdir, wrk)
        app_env = {
            "NTC_DATABASE_URL": url,
            "NTC_SECRET_KEY": scenario.secret_key,
            "NTC_INSTANCE_PATH": str(workdir / "instance"),
        }
        app = Gunicorn(
            f"{kind} app", "wsgi:app", cwd=ROOT, log=workdir / "app.log", env=app_env, **common
        )
        with app:
            if not signed_in:
                for juror in scenario.jurors:
                    sign_in(app.port, juror)
                signed_in = True
            for path in args.paths:
                before = tick_outcomes(url)
                measured = run_load(kind, stack, path, app, scenario, args, workdir, wrk)
                results += measured
                check_applied(url, before, measured)
        if args.floors:
            # Same app and settings, one INSERT instead of a tick: what the stack costs
            # before the tick's own work (closed loop only).
            floor = Gunicorn(
                f"{kind} floor",
                "tick_throughput:floor_app()",
                cwd=HERE,
                log=workdir / "floor.log",
                env={**app_env, "PYTHONPATH": str(ROOT)},
                **common,
            )
            with floor:
                for path in FLOOR_PATHS:
                    results += run_load(
                        kind, stack, path, floor, scenario, args, workdir, wrk, rates=()
                    )
    return results


def run_load(kind, stack, path, server, scenario, args, workdir, wrk, rates=None) -> list[Result]:
    jurors, criteria, port = scenario.jurors, scenario.criteria, server.port
    out = []
    script = workdir / f"{path}.lua"
    script.write_text(lua_script(path, jurors, criteria))
    # Warm-up: every worker has read the referential and compiled its templates.
    if wrk:
        run_wrk(port, script, min(8, len(jurors)), 2)
        with CpuUse(server.process.pid) as cpu:
            numbers = run_wrk(port, script, len(jurors), args.duration)
        numbers.update(cpu.figures(numbers["requests"]))
        out.append(Result(kind, stack, path, f"wrk {len(jurors)} conns", numbers))
    else:
        run_python(port, path, jurors[:8], criteria, 2, None)
        with CpuUse(server.process.pid) as cpu:
            numbers = run_python(port, path, jurors, criteria, args.duration, None)
        numbers.update(cpu.figures(numbers["requests"]))
        out.append(Result(kind, stack, path, f"py {len(jurors)} closed", numbers))
    for rate in args.rates if rates is None else rates:
        numbers = run_python(port, path, jurors, criteria, args.duration, rate)
        load = f"{len(jurors)} × {rate:g} tap/s"
        out.append(Result(kind, stack, path, load, numbers))
    for result in out:
        print(result.line(None), flush=True)
    print(f"   load average after: {os.getloadavg()[0]:.1f}", flush=True)
    return out


def check_applied(url: str, before: dict, measured: list[Result]) -> None:
    """Every acknowledged tick left its operation record, its audit event and its mark."""
    after = tick_outcomes(url)
    sent = sum(r.numbers["requests"] for r in measured)
    applied = after["applied"] - before["applied"]
    audited = after["audit"] - before["audit"]
    refused = after["refused"] - before["refused"]
    # wrk counts the requests it completed; the warm-up's ticks are applied too.
    print(
        f"   database: +{applied} applied tick operations, +{audited} mark_recorded audit "
        f"events, +{refused} refused; {sent} requests measured",
        flush=True,
    )
    if applied != audited or refused or applied < sent:
        raise SystemExit("a tick was lost, refused or not audited: the figures are void")


def _closed(result: Result) -> bool:
    return "conns" in result.load or "closed" in result.load


def summarise(results: list[Result]) -> int:
    print("\n" + HEADER)
    verdicts = []
    floors: list[str] = []
    for db_kind in dict.fromkeys(r.db for r in results):
        for stack in dict.fromkeys(r.stack for r in results if r.db == db_kind):
            group = [r for r in results if r.db == db_kind and r.stack == stack]
            base = next(r for r in group if r.path == "baseline" and _closed(r))
            for r in group:
                print(r.line(base.numbers["rps"]))
            for r in group:
                if r.path in FLOOR_PATHS:
                    ratio = r.numbers["rps"] / base.numbers["rps"]
                    floors.append(f"  {db_kind} {stack} {r.path} ratio {ratio:.2f}")
                if r.path == "baseline" or r is base or r.path in FLOOR_PATHS:
                    continue
                if _closed(r):
                    ratio = r.numbers["rps"] / base.numbers["rps"]
                    verdicts.append(
                        (f"{db_kind} {stack} {r.path} ratio {ratio:.2f}", ratio >= TARGET_RATIO)
                    )
                else:
                    p99 = r.numbers["p99_ms"]
                    verdicts.append(
                        (
                            f"{db_kind} {stack} {r.path} p99 {p99:.1f} ms at {r.load}",
                            p99 < TARGET_P99_MS,
                        )
                    )
    if floors:
        print(
            "\nFloors (one INSERT through the real app, no tick): a tick cannot do better than "
            "juror-write, which pays the session cookie, the juror's identity, CSRF and the lock."
        )
        print("\n".join(floors))
    print(f"\nTargets: ratio ≥ {TARGET_RATIO} (closed loop), p99 < {TARGET_P99_MS:g} ms (paced)")
    for label, ok in verdicts:
        print(f"  {'ok  ' if ok else 'MISS'} {label}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jurors", type=int, default=50)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--worker-class",
        dest="worker_classes",
        action="append",
        choices=["sync", "gthread"],
        help="repeatable (default: sync, gthread)",
    )
    parser.add_argument(
        "--path",
        dest="paths",
        action="append",
        choices=["htmx", "batch"],
        help="tick path, repeatable (default: htmx, batch)",
    )
    parser.add_argument(
        "--rate",
        dest="rates",
        action="append",
        type=float,
        help="paced taps per second per juror, repeatable (default: 1, 4)",
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("NTC_BENCH_PG_URL"),
        help="PostgreSQL URL of a throwaway database (or NTC_BENCH_PG_URL)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--no-floors",
        dest="floors",
        action="store_false",
        help="skip the app-write and juror-write floors (one INSERT through the real app)",
    )
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    parser.add_argument("--json", type=Path, help="also write the results there")
    parser.add_argument(
        "--cpu-requests",
        type=int,
        default=300,
        help="requests per path for the in-process CPU figures",
    )
    parser.add_argument(
        "--profile", type=int, metavar="N", help="profile N ticks in-process instead (SQLite)"
    )
    args = parser.parse_args(argv)
    args.worker_classes = args.worker_classes or ["sync", "gthread"]
    args.paths = args.paths or ["htmx", "batch"]
    args.rates = args.rates or [1.0, 4.0]
    os.chdir(ROOT)
    workdir = Path(tempfile.mkdtemp(prefix="ntc-bench-tick-"))
    try:
        if args.profile:
            for path in args.paths:
                profile_ticks(f"sqlite:///{workdir / f'profile-{path}.sqlite'}", args.profile, path)
            return 0
        wrk = shutil.which("wrk") is not None and not args.python_client
        print(
            f"client: {'wrk (closed loop) + Python threads (paced)' if wrk else 'Python'}; "
            f"{os.cpu_count()} CPUs; {args.duration:g} s per measurement; "
            f"load average {os.getloadavg()[0]:.1f} (other work on the machine skews figures)"
        )
        databases = []
        if not args.no_sqlite:
            databases.append(("sqlite", f"sqlite:///{workdir / 'bench.sqlite'}"))
        if args.pg:
            databases.append(("pg", args.pg))
        results: list[Result] = []
        for kind, url in databases:
            try:
                results += measure_database(kind, url, args, workdir, wrk)
            finally:
                if kind == "pg":
                    drop_database(url)
        summarise(results)
        print("\nIn-process CPU per request (Flask test client; the ratio to trust on a busy host)")
        for kind, url in databases:
            cpu_url = url if kind == "pg" else f"sqlite:///{workdir / 'cpu.sqlite'}"
            try:
                cpu = cpu_per_request(cpu_url, args.cpu_requests)
            finally:
                if kind == "pg":
                    drop_database(cpu_url)
            base = cpu["baseline"]
            figures = " · ".join(
                f"{path} {cpu[path]:5.2f} ms (ratio {base / cpu[path]:.2f})"
                for path in (*FLOOR_PATHS, "htmx", "batch")
            )
            print(f"  {kind:<7} baseline {base:5.2f} ms · {figures}")
        if args.json:
            args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
