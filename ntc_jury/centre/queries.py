"""Reads for centre staff (who see every session of their centre)."""

from __future__ import annotations

import datetime as dt

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.candidate_rows import SessionContext, number_key, person_key
from ..core.eligibility import CandidateFile, Check, FormatRules, checklist
from ..extensions import db
from ..models import (
    Candidate,
    Certification,
    ExamSession,
    HeldCcp,
    JuryBreak,
    JuryMember,
    Phase,
    ScheduleSlot,
    SessionFormat,
    StaffUser,
)


def all_sessions() -> list[ExamSession]:
    return list(
        db.session.execute(
            select(ExamSession)
            .options(selectinload(ExamSession.format), selectinload(ExamSession.certification))
            .order_by(ExamSession.starts_on.desc(), ExamSession.id.desc())
        ).scalars()
    )


def session_or_404(session_id: int) -> ExamSession:
    """The session with its jury, its candidates (and their held CCPs) and its format."""
    session = db.session.execute(
        select(ExamSession)
        .where(ExamSession.id == session_id)
        .options(
            selectinload(ExamSession.jury_members),
            selectinload(ExamSession.candidates)
            .selectinload(Candidate.held_ccps)
            .selectinload(HeldCcp.ccp),
            selectinload(ExamSession.format).selectinload(SessionFormat.phases),
            selectinload(ExamSession.certification).selectinload(Certification.ccps),
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


def candidate_or_404(session_id: int, candidate_id: int) -> Candidate:
    """A candidate of that session only: ids from another session are 404."""
    candidate = db.session.execute(
        select(Candidate)
        .where(Candidate.id == candidate_id, Candidate.session_id == session_id)
        .options(selectinload(Candidate.held_ccps).selectinload(HeldCcp.ccp))
    ).scalar_one_or_none()
    if candidate is None:
        abort(404)
    return candidate


def format_choices() -> list[SessionFormat]:
    """Every format of every loaded referential version, newest version first."""
    return list(
        db.session.execute(
            select(SessionFormat)
            .join(Certification, Certification.id == SessionFormat.certification_id)
            .options(selectinload(SessionFormat.certification))
            .order_by(Certification.code, Certification.version.desc(), SessionFormat.position)
        ).scalars()
    )


def format_or_none(format_id: int | None) -> SessionFormat | None:
    return db.session.get(SessionFormat, format_id) if format_id else None


def staff_choices() -> list[StaffUser]:
    return list(
        db.session.execute(
            select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.name)
        ).scalars()
    )


def staff_or_none(user_id: int | None) -> StaffUser | None:
    return db.session.get(StaffUser, user_id) if user_id else None


def import_context(session: ExamSession, today: dt.date) -> SessionContext:
    """What an imported file is checked against, read in one query whatever its size."""
    rows = db.session.execute(
        select(
            Candidate.candidate_number,
            Candidate.last_name,
            Candidate.first_name,
            Candidate.birth_date,
        ).where(Candidate.session_id == session.id)
    ).all()
    fmt = session.format
    return SessionContext(
        today=today,
        ccp_codes=tuple(ccp.code for ccp in session.certification.ccps),
        session_ccp=fmt.ccp.code if fmt.ccp is not None else None,
        numbers=frozenset(number_key(r.candidate_number) for r in rows),
        people=frozenset(
            person_key(r.last_name, r.first_name, r.birth_date) for r in rows if r.birth_date
        ),
    )


# --------------------------------------------------------------------------- eligibility


def format_rules(fmt: SessionFormat) -> FormatRules:
    return FormatRules(
        company_hours=fmt.company_hours,
        pages_min=fmt.document_pages_min,
        pages_max=fmt.document_pages_max,
        slides_min=fmt.slides_min,
        slides_max=fmt.slides_max,
    )


def candidate_file(candidate: Candidate) -> CandidateFile:
    return CandidateFile(
        route=candidate.route,
        company_hours=candidate.company_hours,
        company_proof_received=candidate.company_proof_received,
        dossier_received=candidate.dossier_received,
        production_received=candidate.production_received,
        production_pages=candidate.production_pages,
        production_slides=candidate.production_slides,
        ecf_passed=candidate.ecf_passed,
    )


def eligibility_checklist(candidate: Candidate, fmt: SessionFormat) -> tuple[Check, ...]:
    """The candidate's checklist; no query beyond the candidate and the format already loaded."""
    return checklist(candidate_file(candidate), format_rules(fmt))


# --------------------------------------------------------------------------- timetable


def session_slots(session_id: int) -> list[ScheduleSlot]:
    """Every slot of the session in time order, with its phase (two queries)."""
    return list(
        db.session.execute(
            select(ScheduleSlot)
            .join(Candidate, Candidate.id == ScheduleSlot.candidate_id)
            .join(Phase, Phase.id == ScheduleSlot.phase_id)
            .where(Candidate.session_id == session_id)
            .options(selectinload(ScheduleSlot.phase))
            .order_by(ScheduleSlot.starts_at, Phase.position, Candidate.schedule_position)
        ).scalars()
    )


def candidate_slots(candidate: Candidate) -> list[ScheduleSlot]:
    return list(
        db.session.execute(
            select(ScheduleSlot)
            .join(Phase, Phase.id == ScheduleSlot.phase_id)
            .where(ScheduleSlot.candidate_id == candidate.id)
            .options(selectinload(ScheduleSlot.phase))
            .order_by(ScheduleSlot.starts_at, Phase.position)
        ).scalars()
    )


def session_breaks(session_id: int) -> list[JuryBreak]:
    return list(
        db.session.execute(
            select(JuryBreak)
            .where(JuryBreak.session_id == session_id)
            .order_by(JuryBreak.starts_at)
        ).scalars()
    )
