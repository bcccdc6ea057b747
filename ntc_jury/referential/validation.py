"""Check a parsed referential (RE) before anything is written: shape first, then meaning.

The shape is described as data (`ROOT` below); the checks of meaning follow the file's order so
the error names the first problem a reader would meet. Messages are in French, for the staff.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from ..models.referential import (
    Ccp,
    Certification,
    Competency,
    Modality,
    Phase,
    SessionFormat,
    TransversalCompetency,
)

SUPPORTED_SCHEMA = 1


class ReferentialError(Exception):
    """A referential file or dict that cannot be loaded; the message (French) names the place."""

    def __init__(self, problem: str, place: str = "") -> None:
        self.place = place
        self.problem = problem
        super().__init__(f"{place} : {problem}" if place else problem)


# --------------------------------------------------------------------------- shape, as data


@dataclass(frozen=True)
class Kind:
    expected: str  # French, the start of "<expected>, trouvé <what>"
    accepts: Callable[[object], bool]


TEXT = Kind("texte attendu", lambda v: isinstance(v, str))
# bool is an int in Python; `minutes: true` is a mistake, not 1 minute.
INTEGER = Kind("nombre entier attendu", lambda v: isinstance(v, int) and not isinstance(v, bool))
BOOLEAN = Kind("booléen attendu (true ou false)", lambda v: isinstance(v, bool))
DATE = Kind(
    "date attendue (AAAA-MM-JJ)",
    lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime),
)
LIST = Kind("liste attendue", lambda v: isinstance(v, list))
MAPPING = Kind("dictionnaire attendu (clé: valeur)", lambda v: isinstance(v, dict))


@dataclass(frozen=True)
class Key:
    """What one value must be; `items` describes list elements, `fields` a mapping's keys.

    Lists must not be empty unless `non_empty=False`; texts must never be blank.
    """

    kind: Kind
    required: bool = True
    nullable: bool = False
    minimum: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    non_empty: bool = True
    items: Key | None = None
    fields: Mapping[str, Key] = field(default_factory=dict)


def text(max_length: int | None = None, **options) -> Key:
    """A non-blank string, at most `max_length` characters."""
    return Key(TEXT, max_length=max_length, **options)


def integer(minimum: int | None = None, **options) -> Key:
    """An integer (never a boolean), at least `minimum`."""
    return Key(INTEGER, minimum=minimum, **options)


def list_of(item: Key, **options) -> Key:
    """A list whose every element is `item`."""
    return Key(LIST, items=item, **options)


def mapping(fields: Mapping[str, Key], **options) -> Key:
    """A dict with exactly these keys (the optional ones may be left out)."""
    return Key(MAPPING, fields=fields, **options)


# Lengths come from the columns: PostgreSQL refuses a longer value, SQLite would keep it.
MODALITY = mapping(
    {"code": text(Modality.code.type.length), "title": text(Modality.title.type.length)}
)
COMPETENCY = mapping(
    {
        "code": text(Competency.code.type.length),
        "title": text(Competency.title.type.length),
        "modalities": list_of(text()),
        "criteria": list_of(text()),
    }
)
CCP = mapping(
    {
        "code": text(Ccp.code.type.length),
        "title": text(Ccp.title.type.length),
        "competencies": list_of(COMPETENCY),
    }
)
TRANSVERSAL = mapping(
    {
        "code": text(TransversalCompetency.code.type.length),
        "title": text(TransversalCompetency.title.type.length),
        "competencies": list_of(text()),
    }
)
LIMITS = mapping({"min": integer(0), "max": integer(0)}, required=False)
PHASE = mapping(
    {
        "code": text(Phase.code.type.length, pattern=r"[A-Z0-9]+(-[A-Z0-9]+)*"),
        "title": text(Phase.title.type.length),
        "part": text(Phase.part.type.length, nullable=True),
        "modality": text(nullable=True),
        "minutes": integer(1),
        "jury": Key(BOOLEAN),
        "supervised": Key(BOOLEAN),
        "competencies": list_of(text(), non_empty=False),  # preparation time evaluates none
        "description": text(nullable=True),
        "capitalisation_only": Key(BOOLEAN, required=False),
    }
)
FORMAT = mapping(
    {
        "code": text(SessionFormat.code.type.length),
        "title": text(SessionFormat.title.type.length),
        "ccp": text(nullable=True),
        "total_minutes": integer(1),
        "jury_minutes": integer(0),
        "company_hours": integer(0, nullable=True),
        "production": mapping({"document_pages": LIMITS, "slides": LIMITS}, nullable=True),
        "phases": list_of(PHASE),
    }
)
NOTE = mapping({"topic": text(), "text": text()})
ROOT = mapping(
    {
        "schema": integer(),
        "code": text(Certification.code.type.length),
        "version": text(Certification.version.type.length),
        "title": text(Certification.title.type.length),
        "acronym": text(Certification.acronym.type.length),
        "level": integer(1),
        "journal_officiel": Key(DATE, nullable=True),
        "updated_on": Key(DATE, nullable=True),
        "modalities": list_of(MODALITY),
        "ccps": list_of(CCP),
        "transversal": list_of(TRANSVERSAL, non_empty=False),
        "formats": list_of(FORMAT),
        "notes": list_of(NOTE, non_empty=False),
    }
)


def validate_referential(data: object) -> None:
    """Raise ReferentialError at the first problem of a parsed referential; return if sound."""
    if not isinstance(data, dict):
        raise ReferentialError("le référentiel doit être un dictionnaire YAML (clé: valeur)")
    schema = data.get("schema")
    if "schema" in data and schema != SUPPORTED_SCHEMA:
        raise ReferentialError(
            f"version de format {schema!r} non prise en charge (seule la version "
            f"{SUPPORTED_SCHEMA} est connue)",
            "schema",
        )
    _check_shape(data, ROOT, "")
    _check_meaning(data)


def _check_shape(value: object, key: Key, place: str) -> None:
    if value is None:
        if key.nullable:
            return
        raise ReferentialError(f"{key.kind.expected}, trouvé null", place)
    if not key.kind.accepts(value):
        raise ReferentialError(f"{key.kind.expected}, trouvé {_describe(value)}", place)
    if key.kind is TEXT:
        _check_text(value, key, place)
    elif key.kind is INTEGER and key.minimum is not None and value < key.minimum:
        wanted = "strictement positif" if key.minimum == 1 else f"au moins {key.minimum}"
        raise ReferentialError(f"nombre {wanted} attendu, trouvé {value}", place)
    elif key.kind is LIST:
        if key.non_empty and not value:
            raise ReferentialError("liste vide", place)
        for index, item in enumerate(value):
            _check_shape(item, key.items, f"{place}[{index}]")
    elif key.kind is MAPPING:
        _check_fields(value, key.fields, place)


def _check_text(value: str, key: Key, place: str) -> None:
    if not value.strip():
        raise ReferentialError("texte vide", place)
    if key.max_length is not None and len(value) > key.max_length:
        raise ReferentialError(
            f"texte trop long ({len(value)} caractères, {key.max_length} au plus)", place
        )
    if key.pattern is not None and not re.fullmatch(key.pattern, value):
        raise ReferentialError(
            f"code « {value} » invalide (majuscules, chiffres et tirets seulement)", place
        )


def _check_fields(value: dict, fields: Mapping[str, Key], place: str) -> None:
    prefix = f"{place}." if place else ""
    for name in value:
        if name not in fields:
            hint = difflib.get_close_matches(str(name), fields, n=1)
            suffix = f" (vouliez-vous dire « {hint[0]} » ?)" if hint else ""
            raise ReferentialError(f"clé inconnue{suffix}", f"{prefix}{name}")
    for name, key in fields.items():
        if name in value:
            _check_shape(value[name], key, f"{prefix}{name}")
        elif key.required:
            raise ReferentialError("clé obligatoire absente", f"{prefix}{name}")


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"booléen « {str(value).lower()} »"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"texte « {shown} »"
    if isinstance(value, int | float):
        return f"nombre « {value} »"
    if isinstance(value, dt.date):
        return f"date « {value.isoformat()} »"
    if isinstance(value, list):
        return "une liste"
    if isinstance(value, dict):
        return "un dictionnaire"
    return type(value).__name__


# --------------------------------------------------------------------------- meaning


UNKNOWN_MODALITY = "modalité inconnue « {code} »"
UNKNOWN_COMPETENCY = "compétence « {code} » définie dans aucun CCP"


def _check_meaning(data: dict) -> None:
    modalities = _unique_codes(data["modalities"], "modalities", "modalité")
    ccps = _unique_codes(data["ccps"], "ccps", "CCP")
    competencies: dict[str, dict] = {}  # codes are unique across CCPs, not only within one
    ccp_of: dict[str, str] = {}
    for i, ccp in enumerate(data["ccps"]):
        place = f"ccps[{i}].competencies"
        for code in _unique_codes(ccp["competencies"], place, "compétence", seen=competencies):
            ccp_of[code] = ccp["code"]
        for j, competency in enumerate(ccp["competencies"]):
            here = f"{place}[{j}]"
            _check_references(
                competency["modalities"], f"{here}.modalities", modalities, UNKNOWN_MODALITY
            )
            _check_no_repeat(competency["criteria"], f"{here}.criteria", "critère en double")

    _unique_codes(data["transversal"], "transversal", "compétence transversale")
    for i, transversal in enumerate(data["transversal"]):
        _check_references(
            transversal["competencies"],
            f"transversal[{i}].competencies",
            competencies,
            UNKNOWN_COMPETENCY,
        )

    _unique_codes(data["formats"], "formats", "format")
    for i, session_format in enumerate(data["formats"]):
        _check_format(session_format, f"formats[{i}]", modalities, ccps, competencies, ccp_of)


def _check_format(
    session_format: dict,
    place: str,
    modalities: dict,
    ccps: dict,
    competencies: dict,
    ccp_of: dict[str, str],
) -> None:
    ccp = session_format["ccp"]
    if ccp is not None and ccp not in ccps:
        raise ReferentialError(f"CCP inconnu « {ccp} »", f"{place}.ccp")
    _unique_codes(session_format["phases"], f"{place}.phases", "phase")
    for j, phase in enumerate(session_format["phases"]):
        here = f"{place}.phases[{j}]"
        modality = phase["modality"]
        if modality is not None and modality not in modalities:
            raise ReferentialError(UNKNOWN_MODALITY.format(code=modality), f"{here}.modality")
        _check_references(
            phase["competencies"], f"{here}.competencies", competencies, UNKNOWN_COMPETENCY
        )
        for k, code in enumerate(phase["competencies"]):
            if ccp is not None and ccp_of[code] != ccp:
                raise ReferentialError(
                    f"la compétence « {code} » appartient au {ccp_of[code]}, pas au {ccp}",
                    f"{here}.competencies[{k}]",
                )
            if modality is not None and modality not in competencies[code]["modalities"]:
                raise ReferentialError(
                    f"la compétence « {code} » n'est pas évaluée par la modalité « {modality} »",
                    f"{here}.competencies[{k}]",
                )
    _check_durations(session_format, place)
    for name, limits in (session_format["production"] or {}).items():
        if limits["min"] > limits["max"]:
            raise ReferentialError(
                f"minimum {limits['min']} supérieur au maximum {limits['max']}",
                f"{place}.production.{name}",
            )


def _check_durations(session_format: dict, place: str) -> None:
    # The capitalisation entretien final is outside the RE's totals (see the NTC notes).
    timed = [p for p in session_format["phases"] if not p.get("capitalisation_only", False)]
    sums = (
        ("total_minutes", "des phases", sum(p["minutes"] for p in timed)),
        ("jury_minutes", "des phases avec jury", sum(p["minutes"] for p in timed if p["jury"])),
    )
    for key, which, total in sums:
        declared = session_format[key]
        if total != declared:
            raise ReferentialError(
                f"la durée {which} (hors capitalisation) fait {total} min, "
                f"mais {declared} min sont déclarées",
                f"{place}.{key}",
            )


def _unique_codes(
    items: list[dict], place: str, label: str, seen: dict[str, dict] | None = None
) -> dict[str, dict]:
    """Index items by code, refusing a code already met (`seen` spans several lists)."""
    seen = {} if seen is None else seen
    found: dict[str, dict] = {}
    for index, item in enumerate(items):
        code = item["code"]
        if code in seen:
            raise ReferentialError(
                f"code de {label} « {code} » en double", f"{place}[{index}].code"
            )
        seen[code] = found[code] = item
    return found


def _check_references(codes: list[str], place: str, known: Mapping, unknown: str) -> None:
    for index, code in enumerate(codes):
        if code not in known:
            raise ReferentialError(unknown.format(code=code), f"{place}[{index}]")
    _check_no_repeat(codes, place, "code en double")


def _check_no_repeat(values: list[Hashable], place: str, problem: str) -> None:
    list_name = place.rpartition(".")[2]
    first_seen: dict[Hashable, int] = {}
    for index, value in enumerate(values):
        if value in first_seen:
            raise ReferentialError(
                f"{problem} (identique à {list_name}[{first_seen[value]}])", f"{place}[{index}]"
            )
        first_seen[value] = index
