"""documents.pdf: the small HTML → PDF helper the convocations and the minutes share."""

from __future__ import annotations

import datetime as dt
import html
import io

import pypdf
import pytest

from ntc_jury.centre.schedule_operations import DayPlan, generate_schedule
from ntc_jury.documents.pdf import PdfEngineUnavailable, render_pdf
from tests.factories import make_session

PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Essai</title>
<link rel="stylesheet" href="css/centre.css"></head>
<body class="convocation-doc"><h1>Procès-verbal — Zoé LEFÈVRE</h1></body></html>"""


def test_weasyprint_makes_a_pdf_a_document(app):
    pdf = render_pdf(PAGE, base_url=app.static_folder + "/")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert "Procès-verbal — Zoé LEFÈVRE" in reader.pages[0].extract_text()
    assert reader.metadata.title == "Essai"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp


def test_pdfkit_without_wkhtmltopdf_says_so():
    with pytest.raises(PdfEngineUnavailable, match="wkhtmltopdf"):
        render_pdf(PAGE, base_url=".", engine="pdfkit", wkhtmltopdf="/nonexistent/wkhtmltopdf")


def test_unknown_engine():
    with pytest.raises(ValueError, match="unknown PDF engine"):
        render_pdf(PAGE, base_url=".", engine="latex")


def test_the_configured_engine_is_used(staff_client, db, app, ntc, monkeypatch):
    """PDF_ENGINE=pdfkit on a server without wkhtmltopdf: a French message, no 500."""
    monkeypatch.setitem(app.config, "PDF_ENGINE", "pdfkit")
    monkeypatch.setitem(app.config, "WKHTMLTOPDF_PATH", "/nonexistent/wkhtmltopdf")
    exam = make_session(ntc, candidates=1)
    generate_schedule(session=exam, plan=DayPlan(dt.time(8), dt.time(20)))
    db.session.commit()
    response = staff_client.get(f"/centre/sessions/{exam.id}/convocations.pdf")
    assert response.status_code == 303
    page = html.unescape(staff_client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Le moteur PDF configuré n'est pas disponible sur ce serveur." in page
