"""Candidate import through the preview: good files of every kind, and broken ones.

Every broken file gets a clear French message and leaves the database untouched.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import openpyxl
import pytest

from ntc_jury.centre import importing
from ntc_jury.core.vocabulary import Route, SessionState
from ntc_jury.models import AuditEvent, Candidate, HeldCcp
from tests.centre.conftest import audit_actions, count
from tests.factories import make_staff, sign_in_staff

DATA = Path(__file__).resolve().parents[1] / "data" / "imports"
HEADER = "nom;prénom;date de naissance;numéro de candidat;parcours"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def upload(client, exam, content: bytes, filename: str = "candidats.csv"):
    return client.post(
        f"/centre/sessions/{exam.id}/candidats/import",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def token_of(response) -> str:
    assert response.status_code == 303, response.status_code
    return re.search(r"jeton=([\w-]+)", response.headers["Location"]).group(1)


def confirm(client, exam, token: str):
    return client.post(
        f"/centre/sessions/{exam.id}/candidats/import/confirmer", data={"token": token}
    )


def csv_rows(n: int, *, last: str | None = None, start: int = 1) -> bytes:
    lines = [HEADER]
    lines += [f"Nom{i};Prénom{i};01/01/1990;N{i:05d};formation" for i in range(start, start + n)]
    if last is not None:
        lines[-1] = last
    return ("\n".join(lines) + "\n").encode("utf-8")


def assert_nothing_written(db, exam, import_dir):
    assert count(db, Candidate) == len(exam.candidates)
    assert "candidates_imported" not in audit_actions(db, exam.id)
    assert not list(import_dir.glob("*")) if import_dir.exists() else True


def test_utf8_semicolon_file_through_the_preview(staff_client, db, exam, import_dir):
    before = count(db, Candidate)
    response = upload(staff_client, exam, (DATA / "candidats_utf8.csv").read_bytes())
    token = token_of(response)
    assert len(list(import_dir.glob("*"))) == 2  # the bytes and who they belong to
    assert count(db, Candidate) == before  # nothing before the confirmation

    preview = staff_client.get(response.headers["Location"])
    assert preview.status_code == 200
    page = text(preview)
    assert "3 candidats seront créés" in page
    assert "Contexte A — Équipements industriels" in page and "García" in page

    done = confirm(staff_client, exam, token)
    assert done.status_code == 303
    assert count(db, Candidate) == before + 3
    garcia = db.session.execute(
        db.select(Candidate).filter_by(candidate_number="2026-102")
    ).scalar_one()
    assert (garcia.birth_date, garcia.route) == (dt.date(1987, 11, 2), Route.VAE)
    assert garcia.disability_arrangements == "Tiers temps\nsalle au rez-de-chaussée"
    assert [h.ccp.code for h in db.session.execute(db.select(HeldCcp)).scalars()] == ["CCP1"]
    positions = (
        db.session.execute(
            db.select(Candidate.schedule_position)
            .filter_by(session_id=exam.id)
            .order_by(Candidate.schedule_position)
        )
        .scalars()
        .all()
    )
    assert positions == [0, 1, 2, 3, 4]
    event = db.session.execute(
        db.select(AuditEvent).filter_by(action="candidates_imported")
    ).scalar_one()
    assert event.after == {"count": 3, "source": "candidats.csv"} and event.session_id == exam.id
    assert not list(import_dir.glob("*"))  # the file is forgotten once imported
    assert "3 candidats importés." in text(staff_client.get(done.headers["Location"]))


def test_windows_1252_comma_file(staff_client, db, exam):
    response = upload(staff_client, exam, (DATA / "candidats_windows1252.csv").read_bytes())
    confirm(staff_client, exam, token_of(response))
    names = set(db.session.execute(db.select(Candidate.first_name)).scalars())
    assert {"Zoé", "Hélène"} <= names


def test_xlsx_file_with_real_dates_and_numbers(staff_client, db, exam):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["Nom", "Prénom", "Date de naissance", "Numéro de candidat", "Parcours", "Contexte"]
    )
    sheet.append(["Petit", "Antoine", dt.datetime(1999, 1, 30), 2026001, "VAE", "B"])
    sheet.append(["Roux", "Inès", "05/07/1992", "X-2", "formation", None])
    sheet.append([None, None, None, None, None, None])  # a blank line left in the sheet
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(staff_client, exam, buffer.getvalue(), "inscrits.xlsx")
    confirm(staff_client, exam, token_of(response))
    petit = db.session.execute(db.select(Candidate).filter_by(last_name="Petit")).scalar_one()
    assert (petit.candidate_number, petit.birth_date) == ("2026001", dt.date(1999, 1, 30))
    assert db.session.execute(db.select(Candidate).filter_by(first_name="Inès")).scalar_one()


BROKEN = [
    pytest.param(
        b"nom;pr\x81nom;date de naissance\nA;B;01/01/1990\n",
        "x.csv",
        "Encodage non reconnu (ligne 1) : le fichier n'est ni en UTF-8 ni en Windows-1252.",
        id="bytes-invalid-in-utf8-and-windows-1252",
    ),
    pytest.param(
        (HEADER + "\nMoreau;Julie;12/03/1994;A1;formation\n").encode("utf-16"),
        "x.csv",
        "Le fichier est en UTF-16",
        id="utf-16",
    ),
    pytest.param(
        (HEADER + "\nMoreau;Julie;12/03/1994;A1;formation\n").encode("utf-16-le"),
        "x.csv",
        "Le fichier est en UTF-16",
        id="utf-16-without-byte-order-mark",
    ),
    pytest.param(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4,
        "inscrits.xls",
        "C'est un classeur Excel ancien (.xls) : enregistrez-le au format .xlsx",
        id="old-xls",
    ),
    pytest.param(
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "inscrits.csv",
        "C'est un document PDF, pas un tableau",
        id="pdf-renamed-csv",
    ),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        "inscrits.csv",
        "Ce fichier n'est pas un tableau lisible",
        id="binary",
    ),
    pytest.param(
        (HEADER + "\nCœur;Zoé;01/01/1990;1;VAE\n").encode("iso-8859-15"),
        "x.csv",
        "Caractère inattendu « ½ » (ligne 2) : le fichier n'est sans doute ni en UTF-8 ni en "
        "Windows-1252",
        id="iso-8859-15-read-as-windows-1252",
    ),
    pytest.param(
        (HEADER + "\nHérault;Jérôme;01/01/1990;1;VAE\n").encode("mac_roman"),
        "x.csv",
        "Caractère inattendu « Ž » (ligne 1)",
        id="mac-roman-read-as-windows-1252",
    ),
    pytest.param(b"", "vide.csv", "Le fichier est vide.", id="empty-file"),
    pytest.param(b"\r\n \r\n", "blanc.csv", "Le fichier est vide.", id="blank-file"),
    pytest.param(
        (HEADER + "\n").encode(),
        "x.csv",
        "Le fichier ne contient que la ligne d'en-tête",
        id="header-only",
    ),
    pytest.param(
        b"nom;pr\xc3\xa9nom;num\xc3\xa9ro de candidat\nA;B;1\n",
        "x.csv",
        "Ligne 1 — La colonne « date de naissance » est obligatoire et manque au fichier.",
        id="missing-columns",
    ),
    pytest.param(
        (HEADER + ";téléphone\nA;B;01/01/1990;1;VAE;0600000000\n").encode(),
        "x.csv",
        "Ligne 1, colonne F (téléphone) — Colonne « téléphone » inconnue.",
        id="extra-column",
    ),
    pytest.param(
        (HEADER + "\nA;B;01/01/1990;1;VAE;en trop\n").encode(),
        "x.csv",
        "Ligne 2, colonne F — 6 valeurs pour 5 colonnes",
        id="extra-cell-in-a-row",
    ),
    pytest.param(
        (HEADER + "\nA;B;1990-13-01;1;VAE\nC;D;32/01/1990;2;VAE\n").encode(),
        "x.csv",
        "Ligne 3, colonne C (date de naissance) — « 32/01/1990 » n'est pas une date",
        id="bad-dates",
    ),
    pytest.param(
        (HEADER + "\nA;B;01/01/1990;N1;VAE\nC;D;02/01/1990;n1;VAE\n").encode(),
        "x.csv",
        "Ligne 3, colonne D (numéro de candidat) — "
        "Le numéro n1 figure déjà à la ligne 2 du fichier.",
        id="duplicate-number-in-file",
    ),
    pytest.param(
        (HEADER + "\nÉtienne;Zoé;01/01/1990;N1;VAE\nETIENNE;zoe;1990-01-01;N2;VAE\n").encode(),
        "x.csv",
        "Ligne 3, colonne A (nom) — ETIENNE zoe, même date de naissance, figure déjà à la ligne 2",
        id="duplicate-person-in-file",
    ),
    pytest.param(
        b"PK\x03\x04 not really a workbook",
        "x.xlsx",
        "Le classeur Excel est illisible",
        id="corrupt-xlsx",
    ),
]


@pytest.mark.parametrize(("content", "filename", "message"), BROKEN)
def test_broken_files_write_nothing(staff_client, db, exam, import_dir, content, filename, message):
    response = upload(staff_client, exam, content, filename)
    assert response.status_code == 422
    page = re.sub(r"</td>\s*<td>", " — ", text(response))
    assert message in page
    assert_nothing_written(db, exam, import_dir)


def test_duplicates_against_the_session(staff_client, db, exam, import_dir):
    known = exam.candidates[0]
    content = (
        f"{HEADER}\nNew;One;01/01/1980;{known.candidate_number};VAE\n"
        f"{known.last_name};{known.first_name};{known.birth_date:%d/%m/%Y};NEW-2;VAE\n"
    ).encode()
    response = upload(staff_client, exam, content)
    assert response.status_code == 422
    page = text(response)
    assert f"Le numéro {known.candidate_number} est déjà inscrit dans cette session." in page
    assert "même date de naissance, est déjà inscrit(e) dans cette session." in page
    assert "2 problèmes : aucun candidat ne sera créé." in page
    assert_nothing_written(db, exam, import_dir)


def test_ten_thousand_rows_with_an_error_on_the_last_one(staff_client, db, exam, import_dir):
    content = csv_rows(10_000, last="Dernier;Ligne;le 3 mai;N99999;formation")
    response = upload(staff_client, exam, content)
    assert response.status_code == 422
    assert "Ligne 10001, colonne C (date de naissance)" in text(response)
    assert "1 problème : aucun candidat ne sera créé." in text(response)
    assert_nothing_written(db, exam, import_dir)


def test_ten_thousand_valid_rows_are_imported_in_bulk(staff_client, db, exam, import_dir):
    response = upload(staff_client, exam, csv_rows(10_000))
    preview = staff_client.get(response.headers["Location"])
    assert "10000 candidats seront créés" in text(preview)
    assert confirm(staff_client, exam, token_of(response)).status_code == 303
    assert count(db, Candidate, session_id=exam.id) == 10_002
    assert audit_actions(db, exam.id).count("candidates_imported") == 1
    assert audit_actions(db).count("candidate_added") == 2  # the fixture's, none per row


def test_confirmation_checks_again(staff_client, db, exam, import_dir):
    """A candidate added between the preview and the confirmation is not duplicated."""
    response = upload(staff_client, exam, csv_rows(3))
    token = token_of(response)
    staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/nouveau",
        data={
            "candidate_number": "N00002",
            "last_name": "X",
            "first_name": "Y",
            "birth_date": "1980-01-01",
            "route": "vae",
        },
    )
    before = count(db, Candidate)
    refused = confirm(staff_client, exam, token)
    assert refused.status_code == 422
    assert "Le numéro N00002 est déjà inscrit dans cette session." in text(refused)
    assert count(db, Candidate) == before


def test_pending_file_belongs_to_its_session_and_uploader(app, staff_client, db, ntc, exam):
    from tests.factories import make_session

    token = token_of(upload(staff_client, exam, csv_rows(2)))
    other_session = make_session(ntc)
    other_staff = make_staff()
    db.session.commit()
    elsewhere = confirm(staff_client, other_session, token)
    assert elsewhere.status_code == 303 and "/candidats/import" in elsewhere.headers["Location"]
    colleague = app.test_client()
    sign_in_staff(colleague, other_staff)
    assert confirm(colleague, exam, token).status_code == 303
    tampered = staff_client.get(
        f"/centre/sessions/{exam.id}/candidats/import/apercu?jeton=../../secret_key"
    )
    assert tampered.status_code == 303
    assert count(db, Candidate) == len(exam.candidates) + len(other_session.candidates)
    assert confirm(staff_client, exam, token).status_code == 303  # still there for its owner
    assert count(db, Candidate, session_id=exam.id) == 4


def test_cancel_forgets_the_file(staff_client, db, exam, import_dir):
    token = token_of(upload(staff_client, exam, csv_rows(2)))
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/import/annuler", data={"token": token}
    )
    assert response.status_code == 303
    assert not list(import_dir.glob("*"))
    assert confirm(staff_client, exam, token).status_code == 303
    assert count(db, Candidate) == 2


def test_no_import_once_deliberating(staff_client, db, exam, import_dir):
    exam.state = SessionState.DELIBERATION
    db.session.commit()
    response = upload(staff_client, exam, csv_rows(2))
    assert response.status_code == 422
    assert "ne peuvent plus être modifiés" in text(response)
    assert_nothing_written(db, exam, import_dir)


def test_missing_file_is_422(staff_client, db, exam):
    response = staff_client.post(f"/centre/sessions/{exam.id}/candidats/import", data={})
    assert response.status_code == 422
    assert "Choisissez un fichier." in text(response)


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(staff_client, db, exam, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit > 10 * 1024 * 1024  # an import's own 10 MB limit answers below it

    # Sent as one raw multipart body: the server refuses it on its Content-Length alone.
    response = staff_client.post(
        f"/centre/sessions/{exam.id}/candidats/import",
        data=b"x" * (limit + 1),
        content_type="multipart/form-data; boundary=limite",
    )

    assert response.status_code == 413
    page = text(response)
    assert "Envoi trop volumineux" in page and "10 Mo au plus" in page
    assert count(db, Candidate) == 2  # the two candidates `exam` starts with


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_problems_give_the_spreadsheet_row_below_blank_rows(staff_client, db, exam, import_dir):
    header = ["Nom", "Prénom", "Date de naissance", "Numéro de candidat", "Parcours"]
    content = _xlsx(
        [
            [None] * 5,
            [None] * 5,
            header,
            ["Martin", "Léa", "32/01/1990", "A1", "formation"],
        ]
    )
    response = upload(staff_client, exam, content, "inscrits.xlsx")
    assert "Ligne 4, colonne C (Date de naissance)" in text(response)
    assert "Ligne 2," not in text(response)
    assert_nothing_written(db, exam, import_dir)


def test_a_title_above_the_header_is_explained_in_french(staff_client, db, exam, import_dir):
    content = (
        "Liste des inscrits — session de mars;;;;\n"
        "Nom;Prénom;Date de naissance;Numéro de candidat;Parcours\n"
        "Martin;Léa;12/03/1990;A1;formation\n"
    ).encode()
    page = text(upload(staff_client, exam, content))
    assert "La ligne d'en-tête (nom, prénom, date de naissance…) doit être la première" in page
    assert "elle semble être à la ligne 2" in page
    assert "inconnue" not in page
    assert_nothing_written(db, exam, import_dir)


def test_the_row_limit_is_written_the_french_way(staff_client, db, exam, import_dir, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 1_000)
    response = upload(staff_client, exam, csv_rows(1_001))
    page = response.get_data(as_text=True)
    assert "Le fichier dépasse 1\u202f000 lignes : découpez-le." in html.unescape(page)
    assert_nothing_written(db, exam, import_dir)
