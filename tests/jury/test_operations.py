"""The juror's single write path: `apply_operation` / `apply_batch`, asserted in the database."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from ntc_jury.core.vocabulary import OperationStatus, Presence, Route, SessionState
from ntc_jury.jury import operations
from ntc_jury.models import (
    AppliedOperation,
    AuditEvent,
    ConflictDeclaration,
    GridCompletion,
    JuryMember,
    Mark,
    Observation,
    TransversalMark,
    utcnow,
)
from ntc_jury.referential.loader import load_referential, read_referential_file
from tests.conftest import MINI_YAML
from tests.factories import add_candidate, make_session

from .conftest import Scene, count, new_op

UNKNOWN_OP = "Identifiant d'opération invalide."
NOT_CLEARED = "Confirmez d'abord que vous n'avez aucun lien avec ce candidat."
RECUSED = "Vous avez déclaré un lien avec ce candidat : vous ne participez pas à son évaluation."
NOT_IN_GRID = "Ce critère n'est pas évalué dans cette modalité."
UNKNOWN_CANDIDATE = "Candidat inconnu dans votre session."
GRID_DONE = "Grille terminée : rouvrez-la pour la modifier."
DELIBERATION = "La délibération est ouverte : les grilles ne peuvent plus être modifiées."
UNKNOWN_MODALITY = "Modalité inconnue pour ce candidat."
NOT_CARRIED = "Cette compétence transversale n'est pas évaluée au travers de cette compétence."


@pytest.fixture(autouse=True)
def _in_a_request(app, db):
    """Operations run inside a request (their messages pick the visitor's language).

    A writing request that holds the writers' lock from its first statement: the tests set
    their scene up in it. How the juror's views read before taking the lock is tested in
    test_reads_before_writing.py and test_write_lock.py.
    """
    with app.test_request_context("/jury/deliberation/signer", method="POST"):
        yield


def _marks(db, scene: Scene, **filters) -> list[Mark]:
    return list(
        db.session.execute(
            select(Mark).filter_by(jury_member_id=scene.juror.id, **filters).order_by(Mark.id)
        ).scalars()
    )


def _events(db, action: str, **filters) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent).filter_by(action=action, **filters).order_by(AuditEvent.id)
        ).scalars()
    )


def _stored(db, op_id: str) -> AppliedOperation | None:
    return db.session.execute(
        select(AppliedOperation).where(AppliedOperation.op_id == op_id)
    ).scalar_one_or_none()


# ----------------------------------------------------------------------------- ticks


def test_a_tick_records_observed_then_a_second_tick_removes_it(db, scene):
    scene.clear()
    criterion = scene.criterion("CP7", 3)
    first, second = new_op(), new_op()

    on = scene.tick(criterion, op_id=first)
    assert (on.status, on.result) == (
        "applied",
        {"criterion_id": criterion, "modality": "MSP", "observed": True},
    )
    assert on.candidate_id == scene.candidate.id
    [mark] = _marks(db, scene)
    assert (mark.candidate_id, mark.criterion_id, mark.observed) == (
        scene.candidate.id,
        criterion,
        True,
    )
    assert mark.modality_id == scene.ref.modality("MSP").id

    off = scene.tick(criterion, observed=False, op_id=second)
    assert off.status == "applied"
    db.session.expire_all()
    [mark_after] = _marks(db, scene)
    assert mark_after.id == mark.id  # the same row, updated in place
    assert mark_after.observed is False

    recorded = _events(db, "mark_recorded")
    assert [(e.op_id, e.before, e.after) for e in recorded] == [
        (first, None, {"observed": True, "modality": "MSP"}),
        (second, {"observed": True, "modality": "MSP"}, {"observed": False, "modality": "MSP"}),
    ]
    assert {(e.actor_id, e.session_id) for e in recorded} == {(scene.juror.id, scene.session.id)}
    assert recorded[0].target_id == f"{scene.candidate.id}:{criterion}"
    assert [_stored(db, op).status for op in (first, second)] == [OperationStatus.APPLIED] * 2
    assert scene.juror.last_sync_at is not None


def test_a_replayed_operation_is_applied_once(db, scene):
    scene.clear()
    criterion = scene.criterion("CP3")
    op_id = new_op()

    first = scene.tick(criterion, op_id=op_id)
    db.session.commit()
    replay = scene.tick(criterion, op_id=op_id)
    # A replay carrying another payload still gets the first answer and changes nothing.
    tampered = scene.tick(criterion, op_id=op_id, observed=False)

    assert first.status == "applied"
    assert replay.status == tampered.status == "already_applied"
    assert replay.result == tampered.result == first.result
    assert replay.candidate_id == scene.candidate.id
    assert [m.observed for m in _marks(db, scene)] == [True]
    assert count(db, AppliedOperation, op_id=op_id) == 1
    [event] = _events(db, "mark_recorded")
    assert (event.op_id, event.before, event.after) == (
        op_id,
        None,
        {"observed": True, "modality": "MSP"},
    )


def test_the_same_operation_id_from_another_juror_is_refused_without_revealing_it(db, scene):
    scene.clear()
    scene.clear(member=scene.other)
    op_id = new_op()
    scene.tick(scene.criterion("CP5"), op_id=op_id)

    stolen = scene.tick(scene.criterion("CP6"), member=scene.other, op_id=op_id)

    assert stolen.status == "refused"
    # The very answer a malformed id gets: nothing says the id exists.
    assert stolen.message == UNKNOWN_OP
    assert stolen.result == {} and stolen.candidate_id is None
    assert stolen.as_json() == {
        "op_id": op_id,
        "status": "refused",
        "message": UNKNOWN_OP,
        "result": {},
    }
    assert count(db, Mark, jury_member_id=scene.other.id) == 0
    assert count(db, AppliedOperation, op_id=op_id) == 1
    assert _stored(db, op_id).jury_member_id == scene.juror.id


@pytest.mark.parametrize(
    "op_id",
    [
        "not-a-uuid",
        "",
        None,
        12345,
        "0123456789abcdef0123456789abcdef",  # a UUID without its dashes
        "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
        "1" * 500,
    ],
    ids=repr,
)
def test_an_invalid_operation_id_is_refused_and_nothing_is_stored(db, scene, op_id):
    scene.clear()
    outcome = operations.apply_operation(
        member=scene.juror,
        op_id=op_id,
        kind="mark",
        payload={
            "candidate_id": scene.candidate.id,
            "modality": "MSP",
            "criterion_id": scene.criterion("CP3"),
            "observed": True,
        },
    )

    assert outcome.status == "refused"
    assert outcome.message == UNKNOWN_OP
    assert len(outcome.op_id) <= 36
    assert count(db, Mark) == 0
    assert count(db, AppliedOperation) == 1  # only the conflict declaration
    assert _events(db, "mark_recorded") == []


def test_a_refusal_is_stored_and_its_replay_is_refused_the_same_way(db, scene):
    criterion = scene.criterion("CP3")
    op_id = new_op()

    refused = scene.tick(criterion, op_id=op_id)  # before "aucun lien"
    assert (refused.status, refused.message, refused.locked) == ("refused", NOT_CLEARED, False)
    stored = _stored(db, op_id)
    assert stored.status == OperationStatus.REFUSED
    assert stored.result == {"message": NOT_CLEARED, "locked": False}
    assert stored.jury_member_id == scene.juror.id
    assert stored.kind == "mark"
    assert stored.payload["criterion_id"] == criterion

    # The reason went away, but the stored refusal stands: the operation is never applied late.
    scene.clear()
    replay = scene.tick(criterion, op_id=op_id)
    assert (replay.status, replay.message) == ("refused", NOT_CLEARED)
    assert replay.candidate_id == scene.candidate.id
    assert count(db, Mark) == 0
    assert count(db, AppliedOperation, op_id=op_id) == 1
    assert _events(db, "mark_recorded") == []


def test_a_locked_refusal_replays_as_locked(db, scene):
    scene.clear()
    scene.session.state = SessionState.DELIBERATION
    db.session.flush()
    op_id = new_op()

    first = scene.tick(scene.criterion("CP3"), op_id=op_id)
    replay = scene.tick(scene.criterion("CP3"), op_id=op_id)

    assert (first.status, first.locked, first.message) == ("refused", True, DELIBERATION)
    assert (replay.status, replay.locked, replay.message) == ("refused", True, DELIBERATION)


def test_two_requests_racing_with_one_id_apply_it_once(app, db, scene):
    """The loser of a race on one op id waits for the winner, then gets the winner's answer.

    Two threads, each with its own database session, as two gunicorn workers would be: the
    winner has applied the operation and not committed yet when the loser sends the same id.
    """
    scene.clear()
    member_id, candidate_id = scene.juror.id, scene.candidate.id
    criterion, op_id = scene.criterion("CP3"), new_op()
    db.session.commit()  # and no more reads here: the test's own session must hold no lock
    claimed, release, loser_started = threading.Event(), threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def request(name: str, observed: bool, before_commit=None, before_apply=None) -> None:
        with app.app_context(), app.test_request_context("/jury/operations", method="POST"):
            try:
                if before_apply:
                    before_apply()
                outcomes[name] = operations.apply_operation(
                    member=db.session.get(JuryMember, member_id),
                    op_id=op_id,
                    kind="mark",
                    payload={
                        "candidate_id": candidate_id,
                        "modality": "MSP",
                        "criterion_id": criterion,
                        "observed": observed,
                    },
                )
                if before_commit:
                    before_commit()
                db.session.commit()
            except Exception as exc:  # reported by the main thread
                outcomes[name] = exc
                claimed.set()
            finally:
                db.session.remove()

    def hold() -> None:
        claimed.set()
        assert release.wait(timeout=30)

    winner = threading.Thread(target=request, args=("winner", True, hold))
    loser = threading.Thread(target=request, args=("loser", False, None, loser_started.set))
    winner.start()
    assert claimed.wait(timeout=30)
    loser.start()
    assert loser_started.wait(timeout=30)
    if db.engine.dialect.name == "postgresql":
        _wait_until_a_backend_waits_on_a_lock(db)
    release.set()
    winner.join(timeout=30)
    loser.join(timeout=30)

    winner_outcome, loser_outcome = outcomes["winner"], outcomes["loser"]
    assert getattr(winner_outcome, "status", winner_outcome) == "applied"
    assert getattr(loser_outcome, "status", loser_outcome) == "already_applied"
    assert loser_outcome.result == winner_outcome.result
    db.session.expire_all()
    assert [m.observed for m in _marks(db, scene)] == [True]  # the loser wrote nothing
    assert len(_events(db, "mark_recorded")) == 1
    assert count(db, AppliedOperation, op_id=op_id) == 1


def _wait_until_a_backend_waits_on_a_lock(db, timeout: float = 10.0) -> None:
    """PostgreSQL shows who waits: the loser must be blocked on the winner's transaction."""
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(query).scalar_one()
            conn.rollback()  # the activity view is a per-transaction snapshot
            if waiting:
                return
    pytest.fail("the second request never waited for the first one's transaction")


def test_an_unknown_kind_is_refused(db, scene):
    scene.clear()
    outcome = scene.op("delete_everything")
    assert (outcome.status, outcome.message) == ("refused", "Type d'opération inconnu.")


# ----------------------------------------------------------------------------- conflicts


def test_no_tick_before_aucun_lien(db, scene):
    outcome = scene.tick(scene.criterion("CP3"))
    assert (outcome.status, outcome.message) == ("refused", NOT_CLEARED)
    grid = scene.op("grid", modality="MSP", completed=True)
    assert (grid.status, grid.message) == ("refused", NOT_CLEARED)
    transversal = scene.op(
        "transversal",
        transversal_id=scene.transversal("CT1"),
        competency_id=scene.competency("CP3").id,
        observed=True,
    )
    assert (transversal.status, transversal.message) == ("refused", NOT_CLEARED)
    note = scene.op("observation", phase_id=scene.phase("MSP-PROSPECTION").id, text="Vu")
    assert (note.status, note.message) == ("refused", NOT_CLEARED)
    assert count(db, Mark) == count(db, GridCompletion) == count(db, Observation) == 0
    assert count(db, TransversalMark) == 0


def test_aucun_lien_is_recorded_and_audited(db, scene):
    op_id = new_op()
    outcome = scene.op("conflict", has_conflict=False, reason="ignored", op_id=op_id)

    assert (outcome.status, outcome.result) == ("applied", {"has_conflict": False})
    declaration = db.session.execute(select(ConflictDeclaration)).scalar_one()
    assert (declaration.jury_member_id, declaration.candidate_id) == (
        scene.juror.id,
        scene.candidate.id,
    )
    assert (declaration.has_conflict, declaration.reason) == (False, "")
    [event] = _events(db, "conflict_declared")
    assert (event.op_id, event.before, event.after) == (
        op_id,
        None,
        {"has_conflict": False, "reason": ""},
    )


@pytest.mark.parametrize("reason", ["", "   ", None, 42])
def test_a_declared_conflict_needs_a_reason(db, scene, reason):
    payload = {"has_conflict": True}
    if reason is not None:
        payload["reason"] = reason
    outcome = scene.op("conflict", **payload)

    assert (outcome.status, outcome.message) == (
        "refused",
        "Indiquez la nature du lien avec le candidat.",
    )
    assert count(db, ConflictDeclaration) == 0


def test_a_recused_juror_can_neither_tick_nor_observe(db, scene):
    scene.clear()
    scene.tick(scene.criterion("CP3"))
    declared = scene.op("conflict", has_conflict=True, reason="  Ancien stagiaire  ")
    assert declared.status == "applied"
    declaration = db.session.execute(select(ConflictDeclaration)).scalar_one()
    assert (declaration.has_conflict, declaration.reason) == (True, "Ancien stagiaire")
    [_, change] = _events(db, "conflict_declared")
    assert change.before == {"has_conflict": False, "reason": ""}
    assert change.after == {"has_conflict": True, "reason": "Ancien stagiaire"}

    refusals = [
        scene.tick(scene.criterion("CP3", 2)),
        scene.op("grid", modality="MSP", completed=True),
        scene.op(
            "transversal",
            transversal_id=scene.transversal("CT2"),
            competency_id=scene.competency("CP3").id,
            observed=True,
        ),
        scene.op("observation", phase_id=scene.phase("MSP-PROSPECTION").id, text="Note"),
        scene.op("observation", competency_id=scene.competency("CP3").id, text="Note"),
    ]
    assert [(r.status, r.message, r.locked) for r in refusals] == [("refused", RECUSED, False)] * 5
    assert count(db, Mark) == 1  # only the tick made before the declaration
    assert count(db, GridCompletion) == count(db, Observation) == count(db, TransversalMark) == 0


# ----------------------------------------------------------------------------- grids


def test_a_criterion_outside_the_modality_grid_is_refused(db, scene):
    scene.clear()
    # CP1 "Assurer une veille commerciale" is evaluated by QP only (RE §3.2).
    qp_only = scene.criterion("CP1")
    refused = scene.tick(qp_only, modality="MSP")
    assert (refused.status, refused.message) == ("refused", NOT_IN_GRID)
    assert scene.tick(qp_only, modality="QP").status == "applied"

    # A criterion id that is not a criterion at all, or none given.
    assert scene.tick(999_999).message == NOT_IN_GRID
    assert scene.op("mark", modality="MSP", observed=True).message == NOT_IN_GRID
    # A modality this candidate has no grid for (NTC never uses QPro; the title's EF has none).
    for modality in ("QPro", "EF", "XYZ", None):
        outcome = scene.tick(scene.criterion("CP3"), modality=modality)
        assert (outcome.status, outcome.message) == ("refused", UNKNOWN_MODALITY)
    assert [(m.criterion_id, m.modality_id) for m in _marks(db, scene)] == [
        (qp_only, scene.ref.modality("QP").id)
    ]


def test_one_criterion_has_one_mark_per_modality(db, scene):
    """CP3 is evaluated by MSP and ET: each modality's grid has its own tick."""
    scene.clear()
    criterion = scene.criterion("CP3")
    assert scene.tick(criterion, modality="MSP").status == "applied"
    assert scene.tick(criterion, modality="ET").status == "applied"
    assert count(db, Mark, criterion_id=criterion) == 2


def test_a_completed_grid_blocks_ticks_until_reopened(db, scene):
    scene.clear()
    criterion = scene.criterion("CP4")
    scene.tick(criterion)
    complete_id = new_op()

    done = scene.op("grid", modality="MSP", completed=True, op_id=complete_id)
    assert (done.status, done.result) == ("applied", {"modality": "MSP", "completed": True})
    completion = db.session.execute(select(GridCompletion)).scalar_one()
    assert (completion.jury_member_id, completion.candidate_id, completion.modality_id) == (
        scene.juror.id,
        scene.candidate.id,
        scene.ref.modality("MSP").id,
    )

    blocked = scene.tick(criterion, observed=False)
    assert (blocked.status, blocked.message, blocked.locked) == ("refused", GRID_DONE, False)
    # Other grids stay open.
    assert scene.tick(criterion, modality="ET").status == "applied"
    # Completing twice keeps one row.
    assert scene.op("grid", modality="MSP", completed=True).status == "applied"
    assert count(db, GridCompletion) == 1

    reopen_id = new_op()
    undone = scene.op("grid", modality="MSP", completed=False, op_id=reopen_id)
    assert (undone.status, undone.result) == ("applied", {"modality": "MSP", "completed": False})
    assert count(db, GridCompletion) == 0
    assert scene.tick(criterion, observed=False).status == "applied"
    msp = scene.ref.modality("MSP").id
    assert [m.observed for m in _marks(db, scene, modality_id=msp)] == [False]

    [completed_event, _again] = _events(db, "grid_completed")
    assert (completed_event.op_id, completed_event.before, completed_event.after) == (
        complete_id,
        {"completed": False},
        {"completed": True},
    )
    [reopened] = _events(db, "grid_reopened")
    assert (reopened.op_id, reopened.before, reopened.after) == (
        reopen_id,
        {"completed": True},
        {"completed": False},
    )


def test_an_absent_candidate_cannot_be_scored(db, scene):
    scene.clear()
    scene.candidate.presence = Presence.ABSENT
    db.session.flush()

    outcomes = [
        scene.tick(scene.criterion("CP3")),
        scene.op("grid", modality="MSP", completed=True),
    ]
    assert [(o.status, o.message) for o in outcomes] == [
        ("refused", "Ce candidat est absent : il ne peut pas être évalué.")
    ] * 2
    assert count(db, Mark) == count(db, GridCompletion) == 0


def test_a_candidate_of_another_session_is_unknown(db, ntc, scene):
    elsewhere = make_session(ntc, jurors=2, candidates=1, centre="Autre centre")
    stranger = elsewhere.candidates[0]

    outcomes = [
        scene.op("conflict", candidate=stranger, has_conflict=False),
        scene.tick(scene.criterion("CP3"), candidate=stranger),
        scene.op("observation", candidate=stranger, phase_id=scene.phase("EF").id, text="x"),
        scene.op("mark", candidate_id=999_999, modality="MSP", criterion_id=1, observed=True),
        scene.op("mark", candidate_id="abc", modality="MSP", criterion_id=1, observed=True),
        operations.apply_operation(member=scene.juror, op_id=new_op(), kind="mark", payload=None),
    ]

    assert [(o.status, o.message) for o in outcomes] == [("refused", UNKNOWN_CANDIDATE)] * 6
    assert count(db, ConflictDeclaration, jury_member_id=scene.juror.id) == 0
    assert count(db, Mark) == count(db, Observation) == 0


# ----------------------------------------------------------------------------- session states


def test_once_the_deliberation_opens_grids_freeze_but_observations_stay_open(db, scene):
    scene.clear()
    phase = scene.phase("MSP-NEGOCIATION")
    scene.tick(scene.criterion("CP7"))
    scene.session.state = SessionState.DELIBERATION
    db.session.flush()

    frozen = [
        scene.tick(scene.criterion("CP7"), observed=False),
        scene.tick(scene.criterion("CP7", 2)),
        scene.op("grid", modality="MSP", completed=True),
        scene.op(
            "transversal",
            transversal_id=scene.transversal("CT1"),
            competency_id=scene.competency("CP7").id,
            observed=True,
        ),
        scene.op("conflict", has_conflict=True, reason="Lien découvert"),
    ]
    assert all(o.status == "refused" and o.locked for o in frozen)
    assert frozen[0].message == DELIBERATION
    assert [m.observed for m in _marks(db, scene)] == [True]
    assert count(db, GridCompletion) == count(db, TransversalMark) == 0

    note = scene.op("observation", phase_id=phase.id, text="Relu pendant la délibération")
    assert note.status == "applied"
    assert db.session.execute(select(Observation.text)).scalar_one() == (
        "Relu pendant la délibération"
    )


@pytest.mark.parametrize("state", [SessionState.CLOSED, SessionState.ARCHIVED])
def test_observations_close_after_the_deliberation(db, scene, state):
    scene.clear()
    scene.session.state = state
    db.session.flush()
    note = scene.op("observation", phase_id=scene.phase("EF").id, text="Trop tard")
    assert (note.status, note.locked) == ("refused", True)
    assert count(db, Observation) == 0


def test_a_locked_session_refuses_everything(db, scene):
    scene.clear()
    scene.session.state = SessionState.DELIBERATION
    scene.session.locked_at = utcnow()
    db.session.flush()

    outcomes = [
        scene.tick(scene.criterion("CP3")),
        scene.op("grid", modality="MSP", completed=True),
        scene.op(
            "transversal",
            transversal_id=scene.transversal("CT1"),
            competency_id=scene.competency("CP3").id,
            observed=True,
        ),
        scene.op("observation", phase_id=scene.phase("EF").id, text="Après signature"),
        scene.op("observation", competency_id=scene.competency("CP3").id, text="Après"),
        scene.op("conflict", has_conflict=False),
        scene.op("conflict", candidate=scene.session.candidates[1], has_conflict=False),
    ]

    assert all(o.status == "refused" and o.locked for o in outcomes), outcomes
    assert {o.message for o in outcomes} == {
        "La session est verrouillée : les décisions sont signées, plus aucune saisie n'est "
        "possible."
    }
    assert count(db, Mark) == count(db, GridCompletion) == count(db, Observation) == 0
    assert count(db, TransversalMark) == 0
    assert count(db, ConflictDeclaration) == 1  # the one made before the lock


# ----------------------------------------------------------------------------- transversal


def test_a_transversal_competency_is_ticked_through_a_professional_competency(db, scene):
    scene.clear()
    ct3, cp7 = scene.transversal("CT3"), scene.competency("CP7").id
    op_id = new_op()

    on = scene.op("transversal", transversal_id=ct3, competency_id=cp7, observed=True, op_id=op_id)
    assert (on.status, on.result) == (
        "applied",
        {"transversal_id": ct3, "competency_id": cp7, "observed": True},
    )
    off = scene.op("transversal", transversal_id=ct3, competency_id=cp7, observed=False)
    assert off.status == "applied"
    db.session.expire_all()
    [row] = db.session.execute(select(TransversalMark)).scalars()
    assert (row.jury_member_id, row.transversal_id, row.competency_id, row.observed) == (
        scene.juror.id,
        ct3,
        cp7,
        False,
    )
    first, second = _events(db, "transversal_recorded")
    assert (first.op_id, first.before, first.after) == (
        op_id,
        None,
        {"observed": True, "competency_id": cp7},
    )
    assert second.before == {"observed": True, "competency_id": cp7}


def test_a_transversal_competency_only_through_the_competencies_that_carry_it(db):
    # In the NTC RE every transversal competency is carried by all nine competencies, so the
    # rule is proven on the fictional referential, with CT1 carried by CP2 only.
    data = read_referential_file(MINI_YAML)
    data["transversal"][0]["competencies"] = ["CP2"]
    cert = load_referential(data)
    session = make_session(cert, jurors=2, candidates=1)
    db.session.commit()
    scene = Scene(session, session.jury_members[1], session.jury_members[0], session.candidates[0])
    scene.clear()
    ct1 = scene.transversal("CT1")

    carried = scene.op(
        "transversal", transversal_id=ct1, competency_id=scene.competency("CP2").id, observed=True
    )
    not_carried = scene.op(
        "transversal", transversal_id=ct1, competency_id=scene.competency("CP1").id, observed=True
    )
    unknown = scene.op(
        "transversal", transversal_id=999_999, competency_id=scene.competency("CP2").id
    )

    assert carried.status == "applied"
    assert [(o.status, o.message) for o in (not_carried, unknown)] == [("refused", NOT_CARRIED)] * 2
    assert db.session.execute(select(TransversalMark.competency_id)).scalars().all() == [
        scene.competency("CP2").id
    ]


# ----------------------------------------------------------------------------- observations


def test_an_observation_per_phase_is_one_row_and_the_last_text_wins(db, scene):
    scene.clear()
    phase = scene.phase("MSP-PROSPECTION")
    first_id, second_id = new_op(), new_op()

    first = scene.op("observation", phase_id=phase.id, text="Bonne accroche", op_id=first_id)
    second = scene.op(
        "observation", phase_id=phase.id, text="Bonne accroche, relance", op_id=second_id
    )

    assert (first.status, first.result) == ("applied", {"phase_id": phase.id, "length": 14})
    assert second.status == "applied"
    [note] = db.session.execute(select(Observation)).scalars()
    assert (note.jury_member_id, note.candidate_id, note.phase_id, note.competency_id) == (
        scene.juror.id,
        scene.candidate.id,
        phase.id,
        None,
    )
    assert note.text == "Bonne accroche, relance"
    saved = _events(db, "observation_saved")
    assert [(e.op_id, e.before, e.after) for e in saved] == [
        (first_id, None, {"text": "Bonne accroche"}),
        (second_id, {"text": "Bonne accroche"}, {"text": "Bonne accroche, relance"}),
    ]


def test_an_observation_per_competency_is_apart_from_the_phase_note(db, scene):
    scene.clear()
    phase, cp6 = scene.phase("MSP-NEGOCIATION"), scene.competency("CP6").id

    assert scene.op("observation", phase_id=phase.id, text="Phase").status == "applied"
    assert scene.op("observation", competency_id=cp6, text="Compétence").status == "applied"
    assert scene.op("observation", competency_id=cp6, text="Compétence 2").status == "applied"
    # Another juror's note on the same subject is their own row.
    scene.clear(member=scene.other)
    other = scene.op("observation", member=scene.other, competency_id=cp6, text="Autre juré")
    assert other.status == "applied"

    rows = db.session.execute(
        select(
            Observation.jury_member_id,
            Observation.phase_id,
            Observation.competency_id,
            Observation.text,
        ).order_by(Observation.id)
    ).all()
    assert [tuple(r) for r in rows] == [
        (scene.juror.id, phase.id, None, "Phase"),
        (scene.juror.id, None, cp6, "Compétence 2"),
        (scene.other.id, None, cp6, "Autre juré"),
    ]


def test_an_empty_text_clears_the_note_but_keeps_its_history(db, scene):
    scene.clear()
    phase = scene.phase("EF")
    scene.op("observation", phase_id=phase.id, text="Brouillon")
    assert scene.op("observation", phase_id=phase.id, text="").status == "applied"
    assert db.session.execute(select(Observation.text)).scalar_one() == ""
    assert _events(db, "observation_saved")[-1].before == {"text": "Brouillon"}


def test_a_too_long_observation_is_refused(db, scene):
    scene.clear()
    phase = scene.phase("EF")
    longest = "é" * operations.OBSERVATION_MAX

    assert scene.op("observation", phase_id=phase.id, text=longest).status == "applied"
    refused = scene.op("observation", phase_id=phase.id, text=longest + "!")

    assert refused.status == "refused"
    assert refused.message == "Observation trop longue (10000 caractères au plus)."
    assert db.session.execute(select(Observation.text)).scalar_one() == longest


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "Sans sujet"}, "Observation invalide."),
        ({"phase": True, "competency": True, "text": "Deux sujets"}, "Observation invalide."),
        ({"phase": True, "text": None}, "Observation invalide."),
        ({"phase": True, "text": ["liste"]}, "Observation invalide."),
        ({"phase_id": 999_999, "text": "x"}, "Phase inconnue pour ce candidat."),
        ({"competency_id": 999_999, "text": "x"}, "Compétence inconnue pour ce candidat."),
    ],
)
def test_a_malformed_observation_is_refused(db, scene, fields, message):
    scene.clear()
    payload = dict(fields)
    if payload.pop("phase", False):
        payload["phase_id"] = scene.phase("EF").id
    if payload.pop("competency", False):
        payload["competency_id"] = scene.competency("CP3").id
    outcome = scene.op("observation", **payload)
    assert (outcome.status, outcome.message) == ("refused", message)
    assert count(db, Observation) == 0


def test_an_observation_on_a_phase_of_another_format_is_refused(db, ntc, scene):
    scene.clear()
    ccp1 = make_session(ntc, format_code="CCP1", jurors=2, candidates=0)
    foreign = scene.phase("QP-PRESENTATION", session=ccp1)  # same code, CCP1's own phase row

    outcome = scene.op("observation", phase_id=foreign.id, text="x")

    assert (outcome.status, outcome.message) == ("refused", "Phase inconnue pour ce candidat.")


# ----------------------------------------------------------------------------- capitalisation


def test_a_capitalisation_candidate_holding_ccp1_is_graded_on_ccp2_only(db, scene):
    holder = add_candidate(scene.session, route=Route.CAPITALISATION, held_ccp_codes=("CCP1",))
    db.session.commit()
    scene.clear(candidate=holder)

    for code in ("CP1", "CP2", "CP3", "CP4"):
        modality = "QP" if code in ("CP1", "CP2") else "MSP"
        outcome = scene.tick(scene.criterion(code), modality=modality, candidate=holder)
        assert (outcome.status, outcome.message) == ("refused", NOT_IN_GRID), code
    for code, modality in (("CP5", "MSP"), ("CP8", "ET"), ("CP9", "QP")):
        outcome = scene.tick(scene.criterion(code), modality=modality, candidate=holder)
        assert outcome.status == "applied", code
    # Nor through a held competency, nor a note on it.
    transversal = scene.op(
        "transversal",
        candidate=holder,
        transversal_id=scene.transversal("CT1"),
        competency_id=scene.competency("CP3").id,
        observed=True,
    )
    assert (transversal.status, transversal.message) == ("refused", NOT_CARRIED)
    note = scene.op(
        "observation", candidate=holder, competency_id=scene.competency("CP2").id, text="x"
    )
    assert (note.status, note.message) == ("refused", "Compétence inconnue pour ce candidat.")
    assert count(db, Mark, candidate_id=holder.id) == 3


# ----------------------------------------------------------------------------- batch


def test_a_batch_answers_each_operation_in_order(db, scene):
    scene.clear()
    criterion = scene.criterion("CP8")
    tick_id, refused_id, note_id = new_op(), new_op(), new_op()
    phase = scene.phase("MSP-ECHANGE-NEGOCIATION")
    base = {"candidate_id": scene.candidate.id}
    items = [
        {
            "op_id": tick_id,
            "kind": "mark",
            "client_time": "2026-06-01T09:00:00+02:00",
            "payload": {**base, "modality": "MSP", "criterion_id": criterion, "observed": True},
        },
        {"op_id": tick_id, "kind": "mark", "payload": {}},
        {
            "op_id": refused_id,
            "kind": "mark",
            "payload": {**base, "modality": "MSP", "criterion_id": scene.criterion("CP1")},
        },
        {"op_id": "pas-un-uuid", "kind": "mark", "payload": base},
        "pas un objet",
        {
            "op_id": note_id,
            "kind": "observation",
            "payload": {**base, "phase_id": phase.id, "text": "Hors ligne"},
        },
    ]

    outcomes = operations.apply_batch(member=scene.juror, items=items, pending=3)

    assert [(o.op_id, o.status, o.message) for o in outcomes] == [
        (tick_id, "applied", ""),
        (tick_id, "already_applied", ""),
        (refused_id, "refused", NOT_IN_GRID),
        ("pas-un-uuid", "refused", UNKNOWN_OP),
        ("", "refused", "Opération illisible."),
        (note_id, "applied", ""),
    ]
    assert outcomes[1].result == {"criterion_id": criterion, "modality": "MSP", "observed": True}
    assert count(db, Mark) == 1
    assert db.session.execute(select(Observation.text)).scalar_one() == "Hors ligne"
    assert _stored(db, tick_id).client_time == "2026-06-01T09:00:00+02:00"
    assert _stored(db, refused_id).status == OperationStatus.REFUSED
    db.session.expire_all()
    assert scene.juror.device_pending == 3
    assert scene.juror.last_sync_at is not None


@pytest.mark.parametrize("pending", [None, -1, "3", True, 10**7])
def test_a_batch_ignores_a_nonsense_pending_count_but_records_the_sync(db, scene, pending):
    scene.juror.device_pending = 5
    db.session.commit()

    assert operations.apply_batch(member=scene.juror, items=[], pending=pending) == []

    db.session.expire_all()
    assert scene.juror.device_pending == 5
    assert scene.juror.last_sync_at is not None


def test_an_empty_batch_still_records_the_sync(db, scene):
    assert scene.juror.last_sync_at is None
    operations.apply_batch(member=scene.juror, items=[], pending=0)
    db.session.expire_all()
    assert scene.juror.device_pending == 0
    assert scene.juror.last_sync_at is not None
