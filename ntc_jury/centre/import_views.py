"""Centre staff: import candidates from a CSV or XLSX file, through a preview, all or nothing."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..access import staff_required
from ..extensions import db
from ..models import utcnow
from . import bp, queries
from .candidate_operations import import_candidates
from .explanations import describe_file_problem, describe_problem, problem_place
from .forms import ImportConfirmForm, ImportForm
from .importing import FileProblem, discard_pending, load_pending, parse_file, store_pending
from .responses import back, done, not_editable
from .rules import CentreError, ensure_preparing, preparation_refusal


@bp.get("/sessions/<int:session_id>/candidats/import")
@staff_required
def import_form(session_id: int):
    """Choose the file to import."""
    session = queries.session_or_404(session_id)
    if refusal := not_editable(session, preparation_refusal(session)):
        return refusal
    return render_template("centre/import_upload.html", session=session, form=ImportForm())


@bp.post("/sessions/<int:session_id>/candidats/import")
@staff_required
def upload_import(session_id: int):
    """Read and check the file; keep it for the preview only if nothing is wrong."""
    session = queries.session_or_404(session_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return _upload_page(session, form)
    upload = form.file.data
    data, filename = upload.read(), upload.filename or ""
    try:
        ensure_preparing(session)
        parsed = parse_file(data, filename, queries.import_context(session, utcnow().date()))
    except (FileProblem, CentreError) as error:
        message = describe_file_problem(error) if isinstance(error, FileProblem) else str(error)
        form.file.errors = [*form.file.errors, message]
        return _upload_page(session, form)
    if parsed.problems:
        return _preview(session, parsed, filename, token=None), 422
    token = store_pending(data, filename=filename, session_id=session.id, staff_id=current_user.id)
    return redirect(url_for("centre.import_preview", session_id=session.id, jeton=token), 303)


@bp.get("/sessions/<int:session_id>/candidats/import/apercu")
@staff_required
def import_preview(session_id: int):
    """What the import will create, checked again against the session as it is now."""
    session = queries.session_or_404(session_id)
    pending = load_pending(
        request.args.get("jeton", ""), session_id=session.id, staff_id=current_user.id
    )
    if pending is None:
        return _expired(session_id)
    parsed = parse_file(pending.data, pending.filename, queries.import_context(session, _today()))
    status = 422 if parsed.problems else 200
    return _preview(session, parsed, pending.filename, token=pending.token), status


@bp.post("/sessions/<int:session_id>/candidats/import/confirmer")
@staff_required
def confirm_import(session_id: int):
    """Create every candidate of the previewed file, or none."""
    session = queries.session_or_404(session_id)
    form = ImportConfirmForm()
    pending = form.validate_on_submit() and load_pending(
        form.token.data, session_id=session.id, staff_id=current_user.id
    )
    if not pending:
        return _expired(session_id)
    parsed = parse_file(pending.data, pending.filename, queries.import_context(session, _today()))
    if parsed.problems:  # something changed since the preview (e.g. a candidate added)
        return _preview(session, parsed, pending.filename, token=pending.token), 422
    try:
        count = import_candidates(
            session=session, rows=parsed.rows, source=pending.filename, actor=current_user
        )
    except CentreError as error:
        return back(str(error), "centre.session_detail", session_id=session_id)
    db.session.commit()
    discard_pending(pending.token)
    message = ngettext("%(num)s candidat importé.", "%(num)s candidats importés.", count)
    return done(message, "centre.session_detail", session_id=session_id)


@bp.post("/sessions/<int:session_id>/candidats/import/annuler")
@staff_required
def cancel_import(session_id: int):
    """Forget the previewed file."""
    queries.session_or_404(session_id)
    form = ImportConfirmForm()
    if form.validate_on_submit():
        discard_pending(form.token.data)
    message = _("Import annulé : aucun candidat n'a été créé.")
    return back(message, "centre.session_detail", category="info", session_id=session_id)


def _upload_page(session, form):
    return render_template("centre/import_upload.html", session=session, form=form), 422


def _preview(session, parsed, filename: str, *, token: str | None):
    problems = [(problem_place(p), describe_problem(p)) for p in parsed.problems]
    return render_template(
        "centre/import_preview.html",
        session=session,
        rows=parsed.rows if not problems else (),
        problems=problems,
        filename=filename,
        token=token,
    )


def _expired(session_id: int):
    message = _("Ce fichier n'est plus en attente : choisissez-le de nouveau.")
    return back(message, "centre.import_form", session_id=session_id)


def _today():
    return utcnow().date()
