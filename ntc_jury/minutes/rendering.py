"""The documents' HTML, and its PDF through the configured engine.

The print stylesheet is inlined rather than linked: wkhtmltopdf (pdfkit) gets the HTML as a
string with no base URL, and WeasyPrint then needs no file access either.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

import segno
from flask import current_app, render_template
from flask_babel import force_locale
from markupsafe import Markup

from ..documents.pdf import render_pdf
from .session_data import SESSION_DATA_FORMAT

VERIFICATION_PATH = "/verification"
HASH_PARAMETER = "empreinte"
DOCUMENT_LOCALE = "fr"
_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "pdf.css"


@cache
def pdf_stylesheet() -> str:
    return _CSS.read_text(encoding="utf-8")


def verification_url(digest: str) -> str:
    """The public page that says whether `digest` belongs to a stored document."""
    base = str(current_app.config["PUBLIC_URL"]).rstrip("/")
    return f"{base}{VERIFICATION_PATH}?{urlencode({HASH_PARAMETER: digest})}"


def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code (medium error correction, survives a photocopy)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", xmldecl=False, svgns=True, scale=2, border=2, svgclass="qr"
    )
    return Markup(buffer.getvalue().decode("ascii"))


def engine() -> str:
    return str(current_app.config["PDF_ENGINE"])


def render_document(template: str, **context) -> bytes:
    """Render one of templates/minutes/pdf/ and turn it into a PDF with the configured engine."""
    digest = context.get("data_sha256", "")
    url = verification_url(digest)
    # The archived record is a French document, whatever the language of the staff's screen.
    with force_locale(DOCUMENT_LOCALE):
        html = render_template(
            template,
            stylesheet=Markup(pdf_stylesheet()),
            verification_url=url,
            qr=qr_svg(url),
            data_format=SESSION_DATA_FORMAT,
            **context,
        )
    return render_pdf(
        html,
        base_url=str(Path(current_app.static_folder)) + "/",
        engine=engine(),
        wkhtmltopdf=current_app.config.get("WKHTMLTOPDF_PATH"),
    )
