"""Centre staff: the session's jury, its chair, and each juror's access (link, PIN, card)."""

from __future__ import annotations

from flask import current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..access import staff_required
from ..auth import operations as auth_ops
from ..extensions import db
from ..locking import allowed_when_locked
from . import bp, queries, removal_operations
from .access_cards import card_for
from .access_operations import AlreadyIssued, issue_access_cards
from .forms import JuryMemberForm
from .operations import add_jury_member, set_chair, update_jury_member
from .responses import back, done, form_status, not_editable, refused
from .rules import CentreError, preparation_refusal


@bp.route("/sessions/<int:session_id>/jury/nouveau", methods=["GET", "POST"])
@staff_required
def add_member(session_id: int):
    """Add a juror to the session's jury."""
    session = queries.session_or_404(session_id)
    if refusal := not_editable(session, preparation_refusal(session)):
        return refusal
    form = JuryMemberForm()
    del form.present  # a new juror is expected present; absence is recorded on exam day
    if form.validate_on_submit():
        try:
            add_jury_member(
                session=session, **_member_fields(form), chair=form.chair.data, actor=current_user
            )
        except CentreError as error:
            refused(form, error)
        else:
            message = _("%(name)s ajouté(e) au jury.", name=form.first_name.data)
            return done(message, "centre.session_detail", session_id=session_id)
    return render_template(
        "centre/jury_member_form.html", form=form, session=session, member=None
    ), form_status(form)


@bp.route("/sessions/<int:session_id>/jury/<int:member_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_member(session_id: int, member_id: int):
    """Correct a juror's name, e-mail or habilitation, or record them absent."""
    member = queries.member_or_404(session_id, member_id)
    if refusal := not_editable(member.session, preparation_refusal(member.session)):
        return refusal
    form = JuryMemberForm(obj=member)
    del form.chair  # the chair is chosen with its own button
    if form.validate_on_submit():
        try:
            update_jury_member(
                member=member, **_member_fields(form), present=form.present.data, actor=current_user
            )
        except CentreError as error:
            refused(form, error)
        else:
            return done(
                _("Membre du jury modifié."), "centre.session_detail", session_id=session_id
            )
    return render_template(
        "centre/jury_member_form.html",
        form=form,
        session=member.session,
        member=member,
        removal_refusal=removal_operations.member_removal_refusal(member),
    ), form_status(form)


@bp.post("/sessions/<int:session_id>/jury/<int:member_id>/president")
@staff_required
def make_chair(session_id: int, member_id: int):
    """Make this juror the chair of the jury (the previous chair becomes a member)."""
    member = queries.member_or_404(session_id, member_id)
    try:
        set_chair(session=member.session, member=member, actor=current_user)
    except CentreError as error:
        return back(str(error), "centre.session_detail", session_id=session_id)
    message = _("%(name)s préside désormais le jury.", name=member.full_name)
    return done(message, "centre.session_detail", session_id=session_id)


@bp.post("/sessions/<int:session_id>/jury/<int:member_id>/acces")
@staff_required
def issue_access(session_id: int, member_id: int):
    """Issue (or reissue) a juror's link and PIN, and show the access card once."""
    member = queries.member_or_404(session_id, member_id)
    return _issue_cards(member.session, [member])


@bp.post("/sessions/<int:session_id>/cartes")
@staff_required
def issue_all_access(session_id: int):
    """Reissue every juror's access of the session and print all cards at once."""
    session = queries.session_or_404(session_id)
    return _issue_cards(session, session.jury_members)


def _issue_cards(session, members):
    try:
        issued = issue_access_cards(
            session=session, members=members, op_id=request.form.get("op_id"), actor=current_user
        )
    except AlreadyIssued as error:
        return back(str(error), "centre.session_detail", category="warning", session_id=session.id)
    except CentreError as error:
        return back(str(error), "centre.session_detail", session_id=session.id)
    db.session.commit()
    base = current_app.config["PUBLIC_URL"]
    return _cards_page(session, [card_for(one, base) for one in issued])


def _cards_page(session, cards):
    """Links and PINs in clear, shown once: never kept by the browser or a proxy."""
    response = make_response(
        render_template("centre/access_cards.html", session=session, cards=cards)
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/sessions/<int:session_id>/jury/<int:member_id>/revoquer")
# A security action: a lost or leaked link must be stoppable even once the minutes are signed.
# It writes only the juror's access columns and an audit event, none of the signed record.
@allowed_when_locked
@staff_required
def revoke_access(session_id: int, member_id: int):
    """Revoke a juror's link at once."""
    member = queries.member_or_404(session_id, member_id)
    auth_ops.revoke_jury_access(member=member, actor=current_user)
    message = _("Accès révoqué : %(name)s.", name=member.full_name)
    return done(message, "centre.session_detail", session_id=session_id)


@bp.post("/sessions/<int:session_id>/jury/<int:member_id>/retirer")
@staff_required
def remove_member(session_id: int, member_id: int):
    """Remove a juror added by mistake (only while they have recorded nothing)."""
    member = queries.member_or_404(session_id, member_id)
    name = member.full_name
    try:
        removal_operations.remove_jury_member(member=member, actor=current_user)
    except CentreError as error:
        return back(str(error), "centre.edit_member", session_id=session_id, member_id=member_id)
    return done(
        _("Membre retiré du jury : %(name)s.", name=name),
        "centre.session_detail",
        session_id=session_id,
    )


def _member_fields(form: JuryMemberForm) -> dict:
    return {
        "first_name": form.first_name.data,
        "last_name": form.last_name.data,
        "email": form.email.data,
        "habilitation_number": form.habilitation_number.data or "",
        "habilitation_valid_until": form.habilitation_valid_until.data,
    }
