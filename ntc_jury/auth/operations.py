"""Writes of the auth feature: sign-ins, jury access links, staff accounts. Flush only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from ..audit.operations import record_event
from ..core.vocabulary import ActorKind, StaffRole
from ..extensions import db
from ..models import JuryMember, StaffUser, utcnow
from . import credentials, throttle
from .identity import juror_access_open


class SignInRefused(Exception):
    """A sign-in attempt failed; `message` is shown to the person, in French."""

    def __init__(self, message: str, retry_after: int = 0):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedAccess:
    """What staff hand to a juror once: the link token and the PIN are never stored in clear."""

    member: JuryMember
    token: str
    pin: str


def _check_throttle(keys: list[str], *, say: Callable[[throttle.Wait], str] | None = None) -> None:
    """Refuses the attempt while the keys must wait; `say(wait)` words it (default: the wait)."""
    wait = throttle.wait_before_retry(keys)
    if wait.seconds:
        message = say(wait) if say else _wait_message(wait.seconds)
        raise SignInRefused(message, retry_after=wait.seconds)


def _wait_message(wait: int) -> str:
    """Seconds while they count, whole minutes (rounded up) for a block: "900 secondes"
    read as a puzzle on a phone."""
    if wait < 120:
        return ngettext(
            "Trop de tentatives. Réessayez dans %(num)s seconde.",
            "Trop de tentatives. Réessayez dans %(num)s secondes.",
            wait,
        )
    return ngettext(
        "Trop de tentatives. Réessayez dans %(num)s minute.",
        "Trop de tentatives. Réessayez dans %(num)s minutes.",
        -(-wait // 60),
    )


def _juror_wait_message(wait: throttle.Wait) -> str:
    """A blocked link says so, for how many minutes (rounded up: never sooner than said), and
    the way out that does not wait: a new link from the centre (issue_jury_access)."""
    if not wait.blocked:
        return _wait_message(wait.seconds)
    return ngettext(
        "Trop de tentatives de connexion avec ce lien : par sécurité, il est bloqué. Réessayez "
        "dans %(num)s minute. Le centre d'examen peut aussi vous remettre un nouveau lien.",
        "Trop de tentatives de connexion avec ce lien : par sécurité, il est bloqué. Réessayez "
        "dans %(num)s minutes. Le centre d'examen peut aussi vous remettre un nouveau lien.",
        -(-wait.seconds // 60),
    )


def sign_in_staff(*, email: str, password: str, ip: str) -> StaffUser:
    """Check a staff member's email and password, counting failures."""
    email = email.strip().lower()
    keys = [f"account:{email}", f"ip:{ip}"]
    _check_throttle(keys)
    user = db.session.execute(
        select(StaffUser).where(StaffUser.email == email)
    ).scalar_one_or_none()
    stored = user.password_hash if user else credentials.DUMMY_HASH
    if not credentials.password_matches(stored, password) or user is None:
        throttle.record_failure(keys)
        record_event(
            action="sign_in_failed",
            actor_kind=ActorKind.ANONYMOUS,
            target_type="staff_user",
            target_id=email,
        )
        raise SignInRefused(_("Adresse e-mail ou mot de passe incorrect."))
    if not user.active:
        # Said only to whoever knows the password: a guesser learns nothing from it.
        record_event(
            action="sign_in_refused_inactive",
            actor=user,
            target_type="staff_user",
            target_id=user.id,
        )
        raise SignInRefused(
            _("Ce compte est désactivé : adressez-vous à un administrateur du centre.")
        )
    throttle.forget(keys[:1])
    user.last_login_at = utcnow()
    record_event(action="sign_in", actor=user, target_type="staff_user", target_id=user.id)
    return user


def member_for_token(token: str) -> JuryMember | None:
    """The jury member whose current link this is, revoked or not."""
    if not token or len(token) > 100:
        return None
    digest = credentials.token_digest(token)
    return db.session.execute(
        select(JuryMember).where(JuryMember.access_token_sha256 == digest)
    ).scalar_one_or_none()


def sign_in_juror(*, member: JuryMember, pin: str, ip: str) -> JuryMember:
    """Check the PIN of a juror who opened their link, counting failures."""
    keys = [_link_key(member), f"ip:{ip}"]
    _check_throttle(keys, say=_juror_wait_message)
    if not juror_access_open(member):
        raise SignInRefused(_("Ce lien d'accès n'est pas valide à cette date ou a été révoqué."))
    if not credentials.password_matches(member.pin_hash, pin.strip()):
        throttle.record_failure(keys)
        record_event(
            action="sign_in_failed",
            actor_kind=ActorKind.ANONYMOUS,
            session_id=member.session_id,
            target_type="jury_member",
            target_id=member.id,
        )
        raise SignInRefused(_("Code PIN incorrect. Vérifiez les 6 chiffres remis par le centre."))
    throttle.forget(keys[:1])
    member.last_seen_at = utcnow()
    record_event(
        action="sign_in",
        actor=member,
        session_id=member.session_id,
        target_type="jury_member",
        target_id=member.id,
    )
    return member


def _link_key(member: JuryMember) -> str:
    return f"link:{member.id}"


def record_sign_out(*, person) -> None:
    """Sign-outs end every sign-in made before (identity.py), then are audited; the view
    ends this browser's Flask-Login session."""
    person.sign_out_count = (person.sign_out_count or 0) + 1
    record_event(
        action="sign_out",
        actor=person,
        session_id=getattr(person, "session_id", None),
        target_type=person.kind,
        target_id=person.id,
    )


def issue_jury_access(*, member: JuryMember, actor) -> IssuedAccess:
    """Make a new link and PIN for a juror; any previous link stops working at once."""
    token, pin = credentials.new_link_token(), credentials.new_pin()
    reissue = member.access_token_sha256 is not None
    member.access_token_sha256 = credentials.token_digest(token)
    member.pin_hash = credentials.hash_password(pin)
    member.access_issued_at = utcnow()
    member.access_revoked_at = None
    # A new PIN makes the guesses at the old one moot: a blocked juror is let in at once
    # (the blocked link's message offers this way out).
    throttle.forget([_link_key(member)])
    record_event(
        action="jury_access_reissued" if reissue else "jury_access_issued",
        actor=actor,
        session_id=member.session_id,
        target_type="jury_member",
        target_id=member.id,
    )
    db.session.flush()
    return IssuedAccess(member=member, token=token, pin=pin)


def revoke_jury_access(*, member: JuryMember, actor) -> None:
    """Stop a juror's link at once (their current sign-in ends with it)."""
    # The digest is kept so the link can say it was revoked; the identity loader refuses it.
    member.access_revoked_at = utcnow()
    member.pin_hash = None
    record_event(
        action="jury_access_revoked",
        actor=actor,
        session_id=member.session_id,
        target_type="jury_member",
        target_id=member.id,
    )
    db.session.flush()


def create_staff(*, email: str, name: str, password: str, role: StaffRole, actor=None) -> StaffUser:
    """Create a staff account; refuses a second account with the same email."""
    email = email.strip().lower()
    if db.session.execute(select(StaffUser.id).where(StaffUser.email == email)).first():
        raise ValueError(_("Un compte existe déjà avec l'adresse %(email)s.", email=email))
    user = StaffUser(
        email=email,
        name=name.strip(),
        password_hash=credentials.hash_password(password),
        role=role,
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    record_event(
        action="staff_created",
        actor=actor,
        actor_kind=ActorKind.SYSTEM,
        target_type="staff_user",
        target_id=user.id,
        after={"email": email, "role": role.value},
    )
    return user


def change_own_password(*, user: StaffUser, current: str, password: str) -> None:
    """A staff member's own new password, once the current one is confirmed; a wrong one
    counts as a failed sign-in of the account (it cannot be guessed from a signed-in tab)."""
    keys = [f"account:{user.email}"]
    _check_throttle(keys)
    if not credentials.password_matches(user.password_hash, current):
        throttle.record_failure(keys)
        record_event(
            action="password_change_refused",
            actor=user,
            target_type="staff_user",
            target_id=user.id,
        )
        raise SignInRefused(_("Mot de passe actuel incorrect."))
    throttle.forget(keys)
    reset_staff_password(user=user, password=password, actor=user)


def reset_staff_password(*, user: StaffUser, password: str, actor) -> None:
    """Set a new password; the account's open sessions end (the identity fingerprint changes)."""
    user.password_hash = credentials.hash_password(password)
    record_event(
        action="staff_password_reset", actor=actor, target_type="staff_user", target_id=user.id
    )
    db.session.flush()


def set_staff_active(*, user: StaffUser, active: bool, actor) -> None:
    """Deactivate or reactivate an account; deactivating ends every sign-in made before, so
    reactivating it later does not bring an old cookie (a shared office PC's) back to life."""
    before = user.active
    user.active = active
    if before and not active:
        user.sign_out_count = (user.sign_out_count or 0) + 1
    record_event(
        action="staff_activation_changed",
        actor=actor,
        target_type="staff_user",
        target_id=user.id,
        before={"active": before},
        after={"active": active},
    )
    db.session.flush()
