"""The demo session: a titre complet dated today, its jury and candidates, ready to try."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select

from .auth import operations as auth_ops
from .centre import operations as centre_ops
from .core.vocabulary import Route, StaffRole
from .extensions import db
from .models import Certification, ExamSession, StaffUser

DEMO_FILE = Path(__file__).resolve().parent.parent / "seed" / "demo" / "session.yaml"


@dataclass(frozen=True)
class DemoLogins:
    session: ExamSession
    staff_email: str
    staff_password: str
    jurors: list[auth_ops.IssuedAccess]


def seed_demo(*, today: dt.date, path: Path = DEMO_FILE) -> DemoLogins:
    """Create the demo session (or move it to today), with fresh links, PINs and password.

    Running it again keeps what was recorded in the demo session; only credentials change,
    because they are stored hashed and can only be shown when made.
    """
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    ref = spec["referential"]
    certification = db.session.execute(
        select(Certification).where(
            Certification.code == ref["code"], Certification.version == str(ref["version"])
        )
    ).scalar_one_or_none()
    if certification is None:
        raise centre_ops.CentreError(
            f"Le référentiel {ref['code']} v{ref['version']} n'est pas chargé : "
            "lancez d'abord « flask --app wsgi referential load »."
        )
    staff, password = _demo_staff(spec["staff"])
    session = db.session.execute(
        select(ExamSession).where(ExamSession.ceres_number == spec["ceres_number"])
    ).scalar_one_or_none()
    if session is None:
        session = _create_demo_session(spec, certification, today, staff)
    else:
        session.starts_on = session.ends_on = today
    jurors = [auth_ops.issue_jury_access(member=m, actor=staff) for m in session.jury_members]
    db.session.flush()
    return DemoLogins(session, staff.email, password, jurors)


def _demo_staff(spec: dict) -> tuple[StaffUser, str]:
    password = secrets.token_urlsafe(12)
    user = db.session.execute(
        select(StaffUser).where(StaffUser.email == spec["email"])
    ).scalar_one_or_none()
    if user is None:
        user = auth_ops.create_staff(
            email=spec["email"], name=spec["name"], password=password, role=StaffRole.ADMIN
        )
    else:
        auth_ops.reset_staff_password(user=user, password=password, actor=None)
        user.active = True
    return user, password


def _create_demo_session(spec, certification, today, staff) -> ExamSession:
    session = centre_ops.create_session(
        certification=certification,
        format_code=spec["format"],
        centre=spec["centre"],
        starts_on=today,
        site=spec["site"],
        rooms=spec["rooms"],
        ceres_number=spec["ceres_number"],
        manager_name=spec["manager_name"],
        actor=staff,
    )
    for juror in spec["jury"]:
        centre_ops.add_jury_member(
            session=session,
            first_name=juror["first_name"],
            last_name=juror["last_name"],
            email=juror["email"],
            chair=juror.get("chair", False),
            habilitation_number=juror["habilitation_number"],
            habilitation_valid_until=today + dt.timedelta(days=juror["habilitation_valid_days"]),
            actor=staff,
        )
    for raw in spec["candidates"]:
        fields = dict(raw)
        held = tuple(fields.pop("held_ccps", ()))
        fields["route"] = Route(fields["route"])
        centre_ops.add_candidate(session=session, held_ccp_codes=held, actor=staff, **fields)
    return session
