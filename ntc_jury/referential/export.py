"""The referential back as plain data (for JSON): find a loaded version, export it."""

from __future__ import annotations

import re

from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models.referential import (
    Ccp,
    Certification,
    Competency,
    CompetencyModality,
    Phase,
    SessionFormat,
    TransversalCompetency,
)

__all__ = ["export_referential", "find_certification", "version_sort_key"]


def version_sort_key(version: str) -> tuple:
    """Sort key comparing the digit runs of a version as numbers ("9" < "10", "07" < "08")."""
    # Tag each part so that a number is never compared with text.
    return tuple(
        (0, int(part), part) if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", version)
        if part
    )


def find_certification(code: str, version: str | None = None) -> Certification | None:
    """The loaded certification of that code at that version, or its latest version."""
    if version is not None:
        return db.session.scalars(
            select(Certification).filter_by(code=code, version=version)
        ).one_or_none()
    versions = db.session.scalars(select(Certification).filter_by(code=code)).all()
    return max(versions, key=lambda c: version_sort_key(c.version), default=None)


def _eager_options() -> list:
    """Load the whole tree in one query per level; modalities ride on their links' query."""
    competencies = selectinload(Certification.ccps).selectinload(Ccp.competencies)
    phases = selectinload(Certification.formats).selectinload(SessionFormat.phases)
    # Competencies are not joined from the links: with populate_existing, a second load of a
    # competency would reset its criteria already loaded, and each would be fetched again.
    return [
        competencies.selectinload(Competency.criteria),
        competencies.selectinload(Competency.modality_links).joinedload(
            CompetencyModality.modality
        ),
        selectinload(Certification.transversals).selectinload(TransversalCompetency.links),
        phases.joinedload(Phase.modality),
        phases.selectinload(Phase.competency_links),
    ]


def export_referential(certification: Certification) -> dict:
    """The referential as a dict in the RE's order (capitalisation-only phases left out)."""
    # The identity, unlike `.id`, does not refresh an expired object (one statement less), and
    # populate_existing makes the statements the same whatever the session already holds.
    identity = inspect(certification).identity
    certification_id = identity[0] if identity else certification.id
    certification = db.session.scalars(
        select(Certification)
        .where(Certification.id == certification_id)
        .options(*_eager_options())
        .execution_options(populate_existing=True)
    ).one()
    code_of = {c.id: c.code for ccp in certification.ccps for c in ccp.competencies}
    return {
        "code": certification.code,
        "version": certification.version,
        "title": certification.title,
        "level": certification.level,
        "ccps": [
            {
                "code": ccp.code,
                "title": ccp.title,
                "competencies": [_export_competency(c) for c in ccp.competencies],
            }
            for ccp in certification.ccps
        ],
        "transversal": [
            {
                "title": transversal.title,
                "competencies": [code_of[link.competency_id] for link in transversal.links],
            }
            for transversal in certification.transversals
        ],
        "formats": [
            {
                "code": session_format.code,
                "title": session_format.title,
                "phases": [
                    _export_phase(phase, code_of)
                    for phase in session_format.phases
                    if not phase.capitalisation_only
                ],
            }
            for session_format in certification.formats
        ],
    }


def _export_competency(competency: Competency) -> dict:
    return {
        "code": competency.code,
        "title": competency.title,
        "modalities": [link.modality.code for link in competency.modality_links],
        "criteria": [criterion.text for criterion in competency.criteria],
    }


def _export_phase(phase: Phase, code_of: dict[int, str]) -> dict:
    return {
        "title": phase.title,
        "modality": phase.modality.code if phase.modality is not None else None,
        "minutes": phase.minutes,
        "jury": phase.jury_present,
        "supervised": phase.supervised,
        "competencies": [code_of[link.competency_id] for link in phase.competency_links],
    }
