"""The few ways a centre view ends, so each view stays a handful of lines."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..documents.pdf import PdfEngineUnavailable, render_pdf
from ..extensions import db


def form_status(form) -> int:
    """422 for a submitted form that is re-shown with its errors, 200 for a first display."""
    return 422 if form.is_submitted() else 200


def refused(form, error: Exception) -> None:
    """Undo what the operation may have flushed and show its French reason above the form."""
    db.session.rollback()
    form.form_errors.append(str(error))


def done(message: str, endpoint: str, **values):
    """Commit, say so, and send the browser on (303: the next request is a GET)."""
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(endpoint, **values), code=303)


def back(message: str, endpoint: str, *, category: str = "error", **values):
    """Nothing was changed: say why and go back."""
    db.session.rollback()
    flash(message, category)
    return redirect(url_for(endpoint, **values), code=303)


def pdf_response(html: str, filename: str, *, fallback: tuple[str, dict]):
    """The PDF of `html` inline; if the configured engine cannot run, say so and go back."""
    try:
        pdf = render_pdf(
            html,
            base_url=current_app.static_folder + "/",
            engine=current_app.config["PDF_ENGINE"],
            wkhtmltopdf=current_app.config.get("WKHTMLTOPDF_PATH"),
        )
    except PdfEngineUnavailable:
        endpoint, values = fallback
        return back(
            _("Le moteur PDF configuré n'est pas disponible sur ce serveur."), endpoint, **values
        )
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def not_editable(session, reason: str | None):
    """A form page asked for a change that would be refused: say why instead of the form
    (a submitted form goes on to its operation, which refuses it and keeps what was typed)."""
    if reason is None or request.method != "GET":
        return None
    page = render_template("centre/not_editable.html", session=session, message=reason)
    return page, 409
