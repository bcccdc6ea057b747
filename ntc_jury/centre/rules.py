"""What every centre write checks first, and the error it raises with a French message."""

from __future__ import annotations

from flask_babel import gettext as _

from ..core.vocabulary import SessionState
from ..labels import SESSION_STATE_LABELS
from ..models import ExamSession

# While these hold, the centre still prepares the day: jury, candidates, timetable.
PREPARING = frozenset({SessionState.PLANNED, SessionState.IN_PROGRESS})


class CentreError(ValueError):
    """A refused change, with a French message for the person who asked."""


def ensure_preparing(session: ExamSession) -> None:
    """Refuse changes to the jury, candidates or timetable once the deliberation has begun."""
    if session.state not in PREPARING or session.locked_at is not None:
        raise CentreError(
            _(
                "La session est « %(state)s » : le jury, les candidats et le planning ne "
                "peuvent plus être modifiés.",
                state=SESSION_STATE_LABELS[session.state],
            )
        )
