from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..access import admin_required, public, staff_required
from ..core.vocabulary import StaffRole
from ..extensions import db
from ..locking import allowed_when_locked
from ..models import StaffUser
from . import bp, operations
from .forms import OwnPasswordForm, PasswordResetForm, PinForm, StaffCreateForm, StaffSignInForm
from .identity import juror_link_refusal, juror_sign_in_lifetime


def _after_sign_in_for(person):
    if person.kind == "juror":
        return url_for("jury.session_home")
    return url_for("centre.sessions")


@bp.route("/connexion", methods=["GET", "POST"])
@public
@allowed_when_locked  # signing in writes only counters and the audit log
def sign_in():
    """Staff sign-in; jurors are told to use their personal link."""
    if current_user.is_authenticated:
        return redirect(_after_sign_in_for(current_user))
    form = StaffSignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = operations.sign_in_staff(
                email=form.email.data, password=form.password.data, ip=request.remote_addr or ""
            )
        except operations.SignInRefused as refused:
            db.session.commit()  # the failure counters must survive the refusal
            form.form_errors.append(refused.message)
            status = 429 if refused.retry_after else 401
        else:
            db.session.commit()
            login_user(user)
            return redirect(_after_sign_in_for(user))
    elif form.is_submitted():
        status = 422
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/deconnexion")
@public
@allowed_when_locked
def sign_out():
    """End the sign-in of whoever is signed in (the juror's device wipes its cache too)."""
    if current_user.is_authenticated:
        operations.record_sign_out(person=current_user)
        db.session.commit()
        logout_user()
    flash(_("Vous êtes déconnecté."), "success")
    return redirect(url_for("main.home"))


@bp.route("/j/<token>", methods=["GET", "POST"])
@public
@allowed_when_locked  # signing in writes only counters and the audit log
def juror_link(token: str):
    """A juror's personal link: asks for the PIN, then opens their exam session."""
    member = operations.member_for_token(token)
    if member is None:
        return render_template("auth/link_refused.html", reason="unknown"), 404
    refusal = juror_link_refusal(member)
    if refusal is not None:
        # The link is the juror's own: why it does not open, when it does, whom to ask.
        page = render_template(
            "auth/link_refused.html", reason=refusal.reason, refusal=refusal, exam=member.session
        )
        return page, 403
    form = PinForm()
    status = 200
    if form.validate_on_submit():
        try:
            operations.sign_in_juror(member=member, pin=form.pin.data, ip=request.remote_addr or "")
        except operations.SignInRefused as refused:
            db.session.commit()
            status = _show_pin_refusal(form, refused)
        else:
            db.session.commit()
            # The phone stays signed in after the app is closed, until the link expires.
            login_user(member, remember=True, duration=juror_sign_in_lifetime(member))
            return redirect(url_for("jury.session_home"))
    elif form.is_submitted():
        status = 422
    return render_template("auth/pin.html", form=form, member=member), status


def _show_pin_refusal(form: PinForm, refused) -> int:
    """A wait is not about the PIN typed: said above the form, which stays as it was; a wrong
    PIN is said under its field."""
    if refused.retry_after:
        form.form_errors.append(refused.message)
        return 429
    form.pin.errors = [*form.pin.errors, refused.message]
    return 401


@bp.get("/admin/personnel")
@admin_required
def staff_accounts():
    """Admin: the centre's staff accounts."""
    users = db.session.execute(select(StaffUser).order_by(StaffUser.name)).scalars().all()
    return render_template("auth/staff_accounts.html", users=users, form=StaffCreateForm())


@bp.post("/admin/personnel")
@admin_required
def create_staff_account():
    """Admin: create a staff account."""
    form = StaffCreateForm()
    if form.validate_on_submit():
        try:
            operations.create_staff(
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                role=StaffRole(form.role.data),
                actor=current_user,
            )
        except ValueError as error:
            form.email.errors = [*form.email.errors, str(error)]
        else:
            db.session.commit()
            flash(_("Compte créé pour %(email)s.", email=form.email.data), "success")
            return redirect(url_for("auth.staff_accounts"), code=303)
    users = db.session.execute(select(StaffUser).order_by(StaffUser.name)).scalars().all()
    return render_template("auth/staff_accounts.html", users=users, form=form), 422


@bp.route("/admin/personnel/<int:user_id>/mot-de-passe", methods=["GET", "POST"])
@admin_required
def reset_password(user_id: int):
    """Admin: set a new password for a staff account."""
    user = db.session.get(StaffUser, user_id) or abort(404)
    if user.id == current_user.id:
        # One's own password is changed knowing the current one, admins included.
        return redirect(url_for("auth.change_own_password"), code=303)
    form = PasswordResetForm()
    if form.validate_on_submit():
        operations.reset_staff_password(user=user, password=form.password.data, actor=current_user)
        db.session.commit()
        flash(_("Mot de passe de %(email)s modifié.", email=user.email), "success")
        return redirect(url_for("auth.staff_accounts"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form, user=user), status


@bp.post("/admin/personnel/<int:user_id>/statut")
@admin_required
def toggle_staff_active(user_id: int):
    """Admin: deactivate or reactivate an account (never one's own)."""
    user = db.session.get(StaffUser, user_id) or abort(404)
    if user.id == current_user.id:
        flash(_("Vous ne pouvez pas désactiver votre propre compte."), "error")
    else:
        operations.set_staff_active(user=user, active=not user.active, actor=current_user)
        db.session.commit()
        if user.active:
            flash(_("Compte de %(email)s réactivé.", email=user.email), "success")
        else:
            flash(
                _(
                    "Compte de %(email)s désactivé : ses connexions en cours sont terminées.",
                    email=user.email,
                ),
                "success",
            )
    return redirect(url_for("auth.staff_accounts"), code=303)


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@staff_required
def change_own_password():
    """Staff: change one's own password (signs out other devices)."""
    form = OwnPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            operations.change_own_password(
                user=current_user, current=form.current.data, password=form.password.data
            )
        except operations.SignInRefused as refused:
            db.session.commit()  # the failure counter must survive the refusal
            form.current.errors = [*form.current.errors, refused.message]
            status = 429 if refused.retry_after else 422
        else:
            db.session.commit()
            # Keep this device signed in with the new fingerprint. The real object, not the
            # current_user proxy: Flask-Login stores what it is given as the current user.
            login_user(current_user._get_current_object())
            flash(_("Votre mot de passe a été modifié."), "success")
            return redirect(url_for("centre.sessions"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("auth/reset_password.html", form=form, user=current_user), status
