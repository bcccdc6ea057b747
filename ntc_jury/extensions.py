"""Flask extensions, created unbound and initialised in create_app()."""

import fcntl
import os
import sqlite3
import threading

from flask import has_request_context, request
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from .access import view_flag
from .models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# gzip/brotli for pages and assets: a juror's phone on exam-room wifi pays per byte.
compress = Compress()

# Requests that never write: they take no write lock and pass every write guard.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    """WAL lets readers work while a juror's tick is written; NORMAL is durable enough in WAL."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # We emit BEGIN ourselves (below) instead of letting pysqlite do it lazily.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(conn):
    """Writing requests take SQLite's write lock up front.

    A deferred transaction that reads, then writes after another writer committed, fails at
    once with SQLITE_BUSY instead of waiting; IMMEDIATE makes writers queue.
    Reads (GET) and work outside requests (commands, tests) stay deferred, so a reader
    never holds the write lock. (PostgreSQL: see `hold_pg_write_lock`.)
    """
    if conn.dialect.name != "sqlite":
        return
    writing = has_request_context() and request.method not in READ_METHODS
    if writing:
        _take_write_turn(conn)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


# PostgreSQL: the hottest writes of the exam day (a juror's ticks) first read who is asking;
# holding the writers' lock through that read made every other writer wait for it. Their
# views take the lock when the operation starts (`audit.operations.lock_chain`) and read
# again under it what their rules depend on. (SQLite's writers queue on the write turn from
# their first statement: a read outside the write transaction made SQLite reload its page
# cache, which cost more than the shorter wait saved.)
def reads_before_writing(view):
    """The view reads the signed-in person before taking the writers' lock (PostgreSQL)."""
    view.reads_before_writing = True
    return view


def reads_before_writing_now() -> bool:
    """The current request's view reads before it takes the writers' lock."""
    return bool(view_flag("reads_before_writing"))


def on_conflict_insert(dialect: str):
    """The INSERT construct of a database kind: both have ON CONFLICT, each its own."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


# Any constant works; it only has to be the same for every writer.
PG_WRITE_LOCK = 720338
_PG_LOCKED = "ntc_pg_write_lock_held"  # key in the connection's info, until commit/rollback


def hold_pg_write_lock(conn) -> None:
    """PostgreSQL: the transaction-scoped advisory lock all writers share, taken once.

    Every audited write takes it (the audit chain's lock), and writing requests take it
    before anything else (http.py): a request that locked a row (a staff edit of a juror)
    and then waited for it, held by one waiting for that row (the juror's own batch), was a
    deadlock.
    """
    if not conn.info.get(_PG_LOCKED):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")
        conn.info[_PG_LOCKED] = True


def _pg_write_lock_released(conn) -> None:
    conn.info.pop(_PG_LOCKED, None)


def _pg_connection_returned(_dbapi_connection, record) -> None:
    # Given back to the pool means the transaction ended one way or another (the pool
    # rolls back what was left open): never let a stale flag skip the next lock.
    if record is not None:
        record.info.pop(_PG_LOCKED, None)


def _pg_connection_reset(dbapi_connection, connection_record, reset_state) -> None:
    _pg_connection_returned(dbapi_connection, connection_record)


event.listen(Engine, "commit", _pg_write_lock_released)
event.listen(Engine, "rollback", _pg_write_lock_released)
event.listen(Pool, "checkin", _pg_connection_returned)
event.listen(Pool, "reset", _pg_connection_reset)


# SQLite makes a writer that finds the write lock taken poll for it, sleeping 1, 2, 5, 10…
# up to 100 ms between tries: with a few workers ticking at once, most of a tick's latency
# was that sleep, with the lock already free. Writing requests therefore first queue on an
# advisory file lock (flock) beside the database, which wakes the next writer the moment the
# previous one ends; SQLite's own lock and busy timeout still guard every other writer (the
# flask commands). The kernel drops a flock when its process dies (kill -9 included).
_TURN = "ntc_write_turn"  # key in the pool connection's info: the open lock file
_held = threading.local()


def _take_write_turn(conn) -> None:
    database = conn.engine.url.database
    if not database or database == ":memory:" or getattr(_held, "handle", None) is not None:
        return  # no file to lock beside, or this thread already holds the turn
    info = conn.connection.info  # lives as long as the DBAPI connection
    if _TURN not in info:
        info[_TURN] = os.open(f"{database}-writelock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(info[_TURN], fcntl.LOCK_EX)
    _held.handle = info[_TURN]


def _end_write_turn(*_args) -> None:
    handle = getattr(_held, "handle", None)
    if handle is not None:
        _held.handle = None
        fcntl.flock(handle, fcntl.LOCK_UN)


def _forget_lock_file(_dbapi_connection, record) -> None:
    handle = record.info.pop(_TURN, None)
    if handle is not None:
        if getattr(_held, "handle", None) == handle:
            _end_write_turn()
        os.close(handle)


# The transaction ends on commit or rollback (a Session closing mid-transaction rolls back);
# a connection given back to the pool ends its thread's turn too, closing one closes its file.
event.listen(Engine, "commit", _end_write_turn)
event.listen(Engine, "rollback", _end_write_turn)
event.listen(Pool, "checkin", _end_write_turn)
event.listen(Pool, "close", _forget_lock_file)
event.listen(Pool, "detach", _forget_lock_file)
