"""Flask-Login identities: "staff:<id>:<fingerprint>" or "juror:<id>:<fingerprint>".

The fingerprint comes from the credential (password hash, access token hash) and the number
of times the person signed out, so changing a password, reissuing/revoking a juror's link or
signing out ends every sign-in made before (the session and remember cookies carry the old
fingerprint: a copied cookie stops working too).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache

from flask import current_app
from flask_login import AnonymousUserMixin
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..extensions import db, login_manager
from ..models import JuryMember, StaffUser, utcnow


def fingerprint(secret: str | None, sign_outs: int | None = 0) -> str:
    # Before any sign-out, the credential alone: sign-ins made before this counter existed
    # stay valid.
    text = secret or ""
    if sign_outs:
        text = f"{text}#{sign_outs}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def staff_fingerprint(user: StaffUser) -> str:
    return fingerprint(user.password_hash, user.sign_out_count)


def juror_fingerprint(member: JuryMember) -> str:
    return fingerprint(member.access_token_sha256, member.sign_out_count)


def staff_identity(user: StaffUser) -> str:
    return f"staff:{user.id}:{staff_fingerprint(user)}"


def juror_identity(member: JuryMember) -> str:
    return f"juror:{member.id}:{juror_fingerprint(member)}"


def juror_access_window(member: JuryMember) -> tuple[dt.date, dt.date]:
    """The link works from the day before the session until N days after its end."""
    session = member.session
    days_after = int(current_app.config["JURY_LINK_DAYS_AFTER"])
    return session.starts_on - dt.timedelta(days=1), session.ends_on + dt.timedelta(days=days_after)


@dataclass(frozen=True)
class LinkRefusal:
    """Why a juror's own link does not open today, with the days it works."""

    reason: str  # "revoked", "not_yet" or "expired"
    first_day: dt.date
    last_day: dt.date


def juror_link_refusal(member: JuryMember, today: dt.date | None = None) -> LinkRefusal | None:
    """None when the link opens today; else why not (revoked first: dates do not matter then)."""
    first, last = juror_access_window(member)
    if member.access_token_sha256 is None or member.access_revoked_at is not None:
        return LinkRefusal("revoked", first, last)
    today = today or utcnow().date()
    if today < first:
        return LinkRefusal("not_yet", first, last)
    if today > last:
        return LinkRefusal("expired", first, last)
    return None


def juror_access_open(member: JuryMember, today: dt.date | None = None) -> bool:
    return juror_link_refusal(member, today) is None


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
        if user and user.active and staff_fingerprint(user) == fp:
            return user
    elif kind == "juror":
        member = db.session.execute(_juror_statement(), {"id": int(raw_id)}).scalar_one_or_none()
        if member and juror_fingerprint(member) == fp and juror_access_open(member):
            return member
    return None
