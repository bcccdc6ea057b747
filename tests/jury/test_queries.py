"""The juror's pages cost a fixed number of SQL statements (DESIGN.md §5, issue 4 part 9).

A session with 1 candidate and one with 20 candidates, each scored by 3 jurors with many
marks, notes and completed grids: every page must issue exactly the same statements. A tick
is counted too, statement by statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from ntc_jury.core.referential import plan_for
from ntc_jury.core.vocabulary import Presence, Route
from ntc_jury.models import (
    Ccp,
    Certification,
    ConflictDeclaration,
    ExamSession,
    GridCompletion,
    HeldCcp,
    Mark,
    Observation,
    ScheduleSlot,
    TransversalMark,
)
from ntc_jury.referential.queries import referential
from tests.factories import add_candidate, make_session

# The counts today, per page (a change must be deliberate: update them and say why).
# Session home: juror + their session (sign-in check), the session's format, candidates,
#   their held CCPs, grid completions, conflict declarations.
# Candidate page: juror + session, the candidate with its held CCPs (one joined query),
#   marks, grids, notes, transversal marks, conflict declaration, timetable.
# Phase page: the candidate page without the timetable.
EXPECTED = {"home": 6, "candidate": 8, "phase": 7}


@dataclass
class Day:
    session: object
    juror: object
    urls: dict[str, str]  # page → URL, for the session's first candidate


def _score_everything(db, session, cert) -> None:
    """Every juror clears every candidate, ticks many criteria, completes grids, takes notes."""
    ref = referential(cert.id)
    fmt = ref.format(session.format_id)
    modality_id = {m.code: m.id for m in ref.modalities}
    slot_start = dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)
    rows = []
    for candidate in session.candidates:
        plan = plan_for(
            ref,
            fmt,
            capitalisation=candidate.route == Route.CAPITALISATION,
            held_ccp_codes=frozenset(h.ccp.code for h in candidate.held_ccps),
        )
        for index, phase in enumerate(plan.phases):
            start = slot_start + dt.timedelta(minutes=15 * index)
            rows.append(
                ScheduleSlot(
                    candidate_id=candidate.id,
                    phase_id=phase.id,
                    starts_at=start,
                    ends_at=start + dt.timedelta(minutes=phase.minutes),
                )
            )
        for member in session.jury_members:
            key = {"jury_member_id": member.id, "candidate_id": candidate.id}
            rows.append(ConflictDeclaration(**key, has_conflict=False, reason=""))
            for modality, competencies in plan.grids.items():
                for competency in competencies:
                    for criterion in competency.criteria:
                        rows.append(
                            Mark(
                                **key,
                                criterion_id=criterion.id,
                                modality_id=modality_id[modality],
                                observed=criterion.position % 2 == 1,
                            )
                        )
                rows.append(GridCompletion(**key, modality_id=modality_id[modality]))
            for competency in plan.competencies:
                for transversal_id in competency.transversal_ids[:2]:
                    rows.append(
                        TransversalMark(
                            **key,
                            transversal_id=transversal_id,
                            competency_id=competency.id,
                            observed=True,
                        )
                    )
                rows.append(Observation(**key, competency_id=competency.id, text="Note"))
            for phase in plan.phases:
                rows.append(Observation(**key, phase_id=phase.id, text="Vu et entendu"))
    db.session.add_all(rows)
    db.session.commit()


def _day(db, cert, candidates: int) -> Day:
    session = make_session(cert, jurors=3, candidates=candidates)
    if candidates > 1:
        # Every kind of candidate: held CCPs, absent, withdrawn.
        ccp1 = next(c for c in db.session.query(Ccp).filter_by(certification_id=cert.id))
        holder = add_candidate(session, route=Route.CAPITALISATION)
        db.session.add(HeldCcp(candidate=holder, ccp=ccp1))
        session.candidates[3].presence = Presence.ABSENT
        session.candidates[4].presence = Presence.WITHDRAWN
    db.session.flush()
    _score_everything(db, session, cert)
    ref = referential(cert.id)
    phase = next(p for p in ref.format(session.format_id).phases if p.code == "MSP-NEGOCIATION")
    candidate = f"/jury/candidats/{session.candidates[0].id}"
    urls = {"home": "/jury/", "candidate": candidate, "phase": f"{candidate}/phases/{phase.id}"}
    return Day(session, session.jury_members[1], urls)


@pytest.fixture
def days(db, ntc, sign_in):
    small = _day(db, ntc, 1)
    large = _day(db, ntc, 19)  # + the CCP holder = 20
    assert len(small.session.candidates) == 1 and len(large.session.candidates) == 20
    return {"small": (small, sign_in(small.juror)), "large": (large, sign_in(large.juror))}


def _measure(db, count_queries, client, url: str) -> list[str]:
    # Each request starts from an empty identity map, as in production (one session per
    # request): nothing loaded by the test or an earlier request can hide a query.
    db.session.close()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    # SQLite's explicit BEGIN (see extensions.py) is transaction control, not a query, and
    # PostgreSQL has none: leave it out so both databases give the same count.
    return [s for s in counter.statements if not s.startswith("BEGIN")]


def test_juror_pages_cost_the_same_for_1_and_20_candidates(db, ntc, days, count_queries):
    # The referential is read once and then cached for the process (it never changes once
    # published): warm the cache first so that one-time read is not counted.
    referential(ntc.id)
    measured: dict[str, dict[str, list[str]]] = {}
    for size, (day, client) in days.items():
        for page, url in day.urls.items():
            client.get(url)  # warm-up (templates compiled, referential cached)
            measured.setdefault(page, {})[size] = _measure(db, count_queries, client, url)

    for page, by_size in measured.items():
        small, large = by_size["small"], by_size["large"]
        assert len(small) == len(large), (page, small, large)
        assert len(small) == EXPECTED[page], (page, len(small), small)


def test_marks_of_other_jurors_and_candidates_cost_nothing(db, ntc, sign_in, count_queries):
    """The same pages before and after 3 jurors scored every candidate of the session."""
    referential(ntc.id)  # warm the referential cache (see above)
    fresh = make_session(ntc, jurors=3, candidates=20)
    db.session.commit()
    client = sign_in(fresh.jury_members[1])
    fresh_id, cert_id = fresh.id, ntc.id
    urls = {"home": "/jury/", "candidate": f"/jury/candidats/{fresh.candidates[0].id}"}
    for url in urls.values():
        client.get(url)
    before = {page: len(_measure(db, count_queries, client, url)) for page, url in urls.items()}

    session, cert = db.session.get(ExamSession, fresh_id), db.session.get(Certification, cert_id)
    _score_everything(db, session, cert)
    after = {page: len(_measure(db, count_queries, client, url)) for page, url in urls.items()}

    assert before == after == {"home": EXPECTED["home"], "candidate": EXPECTED["candidate"]}


# A tick, whichever path carries it: the signed-in juror with their session; the candidate
# with the juror's record about them (one statement); the claim of the operation id with
# its answer; the mark; the audit chain's last hash and the new event. SQLite's BEGIN and
# PostgreSQL's chain lock are transaction control and left out, as above.
TICK_STATEMENTS = [
    "SELECT jury_member",
    "SELECT candidate",
    "INSERT INTO applied_operation",
    "INSERT INTO mark",
    "SELECT audit_event.hash",
    "INSERT INTO audit_event",
]


@pytest.mark.parametrize("path", ["htmx", "form", "batch"])
def test_a_tick_costs_six_statements(db, scene, sign_in, count_queries, path):
    import uuid

    client = sign_in(scene.juror)
    candidate_id = scene.candidate.id
    criterion = scene.criterion("CP3", 1)
    cleared = {"op_id": str(uuid.uuid4()), "kind": "conflict", "has_conflict": "0"}
    assert client.post(f"/jury/candidats/{candidate_id}/operation", data=cleared).status_code == 303

    def tick(observed: bool):
        op_id = str(uuid.uuid4())
        if path == "batch":
            payload = {"candidate_id": candidate_id, "modality": "MSP"}
            payload |= {"criterion_id": criterion, "observed": observed}
            body = {"operations": [{"op_id": op_id, "kind": "mark", "payload": payload}]}
            return client.post("/jury/operations", json=body)
        return client.post(
            f"/jury/candidats/{candidate_id}/operation",
            data={
                "op_id": op_id,
                "kind": "mark",
                "modality": "MSP",
                "criterion_id": str(criterion),
                "observed": "1" if observed else "0",
            },
            headers={"HX-Request": "true"} if path == "htmx" else {},
        )

    assert tick(True).status_code in (200, 303)  # also stamps the juror's last sync
    db.session.close()
    with count_queries() as counter:
        response = tick(False)
    assert response.status_code in (200, 303)
    control = ("BEGIN", "SELECT pg_advisory_xact_lock")
    statements = [s for s in counter.statements if not s.startswith(control)]
    assert [_head(s) for s in statements] == TICK_STATEMENTS, statements
    db.session.expire_all()
    assert db.session.query(Mark).one().observed is False


def _head(statement: str) -> str:
    """What a statement does, to which table: "SELECT jury_member", "INSERT INTO mark"."""
    words = statement.replace(",", " ").split()
    if words[0] == "SELECT":
        column = words[1]
        return f"SELECT {column if column == 'audit_event.hash' else column.split('.')[0]}"
    return " ".join(words[:3])
