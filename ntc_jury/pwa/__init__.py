"""The installable app: manifest, service worker, offline page."""

from flask import Blueprint

bp = Blueprint("pwa", __name__)

from . import views  # noqa: E402,F401  (registers the routes)


@bp.after_app_request
def mark_offline_pages(response):
    """Tell the service worker which responses are a juror's own pages (the only ones kept)."""
    from flask import request
    from flask_login import current_user

    if (
        request.method == "GET"
        and request.path.startswith("/jury/")
        and response.status_code == 200
        and response.mimetype == "text/html"
        and request.headers.get("HX-Request") != "true"
        and getattr(current_user, "kind", None) == "juror"
    ):
        response.headers["NTC-Offline"] = "juror"
        response.headers["Cache-Control"] = "private, no-cache"
    return response
