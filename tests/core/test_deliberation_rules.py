import pytest

from ntc_jury.core.deliberation import (
    CandidateReadiness,
    OpeningProblem,
    all_signed,
    decisions_digest,
    readiness,
    reason_required,
)


def candidate(cid, eligible, missing=(), absent=False):
    return CandidateReadiness(cid, absent, tuple(eligible), tuple(missing))


@pytest.mark.parametrize(
    ("present", "candidates", "can_open", "problems"),
    [
        pytest.param((1, 2), [candidate(10, (1, 2))], True, [], id="two-jurors-ok"),
        pytest.param(
            (1,),
            [candidate(10, (1,))],
            False,
            [(OpeningProblem.TOO_FEW_PRESENT, None), (OpeningProblem.TOO_FEW_FOR_CANDIDATE, 10)],
            id="one-juror",
        ),
        pytest.param(
            (1, 2, 3),
            [candidate(10, (1, 2)), candidate(11, (3,))],
            False,
            [(OpeningProblem.TOO_FEW_FOR_CANDIDATE, 11)],
            id="conflicts-leave-one",
        ),
        pytest.param((1, 2), [candidate(10, (), absent=True)], True, [], id="absent-ignored"),
    ],
)
def test_opening_needs_two_unconflicted_present_jurors_per_candidate(
    present, candidates, can_open, problems
):
    result = readiness(present, tuple(candidates))
    assert result.can_open is can_open
    assert list(result.blocking) == problems


def test_missing_grids_and_pending_devices_need_an_acknowledgement():
    clean = readiness((1, 2), (candidate(10, (1, 2)),))
    assert not clean.needs_acknowledgement
    missing = readiness((1, 2), (candidate(10, (1, 2), missing=[(2, "MSP")]),))
    assert missing.needs_acknowledgement and missing.missing_grids == ((10, 2, "MSP"),)
    pending = readiness((1, 2), (candidate(10, (1, 2)),), pending_jurors=(2,))
    assert pending.needs_acknowledgement and pending.can_open


@pytest.mark.parametrize(
    ("outcome", "departs", "required"),
    [
        ("mastered", False, False),
        ("mastered", True, True),
        ("not_mastered", False, True),
        ("acquired", False, False),
        ("already_acquired", False, False),
        ("not_acquired", False, True),
        ("obtained", True, True),
        ("not_obtained", False, True),
    ],
)
def test_reason_is_required_for_negative_or_departing_decisions(outcome, departs, required):
    assert reason_required(outcome, departs) is required


def test_digest_ignores_order_and_changes_with_any_decision():
    a = [("competency", 1, 5, "mastered", ""), ("ccp", 1, 2, "acquired", "")]
    assert decisions_digest(a) == decisions_digest(list(reversed(a)))
    changed = [("competency", 1, 5, "not_mastered", "x"), ("ccp", 1, 2, "acquired", "")]
    assert decisions_digest(a) != decisions_digest(changed)


@pytest.mark.parametrize(
    ("present", "signed", "expected"),
    [
        ({1, 2}, {1, 2}, True),
        ({1, 2, 3}, {1, 2}, False),
        ({1, 2}, {1, 2, 3}, True),
        ({1}, {1}, False),
    ],
)
def test_locked_only_when_every_present_juror_signed(present, signed, expected):
    assert all_signed(frozenset(present), frozenset(signed)) is expected
