"""Centre staff: the live dashboard of a session, refreshed by htmx polling."""

from __future__ import annotations

from flask import render_template

from ..access import staff_required
from ..http import is_htmx
from . import bp
from .dashboard import session_dashboard
from .explanations import short_check


@bp.get("/sessions/<int:session_id>/suivi")
@staff_required
def dashboard(session_id: int):
    """Grids completed, pending syncs, deliberation and signatures; htmx gets the fragment."""
    board = session_dashboard(session_id)
    template = "centre/_dashboard.html" if is_htmx() else "centre/dashboard.html"
    return render_template(template, board=board, session=board.session, short_check=short_check)
