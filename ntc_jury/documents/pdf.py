"""HTML → PDF, with WeasyPrint (PDF/A-3b, kept for years) or pdfkit (wkhtmltopdf).

Generic on purpose: the convocations and the procès-verbal both go through `render_pdf`,
with the engine chosen by app.config["PDF_ENGINE"].
"""

from __future__ import annotations

import warnings

ENGINES = ("weasyprint", "pdfkit")
PDF_VARIANT = "pdf/a-3b"


class PdfEngineUnavailable(RuntimeError):
    """The chosen engine cannot run here (e.g. wkhtmltopdf is not installed)."""


def render_pdf(
    html: str,
    *,
    base_url: str,
    engine: str = "weasyprint",
    wkhtmltopdf: str | None = None,
) -> bytes:
    """The PDF of `html`; relative URLs (stylesheets, images) resolve against `base_url`."""
    if engine == "weasyprint":
        return _weasyprint(html, base_url)
    if engine == "pdfkit":
        return _pdfkit(html, wkhtmltopdf)
    raise ValueError(f"unknown PDF engine {engine!r}; expected one of {ENGINES}")


def _weasyprint(html: str, base_url: str) -> bytes:
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=base_url)
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB profile (the PDF/A output intent) and never closes it;
        # the file is freed inside write_pdf, so this is the only place its warning can surface.
        warnings.filterwarnings(
            "ignore", message=r"unclosed file .*sRGB2014\.icc", category=ResourceWarning
        )
        return document.write_pdf(pdf_variant=PDF_VARIANT)


def _pdfkit(html: str, wkhtmltopdf: str | None) -> bytes:
    import pdfkit

    try:
        configuration = pdfkit.configuration(wkhtmltopdf=wkhtmltopdf or "")
    except OSError as error:
        raise PdfEngineUnavailable(
            "wkhtmltopdf is not installed: install it or set PDF_ENGINE=weasyprint"
        ) from error
    # wkhtmltopdf reads local stylesheets only when told to; our HTML links /static/ files.
    options = {"encoding": "UTF-8", "quiet": "", "enable-local-file-access": ""}
    return pdfkit.from_string(html, False, options=options, configuration=configuration)
