"""The live dashboard: what it shows, its htmx fragment, and a fixed number of queries."""

from __future__ import annotations

import html

import pytest

from ntc_jury.models import (
    ConflictDeclaration,
    Deliberation,
    GridCompletion,
    Modality,
    Signature,
    utcnow,
)
from tests.centre.conftest import htmx
from tests.factories import make_session


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def modality(db, ntc, code: str) -> Modality:
    return db.session.execute(
        db.select(Modality).filter_by(certification_id=ntc.id, code=code)
    ).scalar_one()


def row(page: str, element_id: str) -> str:
    return page.split(f'id="{element_id}"')[1].split("</tr>")[0]


@pytest.fixture
def running(db, ntc):
    """Two jurors: one finished a grid, one is offline with pending ticks; one conflict."""
    exam = make_session(ntc, candidates=2)
    chair, member = exam.jury_members
    first, second = exam.candidates
    db.session.add(
        GridCompletion(
            jury_member_id=chair.id, candidate_id=first.id, modality_id=modality(db, ntc, "MSP").id
        )
    )
    db.session.add(
        GridCompletion(
            jury_member_id=chair.id, candidate_id=first.id, modality_id=modality(db, ntc, "QP").id
        )
    )
    db.session.add(
        ConflictDeclaration(
            jury_member_id=member.id,
            candidate_id=second.id,
            has_conflict=True,
            reason="Ancien collègue",
        )
    )
    member.device_pending = 3
    member.last_sync_at = utcnow()
    deliberation = Deliberation(session_id=exam.id, round=1, opened_by_id=chair.id)
    db.session.add(deliberation)
    db.session.flush()
    db.session.add(
        Signature(
            deliberation_id=deliberation.id, jury_member_id=chair.id, decisions_sha256="0" * 64
        )
    )
    db.session.commit()
    return exam


def test_dashboard_page_and_fragment(staff_client, db, running):
    chair, member = running.jury_members
    first, second = running.candidates
    page = staff_client.get(f"/centre/sessions/{running.id}/suivi")
    assert page.status_code == 200
    body = text(page)
    assert 'hx-trigger="every 10s"' in body and 'id="dashboard"' in body
    assert "2 / 3" in row(body, f"dashboard-candidate-{first.id}")  # MSP, ET, QP grids
    assert "conflit déclaré" in row(body, f"dashboard-candidate-{second.id}")
    assert "3" in row(body, f"dashboard-juror-{member.id}")
    assert "signé à" in row(body, f"dashboard-juror-{chair.id}")
    assert "1 sur 2 jurés présents" in body
    assert "ouverte (tour 1)" in body

    fragment = staff_client.get(f"/centre/sessions/{running.id}/suivi", headers=htmx())
    assert fragment.status_code == 200
    part = text(fragment)
    assert part.lstrip().startswith('<section id="dashboard"')
    assert "<html" not in part
    assert "Vary" in fragment.headers and "HX-Request" in fragment.headers["Vary"]


def test_query_count_does_not_grow_with_candidates(staff_client, db, ntc, count_queries):
    measured = {}
    for size in (1, 20):
        exam = make_session(ntc, candidates=size)
        for candidate in exam.candidates:
            for member in exam.jury_members:
                db.session.add(
                    GridCompletion(
                        jury_member_id=member.id,
                        candidate_id=candidate.id,
                        modality_id=modality(db, ntc, "ET").id,
                    )
                )
        db.session.commit()
        url = f"/centre/sessions/{exam.id}/suivi"
        staff_client.get(url, headers=htmx())
        with count_queries() as counter:
            response = staff_client.get(url, headers=htmx())
        assert text(response).count("1 / 3") == size * 2  # every cell was really computed
        measured[size] = counter.count
    assert measured[1] == measured[20], measured
    assert measured[1] <= 15, measured
