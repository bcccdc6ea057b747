"""Centre staff: exam sessions, candidates, jury and its access, schedule, archive."""

from flask import Blueprint

bp = Blueprint("centre", __name__, url_prefix="/centre")

from . import views  # noqa: E402,F401  (registers the routes)
