"""Shared fixtures: one app per test run, a clean database per test.

The database is SQLite in a temporary folder, or the server named by NTC_TEST_DATABASE_URL
(CI runs the whole suite a second time against PostgreSQL that way).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from ntc_jury import create_app
from ntc_jury.extensions import db as _db

ROOT = Path(__file__).resolve().parent.parent
NTC_YAML = ROOT / "seed" / "referentials" / "tp-00338-v07.yaml"
MINI_YAML = ROOT / "tests" / "data" / "referential_mini.yaml"
TEST_DATABASE_URL = os.environ.get("NTC_TEST_DATABASE_URL")


class RequestIsolatedClient(FlaskClient):
    """A test client whose every request starts with an empty `flask.g`.

    The `db` fixture keeps one application context open for the whole test, and Flask reuses
    it for each test-client request; Flask-Login caches the signed-in person on `g`, so
    without this a person would leak from one request (or client) into the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(g):
                g.pop(name, None)
        return super().open(*args, **kwargs)


def make_test_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = RequestIsolatedClient
    return app


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(database_url):
    app = make_test_app(database_url)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.engine.dispose()


# PostgreSQL's answers to a TRUNCATE that lost a lock race: deadlock_detected, and
# lock_not_available. Either way the TRUNCATE was rolled back and the other side went on.
_LOST_LOCK_RACE = frozenset({"40P01", "55P03"})
_WIPE_ATTEMPTS = 5


def _wipe(app) -> None:
    """Empty every table.

    On PostgreSQL a browser test may end with a request of its page still running in the
    live server (a prefetch, a digest check); TRUNCATE, which locks table after table, can
    then deadlock with it. PostgreSQL breaks a deadlock by rolling one side back: when that
    side is the TRUNCATE, it is run again, and now waits for the request to end.
    """
    tables = list(reversed(_db.metadata.sorted_tables))
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            with _db.engine.begin() as conn:
                for table in tables:
                    conn.execute(table.delete())
            return
        names = ", ".join(f'"{t.name}"' for t in tables)
        for attempt in range(1, _WIPE_ATTEMPTS + 1):
            try:
                with _db.engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                return
            except OperationalError as error:
                code = getattr(error.orig, "pgcode", None) or getattr(error.orig, "sqlstate", None)
                if code not in _LOST_LOCK_RACE or attempt == _WIPE_ATTEMPTS:
                    raise


@pytest.fixture
def db(app):
    """The database, emptied after the test; yields inside an application context."""
    from ntc_jury.referential.queries import forget_referentials

    with app.app_context():
        yield _db
        _db.session.remove()
    _wipe(app)
    forget_referentials()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def ntc(db):
    """The NTC referential (TP-00338 v07) loaded; returns its Certification."""
    from ntc_jury.referential.loader import load_referential_file

    return load_referential_file(NTC_YAML)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(db):
    """Context manager counting SQL statements sent to the database."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return counting
