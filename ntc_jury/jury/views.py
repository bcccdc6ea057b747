import uuid

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import juror_required
from ..extensions import db, reads_before_writing
from ..http import is_htmx, reads_json
from ..locking import allowed_when_locked
from . import bp, operations, pages, queries
from .forms import operation_from_form, safe_next


@bp.get("/")
@juror_required
def session_home():
    """The day's candidates of the juror's session, in schedule order, with progress."""
    return render_template(
        "jury/session_home.html",
        member=current_user,
        session=current_user.session,
        rows=queries.session_home_rows(current_user),
    )


@bp.get("/candidats/<int:candidate_id>")
@juror_required
def candidate(candidate_id: int):
    """A candidate's phases, the juror's grids and conflict declaration."""
    page = pages.candidate_page(current_user, candidate_id)
    slots = queries.candidate_slots(page.candidate)
    return render_template("jury/candidate.html", page=page, slots=slots, new_op=uuid.uuid4)


@bp.get("/candidats/<int:candidate_id>/phases/<int:phase_id>")
@juror_required
def phase(candidate_id: int, phase_id: int):
    """One phase: timer, the criteria of its competencies, transversal ticks, notes."""
    page = pages.candidate_page(current_user, candidate_id)
    current = pages.phase_or_404(page, phase_id)
    before, after = pages.neighbours(page, current)
    return render_template(
        "jury/phase.html", page=page, phase=current, before=before, after=after, new_op=uuid.uuid4
    )


@bp.post("/candidats/<int:candidate_id>/operation")
@juror_required
@allowed_when_locked
@reads_before_writing
def submit(candidate_id: int):
    """One operation from a form: the fragment for htmx, flash + redirect otherwise."""
    op_id, kind, payload = operation_from_form(request.form, candidate_id)
    outcome = operations.apply_operation(
        member=current_user, op_id=op_id, kind=kind, payload=payload
    )
    status = 200 if outcome.ok else (409 if outcome.locked else 422)
    if is_htmx():
        page = pages.fragment_page(current_user, candidate_id, kind, outcome)
        if page.detached:
            # Nothing left to read: commit first, so the rendering holds no lock.
            db.session.commit()
            return _fragment(page, kind, outcome), status
        # Rendered inside the operation's transaction: a second one would read the juror
        # again and, on SQLite, queue for the write lock a second time.
        try:
            return _fragment(page, kind, outcome), status
        finally:
            db.session.commit()
    db.session.commit()
    flash(outcome.message or _saved_message(), "error" if not outcome.ok else "success")
    target = safe_next(request.form.get("next")) or url_for(
        "jury.candidate", candidate_id=candidate_id
    )
    return redirect(target, code=303)


@bp.post("/operations")
@juror_required
@allowed_when_locked
@reads_before_writing
@reads_json
def batch():
    """The outbox's batch: each operation applied at most once, answered one by one."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes: no batch either
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("operations"), list):
        return jsonify(error=_("Corps JSON invalide : « operations » attendu.")), 400
    if len(body["operations"]) > operations.BATCH_MAX:
        return jsonify(error=_("Trop d'opérations dans un seul envoi.")), 413
    results = operations.apply_batch(
        member=current_user, items=body["operations"], pending=body.get("pending")
    )
    # Read under the writers' lock, with the operations: a phone whose page was rendered
    # before the lock learns of it here and stops syncing on its own.
    locked = current_user.session.locked_at is not None
    db.session.commit()
    return jsonify(results=[r.as_json() for r in results], locked=locked)


@bp.get("/session/etat")
@juror_required
def session_state():
    """Whether the juror's session is locked: a locked page asks once a minute, to learn of a
    reopening for a correction without polling the record itself."""
    return jsonify(locked=current_user.session.locked_at is not None)


@bp.get("/candidats/<int:candidate_id>/empreinte")
@juror_required
def digest(candidate_id: int):
    """Count and hash of this juror's ticks: the device compares it with its own."""
    candidate = queries.candidate_or_404(current_user, candidate_id)
    return jsonify(queries.tick_digest(current_user, candidate))


def _saved_message() -> str:
    return _("Enregistré.")


def _fragment(page, kind: str, outcome):
    return render_template(
        "jury/_operation_result.html",
        page=page,
        kind=kind,
        outcome=outcome,
        form=request.form,
        new_op=uuid.uuid4,
    )
