"""Writes of centre staff: sessions, jury members, candidates. Flush only; callers commit."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.operations import record_event
from ..core.vocabulary import JuryRole, Route
from ..extensions import db
from ..models import (
    Candidate,
    Ccp,
    Certification,
    ExamSession,
    HeldCcp,
    JuryMember,
    SessionFormat,
)


class CentreError(ValueError):
    """A refused change, with a French message for the person who asked."""


def create_session(
    *,
    certification: Certification,
    format_code: str,
    centre: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    site: str = "",
    rooms: str = "",
    ceres_number: str = "",
    manager_name: str = "",
    actor=None,
) -> ExamSession:
    """Plan an exam session of one format of a referential version."""
    fmt = db.session.execute(
        select(SessionFormat).where(
            SessionFormat.certification_id == certification.id, SessionFormat.code == format_code
        )
    ).scalar_one_or_none()
    if fmt is None:
        raise CentreError(_("Type de session inconnu : %(code)s.", code=format_code))
    ends_on = ends_on or starts_on
    if ends_on < starts_on:
        raise CentreError(_("La date de fin précède la date de début."))
    session = ExamSession(
        certification=certification,
        format=fmt,
        centre=centre,
        site=site,
        rooms=rooms,
        starts_on=starts_on,
        ends_on=ends_on,
        ceres_number=ceres_number,
        manager_name=manager_name,
    )
    db.session.add(session)
    db.session.flush()
    record_event(
        action="session_created",
        actor=actor,
        session_id=session.id,
        target_type="exam_session",
        target_id=session.id,
        after={"format": format_code, "starts_on": starts_on.isoformat()},
    )
    return session


def add_jury_member(
    *,
    session: ExamSession,
    first_name: str,
    last_name: str,
    email: str,
    chair: bool = False,
    habilitation_number: str = "",
    habilitation_valid_until: dt.date | None = None,
    actor=None,
) -> JuryMember:
    """Assign a person to the session's jury; making them chair demotes the previous chair."""
    email = email.strip().lower()
    if any(m.email == email for m in session.jury_members):
        raise CentreError(_("%(email)s fait déjà partie de ce jury.", email=email))
    if chair:
        _demote_chair(session)
    member = JuryMember(
        session=session,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email,
        role=JuryRole.CHAIR if chair else JuryRole.MEMBER,
        habilitation_number=habilitation_number,
        habilitation_valid_until=habilitation_valid_until,
    )
    db.session.add(member)
    db.session.flush()
    record_event(
        action="jury_member_added",
        actor=actor,
        session_id=session.id,
        target_type="jury_member",
        target_id=member.id,
        after={"email": email, "role": member.role.value},
    )
    return member


def set_chair(*, session: ExamSession, member: JuryMember, actor=None) -> None:
    """Make `member` the session's only chair."""
    _demote_chair(session)
    member.role = JuryRole.CHAIR
    db.session.flush()
    record_event(
        action="chair_changed",
        actor=actor,
        session_id=session.id,
        target_type="jury_member",
        target_id=member.id,
    )


def _demote_chair(session: ExamSession) -> None:
    for other in session.jury_members:
        if other.role == JuryRole.CHAIR:
            other.role = JuryRole.MEMBER
    # The one-chair unique index is checked per statement: demote before promoting.
    db.session.flush()


def add_candidate(
    *,
    session: ExamSession,
    candidate_number: str,
    last_name: str,
    first_name: str,
    route: Route,
    birth_date: dt.date | None = None,
    held_ccp_codes: tuple[str, ...] = (),
    disability_arrangements: str = "",
    company_context: str = "",
    actor=None,
    **eligibility,
) -> Candidate:
    """Enrol a candidate in the session."""
    if any(c.candidate_number == candidate_number for c in session.candidates):
        raise CentreError(
            _(
                "Le numéro de candidat %(number)s existe déjà dans cette session.",
                number=candidate_number,
            )
        )
    candidate = Candidate(
        session=session,
        candidate_number=candidate_number,
        last_name=last_name.strip(),
        first_name=first_name.strip(),
        route=route,
        birth_date=birth_date,
        disability_arrangements=disability_arrangements,
        company_context=company_context,
        schedule_position=len(session.candidates),
        **eligibility,
    )
    db.session.add(candidate)
    db.session.flush()
    for code in held_ccp_codes:
        ccp = db.session.execute(
            select(Ccp).where(Ccp.certification_id == session.certification_id, Ccp.code == code)
        ).scalar_one_or_none()
        if ccp is None:
            raise CentreError(_("CCP inconnu : %(code)s.", code=code))
        db.session.add(HeldCcp(candidate=candidate, ccp=ccp))
    db.session.flush()
    record_event(
        action="candidate_added",
        actor=actor,
        session_id=session.id,
        target_type="candidate",
        target_id=candidate.id,
        after={"candidate_number": candidate_number, "route": route.value},
    )
    return candidate
