"""Flask extensions, created unbound and initialised in create_app()."""

import sqlite3

from flask import has_request_context, request
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# gzip/brotli for pages and assets: a juror's phone on exam-room wifi pays per byte.
compress = Compress()

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    once with SQLITE_BUSY instead of waiting; IMMEDIATE makes writers queue on busy_timeout.
    Reads (GET) and work outside requests (commands, tests) stay deferred, so a reader
    never holds the write lock.
    """
    if conn.dialect.name != "sqlite":
        return
    writing = has_request_context() and request.method not in _READ_METHODS
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
