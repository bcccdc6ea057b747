"""Writing requests hold the database's write lock from their first statement (extensions.py),
except the juror's operation views on PostgreSQL, which read who is asking first and take it
when their operation starts (`lock_chain`).

On PostgreSQL it is the advisory lock every audited write shares, so no two writers can
lock rows in opposite orders. SQLite makes a writer that finds its write lock taken poll
with growing sleeps, so writing requests first queue on an advisory flock beside the
database, which the next writer gets the moment the previous transaction ends. The flock
tests use their own SQLite file whatever database the rest of the suite runs on, and check
the lock with a non-blocking flock from another descriptor (no waiting on time).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3

import pytest
from sqlalchemy import text

from ntc_jury.audit.operations import lock_chain
from ntc_jury.extensions import PG_WRITE_LOCK, db
from tests.conftest import make_test_app

WRITER = "/jury/deliberation/signer"  # any writing view (it needs not run)
READS_FIRST = "/jury/operations"  # the outbox's batch: it reads, then writes


@pytest.fixture
def sqlite_app(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'turn.sqlite'}")
    with app.app_context():
        db.create_all()
    yield app, tmp_path / "turn.sqlite-writelock"
    with app.app_context():
        db.engine.dispose()


def _turn_is_free(lock_file) -> bool:
    """Whether another writer could take the turn right now (never waits)."""
    handle = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(handle)  # closing drops a lock taken through it
    return True


def test_a_writing_request_holds_the_turn_until_it_commits(sqlite_app):
    app, lock_file = sqlite_app
    with app.test_request_context(WRITER, method="POST"):
        db.session.execute(text("SELECT 1"))
        assert lock_file.exists()
        assert not _turn_is_free(lock_file)
        db.session.commit()
        assert _turn_is_free(lock_file)


def test_a_rolled_back_or_closed_transaction_ends_the_turn(sqlite_app):
    app, lock_file = sqlite_app
    with app.test_request_context(WRITER, method="POST"):
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        assert _turn_is_free(lock_file)
        db.session.execute(text("SELECT 1"))
        assert not _turn_is_free(lock_file)
        db.session.close()  # what the app does at the end of every request
        assert _turn_is_free(lock_file)


def test_reads_do_not_take_the_turn(sqlite_app):
    app, lock_file = sqlite_app
    with app.test_request_context("/jury/", method="GET"):
        db.session.execute(text("SELECT 1"))
        assert _turn_is_free(lock_file)
        db.session.rollback()


def test_the_write_lock_and_the_turn_are_taken_together(sqlite_app, tmp_path):
    """BEGIN IMMEDIATE still follows: commands that write without a request keep waiting on
    SQLite's own lock, so the turn never lets two writers in."""
    app, lock_file = sqlite_app
    other = sqlite3.connect(tmp_path / "turn.sqlite", timeout=0, isolation_level=None)
    try:
        with app.test_request_context(WRITER, method="POST"):
            db.session.execute(text("SELECT 1"))
            assert not _turn_is_free(lock_file)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            db.session.commit()
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def _holds_pg_write_lock(db) -> bool:
    """Whether this session's PostgreSQL backend holds the writers' advisory lock."""
    held = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND objid = :key AND pid = pg_backend_pid()"
    )
    return db.session.execute(held, {"key": PG_WRITE_LOCK}).scalar_one() == 1


def _other_writer_is_kept_out(other) -> None:
    """SQLite: another connection cannot begin writing (it would wait; timeout 0 says so)."""
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")


def test_on_the_suites_database_a_write_request_locks_first_and_a_read_never(app, db):
    """Whichever database the suite runs on (CI runs it on both)."""
    if db.engine.dialect.name == "postgresql":
        with app.test_request_context(WRITER, method="POST"):
            app.preprocess_request()  # the before_request hooks, the lock's first of all
            assert _holds_pg_write_lock(db)
            db.session.commit()
            db.session.close()
        with app.test_request_context("/jury/", method="GET"):
            app.preprocess_request()
            assert not _holds_pg_write_lock(db)
            db.session.rollback()
            db.session.close()
    else:
        other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
        try:
            with app.test_request_context(WRITER, method="POST"):
                db.session.execute(text("SELECT 1"))
                _other_writer_is_kept_out(other)
                db.session.commit()
                db.session.close()
            with app.test_request_context("/jury/", method="GET"):
                db.session.execute(text("SELECT 1"))
                other.execute("BEGIN IMMEDIATE")  # a reader holds nothing a writer needs
                other.execute("ROLLBACK")
                db.session.rollback()
                db.session.close()
        finally:
            other.close()


def test_on_the_suites_database_the_juror_operation_views_lock_as_their_operation_starts(app, db):
    """PostgreSQL: not in before_request, when the operation starts (lock_chain). SQLite: from
    the first statement like every writer (a read outside the write transaction cost SQLite
    a reload of its page cache)."""
    if db.engine.dialect.name == "postgresql":
        with app.test_request_context(READS_FIRST, method="POST"):
            app.preprocess_request()
            assert not _holds_pg_write_lock(db)
            lock_chain()
            assert _holds_pg_write_lock(db)
            db.session.commit()
            db.session.close()
    else:
        other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
        try:
            with app.test_request_context(READS_FIRST, method="POST"):
                app.preprocess_request()
                db.session.execute(text("SELECT 1"))
                _other_writer_is_kept_out(other)
                db.session.commit()
                db.session.close()
        finally:
            other.close()
