"""A locked session (two candidates, one failing; three jurors, one recused) and a staff client."""

from __future__ import annotations

import pytest

from tests.auth import fresh_client
from tests.factories import make_staff, sign_in_staff
from tests.minutes.builders import Built, build_locked_session


@pytest.fixture
def built(db, ntc) -> Built:
    return build_locked_session(ntc, candidates=2)


@pytest.fixture
def staff(db):
    user = make_staff()
    db.session.commit()
    return user


@pytest.fixture
def staff_client(app, staff):
    client = fresh_client(app)
    response = sign_in_staff(client, staff)
    assert response.headers.get("Location") == "/centre/", "staff could not sign in"
    return client
