"""Candidate rows once decoded: liberal headers, strict values, every problem located."""

from __future__ import annotations

import datetime as dt

import pytest

from ntc_jury.core.candidate_rows import (
    BIRTH_DATE,
    NUMBER,
    SessionContext,
    column_letter,
    normalise,
    parse_candidate_rows,
    parse_date,
    parse_held_ccps,
    parse_route,
    person_key,
)
from ntc_jury.core.vocabulary import Route

TODAY = dt.date(2026, 3, 1)
CONTEXT = SessionContext(today=TODAY, ccp_codes=("CCP1", "CCP2"))
HEADER = ["Nom", "Prénom", "Date de naissance", "Numéro de candidat", "Parcours"]


def parse(rows, context=CONTEXT, header=HEADER):
    return parse_candidate_rows([header, *rows], context)


def codes(parsed) -> list[tuple[str, int | None, int | None]]:
    return [(p.code, p.line, p.column) for p in parsed.problems]


@pytest.mark.parametrize(
    "header",
    [
        ["NOM", "PRENOM", "DATE DE NAISSANCE", "N° de candidat", "parcours"],
        [" nom ", "Prénoms", "date_naissance", "numero-candidat", "Voie d'accès"],
        ["Nom de famille", "prénom", "Né(e) le", "N° candidat", "PARCOURS"],
    ],
)
def test_headers_are_matched_liberally(header):
    parsed = parse([["Moreau", "Julie", "12/03/1994", "A1", "formation"]], header=header)
    assert parsed.ok, parsed.problems
    row = parsed.rows[0]
    assert (row.last_name, row.birth_date, row.candidate_number, row.route) == (
        "Moreau",
        dt.date(1994, 3, 12),
        "A1",
        Route.TRAINING,
    )


def test_all_columns_and_optional_values():
    header = [
        *HEADER,
        "CCP déjà obtenus",
        "Aménagements (handicap)",
        "Contexte d'entreprise choisi",
    ]
    parsed = parse(
        [
            [
                "Nguyen",
                "Linh",
                "1991-06-25",
                "A3",
                "Capitalisation de CCP",
                "ccp 1",
                "Tiers temps",
                "Contexte A",
            ],
            ["Petit", "Antoine", "30/01/1999", "A4", "VAE", "", "", ""],
        ],
        header=header,
    )
    assert parsed.ok, parsed.problems
    first, second = parsed.rows
    assert first.held_ccps == ("CCP1",) and first.route == Route.CAPITALISATION
    assert first.disability_arrangements == "Tiers temps" and first.company_context == "Contexte A"
    assert second.held_ccps == () and second.route == Route.VAE
    assert (first.line, second.line) == (2, 3)  # the file's own line numbers


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([], [("no_rows", None, None)], id="header-only"),
        pytest.param([["", "", "", "", ""]], [("no_rows", None, None)], id="blank-rows-only"),
        pytest.param(
            [["M", "J", "31/02/1994", "A", "formation"]], [("bad_date", 2, 2)], id="impossible-date"
        ),
        pytest.param(
            [["M", "J", "12/03/94", "A", "formation"]], [("bad_date", 2, 2)], id="two-digit-year"
        ),
        pytest.param(
            [["M", "J", "2027-01-01", "A", "formation"]],
            [("implausible_date", 2, 2)],
            id="future-birth",
        ),
        pytest.param(
            [["M", "J", "12/03/1994", "A", "alternance"]], [("bad_route", 2, 4)], id="unknown-route"
        ),
        pytest.param(
            [["M", "", "12/03/1994", "", "formation"]],
            [("required", 2, 1), ("required", 2, 3)],
            id="required-values",
        ),
        pytest.param(
            [["M" * 101, "J", "12/03/1994", "A", "formation"]], [("too_long", 2, 0)], id="too-long"
        ),
        pytest.param(
            [["M", "J", "12/03/1994", "A", "formation", "en trop"]],
            [("too_many_cells", 2, 5)],
            id="extra-cell",
        ),
        pytest.param(
            [["M", "J", "12/03/1994", "A", "formation"], ["N", "K", "01/01/1990", "a ", "VAE"]],
            [("number_in_file", 3, 3)],
            id="same-number-in-file",
        ),
        pytest.param(
            [
                ["Lefèvre", "Zoé", "12/03/1994", "A", "VAE"],
                ["LEFEVRE", "zoe", "1994-03-12", "B", "VAE"],
            ],
            [("person_in_file", 3, 0)],
            id="same-person-in-file",
        ),
    ],
)
def test_row_problems(rows, expected):
    parsed = parse(rows)
    assert codes(parsed) == expected
    assert not parsed.ok


def test_short_rows_are_padded_not_refused():
    parsed = parse([["M", "J", "12/03/1994", "A", "formation"], ["N", "K", "01/01/1990", "B"]])
    assert codes(parsed) == [("required", 3, 4)]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            ["Nom", "Prénom", "Numéro"], [("missing_column", 1, None)] * 2, id="missing-columns"
        ),
        pytest.param([*HEADER, "Téléphone"], [("unknown_column", 1, 5)], id="unknown-column"),
        pytest.param([*HEADER, "N° candidat"], [("duplicate_column", 1, 5)], id="same-field-twice"),
        pytest.param([*HEADER, ""], [("blank_column", 1, 5)], id="untitled-column"),
    ],
)
def test_header_problems_stop_before_the_rows(header, expected):
    parsed = parse([["M", "J", "bad date", "A", "formation", "x"]], header=header)
    assert codes(parsed) == expected
    assert parsed.rows == ()
    missing = {p.name for p in parsed.problems if p.code == "missing_column"}
    if missing:
        assert missing == {BIRTH_DATE, "route"}


def test_empty_table():
    assert codes(parse_candidate_rows([], CONTEXT)) == [("empty_file", None, None)]
    assert codes(parse_candidate_rows([[""], ["  "]], CONTEXT)) == [("empty_file", None, None)]


def test_duplicates_against_the_session():
    context = SessionContext(
        today=TODAY,
        numbers=frozenset({"a1"}),
        people=frozenset({person_key("Moreau", "Julie", dt.date(1994, 3, 12))}),
    )
    parsed = parse(
        [
            ["Moreau", "Julie", "12/03/1994", "Z9", "formation"],
            ["X", "Y", "01/01/1990", "A1", "VAE"],
        ],
        context,
    )
    assert codes(parsed) == [("person_in_session", 2, 0), ("number_in_session", 3, 3)]
    assert parsed.problems[1].params == {"value": "A1"}
    assert parsed.problems[1].name == NUMBER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/03/1994", dt.date(1994, 3, 12)),
        ("1/3/1994", dt.date(1994, 3, 1)),
        ("12-03-1994", dt.date(1994, 3, 12)),
        ("12.03.1994", dt.date(1994, 3, 12)),
        ("1994-03-12", dt.date(1994, 3, 12)),
        (" 1994-3-2 ", dt.date(1994, 3, 2)),
        ("1994/03/12", None),
        ("12 mars 1994", None),
        ("29/02/2023", None),
        ("", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("formation", Route.TRAINING),
        ("Formation continue", Route.TRAINING),
        ("VAE", Route.VAE),
        ("Validation des acquis de l'expérience", Route.VAE),
        ("CAPITALISATION", Route.CAPITALISATION),
        ("Capitalisation de CCP", Route.CAPITALISATION),
        ("apprentissage", None),
    ],
)
def test_parse_route(text, expected):
    assert parse_route(text) == expected


@pytest.mark.parametrize(
    ("text", "held", "code"),
    [
        ("", (), None),
        ("aucun", (), None),
        ("Néant", (), None),
        ("CCP1", ("CCP1",), None),
        ("ccp 1, CCP2", ("CCP1", "CCP2"), None),
        ("1;2", ("CCP1", "CCP2"), None),
        ("CCP1 et CCP2", ("CCP1", "CCP2"), None),
        ("CCP1, CCP1", ("CCP1",), None),
        ("CCP3", (), "unknown_ccp"),
        ("le premier", (), "bad_ccp_list"),
    ],
)
def test_parse_held_ccps(text, held, code):
    found, problem, _params = parse_held_ccps(text, CONTEXT)
    assert (found, problem) == (held, code)


def test_a_ccp_session_cannot_list_its_own_ccp():
    context = SessionContext(today=TODAY, ccp_codes=("CCP1", "CCP2"), session_ccp="CCP2")
    assert parse_held_ccps("CCP1, CCP2", context)[1] == "ccp_of_session"


def test_helpers():
    assert normalise("N° de Candidat ") == "ndecandidat"
    assert normalise("Œuvre à ÉTÉ") == "oeuvreaete"
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


def test_line_numbers_count_the_blank_lines_above_the_header():
    blank = ["", "", "", "", ""]
    parsed = parse_candidate_rows(
        [
            blank,
            blank,
            HEADER,
            ["Martin", "Léa", "12/03/1990", "A1", "formation"],
            ["Petit", "Antoine", "32/01/1999", "A2", "VAE"],
        ],
        CONTEXT,
    )
    assert [row.line for row in parsed.rows] == [4]
    assert codes(parsed) == [("bad_date", 5, 2)]
    header_problem = parse_candidate_rows([blank, [*HEADER, "Téléphone"]], CONTEXT)
    assert codes(header_problem) == [("unknown_column", 2, 5)]


def test_a_title_line_above_the_header_is_named_once():
    parsed = parse_candidate_rows(
        [
            ["Liste des inscrits — session de mars", "", "", "", ""],
            ["", "", "", "", ""],
            HEADER,
            ["Martin", "Léa", "12/03/1990", "A1", "formation"],
        ],
        CONTEXT,
    )
    assert [(p.code, p.line, p.params) for p in parsed.problems] == [
        ("header_not_first", 1, {"header_line": 3})
    ]
    no_header = parse_candidate_rows([["Martin", "Léa", "12/03/1990", "A1", "formation"]], CONTEXT)
    assert codes(no_header) == [("no_header", 1, None)]
