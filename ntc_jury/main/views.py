from flask import current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import text

from ..access import public
from ..extensions import db
from ..http import local_path
from ..i18n import LANGUAGE_COOKIE
from ..locking import allowed_when_locked
from . import bp


@bp.get("/")
@public
def home():
    """What the app is and where each kind of user signs in."""
    return render_template("main/home.html")


@bp.post("/langue")
@public
@allowed_when_locked
def set_language():
    """Remember the chosen interface language in a cookie."""
    lang = request.form.get("lang", "")
    # Only local paths: never an open redirect.
    target = local_path(request.form.get("next")) or url_for("main.home")
    response = redirect(target, code=303)
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


@bp.get("/healthz")
@public
def health():
    """Liveness and database check for load balancers."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
