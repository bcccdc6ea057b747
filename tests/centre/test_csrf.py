"""With CSRF protection on (as in production), the centre's forms carry a valid token."""

from __future__ import annotations

import io
import re

import pytest

from ntc_jury.core.vocabulary import SessionState
from ntc_jury.models import Candidate, ExamSession
from tests.centre.conftest import count


@pytest.fixture
def protected(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def token_in(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_state_form_and_import_work_with_their_tokens(staff_client, db, exam, protected):
    page = staff_client.get(f"/centre/sessions/{exam.id}").get_data(as_text=True)
    url = f"/centre/sessions/{exam.id}/etat"
    assert staff_client.post(url, data={"target": "in_progress"}).status_code == 400
    response = staff_client.post(url, data={"target": "in_progress", "csrf_token": token_in(page)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ExamSession, exam.id).state == SessionState.IN_PROGRESS

    form = staff_client.get(f"/centre/sessions/{exam.id}/candidats/import").get_data(as_text=True)
    content = "nom;prénom;date de naissance;numéro de candidat;parcours\nA;B;01/01/1990;Z1;VAE\n"
    uploaded = staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/import",
        data={"file": (io.BytesIO(content.encode()), "c.csv"), "csrf_token": token_in(form)},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 303
    preview = staff_client.get(uploaded.headers["Location"]).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
    confirmed = staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/import/confirmer",
        data={"token": token, "csrf_token": token_in(preview)},
    )
    assert confirmed.status_code == 303
    assert count(db, Candidate, candidate_number="Z1") == 1
