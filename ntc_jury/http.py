"""Cross-cutting HTTP behaviour: security headers, htmx detection, French error pages."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError

from .access import enforce_declared_access

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def is_htmx() -> bool:
    """True for a request made by htmx (it answers with a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def init_app(app: Flask) -> None:
    app.before_request(enforce_declared_access)
    app.before_request(_forget_cached_locale)
    from .locking import refuse_writes_to_locked_sessions

    app.before_request(refuse_writes_to_locked_sessions)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    for code in (400, 403, 404, 405, 409, 429, 500):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(CSRFError, _csrf_error)


def _forget_cached_locale() -> None:
    # Flask-Babel caches the locale on the app context, which can outlive one request.
    from flask_babel import refresh

    refresh()


def _template_globals() -> dict:
    from flask_babel import get_locale

    from .labels import template_helpers

    return {
        "is_htmx": is_htmx,
        "current_locale": lambda: str(get_locale() or "fr"),
        **template_helpers(),
    }


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # Pages differ for htmx requests (fragment) and full loads.
    response.vary.add("HX-Request")
    return response


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    return render_template("errors/error.html", code=code), code


def _csrf_error(error):
    return render_template("errors/error.html", code=400, csrf_failed=True), 400
