"""Table-driven tests of the suggestion rules and their traces."""

import math

import pytest

from ntc_jury.core.suggestion import (
    CcpOutcome,
    CcpSuggestion,
    CompetencyOutcome,
    CompetencySpec,
    CompetencySuggestion,
    CriterionRule,
    JuryEvidence,
    Thresholds,
    TitleOutcome,
    TitleSuggestion,
    departs_from_suggestion,
    suggest_ccp,
    suggest_competency,
    suggest_title,
)

CS = CompetencySuggestion
MASTERED = CS.EVIDENT_MASTERED
NOT_MASTERED = CS.EVIDENT_NOT_MASTERED
DEBATE = CS.TO_DEBATE
NOT_EVALUATED = CS.NOT_EVALUATED

UNANIMITY = CriterionRule(min_share=1.0, strict=False)
ANY_JUROR = CriterionRule(min_share=0.0, strict=True)


def make_spec(n_criteria=4, modalities=("MSP",)):
    return CompetencySpec(
        id=7,
        code="CP1",
        criterion_ids=tuple(range(101, 101 + n_criteria)),
        modalities=modalities,
    )


def make_evidence(spec, jurors=(1, 2), recused=(), grids=None, drafts=None):
    """`grids` / `drafts` map (juror, modality) to a tick string such as "1010".

    Grids are declared complete, drafts are not; position i of the string ticks the i-th
    criterion of `spec`.
    """
    grids = grids or {}
    drafts = drafts or {}
    ticks = [
        (juror, spec.criterion_ids[i], modality)
        for (juror, modality), marks in (grids | drafts).items()
        for i, mark in enumerate(marks)
        if mark == "1"
    ]
    return JuryEvidence.build(jurors, recused, completed=grids.keys(), ticks=ticks)


# --- competency suggestion with default thresholds -------------------------------------------


def case(case_id, expected, observed, grids=None, drafts=None, jurors=(1, 2), recused=(), **spec):
    """One row of the competency table; `spec` goes to make_spec."""
    return pytest.param(spec, grids, drafts, jurors, recused, expected, observed, id=case_id)


THREE_JURORS = (1, 2, 3)

COMPETENCY_CASES = [
    case("no-grid-at-all", NOT_EVALUATED, 0),
    case("competency-without-criteria", NOT_EVALUATED, 0, {(1, "MSP"): ""}, n_criteria=0),
    case("ticked-but-no-grid-completed", NOT_EVALUATED, 0, drafts={(1, "MSP"): "1111"}),
    case("all-observed", MASTERED, 4, {(1, "MSP"): "1111", (2, "MSP"): "1111"}),
    case("none-observed", NOT_MASTERED, 0, {(1, "MSP"): "0000", (2, "MSP"): "0000"}),
    case("exactly-half-observed", DEBATE, 2, {(1, "MSP"): "1100", (2, "MSP"): "1100"}),
    case("one-quarter-observed", NOT_MASTERED, 1, {(1, "MSP"): "1000", (2, "MSP"): "1000"}),
    case("tie-1-of-2-is-not-a-majority", NOT_MASTERED, 0, {(1, "MSP"): "1111", (2, "MSP"): "0000"}),
    case("tie-on-one-criterion", DEBATE, 3, {(1, "MSP"): "1111", (2, "MSP"): "1110"}),
    case(
        "2-of-3-is-a-majority",
        MASTERED,
        4,
        {(1, "MSP"): "1111", (2, "MSP"): "1111", (3, "MSP"): "0011"},
        jurors=THREE_JURORS,
    ),
    case("only-completed-grid-counts", MASTERED, 4, {(1, "MSP"): "1111"}, {(2, "MSP"): "0000"}),
    case("draft-ticks-ignored", NOT_MASTERED, 0, {(1, "MSP"): "0000"}, {(2, "MSP"): "1111"}),
    case("single-juror-jury", DEBATE, 2, {(1, "MSP"): "1100"}, jurors=(1,)),
    case(
        "recused-juror-ticks-ignored",
        NOT_MASTERED,
        0,
        {(1, "MSP"): "0000", (2, "MSP"): "0000", (3, "MSP"): "1111"},
        jurors=THREE_JURORS,
        recused=(3,),
    ),
    case(
        "only-recused-juror-completed",
        NOT_EVALUATED,
        0,
        {(3, "MSP"): "1111"},
        jurors=THREE_JURORS,
        recused=(3,),
    ),
    case("unassigned-juror-ignored", NOT_MASTERED, 0, {(1, "MSP"): "0000", (9, "MSP"): "1111"}),
    case(
        "criterion-observed-only-in-second-modality",
        MASTERED,
        4,
        {(1, "MSP"): "1110", (2, "MSP"): "1110", (1, "ET"): "0001", (2, "ET"): "0001"},
        modalities=("MSP", "ET"),
    ),
    case(
        "first-modality-not-completed-second-suffices",
        MASTERED,
        4,
        {(1, "ET"): "1111", (2, "ET"): "1111"},
        modalities=("MSP", "ET"),
    ),
    case(
        "ticks-in-foreign-modality-ignored",
        NOT_MASTERED,
        0,
        {(1, "MSP"): "0000", (2, "MSP"): "0000", (1, "QP"): "1111", (2, "QP"): "1111"},
    ),
]


@pytest.mark.parametrize(
    ("spec_kwargs", "grids", "drafts", "jurors", "recused", "expected", "observed"),
    COMPETENCY_CASES,
)
def test_suggest_competency_default_thresholds(
    spec_kwargs, grids, drafts, jurors, recused, expected, observed
):
    spec = make_spec(**spec_kwargs)
    result = suggest_competency(spec, make_evidence(spec, jurors, recused, grids, drafts))
    assert result.suggestion is expected
    assert result.trace.observed == observed
    assert result.trace.total == len(spec.criterion_ids)


# --- custom thresholds --------------------------------------------------------------------------


def tcase(case_id, thresholds, grids, expected, expected_with_defaults):
    """One row of the thresholds table: the criteria count is the grids' length."""
    n_criteria = len(next(iter(grids.values())))
    return pytest.param(thresholds, n_criteria, grids, expected, expected_with_defaults, id=case_id)


THRESHOLD_CASES = [
    tcase(
        "unanimity-one-dissent-blocks",
        Thresholds(criterion_rule=UNANIMITY),
        {(1, "MSP"): "1111", (2, "MSP"): "1111", (3, "MSP"): "1110"},
        DEBATE,
        MASTERED,
    ),
    tcase(
        "unanimity-reached",
        Thresholds(criterion_rule=UNANIMITY),
        {(1, "MSP"): "1111", (2, "MSP"): "1111", (3, "MSP"): "1111"},
        MASTERED,
        MASTERED,
    ),
    tcase(
        "any-juror-suffices",
        Thresholds(criterion_rule=ANY_JUROR),
        {(1, "MSP"): "1100", (2, "MSP"): "0011"},
        MASTERED,
        NOT_MASTERED,
    ),
    tcase(
        "any-juror-still-needs-a-tick",
        Thresholds(criterion_rule=ANY_JUROR),
        {(1, "MSP"): "0000", (2, "MSP"): "0000"},
        NOT_MASTERED,
        NOT_MASTERED,
    ),
    tcase(
        "non-strict-half-counts-ties",
        Thresholds(criterion_rule=CriterionRule(min_share=0.5, strict=False)),
        {(1, "MSP"): "1111", (2, "MSP"): "0000"},
        MASTERED,
        NOT_MASTERED,
    ),
    tcase(
        "mastered-at-0.8-4-of-5",
        Thresholds(mastered_at=0.8),
        {(1, "MSP"): "11110"},
        MASTERED,
        DEBATE,
    ),
    tcase(
        "mastered-at-0.8-3-of-5", Thresholds(mastered_at=0.8), {(1, "MSP"): "11100"}, DEBATE, DEBATE
    ),
    tcase(
        "not-mastered-below-0.25-boundary",
        Thresholds(not_mastered_below=0.25),
        {(1, "MSP"): "1000"},
        DEBATE,
        NOT_MASTERED,
    ),
    tcase(
        "no-debate-band",
        Thresholds(mastered_at=0.5, not_mastered_below=0.5),
        {(1, "MSP"): "1100"},
        MASTERED,
        DEBATE,
    ),
]


@pytest.mark.parametrize(
    ("thresholds", "n_criteria", "grids", "expected", "expected_with_defaults"), THRESHOLD_CASES
)
def test_suggest_competency_custom_thresholds(
    thresholds, n_criteria, grids, expected, expected_with_defaults
):
    spec = make_spec(n_criteria)
    evidence = make_evidence(spec, jurors=(1, 2, 3), grids=grids)
    assert suggest_competency(spec, evidence, thresholds).suggestion is expected
    assert suggest_competency(spec, evidence).suggestion is expected_with_defaults


@pytest.mark.parametrize(
    ("rule", "yes", "counted", "expected"),
    [
        pytest.param(CriterionRule(), 1, 2, False, id="majority-1-of-2"),
        pytest.param(CriterionRule(), 2, 3, True, id="majority-2-of-3"),
        pytest.param(CriterionRule(), 1, 1, True, id="majority-1-of-1"),
        pytest.param(CriterionRule(), 0, 0, False, id="majority-nobody"),
        pytest.param(UNANIMITY, 2, 3, False, id="unanimity-2-of-3"),
        pytest.param(UNANIMITY, 3, 3, True, id="unanimity-3-of-3"),
        pytest.param(UNANIMITY, 0, 0, False, id="unanimity-nobody"),
        pytest.param(ANY_JUROR, 1, 3, True, id="any-1-of-3"),
        pytest.param(ANY_JUROR, 0, 3, False, id="any-0-of-3"),
        pytest.param(CriterionRule(0.8, strict=False), 4, 5, True, id="float-boundary-4-of-5"),
    ],
)
def test_criterion_rule_holds(rule, yes, counted, expected):
    assert rule.holds(yes, counted) is expected


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: Thresholds(mastered_at=1.1), id="mastered-above-1"),
        pytest.param(lambda: Thresholds(mastered_at=-0.1), id="mastered-below-0"),
        pytest.param(lambda: Thresholds(not_mastered_below=1.5), id="not-mastered-above-1"),
        pytest.param(lambda: Thresholds(not_mastered_below=-0.01), id="not-mastered-below-0"),
        pytest.param(lambda: Thresholds(mastered_at=math.nan), id="mastered-nan"),
        pytest.param(
            lambda: Thresholds(mastered_at=0.6, not_mastered_below=0.7), id="bounds-crossed"
        ),
        pytest.param(lambda: CriterionRule(min_share=1.5), id="share-above-1"),
        pytest.param(lambda: CriterionRule(min_share=-0.1), id="share-below-0"),
        pytest.param(lambda: CriterionRule(1.0, strict=True), id="rule-never-holds"),
        pytest.param(lambda: CriterionRule(0.0, strict=False), id="rule-always-holds"),
        pytest.param(
            lambda: CompetencySpec(1, "CP1", (101, 101), ("MSP",)), id="duplicate-criterion"
        ),
        pytest.param(
            lambda: CompetencySpec(1, "CP1", (101,), ("MSP", "MSP")), id="duplicate-modality"
        ),
    ],
)
def test_invalid_configuration_raises(build):
    with pytest.raises(ValueError):
        build()


def test_boundary_thresholds_are_valid():
    thresholds = Thresholds(mastered_at=0.5, not_mastered_below=0.5)
    assert (thresholds.mastered_at, thresholds.not_mastered_below) == (0.5, 0.5)
    assert Thresholds(mastered_at=0.0, not_mastered_below=0.0).mastered_at == 0.0
    assert Thresholds().criterion_rule == CriterionRule(min_share=0.5, strict=True)


# --- trace ---------------------------------------------------------------------------------------


def test_trace_records_votes_completion_and_recusal():
    spec = make_spec(3, modalities=("MSP", "ET"))
    evidence = make_evidence(
        spec,
        jurors=(1, 2, 3),
        recused=(3,),
        grids={(1, "MSP"): "110", (2, "MSP"): "100", (3, "MSP"): "111", (1, "ET"): "001"},
        drafts={(2, "ET"): "011"},
    )
    thresholds = Thresholds(mastered_at=0.9)
    result = suggest_competency(spec, evidence, thresholds)
    trace = result.trace

    assert result.suggestion is DEBATE
    assert (trace.competency_id, trace.code) == (7, "CP1")
    assert trace.thresholds is thresholds
    assert trace.recused == (3,)
    assert trace.completed_by == (("MSP", (1, 2)), ("ET", (1,)))
    assert trace.evaluated
    assert trace.share == pytest.approx(2 / 3)
    assert trace.summary() == {
        "observed": 2,
        "total": 3,
        "disagreements": 1,
        "not_evaluated": 0,
        "recused": 1,
    }

    first, second, third = trace.criteria
    assert [(c.position, c.criterion_id) for c in trace.criteria] == [(1, 101), (2, 102), (3, 103)]
    assert (first.observed, second.observed, third.observed) == (True, False, True)
    assert not any(c.not_evaluated for c in trace.criteria)

    msp, et = first.modalities
    assert (msp.modality, et.modality) == ("MSP", "ET")
    assert msp.votes == {1: True, 2: True}
    assert msp.not_completed == ()
    assert et.votes == {1: False}
    assert et.not_completed == (2,)
    assert first.observed_in == ("MSP",)

    assert second.modalities[0].votes == {1: True, 2: False}
    assert second.modalities[0].disagreement and not second.modalities[0].observed
    # Juror 2 ticked criterion 102 in a draft ET grid: visible, not counted.
    assert second.modalities[1].unconfirmed_ticks == (2,)
    assert second.modalities[1].votes == {1: False}

    assert third.observed_in == ("ET",)
    assert third.modalities[1].votes == {1: True}
    assert third.modalities[1].unconfirmed_ticks == (2,)


def test_trace_flags_not_evaluated_criteria():
    spec = make_spec(3)
    result = suggest_competency(spec, make_evidence(spec, drafts={(1, "MSP"): "111"}))
    assert result.suggestion is NOT_EVALUATED
    assert not result.trace.evaluated
    assert all(c.not_evaluated and not c.observed for c in result.trace.criteria)
    assert result.trace.summary()["not_evaluated"] == 3
    votes = result.trace.criteria[0].modalities[0]
    assert votes.votes == {}
    assert votes.not_completed == (1, 2)
    assert not votes.agreement and not votes.disagreement


@pytest.mark.parametrize(
    ("modalities", "grids", "drafts", "expected_first"),
    [
        pytest.param(
            ("MSP",),
            {(1, "MSP"): "1010", (2, "MSP"): "1100"},
            {},
            [102, 103, 101, 104],
            id="two-disagreements-move-up",
        ),
        pytest.param(
            ("MSP",),
            {(1, "MSP"): "1100", (2, "MSP"): "1100"},
            {},
            [101, 102, 103, 104],
            id="full-agreement-keeps-order",
        ),
        pytest.param(
            ("MSP",),
            {(1, "MSP"): "0000"},
            {(2, "MSP"): "1111"},
            [101, 102, 103, 104],
            id="draft-grid-cannot-disagree",
        ),
        pytest.param(
            ("MSP", "ET"),
            {(1, "MSP"): "1111", (2, "MSP"): "1111", (1, "ET"): "1110", (2, "ET"): "1111"},
            {},
            [104, 101, 102, 103],
            id="disagreement-in-second-modality-only",
        ),
    ],
)
def test_disagreements_listed_first(modalities, grids, drafts, expected_first):
    spec = make_spec(4, modalities)
    trace = suggest_competency(spec, make_evidence(spec, grids=grids, drafts=drafts)).trace
    assert [c.criterion_id for c in trace.disagreements_first()] == expected_first
    n_disagreements = sum(1 for c in trace.criteria if c.disagreement)
    assert [c.criterion_id for c in trace.disagreements()] == expected_first[:n_disagreements]
    assert trace.summary()["disagreements"] == n_disagreements


# --- QA: "évident" on a 1/1 split, or on one juror's grid -------------------------------------


def test_a_one_one_split_on_every_criterion_is_evident_not_mastered_and_says_so():
    """DESIGN §3: a criterion is observed by a majority of the jurors who scored it (1 of 2
    is none), and a competency with fewer than half its criteria observed is "évident — non
    maîtrisée". The label follows the rule; the trace carries every split, which the board
    shows next to it ("4 désaccord(s)", each criterion with each juror's answer)."""
    spec = make_spec(4)
    result = suggest_competency(
        spec, make_evidence(spec, grids={(1, "MSP"): "1111", (2, "MSP"): "0000"})
    )
    assert result.suggestion is NOT_MASTERED
    assert result.trace.observed == 0
    assert len(result.trace.disagreements()) == 4
    assert all(
        c.modalities[0].ballots == ((1, True), (2, False)) for c in result.trace.disagreements()
    )
    assert result.trace.short_of_jurors() == ()  # both grids count: nothing is missing


@pytest.mark.parametrize(
    ("modalities", "jurors", "recused", "grids", "drafts", "expected", "short"),
    [
        pytest.param(
            ("MSP",),
            (1, 2),
            (),
            {(1, "MSP"): "1111"},
            {(2, "MSP"): "1100"},
            MASTERED,
            (("MSP", 1, 2),),
            id="one-grid-of-two-the-others-ticks-shown-not-counted",
        ),
        pytest.param(
            ("MSP", "ET"),
            (1, 2),
            (),
            {(1, "ET"): "1111", (2, "ET"): "1111"},
            {},
            MASTERED,
            (("MSP", 0, 2),),
            id="a-whole-modality-missing",
        ),
        pytest.param(
            ("MSP",),
            (1, 2, 3),
            (),
            {(1, "MSP"): "0000", (2, "MSP"): "0000"},
            {},
            NOT_MASTERED,
            (("MSP", 2, 3),),
            id="two-grids-of-three",
        ),
        pytest.param(
            ("MSP",),
            (1, 2, 3),
            (3,),
            {(1, "MSP"): "1111", (2, "MSP"): "1111"},
            {},
            MASTERED,
            (),
            id="a-recused-juror-is-not-expected",
        ),
        pytest.param(
            ("MSP",), (1,), (), {(1, "MSP"): "1111"}, {}, MASTERED, (), id="a-one-juror-jury"
        ),
        pytest.param(
            ("MSP",), (1, 2), (), {}, {(1, "MSP"): "1111"}, NOT_EVALUATED, (), id="nothing-counted"
        ),
    ],
)
def test_the_trace_says_when_a_suggestion_rests_on_fewer_jurors_than_expected(
    modalities, jurors, recused, grids, drafts, expected, short
):
    """(modality, counted jurors, expected jurors) for each grid some juror has not
    completed: a suggestion resting on one juror's grid must not read like the jury's."""
    spec = make_spec(4, modalities)
    result = suggest_competency(spec, make_evidence(spec, jurors, recused, grids, drafts))
    assert result.suggestion is expected  # the thresholds and the rule are unchanged
    assert result.trace.short_of_jurors() == short
    assert result.trace.expected_jurors == tuple(j for j in jurors if j not in recused)


def test_modality_agreement_flags():
    spec = make_spec(3)
    evidence = make_evidence(spec, grids={(1, "MSP"): "110", (2, "MSP"): "100"})
    agree_yes, split, agree_no = (
        c.modalities[0] for c in suggest_competency(spec, evidence).trace.criteria
    )
    assert (agree_yes.agreement, agree_yes.disagreement, agree_yes.yes) == (True, False, 2)
    assert (split.agreement, split.disagreement, split.yes) == (False, True, 1)
    assert (agree_no.agreement, agree_no.disagreement, agree_no.yes) == (True, False, 0)
    assert agree_no.counted == 2 and agree_no.scored


def test_evidence_build_dedups_jurors_and_splits_recused():
    evidence = JuryEvidence.build([3, 1, 3, 2], recused=[1, 8], completed=[], ticks=[])
    assert evidence.jurors == (3, 1, 2)
    assert evidence.active_jurors() == (3, 2)
    assert evidence.recused_jurors() == (1,)


def test_results_are_immutable():
    spec = make_spec(1)
    result = suggest_competency(spec, make_evidence(spec, grids={(1, "MSP"): "1"}))
    with pytest.raises(AttributeError):
        result.suggestion = NOT_MASTERED
    with pytest.raises(AttributeError):
        result.trace.criteria[0].observed = False


# --- CCP ---------------------------------------------------------------------------------------

M, NM = CompetencyOutcome.MASTERED, CompetencyOutcome.NOT_MASTERED


@pytest.mark.parametrize(
    ("decisions", "already_held", "expected"),
    [
        pytest.param(
            {"CP1": M, "CP2": M, "CP3": M}, False, CcpSuggestion.ACQUIRED, id="all-mastered"
        ),
        pytest.param(
            {"CP1": M, "CP2": NM, "CP3": M},
            False,
            CcpSuggestion.NOT_ACQUIRED,
            id="one-not-mastered",
        ),
        pytest.param(
            {"CP1": None, "CP2": NM},
            False,
            CcpSuggestion.NOT_ACQUIRED,
            id="not-mastered-beats-undecided",
        ),
        pytest.param({"CP1": M, "CP2": None}, False, CcpSuggestion.PENDING, id="one-undecided"),
        pytest.param({"CP1": None, "CP2": None}, False, CcpSuggestion.PENDING, id="all-undecided"),
        pytest.param(
            {"CP1": NM, "CP2": None}, True, CcpSuggestion.ALREADY_ACQUIRED, id="already-held-wins"
        ),
        pytest.param(
            {"CP1": M}, True, CcpSuggestion.ALREADY_ACQUIRED, id="already-held-and-mastered"
        ),
        pytest.param({}, False, CcpSuggestion.PENDING, id="empty-ccp-not-vacuously-acquired"),
        pytest.param(
            {"CP1": "mastered", "CP2": "mastered"},
            False,
            CcpSuggestion.ACQUIRED,
            id="stored-string-values",
        ),
    ],
)
def test_suggest_ccp(decisions, already_held, expected):
    assert suggest_ccp(decisions, already_held).suggestion is expected


def test_ccp_trace():
    result = suggest_ccp({"CP3": M, "CP1": None, "CP2": NM, "CP4": M}, already_held=False)
    trace = result.trace
    assert (trace.mastered, trace.not_mastered, trace.undecided) == (
        ("CP3", "CP4"),
        ("CP2",),
        ("CP1",),
    )
    assert trace.already_held is False
    assert trace.summary() == {"mastered": 2, "not_mastered": 1, "undecided": 1, "total": 4}


def test_ccp_rejects_unknown_decision():
    with pytest.raises(ValueError):
        suggest_ccp({"CP1": "maybe"}, already_held=False)


# --- title -------------------------------------------------------------------------------------

ACQ, NACQ, HELD = CcpOutcome.ACQUIRED, CcpOutcome.NOT_ACQUIRED, CcpOutcome.ALREADY_ACQUIRED


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        pytest.param({"CCP1": ACQ, "CCP2": ACQ}, TitleSuggestion.OBTAINED, id="all-acquired"),
        pytest.param(
            {"CCP1": HELD, "CCP2": ACQ}, TitleSuggestion.OBTAINED, id="acquired-or-already"
        ),
        pytest.param({"CCP1": HELD, "CCP2": HELD}, TitleSuggestion.OBTAINED, id="all-already"),
        pytest.param(
            {"CCP1": ACQ, "CCP2": NACQ}, TitleSuggestion.NOT_OBTAINED, id="one-not-acquired"
        ),
        pytest.param(
            {"CCP1": None, "CCP2": NACQ},
            TitleSuggestion.NOT_OBTAINED,
            id="not-acquired-beats-undecided",
        ),
        pytest.param({"CCP1": ACQ, "CCP2": None}, TitleSuggestion.PENDING, id="one-undecided"),
        pytest.param({}, TitleSuggestion.PENDING, id="no-ccp-not-vacuously-obtained"),
        pytest.param(
            {"CCP1": "already_acquired"}, TitleSuggestion.OBTAINED, id="stored-string-values"
        ),
    ],
)
def test_suggest_title(decisions, expected):
    assert suggest_title(decisions).suggestion is expected


def test_title_trace():
    trace = suggest_title({"CCP1": HELD, "CCP2": None, "CCP3": ACQ, "CCP4": NACQ}).trace
    assert trace.acquired == ("CCP3",)
    assert trace.already_acquired == ("CCP1",)
    assert trace.not_acquired == ("CCP4",)
    assert trace.undecided == ("CCP2",)
    assert trace.summary() == {
        "acquired": 1,
        "already_acquired": 1,
        "not_acquired": 1,
        "undecided": 1,
        "total": 4,
    }


# --- departs_from_suggestion -------------------------------------------------------------------

DEPARTS = {
    (CS.EVIDENT_MASTERED, M): False,
    (CS.EVIDENT_MASTERED, NM): True,
    (CS.EVIDENT_NOT_MASTERED, M): True,
    (CS.EVIDENT_NOT_MASTERED, NM): False,
    (CS.TO_DEBATE, M): False,
    (CS.TO_DEBATE, NM): False,
    # Nothing observed supports "maîtrisée": it needs the jury's written reason.
    (CS.NOT_EVALUATED, M): True,
    (CS.NOT_EVALUATED, NM): False,
    (CcpSuggestion.ACQUIRED, ACQ): False,
    (CcpSuggestion.ACQUIRED, NACQ): True,
    (CcpSuggestion.ACQUIRED, HELD): True,
    (CcpSuggestion.NOT_ACQUIRED, ACQ): True,
    (CcpSuggestion.NOT_ACQUIRED, NACQ): False,
    (CcpSuggestion.NOT_ACQUIRED, HELD): True,
    (CcpSuggestion.ALREADY_ACQUIRED, ACQ): True,
    (CcpSuggestion.ALREADY_ACQUIRED, NACQ): True,
    (CcpSuggestion.ALREADY_ACQUIRED, HELD): False,
    (CcpSuggestion.PENDING, ACQ): False,
    (CcpSuggestion.PENDING, NACQ): False,
    (CcpSuggestion.PENDING, HELD): False,
    (TitleSuggestion.OBTAINED, TitleOutcome.OBTAINED): False,
    (TitleSuggestion.OBTAINED, TitleOutcome.NOT_OBTAINED): True,
    (TitleSuggestion.NOT_OBTAINED, TitleOutcome.OBTAINED): True,
    (TitleSuggestion.NOT_OBTAINED, TitleOutcome.NOT_OBTAINED): False,
    (TitleSuggestion.PENDING, TitleOutcome.OBTAINED): False,
    (TitleSuggestion.PENDING, TitleOutcome.NOT_OBTAINED): False,
}


@pytest.mark.parametrize(
    ("suggestion", "outcome", "expected"),
    [pytest.param(s, o, d, id=f"{type(s).__name__}.{s}-vs-{o}") for (s, o), d in DEPARTS.items()],
)
def test_departs_from_suggestion(suggestion, outcome, expected):
    assert departs_from_suggestion(suggestion, outcome) is expected
    # The web layer may pass the stored string value; it must mean the same.
    assert departs_from_suggestion(suggestion, str(outcome)) is expected


def test_departs_truth_table_is_exhaustive():
    pairs = [
        (CompetencySuggestion, CompetencyOutcome),
        (CcpSuggestion, CcpOutcome),
        (TitleSuggestion, TitleOutcome),
    ]
    expected = {(s, o) for suggestions, outcomes in pairs for s in suggestions for o in outcomes}
    assert set(DEPARTS) == expected


@pytest.mark.parametrize("suggestion", [*CompetencySuggestion, *CcpSuggestion, *TitleSuggestion])
def test_no_decision_never_departs(suggestion):
    assert departs_from_suggestion(suggestion, None) is False


@pytest.mark.parametrize(
    ("suggestion", "outcome"),
    [
        pytest.param(CS.EVIDENT_MASTERED, CcpOutcome.ACQUIRED, id="mixed-enum-types"),
        pytest.param(CcpSuggestion.ACQUIRED, TitleOutcome.OBTAINED, id="ccp-vs-title"),
        pytest.param("evident_mastered", M, id="plain-string-suggestion"),
    ],
)
def test_departs_rejects_mismatched_types(suggestion, outcome):
    with pytest.raises(TypeError):
        departs_from_suggestion(suggestion, outcome)


def test_departs_rejects_unknown_outcome_string():
    with pytest.raises(ValueError):
        departs_from_suggestion(CS.EVIDENT_MASTERED, "perhaps")
