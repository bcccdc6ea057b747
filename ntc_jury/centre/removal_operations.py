"""Removing a candidate or a juror added by mistake, while nothing is recorded about them.
Flush only.

Once the exam day has left a trace (a tick, a note, a grid, a conflict declaration, a
presence, an operation from the juror's phone, a decision…), the person stays: the record is
never edited after the fact; staff mark the candidate absent or withdrawn, or the juror
absent, instead. The audit log keeps the removed row.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, exists, or_, select

from ..audit.operations import record_event
from ..core.vocabulary import Presence
from ..extensions import db
from ..models import (
    AppliedOperation,
    Candidate,
    CandidateIncident,
    ConflictDeclaration,
    GridCompletion,
    JuryMember,
    Mark,
    MinutesDocument,
    Observation,
    ScheduleSlot,
    TransversalMark,
)
from .rules import CentreError, ensure_preparing

# What the exam day records about a candidate or a juror, by the column naming them.
_RECORDS = (Mark, TransversalMark, GridCompletion, Observation, ConflictDeclaration)


def candidate_removal_refusal(candidate: Candidate) -> str | None:
    """Why this candidate can no longer be removed; None while they can."""
    about_them = [model.candidate_id == candidate.id for model in _RECORDS]
    recorded = db.session.execute(
        select(
            or_(
                *(exists().where(clause) for clause in about_them),
                exists().where(CandidateIncident.candidate_id == candidate.id),
                exists().where(MinutesDocument.candidate_id == candidate.id),
            )
        )
    ).scalar()
    if recorded or candidate.presence != Presence.EXPECTED:
        return _(
            "Ce candidat ne peut plus être retiré : le jour de l'examen a déjà été enregistré "
            "pour lui. Indiquez-le absent ou en abandon, avec les circonstances."
        )
    return None


def remove_candidate(*, candidate: Candidate, actor) -> None:
    session = candidate.session
    ensure_preparing(session)
    refusal = candidate_removal_refusal(candidate)
    if refusal:
        raise CentreError(refusal)
    before = _row(candidate)
    before["held_ccps"] = sorted(h.ccp.code for h in candidate.held_ccps)
    for held in list(candidate.held_ccps):
        db.session.delete(held)
    db.session.flush()
    db.session.expire(candidate, ["held_ccps"])
    db.session.execute(delete(ScheduleSlot).where(ScheduleSlot.candidate_id == candidate.id))
    db.session.delete(candidate)
    db.session.flush()
    record_event(
        action="candidate_removed",
        actor=actor,
        session_id=session.id,
        target_type="candidate",
        target_id=before["id"],
        before=before,
    )


def member_removal_refusal(member: JuryMember) -> str | None:
    """Why this juror can no longer be removed; None while they can."""
    if member.is_chair:
        return _(
            "Le président du jury ne peut pas être retiré : nommez d'abord un autre président."
        )
    by_them = [model.jury_member_id == member.id for model in (*_RECORDS, AppliedOperation)]
    recorded = db.session.execute(
        select(or_(*(exists().where(clause) for clause in by_them)))
    ).scalar()
    if recorded or not member.present:
        return _(
            "Ce membre du jury ne peut plus être retiré : il a déjà enregistré des saisies "
            "(ou son absence est consignée). Indiquez-le absent si besoin."
        )
    return None


def remove_jury_member(*, member: JuryMember, actor) -> None:
    session = member.session
    ensure_preparing(session)
    refusal = member_removal_refusal(member)
    if refusal:
        raise CentreError(refusal)
    before = _row(member)
    for secret in ("pin_hash", "access_token_sha256"):
        before.pop(secret, None)
    db.session.delete(member)
    db.session.flush()
    record_event(
        action="jury_member_removed",
        actor=actor,
        session_id=session.id,
        target_type="jury_member",
        target_id=before["id"],
        before=before,
    )


def _row(obj) -> dict:
    """The row's columns as JSON-friendly values, for the audit log."""
    values = {}
    for column in obj.__table__.columns:
        value = getattr(obj, column.key)
        values[column.key] = (
            value.value
            if hasattr(value, "value")
            else (value.isoformat() if hasattr(value, "isoformat") else value)
        )
    return values
