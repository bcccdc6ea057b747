"""Read a referential YAML file, check it, and add it to the database.

Loading only flushes: the caller commits (or rolls back on error), so a load is part of the
caller's transaction and a failure leaves nothing behind once the caller rolls back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Hashable
from pathlib import Path

import yaml

from ..extensions import db
from ..models.referential import (
    Ccp,
    Certification,
    Competency,
    CompetencyModality,
    Criterion,
    Modality,
    Phase,
    PhaseCompetency,
    SessionFormat,
    TransversalCompetency,
    TransversalLink,
)
from .export import find_certification
from .validation import ReferentialError, validate_referential

__all__ = [
    "ReferentialError",
    "canonical_sha256",
    "load_referential",
    "load_referential_file",
    "read_referential_file",
]

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):
    """Safe YAML that refuses a key written twice (plain YAML silently keeps the last one)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"clé « {key} » en double", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_referential_file(path: str | Path) -> dict:
    """Parse and validate a referential YAML file without touching the database."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReferentialError(f"fichier introuvable : {path}") from None
    except UnicodeDecodeError:
        raise ReferentialError(f"{path.name} : le fichier n'est pas encodé en UTF-8") from None
    except OSError as error:
        raise ReferentialError(f"{path} : lecture impossible ({error.strerror})") from None
    try:
        data = yaml.load(source, Loader=_StrictLoader)  # a safe loader: plain data only
    except yaml.YAMLError as error:
        raise ReferentialError(_describe_yaml_error(error, path.name)) from None
    validate_referential(data)
    return data


def _describe_yaml_error(error: yaml.YAMLError, name: str) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return f"{name} : YAML invalide ({problem})"
    return f"{name}, ligne {mark.line + 1}, colonne {mark.column + 1} : YAML invalide ({problem})"


def canonical_sha256(data: dict) -> str:
    """SHA-256 of the referential's content, blind to comments, quoting and key order."""
    canonical = json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_value
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _json_value(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def load_referential_file(path: str | Path) -> Certification:
    """Validate and add the referential of a YAML file (flush only: the caller commits)."""
    return load_referential(read_referential_file(path))


def load_referential(data: dict, *, source_sha256: str | None = None) -> Certification:
    """Validate and add a parsed referential; an identical one already loaded is returned as is.

    Flushes only: the caller commits. `source_sha256` defaults to `canonical_sha256(data)`.
    """
    validate_referential(data)
    sha256 = source_sha256 or canonical_sha256(data)
    existing = find_certification(data["code"], data["version"])
    if existing is not None:
        if existing.source_sha256 == sha256:
            return existing
        # Sessions and minutes refer to a millésime: its content must stay what they were run on.
        raise ReferentialError(
            f"le référentiel {data['code']} v{data['version']} est déjà chargé avec un contenu "
            "différent ; un millésime publié ne change pas : donnez une nouvelle « version » "
            "au fichier modifié",
            "version",
        )

    certification = _build_certification(data, sha256)
    db.session.add(certification)
    # Competency.certification_id has no relationship to fill it, so the id must exist first.
    db.session.flush()
    modalities = {modality.code: modality for modality in certification.modalities}
    competencies: dict[str, Competency] = {}
    certification.ccps = [
        _build_ccp(ccp, position, certification, modalities, competencies)
        for position, ccp in enumerate(data["ccps"])
    ]
    certification.transversals = [
        TransversalCompetency(
            code=transversal["code"],
            title=transversal["title"],
            position=position,
            links=_links(TransversalLink, transversal["competencies"], competencies),
        )
        for position, transversal in enumerate(data["transversal"])
    ]
    ccps = {ccp.code: ccp for ccp in certification.ccps}
    certification.formats = [
        _build_format(session_format, position, ccps, modalities, competencies)
        for position, session_format in enumerate(data["formats"])
    ]
    db.session.flush()
    return certification


def _build_certification(data: dict, sha256: str) -> Certification:
    return Certification(
        code=data["code"],
        version=data["version"],
        title=data["title"],
        acronym=data["acronym"],
        level=data["level"],
        journal_officiel=data["journal_officiel"],
        updated_on=data["updated_on"],
        notes=[dict(note) for note in data["notes"]],
        source_sha256=sha256,
        modalities=[
            Modality(code=modality["code"], title=modality["title"], position=position)
            for position, modality in enumerate(data["modalities"])
        ],
        # Filled after the first flush; empty lists now so that filling them loads nothing.
        ccps=[],
        transversals=[],
        formats=[],
    )


def _build_ccp(
    data: dict,
    position: int,
    certification: Certification,
    modalities: dict[str, Modality],
    competencies: dict[str, Competency],
) -> Ccp:
    ccp = Ccp(code=data["code"], title=data["title"], position=position)
    for index, item in enumerate(data["competencies"]):
        competency = Competency(
            certification_id=certification.id,
            code=item["code"],
            title=item["title"],
            position=index,
            criteria=[Criterion(text=text, position=k) for k, text in enumerate(item["criteria"])],
            modality_links=[
                CompetencyModality(modality=modalities[code], position=k)
                for k, code in enumerate(item["modalities"])
            ],
        )
        ccp.competencies.append(competency)
        competencies[competency.code] = competency
    return ccp


def _build_format(
    data: dict,
    position: int,
    ccps: dict[str, Ccp],
    modalities: dict[str, Modality],
    competencies: dict[str, Competency],
) -> SessionFormat:
    production = data["production"] or {}
    pages = production.get("document_pages") or {}
    slides = production.get("slides") or {}
    return SessionFormat(
        code=data["code"],
        title=data["title"],
        position=position,
        ccp=ccps[data["ccp"]] if data["ccp"] is not None else None,
        total_minutes=data["total_minutes"],
        jury_minutes=data["jury_minutes"],
        company_hours=data["company_hours"],
        document_pages_min=pages.get("min"),
        document_pages_max=pages.get("max"),
        slides_min=slides.get("min"),
        slides_max=slides.get("max"),
        phases=[
            Phase(
                position=index,
                code=phase["code"],
                title=phase["title"],
                part=phase["part"],
                description=phase["description"],
                modality=modalities[phase["modality"]] if phase["modality"] is not None else None,
                minutes=phase["minutes"],
                jury_present=phase["jury"],
                supervised=phase["supervised"],
                capitalisation_only=phase.get("capitalisation_only", False),
                competency_links=_links(PhaseCompetency, phase["competencies"], competencies),
            )
            for index, phase in enumerate(data["phases"])
        ],
    )


def _links(
    link_class: type[TransversalLink | PhaseCompetency],
    codes: list[str],
    competencies: dict[str, Competency],
) -> list:
    return [
        link_class(competency=competencies[code], position=position)
        for position, code in enumerate(codes)
    ]
