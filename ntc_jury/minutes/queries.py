"""Reads of the archive: whole sessions for centre staff, stored documents, the session's data.

The deliberation's reads (`candidate_board`, `overview`, …) take a juror and read that juror's
session; `SessionReader` lets staff read any session through the very same functions, so the
minutes show exactly what the jury saw when it signed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import abort
from sqlalchemy import func, or_, select
from sqlalchemy.orm import defer, selectinload

from ..core.referential import ReferentialDef
from ..core.vocabulary import SessionState
from ..deliberation import queries as deliberation_queries
from ..extensions import db
from ..jury import queries as jury_queries
from ..models import (
    Candidate,
    CandidateIncident,
    Deliberation,
    ExamSession,
    JuryMember,
    MinutesDocument,
    Signature,
    StaffUser,
)
from ..referential.queries import referential

MINUTES = "proces-verbal"
MINUTES_KIND = "minutes"
RESULT_SHEET_KIND = "result_sheet"
SYNTHESIS_GRID_KIND = "synthesis_grid"
# The order in which the archive lists sessions: what is to be archived first.
ARCHIVE_ORDER = (
    SessionState.CLOSED,
    SessionState.ARCHIVED,
    SessionState.DELIBERATION,
    SessionState.IN_PROGRESS,
    SessionState.PLANNED,
)


def result_sheet_name(candidate_id: int) -> str:
    return f"fiche-resultats-c{candidate_id}"


def synthesis_grid_name(candidate_id: int) -> str:
    return f"grille-synthese-c{candidate_id}"


@dataclass(frozen=True)
class SessionReader:
    """Stands for "a reader of this whole session" where the deliberation reads take a juror.

    Those reads only use `.session` and `.session_id` to scope what they return.
    """

    session: ExamSession

    @property
    def session_id(self) -> int:
        return self.session.id


# ----------------------------------------------------------------------------- sessions


@dataclass
class ArchiveRow:
    session: ExamSession
    documents: int
    minutes_version: int | None


def archive_sessions() -> list[tuple[SessionState, list[ArchiveRow]]]:
    """Every session grouped by state, with how many documents are stored for it."""
    counts = dict(
        db.session.execute(
            select(MinutesDocument.session_id, func.count()).group_by(MinutesDocument.session_id)
        ).all()
    )
    versions = dict(
        db.session.execute(
            select(MinutesDocument.session_id, func.max(MinutesDocument.version))
            .where(MinutesDocument.name == MINUTES)
            .group_by(MinutesDocument.session_id)
        ).all()
    )
    sessions = db.session.execute(
        select(ExamSession)
        .options(selectinload(ExamSession.format))
        .order_by(ExamSession.starts_on.desc(), ExamSession.id.desc())
    ).scalars()
    groups: dict[SessionState, list[ArchiveRow]] = {state: [] for state in ARCHIVE_ORDER}
    for session in sessions:
        row = ArchiveRow(session, counts.get(session.id, 0), versions.get(session.id))
        groups.setdefault(session.state, []).append(row)
    return [(state, rows) for state, rows in groups.items() if rows]


def session_or_404(session_id: int) -> ExamSession:
    session = db.session.get(ExamSession, session_id)
    if session is None:
        abort(404)
    return session


def candidate_or_404(session: ExamSession, candidate_id: int) -> Candidate:
    """A candidate of that session only: an id from another session is a 404."""
    candidate = db.session.execute(
        select(Candidate).where(Candidate.id == candidate_id, Candidate.session_id == session.id)
    ).scalar_one_or_none()
    if candidate is None:
        abort(404)
    return candidate


def session_candidates(session: ExamSession) -> list[Candidate]:
    return jury_queries.session_candidates(SessionReader(session))


def manager_name(session: ExamSession) -> str:
    if session.manager_name:
        return session.manager_name
    if session.manager_id is not None:
        manager = db.session.get(StaffUser, session.manager_id)
        return manager.name if manager else ""
    return ""


# ----------------------------------------------------------------------------- documents


def session_documents(session_id: int) -> list[MinutesDocument]:
    """Every stored document of the session (without its bytes), newest version first."""
    return list(
        db.session.execute(
            select(MinutesDocument)
            .options(defer(MinutesDocument.content))
            .where(MinutesDocument.session_id == session_id)
            .order_by(MinutesDocument.name, MinutesDocument.version.desc())
        ).scalars()
    )


def latest_document(session_id: int, name: str) -> MinutesDocument | None:
    return db.session.execute(
        select(MinutesDocument)
        .where(MinutesDocument.session_id == session_id, MinutesDocument.name == name)
        .order_by(MinutesDocument.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def document_or_404(session_id: int, name: str, version: int | None) -> MinutesDocument:
    """The asked version of a stored document, or its latest one."""
    if version is None:
        document = latest_document(session_id, name)
    else:
        document = db.session.execute(
            select(MinutesDocument).where(
                MinutesDocument.session_id == session_id,
                MinutesDocument.name == name,
                MinutesDocument.version == version,
            )
        ).scalar_one_or_none()
    if document is None:
        abort(404)
    return document


@dataclass(frozen=True)
class HashMatch:
    """What the public verification page may say about a hash: nothing personal."""

    kind: str
    version: int
    latest_version: int
    session_starts_on: dt.date
    matches: str  # "document" (the file's own hash) or "data" (the hash printed on it)


def find_hash(digest: str) -> list[HashMatch]:
    """Stored documents whose file, or whose printed session data, has this SHA-256."""
    rows = db.session.execute(
        select(MinutesDocument, ExamSession.starts_on)
        .join(ExamSession, ExamSession.id == MinutesDocument.session_id)
        .options(defer(MinutesDocument.content))
        .where(or_(MinutesDocument.sha256 == digest, MinutesDocument.data_sha256 == digest))
        .order_by(MinutesDocument.id)
    ).all()
    found = []
    for document, starts_on in rows:
        latest = db.session.execute(
            select(func.max(MinutesDocument.version)).where(
                MinutesDocument.session_id == document.session_id,
                MinutesDocument.name == document.name,
            )
        ).scalar_one()
        matches = "document" if document.sha256 == digest else "data"
        found.append(HashMatch(document.kind, document.version, latest, starts_on, matches))
    # The printed data hash is on the PV and on every sheet of that generation: say it once.
    minutes = [m for m in found if m.kind == MINUTES_KIND or m.matches == "document"]
    return minutes or found[:1]


# ----------------------------------------------------------------------------- documents' content


@dataclass
class JurorLine:
    member: JuryMember
    signature: Signature | None

    @property
    def habilitation_covers(self) -> bool | None:
        until = self.member.habilitation_valid_until
        return None if until is None else until >= self.member.session.ends_on


@dataclass
class CandidateRecord:
    board: deliberation_queries.CandidateBoard
    incidents: list[CandidateIncident] = field(default_factory=list)

    @property
    def candidate(self) -> Candidate:
        return self.board.candidate


@dataclass
class MinutesContent:
    """Everything the procès-verbal prints."""

    session: ExamSession
    ref: ReferentialDef
    format_title: str
    title_applies: bool
    manager: str
    deliberation: Deliberation
    jurors: list[JurorLine]
    candidates: list[CandidateRecord]
    summary: deliberation_queries.SessionSummary

    @property
    def title_column(self) -> bool:
        """Titre complet sessions, or a capitalisation candidate completing the title."""
        return self.title_applies or any(r.board.title for r in self.candidates)


def minutes_content(session: ExamSession) -> MinutesContent:
    reader = SessionReader(session)
    ref = referential(session.certification_id)
    fmt = ref.format(session.format_id)
    deliberation = deliberation_queries.current_round(session)
    signed = deliberation_queries.signatures(deliberation)
    jurors = [JurorLine(m, signed.get(m.id)) for m in deliberation_queries.jurors(session)]
    incidents = _incidents(session)
    records = [
        CandidateRecord(
            deliberation_queries.candidate_board(reader, candidate.id),
            incidents.get(candidate.id, []),
        )
        for candidate in session_candidates(session)
    ]
    summary = deliberation_queries.session_summary(reader)
    return MinutesContent(
        session=session,
        ref=ref,
        format_title=fmt.title,
        title_applies=fmt.ccp_code is None,
        manager=manager_name(session),
        deliberation=deliberation,
        jurors=jurors,
        candidates=records,
        summary=summary,
    )


def candidate_record(session: ExamSession, candidate_id: int) -> CandidateRecord:
    board = deliberation_queries.candidate_board(SessionReader(session), candidate_id)
    return CandidateRecord(board, _incidents(session).get(candidate_id, []))


def _incidents(session: ExamSession) -> dict[int, list[CandidateIncident]]:
    found: dict[int, list[CandidateIncident]] = {}
    for incident in db.session.execute(
        select(CandidateIncident)
        .join(Candidate, Candidate.id == CandidateIncident.candidate_id)
        .where(Candidate.session_id == session.id)
        .order_by(CandidateIncident.reported_at, CandidateIncident.id)
    ).scalars():
        found.setdefault(incident.candidate_id, []).append(incident)
    return found
