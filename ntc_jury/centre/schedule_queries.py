"""Reads of the timetable: the day plan, the jury's calendar, a candidate's convocation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select

from ..core import schedule as core
from ..extensions import db
from ..models import AuditEvent, Candidate, ExamSession, JuryBreak, ScheduleSlot
from . import ics
from .clock import to_local
from .explanations import describe_clash
from .queries import session_breaks, session_slots


@dataclass
class PlanRow:
    """One line of the printed day plan: a phase for one or several candidates, or a break."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    title: str
    room: str = ""
    jury_present: bool = False
    candidates: list[Candidate] = field(default_factory=list)
    is_break: bool = False


@dataclass
class Timetable:
    session: ExamSession
    slots: list[ScheduleSlot]
    breaks: list[JuryBreak]
    by_candidate: dict[int, list[ScheduleSlot]]
    clashes: list[str]
    # The working hours (local) the timetable was generated with; None if never generated here.
    hours: tuple[dt.time, dt.time] | None = None

    @property
    def exists(self) -> bool:
        return bool(self.slots)

    @property
    def overflows(self) -> bool:
        """Some phase ends after the session's last day, or runs past midnight."""
        return any(
            to_local(s.ends_at).date() > self.session.ends_on
            or to_local(s.starts_at).date() != to_local(s.ends_at).date()
            for s in self.slots
        )

    def misplaced(self) -> list[Candidate]:
        """Candidates with a phase outside the session's days, across midnight, or outside the
        day's working hours: their convocation would print a time nobody can come at."""
        wrong = {s.candidate_id for s in self.slots if not self._fits(s)}
        return [c for c in self.session.candidates if c.id in wrong]

    def _fits(self, slot: ScheduleSlot) -> bool:
        starts, ends = to_local(slot.starts_at), to_local(slot.ends_at)
        if starts.date() != ends.date():
            return False
        if not self.session.starts_on <= starts.date() <= self.session.ends_on:
            return False
        if self.hours is None:
            return True
        day_start, day_end = self.hours
        return day_start <= starts.time() and ends.time() <= day_end

    def first_oral(self, candidate_id: int) -> ScheduleSlot | None:
        return next(
            (s for s in self.by_candidate.get(candidate_id, []) if s.phase.jury_present), None
        )

    def last_end(self, candidate_id: int) -> dt.datetime | None:
        return max((s.ends_at for s in self.by_candidate.get(candidate_id, [])), default=None)


def timetable(session: ExamSession) -> Timetable:
    """The session's slots and breaks, grouped by candidate, with what looks wrong."""
    slots = session_slots(session.id)
    breaks = session_breaks(session.id)
    by_candidate: dict[int, list[ScheduleSlot]] = defaultdict(list)
    for slot in slots:
        by_candidate[slot.candidate_id].append(slot)
    timed = [
        core.TimedSlot(s.id, s.candidate_id, s.starts_at, s.ends_at, s.phase.jury_present)
        for s in slots
    ]
    windows = [core.Window(b.starts_at, b.ends_at) for b in breaks]
    clashes = list(dict.fromkeys(describe_clash(c) for c in core.clashes(timed, windows)))
    hours = working_hours(session.id) if slots else None
    return Timetable(session, slots, breaks, dict(by_candidate), clashes, hours)


def working_hours(session_id: int) -> tuple[dt.time, dt.time] | None:
    """The day's hours of the last generation; the session keeps them nowhere else than in
    that generation's audit event."""
    after = db.session.execute(
        select(AuditEvent.after)
        .where(AuditEvent.session_id == session_id, AuditEvent.action == "schedule_generated")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    try:
        return (
            dt.time.fromisoformat(after["day_start"]),
            dt.time.fromisoformat(after["day_end"]),
        )
    except (TypeError, KeyError, ValueError):
        return None


def day_plan(table: Timetable) -> list[tuple[dt.date, list[PlanRow]]]:
    """The printed plan, day by day (local dates); a phase shared by all is one line."""
    by_name = {c.id: c for c in table.session.candidates}
    grouped: dict[tuple, PlanRow] = {}
    for slot in table.slots:
        key = (slot.phase_id, slot.starts_at, slot.ends_at, slot.room)
        row = grouped.get(key)
        if row is None:
            row = grouped[key] = PlanRow(
                slot.starts_at, slot.ends_at, slot.phase.title, slot.room, slot.phase.jury_present
            )
        row.candidates.append(by_name[slot.candidate_id])
    rows = list(grouped.values())
    rows += [
        PlanRow(b.starts_at, b.ends_at, b.label or _("Pause du jury"), is_break=True)
        for b in table.breaks
    ]
    rows.sort(key=lambda r: (r.starts_at, not r.is_break, r.ends_at))
    days: dict[dt.date, list[PlanRow]] = defaultdict(list)
    for row in rows:
        days[to_local(row.starts_at).date()].append(row)
    # A day of the session with no exam left in it is not printed: a page with only a lunch.
    return sorted((day, rows) for day, rows in days.items() if not all(r.is_break for r in rows))


def jury_events(table: Timetable, public_url: str) -> list[ics.Event]:
    """The jury's day: one event per candidate's run of orals, and the breaks."""
    host = urlsplit(public_url).hostname or "ntc-jury"
    session = table.session
    where = ", ".join(part for part in (session.centre, session.site) if part)
    events: list[ics.Event] = []
    for candidate in session.candidates:
        for run in _oral_runs(table.by_candidate.get(candidate.id, [])):
            phases = "\n".join(
                f"{to_local(s.starts_at):%H:%M}–{to_local(s.ends_at):%H:%M} {s.phase.title}"
                for s in run
            )
            events.append(
                ics.Event(
                    uid=f"session{session.id}-slot{run[0].id}@{host}",
                    starts_at=run[0].starts_at,
                    ends_at=run[-1].ends_at,
                    summary=_("Oral de %(name)s", name=candidate.full_name),
                    location=", ".join(p for p in (run[0].room, where) if p),
                    description=phases,
                )
            )
    events += [
        ics.Event(
            uid=f"session{session.id}-break{b.id}@{host}",
            starts_at=b.starts_at,
            ends_at=b.ends_at,
            summary=b.label or _("Pause du jury"),
            location=where,
        )
        for b in table.breaks
    ]
    return sorted(events, key=lambda e: e.starts_at)


def _oral_runs(slots: list[ScheduleSlot]) -> list[list[ScheduleSlot]]:
    """Consecutive jury phases of one candidate, without a gap between them."""
    runs: list[list[ScheduleSlot]] = []
    for slot in slots:
        if not slot.phase.jury_present:
            continue
        if runs and runs[-1][-1].ends_at == slot.starts_at:
            runs[-1].append(slot)
        else:
            runs.append([slot])
    return runs


def arrival_time(slots: list[ScheduleSlot], minutes_before: int = 15) -> dt.datetime | None:
    """When the convocation asks the candidate to arrive."""
    first = min((s.starts_at for s in slots), default=None)
    return first - dt.timedelta(minutes=minutes_before) if first else None
