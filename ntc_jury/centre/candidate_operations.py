"""Writes about candidates: one by one, or a whole import at once. Flush only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import func, insert, select

from ..audit.operations import record_event
from ..core.candidate_rows import CandidateRow, number_key, person_key
from ..core.vocabulary import Presence, Route
from ..extensions import db
from ..models import Candidate, Ccp, ExamSession, HeldCcp, utcnow
from .rules import CentreError, ensure_preparing

ELIGIBILITY_FIELDS = (
    "company_hours",
    "company_proof_received",
    "dossier_received",
    "production_received",
    "production_pages",
    "production_slides",
    "ecf_passed",
)


def add_candidate(
    *,
    session: ExamSession,
    candidate_number: str,
    last_name: str,
    first_name: str,
    route: Route,
    birth_date: dt.date | None = None,
    held_ccp_codes: Sequence[str] = (),
    disability_arrangements: str = "",
    company_context: str = "",
    actor=None,
    **eligibility,
) -> Candidate:
    """Enrol a candidate in the session."""
    ensure_preparing(session)
    unknown = set(eligibility) - set(ELIGIBILITY_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields {sorted(unknown)}")
    candidate_number = candidate_number.strip()
    _check_unique(session, None, candidate_number, last_name, first_name, birth_date)
    candidate = Candidate(
        session=session,
        candidate_number=candidate_number,
        last_name=last_name.strip(),
        first_name=first_name.strip(),
        route=route,
        birth_date=birth_date,
        disability_arrangements=disability_arrangements.strip(),
        company_context=company_context.strip(),
        schedule_position=len(session.candidates),
        **eligibility,
    )
    db.session.add(candidate)
    for ccp in _ccps(session, held_ccp_codes):
        db.session.add(HeldCcp(candidate=candidate, ccp=ccp))
    db.session.flush()
    record_event(
        action="candidate_added",
        actor=actor,
        session_id=session.id,
        target_type="candidate",
        target_id=candidate.id,
        after={"candidate_number": candidate_number, "route": route.value},
    )
    return candidate


def update_candidate(
    *,
    candidate: Candidate,
    candidate_number: str,
    last_name: str,
    first_name: str,
    route: Route,
    birth_date: dt.date | None,
    held_ccp_codes: Sequence[str] = (),
    disability_arrangements: str = "",
    company_context: str = "",
    presence: Presence | None = None,
    presence_note: str | None = None,
    actor=None,
    **eligibility,
) -> None:
    """Correct a candidate's identity, route, held CCPs or eligibility checklist, or record
    on exam day that they are present, absent or withdrew (with the circumstances)."""
    session = candidate.session
    ensure_preparing(session)
    candidate_number = candidate_number.strip()
    _check_unique(session, candidate.id, candidate_number, last_name, first_name, birth_date)
    values = {
        "candidate_number": candidate_number,
        "last_name": last_name.strip(),
        "first_name": first_name.strip(),
        "route": route,
        "birth_date": birth_date,
        "disability_arrangements": disability_arrangements.strip(),
        "company_context": company_context.strip(),
        **{name: eligibility[name] for name in ELIGIBILITY_FIELDS if name in eligibility},
    }
    if presence is not None:
        note = (presence_note or "").strip()
        if presence.needs_circumstances and not note:
            raise CentreError(_("Précisez les circonstances de l'absence ou de l'abandon."))
        values["presence"] = presence
        values["presence_note"] = note if presence != Presence.EXPECTED else ""
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(candidate, name)
        if old != value:
            before[name], after[name] = _jsonable(old), _jsonable(value)
            setattr(candidate, name, value)
    wanted = {ccp.id: ccp for ccp in _ccps(session, held_ccp_codes)}
    held = {h.ccp_id: h for h in candidate.held_ccps}
    if set(wanted) != set(held):
        before["held_ccps"] = sorted(h.ccp.code for h in held.values())
        after["held_ccps"] = sorted(c.code for c in wanted.values())
        for ccp_id, row in held.items():
            if ccp_id not in wanted:
                candidate.held_ccps.remove(row)
                db.session.delete(row)
        for ccp_id, ccp in wanted.items():
            if ccp_id not in held:
                candidate.held_ccps.append(HeldCcp(ccp=ccp))
    db.session.flush()
    if after:
        record_event(
            action="candidate_updated",
            actor=actor,
            session_id=session.id,
            target_type="candidate",
            target_id=candidate.id,
            before=before,
            after=after,
        )


def import_candidates(
    *, session: ExamSession, rows: Sequence[CandidateRow], source: str, actor=None
) -> int:
    """Create every row in bulk (10 000 rows take seconds); one audit event for the import."""
    ensure_preparing(session)
    if not rows:
        raise CentreError(_("Le fichier ne contient aucun candidat."))
    ccp_ids = {ccp.code: ccp.id for ccp in session.certification.ccps}
    last = db.session.execute(
        select(func.max(Candidate.schedule_position)).where(Candidate.session_id == session.id)
    ).scalar_one()
    first = 0 if last is None else last + 1
    now = utcnow()
    values = [
        {
            "session_id": session.id,
            "candidate_number": row.candidate_number,
            "last_name": row.last_name,
            "first_name": row.first_name,
            "birth_date": row.birth_date,
            "route": row.route,
            "disability_arrangements": row.disability_arrangements,
            "company_context": row.company_context,
            "schedule_position": first + index,
            "created_at": now,
        }
        for index, row in enumerate(rows)
    ]
    # One executemany instead of a round trip per candidate; without RETURNING, psycopg sends
    # it as a pipeline (a RETURNING form makes it parse megabytes of SQL text instead).
    db.session.execute(insert(Candidate), values)
    numbers = {row.candidate_number for row in rows}
    id_of = {
        number: candidate_id
        for number, candidate_id in db.session.execute(
            select(Candidate.candidate_number, Candidate.id).where(
                Candidate.session_id == session.id
            )
        )
        if number in numbers
    }
    held = [
        {"candidate_id": id_of[row.candidate_number], "ccp_id": ccp_ids[code]}
        for row in rows
        for code in row.held_ccps
    ]
    if held:
        db.session.execute(insert(HeldCcp), held)
    db.session.expire(session, ["candidates"])
    record_event(
        action="candidates_imported",
        actor=actor,
        session_id=session.id,
        target_type="exam_session",
        target_id=session.id,
        after={"count": len(rows), "source": source[:200]},
    )
    return len(rows)


def _check_unique(
    session: ExamSession,
    candidate_id: int | None,
    number: str,
    last_name: str,
    first_name: str,
    birth_date: dt.date | None,
) -> None:
    others = [c for c in session.candidates if c.id != candidate_id]
    if any(number_key(c.candidate_number) == number_key(number) for c in others):
        raise CentreError(
            _("Le numéro de candidat %(number)s existe déjà dans cette session.", number=number)
        )
    if birth_date is None:
        return
    person = person_key(last_name, first_name, birth_date)
    if any(
        c.birth_date and person_key(c.last_name, c.first_name, c.birth_date) == person
        for c in others
    ):
        raise CentreError(
            _(
                "%(name)s, né(e) le %(date)s, est déjà inscrit(e) dans cette session.",
                name=f"{last_name.strip().upper()} {first_name.strip()}",
                date=birth_date.strftime("%d/%m/%Y"),
            )
        )


def _ccps(session: ExamSession, codes: Sequence[str]) -> list[Ccp]:
    by_code = {ccp.code: ccp for ccp in session.certification.ccps}
    found = []
    for code in dict.fromkeys(codes):
        ccp = by_code.get(code)
        if ccp is None:
            raise CentreError(_("CCP inconnu : %(code)s.", code=code))
        if session.format.ccp_id == ccp.id:
            raise CentreError(
                _(
                    "%(code)s est le CCP de cette session : il ne peut pas être déjà acquis.",
                    code=code,
                )
            )
        found.append(ccp)
    return found


def _jsonable(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Route):
        return value.value
    return value
