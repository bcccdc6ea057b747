"""The live dashboard of a session: grids, syncs, deliberation and signatures.

A fixed number of queries whatever the number of candidates (the page polls every 10 s):
the session with its jury and candidates, then one query per table read below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from ..core.eligibility import Check
from ..core.referential import plan_for
from ..core.vocabulary import Route
from ..extensions import db
from ..models import (
    Candidate,
    ConflictDeclaration,
    Deliberation,
    ExamSession,
    GridCompletion,
    JuryMember,
    Signature,
    utcnow,
)
from ..referential.queries import referential
from .queries import eligibility_checklist, session_or_404


@dataclass(frozen=True)
class GridCell:
    """One juror's progress on one candidate."""

    member_id: int
    completed: int
    expected: int
    conflict: bool

    @property
    def done(self) -> bool:
        return self.conflict or self.completed >= self.expected


@dataclass(frozen=True)
class CandidateLine:
    candidate: Candidate
    cells: tuple[GridCell, ...]
    unmet: tuple[Check, ...]

    @property
    def all_done(self) -> bool:
        return all(cell.done for cell in self.cells)


@dataclass(frozen=True)
class JurorLine:
    member: JuryMember
    pending: int
    last_sync_at: dt.datetime | None
    last_seen_at: dt.datetime | None
    signed_at: dt.datetime | None


@dataclass(frozen=True)
class Dashboard:
    session: ExamSession
    jurors: tuple[JurorLine, ...]
    candidates: tuple[CandidateLine, ...]
    deliberation: Deliberation | None
    signatures: int
    present: int
    generated_at: dt.datetime

    @property
    def pending_total(self) -> int:
        return sum(j.pending for j in self.jurors)


def session_dashboard(session_id: int) -> Dashboard:
    session = session_or_404(session_id)
    ref = referential(session.certification_id)
    fmt = ref.format(session.format_id)
    members = list(session.jury_members)
    candidates = sorted(session.candidates, key=lambda c: (c.schedule_position, c.id))
    modality_code = {m.id: m.code for m in ref.modalities}
    done: dict[tuple[int, int], set[str]] = {}
    for candidate_id, member_id, modality_id in db.session.execute(
        select(
            GridCompletion.candidate_id, GridCompletion.jury_member_id, GridCompletion.modality_id
        )
        .join(Candidate, Candidate.id == GridCompletion.candidate_id)
        .where(Candidate.session_id == session.id)
    ):
        done.setdefault((candidate_id, member_id), set()).add(modality_code.get(modality_id, ""))
    conflicts = {
        (candidate_id, member_id)
        for candidate_id, member_id in db.session.execute(
            select(ConflictDeclaration.candidate_id, ConflictDeclaration.jury_member_id)
            .join(Candidate, Candidate.id == ConflictDeclaration.candidate_id)
            .where(Candidate.session_id == session.id, ConflictDeclaration.has_conflict.is_(True))
        )
    }
    deliberation = db.session.execute(
        select(Deliberation)
        .where(Deliberation.session_id == session.id)
        .order_by(Deliberation.round.desc())
        .limit(1)
    ).scalar_one_or_none()
    signed = {
        member_id: signed_at
        for member_id, signed_at in db.session.execute(
            select(Signature.jury_member_id, Signature.signed_at).where(
                Signature.deliberation_id
                == select(Deliberation.id)
                .where(Deliberation.session_id == session.id)
                .order_by(Deliberation.round.desc())
                .limit(1)
                .scalar_subquery()
            )
        )
    }
    lines = []
    for candidate in candidates:
        plan = plan_for(
            ref,
            fmt,
            capitalisation=candidate.route == Route.CAPITALISATION,
            held_ccp_codes=frozenset(h.ccp.code for h in candidate.held_ccps),
        )
        expected = set(plan.grids)
        cells = tuple(
            GridCell(
                member_id=m.id,
                completed=len(done.get((candidate.id, m.id), set()) & expected),
                expected=len(expected),
                conflict=(candidate.id, m.id) in conflicts,
            )
            for m in members
        )
        lines.append(
            CandidateLine(
                candidate, cells, _unmet(eligibility_checklist(candidate, session.format))
            )
        )
    return Dashboard(
        session=session,
        jurors=tuple(
            JurorLine(m, m.device_pending, m.last_sync_at, m.last_seen_at, signed.get(m.id))
            for m in members
        ),
        candidates=tuple(lines),
        deliberation=deliberation,
        signatures=len(signed),
        present=sum(1 for m in members if m.present),
        generated_at=utcnow(),
    )


def _unmet(checks: tuple[Check, ...]) -> tuple[Check, ...]:
    return tuple(c for c in checks if not c.met)
