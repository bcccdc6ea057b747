"""Centre fixtures: a signed-in staff client, a planned session, and a private import folder."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ntc_jury.models import AuditEvent
from tests.factories import make_session, make_staff, sign_in_staff


@pytest.fixture(autouse=True)
def import_dir(app, tmp_path, monkeypatch):
    """Pending import files go to the test's own folder, never to the real instance folder."""
    folder = tmp_path / "imports"
    monkeypatch.setitem(app.config, "CANDIDATE_IMPORT_DIR", str(folder))
    return folder


@pytest.fixture
def staff(db):
    user = make_staff()
    db.session.commit()
    return user


@pytest.fixture
def staff_client(client, staff):
    response = sign_in_staff(client, staff)
    assert response.headers.get("Location") == "/centre/"
    return client


@pytest.fixture
def exam(db, ntc):
    """A planned titre complet session: 2 jurors (the first chairs), 2 training candidates."""
    made = make_session(ntc)
    db.session.commit()
    return made


def audit_actions(db, session_id: int | None = None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if session_id is not None:
        query = query.where(AuditEvent.session_id == session_id)
    return list(db.session.execute(query).scalars())


def count(db, model, **filters) -> int:
    return db.session.execute(
        select(func.count()).select_from(model).filter_by(**filters)
    ).scalar_one()


def htmx(**headers) -> dict:
    return {"HX-Request": "true", **headers}
