"""Reading PDFs back in tests: pages, text, and the PDF/A identification in the XMP metadata."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pikepdf
from pypdf import PdfReader

PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"


def reader(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def page_texts(content: bytes) -> list[str]:
    """Each page's text with runs of whitespace made single spaces (wkhtmltopdf uses tabs)."""
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader(content).pages]


def text(content: bytes) -> str:
    return " ".join(page_texts(content))


def pdfa_identification(content: bytes) -> tuple[str | None, str | None]:
    """(pdfaid:part, pdfaid:conformance) from the XMP packet, attribute or element form."""
    root = reader(content).trailer["/Root"]
    if "/Metadata" not in root:
        return None, None
    xmp = ET.fromstring(root["/Metadata"].get_object().get_data())
    found: dict[str, str] = {}
    for element in xmp.iter():
        for name, value in element.attrib.items():
            if name.startswith(PDFAID):
                found[name.removeprefix(PDFAID)] = value
        if element.tag.startswith(PDFAID) and element.text:
            found[element.tag.removeprefix(PDFAID)] = element.text.strip()
    return found.get("part"), found.get("conformance")


def pikepdf_status(content: bytes) -> str:
    with pikepdf.open(io.BytesIO(content)) as pdf:
        return pdf.open_metadata().pdfa_status


def xmp_keywords(content: bytes) -> str | None:
    """pdf:Keywords of the XMP packet (what archive software indexes the document by)."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        return pdf.open_metadata().get("pdf:Keywords")
