"""Issuing jurors' links and PINs from the session page, once per form shown. Flush only."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.operations import lock_chain, record_event
from ..auth import operations as auth_ops
from ..auth.operations import IssuedAccess
from ..extensions import db
from ..jury.payloads import is_uuid
from ..models import AuditEvent, ExamSession, JuryMember
from .rules import CentreError

CARDS_ISSUED = "jury_access_cards_issued"


class AlreadyIssued(CentreError):
    """The form was already used: its links and PINs exist and were shown once."""


def issue_access_cards(
    *, session: ExamSession, members: Sequence[JuryMember], op_id: str, actor
) -> list[IssuedAccess]:
    """Issue new links and PINs for `members`, at most once per form (`op_id`, made when the
    session page was shown): reloading the cards page must not invalidate cards just printed."""
    if not is_uuid(op_id):
        raise CentreError(
            _(
                "Ce formulaire d'émission des liens n'est pas valide. Rechargez la page de la "
                "session et recommencez."
            )
        )
    lock_chain()  # the replay check and the event that records the id: one writer at a time
    used = db.session.execute(
        select(AuditEvent.id).where(
            AuditEvent.session_id == session.id,
            AuditEvent.action == CARDS_ISSUED,
            AuditEvent.op_id == op_id,
        )
    ).first()
    if used:
        raise AlreadyIssued(
            _(
                "Ces liens et codes PIN ont déjà été émis : ils ne sont affichés qu'une fois. "
                "Si les cartes n'ont pas été imprimées, réémettez les liens."
            )
        )
    issued = [auth_ops.issue_jury_access(member=member, actor=actor) for member in members]
    record_event(
        action=CARDS_ISSUED,
        actor=actor,
        session_id=session.id,
        target_type="exam_session",
        target_id=session.id,
        after={"members": [member.id for member in members]},
        op_id=op_id,
    )
    return issued
