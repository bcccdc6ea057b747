"""Reads for a signed-in juror, always scoped to their own exam session."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Candidate, JuryMember


def session_candidates(member: JuryMember) -> list[Candidate]:
    """The juror's session's candidates in schedule order."""
    return list(
        db.session.execute(
            select(Candidate)
            .where(Candidate.session_id == member.session_id)
            .order_by(Candidate.schedule_position, Candidate.last_name, Candidate.id)
        ).scalars()
    )
