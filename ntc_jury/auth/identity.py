"""Flask-Login identities: "staff:<id>:<fingerprint>" or "juror:<id>:<fingerprint>".

The fingerprint comes from the credential (password hash, access token hash), so changing a
password or reissuing/revoking a juror's link ends every sign-in made with the old one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache

from flask import current_app
from flask_login import AnonymousUserMixin
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..extensions import db, login_manager
from ..models import JuryMember, StaffUser, utcnow


def fingerprint(secret: str | None) -> str:
    return hashlib.sha256((secret or "").encode()).hexdigest()[:16]


def staff_identity(user: StaffUser) -> str:
    return f"staff:{user.id}:{fingerprint(user.password_hash)}"


def juror_identity(member: JuryMember) -> str:
    return f"juror:{member.id}:{fingerprint(member.access_token_sha256)}"


def juror_access_window(member: JuryMember) -> tuple[dt.date, dt.date]:
    """The link works from the day before the session until N days after its end."""
    session = member.session
    days_after = int(current_app.config["JURY_LINK_DAYS_AFTER"])
    return session.starts_on - dt.timedelta(days=1), session.ends_on + dt.timedelta(days=days_after)


def juror_access_open(member: JuryMember, today: dt.date | None = None) -> bool:
    if member.access_token_sha256 is None or member.access_revoked_at is not None:
        return False
    first, last = juror_access_window(member)
    today = today or utcnow().date()
    return first <= today <= last


def juror_sign_in_lifetime(member: JuryMember) -> dt.timedelta:
    """From now until the end of the link's last valid day."""
    _first, last = juror_access_window(member)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return max(end - utcnow(), dt.timedelta(minutes=1))


class Anonymous(AnonymousUserMixin):
    kind = "anonymous"


login_manager.anonymous_user = Anonymous


@cache
def _juror_statement():
    """Built once; the session rides along: every juror page and operation needs it."""
    return (
        select(JuryMember)
        .where(JuryMember.id == bindparam("id"))
        .options(joinedload(JuryMember.session))
    )


@login_manager.user_loader
def load_identity(identity: str):
    kind, _, rest = identity.partition(":")
    raw_id, _, fp = rest.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "staff":
        user = db.session.get(StaffUser, int(raw_id))
        if user and user.active and fingerprint(user.password_hash) == fp:
            return user
    elif kind == "juror":
        member = db.session.execute(_juror_statement(), {"id": int(raw_id)}).scalar_one_or_none()
        if member and fingerprint(member.access_token_sha256) == fp and juror_access_open(member):
            return member
    return None
