"""The day's timetable, from the format's phases: pure arithmetic on instants.

How the RE's session runs:
- the written parts (jury absent, supervised, not a preparation) are taken together by every
  candidate at the start of the first day;
- then the jury hears the candidates one at a time: each candidate's oral blocks follow each
  other, and a block starts right after that candidate's own preparation (a jury-absent phase
  that immediately precedes a jury phase), which may overlap the previous candidate's orals;
- an oral block (consecutive jury phases of the same part of the RE) is never cut by a jury
  break or by the end of a day: it moves after it instead;
- in CCP sessions the entretien final of capitalisation candidates (capitalisation_only
  phases) comes at the end, after every candidate's orals.

Every instant is expected in the same time zone (the callers use UTC) so that arithmetic is
never disturbed by a daylight-saving change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class PhaseSpec:
    id: int
    code: str
    minutes: int
    jury_present: bool
    part: str = ""
    capitalisation_only: bool = False


@dataclass(frozen=True, slots=True)
class CandidateSpec:
    id: int
    capitalisation: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """A span of time: a working day of the jury, or one of its breaks."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ScheduleError(ScheduleProblem.EMPTY_WINDOW)

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True, slots=True)
class Slot:
    candidate_id: int
    phase_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    jury_present: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    slots: tuple[Slot, ...]
    # Candidate ids in the order the jury hears them (the jurors' list follows it).
    order: tuple[int, ...]
    # True when the orals run past the end of the last day: the session needs more time.
    overflows: bool = False

    def of(self, candidate_id: int) -> tuple[Slot, ...]:
        return tuple(s for s in self.slots if s.candidate_id == candidate_id)

    @property
    def ends_at(self) -> dt.datetime | None:
        return max((s.ends_at for s in self.slots), default=None)


class ScheduleProblem(StrEnum):
    NO_DAY = "no_day"
    NO_PHASE = "no_phase"
    EMPTY_WINDOW = "empty_window"
    DAYS_UNORDERED = "days_unordered"


class ScheduleError(ValueError):
    def __init__(self, problem: ScheduleProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(slots=True)
class _Block:
    """Preparation phases (candidate alone) then the jury phases they lead to."""

    preparations: list[PhaseSpec] = field(default_factory=list)
    jury_phases: list[PhaseSpec] = field(default_factory=list)

    @property
    def preparation_minutes(self) -> int:
        return sum(p.minutes for p in self.preparations)

    @property
    def jury_minutes(self) -> int:
        return sum(p.minutes for p in self.jury_phases)


def is_preparation(phases: Sequence[PhaseSpec], index: int) -> bool:
    """A jury-absent phase immediately followed by a jury phase prepares it."""
    phase = phases[index]
    following = phases[index + 1] if index + 1 < len(phases) else None
    return not phase.jury_present and following is not None and following.jury_present


def written_phases(phases: Sequence[PhaseSpec]) -> list[PhaseSpec]:
    """Jury-absent phases that prepare nothing: taken together by all candidates."""
    return [
        p
        for i, p in enumerate(phases)
        if not p.jury_present and not p.capitalisation_only and not is_preparation(phases, i)
    ]


def oral_blocks(phases: Sequence[PhaseSpec]) -> list[_Block]:
    """Group the remaining phases into blocks; a new block starts at a preparation or a part."""
    written = {p.id for p in written_phases(phases)}
    blocks: list[_Block] = []
    pending: list[PhaseSpec] = []
    for phase in phases:
        if phase.id in written:
            continue
        if not phase.jury_present:
            pending.append(phase)
            continue
        current = blocks[-1] if blocks else None
        if current and not pending and current.jury_phases[-1].part == phase.part:
            current.jury_phases.append(phase)
        else:
            blocks.append(_Block(preparations=pending, jury_phases=[phase]))
            pending = []
    if pending:  # jury-absent phases after the last oral: the candidate's alone
        blocks.append(_Block(preparations=pending))
    return blocks


def build_schedule(
    phases: Sequence[PhaseSpec],
    candidates: Sequence[CandidateSpec],
    *,
    days: Sequence[Window],
    breaks: Iterable[Window] = (),
) -> Schedule:
    """Every candidate's slots for the phases they take, in the candidates' order."""
    if not days:
        raise ScheduleError(ScheduleProblem.NO_DAY)
    if not phases:
        raise ScheduleError(ScheduleProblem.NO_PHASE)
    if any(later.start < earlier.end for earlier, later in pairwise(days)):
        raise ScheduleError(ScheduleProblem.DAYS_UNORDERED)
    timeline = _Timeline(list(days), sorted(breaks, key=lambda b: b.start))
    slots: list[Slot] = []
    cursor = days[0].start
    for phase in written_phases(phases):
        end = cursor + _minutes(phase.minutes)
        slots += [Slot(c.id, phase.id, cursor, end, False) for c in candidates]
        cursor = end

    regular = oral_blocks([p for p in phases if not p.capitalisation_only])
    final = oral_blocks([p for p in phases if p.capitalisation_only])
    free = dict.fromkeys((c.id for c in candidates), cursor)
    jury_free = cursor
    for candidate in candidates:
        for block in regular:
            jury_free = _place(block, candidate.id, free, jury_free, timeline, slots)
    for candidate in candidates:
        if candidate.capitalisation:
            for block in final:
                jury_free = _place(block, candidate.id, free, jury_free, timeline, slots)
    return Schedule(
        slots=tuple(slots),
        order=tuple(c.id for c in candidates),
        overflows=timeline.overflowed,
    )


def _place(
    block: _Block,
    candidate_id: int,
    free: dict[int, dt.datetime],
    jury_free: dt.datetime,
    timeline: _Timeline,
    slots: list[Slot],
) -> dt.datetime:
    """Place one block of one candidate; returns when the jury is free again."""
    lead = _minutes(block.preparation_minutes)
    if not block.jury_phases:
        cursor = free[candidate_id]
        for phase in block.preparations:
            end = cursor + _minutes(phase.minutes)
            slots.append(Slot(candidate_id, phase.id, cursor, end, False))
            cursor = end
        free[candidate_id] = cursor
        return jury_free
    start = timeline.fit(
        max(jury_free, free[candidate_id] + lead), _minutes(block.jury_minutes), lead
    )
    cursor = start - lead
    for phase in [*block.preparations, *block.jury_phases]:
        end = cursor + _minutes(phase.minutes)
        slots.append(Slot(candidate_id, phase.id, cursor, end, phase.jury_present))
        cursor = end
    free[candidate_id] = cursor
    return cursor


class _Timeline:
    """The jury's working days and breaks."""

    def __init__(self, days: list[Window], breaks: list[Window]) -> None:
        self.days = days
        self.breaks = breaks
        self.overflowed = False

    def fit(self, earliest: dt.datetime, length: dt.timedelta, lead: dt.timedelta) -> dt.datetime:
        """First start ≥ earliest where [start, start+length) is in a day and clear of breaks.

        `lead` is the preparation before the block: on a new day it must fit after the start.
        """
        start = earliest
        while True:
            day = self._day_of(start)
            if day is None:  # after the last day: keep going, and say so
                self.overflowed = True
                return self._clear_of_breaks(start, length)
            if start < day.start + lead:
                start = day.start + lead
            if start + length > day.end:
                following = self._day_after(day)
                if following is None:
                    self.overflowed = True
                    return self._clear_of_breaks(start, length)
                start = following.start + lead
                continue
            cleared = self._clear_of_breaks(start, length)
            if cleared == start:
                return start
            start = cleared

    def _clear_of_breaks(self, start: dt.datetime, length: dt.timedelta) -> dt.datetime:
        moved = True
        while moved:
            moved = False
            for pause in self.breaks:
                if pause.overlaps(start, start + length):
                    start = pause.end
                    moved = True
        return start

    def _day_of(self, instant: dt.datetime) -> Window | None:
        """The day containing `instant`, or the next one if it falls between days."""
        return next((d for d in self.days if instant < d.end), None)

    def _day_after(self, day: Window) -> Window | None:
        index = self.days.index(day)
        return self.days[index + 1] if index + 1 < len(self.days) else None


def _minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


# --------------------------------------------------------------------------- after an edit


@dataclass(frozen=True, slots=True)
class TimedSlot:
    """A stored slot, as the checks below need it."""

    id: int
    candidate_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    jury_present: bool


class ClashKind(StrEnum):
    JURY_BUSY = "jury_busy"  # two candidates before the jury at once
    CANDIDATE_BUSY = "candidate_busy"  # one candidate in two places at once
    DURING_BREAK = "during_break"  # the jury is heard during its break


@dataclass(frozen=True, slots=True)
class Clash:
    kind: ClashKind
    slot_ids: tuple[int, ...]


def candidate_order(slots: Iterable[TimedSlot], previous: Sequence[int]) -> list[int]:
    """Candidates by the start of their first oral; those without one keep their place after."""
    first: dict[int, dt.datetime] = {}
    for slot in slots:
        if slot.jury_present and (
            slot.candidate_id not in first or slot.starts_at < first[slot.candidate_id]
        ):
            first[slot.candidate_id] = slot.starts_at
    rank = {cid: i for i, cid in enumerate(previous)}
    heard = sorted(first, key=lambda cid: (first[cid], rank.get(cid, len(rank)), cid))
    return heard + [cid for cid in previous if cid not in first]


def clashes(slots: Sequence[TimedSlot], breaks: Iterable[Window] = ()) -> list[Clash]:
    """What an edited schedule gets wrong; the staff decides whether to fix it."""
    found: list[Clash] = []
    ordered = sorted(slots, key=lambda s: (s.starts_at, s.id))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.starts_at >= a.ends_at:
                break
            if a.candidate_id == b.candidate_id:
                found.append(Clash(ClashKind.CANDIDATE_BUSY, (a.id, b.id)))
            elif a.jury_present and b.jury_present:
                found.append(Clash(ClashKind.JURY_BUSY, (a.id, b.id)))
    for pause in breaks:
        found += [
            Clash(ClashKind.DURING_BREAK, (s.id,))
            for s in ordered
            if s.jury_present and pause.overlaps(s.starts_at, s.ends_at)
        ]
    return found
