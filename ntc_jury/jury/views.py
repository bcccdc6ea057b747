from flask import render_template
from flask_login import current_user

from ..access import juror_required
from . import bp, queries


@bp.get("/")
@juror_required
def session_home():
    """The day's candidates of the juror's session, in schedule order."""
    return render_template(
        "jury/session_home.html",
        member=current_user,
        session=current_user.session,
        candidates=queries.session_candidates(current_user),
    )
