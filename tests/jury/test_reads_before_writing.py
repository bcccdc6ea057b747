"""The juror's operation views read who is asking before they take the writers' lock
(extensions.reads_before_writing): whatever changed in between is what the rules see."""

from __future__ import annotations

import threading

from sqlalchemy import update

from ntc_jury.core.vocabulary import SessionState
from ntc_jury.jury import operations
from ntc_jury.models import ExamSession, JuryMember, Mark, utcnow

from .conftest import count, new_op

DELIBERATION = "La délibération est ouverte : les grilles ne peuvent plus être modifiées."
LOCKED = (
    "La session est verrouillée : les décisions sont signées, plus aucune saisie n'est possible."
)


def _meanwhile(engine, session_id: int, **values) -> None:
    """Another request (the chair's), committed between the juror's read and their write."""

    def chair() -> None:
        with engine.begin() as connection:
            connection.execute(
                update(ExamSession).where(ExamSession.id == session_id).values(**values)
            )

    thread = threading.Thread(target=chair)
    thread.start()
    thread.join()


def _tick(scene, member: JuryMember):
    return operations.apply_operation(
        member=member,
        op_id=new_op(),
        kind="mark",
        payload={
            "candidate_id": scene.candidate.id,
            "modality": "MSP",
            "criterion_id": scene.criterion("CP3"),
            "observed": True,
        },
    )


def test_the_deliberation_opened_after_the_juror_was_read_refuses_the_tick(app, db, scene):
    scene.clear()
    db.session.commit()
    with app.test_request_context("/jury/operations", method="POST"):
        member = db.session.get(JuryMember, scene.juror.id)  # as the sign-in cookie does
        assert member.session.state == SessionState.PLANNED
        _meanwhile(db.engine, scene.session.id, state=SessionState.DELIBERATION.value)

        outcome = _tick(scene, member)
        db.session.commit()

        assert (outcome.status, outcome.locked, outcome.message) == (
            "refused",
            True,
            DELIBERATION,
        )
        # What the fragment is rendered from is what the rules read.
        assert member.session.state == SessionState.DELIBERATION
    assert count(db, Mark) == 0


def test_a_session_locked_after_the_juror_was_read_refuses_an_unknown_candidate_as_locked(
    app, db, scene
):
    """Without a candidate the facts are not read: the lock is read again on its own."""
    db.session.commit()
    with app.test_request_context("/jury/operations", method="POST"):
        member = db.session.get(JuryMember, scene.juror.id)
        assert member.session.locked_at is None
        _meanwhile(db.engine, scene.session.id, locked_at=utcnow())

        outcome = operations.apply_operation(
            member=member, op_id=new_op(), kind="mark", payload={"candidate_id": 0}
        )
        db.session.commit()

        assert (outcome.status, outcome.locked, outcome.message) == ("refused", True, LOCKED)
