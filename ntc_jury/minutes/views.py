"""The staff archive (/centre/archive) and the public verification page (/verification)."""

from __future__ import annotations

import io
import re

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import public, staff_required
from ..documents.pdf import PdfEngineUnavailable
from ..extensions import db
from ..locking import allowed_when_locked
from ..models import ExamSession
from . import bp, operations, public_bp, queries
from .rendering import HASH_PARAMETER, VERIFICATION_PATH

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@bp.get("/")
@staff_required
def archive():
    """Every session by state, with its stored documents."""
    return render_template("minutes/archive.html", groups=queries.archive_sessions())


@bp.get("/sessions/<int:session_id>")
@staff_required
def session_archive(session_id: int):
    """One session's stored documents, their versions and hashes, and the export."""
    session = queries.session_or_404(session_id)
    return render_template(
        "minutes/session.html",
        session=session,
        documents=queries.session_documents(session.id),
        candidates={c.id: c for c in queries.session_candidates(session)},
    )


@bp.post("/sessions/<int:session_id>/proces-verbal")
@staff_required
@allowed_when_locked
def generate_minutes(session_id: int):
    """Generate the procès-verbal (or find the stored one for this deliberation)."""
    session = queries.session_or_404(session_id)
    return _run(lambda: operations.generate_minutes(session=session, actor=current_user), session)


@bp.post("/sessions/<int:session_id>/fiches")
@staff_required
@allowed_when_locked
def generate_sheets(session_id: int):
    """Generate every candidate's result sheet and synthesis grid (stored ones are kept)."""
    session = queries.session_or_404(session_id)
    return _run(
        lambda: operations.generate_candidate_sheets(session=session, actor=current_user), session
    )


@bp.post("/sessions/<int:session_id>/export")
@staff_required
@allowed_when_locked
def export(session_id: int):
    """The whole session as a ZIP with a SHA-256 manifest (the export is audited)."""
    session = queries.session_or_404(session_id)
    try:
        archive = operations.build_export_zip(session=session, actor=current_user)
    except (operations.MinutesRefused, PdfEngineUnavailable) as refused:
        return _refused(refused, session)
    db.session.commit()
    return _attachment(archive, "application/zip", f"{_file_stem(session)}-export.zip")


@bp.get("/sessions/<int:session_id>/proces-verbal.pdf")
@staff_required
def download_minutes(session_id: int):
    """A stored version of the procès-verbal (?version=n, the latest by default)."""
    return _document(queries.session_or_404(session_id), queries.MINUTES)


@bp.get("/sessions/<int:session_id>/candidats/<int:candidate_id>/fiche-resultats.pdf")
@staff_required
def download_result_sheet(session_id: int, candidate_id: int):
    """A stored version of the candidate's fiche individuelle de résultats."""
    session = queries.session_or_404(session_id)
    candidate = queries.candidate_or_404(session, candidate_id)
    return _document(session, queries.result_sheet_name(candidate.id))


@bp.get("/sessions/<int:session_id>/candidats/<int:candidate_id>/grille-synthese.pdf")
@staff_required
def download_synthesis_grid(session_id: int, candidate_id: int):
    """A stored version of the candidate's grille de synthèse."""
    session = queries.session_or_404(session_id)
    candidate = queries.candidate_or_404(session, candidate_id)
    return _document(session, queries.synthesis_grid_name(candidate.id))


@public_bp.get(VERIFICATION_PATH)
@public
def verify():
    """Anyone may check a printed SHA-256; the answer names no one."""
    digest = (request.args.get(HASH_PARAMETER) or "").strip().lower()
    valid = bool(_SHA256.match(digest))
    matches = queries.find_hash(digest) if valid else []
    return render_template(
        "minutes/verify.html", digest=digest, asked=bool(digest), valid=valid, matches=matches
    )


def _run(operation, session):
    try:
        operation()
    except (operations.MinutesRefused, PdfEngineUnavailable) as refused:
        return _refused(refused, session)
    db.session.commit()
    flash(_("Documents enregistrés avec leur empreinte SHA-256."), "success")
    return redirect(url_for("minutes.session_archive", session_id=session.id), code=303)


def _refused(refused: Exception, session):
    db.session.rollback()
    if isinstance(refused, PdfEngineUnavailable):
        message = _("Le moteur PDF configuré n'est pas disponible sur ce serveur.")
    else:
        message = refused.message
    flash(message, "error")
    return redirect(url_for("minutes.session_archive", session_id=session.id), code=303)


def _document(session: ExamSession, name: str):
    version = request.args.get("version", type=int)
    if "version" in request.args and version is None:
        abort(404)
    document = queries.document_or_404(session.id, name, version)
    filename = f"{_file_stem(session)}-{name}-v{document.version}.pdf"
    return _attachment(document.content, document.media_type, filename)


def _file_stem(session) -> str:
    """The session's first day and CERES number ("2026-12-10-25-0412"): a downloaded file
    says which session it is, and sorts by date."""
    label = re.sub(r"[^A-Za-z0-9]+", "-", session.ceres_number or "").strip("-")
    return f"{session.starts_on:%Y-%m-%d}-{label or f'session-{session.id}'}"


def _attachment(body: bytes, media_type: str, filename: str):
    response = send_file(
        io.BytesIO(body), mimetype=media_type, as_attachment=True, download_name=filename
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
