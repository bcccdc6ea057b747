"""Schedule arithmetic, table-driven, on the formats of the RE (seed YAML)."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
import yaml

from ntc_jury.core.schedule import (
    CandidateSpec,
    ClashKind,
    PhaseSpec,
    ScheduleError,
    ScheduleProblem,
    TimedSlot,
    Window,
    build_schedule,
    candidate_order,
    clashes,
    is_preparation,
    oral_blocks,
    written_phases,
)

SEED = Path(__file__).resolve().parents[2] / "seed" / "referentials" / "tp-00338-v07.yaml"
FORMATS = {f["code"]: f for f in yaml.safe_load(SEED.read_text(encoding="utf-8"))["formats"]}


def phases(code: str) -> list[PhaseSpec]:
    return [
        PhaseSpec(
            id=100 * (list(FORMATS).index(code) + 1) + i,
            code=p["code"],
            minutes=p["minutes"],
            jury_present=p["jury"],
            part=p.get("part") or "",
            capitalisation_only=p.get("capitalisation_only", False),
        )
        for i, p in enumerate(FORMATS[code]["phases"])
    ]


def at(day: int, hhmm: str) -> dt.datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return dt.datetime(2026, 3, 9 + day, hours, minutes, tzinfo=dt.UTC)


def days(n: int, start: str, end: str) -> list[Window]:
    return [Window(at(d, start), at(d, end)) for d in range(1, n + 1)]


def slot_of(schedule, format_code: str, candidate_id: int, phase_code: str):
    phase_id = next(p.id for p in phases(format_code) if p.code == phase_code)
    found = [s for s in schedule.slots if s.candidate_id == candidate_id and s.phase_id == phase_id]
    return found[0] if found else None


def span(slot) -> tuple[dt.datetime, dt.datetime]:
    return (slot.starts_at, slot.ends_at)


def test_phase_roles_in_the_title():
    title = phases("TITLE")
    assert [p.code for p in written_phases(title)] == ["MSP-ECRIT"]
    preparations = [p.code for i, p in enumerate(title) if is_preparation(title, i)]
    assert preparations == ["MSP-PREPARATION", "ET-PREPARATION"]
    blocks = oral_blocks(title)
    assert [([p.code for p in b.preparations], b.jury_minutes) for b in blocks] == [
        (["MSP-PREPARATION"], 120),
        (["ET-PREPARATION"], 30),
        ([], 60),  # QP: another part of the RE, so a break may fall before it
        ([], 10),
    ]
    # The RE's totals: 8 h 30 per candidate, 3 h 40 before the jury.
    assert sum(p.minutes for p in title) == FORMATS["TITLE"]["total_minutes"]
    assert sum(b.jury_minutes for b in blocks) == FORMATS["TITLE"]["jury_minutes"]


# (scenario, format, candidates [(id, capitalisation)], days, breaks,
#  expected {(candidate, phase): (start, end)}, expected overflow)
SCENARIOS = [
    pytest.param(
        "TITLE",
        [(1, False), (2, False), (3, False), (4, False)],
        days(2, "08:00", "20:00"),
        [],
        {
            (1, "MSP-ECRIT"): (at(1, "08:00"), at(1, "12:00")),
            (4, "MSP-ECRIT"): (at(1, "08:00"), at(1, "12:00")),
            (1, "MSP-PREPARATION"): (at(1, "12:00"), at(1, "12:30")),
            (1, "MSP-COMPTE-RENDU"): (at(1, "12:30"), at(1, "12:45")),
            (1, "ET-PREPARATION"): (at(1, "14:30"), at(1, "14:50")),
            (1, "EF"): (at(1, "16:20"), at(1, "16:30")),
            # The next candidate prepares while the jury still hears the previous one.
            (2, "MSP-PREPARATION"): (at(1, "16:00"), at(1, "16:30")),
            (2, "MSP-COMPTE-RENDU"): (at(1, "16:30"), at(1, "16:45")),
            (2, "ET-PRESENTATION"): (at(1, "18:50"), at(1, "19:05")),
            # The QP block would end after 20:00: it moves to the next morning.
            (2, "QP-PRESENTATION"): (at(2, "08:00"), at(2, "08:30")),
            (2, "EF"): (at(2, "09:00"), at(2, "09:10")),
            (3, "MSP-PREPARATION"): (at(2, "08:40"), at(2, "09:10")),
            (3, "MSP-COMPTE-RENDU"): (at(2, "09:10"), at(2, "09:25")),
            (3, "EF"): (at(2, "13:00"), at(2, "13:10")),
            (4, "MSP-COMPTE-RENDU"): (at(2, "13:10"), at(2, "13:25")),
            (4, "EF"): (at(2, "17:00"), at(2, "17:10")),
        },
        False,
        id="title-4-candidates-2-days",
    ),
    pytest.param(
        "TITLE",
        [(1, False), (2, False), (3, False), (4, False)],
        days(2, "08:30", "18:30"),
        [Window(at(1, "12:00"), at(1, "13:00")), Window(at(2, "12:00"), at(2, "13:00"))],
        {
            (1, "MSP-ECRIT"): (at(1, "08:30"), at(1, "12:30")),  # the written part ignores it
            (1, "MSP-COMPTE-RENDU"): (at(1, "13:00"), at(1, "13:15")),
            (2, "MSP-COMPTE-RENDU"): (at(2, "09:00"), at(2, "09:15")),
            (2, "ET-PRESENTATION"): (at(2, "11:20"), at(2, "11:35")),
            # 11:50–12:50 would cross lunch: the QP block starts after it.
            (2, "QP-PRESENTATION"): (at(2, "13:00"), at(2, "13:30")),
            (2, "EF"): (at(2, "14:00"), at(2, "14:10")),
            (3, "MSP-COMPTE-RENDU"): (at(2, "14:10"), at(2, "14:25")),
            (4, "MSP-COMPTE-RENDU"): (at(2, "18:10"), at(2, "18:25")),
        },
        True,  # candidate 4 does not fit in two days
        id="title-with-lunch-breaks-overflows",
    ),
    pytest.param(
        "CCP1",
        [(1, False), (2, True), (3, False)],
        days(1, "08:00", "20:00"),
        [],
        {
            (1, "MSP-ECRIT"): (at(1, "08:00"), at(1, "09:30")),
            (1, "MSP-PREPARATION"): (at(1, "09:30"), at(1, "09:45")),
            (1, "MSP-COMPTE-RENDU"): (at(1, "09:45"), at(1, "10:00")),
            (1, "QP-QUESTIONNEMENT"): (at(1, "11:40"), at(1, "12:00")),
            (2, "MSP-PREPARATION"): (at(1, "11:45"), at(1, "12:00")),
            (2, "QP-QUESTIONNEMENT"): (at(1, "13:55"), at(1, "14:15")),
            (3, "MSP-COMPTE-RENDU"): (at(1, "14:15"), at(1, "14:30")),
            (3, "QP-QUESTIONNEMENT"): (at(1, "16:10"), at(1, "16:30")),
            # The capitalisation candidate's entretien final closes the session.
            (2, "EF"): (at(1, "16:30"), at(1, "16:40")),
            (1, "EF"): None,
            (3, "EF"): None,
        },
        False,
        id="ccp1-with-a-capitalisation-candidate",
    ),
]


@pytest.mark.parametrize(("fmt", "people", "windows", "breaks", "expected", "overflow"), SCENARIOS)
def test_schedule(fmt, people, windows, breaks, expected, overflow):
    schedule = build_schedule(
        phases(fmt), [CandidateSpec(cid, cap) for cid, cap in people], days=windows, breaks=breaks
    )
    for (candidate, phase), times in expected.items():
        slot = slot_of(schedule, fmt, candidate, phase)
        if times is None:
            assert slot is None, f"{candidate}/{phase} should not be scheduled"
        else:
            assert slot is not None and span(slot) == times, f"{candidate}/{phase}"
    assert schedule.overflows is overflow
    assert schedule.order == tuple(cid for cid, _ in people)
    timed = [
        TimedSlot(i, s.candidate_id, s.starts_at, s.ends_at, s.jury_present)
        for i, s in enumerate(schedule.slots)
    ]
    assert clashes(timed, breaks) == []  # never two candidates before the jury, nor in a break


@pytest.mark.parametrize("fmt", ["TITLE", "CCP1", "CCP2"])
def test_every_candidate_takes_every_phase_once_in_order(fmt):
    schedule = build_schedule(
        phases(fmt), [CandidateSpec(1), CandidateSpec(2, True)], days=days(3, "08:00", "18:00")
    )
    for candidate, capitalisation in ((1, False), (2, True)):
        taken = [s for s in schedule.slots if s.candidate_id == candidate]
        wanted = [p for p in phases(fmt) if capitalisation or not p.capitalisation_only]
        assert sorted(s.phase_id for s in taken) == sorted(p.id for p in wanted)
        assert all(
            s.ends_at - s.starts_at == dt.timedelta(minutes=p.minutes)
            for s in taken
            for p in wanted
            if p.id == s.phase_id
        )
        ordered = sorted(taken, key=lambda s: s.starts_at)
        assert all(a.ends_at <= b.starts_at for a, b in itertools.pairwise(ordered))


def test_preparation_ends_when_the_oral_starts():
    schedule = build_schedule(
        phases("CCP2"), [CandidateSpec(1), CandidateSpec(2)], days=days(1, "08:00", "20:00")
    )
    for candidate in (1, 2):
        prep = slot_of(schedule, "CCP2", candidate, "MSP-PREPARATION")
        oral = slot_of(schedule, "CCP2", candidate, "MSP-NEGOCIATION")
        assert prep.ends_at == oral.starts_at


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"days": []}, ScheduleProblem.NO_DAY),
        (
            {
                "days": [
                    Window(at(2, "08:00"), at(2, "18:00")),
                    Window(at(1, "08:00"), at(1, "18:00")),
                ]
            },
            ScheduleProblem.DAYS_UNORDERED,
        ),
    ],
)
def test_schedule_errors(kwargs, problem):
    with pytest.raises(ScheduleError) as error:
        build_schedule(phases("TITLE"), [CandidateSpec(1)], **kwargs)
    assert error.value.problem == problem


def test_no_phase_and_empty_window_are_errors():
    with pytest.raises(ScheduleError):
        build_schedule([], [CandidateSpec(1)], days=days(1, "08:00", "18:00"))
    with pytest.raises(ScheduleError):
        Window(at(1, "10:00"), at(1, "10:00"))


def test_candidate_order_follows_the_first_oral():
    slots = [
        TimedSlot(1, 10, at(1, "08:00"), at(1, "12:00"), False),  # written: ignored
        TimedSlot(2, 10, at(1, "15:00"), at(1, "16:00"), True),
        TimedSlot(3, 20, at(1, "13:00"), at(1, "14:00"), True),
        TimedSlot(4, 30, at(1, "13:00"), at(1, "14:00"), True),  # tie: previous order decides
    ]
    assert candidate_order(slots, previous=[30, 10, 20, 40]) == [30, 20, 10, 40]


def test_clashes_after_an_edit():
    slots = [
        TimedSlot(1, 10, at(1, "13:00"), at(1, "14:00"), True),
        TimedSlot(2, 20, at(1, "13:30"), at(1, "14:30"), True),  # jury busy with 10
        TimedSlot(3, 20, at(1, "14:00"), at(1, "14:45"), False),  # 20 in two places
        TimedSlot(4, 30, at(1, "12:30"), at(1, "12:45"), True),  # during the break
    ]
    found = clashes(slots, [Window(at(1, "12:00"), at(1, "13:00"))])
    assert {(c.kind, c.slot_ids) for c in found} == {
        (ClashKind.JURY_BUSY, (1, 2)),
        (ClashKind.CANDIDATE_BUSY, (2, 3)),
        (ClashKind.DURING_BREAK, (4,)),
    }
