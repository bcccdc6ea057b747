"""Candidate rows of an import file once decoded into text cells: columns, values, duplicates.

The centre decodes CSV or XLSX into a table of strings; this module says what would be
created and lists every problem by line and column, as codes with parameters that the web
layer turns into French. An import is all or nothing: one problem and nothing is created.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .vocabulary import Route

LAST_NAME = "last_name"
FIRST_NAME = "first_name"
BIRTH_DATE = "birth_date"
NUMBER = "candidate_number"
ROUTE = "route"
HELD_CCPS = "held_ccps"
ARRANGEMENTS = "disability_arrangements"
CONTEXT = "company_context"

FIELDS = (LAST_NAME, FIRST_NAME, BIRTH_DATE, NUMBER, ROUTE, HELD_CCPS, ARRANGEMENTS, CONTEXT)
REQUIRED = (LAST_NAME, FIRST_NAME, BIRTH_DATE, NUMBER, ROUTE)
MAX_LENGTH = {
    LAST_NAME: 100,
    FIRST_NAME: 100,
    NUMBER: 40,
    CONTEXT: 200,
    ARRANGEMENTS: 2000,
    HELD_CCPS: 200,
}

# Header spellings met in the wild, once accents, case, spaces and punctuation are dropped.
HEADER_ALIASES: dict[str, frozenset[str]] = {
    LAST_NAME: frozenset(
        {"nom", "noms", "nomdefamille", "nomdenaissance", "nomdusage", "nomducandidat"}
    ),
    FIRST_NAME: frozenset({"prenom", "prenoms", "prenomducandidat"}),
    BIRTH_DATE: frozenset(
        {"datedenaissance", "datenaissance", "naissance", "nele", "nee", "nelee", "neele"}
    ),
    NUMBER: frozenset(
        {
            "numerodecandidat",
            "numerocandidat",
            "numeroducandidat",
            "ndecandidat",
            "ncandidat",
            "nocandidat",
            "numcandidat",
            "numero",
            "identifiantcandidat",
        }
    ),
    ROUTE: frozenset({"parcours", "voie", "voiedacces", "parcoursdacces", "modalitedacces"}),
    HELD_CCPS: frozenset(
        {"ccpdejaobtenus", "ccpobtenus", "ccpdejaacquis", "ccpacquis", "ccpdetenus", "ccp"}
    ),
    ARRANGEMENTS: frozenset(
        {
            "amenagements",
            "amenagement",
            "amenagementshandicap",
            "amenagementhandicap",
            "amenagementsdepreuves",
            "handicap",
        }
    ),
    CONTEXT: frozenset(
        {
            "contextedentreprise",
            "contexteentreprise",
            "contextedentreprisechoisi",
            "contextechoisi",
            "contexte",
        }
    ),
}
_FIELD_OF_HEADER = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

_ROUTE_PREFIXES = (
    ("formation", Route.TRAINING),
    ("parcoursdeformation", Route.TRAINING),
    ("vae", Route.VAE),
    ("validationdesacquis", Route.VAE),
    ("capitalisation", Route.CAPITALISATION),
)
_NOTHING = frozenset({"", "aucun", "aucune", "neant", "non", "sans"})
_DATE_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_CCP_LIST = re.compile(r"(?:CCP\s*)?\d+(?:\s*(?:[,;/+&]|\s|ET)\s*(?:CCP\s*)?\d+)*")
_CCP_ITEM = re.compile(r"(?:CCP\s*)?(\d+)")


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong, where: `line` is the file's own line (or spreadsheet row) number, blank
    lines above the header counted, `column` 0-based."""

    code: str
    line: int | None = None
    column: int | None = None
    header: str = ""
    name: str = ""  # the field (FIELDS) the column holds
    params: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class CandidateRow:
    line: int
    last_name: str
    first_name: str
    birth_date: dt.date
    candidate_number: str
    route: Route
    held_ccps: tuple[str, ...] = ()
    disability_arrangements: str = ""
    company_context: str = ""


@dataclass(frozen=True, slots=True)
class ParsedRows:
    rows: tuple[CandidateRow, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What the rows are checked against: the session's CCPs and candidates already there."""

    today: dt.date
    ccp_codes: tuple[str, ...] = ()
    session_ccp: str | None = None  # a CCP session: that CCP cannot be already held
    numbers: frozenset[str] = frozenset()  # number_key() of existing candidates
    people: frozenset[tuple[str, dt.date]] = frozenset()  # person_key() of existing candidates


def normalise(text: str) -> str:
    """Lower case, no accents, letters and digits only: « N° de candidat » → « ndecandidat »."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", bare.casefold())


def number_key(number: str) -> str:
    return number.strip().casefold()


def person_key(last_name: str, first_name: str, birth_date: dt.date) -> tuple[str, dt.date]:
    return (normalise(last_name) + "|" + normalise(first_name), birth_date)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA, as spreadsheets name columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def parse_candidate_rows(table: Sequence[Sequence[str]], context: SessionContext) -> ParsedRows:
    """Check every row of `table` (header first); rows are created only if nothing is wrong."""
    table = [list(row) for row in table]
    # Blank lines above the header are skipped, but still counted: the line numbers given
    # back are the ones the spreadsheet or the text editor shows.
    first = next((i for i, row in enumerate(table) if any(cell.strip() for cell in row)), None)
    if first is None:
        return ParsedRows((), (Problem("empty_file"),))
    header_line = first + 1
    header = [cell.strip() for cell in table[first]]
    columns, problems = match_columns(header, line=header_line)
    if not columns:
        return ParsedRows((), (_not_a_header(table, first),))
    if problems:
        return ParsedRows((), tuple(problems))
    rows: list[CandidateRow] = []
    problems = []
    for index, cells in enumerate(table[first + 1 :], start=header_line + 1):
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets keep blank lines; they create nothing
        row, row_problems = _parse_row(index, cells, header, columns, context)
        problems += row_problems
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        problems.append(Problem("no_rows"))
    problems += _duplicates(rows, header, columns, context)
    problems.sort(key=lambda p: (p.line or 0, p.column if p.column is not None else -1))
    return ParsedRows(tuple(rows), tuple(problems))


def _not_a_header(table: list[list[str]], first: int) -> Problem:
    """The first line names no known column: a title above the header, most often. Points to
    the line that looks like the header, if one of the next few does."""
    for index in range(first + 1, min(len(table), first + 11)):
        if len(match_columns([cell.strip() for cell in table[index]])[0]) >= 2:
            return Problem("header_not_first", line=first + 1, params={"header_line": index + 1})
    return Problem("no_header", line=first + 1)


def match_columns(header: Sequence[str], *, line: int = 1) -> tuple[dict[str, int], list[Problem]]:
    """Field → column index, and the problems of the header line (the file's `line`)."""
    columns: dict[str, int] = {}
    problems: list[Problem] = []
    for index, text in enumerate(header):
        if not text:
            problems.append(Problem("blank_column", line=line, column=index))
            continue
        name = _FIELD_OF_HEADER.get(normalise(text))
        if name is None:
            problems.append(Problem("unknown_column", line=line, column=index, header=text))
        elif name in columns:
            problems.append(
                Problem(
                    "duplicate_column",
                    line=line,
                    column=index,
                    header=text,
                    name=name,
                    params={"first": column_letter(columns[name])},
                )
            )
        else:
            columns[name] = index
    problems += [Problem("missing_column", line=line, name=f) for f in REQUIRED if f not in columns]
    return columns, problems


def _parse_row(
    line: int,
    cells: list[str],
    header: list[str],
    columns: dict[str, int],
    context: SessionContext,
) -> tuple[CandidateRow | None, list[Problem]]:
    problems: list[Problem] = []
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
        problems.append(
            Problem(
                "too_many_cells",
                line=line,
                column=len(header),
                params={"count": len(cells), "expected": len(header)},
            )
        )

    def problem(code: str, name: str, **params) -> None:
        index = columns[name]
        problems.append(
            Problem(code, line=line, column=index, header=header[index], name=name, params=params)
        )

    values: dict[str, str] = {}
    for name, index in columns.items():
        value = " ".join(cells[index].split()) if index < len(cells) else ""
        if name == ARRANGEMENTS and index < len(cells):
            # A free text keeps its line breaks, whichever system wrote them.
            value = cells[index].replace("\r\n", "\n").replace("\r", "\n").strip()
        if name in REQUIRED and not value:
            problem("required", name)
        elif len(value) > MAX_LENGTH.get(name, 10_000):
            problem("too_long", name, max=MAX_LENGTH[name])
        values[name] = value

    birth_date = route = held = None
    if values.get(BIRTH_DATE):
        birth_date = parse_date(values[BIRTH_DATE])
        if birth_date is None:
            problem("bad_date", BIRTH_DATE, value=values[BIRTH_DATE])
        elif not dt.date(1900, 1, 1) <= birth_date < context.today:
            problem("implausible_date", BIRTH_DATE, value=values[BIRTH_DATE])
            birth_date = None
    if values.get(ROUTE):
        route = parse_route(values[ROUTE])
        if route is None:
            problem("bad_route", ROUTE, value=values[ROUTE])
    if HELD_CCPS in columns:
        held, code, params = parse_held_ccps(values[HELD_CCPS], context)
        if code:
            problem(code, HELD_CCPS, **params)
    if problems or birth_date is None or route is None:
        return None, problems
    return (
        CandidateRow(
            line=line,
            last_name=values[LAST_NAME],
            first_name=values[FIRST_NAME],
            birth_date=birth_date,
            candidate_number=values[NUMBER],
            route=route,
            held_ccps=held or (),
            disability_arrangements=values.get(ARRANGEMENTS, ""),
            company_context=values.get(CONTEXT, ""),
        ),
        [],
    )


def parse_date(text: str) -> dt.date | None:
    """dd/mm/yyyy (also with - or .) or yyyy-mm-dd; None when it is not a real date."""
    text = text.strip()
    match = _DATE_DMY.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _DATE_ISO.fullmatch(text)
        if not match:
            return None
        year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_route(text: str) -> Route | None:
    key = normalise(text)
    return next((route for prefix, route in _ROUTE_PREFIXES if key.startswith(prefix)), None)


def parse_held_ccps(text: str, context: SessionContext) -> tuple[tuple[str, ...], str | None, dict]:
    """("CCP1",), or a problem code with its parameters."""
    if normalise(text) in _NOTHING:
        return (), None, {}
    upper = text.upper().strip()
    if not _CCP_LIST.fullmatch(upper):
        return (), "bad_ccp_list", {"value": text}
    known = {normalise(code): code for code in context.ccp_codes}
    held: list[str] = []
    for number in _CCP_ITEM.findall(upper):
        code = known.get("ccp" + str(int(number)))
        if code is None:
            return (), "unknown_ccp", {"value": f"CCP{number}", "known": ", ".join(known.values())}
        if code == context.session_ccp:
            return (), "ccp_of_session", {"value": code}
        if code not in held:
            held.append(code)
    return tuple(held), None, {}


def _duplicates(
    rows: Iterable[CandidateRow],
    header: list[str],
    columns: dict[str, int],
    context: SessionContext,
) -> list[Problem]:
    problems: list[Problem] = []
    numbers: dict[str, int] = {}
    people: dict[tuple[str, dt.date], int] = {}

    def problem(code: str, row: CandidateRow, name: str, **params) -> None:
        index = columns[name]
        problems.append(
            Problem(
                code, line=row.line, column=index, header=header[index], name=name, params=params
            )
        )

    for row in rows:
        number = number_key(row.candidate_number)
        person = person_key(row.last_name, row.first_name, row.birth_date)
        if number in context.numbers:
            problem("number_in_session", row, NUMBER, value=row.candidate_number)
        elif number in numbers:
            problem(
                "number_in_file", row, NUMBER, value=row.candidate_number, other=numbers[number]
            )
        if person in context.people:
            problem("person_in_session", row, LAST_NAME, person=_name(row))
        elif person in people:
            problem("person_in_file", row, LAST_NAME, person=_name(row), other=people[person])
        numbers.setdefault(number, row.line)
        people.setdefault(person, row.line)
    return problems


def _name(row: CandidateRow) -> str:
    return f"{row.last_name.upper()} {row.first_name}"
