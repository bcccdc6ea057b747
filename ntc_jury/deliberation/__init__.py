"""The chair's deliberation: every juror's ticks, suggestions, decisions, signatures, lock."""

from flask import Blueprint

bp = Blueprint("deliberation", __name__, url_prefix="/jury/deliberation")

from . import views  # noqa: E402,F401  (registers the routes)
