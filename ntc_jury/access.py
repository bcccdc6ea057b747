"""Who may use a route: every view declares it, and a test walks the URL map to check.

The rule is stored on the view function; `enforce_declared_access` refuses any endpoint
that declares none, so a route added without a rule fails loudly instead of leaking.
Anonymous visitors of a protected route are sent to sign in; signed-in people without the
role get 403. Scoping to the person's own exam session is done by the queries themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user

PUBLIC = "public"
STAFF = "staff"
ADMIN = "admin"
JUROR = "juror"
CHAIR = "chair"
RULES = (PUBLIC, STAFF, ADMIN, JUROR, CHAIR)


def public(view: Callable) -> Callable:
    """Anyone, signed in or not, may use this route."""
    view.access_rule = PUBLIC
    return view


def _gate(rule: str, allowed: Callable[[object], bool]) -> Callable[[Callable], Callable]:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapper.access_rule = rule
        return wrapper

    return decorator


staff_required = _gate(STAFF, lambda person: person.kind == "staff")
admin_required = _gate(ADMIN, lambda person: person.kind == "staff" and person.is_admin)
juror_required = _gate(JUROR, lambda person: person.kind == "juror")
chair_required = _gate(CHAIR, lambda person: person.kind == "juror" and person.is_chair)


def view_flag(name: str, endpoint: str | None = None):
    """An attribute a decorator set on a view (the current request's unless `endpoint`);
    None when the view has none or there is no view."""
    endpoint = request.endpoint if endpoint is None else endpoint
    if endpoint is None:
        return None
    return getattr(current_app.view_functions.get(endpoint), name, None)


def rule_of(endpoint: str) -> str | None:
    return view_flag("access_rule", endpoint)


def enforce_declared_access() -> None:
    """before_request: a route with no declared access rule is a programming error → 403."""
    if request.endpoint is None or request.endpoint == "static":
        return
    if rule_of(request.endpoint) not in RULES:
        current_app.logger.error("route %s declares no access rule", request.endpoint)
        abort(403)
