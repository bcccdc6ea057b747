"""The deliberation's pages cost a fixed number of SQL statements, whatever the session's size.

Two sessions of the same referential are read: a small one (1 candidate, 2 jurors, one tick)
and a large one (12 candidates, 3 jurors, every grid ticked and completed, notes,
transversals, conflicts, held CCPs, every decision, signatures). Rows are inserted directly:
only reads are measured here.
"""

from __future__ import annotations

import pytest

from ntc_jury.core.vocabulary import Route, SessionState
from ntc_jury.extensions import db
from ntc_jury.models import (
    CcpDecision,
    CompetencyDecision,
    ConflictDeclaration,
    Deliberation,
    GridCompletion,
    Mark,
    Observation,
    Signature,
    TitleDecision,
    TransversalMark,
)
from tests.factories import add_candidate

from .conftest import Jury, make_jury

# SELECTs per request, the signed-in juror and their session included (SQLite's explicit
# BEGIN is left out: PostgreSQL opens its transactions without a statement).
EXPECTED = {
    "overview": 10,
    "live status": 10,
    "candidate board": 12,  # + incidents
    "polled decisions": 12,
    "summary sheet": 13,
    "session summary": 6,
}


def _urls(jury: Jury) -> dict[str, str]:
    candidate = jury.candidates[0]
    board = f"/jury/deliberation/candidats/{candidate.id}"
    return {
        "overview": "/jury/deliberation/",
        "live status": "/jury/deliberation/etat",
        "candidate board": board,
        "polled decisions": f"{board}/decisions",
        "summary sheet": f"{board}/synthese",
        "session summary": "/jury/deliberation/synthese",
    }


def _open(jury: Jury) -> Deliberation:
    deliberation = Deliberation(session_id=jury.session.id, round=1, opened_by_id=jury.chair.id)
    db.session.add(deliberation)
    jury.session.state = SessionState.DELIBERATION
    db.session.flush()
    return deliberation


def small_session(ntc) -> Jury:
    jury = make_jury(ntc, format_code="TITLE", jurors=2, candidates=1)
    candidate = jury.candidates[0]
    criterion = jury.competency("CP3").criteria[0]
    msp = jury.ref.modality("MSP")
    db.session.add(
        Mark(
            jury_member_id=jury.chair.id,
            candidate_id=candidate.id,
            criterion_id=criterion.id,
            modality_id=msp.id,
            observed=True,
        )
    )
    _open(jury)
    return jury


def large_session(ntc) -> Jury:
    jury = make_jury(ntc, format_code="TITLE", jurors=3, candidates=9)
    for _ in range(3):
        add_candidate(jury.session, route=Route.CAPITALISATION, held_ccp_codes=["CCP1"])
    db.session.flush()
    db.session.refresh(jury.session)
    ref = jury.ref
    chair, _member, third = jury.jurors
    rows: list = []
    for index, candidate in enumerate(jury.candidates):
        plan = jury.plan(candidate)
        for juror in jury.jurors:
            conflicted = juror is third and index == 1
            rows.append(
                ConflictDeclaration(
                    jury_member_id=juror.id,
                    candidate_id=candidate.id,
                    has_conflict=conflicted,
                    reason="Ancien collègue" if conflicted else "",
                )
            )
            if conflicted:
                continue
            for code, competencies in plan.grids.items():
                modality = ref.modality(code)
                rows.append(
                    GridCompletion(
                        jury_member_id=juror.id, candidate_id=candidate.id, modality_id=modality.id
                    )
                )
                for competency in competencies:
                    for criterion in competency.criteria:
                        rows.append(
                            Mark(
                                jury_member_id=juror.id,
                                candidate_id=candidate.id,
                                criterion_id=criterion.id,
                                modality_id=modality.id,
                                observed=(criterion.position + juror.id) % 3 != 0,
                            )
                        )
            for competency in plan.competencies:
                rows.append(
                    Observation(
                        jury_member_id=juror.id,
                        candidate_id=candidate.id,
                        competency_id=competency.id,
                        text=f"Note de {juror.full_name} sur {competency.code}",
                    )
                )
                for transversal_id in competency.transversal_ids:
                    rows.append(
                        TransversalMark(
                            jury_member_id=juror.id,
                            candidate_id=candidate.id,
                            transversal_id=transversal_id,
                            competency_id=competency.id,
                            observed=True,
                        )
                    )
            for phase in plan.phases:
                rows.append(
                    Observation(
                        jury_member_id=juror.id,
                        candidate_id=candidate.id,
                        phase_id=phase.id,
                        text=f"Phase {phase.code}",
                    )
                )
        for competency in plan.competencies:
            rows.append(
                CompetencyDecision(
                    candidate_id=candidate.id,
                    competency_id=competency.id,
                    outcome="mastered",
                    decided_by_id=chair.id,
                )
            )
        for ccp in plan.ccps:
            held = ccp.code in plan.held_ccp_codes
            rows.append(
                CcpDecision(
                    candidate_id=candidate.id,
                    ccp_id=ccp.id,
                    outcome="already_acquired" if held else "acquired",
                    decided_by_id=chair.id,
                )
            )
        rows.append(
            TitleDecision(candidate_id=candidate.id, outcome="obtained", decided_by_id=chair.id)
        )
    db.session.add_all(rows)
    deliberation = _open(jury)
    for juror in jury.jurors[:2]:
        db.session.add(
            Signature(
                deliberation_id=deliberation.id, jury_member_id=juror.id, decisions_sha256="0" * 64
            )
        )
    db.session.flush()
    return jury


@pytest.fixture
def sessions(ntc, db):
    small, large = small_session(ntc), large_session(ntc)
    db.session.commit()
    assert len(large.candidates) == 12 and len(large.jurors) == 3
    return small, large


def _statements(client, url: str, count_queries) -> int:
    client.get(url)  # warm: the referential is read once per process, then cached
    # Requests share the test's database session: start from an empty identity map, as a
    # real request does, so lazy loads are counted too.
    db.session.remove()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    statements = [s for s in counter.statements if s.strip().upper() != "BEGIN"]
    assert all(s.lstrip().upper().startswith("SELECT") for s in statements), statements
    return len(statements)


@pytest.mark.parametrize("page", list(EXPECTED))
def test_a_deliberation_page_costs_the_same_for_1_or_12_candidates(
    sessions, sign_in, count_queries, page
):
    small, large = sessions
    small_client, large_client = sign_in(small.member), sign_in(large.member)
    small_url, large_url = _urls(small)[page], _urls(large)[page]

    few = _statements(small_client, small_url, count_queries)
    many = _statements(large_client, large_url, count_queries)

    assert (few, many) == (EXPECTED[page], EXPECTED[page]), page


def test_a_capitalisation_candidates_board_costs_the_same(sessions, sign_in, count_queries):
    """Held CCPs ride on the candidate's own statement: no extra query for them."""
    _small, large = sessions
    holder = large.candidates[-1]
    assert holder.route == Route.CAPITALISATION and holder.held_ccps
    client = sign_in(large.member)
    url = f"/jury/deliberation/candidats/{holder.id}"

    assert _statements(client, url, count_queries) == EXPECTED["candidate board"]


def test_the_large_session_really_is_large(sessions, sign_in):
    """The large session's pages do show what the counts were measured on."""
    _small, large = sessions
    client = sign_in(large.member)
    body = client.get("/jury/deliberation/").get_data(as_text=True)
    assert body.count('class="candidate-row"') == 12
    assert body.count("a signé le") == 2
    board = client.get(_urls(large)["candidate board"]).get_data(as_text=True)
    assert board.count('class="vote yes"') > 100
    assert "Note de" in board
