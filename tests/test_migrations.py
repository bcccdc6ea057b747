"""The migrations produce exactly the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from ntc_jury.extensions import db as _db
from ntc_jury.models import Base


def _differences(connection):
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return compare_metadata(context, Base.metadata)


def test_upgrade_on_an_empty_database_gives_exactly_the_models(app, db):
    _db.session.remove()
    _db.drop_all()
    try:
        with _db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        with _db.engine.connect() as conn:
            assert _differences(conn) == []
            tables = set(inspect(conn).get_table_names())
        assert set(Base.metadata.tables) <= tables
        downgrade(revision="base")
        with _db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    finally:
        with _db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        _db.drop_all()
        _db.create_all()


def test_revision_files_are_date_prefixed(app):
    from pathlib import Path

    versions = Path(app.root_path).parent / "migrations" / "versions"
    names = [p.name for p in versions.glob("*.py")]
    assert names, "no migration revision"
    for name in names:
        assert name[:8].isdigit() and name[8] == "_", name
