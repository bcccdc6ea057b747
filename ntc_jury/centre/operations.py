"""Writes of centre staff: sessions and their state, jury members. Flush only; callers commit.

Candidates are in candidate_operations.py, the timetable in schedule_operations.py.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.operations import record_event
from ..core.vocabulary import JuryRole, SessionState, can_transition
from ..extensions import db
from ..labels import SESSION_STATE_LABELS
from ..models import (
    Certification,
    ExamSession,
    JuryMember,
    SessionFormat,
    StaffUser,
)
from .candidate_operations import add_candidate, update_candidate
from .rules import PREPARING, CentreError, ensure_preparing
from .schedule_operations import drop_timetable

# Moves the centre makes itself; the others follow the jury's deliberation (chair, signatures).
STAFF_TRANSITIONS = frozenset(
    {
        (SessionState.PLANNED, SessionState.IN_PROGRESS),
        (SessionState.IN_PROGRESS, SessionState.PLANNED),
        (SessionState.CLOSED, SessionState.ARCHIVED),
    }
)

__all__ = [
    "PREPARING",
    "STAFF_TRANSITIONS",
    "CentreError",
    "add_candidate",
    "add_jury_member",
    "change_state",
    "create_session",
    "ensure_preparing",
    "set_chair",
    "update_candidate",
    "update_jury_member",
    "update_session",
]


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
    manager: StaffUser | None = None,
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
        centre=centre.strip(),
        site=site.strip(),
        rooms=rooms.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        ceres_number=ceres_number.strip(),
        manager_id=manager.id if manager else None,
        manager_name=manager_name.strip() or (manager.name if manager else ""),
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


def update_session(
    *,
    session: ExamSession,
    format: SessionFormat,
    centre: str,
    starts_on: dt.date,
    ends_on: dt.date | None,
    site: str = "",
    rooms: str = "",
    ceres_number: str = "",
    manager: StaffUser | None = None,
    manager_name: str = "",
    actor=None,
) -> None:
    """Correct a session's details; changing its format drops the timetable made for the old one."""
    if session.state in (SessionState.CLOSED, SessionState.ARCHIVED):
        raise CentreError(_("La session est close : elle ne peut plus être modifiée."))
    ends_on = ends_on or starts_on
    if ends_on < starts_on:
        raise CentreError(_("La date de fin précède la date de début."))
    if format.id != session.format_id:
        if session.state != SessionState.PLANNED:
            raise CentreError(
                _("Le type de session ne peut changer que tant que la session est planifiée.")
            )
        _check_candidates_fit(session, format)
        drop_timetable(session)
    before, after = {}, {}
    if format.id != session.format_id:
        before["format"], after["format"] = session.format.code, format.code
        if format.certification_id != session.certification_id:
            _move_held_ccps(session, format.certification)
        session.format = format
        session.certification = format.certification
    values = {
        "centre": centre.strip(),
        "site": site.strip(),
        "rooms": rooms.strip(),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "ceres_number": ceres_number.strip(),
        "manager_id": manager.id if manager else None,
        "manager_name": manager_name.strip() or (manager.name if manager else ""),
    }
    changed_before, changed_after = _apply(session, values)
    before, after = before | changed_before, after | changed_after
    db.session.flush()
    if after:
        record_event(
            action="session_updated",
            actor=actor,
            session_id=session.id,
            target_type="exam_session",
            target_id=session.id,
            before=before,
            after=after,
        )


def _check_candidates_fit(session: ExamSession, format: SessionFormat) -> None:
    """Refuse a new format that would make candidates' files invalid, the way the candidate
    form and the import refuse them: a held CCP that is the new session's own CCP, or that
    the new referential version does not have. Names who, so staff can correct them first."""
    codes = {ccp.code for ccp in format.certification.ccps}
    own = format.ccp.code if format.ccp is not None else None
    own_held, unknown = {}, {}
    for candidate in session.candidates:
        for held in candidate.held_ccps:
            if held.ccp.code == own:
                own_held.setdefault(held.ccp.code, []).append(candidate.full_name)
            elif held.ccp.code not in codes:
                unknown.setdefault(held.ccp.code, []).append(candidate.full_name)
    problems = [
        _(
            "%(code)s est le CCP de cette session : il ne peut pas être déjà acquis (%(names)s).",
            code=code,
            names=", ".join(names),
        )
        for code, names in own_held.items()
    ] + [
        _(
            "%(code)s n'existe pas dans ce référentiel (CCP déjà acquis par %(names)s).",
            code=code,
            names=", ".join(names),
        )
        for code, names in unknown.items()
    ]
    if problems:
        raise CentreError(
            " ".join(
                [
                    _("Ce type de session ne convient pas à certains candidats :"),
                    *problems,
                    _("Corrigez d'abord leur dossier (CCP déjà acquis), puis changez le type."),
                ]
            )
        )


def _move_held_ccps(session: ExamSession, certification: Certification) -> None:
    """Held CCPs point to the CCP of the same code in the session's new referential version
    (_check_candidates_fit made sure it exists)."""
    by_code = {ccp.code: ccp for ccp in certification.ccps}
    for candidate in session.candidates:
        for held in candidate.held_ccps:
            held.ccp = by_code[held.ccp.code]


def change_state(*, session: ExamSession, target: SessionState, actor=None) -> None:
    """Move the session along its life cycle, only by the allowed transitions."""
    current = session.state
    labels = {"current": SESSION_STATE_LABELS[current], "target": SESSION_STATE_LABELS[target]}
    if target == current:
        raise CentreError(_("La session est déjà « %(current)s ».", **labels))
    if not can_transition(current, target):
        raise CentreError(
            _("Une session « %(current)s » ne peut pas passer à « %(target)s ».", **labels)
        )
    if (current, target) not in STAFF_TRANSITIONS:
        raise CentreError(_jury_owned_reason(target))
    if target == SessionState.IN_PROGRESS:
        _check_ready_to_start(session)
    session.state = target
    db.session.flush()
    record_event(
        action="session_state_changed",
        actor=actor,
        session_id=session.id,
        target_type="exam_session",
        target_id=session.id,
        before={"state": current.value},
        after={"state": target.value},
    )


def _jury_owned_reason(target: SessionState) -> str:
    if target == SessionState.DELIBERATION:
        return _(
            "La délibération est ouverte par le président du jury depuis son appareil "
            "(réouverture comprise, avec un motif)."
        )
    return _("La session est close d'elle-même quand tous les jurés présents ont signé.")


def _check_ready_to_start(session: ExamSession) -> None:
    members = session.jury_members
    problems = []
    if len(members) < 2:
        problems.append(_("Le jury doit compter au moins 2 membres."))
    if not any(m.role == JuryRole.CHAIR for m in members):
        problems.append(_("Désignez le président du jury."))
    if not session.candidates:
        problems.append(_("Ajoutez au moins un candidat."))
    if problems:
        raise CentreError(" ".join([_("La session ne peut pas démarrer :"), *problems]))


def _apply(obj, values: dict) -> tuple[dict, dict]:
    """Set the changed attributes; returns what they were and what they are (JSON-ready)."""
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            before[name], after[name] = _jsonable(old), _jsonable(value)
            setattr(obj, name, value)
    return before, after


def _jsonable(value):
    return value.isoformat() if isinstance(value, dt.date) else value


# --------------------------------------------------------------------------- jury


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
    ensure_preparing(session)
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
        habilitation_number=habilitation_number.strip(),
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


def update_jury_member(
    *,
    member: JuryMember,
    first_name: str,
    last_name: str,
    email: str,
    habilitation_number: str = "",
    habilitation_valid_until: dt.date | None = None,
    present: bool | None = None,
    actor=None,
) -> None:
    """Correct a juror's name, e-mail or habilitation, or record them absent on exam day
    (an absent juror neither scores nor signs; the deliberation needs 2 present)."""
    ensure_preparing(member.session)
    email = email.strip().lower()
    if any(m.email == email and m.id != member.id for m in member.session.jury_members):
        raise CentreError(_("%(email)s fait déjà partie de ce jury.", email=email))
    if present is False and member.is_chair:
        raise CentreError(
            _("Le président du jury ne peut pas être absent : désignez d'abord un autre président.")
        )
    values = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "email": email,
        "habilitation_number": habilitation_number.strip(),
        "habilitation_valid_until": habilitation_valid_until,
    }
    if present is not None:
        values["present"] = present
    before, after = _apply(member, values)
    db.session.flush()
    if after:
        record_event(
            action="jury_member_updated",
            actor=actor,
            session_id=member.session_id,
            target_type="jury_member",
            target_id=member.id,
            before=before,
            after=after,
        )


def set_chair(*, session: ExamSession, member: JuryMember, actor=None) -> None:
    """Make `member` the session's only chair."""
    ensure_preparing(session)
    if not member.present:
        raise CentreError(_("Un juré absent ne peut pas présider le jury."))
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
