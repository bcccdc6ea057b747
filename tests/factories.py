"""Builders for test data, through the same operations the app uses."""

from __future__ import annotations

import datetime as dt
import itertools

from ntc_jury.auth import operations as auth_ops
from ntc_jury.centre import operations as centre_ops
from ntc_jury.core.vocabulary import Route, StaffRole
from ntc_jury.extensions import db
from ntc_jury.models import Certification, ExamSession, utcnow

_counter = itertools.count(1)
STAFF_PASSWORD = "correct horse battery"


def make_session(
    certification: Certification,
    *,
    format_code: str = "TITLE",
    starts_on: dt.date | None = None,
    jurors: int = 2,
    candidates: int = 2,
    centre: str = "Centre de test",
) -> ExamSession:
    """A session with `jurors` members (the first is chair) and `candidates` candidates."""
    session = centre_ops.create_session(
        certification=certification,
        format_code=format_code,
        centre=centre,
        starts_on=starts_on or utcnow().date(),
        ceres_number=f"T-{next(_counter):05d}",
    )
    for index in range(jurors):
        n = next(_counter)
        centre_ops.add_jury_member(
            session=session,
            first_name=f"Juré{n}",
            last_name=f"Test{n}",
            email=f"jure{n}@example.org",
            chair=index == 0,
        )
    for index in range(candidates):
        add_candidate(session, route=Route.CAPITALISATION if index == 2 else Route.TRAINING)
    db.session.flush()
    return session


def add_candidate(session: ExamSession, *, route: Route = Route.TRAINING, **fields):
    n = next(_counter)
    defaults = {
        "candidate_number": f"C{n:05d}",
        "last_name": f"Candidat{n}",
        "first_name": "Prénom",
        "birth_date": dt.date(1990, 1, 1),
    }
    defaults.update(fields)
    return centre_ops.add_candidate(session=session, route=route, **defaults)


def issue_access(member) -> auth_ops.IssuedAccess:
    return auth_ops.issue_jury_access(member=member, actor=None)


def make_staff(*, admin: bool = False, email: str | None = None, password: str = STAFF_PASSWORD):
    return auth_ops.create_staff(
        email=email or f"staff{next(_counter)}@example.org",
        name="Personnel Test",
        password=password,
        role=StaffRole.ADMIN if admin else StaffRole.STAFF,
    )


def sign_in_juror(client, issued: auth_ops.IssuedAccess):
    """Open the juror's link and type the PIN with the test client."""
    return client.post(f"/j/{issued.token}", data={"pin": issued.pin})


def sign_in_staff(client, user, password: str = STAFF_PASSWORD):
    return client.post("/connexion", data={"email": user.email, "password": password})
