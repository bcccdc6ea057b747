"""Reading a candidate file (CSV or XLSX) into text cells, and keeping it until it is confirmed.

Why the file waits on the server between the preview and the confirmation: the confirmation
must create exactly what the preview showed, re-checked against the session as it is at that
moment. A browser cannot send a chosen file again by itself, and carrying the parsed rows in
hidden fields would mean trusting whatever the client posts back. So the uploaded bytes are
stored in the instance folder under a random token, bound to the session and to the staff
member who uploaded them, and parsed again at confirmation; they are deleted once imported
or cancelled, and forgotten after a day.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..core.candidate_rows import ParsedRows, SessionContext, parse_candidate_rows

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_DELIMITERS = (";", ",", "\t")


class FileProblem(ValueError):
    """The file cannot be read at all; `code` and `params` become a French message."""

    def __init__(self, code: str, **params) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def read_table(data: bytes, filename: str = "") -> list[list[str]]:
    """The file's cells as text, first line first."""
    if not data.strip():
        raise FileProblem("empty_file")
    if len(data) > MAX_BYTES:
        raise FileProblem("too_big", max_mb=MAX_BYTES // (1024 * 1024))
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx"):
        table = _xlsx_table(data)
    else:
        table = _csv_table(_decode(data))
    if len(table) - 1 > MAX_ROWS:
        raise FileProblem("too_many_rows", max=MAX_ROWS)
    return table


def parse_file(data: bytes, filename: str, context: SessionContext) -> ParsedRows:
    """Read and check the file; raises FileProblem when it cannot even be read."""
    return parse_candidate_rows(read_table(data, filename), context)


# Files that are not a table at all, by their first bytes: a centre's "liste des inscrits"
# is often an old .xls, or a PDF export of it.
_NOT_A_TABLE = {
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "old_excel",  # OLE2: .xls (and .doc)
    b"%PDF": "pdf",
}
# Read as Windows-1252, a file saved in another 8-bit encoding gives characters no name has:
# ISO-8859-15's Œ œ € Š š Ž ž Ÿ come out as ¼ ½ ¤ ¦ ¨ ´ ¸ ¾, Mac Roman's ô è as ™ ˆ…
_MOJIBAKE = re.compile(
    r"[¤¦¨´¸¼½¾™ˆ˜†‡‰¹²³¯¬]"
    # …and Mac Roman's é (0x8E) is Windows-1252's Ž, met inside words ("HŽrault").
    r"|(?<=[^\W\d_])Ž(?=[a-zà-ÿ])"
)


def _decode(data: bytes) -> str:
    for magic, code in _NOT_A_TABLE.items():
        if data.startswith(magic):
            raise FileProblem(code)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        # UTF-16 (Excel's "Texte Unicode"): every other byte is NUL in Latin text.
        raise FileProblem("utf16")
    if b"\x00" in data:
        raise FileProblem("binary")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # Excel's "CSV (séparateur : point-virgule)" on Windows writes Windows-1252.
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise FileProblem("encoding", line=data.count(b"\n", 0, error.start) + 1) from None
    odd = _MOJIBAKE.search(text)
    if odd:
        raise FileProblem("mojibake", char=odd.group(), line=text.count("\n", 0, odd.start()) + 1)
    return text


def _looks_utf16(data: bytes) -> bool:
    """Without its byte order mark: NUL on every even or every odd byte of the start."""
    head = data[:400]
    half = len(head) // 2
    return half > 4 and (head[0::2].count(0) > half * 0.4 or head[1::2].count(0) > half * 0.4)


def _csv_table(text: str) -> list[list[str]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(_DELIMITERS, key=first.count)
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as error:
        raise FileProblem("bad_csv", detail=str(error)) from None


def _xlsx_table(data: bytes) -> list[list[str]]:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores: nothing the centre can fix.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                table = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            finally:
                book.close()
    except Exception as error:  # a broken zip or workbook raises many kinds of errors
        raise FileProblem("bad_xlsx") from error
    while table and not any(table[-1]):
        table.pop()
    return table


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a candidate number typed as a number: 2026001.0
    return str(value)


# --------------------------------------------------------------------------- pending files


@dataclass(frozen=True)
class PendingImport:
    token: str
    session_id: int
    staff_id: int
    filename: str
    data: bytes


def store_pending(data: bytes, *, filename: str, session_id: int, staff_id: int) -> str:
    """Keep the uploaded bytes for the confirmation step; returns the token to find them."""
    folder = _folder()
    _forget_old(folder)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.bin").write_bytes(data)
    meta = {"session_id": session_id, "staff_id": staff_id, "filename": filename[:200]}
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def load_pending(token: str, *, session_id: int, staff_id: int) -> PendingImport | None:
    """The stored file, only for the session and the person it was uploaded for."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    folder = _folder()
    meta_path, data_path = folder / f"{token}.json", folder / f"{token}.bin"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if time.time() - meta_path.stat().st_mtime > MAX_AGE_SECONDS:
            return None
        data = data_path.read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("session_id") != session_id or meta.get("staff_id") != staff_id:
        return None
    return PendingImport(token, session_id, staff_id, meta.get("filename", ""), data)


def discard_pending(token: str) -> None:
    if not _TOKEN.fullmatch(token or ""):
        return
    for suffix in (".json", ".bin"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


def _folder() -> Path:
    configured = current_app.config.get("CANDIDATE_IMPORT_DIR")
    folder = Path(configured) if configured else Path(current_app.instance_path) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _forget_old(folder: Path) -> None:
    limit = time.time() - MAX_AGE_SECONDS
    for path in folder.glob("*.*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue
