"""The referential read once per certification and kept as immutable core dataclasses.

A published referential version never changes (the loader refuses that), so the cache
never goes stale in production; tests that wipe the database call `forget_referentials()`.
"""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.referential import (
    CcpDef,
    CompetencyDef,
    CriterionDef,
    FormatDef,
    ModalityDef,
    PhaseDef,
    ReferentialDef,
    TransversalDef,
)
from ..extensions import db
from ..models import (
    Ccp,
    Certification,
    Competency,
    CompetencyModality,
    Phase,
    SessionFormat,
    TransversalCompetency,
)

_cache: dict[int, ReferentialDef] = {}
_lock = threading.Lock()


def forget_referentials() -> None:
    with _lock:
        _cache.clear()


def referential(certification_id: int) -> ReferentialDef:
    """The certification's referential, from the cache after the first read."""
    found = _cache.get(certification_id)
    if found is None:
        found = _read(certification_id)
        with _lock:
            _cache[certification_id] = found
    return found


def _read(certification_id: int) -> ReferentialDef:
    cert = db.session.execute(
        select(Certification)
        .where(Certification.id == certification_id)
        .options(
            selectinload(Certification.modalities),
            selectinload(Certification.ccps)
            .selectinload(Ccp.competencies)
            .options(
                selectinload(Competency.criteria),
                selectinload(Competency.modality_links).selectinload(CompetencyModality.modality),
            ),
            selectinload(Certification.transversals).selectinload(TransversalCompetency.links),
            selectinload(Certification.formats).options(
                selectinload(SessionFormat.ccp),
                selectinload(SessionFormat.phases).options(
                    selectinload(Phase.modality), selectinload(Phase.competency_links)
                ),
            ),
        )
    ).scalar_one()
    transversal_ids: dict[int, list[int]] = {}
    transversals = []
    for t in cert.transversals:
        ids = tuple(link.competency_id for link in t.links)
        transversals.append(TransversalDef(t.id, t.code, t.title, ids))
        for cid in ids:
            transversal_ids.setdefault(cid, []).append(t.id)
    competencies, ccps = [], []
    for ccp in cert.ccps:
        for comp in ccp.competencies:
            competencies.append(
                CompetencyDef(
                    id=comp.id,
                    code=comp.code,
                    title=comp.title,
                    ccp_code=ccp.code,
                    criteria=tuple(
                        CriterionDef(c.id, c.position + 1, c.text) for c in comp.criteria
                    ),
                    modalities=tuple(link.modality.code for link in comp.modality_links),
                    transversal_ids=tuple(transversal_ids.get(comp.id, ())),
                )
            )
        ccps.append(CcpDef(ccp.id, ccp.code, ccp.title, tuple(c.id for c in ccp.competencies)))
    formats = [
        FormatDef(
            id=fmt.id,
            code=fmt.code,
            title=fmt.title,
            ccp_code=fmt.ccp.code if fmt.ccp else None,
            total_minutes=fmt.total_minutes,
            jury_minutes=fmt.jury_minutes,
            phases=tuple(
                PhaseDef(
                    id=p.id,
                    code=p.code,
                    title=p.title,
                    part=p.part,
                    description=p.description,
                    minutes=p.minutes,
                    jury_present=p.jury_present,
                    supervised=p.supervised,
                    modality=p.modality.code if p.modality else None,
                    competency_ids=tuple(link.competency_id for link in p.competency_links),
                    capitalisation_only=p.capitalisation_only,
                )
                for p in fmt.phases
            ),
        )
        for fmt in cert.formats
    ]
    return ReferentialDef(
        certification_id=cert.id,
        code=cert.code,
        version=cert.version,
        title=cert.title,
        modalities=tuple(ModalityDef(m.id, m.code, m.title) for m in cert.modalities),
        ccps=tuple(ccps),
        competencies=tuple(competencies),
        transversals=tuple(transversals),
        formats=tuple(formats),
    )
