"""Reads for centre staff (who see every session of their centre)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ExamSession, JuryMember


def all_sessions() -> list[ExamSession]:
    return list(
        db.session.execute(
            select(ExamSession)
            .options(selectinload(ExamSession.format), selectinload(ExamSession.certification))
            .order_by(ExamSession.starts_on.desc(), ExamSession.id.desc())
        ).scalars()
    )


def session_or_404(session_id: int) -> ExamSession:
    session = db.session.execute(
        select(ExamSession)
        .where(ExamSession.id == session_id)
        .options(
            selectinload(ExamSession.jury_members),
            selectinload(ExamSession.candidates),
            selectinload(ExamSession.format),
            selectinload(ExamSession.certification),
        )
    ).scalar_one_or_none()
    if session is None:
        abort(404)
    return session


def member_or_404(session_id: int, member_id: int) -> JuryMember:
    """A jury member of that session only: ids from another session are 404."""
    member = db.session.execute(
        select(JuryMember).where(JuryMember.id == member_id, JuryMember.session_id == session_id)
    ).scalar_one_or_none()
    if member is None:
        abort(404)
    return member
