"""Cross-cutting HTTP behaviour: security headers, htmx detection, French error pages."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.routing import IntegerConverter

from .access import enforce_declared_access, view_flag
from .extensions import READ_METHODS, reads_before_writing_now

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


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` of every route: at most nine digits. Ids are INTEGER columns (below 2**31),
    so a longer number matches no route (a 404) instead of reaching the database, which may
    not even take it (SQLite cannot compare an int past 2**63). A regex rather than `max`:
    Werkzeug answers 405 to a POST whose converter refuses a value (the GET rule matched)."""

    regex = r"\d{1,9}"


def reads_json(view):
    """The view reads a JSON body itself (the outbox's batches); no other view takes JSON."""
    view.reads_json = True
    return view


def local_path(target: str | None) -> str | None:
    """`target` if it is a path of this site, else None: a redirect never leaves the site.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so "/", tab,
    "/x" or "/", backslash, "x" lead to the host x; a newline would also break the Location
    header (a 500). Any space, control character or backslash is refused: our links have none.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(c == "\\" or c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    return target


def is_htmx() -> bool:
    """True for a request made by htmx (it answers with a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def init_app(app: Flask) -> None:
    # Before any blueprint adds its rules: each rule binds its converter when added.
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request(_writers_lock_first)
    app.before_request(enforce_declared_access)
    app.before_request(_forget_cached_locale)
    from .locking import refuse_writes_to_locked_sessions

    app.before_request(refuse_writes_to_locked_sessions)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    app.before_request(_refuse_json_bodies_of_forms)
    app.before_request(_refuse_nul_characters)
    for code in (400, 403, 404, 405, 409, 413, 429, 500):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(CSRFError, _csrf_error)


def _writers_lock_first() -> None:
    """A writing request takes the writers' lock before its first read (PostgreSQL; SQLite
    does it when the transaction begins, extensions.py): one writer at a time, so two
    writers never wait on each other's rows. A view marked `reads_before_writing` takes it
    itself when its writes begin."""
    if request.method not in READ_METHODS and not reads_before_writing_now():
        from .audit.operations import lock_chain

        lock_chain()


def _forget_cached_locale() -> None:
    # Flask-Babel caches the locale on the app context, which can outlive one request.
    from flask_babel import refresh

    refresh()


def _refuse_json_bodies_of_forms():
    """before_request: a JSON body sent to a form's view gets a French 400.

    Flask-WTF takes a JSON body as the form's data and fails (a 500) on anything but an
    object; browsers' forms never send JSON, and the outbox sends it to its own view only.
    Runs after the lock check, so a locked session still answers its 409 first.
    """
    if request.method in READ_METHODS or not request.is_json or request.endpoint is None:
        return None
    if view_flag("reads_json"):
        return None
    message = _("La requête n'a pas pu être traitée. Rechargez la page et réessayez.")
    return jsonify(error=message), 400


def _refuse_nul_characters():
    """before_request: a form or URL value holding a NUL character gets a French 400.

    PostgreSQL can neither store nor even compare such text (a 500 wherever it reached the
    database), and no keyboard types it. The outbox's JSON is checked operation by operation
    (jury/operations.py), so one bad operation does not block the others.
    """
    if request.method in READ_METHODS:
        return None
    texts = [v for _key, values in request.form.lists() for v in values]
    texts += [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    if not any("\x00" in text for text in texts):
        return None
    return render_template("errors/error.html", code=400), 400


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
