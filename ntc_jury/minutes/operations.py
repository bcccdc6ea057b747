"""Writes of the archive: stored documents, exports and the retention purge; flush only.

A document is generated once per deliberation round and stored with its SHA-256: asking
again returns the stored file, and a reopened then re-signed deliberation gets a new version
while the previous ones are kept.
"""

from __future__ import annotations

import hashlib

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..audit.operations import record_event
from ..core.vocabulary import ActorKind
from ..deliberation import queries as deliberation_queries
from ..extensions import db
from ..models import Deliberation, ExamSession, MinutesDocument, utcnow
from . import export, queries, rendering, retention, session_data
from .queries import (
    MINUTES,
    MINUTES_KIND,
    RESULT_SHEET_KIND,
    SYNTHESIS_GRID_KIND,
    result_sheet_name,
    synthesis_grid_name,
)

GENERATED = "documents_generated"
EXPORTED = "session_exported"
PURGED = "session_purged"


class MinutesRefused(Exception):
    """A refused archive step; `message` is French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _signed_round(session: ExamSession) -> Deliberation:
    deliberation = deliberation_queries.current_round(session)
    if session.locked_at is None or deliberation is None or deliberation.locked_at is None:
        raise MinutesRefused(
            _(
                "Les documents ne sont produits que pour une session verrouillée : toutes les "
                "signatures du jury doivent être recueillies."
            )
        )
    return deliberation


def generate_minutes(*, session: ExamSession, actor=None) -> MinutesDocument:
    """The procès-verbal of the signed deliberation: the stored one, or a new version."""
    deliberation = _signed_round(session)
    stored = queries.latest_document(session.id, MINUTES)
    if stored is not None and stored.deliberation_id == deliberation.id:
        return stored
    digest, _body = session_data.data_sha256(session)
    content = queries.minutes_content(session)
    pdf = rendering.render_document(
        "minutes/pdf/minutes.html",
        content=content,
        session=session,
        ref=content.ref,
        data_sha256=digest,
    )
    document = _store(
        session, deliberation, MINUTES, MINUTES_KIND, None, pdf, digest, previous=stored
    )
    _audit_generated(session, [document], actor)
    return document


def generate_candidate_sheets(
    *, session: ExamSession, actor=None, candidate_ids: list[int] | None = None
) -> list[MinutesDocument]:
    """Each candidate's fiche individuelle de résultats and grille de synthèse."""
    deliberation = _signed_round(session)
    digest = None
    documents, created = [], []
    candidates = queries.session_candidates(session)
    for candidate in candidates:
        if candidate_ids is not None and candidate.id not in candidate_ids:
            continue
        for name, kind, template in (
            (result_sheet_name(candidate.id), RESULT_SHEET_KIND, "minutes/pdf/result_sheet.html"),
            (
                synthesis_grid_name(candidate.id),
                SYNTHESIS_GRID_KIND,
                "minutes/pdf/synthesis_grid.html",
            ),
        ):
            stored = queries.latest_document(session.id, name)
            if stored is not None and stored.deliberation_id == deliberation.id:
                documents.append(stored)
                continue
            if digest is None:
                digest, _body = session_data.data_sha256(session)
            record = queries.candidate_record(session, candidate.id)
            pdf = rendering.render_document(
                template,
                record=record,
                session=session,
                ref=record.board.ref,
                manager=queries.manager_name(session),
                deliberation=deliberation,
                data_sha256=digest,
            )
            document = _store(
                session, deliberation, name, kind, candidate.id, pdf, digest, previous=stored
            )
            documents.append(document)
            created.append(document)
    if created:
        _audit_generated(session, created, actor)
    return documents


def _store(session, deliberation, name, kind, candidate_id, pdf, digest, *, previous):
    document = MinutesDocument(
        session_id=session.id,
        deliberation_id=deliberation.id,
        candidate_id=candidate_id,
        kind=kind,
        name=name,
        version=(previous.version + 1) if previous else 1,
        engine=rendering.engine(),
        media_type="application/pdf",
        sha256=hashlib.sha256(pdf).hexdigest(),
        data_sha256=digest,
        size=len(pdf),
        content=pdf,
    )
    try:
        with db.session.begin_nested():
            db.session.add(document)
            db.session.flush()
    except IntegrityError:
        # Someone stored this version meanwhile: theirs is the record, never overwritten.
        raced = queries.latest_document(session.id, name)
        if raced is None or raced.deliberation_id != deliberation.id:
            raise
        return raced
    return document


def _audit_generated(session: ExamSession, documents: list[MinutesDocument], actor) -> None:
    # The journal keeps each file's hash: `flask audit verify` compares the stored files to it.
    record_event(
        action=GENERATED,
        actor=actor,
        actor_kind=ActorKind.SYSTEM,
        session_id=session.id,
        target_type="exam_session",
        target_id=session.id,
        after={
            "documents": [
                {
                    "name": d.name,
                    "version": d.version,
                    "sha256": d.sha256,
                    "data_sha256": d.data_sha256,
                    "engine": d.engine,
                }
                for d in documents
            ]
        },
    )


def build_export_zip(*, session: ExamSession, actor=None) -> bytes:
    """The whole session as a ZIP: PDFs, CSV and JSON data, audit log, SHA-256 manifest."""
    generate_minutes(session=session, actor=actor)
    generate_candidate_sheets(session=session, actor=actor)
    archive, manifest_sha256, files = export.session_zip(session)
    record_event(
        action=EXPORTED,
        actor=actor,
        actor_kind=ActorKind.SYSTEM,
        session_id=session.id,
        target_type="exam_session",
        target_id=session.id,
        after={"files": files, "manifest_sha256": manifest_sha256},
    )
    return archive


def purge_session(*, session: ExamSession, actor=None) -> retention.PurgePlan:
    """Remove the candidates' personal data and the observations; keep the PV and results."""
    if session.purged_at is not None:
        raise MinutesRefused(_("Les données personnelles de cette session sont déjà purgées."))
    if session.locked_at is not None and session.closed_at is not None:
        # The minutes are the record kept for good: make sure they exist before the names go.
        generate_minutes(session=session, actor=actor)
    plan = retention.plan_purge(session)
    redacted = retention.apply_purge(plan)
    session.purged_at = utcnow()
    db.session.flush()
    record_event(
        action=PURGED,
        actor=actor,
        actor_kind=ActorKind.SYSTEM,
        session_id=session.id,
        target_type="exam_session",
        target_id=session.id,
        after={**plan.counts(), "redacted": redacted},
    )
    return plan
