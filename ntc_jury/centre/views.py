from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import staff_required
from ..auth import operations as auth_ops
from ..auth.identity import juror_access_window
from ..extensions import db
from . import bp, queries
from .access_cards import card_for


@bp.get("/")
@staff_required
def sessions():
    """The centre's exam sessions."""
    return render_template("centre/sessions.html", sessions=queries.all_sessions())


@bp.get("/sessions/<int:session_id>")
@staff_required
def session_detail(session_id: int):
    """One session: its jury with their access, its candidates."""
    session = queries.session_or_404(session_id)
    return render_template(
        "centre/session_detail.html", session=session, window=juror_access_window
    )


@bp.post("/sessions/<int:session_id>/jury/<int:member_id>/acces")
@staff_required
def issue_access(session_id: int, member_id: int):
    """Issue (or reissue) a juror's link and PIN, and show the access card once."""
    member = queries.member_or_404(session_id, member_id)
    issued = auth_ops.issue_jury_access(member=member, actor=current_user)
    db.session.commit()
    cards = [card_for(issued, current_app.config["PUBLIC_URL"])]
    return render_template("centre/access_cards.html", session=member.session, cards=cards)


@bp.post("/sessions/<int:session_id>/cartes")
@staff_required
def issue_all_access(session_id: int):
    """Reissue every juror's access of the session and print all cards at once."""
    session = queries.session_or_404(session_id)
    issued = [
        auth_ops.issue_jury_access(member=member, actor=current_user)
        for member in session.jury_members
    ]
    db.session.commit()
    base = current_app.config["PUBLIC_URL"]
    cards = [card_for(one, base) for one in issued]
    return render_template("centre/access_cards.html", session=session, cards=cards)


@bp.post("/sessions/<int:session_id>/jury/<int:member_id>/revoquer")
@staff_required
def revoke_access(session_id: int, member_id: int):
    """Revoke a juror's link at once."""
    member = queries.member_or_404(session_id, member_id)
    auth_ops.revoke_jury_access(member=member, actor=current_user)
    db.session.commit()
    flash(_("Accès de %(name)s révoqué.", name=member.full_name), "success")
    return redirect(url_for("centre.session_detail", session_id=session_id), code=303)
