"""Centre staff: exam sessions, candidates, jury and its access, schedule, live dashboard."""

from flask import Blueprint

bp = Blueprint("centre", __name__, url_prefix="/centre")

# Registers the routes, one module per page family.
from . import (  # noqa: E402,F401
    candidate_views,
    dashboard_views,
    import_views,
    jury_views,
    schedule_views,
    views,
)
from .eligibility_badge import register_badge  # noqa: E402

register_badge(bp)
