"""The deliberation's writes, asserted in the database: opening, decisions, signatures, lock.

Scoring happens through the juror's own operations (see conftest.Jury); every refusal is
checked for what it left behind: a refused step writes nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ntc_jury.core.deliberation import decisions_digest
from ntc_jury.core.vocabulary import Presence, Route, SessionState
from ntc_jury.deliberation import operations as delib_ops
from ntc_jury.deliberation import queries as delib_queries
from ntc_jury.extensions import db
from ntc_jury.models import (
    AppliedOperation,
    CcpDecision,
    CompetencyDecision,
    ConflictDeclaration,
    Deliberation,
    GridCompletion,
    Mark,
    Observation,
    Signature,
    TitleDecision,
    TransversalMark,
)
from tests.factories import add_candidate

from .conftest import REASON, Jury, count, events, make_jury

CHAIR_ONLY = "Seul le président du jury peut faire cela."
TOO_FEW = "Il faut au moins 2 jurés présents et sans lien avec chaque candidat."
ACKNOWLEDGE = (
    "Des grilles ne sont pas terminées ou des saisies ne sont pas synchronisées : "
    "cochez la case pour ouvrir quand même."
)
NEGATIVE = "Une décision négative doit être motivée."
DEPARTS = "Cette décision s'écarte de la suggestion : indiquez le motif."
HELD_ONLY = "« Déjà acquis » est réservé aux CCP que le candidat détient déjà."
NO_TITLE = "Ce candidat ne se présente pas au titre dans cette session."
PRESENCE_NOTE = "Précisez les circonstances de l'absence ou de l'abandon."
NOT_PRESENT = "Seuls les jurés présents signent le procès-verbal."
LOCKED = (
    "La session est verrouillée : les décisions sont signées. Le président peut rouvrir la "
    "délibération."
)
JUROR_LOCKED = (
    "La session est verrouillée : les décisions sont signées, plus aucune saisie n'est possible."
)
GRIDS_CLOSED = "La délibération est ouverte : les grilles ne peuvent plus être modifiées."
CONFLICT_CLOSED = "La délibération est ouverte : la déclaration ne peut plus changer."
ALREADY_OPEN = "La délibération est déjà ouverte ou close."
NOT_LOCKED = "La délibération n'est pas verrouillée."
REOPEN_REASON = "Indiquez le motif de la réouverture."

pytestmark = pytest.mark.usefixtures("in_request")


def missing_message(n: int) -> str:
    return f"Des décisions manquent encore ({n}) : elles sont à saisir avant les signatures."


def refused(call, /, **kwargs) -> delib_ops.DeliberationRefused:
    with pytest.raises(delib_ops.DeliberationRefused) as info:
        call(**kwargs)
    return info.value


def decision_of(candidate, competency) -> CompetencyDecision | None:
    return db.session.execute(
        select(CompetencyDecision).filter_by(candidate_id=candidate.id, competency_id=competency.id)
    ).scalar_one_or_none()


def not_opened(jury: Jury) -> None:
    """Nothing of an opening was written."""
    assert count(Deliberation, session_id=jury.session.id) == 0
    assert jury.session.state == SessionState.PLANNED
    assert events("deliberation_opened") == []


def everything_but_cp3_criterion_2_for_the_member(juror, code, position) -> bool:
    return juror.is_chair or (code, position) != ("CP3", 2)


# ----------------------------------------------------------------------------- opening


def test_only_the_chair_opens_the_deliberation(scored):
    error = refused(delib_ops.open_deliberation, chair=scored.member, acknowledge=True)

    assert error.message == CHAIR_ONLY
    not_opened(scored)


def test_a_conflict_leaves_too_few_jurors_for_the_candidate(ccp1_jury, in_request):
    jury = ccp1_jury
    candidate = jury.candidates[0]
    jury.score(candidate, jurors=[jury.chair])
    jury.declare_conflict(jury.member, candidate)

    error = refused(delib_ops.open_deliberation, chair=jury.chair, acknowledge=True)

    assert error.message == TOO_FEW
    not_opened(jury)


def test_an_absent_juror_leaves_too_few_present(scored):
    scored.member.present = False
    db.session.flush()

    error = refused(delib_ops.open_deliberation, chair=scored.chair, acknowledge=True)

    assert error.message == TOO_FEW
    not_opened(scored)


def test_two_cleared_present_jurors_out_of_three_are_enough(ntc, db):
    jury = make_jury(ntc, format_code="CCP1", jurors=3, candidates=2)
    first, second = jury.candidates
    third_juror = jury.jurors[2]
    # The third juror has a link with the first candidate and is absent for the rest of the day.
    jury.score(first, jurors=jury.jurors[:2])
    jury.declare_conflict(third_juror, first)
    jury.score(second, jurors=jury.jurors[:2])
    third_juror.present = False
    db.session.flush()

    deliberation = jury.open()

    assert deliberation.round == 1
    assert jury.session.state == SessionState.DELIBERATION
    assert deliberation.incomplete_grids == []
    assert deliberation.incomplete_grids_acknowledged is False


def test_missing_grids_need_an_explicit_acknowledgement(ccp1_jury, in_request):
    jury = ccp1_jury
    candidate = jury.candidates[0]
    jury.score(candidate, jurors=[jury.chair])
    jury.score(candidate, jurors=[jury.member], complete=False)
    grids = list(jury.plan(candidate).grids)

    error = refused(delib_ops.open_deliberation, chair=jury.chair, acknowledge=False)
    assert error.message == ACKNOWLEDGE
    not_opened(jury)

    deliberation = jury.open(acknowledge=True)

    stored = db.session.get(Deliberation, deliberation.id)
    assert stored.incomplete_grids_acknowledged is True
    assert sorted(map(tuple, stored.incomplete_grids)) == sorted(
        (candidate.id, jury.member.id, modality) for modality in grids
    )
    [event] = events("deliberation_opened", session_id=jury.session.id)
    assert event.actor_id == jury.chair.id
    assert event.after == {
        "round": 1,
        "missing_grids": len(grids),
        "pending_jurors": [],
        "acknowledged": True,
    }


def test_a_device_with_pending_operations_needs_an_acknowledgement(scored):
    scored.member.device_pending = 3
    db.session.flush()

    error = refused(delib_ops.open_deliberation, chair=scored.chair, acknowledge=False)
    assert error.message == ACKNOWLEDGE
    not_opened(scored)

    scored.open(acknowledge=True)

    [event] = events("deliberation_opened")
    assert event.after["pending_jurors"] == [scored.member.id]
    assert event.after["acknowledged"] is True
    assert event.after["missing_grids"] == 0


def test_complete_grids_open_without_acknowledgement(scored):
    deliberation = scored.open()

    assert deliberation.round == 1 and deliberation.opened_by_id == scored.chair.id
    assert scored.session.state == SessionState.DELIBERATION
    [event] = events("deliberation_opened")
    assert event.after["acknowledged"] is False
    # Opening twice is refused.
    assert refused(delib_ops.open_deliberation, chair=scored.chair, acknowledge=True).message == (
        ALREADY_OPEN
    )
    assert count(Deliberation) == 1


def test_after_opening_ticks_are_refused_but_observations_still_saved(scored):
    jury = scored
    candidate = jury.candidates[0]
    cp3 = jury.competency("CP3")
    marks_before = count(Mark)
    jury.open()

    tick = jury.op(
        jury.member,
        "mark",
        candidate,
        modality="MSP",
        criterion_id=cp3.criteria[0].id,
        observed=False,
    )
    grid = jury.op(jury.member, "grid", candidate, modality="MSP", completed=False)
    conflict = jury.op(jury.member, "conflict", candidate, has_conflict=True, reason="Lien")
    note = jury.op(jury.member, "observation", candidate, competency_id=cp3.id, text="Vu en ET")

    assert (tick.status, tick.message, tick.locked) == ("refused", GRIDS_CLOSED, True)
    assert (grid.status, grid.message) == ("refused", GRIDS_CLOSED)
    assert (conflict.status, conflict.message) == ("refused", CONFLICT_CLOSED)
    assert note.status == "applied"
    assert count(Mark) == marks_before
    assert count(Mark, jury_member_id=jury.member.id, observed=False) == 0
    assert count(GridCompletion, jury_member_id=jury.member.id) == len(jury.plan(candidate).grids)
    assert count(ConflictDeclaration, has_conflict=True) == 0
    [stored] = db.session.execute(select(Observation)).scalars()
    assert (stored.jury_member_id, stored.competency_id, stored.text) == (
        jury.member.id,
        cp3.id,
        "Vu en ET",
    )


# ----------------------------------------------------------------------------- decisions


def test_a_negative_decision_needs_a_reason(ccp1_jury, in_request):
    jury = ccp1_jury
    candidate = jury.candidates[0]
    # Nobody observed anything of CP1: the suggestion is "évident — non maîtrisée".
    jury.score(candidate, observed=lambda _j, code, _p: code != "CP1")
    jury.open()
    cp1 = jury.competency("CP1")

    error = refused(
        delib_ops.record_competency_decision,
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp1.id,
        outcome="not_mastered",
        reason="   ",
    )

    assert error.message == NEGATIVE
    assert decision_of(candidate, cp1) is None
    assert events("competency_decided") == []

    delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp1.id,
        outcome="not_mastered",
        reason="  Aucun critère observé.  ",
    )
    stored = decision_of(candidate, cp1)
    assert stored.outcome.value == "not_mastered"
    assert stored.reason == "Aucun critère observé."
    assert stored.suggestion == "evident_not_mastered"
    assert stored.decided_by_id == jury.chair.id


def test_departing_from_evident_mastered_needs_a_reason(scored):
    jury = scored
    candidate = jury.candidates[0]
    jury.open()
    cp3 = jury.competency("CP3")
    item = next(b for b in jury.board(candidate).competencies if b.competency.id == cp3.id)
    assert item.result.suggestion.value == "evident_mastered"

    error = refused(
        delib_ops.record_competency_decision,
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp3.id,
        outcome="not_mastered",
        reason="",
    )

    assert error.message == DEPARTS
    assert decision_of(candidate, cp3) is None

    delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp3.id,
        outcome="not_mastered",
        reason="Critères observés sans maîtrise réelle.",
    )
    stored = decision_of(candidate, cp3)
    assert stored.outcome.value == "not_mastered"
    assert stored.reason == "Critères observés sans maîtrise réelle."
    assert stored.suggestion == "evident_mastered"
    assert stored.suggestion_trace == {
        "observed": 6,
        "total": 6,
        "disagreements": 0,
        "not_evaluated": 0,
        "recused": 0,
    }
    [event] = events("competency_decided")
    assert event.target_id == f"{candidate.id}:{cp3.id}"
    assert event.before is None
    assert event.after == {
        "outcome": "not_mastered",
        "reason": "Critères observés sans maîtrise réelle.",
        "departs": True,
        "signatures_cleared": 0,
    }


def test_departing_from_evident_not_mastered_needs_a_reason(ccp1_jury, in_request):
    jury = ccp1_jury
    candidate = jury.candidates[0]
    # CP4: only criterion 1 of 7 observed (by both jurors) → "évident — non maîtrisée".
    jury.score(candidate, observed=lambda _j, code, pos: code != "CP4" or pos == 1)
    jury.open()
    cp4 = jury.competency("CP4")

    error = refused(
        delib_ops.record_competency_decision,
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp4.id,
        outcome="mastered",
        reason="",
    )
    assert error.message == DEPARTS
    assert decision_of(candidate, cp4) is None

    delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp4.id,
        outcome="mastered",
        reason="Maîtrise démontrée en entretien technique.",
    )
    stored = decision_of(candidate, cp4)
    assert (stored.outcome.value, stored.suggestion) == ("mastered", "evident_not_mastered")
    assert stored.suggestion_trace["observed"] == 1
    assert stored.suggestion_trace["total"] == 7
    assert events("competency_decided")[0].after["departs"] is True


def test_a_positive_decision_on_a_debated_competency_needs_no_reason(ccp1_jury, in_request):
    jury = ccp1_jury
    candidate = jury.candidates[0]
    # The member did not observe CP3 criterion 2: 5/6 observed → "à débattre".
    jury.score(candidate, observed=everything_but_cp3_criterion_2_for_the_member)
    jury.open()
    cp3 = jury.competency("CP3")

    delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp3.id,
        outcome="mastered",
        reason="",
    )

    stored = decision_of(candidate, cp3)
    assert (stored.outcome.value, stored.reason, stored.suggestion) == (
        "mastered",
        "",
        "to_debate",
    )
    assert stored.suggestion_trace["disagreements"] == 1
    assert events("competency_decided")[0].after["departs"] is False


def test_a_ccp_decision_against_its_suggestion_needs_a_reason(ccp1_jury, in_request):
    jury = ccp1_jury
    candidate = jury.candidates[0]
    jury.score(candidate, observed=lambda _j, code, _p: code != "CP1")
    jury.open()
    jury.decide_competencies(candidate)  # CP1 not mastered → CCP1 suggested "non acquis"
    ccp1 = jury.ccp_id("CCP1")
    [(_ccp, result, _d)] = jury.board(candidate).ccps
    assert result.suggestion.value == "not_acquired"

    error = refused(
        delib_ops.record_ccp_decision,
        chair=jury.chair,
        candidate_id=candidate.id,
        ccp_id=ccp1,
        outcome="acquired",
        reason="",
    )
    assert error.message == DEPARTS
    assert count(CcpDecision) == 0

    delib_ops.record_ccp_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        ccp_id=ccp1,
        outcome="acquired",
        reason="Compensation décidée par le jury.",
    )
    [stored] = db.session.execute(select(CcpDecision)).scalars()
    assert (stored.outcome.value, stored.suggestion) == ("acquired", "not_acquired")
    assert stored.suggestion_trace == {
        "mastered": 3,
        "not_mastered": 1,
        "undecided": 0,
        "total": 4,
    }


def test_already_acquired_only_for_ccps_the_candidate_holds(ntc, db):
    jury = make_jury(ntc, format_code="TITLE", candidates=1)
    trained = jury.candidates[0]
    holder = add_candidate(jury.session, route=Route.CAPITALISATION, held_ccp_codes=["CCP1"])
    db.session.flush()
    db.session.refresh(jury.session)
    jury.score(trained)
    jury.score(holder)
    jury.open()
    jury.decide_competencies(trained)
    jury.decide_competencies(holder)
    ccp1, ccp2 = jury.ccp_id("CCP1"), jury.ccp_id("CCP2")
    # The holder is graded on CCP2 only.
    assert {c.ccp_code for c in jury.plan(holder).competencies} == {"CCP2"}

    for candidate_id, ccp_id, outcome in (
        (trained.id, ccp1, "already_acquired"),  # held by nobody here
        (holder.id, ccp2, "already_acquired"),  # not the CCP the holder holds
        (holder.id, ccp1, "acquired"),  # the held CCP is "déjà acquis", nothing else
    ):
        error = refused(
            delib_ops.record_ccp_decision,
            chair=jury.chair,
            candidate_id=candidate_id,
            ccp_id=ccp_id,
            outcome=outcome,
            reason=REASON,
        )
        assert error.message == HELD_ONLY
    assert count(CcpDecision) == 0

    delib_ops.record_ccp_decision(
        chair=jury.chair,
        candidate_id=holder.id,
        ccp_id=ccp1,
        outcome="already_acquired",
        reason="",
    )
    delib_ops.record_ccp_decision(
        chair=jury.chair, candidate_id=holder.id, ccp_id=ccp2, outcome="acquired", reason=""
    )
    stored = {
        d.ccp_id: (d.outcome.value, d.suggestion)
        for d in db.session.execute(select(CcpDecision).filter_by(candidate_id=holder.id)).scalars()
    }
    assert stored == {
        ccp1: ("already_acquired", "already_acquired"),
        ccp2: ("acquired", "acquired"),
    }
    # The title follows: CCP1 held, CCP2 acquired in this session.
    result, _none = jury.board(holder).title
    assert result.suggestion.value == "obtained"
    assert result.trace.already_acquired == ("CCP1",) and result.trace.acquired == ("CCP2",)


def test_the_title_is_obtained_only_with_every_ccp_acquired(ntc, db, in_request):
    """The title is the sum of its CCPs: no reason makes it "obtenu" past a CCP not acquired,
    and a CCP turned "non acquis" undoes an "obtenu" already recorded (audited)."""
    jury = make_jury(ntc, format_code="TITLE", candidates=1)
    candidate = jury.candidates[0]
    jury.score(candidate)
    jury.open()
    jury.decide_competencies(candidate)
    ccp1, ccp2 = jury.ccp_id("CCP1"), jury.ccp_id("CCP2")
    title = {"chair": jury.chair, "candidate_id": candidate.id, "outcome": "obtained"}

    error = refused(delib_ops.record_title_decision, **title, reason=REASON)
    assert error.message == (
        "Le titre n'est obtenu que si chaque CCP est acquis (dans cette session ou déjà) : "
        "CCP1 non décidé, CCP2 non décidé."
    )
    delib_ops.record_ccp_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        ccp_id=ccp1,
        outcome="not_acquired",
        reason=REASON,
    )
    error = refused(delib_ops.record_title_decision, **title, reason=REASON)
    assert error.message.endswith(" : CCP1 non acquis, CCP2 non décidé.")
    assert count(TitleDecision) == 0

    for ccp_id in (ccp1, ccp2):
        delib_ops.record_ccp_decision(
            chair=jury.chair,
            candidate_id=candidate.id,
            ccp_id=ccp_id,
            outcome="acquired",
            reason="",
        )
    delib_ops.record_title_decision(**title, reason="")
    assert count(TitleDecision) == 1 and delib_ops.missing_decisions(jury.chair) == 0

    notice = delib_ops.record_ccp_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        ccp_id=ccp2,
        outcome="not_acquired",
        reason=REASON,
    )
    assert notice == (
        "CCP2 non acquis : la décision « titre obtenu » est effacée, décidez à nouveau le titre."
    )
    assert count(TitleDecision) == 0
    assert delib_ops.missing_decisions(jury.chair) == 1
    cleared = events("title_decided")[-1]
    assert cleared.before["outcome"] == "obtained"
    assert cleared.after == {
        "outcome": None,
        "reason": "",
        "cleared_by_ccp": "CCP2",
        "signatures_cleared": 0,
    }


def test_no_title_decision_for_a_training_candidate_of_a_ccp_session(scored):
    jury = scored
    candidate = jury.candidates[0]
    jury.open()
    assert jury.board(candidate).title is None

    error = refused(
        delib_ops.record_title_decision,
        chair=jury.chair,
        candidate_id=candidate.id,
        outcome="obtained",
        reason=REASON,
    )

    assert error.message == NO_TITLE
    assert count(TitleDecision) == 0


def test_a_capitalisation_candidate_of_a_ccp_session_gets_a_title_decision(ntc, db):
    jury = make_jury(ntc, format_code="CCP2", candidates=0)
    holder = add_candidate(jury.session, route=Route.CAPITALISATION, held_ccp_codes=["CCP1"])
    db.session.flush()
    db.session.refresh(jury.session)
    jury.score(holder)
    jury.open()
    jury.decide_competencies(holder)
    jury.decide_ccps(holder)

    result, _none = jury.board(holder).title
    assert result.suggestion.value == "obtained"
    # Departing from "obtenu" is negative and departs: a reason is required.
    error = refused(
        delib_ops.record_title_decision,
        chair=jury.chair,
        candidate_id=holder.id,
        outcome="not_obtained",
        reason="",
    )
    assert error.message == DEPARTS
    assert count(TitleDecision) == 0

    delib_ops.record_title_decision(
        chair=jury.chair, candidate_id=holder.id, outcome="obtained", reason=""
    )
    [stored] = db.session.execute(select(TitleDecision)).scalars()
    assert (stored.candidate_id, stored.outcome.value, stored.suggestion) == (
        holder.id,
        "obtained",
        "obtained",
    )
    assert stored.suggestion_trace["already_acquired"] == 1
    assert delib_ops.missing_decisions(jury.chair) == 0


@pytest.mark.parametrize("presence", ["absent", "withdrawn"])
def test_absence_and_withdrawal_need_a_note(scored, presence):
    jury = scored
    candidate = jury.candidates[0]
    jury.open()

    error = refused(
        delib_ops.record_presence,
        chair=jury.chair,
        candidate_id=candidate.id,
        presence=presence,
        note=" ",
    )
    assert error.message == PRESENCE_NOTE
    db.session.refresh(candidate)
    assert candidate.presence == Presence.EXPECTED
    assert events("presence_decided") == []

    delib_ops.record_presence(
        chair=jury.chair,
        candidate_id=candidate.id,
        presence=presence,
        note="A quitté la salle après la mise en situation.",
    )
    db.session.refresh(candidate)
    assert candidate.presence == Presence(presence)
    assert candidate.presence_note == "A quitté la salle après la mise en situation."
    [event] = events("presence_decided")
    assert event.before == {"presence": "expected", "note": ""}
    assert event.after["presence"] == presence


def test_a_member_cannot_record_decisions(scored):
    jury = scored
    candidate = jury.candidates[0]
    jury.open()

    error = refused(
        delib_ops.record_competency_decision,
        chair=jury.member,
        candidate_id=candidate.id,
        competency_id=jury.competency("CP3").id,
        outcome="mastered",
        reason="",
    )

    assert error.message == CHAIR_ONLY
    assert count(CompetencyDecision) == 0


def test_an_unknown_outcome_is_refused(scored):
    jury = scored
    jury.open()

    error = refused(
        delib_ops.record_competency_decision,
        chair=jury.chair,
        candidate_id=jury.candidates[0].id,
        competency_id=jury.competency("CP3").id,
        outcome="acquired",  # a CCP outcome, not a competency one
        reason=REASON,
    )

    assert error.message == "Décision invalide."
    assert count(CompetencyDecision) == 0


def test_changing_a_decision_after_a_signature_clears_the_signatures(scored):
    jury = scored
    candidate = jury.candidates[0]
    jury.open()
    jury.decide_everything()
    signature = delib_ops.sign(member=jury.chair, user_agent="pytest")
    assert count(Signature) == 1 and signature.jury_member_id == jury.chair.id
    cp3 = jury.competency("CP3")

    delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp3.id,
        outcome="not_mastered",
        reason="Correction après relecture.",
    )

    assert count(Signature) == 0
    assert jury.session.locked_at is None
    event = events("competency_decided", target_id=f"{candidate.id}:{cp3.id}")[-1]
    assert event.before == {"outcome": "mastered", "reason": ""}
    assert event.after["signatures_cleared"] == 1


# ----------------------------------------------------------------------------- signatures


def test_signing_is_refused_while_decisions_are_missing(scored):
    jury = scored
    candidate = jury.candidates[0]
    jury.open()
    jury.decide_competencies(candidate)  # the CCP is still to decide

    error = refused(delib_ops.sign, member=jury.member)

    assert error.message == missing_message(1)
    assert count(Signature) == 0
    assert events("minutes_signed") == []


def test_signing_is_refused_while_a_presence_is_not_recorded(scored):
    jury = scored
    candidate = jury.candidates[0]
    jury.open()
    jury.decide_competencies(candidate)
    jury.decide_ccps(candidate)
    jury.decide_title(candidate)
    assert candidate.presence == Presence.EXPECTED

    error = refused(delib_ops.sign, member=jury.member)

    assert error.message == (
        f"La présence de {candidate.full_name} est à indiquer avant les signatures : elle "
        "figure au procès-verbal."
    )
    assert count(Signature) == 0
    jury.record_present(candidate)
    delib_ops.sign(member=jury.member)
    assert count(Signature) == 1


def test_signing_before_the_opening_is_refused(scored):
    error = refused(delib_ops.sign, member=scored.member)

    assert error.message == "La délibération n'est pas ouverte."
    assert count(Signature) == 0


def test_only_present_jurors_sign_and_the_absent_one_is_not_awaited(ntc, db):
    jury = make_jury(ntc, format_code="CCP1", jurors=3, candidates=1)
    chair, member, absent = jury.jurors
    jury.score(jury.candidates[0], jurors=[chair, member])
    absent.present = False
    db.session.flush()
    jury.open()  # an absent juror's grids are not expected
    jury.decide_everything()

    error = refused(delib_ops.sign, member=absent)
    assert error.message == NOT_PRESENT
    assert count(Signature) == 0

    delib_ops.sign(member=chair)
    assert jury.session.locked_at is None
    delib_ops.sign(member=member)
    assert jury.session.locked_at is not None
    assert {s.jury_member_id for s in db.session.execute(select(Signature)).scalars()} == {
        chair.id,
        member.id,
    }


def test_signing_twice_is_one_signature(scored):
    jury = scored
    jury.open()
    jury.decide_everything()

    first = delib_ops.sign(member=jury.member, user_agent="Firefox mobile")
    again = delib_ops.sign(member=jury.member, user_agent="Chrome")

    assert again.id == first.id
    assert count(Signature) == 1
    assert len(events("minutes_signed")) == 1
    stored = db.session.get(Signature, first.id)
    assert stored.user_agent == "Firefox mobile"
    # The signature proves what was signed: the digest of the session's decisions.
    rows = delib_queries.session_decision_rows(jury.session)
    assert stored.decisions_sha256 == decisions_digest(rows)
    assert jury.session.locked_at is None


def test_the_last_present_signature_locks_the_session(scored):
    jury = scored
    deliberation = jury.open()
    jury.decide_everything()

    delib_ops.sign(member=jury.member)
    assert jury.session.locked_at is None and jury.session.state == SessionState.DELIBERATION
    delib_ops.sign(member=jury.chair)

    db.session.expire_all()
    session = jury.session
    assert session.locked_at is not None
    assert session.closed_at == session.locked_at
    assert session.state == SessionState.CLOSED
    assert db.session.get(Deliberation, deliberation.id).locked_at == session.locked_at
    [event] = events("session_locked", session_id=session.id)
    assert event.target_id == str(deliberation.id)
    assert event.actor_kind.value == "system"


def lock(jury: Jury) -> Deliberation:
    deliberation = jury.open()
    jury.decide_everything()
    jury.sign_all()
    assert jury.session.locked_at is not None
    return deliberation


def test_after_the_lock_every_operation_is_refused(scored):
    jury = scored
    candidate = jury.candidates[0]
    lock(jury)
    cp3 = jury.competency("CP3")
    ccp1 = jury.ccp_id("CCP1")
    before = {
        model: count(model)
        for model in (
            CompetencyDecision,
            CcpDecision,
            TitleDecision,
            Signature,
            Deliberation,
            Mark,
            GridCompletion,
            Observation,
            TransversalMark,
            ConflictDeclaration,
        )
    }
    decisions = [
        (
            delib_ops.record_competency_decision,
            {"competency_id": cp3.id, "outcome": "not_mastered", "reason": REASON},
        ),
        (delib_ops.record_ccp_decision, {"ccp_id": ccp1, "outcome": "not_acquired", "reason": "x"}),
        (delib_ops.record_presence, {"presence": "absent", "note": "Absent"}),
    ]
    for call, kwargs in decisions:
        error = refused(call, chair=jury.chair, candidate_id=candidate.id, **kwargs)
        assert (error.message, error.locked) == (LOCKED, True)
    for juror in jury.jurors:
        error = refused(delib_ops.sign, member=juror)
        assert (error.message, error.locked) == (LOCKED, True)
    error = refused(delib_ops.open_deliberation, chair=jury.chair, acknowledge=True)
    assert error.locked is True

    transversal = jury.ref.transversals[0]
    juror_ops = [
        ("mark", {"modality": "MSP", "criterion_id": cp3.criteria[0].id, "observed": False}),
        ("grid", {"modality": "MSP", "completed": False}),
        ("observation", {"competency_id": cp3.id, "text": "Après coup"}),
        ("conflict", {"has_conflict": True, "reason": "Lien"}),
        (
            "transversal",
            {"transversal_id": transversal.id, "competency_id": cp3.id, "observed": True},
        ),
    ]
    for juror in jury.jurors:
        for kind, payload in juror_ops:
            outcome = jury.op(juror, kind, candidate, **payload)
            assert (outcome.status, outcome.message, outcome.locked) == (
                "refused",
                JUROR_LOCKED,
                True,
            ), kind
    assert {model: count(model) for model in before} == before
    assert count(AppliedOperation, status="refused") == 2 * len(juror_ops)


def test_reopening_starts_a_new_round_and_needs_new_signatures(scored):
    jury = scored
    candidate = jury.candidates[0]
    first = lock(jury)

    assert refused(delib_ops.reopen, chair=jury.member, reason=REASON).message == CHAIR_ONLY
    assert refused(delib_ops.reopen, chair=jury.chair, reason="  ").message == REOPEN_REASON
    assert count(Deliberation) == 1 and jury.session.locked_at is not None

    second = delib_ops.reopen(chair=jury.chair, reason="Erreur de saisie sur CP3.")

    db.session.expire_all()
    session = jury.session
    assert second.round == 2 and second.reopen_reason == "Erreur de saisie sur CP3."
    assert db.session.get(Deliberation, first.id).superseded_at is not None
    assert delib_queries.current_round(session).id == second.id
    assert session.locked_at is None and session.closed_at is None
    assert session.state == SessionState.DELIBERATION
    assert delib_queries.signatures(second) == {}
    # Round 1's signatures stay on record; round 2 has none.
    assert count(Signature, deliberation_id=first.id) == 2
    assert count(Signature, deliberation_id=second.id) == 0
    [event] = events("deliberation_reopened")
    assert (event.actor_id, event.before, event.after) == (
        jury.chair.id,
        {"round": 1},
        {"round": 2, "reason": "Erreur de saisie sur CP3."},
    )
    # Not locked any more: reopening again is refused.
    assert refused(delib_ops.reopen, chair=jury.chair, reason=REASON).message == NOT_LOCKED

    # The correction, then new signatures lock the session again.
    cp3 = jury.competency("CP3")
    delib_ops.record_competency_decision(
        chair=jury.chair,
        candidate_id=candidate.id,
        competency_id=cp3.id,
        outcome="mastered",
        reason="Observée dans la mise en situation, relu après réouverture.",
    )
    delib_ops.sign(member=jury.chair)
    assert jury.session.locked_at is None
    delib_ops.sign(member=jury.member)

    db.session.expire_all()
    assert jury.session.locked_at is not None and jury.session.state == SessionState.CLOSED
    assert count(Signature, deliberation_id=second.id) == 2
    assert db.session.get(Deliberation, second.id).locked_at is not None
    assert len(events("session_locked")) == 2


def test_missing_decisions_leave_out_absent_candidates(ntc, db):
    jury = make_jury(ntc, format_code="CCP1", candidates=2)
    present, absent = jury.candidates
    jury.score(present)
    absent.presence = Presence.ABSENT
    db.session.flush()
    jury.open()

    # 4 competencies + CCP1 for the present candidate; nothing for the absent one.
    assert delib_ops.missing_decisions(jury.chair) == 5
    jury.decide_competencies(present)
    jury.decide_ccps(present)
    assert delib_ops.missing_decisions(jury.chair) == 0


def test_an_archived_session_cannot_be_reopened(scored):
    jury = scored
    lock(jury)
    jury.session.state = SessionState.ARCHIVED
    db.session.flush()

    error = refused(delib_ops.reopen, chair=jury.chair, reason=REASON)

    assert (error.message, error.locked) == (ALREADY_OPEN, True)
    db.session.expire_all()
    assert jury.session.state == SessionState.ARCHIVED and jury.session.locked_at is not None
    assert count(Deliberation) == 1
    assert events("deliberation_reopened") == []


def test_the_chair_records_an_incident_or_a_fraud_report(scored):
    from ntc_jury.core.vocabulary import IncidentKind
    from ntc_jury.models import CandidateIncident

    jury = scored
    delib_ops.open_deliberation(chair=jury.chair, acknowledge=True)
    candidate = jury.candidates[0]
    text = "Téléphone consulté pendant l'écrit"
    blank = refused(
        delib_ops.record_incident,
        chair=jury.chair,
        candidate_id=candidate.id,
        kind="fraud",
        text="  ",
    )
    assert "Décrivez" in blank.message
    not_chair = refused(
        delib_ops.record_incident,
        chair=jury.member,
        candidate_id=candidate.id,
        kind="fraud",
        text=text,
    )
    assert "président" in not_chair.message
    delib_ops.record_incident(chair=jury.chair, candidate_id=candidate.id, kind="fraud", text=text)
    row = db.session.execute(select(CandidateIncident)).scalar_one()
    assert (row.kind, row.text, row.reported_by) == (IncidentKind.FRAUD, text, jury.chair.full_name)
    assert events("incident_decided")
    board = delib_queries.candidate_board(jury.chair, candidate.id)
    assert [i.text for i in board.incidents] == [text]
