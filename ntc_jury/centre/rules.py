"""What every centre write checks first, and the error it raises with a French message."""

from __future__ import annotations

from flask_babel import gettext as _

from ..core.vocabulary import SessionState
from ..models import ExamSession

# While these hold, the centre still prepares the day: jury, candidates, timetable.
PREPARING = frozenset({SessionState.PLANNED, SessionState.IN_PROGRESS})


class CentreError(ValueError):
    """A refused change, with a French message for the person who asked."""


def ensure_preparing(session: ExamSession) -> None:
    """Refuse changes to the jury, candidates or timetable once the deliberation has begun."""
    # The same reason the pages give: a locked record says it is locked, whatever its state.
    if reason := preparation_refusal(session):
        raise CentreError(reason)


def edit_refusal(session: ExamSession) -> str | None:
    """Why the session's own details can no longer be changed; None while they can.

    Said before staff type anything: the write itself is refused (locking.py, update_session).
    """
    if session.state == SessionState.ARCHIVED:
        return _("La session est archivée : plus rien ne peut y être modifié.")
    if session.locked_at is not None or session.state == SessionState.CLOSED:
        return _(
            "La session est verrouillée : toutes les signatures sont recueillies et elle ne "
            "peut plus être modifiée. Seul le président du jury peut rouvrir la délibération "
            "pour une correction."
        )
    return None


def preparation_refusal(session: ExamSession) -> str | None:
    """Why the jury, the candidates and the timetable can no longer be changed (see
    ensure_preparing); None while they can."""
    reason = edit_refusal(session)
    if reason is None and session.state not in PREPARING:
        reason = _(
            "La délibération est commencée : le jury, les candidats et le planning ne peuvent "
            "plus être modifiés."
        )
    return reason
