"""Writes of the timetable: generate it from the format's phases, edit a candidate's slots.

Both keep Candidate.schedule_position in the order the jury hears the candidates, which is
the order of the jurors' candidate list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, update

from ..audit.operations import record_event
from ..core import schedule as core
from ..core.referential import title_completed_in
from ..core.vocabulary import Presence, Route
from ..extensions import db
from ..models import Candidate, ExamSession, JuryBreak, Phase, ScheduleSlot
from ..referential.queries import referential
from .clock import session_days, utc_at
from .rules import CentreError, ensure_preparing

NOT_HEARD = (Presence.ABSENT, Presence.WITHDRAWN)


@dataclass(frozen=True)
class DayPlan:
    """How the centre wants the day: working hours, one break, rooms (local times)."""

    day_start: dt.time
    day_end: dt.time
    break_start: dt.time | None = None
    break_end: dt.time | None = None
    break_label: str = ""
    written_room: str = ""
    oral_room: str = ""


@dataclass(frozen=True)
class SlotChange:
    slot: ScheduleSlot
    starts_at: dt.datetime  # UTC
    ends_at: dt.datetime
    room: str


def generate_schedule(*, session: ExamSession, plan: DayPlan, actor=None) -> core.Schedule:
    """Replace the session's timetable and breaks by a freshly computed one."""
    ensure_preparing(session)
    days = session_days(session.starts_on, session.ends_on)
    windows = [core.Window(utc_at(d, plan.day_start), utc_at(d, plan.day_end)) for d in days]
    breaks = []
    if plan.break_start and plan.break_end:
        breaks = [core.Window(utc_at(d, plan.break_start), utc_at(d, plan.break_end)) for d in days]
    phases = [
        core.PhaseSpec(
            id=p.id,
            code=p.code,
            minutes=p.minutes,
            jury_present=p.jury_present,
            part=p.part or "",
            capitalisation_only=p.capitalisation_only,
        )
        for p in session.format.phases
    ]
    ordered = sorted(session.candidates, key=lambda c: (c.schedule_position, c.id))
    heard = [c for c in ordered if c.presence not in NOT_HEARD]
    if not heard:
        raise CentreError(_("Aucun candidat attendu : ajoutez ou importez d'abord les candidats."))
    result = core.build_schedule(
        phases,
        [core.CandidateSpec(c.id, _takes_entretien_final(session, c)) for c in heard],
        days=windows,
        breaks=breaks,
    )
    drop_timetable(session)
    if result.slots:
        db.session.execute(
            insert(ScheduleSlot),
            [
                {
                    "candidate_id": s.candidate_id,
                    "phase_id": s.phase_id,
                    "starts_at": s.starts_at,
                    "ends_at": s.ends_at,
                    "room": (plan.oral_room if s.jury_present else plan.written_room)[:100],
                }
                for s in result.slots
            ],
        )
    for pause in breaks:
        db.session.add(
            JuryBreak(
                session_id=session.id,
                starts_at=pause.start,
                ends_at=pause.end,
                label=plan.break_label[:100],
            )
        )
    order = list(result.order) + [c.id for c in ordered if c.presence in NOT_HEARD]
    _set_positions(session, order)
    db.session.flush()
    record_event(
        action="schedule_generated",
        actor=actor,
        session_id=session.id,
        target_type="exam_session",
        target_id=session.id,
        after={
            "slots": len(result.slots),
            "candidates": len(heard),
            "day_start": plan.day_start.strftime("%H:%M"),
            "day_end": plan.day_end.strftime("%H:%M"),
            "overflows": result.overflows,
        },
    )
    return result


def _takes_entretien_final(session: ExamSession, candidate: Candidate) -> bool:
    """Capitalisation candidates have it at their last CCP session (the CCP session's
    capitalisation-only phases); titre complet sessions list it among every phase."""
    if candidate.route != Route.CAPITALISATION:
        return False
    ref = referential(session.certification_id)
    return title_completed_in(
        ref,
        ref.format(session.format_id),
        capitalisation=True,
        held_ccp_codes=frozenset(h.ccp.code for h in candidate.held_ccps),
    )


def update_candidate_slots(
    *, candidate: Candidate, changes: Sequence[SlotChange], actor=None
) -> None:
    """Move or re-room some of one candidate's slots; the jury's order follows the new times."""
    session = candidate.session
    ensure_preparing(session)
    before, after = [], []
    for change in changes:
        slot = change.slot
        if slot.candidate_id != candidate.id:
            raise CentreError(_("Ce créneau n'appartient pas à ce candidat."))
        if change.ends_at <= change.starts_at:
            raise CentreError(_("La fin d'un créneau doit suivre son début."))
        old = (slot.starts_at, slot.ends_at, slot.room)
        new = (change.starts_at, change.ends_at, change.room.strip()[:100])
        if old != new:
            before.append(_describe(slot.id, *old))
            after.append(_describe(slot.id, *new))
            slot.starts_at, slot.ends_at, slot.room = new
    if not after:
        return
    db.session.flush()
    resequence(session)
    record_event(
        action="schedule_edited",
        actor=actor,
        session_id=session.id,
        target_type="candidate",
        target_id=candidate.id,
        before={"slots": before},
        after={"slots": after},
    )


def resequence(session: ExamSession) -> None:
    """schedule_position := rank of each candidate's first oral (the jurors' list order)."""
    rows = db.session.execute(
        select(
            ScheduleSlot.id,
            ScheduleSlot.candidate_id,
            ScheduleSlot.starts_at,
            ScheduleSlot.ends_at,
            Phase.jury_present,
        )
        .join(Phase, Phase.id == ScheduleSlot.phase_id)
        .join(Candidate, Candidate.id == ScheduleSlot.candidate_id)
        .where(Candidate.session_id == session.id)
    ).all()
    previous = [
        cid
        for (cid,) in db.session.execute(
            select(Candidate.id)
            .where(Candidate.session_id == session.id)
            .order_by(Candidate.schedule_position, Candidate.id)
        )
    ]
    slots = [core.TimedSlot(*row) for row in rows]
    _set_positions(session, core.candidate_order(slots, previous))


def _set_positions(session: ExamSession, order: Sequence[int]) -> None:
    if not order:
        return
    db.session.execute(
        update(Candidate),
        [{"id": cid, "schedule_position": index} for index, cid in enumerate(order)],
    )
    # The bulk UPDATE bypasses loaded objects: reload them when next read. Every candidate
    # of the unit of work, not only the session's collection: it is often not loaded (then
    # `loaded_value` is NO_VALUE, not a list) while one candidate is (the one being edited).
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, Candidate):
            db.session.expire(loaded, ["schedule_position"])
    db.session.expire(session, ["candidates"])


def drop_timetable(session: ExamSession) -> None:
    candidate_ids = select(Candidate.id).where(Candidate.session_id == session.id)
    # No objects of these tables are loaded here: nothing to synchronise in the session.
    plain = {"synchronize_session": False}
    db.session.execute(
        delete(ScheduleSlot).where(ScheduleSlot.candidate_id.in_(candidate_ids)),
        execution_options=plain,
    )
    db.session.execute(
        delete(JuryBreak).where(JuryBreak.session_id == session.id), execution_options=plain
    )


def _describe(slot_id: int, starts_at: dt.datetime, ends_at: dt.datetime, room: str) -> dict:
    return {
        "id": slot_id,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "room": room,
    }
