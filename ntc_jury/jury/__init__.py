"""The juror's pages: the day's candidates, phases, grids, observations."""

from flask import Blueprint

bp = Blueprint("jury", __name__, url_prefix="/jury")

from . import views  # noqa: E402,F401  (registers the routes)
