"""The juror's operation views read who is asking before they take the writers' lock on
PostgreSQL (extensions.reads_before_writing): whatever changed in between is what the rules
see. On SQLite the juror's first read already holds the write turn: nothing can change in
between, and the chair's write waits."""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import update

from ntc_jury.core.vocabulary import SessionState
from ntc_jury.jury import operations
from ntc_jury.models import ExamSession, JuryMember, Mark, utcnow

from .conftest import count, new_op

DELIBERATION = "La délibération est ouverte : les grilles ne peuvent plus être modifiées."
UNKNOWN = "Candidat inconnu dans votre session."
LOCKED = (
    "La session est verrouillée : les décisions sont signées, plus aucune saisie n'est possible."
)


def _chair_meanwhile(db, session_id: int, **values) -> bool:
    """The chair's request tries to commit between the juror's read and their operation;
    True when it did."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return False
        finally:
            other.close()
        raise AssertionError("the juror's read did not hold the write turn")

    def chair() -> None:
        with engine.begin() as connection:
            connection.execute(
                update(ExamSession).where(ExamSession.id == session_id).values(**values)
            )

    thread = threading.Thread(target=chair)
    thread.start()
    thread.join()
    return True


def _tick(scene, member: JuryMember, **payload):
    payload = {
        "candidate_id": scene.candidate.id,
        "modality": "MSP",
        "criterion_id": scene.criterion("CP3"),
        "observed": True,
        **payload,
    }
    return operations.apply_operation(member=member, op_id=new_op(), kind="mark", payload=payload)


def test_the_deliberation_opened_after_the_juror_was_read_refuses_the_tick(app, db, scene):
    scene.clear()
    db.session.commit()
    with app.test_request_context("/jury/operations", method="POST"):
        member = db.session.get(JuryMember, scene.juror.id)  # as the sign-in cookie does
        assert member.session.state == SessionState.PLANNED
        opened = _chair_meanwhile(db, scene.session.id, state=SessionState.DELIBERATION.value)

        outcome = _tick(scene, member)
        db.session.commit()

        if opened:
            assert (outcome.status, outcome.locked, outcome.message) == (
                "refused",
                True,
                DELIBERATION,
            )
            # What the fragment is rendered from is what the rules read.
            assert member.session.state == SessionState.DELIBERATION
        else:
            assert outcome.status == "applied"  # the chair's request comes after it
    assert count(db, Mark) == (0 if opened else 1)


def test_a_session_locked_after_the_juror_was_read_refuses_an_unknown_candidate_as_locked(
    app, db, scene
):
    """Without a candidate the facts are not read: the lock is read again on its own."""
    db.session.commit()
    with app.test_request_context("/jury/operations", method="POST"):
        member = db.session.get(JuryMember, scene.juror.id)
        assert member.session.locked_at is None
        locked = _chair_meanwhile(db, scene.session.id, locked_at=utcnow())

        outcome = _tick(scene, member, candidate_id=0)
        db.session.commit()

        expected = ("refused", True, LOCKED) if locked else ("refused", False, UNKNOWN)
        assert (outcome.status, outcome.locked, outcome.message) == expected
