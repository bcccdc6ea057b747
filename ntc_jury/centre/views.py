"""Centre staff: the list of sessions, one session's page, its details and its state."""

from __future__ import annotations

import uuid

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from ..access import staff_required
from ..auth.identity import juror_access_window
from ..core.vocabulary import SESSION_TRANSITIONS, SessionState
from ..locking import allowed_when_locked
from . import bp, queries
from .access_cards import link_base_mismatch
from .explanations import TRANSITION_LABELS, describe_check
from .forms import NO_MANAGER, SessionForm, StateForm
from .operations import STAFF_TRANSITIONS, change_state, create_session, update_session
from .responses import back, done, form_status, not_editable, refused
from .rules import CentreError, edit_refusal, preparation_refusal


@bp.get("/")
@staff_required
def sessions():
    """The centre's exam sessions."""
    return render_template("centre/sessions.html", sessions=queries.all_sessions())


@bp.route("/sessions/nouvelle", methods=["GET", "POST"])
@staff_required
def new_session():
    """Plan a new exam session."""
    form = _session_form()
    if form.validate_on_submit():
        fields = _session_fields(form)
        fmt = fields.pop("format")
        try:
            session = create_session(
                certification=fmt.certification, format_code=fmt.code, **fields, actor=current_user
            )
        except CentreError as error:
            refused(form, error)
        else:
            message = _("Session créée. Ajoutez maintenant le jury et les candidats.")
            return done(message, "centre.session_detail", session_id=session.id)
    return render_template("centre/session_form.html", form=form, session=None), form_status(form)


@bp.get("/sessions/<int:session_id>")
@staff_required
def session_detail(session_id: int):
    """One session: its state, its jury with their access, its candidates and their files."""
    session = queries.session_or_404(session_id)
    checklists = {
        c.id: queries.eligibility_checklist(c, session.format) for c in session.candidates
    }
    return render_template(
        "centre/session_detail.html",
        session=session,
        window=juror_access_window,
        checklists=checklists,
        describe_check=describe_check,
        transitions=[(t, TRANSITION_LABELS[t]) for t in _staff_transitions(session.state)],
        edit_refusal=edit_refusal(session),
        preparation_refusal=preparation_refusal(session),
        state_form=StateForm(),
        new_op=uuid.uuid4,
        link_mismatch=link_base_mismatch(),
    )


@bp.route("/sessions/<int:session_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_session(session_id: int):
    """Correct a session's format, place, dates, CERES number or manager."""
    session = queries.session_or_404(session_id)
    if refusal := not_editable(session, edit_refusal(session)):
        return refusal
    form = _session_form(session)
    if form.validate_on_submit():
        try:
            update_session(session=session, **_session_fields(form), actor=current_user)
        except CentreError as error:
            refused(form, error)
        else:
            return done(_("Session modifiée."), "centre.session_detail", session_id=session_id)
    return render_template("centre/session_form.html", form=form, session=session), form_status(
        form
    )


@bp.post("/sessions/<int:session_id>/etat")
# A signed (locked) session is CLOSED: the only move staff can make from there is archiving.
@allowed_when_locked
@staff_required
def change_session_state(session_id: int):
    """Move the session to the next state of its life cycle (only the allowed moves)."""
    session = queries.session_or_404(session_id)
    form = StateForm()
    if not form.validate_on_submit():
        return back(_("Choisissez le nouvel état."), "centre.session_detail", session_id=session_id)
    try:
        change_state(session=session, target=SessionState(form.target.data), actor=current_user)
    except CentreError as error:
        return back(str(error), "centre.session_detail", session_id=session_id)
    return done(_("État de la session modifié."), "centre.session_detail", session_id=session_id)


def _staff_transitions(state: SessionState) -> list[SessionState]:
    allowed = [t for t in SESSION_TRANSITIONS[state] if (state, t) in STAFF_TRANSITIONS]
    return sorted(allowed, key=list(SessionState).index)


def _session_form(session=None) -> SessionForm:
    form = SessionForm(obj=session)
    form.format_id.choices = [
        SelectChoice(str(f.id), f"{f.certification.code} v{f.certification.version} — {f.title}")
        for f in queries.format_choices()
    ]
    form.manager_id.choices = [SelectChoice(str(NO_MANAGER), _("— Aucun compte —"))] + [
        SelectChoice(str(u.id), u.name) for u in queries.staff_choices()
    ]
    if session is not None and not form.is_submitted():
        form.manager_id.data = session.manager_id or NO_MANAGER
    return form


def _session_fields(form: SessionForm) -> dict:
    return {
        "format": queries.format_or_none(form.format_id.data),
        "centre": form.centre.data,
        "site": form.site.data or "",
        "rooms": form.rooms.data or "",
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
        "ceres_number": form.ceres_number.data or "",
        "manager": queries.staff_or_none(form.manager_id.data),
        "manager_name": form.manager_name.data or "",
    }
