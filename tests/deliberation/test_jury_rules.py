"""DESIGN.md §3 rules a review found the deliberation did not enforce, each checked here:
the title at a capitalisation candidate's last CCP only, held CCPs counting for the title,
reasons that stay required when a suggestion moves, a chair with a link to a candidate taking
no part in their deliberation, and absent candidates having no decision."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ntc_jury.core.vocabulary import Presence, Route
from ntc_jury.deliberation import operations as delib_ops
from ntc_jury.extensions import db
from ntc_jury.models import CcpDecision, CompetencyDecision, GridCompletion, TitleDecision
from tests.factories import add_candidate

from .conftest import REASON, count, events, make_jury
from .test_operations import CHAIR_ONLY, DEPARTS, refused

pytestmark = pytest.mark.usefixtures("in_request")

RECUSED = "Vous avez déclaré un lien avec ce candidat : vous ne prenez pas part à sa délibération."
ABSENT = (
    "Candidat absent : aucune décision n'est à prendre. S'il est venu, indiquez-le présent d'abord."
)


def _capitalisation(jury, held: list[str]):
    candidate = add_candidate(jury.session, route=Route.CAPITALISATION, held_ccp_codes=held)
    db.session.flush()
    db.session.refresh(jury.session)
    return candidate


# ----------------------------------------------------------------------------- the title


def test_a_capitalisation_candidate_before_their_last_ccp_has_no_title_and_no_final(ntc, db):
    jury = make_jury(ntc, format_code="CCP1", candidates=0)
    first_ccp = _capitalisation(jury, held=[])
    last_ccp = _capitalisation(jury, held=["CCP2"])

    early, last = jury.plan(first_ccp), jury.plan(last_ccp)

    assert not early.completes_title and last.completes_title
    # The entretien final (capitalisation-only phases) comes at the last CCP session only.
    assert not [p for p in early.phases if p.capitalisation_only]
    assert [p for p in last.phases if p.capitalisation_only]

    jury.score(first_ccp)
    jury.score(last_ccp)
    jury.open()
    jury.decide_competencies(first_ccp)
    jury.decide_ccps(first_ccp)
    assert jury.board(first_ccp).title is None
    assert jury.board(last_ccp).title is not None
    # CCP1 acquired is not the title while CCP2 is still to pass.
    error = refused(
        delib_ops.record_title_decision,
        chair=jury.chair,
        candidate_id=first_ccp.id,
        outcome="obtained",
        reason="",
    )
    assert error.message == "Ce candidat ne se présente pas au titre dans cette session."
    assert count(TitleDecision) == 0
    assert delib_ops.missing_decisions(jury.chair) == 4 + 1 + 1  # last_ccp: CP1-4, CCP1, title


def test_a_held_ccp_counts_for_the_title_before_it_is_recorded_already_acquired(ntc, db):
    jury = make_jury(ntc, format_code="TITLE", candidates=0)
    holder = add_candidate(jury.session, route=Route.VAE, held_ccp_codes=["CCP1"])
    db.session.flush()
    db.session.refresh(jury.session)
    jury.score(holder)
    jury.open()
    jury.decide_competencies(holder)
    ccp2 = jury.ccp_id("CCP2")
    delib_ops.record_ccp_decision(
        chair=jury.chair, candidate_id=holder.id, ccp_id=ccp2, outcome="acquired", reason=""
    )

    result, _none = jury.board(holder).title

    assert result.suggestion.value == "obtained"
    assert result.trace.already_acquired == ("CCP1",)


# ----------------------------------------------------------------------------- reasons


def test_mastered_without_any_completed_grid_needs_a_reason(ccp1_jury):
    jury = ccp1_jury
    candidate = jury.candidates[0]
    jury.score(candidate, complete=False)
    jury.open(acknowledge=True)
    cp1 = jury.competency("CP1")
    assert jury.board(candidate).competencies[0].result.suggestion.value == "not_evaluated"

    error = refused(
        delib_ops.record_competency_decision,
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp1.id,
        outcome="mastered",
        reason="",
    )

    assert error.message == DEPARTS
    assert count(CompetencyDecision) == 0
    delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp1.id,
        outcome="mastered",
        reason=REASON,
    )
    assert count(CompetencyDecision) == 1


@pytest.mark.parametrize("reason", ["", "Dossier solide."])
def test_a_ccp_decision_the_suggestion_turned_against_is_erased(scored, reason):
    """Recorded while CCP1 was still pending, its reason (if any) was written against no
    suggestion: once a competency makes it depart, the jury decides it again."""
    jury = scored
    candidate = jury.candidates[0]
    jury.open()
    ccp1 = jury.ccp_id("CCP1")
    delib_ops.record_ccp_decision(
        chair=jury.chair, candidate_id=candidate.id, ccp_id=ccp1, outcome="acquired", reason=reason
    )
    assert count(CcpDecision) == 1

    notice = delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=jury.competency("CP1").id,
        outcome="not_mastered",
        reason=REASON,
    )

    # CCP1 is now suggested "non acquis": "acquis" must be decided again, knowing it.
    assert count(CcpDecision) == 0
    assert notice == (
        "CCP1 : la décision « Acquis » s'écarte désormais de la suggestion ; elle est effacée, "
        "décidez à nouveau ce CCP (avec son motif si vous la maintenez)."
    )
    [erased] = [e for e in events("ccp_decided") if e.after["outcome"] is None]
    assert erased.before == {"outcome": "acquired", "reason": reason}
    assert erased.after["cleared_by_competency"] == "CP1"


def test_a_departure_decided_with_its_reason_stays_when_more_is_decided(scored):
    jury = scored
    candidate = jury.candidates[0]
    jury.open()
    ccp1 = jury.ccp_id("CCP1")
    delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=jury.competency("CP1").id,
        outcome="not_mastered",
        reason=REASON,
    )
    # Against "non acquis", knowingly, with the jury's reason.
    delib_ops.record_ccp_decision(
        chair=jury.chair, candidate_id=candidate.id, ccp_id=ccp1, outcome="acquired", reason=REASON
    )

    notice = delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=jury.competency("CP2").id,
        outcome="mastered",
        reason="",
    )

    assert notice == ""
    assert count(CcpDecision) == 1


# ----------------------------------------------------------------------------- conflicts


@pytest.fixture
def chair_with_a_link(ntc, db):
    """Three jurors; the chair declared a link with the candidate, the two others cleared."""
    jury = make_jury(ntc, format_code="CCP1", jurors=3, candidates=1)
    candidate = jury.candidates[0]
    jury.declare_conflict(jury.chair, candidate)
    others = [j for j in jury.jurors if not j.is_chair]
    jury.score(candidate, jurors=others)
    jury.open()
    return jury, candidate, others


def test_a_chair_with_a_link_to_the_candidate_takes_no_part_in_their_decisions(
    chair_with_a_link,
):
    jury, candidate, _others = chair_with_a_link

    for call, fields in (
        (delib_ops.record_competency_decision, {"competency_id": jury.competency("CP1").id}),
        (delib_ops.record_ccp_decision, {"ccp_id": jury.ccp_id("CCP1")}),
    ):
        error = refused(
            call,
            chair=jury.chair,
            candidate_id=candidate.id,
            outcome="not_mastered" if "competency_id" in fields else "not_acquired",
            reason=REASON,
            **fields,
        )
        assert (error.message, error.forbidden) == (RECUSED, True)
    assert count(CompetencyDecision) == count(CcpDecision) == 0


def test_a_juror_without_a_link_records_in_the_recused_chairs_place(chair_with_a_link):
    jury, candidate, others = chair_with_a_link
    board = jury.board(candidate, others[0])
    assert board.chair_recused and board.may_decide(others[0])
    assert not board.may_decide(jury.chair)

    delib_ops.record_competency_decision(
        chair=others[0],
        candidate_id=candidate.id,
        competency_id=jury.competency("CP1").id,
        outcome="mastered",
        reason="",
    )

    [stored] = db.session.execute(select(CompetencyDecision)).scalars()
    assert stored.decided_by_id == others[0].id


def test_members_still_cannot_decide_when_the_chair_has_no_link(scored):
    jury = scored
    jury.open()

    error = refused(
        delib_ops.record_ccp_decision,
        chair=jury.member,
        candidate_id=jury.candidates[0].id,
        ccp_id=jury.ccp_id("CCP1"),
        outcome="acquired",
        reason="",
    )

    assert (error.message, error.forbidden) == (CHAIR_ONLY, True)


# ----------------------------------------------------------------------------- absence


def test_an_absent_candidate_gets_no_decision(scored):
    jury = scored
    candidate = jury.candidates[0]
    candidate.presence = Presence.ABSENT
    db.session.flush()
    jury.open()

    error = refused(
        delib_ops.record_competency_decision,
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=jury.competency("CP1").id,
        outcome="mastered",
        reason="",
    )

    assert error.message == ABSENT
    assert count(CompetencyDecision) == 0


def test_recording_a_candidate_absent_erases_their_decisions(scored):
    jury = scored
    candidate = jury.candidates[0]
    jury.open()
    jury.decide_competencies(candidate)
    jury.decide_ccps(candidate)
    assert count(CompetencyDecision) == 4 and count(CcpDecision) == 1

    notice = delib_ops.record_presence(
        chair=jury.chair,
        candidate_id=candidate.id,
        presence="absent",
        note="Ne s'est pas présenté.",
    )

    assert count(CompetencyDecision) == count(CcpDecision) == 0
    assert notice == "Candidat absent : les 5 décision(s) déjà saisies pour lui sont effacées."
    erased = [
        e
        for e in events("competency_decided") + events("ccp_decided")
        if e.after.get("cleared_by_presence") == "absent"
    ]
    assert len(erased) == 5
    assert delib_ops.missing_decisions(jury.chair) == 0


def test_an_absent_jurors_ticks_are_kept_but_not_the_jurys(ntc, db):
    jury = make_jury(ntc, format_code="CCP1", jurors=3, candidates=1)
    candidate = jury.candidates[0]
    chair, present, absent = jury.jurors
    jury.score(candidate, jurors=[chair, present])
    jury.score(candidate, jurors=[absent], observed=lambda *_: False)
    absent.present = False  # recorded by the centre (tests/centre/test_jury_views.py)
    db.session.flush()
    jury.open()

    board = jury.board(candidate)

    assert absent not in board.jurors
    assert all(not item.result.trace.disagreements() for item in board.competencies)
    assert {item.result.suggestion.value for item in board.competencies} == {"evident_mastered"}
    assert count(GridCompletion, jury_member_id=absent.id) > 0  # nothing deleted
