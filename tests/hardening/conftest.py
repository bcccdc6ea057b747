"""A real gunicorn against the test database, jurors signed in over HTTP, and the checks the
concurrency and crash suites share (expected marks, one audit event per operation, the chain).

The server is `gunicorn -w 2 wsgi:app` started in its own process group with NTC_DATABASE_URL
set to the test database (the SQLite file of the `database_url` fixture, or the PostgreSQL
database named by NTC_TEST_DATABASE_URL). It is stopped by its PID at teardown (SIGTERM, then
SIGKILL if it does not stop), and the master is reaped.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from ntc_jury.audit.chain import GENESIS, HASHED_FIELDS, event_hash
from ntc_jury.extensions import db as _db
from ntc_jury.jury import operations, queries
from ntc_jury.models import AppliedOperation, AuditEvent, JuryMember, Mark
from tests.factories import issue_access, make_session

# The hostile-input suite keeps its checks in a helper module: rewrite its asserts too.
pytest.register_assert_rewrite("tests.hardening.hostile")

ROOT = Path(__file__).resolve().parents[2]
READY_SECONDS = 30.0
STOP_SECONDS = 15.0
SECRET_KEY = "hardening-" + secrets.token_hex(16)
_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


# ----------------------------------------------------------------------------- HTTP client


class ServerGone(Exception):
    """No answer: the connection was refused, reset or cut before a full response."""


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Browser:
    """A juror's phone, as far as the server can tell: cookies, a CSRF token, one request at a
    time on a fresh connection (gunicorn's sync workers close it after each response)."""

    def __init__(self, port: int, *, timeout: float = 60.0):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def clone(self) -> Browser:
        """Another connection of the same phone (same sign-in), for a second thread."""
        twin = Browser(self.port, timeout=self.timeout)
        twin.cookies, twin.csrf = dict(self.cookies), self.csrf
        return twin

    def request(self, method: str, path: str, *, form=None, payload=None) -> Reply:
        headers = {"Accept": "text/html"}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
            headers["Accept"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf and method != "GET":
            headers["X-CSRFToken"] = self.csrf
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise ServerGone(f"{method} {path}: {error!r}") from error
        finally:
            connection.close()
        self._keep_cookies(response.headers)
        return Reply(response.status, response.headers, data)

    def _keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        for raw in headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def sign_in_juror(self, token: str, pin: str) -> None:
        """Open the personal link, type the PIN, then read the CSRF token of a juror page."""
        link = self.request("GET", f"/j/{token}")
        assert link.status == 200, (link.status, link.text[:500])
        found = _CSRF_INPUT.search(link.text)
        assert found, "the PIN form carries no CSRF token"
        answer = self.request("POST", f"/j/{token}", form={"csrf_token": found[1], "pin": pin})
        assert answer.status == 302, (answer.status, answer.text[:500])
        home = self.request("GET", "/jury/")
        assert home.status == 200, home.status
        header = _CSRF_HEADER.search(home.text)
        assert header, "the juror page carries no X-CSRFToken for scripts"
        self.csrf = header[1]

    def send(self, operations_: list[dict], *, pending: int = 0) -> list[dict]:
        """POST one batch to the outbox endpoint; the per-operation answers, in order."""
        reply = self.request(
            "POST", "/jury/operations", payload={"operations": operations_, "pending": pending}
        )
        assert reply.status == 200, (reply.status, reply.text[:500])
        results = reply.json()["results"]
        assert [r["op_id"] for r in results] == [op["op_id"] for op in operations_]
        return results


# ----------------------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _live_members(group: int) -> list[int]:
    """PIDs of the process group that are still running (zombies have exited already)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid pgrp …; comm may hold spaces, so split after its ")".
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == group and state != "Z":
            alive.append(int(entry.name))
    return alive


class GunicornServer:
    """`gunicorn -w 2 wsgi:app` on a free port, in its own process group."""

    def __init__(self, database_url: str, workdir: Path, *, workers: int = 2):
        self.database_url = database_url
        self.workdir = workdir
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self._log = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"gunicorn-{self.starts}.log"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        instance = self.workdir / "instance"
        instance.mkdir(exist_ok=True)
        env = {
            **os.environ,
            "NTC_DATABASE_URL": self.database_url,
            "NTC_SECRET_KEY": SECRET_KEY,
            "NTC_INSTANCE_PATH": str(instance),
            "PYTHONUNBUFFERED": "1",
        }
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "10",
                "--timeout",
                "120",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 reaches every worker
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        probe = Browser(self.port, timeout=5)
        while True:
            code = self.process.poll()
            assert code is None, f"gunicorn exited with {code}:\n{self.log_text()}"
            try:
                if probe.request("GET", "/healthz").status == 200:
                    return
            except ServerGone:
                pass
            assert time.monotonic() < deadline, f"gunicorn not ready:\n{self.log_text()}"
            time.sleep(0.05)  # poll interval of a bounded loop

    def kill_hard(self) -> None:
        """kill -9 the master and every worker at once, then reap the master."""
        group = self.process.pid  # start_new_session: the group id is the master's PID
        os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)
        self._wait_group_gone(group)
        self._close_log()

    def restart(self) -> None:
        """Start again on the same port and database (the clients keep their cookies)."""
        self.start()

    def stop(self) -> None:
        """SIGTERM to the master by its PID; SIGKILL to its group if it does not stop."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_SECONDS)
        self._wait_group_gone(self.process.pid)
        self._close_log()

    def _wait_group_gone(self, group: int) -> None:
        deadline = time.monotonic() + STOP_SECONDS
        while _live_members(group):
            assert time.monotonic() < deadline, f"processes left in group {group}"
            time.sleep(0.02)  # poll interval of a bounded loop

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self, start: int | None = None) -> str:
        paths = [self.workdir / f"gunicorn-{n}.log" for n in range(1, self.starts + 1)]
        if start is not None:
            paths = paths[start - 1 : start]
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())

    def assert_no_server_errors(self) -> None:
        """No traceback in any log: a 500 would have been logged with its exception."""
        text = self.log_text()
        for marker in ("Traceback", "Exception on", "[ERROR]", "WORKER TIMEOUT"):
            assert marker not in text, text[-5000:]

    def browser(self) -> Browser:
        return Browser(self.port)


@pytest.fixture
def gunicorn_server(database_url, db, tmp_path):
    """A running gunicorn (2 workers) on the test database; stopped by PID at teardown.

    It depends on `db` so it stops before the database is emptied.
    """
    server = GunicornServer(database_url, tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------------------- the scored world


@dataclass(frozen=True)
class Juror:
    id: int
    token: str
    pin: str


@dataclass(frozen=True)
class Tick:
    """One mark operation a juror's phone sends, with the value it leaves in the database."""

    op_id: str
    juror_id: int
    candidate_id: int
    criterion_id: int
    modality: str
    modality_id: int
    observed: bool

    @property
    def key(self) -> tuple[int, int, int, int]:
        return (self.juror_id, self.candidate_id, self.criterion_id, self.modality_id)

    def operation(self, *, observed: bool | None = None) -> dict:
        return {
            "op_id": self.op_id,
            "kind": "mark",
            "payload": {
                "candidate_id": self.candidate_id,
                "modality": self.modality,
                "criterion_id": self.criterion_id,
                "observed": self.observed if observed is None else observed,
            },
            "client_time": "2026-01-09T10:00:00+01:00",
        }


@dataclass
class ScoringWorld:
    session_id: int
    jurors: list[Juror]
    candidate_ids: list[int]
    ticks: dict[int, list[Tick]]  # juror id → every (criterion, modality) of every candidate
    setup_op_ids: set[str]  # the conflict declarations made before the test
    seed: int
    rng: random.Random = field(repr=False)

    @property
    def all_ticks(self) -> list[Tick]:
        return [t for juror in self.jurors for t in self.ticks[juror.id]]

    def expected_marks(self, ticks=None) -> dict[tuple[int, int, int, int], bool]:
        return {t.key: t.observed for t in (self.all_ticks if ticks is None else ticks)}


def build_scoring_world(ntc, *, jurors: int = 3, candidates: int = 12) -> ScoringWorld:
    """A session whose jurors each declared "no link" with every candidate, committed.

    Each juror's ticks cover the candidate's real grids: a criterion appears once per
    modality that evaluates it (ntc_jury.jury.queries.candidate_plan).
    """
    seed = secrets.randbits(32)
    print(f"hardening seed: {seed}")
    rng = random.Random(seed)
    session = make_session(ntc, jurors=jurors, candidates=candidates)
    people = []
    for member in session.jury_members:
        issued = issue_access(member)
        people.append(Juror(member.id, issued.token, issued.pin))
    setup_ops = set()
    for member in session.jury_members:
        for candidate in session.candidates:
            op_id = str(uuid.uuid4())
            outcome = operations.apply_operation(
                member=member,
                op_id=op_id,
                kind="conflict",
                payload={"candidate_id": candidate.id, "has_conflict": False},
            )
            assert outcome.status == "applied", outcome.message
            setup_ops.add(op_id)
    ticks: dict[int, list[Tick]] = {}
    ref = queries.session_referential(session.jury_members[0])
    for member in session.jury_members:
        mine = ticks.setdefault(member.id, [])
        for candidate in session.candidates:
            plan = queries.candidate_plan(ref, member, candidate)
            for code, competencies in plan.grids.items():
                modality_id = ref.modality(code).id
                for competency in competencies:
                    for criterion in competency.criteria:
                        mine.append(
                            Tick(
                                str(uuid.uuid4()),
                                member.id,
                                candidate.id,
                                criterion.id,
                                code,
                                modality_id,
                                rng.random() < 0.8,
                            )
                        )
    world = ScoringWorld(
        session_id=session.id,
        jurors=people,
        candidate_ids=[c.id for c in session.candidates],
        ticks=ticks,
        setup_op_ids=setup_ops,
        seed=seed,
        rng=rng,
    )
    _db.session.commit()
    return world


@pytest.fixture
def scoring_world(ntc, db) -> ScoringWorld:
    """3 jurors × 12 candidates of an NTC TITLE session, every juror cleared for every one."""
    return build_scoring_world(ntc)


def batches(items: list, rng: random.Random, *, largest: int) -> list[list]:
    """The items cut into consecutive batches of random sizes (1 to `largest`)."""
    out, start = [], 0
    while start < len(items):
        size = rng.randint(1, largest)
        out.append(items[start : start + size])
        start += size
    return out


# ----------------------------------------------------------------------------- what the DB holds


def fresh_read() -> None:
    """End the test's own transaction so the next reads see what the server committed."""
    _db.session.rollback()
    _db.session.expire_all()


def marks_of(session_id: int) -> dict[tuple[int, int, int, int], bool]:
    rows = _db.session.execute(
        select(
            Mark.jury_member_id,
            Mark.candidate_id,
            Mark.criterion_id,
            Mark.modality_id,
            Mark.observed,
        )
        .join(JuryMember, JuryMember.id == Mark.jury_member_id)
        .where(JuryMember.session_id == session_id)
    )
    return {(m, c, cr, mo): bool(observed) for m, c, cr, mo, observed in rows}


def applied_operations() -> dict[str, tuple[str, str]]:
    """op id → (kind, status) of every stored operation."""
    rows = _db.session.execute(
        select(AppliedOperation.op_id, AppliedOperation.kind, AppliedOperation.status)
    )
    return {op_id: (kind, str(getattr(status, "value", status))) for op_id, kind, status in rows}


def audit_op_ids(action: str) -> Counter:
    rows = _db.session.execute(select(AuditEvent.op_id).where(AuditEvent.action == action))
    return Counter(op_id for (op_id,) in rows)


def audit_rows() -> int:
    return _db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def chain_problems() -> list[str]:
    """Each row chains onto the one before it and its hash is what event_hash computes."""
    problems, expected_prev = [], GENESIS
    for row in _db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        if row.prev_hash != expected_prev:
            problems.append(f"row {row.id}: prev_hash does not link to the row before")
        fields = {name: getattr(row, name) for name in HASHED_FIELDS}
        if event_hash(row.prev_hash, fields) != row.hash:
            problems.append(f"row {row.id}: hash differs from its content")
        expected_prev = row.hash
    return problems


def assert_exactly_applied(world: ScoringWorld, ticks: list[Tick]) -> None:
    """The database holds these ticks, each applied once and audited once, and nothing else."""
    fresh_read()
    assert marks_of(world.session_id) == world.expected_marks(ticks), f"seed {world.seed}"
    stored = applied_operations()
    expected_ops = {t.op_id for t in ticks} | world.setup_op_ids
    assert set(stored) == expected_ops
    assert len(stored) == len(ticks) + len(world.setup_op_ids)
    assert {status for _kind, status in stored.values()} == {"applied"}
    assert Counter(kind for kind, _status in stored.values()) == {
        "mark": len(ticks),
        "conflict": len(world.setup_op_ids),
    }
    audited = audit_op_ids("mark_recorded")
    assert set(audited) == {t.op_id for t in ticks}
    assert set(audited.values()) == {1}, "an operation was audited twice"
    assert sum(audited.values()) == len(ticks)
    assert chain_problems() == []
