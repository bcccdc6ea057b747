"""Once every juror has signed, the session's record is locked: writes get HTTP 409.

Checked before every writing request, so routes added later are covered without thinking of
it. A view that must still work on a locked session (reopening, signing out, the juror
operation path which answers per operation) says so with @allowed_when_locked.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from .access import view_flag
from .extensions import READ_METHODS, db
from .http import is_htmx


def allowed_when_locked(view: Callable) -> Callable:
    view.allowed_when_locked = True
    return view


def _session_of_request():
    from .models import ExamSession

    if getattr(current_user, "kind", None) == "juror":
        return current_user.session
    session_id = (request.view_args or {}).get("session_id")
    if isinstance(session_id, int):
        return db.session.get(ExamSession, session_id)
    return None


def refuse_writes_to_locked_sessions():
    """before_request: a write touching a locked session is refused with a French 409."""
    if request.method in READ_METHODS or request.endpoint is None:
        return None
    if view_flag("allowed_when_locked"):
        return None
    if not current_user.is_authenticated:
        return None  # the route's own rule sends anonymous visitors to sign in
    session = _session_of_request()
    if session is None or session.locked_at is None:
        return None
    message = _(
        "La session est verrouillée : toutes les signatures sont recueillies. Le président "
        "du jury peut rouvrir la délibération pour une correction."
    )
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(error=message, locked=True), 409
    if is_htmx():
        return render_template("deliberation/_refusal.html", message=message), 409
    return render_template("errors/error.html", code=409, message=message), 409
