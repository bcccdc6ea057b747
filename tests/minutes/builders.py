"""A whole exam session taken to a signed, locked deliberation, for the archive's tests.

Conflict declarations, observations, decisions and signatures go through the app's own
operations (so the audit log holds what it holds in real life); the ticks and grid
completions are inserted in bulk, because tests/jury covers how they are recorded and a
12-candidate session would otherwise take thousands of operations.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from ntc_jury.core.vocabulary import IncidentKind, Presence, Route
from ntc_jury.deliberation import operations as deliberation_ops
from ntc_jury.deliberation import queries as deliberation_queries
from ntc_jury.extensions import db
from ntc_jury.jury.operations import apply_operation
from ntc_jury.jury.queries import candidate_plan
from ntc_jury.models import (
    Candidate,
    CandidateIncident,
    ExamSession,
    GridCompletion,
    JuryMember,
    Mark,
    Signature,
    TransversalMark,
)
from ntc_jury.referential.queries import referential
from tests.factories import add_candidate, make_session

FAIL_REASON = "Argumentation commerciale insuffisante face aux objections"
CCP_FAIL_REASON = "Compétence C1 non maîtrisée"
TITLE_FAIL_REASON = "CCP1 non acquis"
CONFLICT_REASON = "A été son formateur en 2023"
OBSERVATION_TEXT = "Reformule bien le besoin du client, écoute active"
SURNAMES = (
    "Dupont",
    "Lefèvre",
    "Nguyen",
    "Benali",
    "Martin",
    "Öztürk",
    "Garcia",
    "Moreau",
    "Fontaine",
    "Leroy",
    "Mbappé",
    "Rousseau",
)


@dataclass
class Built:
    session: ExamSession
    chair: JuryMember
    jurors: list[JuryMember]  # every juror, the chair first
    candidates: list[Candidate]
    failing: Candidate | None
    absent: Candidate | None

    @property
    def present_candidates(self) -> list[Candidate]:
        return [c for c in self.candidates if c is not self.absent]

    def session_signatures(self) -> list[Signature]:
        """The signatures of the current deliberation round."""
        current = deliberation_queries.current_round(self.session)
        return list(deliberation_queries.signatures(current).values())

    def session_referential(self):
        return referential(self.session.certification_id)


def build_locked_session(
    certification,
    *,
    candidates: int = 2,
    jurors: int = 3,
    failing: bool = True,
    absent: bool = False,
    starts_on: dt.date | None = None,
    missing_grid: bool = False,
) -> Built:
    """A session whose jury has decided on every candidate and signed: it is locked.

    The second candidate (when there is one and `failing`) fails the first competency, so
    the CCP holding it and the title are lost, each with its reason; with 3 jurors or more,
    the last juror declares a conflict with the first candidate; with `absent`, the last
    candidate is absent; with `missing_grid`, the second juror never completes the first
    candidate's first grid (the deliberation is opened all the same, as the chair may).
    """
    session = make_session(
        certification,
        jurors=jurors,
        candidates=0,
        starts_on=starts_on or dt.date(2025, 3, 12),
        centre="AFPA Lyon Vénissieux",
    )
    session.site = "Site de Vénissieux, bâtiment B"
    session.manager_name = "Claire Responsable"
    members = list(session.jury_members)
    for index, member in enumerate(members):
        member.habilitation_number = f"HAB-{2024 + index}-{member.id:04d}"
        member.habilitation_valid_until = dt.date(2027, 12, 31)
    people = []
    for index in range(candidates):
        candidate = add_candidate(
            session,
            route=Route.TRAINING,
            last_name=SURNAMES[index % len(SURNAMES)] + ("" if index < 12 else str(index)),
            first_name="Éloïse" if index % 2 == 0 else "Mathis",
            birth_date=dt.date(1990 + index % 10, 1 + index % 12, 10 + index % 15),
            disability_arrangements="Tiers temps et salle au rez-de-chaussée" if index == 0 else "",
            company_context=f"Entreprise {index} (stage de 8 semaines)",
        )
        candidate.email = f"candidat{index}@example.org"
        candidate.birth_place = "Lyon"
        people.append(candidate)
    db.session.flush()
    chair = next(m for m in members if m.is_chair)
    members.sort(key=lambda m: (not m.is_chair, m.id))
    failing_candidate = people[1] if failing and len(people) > 1 else None
    absent_candidate = people[-1] if absent else None
    recusing = members[-1] if len(members) >= 3 else None

    for candidate in people:
        candidate.presence = Presence.PRESENT
        if candidate is absent_candidate:
            candidate.presence = Presence.ABSENT
            candidate.presence_note = "Absent sans justificatif, convocation reçue"
        for member in members:
            conflict = recusing is member and candidate is people[0]
            _operation(
                member,
                "conflict",
                candidate_id=candidate.id,
                has_conflict=conflict,
                reason=CONFLICT_REASON if conflict else "",
            )
        if candidate is absent_candidate:
            continue
        scorers = [m for m in members if not (recusing is m and candidate is people[0])]
        _tick(session, chair, candidate, scorers, skip=members[1] if missing_grid else None)
        _operation(
            chair,
            "observation",
            candidate_id=candidate.id,
            phase_id=_first_phase(session, chair, candidate),
            text=OBSERVATION_TEXT,
        )
    db.session.add(
        CandidateIncident(
            candidate_id=people[0].id,
            kind=IncidentKind.INCIDENT,
            text="Arrivé avec 10 minutes de retard (grève des transports)",
            reported_by=chair.full_name,
        )
    )
    if failing_candidate is not None:
        db.session.add(
            CandidateIncident(
                candidate_id=failing_candidate.id,
                kind=IncidentKind.FRAUD,
                text="Consultation d'un téléphone pendant la préparation",
                reported_by=chair.full_name,
            )
        )
    db.session.flush()

    deliberation_ops.open_deliberation(chair=chair, acknowledge=True)
    for candidate in people:
        if candidate is not absent_candidate:
            decide_all(chair, candidate, failing=candidate is failing_candidate)
    sign_all(session)
    db.session.commit()
    assert session.locked_at is not None, "the builder's session did not lock"
    return Built(session, chair, members, people, failing_candidate, absent_candidate)


def decide_all(chair: JuryMember, candidate: Candidate, *, failing: bool = False) -> None:
    """Record every decision of one candidate: all mastered, or the first competency failed."""
    board = deliberation_queries.candidate_board(chair, candidate.id)
    failed_competency = board.competencies[0].competency if failing else None
    for item in board.competencies:
        lost = item.competency is failed_competency
        deliberation_ops.record_competency_decision(
            chair=chair,
            candidate_id=candidate.id,
            competency_id=item.competency.id,
            outcome="not_mastered" if lost else "mastered",
            reason=FAIL_REASON if lost else "",
        )
    for ccp, _result, _decision in board.ccps:
        held = ccp.code in board.plan.held_ccp_codes
        lost = failed_competency is not None and failed_competency.id in ccp.competency_ids
        deliberation_ops.record_ccp_decision(
            chair=chair,
            candidate_id=candidate.id,
            ccp_id=ccp.id,
            outcome="already_acquired" if held else ("not_acquired" if lost else "acquired"),
            reason=CCP_FAIL_REASON if lost else "",
        )
    if board.title is not None:
        deliberation_ops.record_title_decision(
            chair=chair,
            candidate_id=candidate.id,
            outcome="not_obtained" if failing else "obtained",
            reason=TITLE_FAIL_REASON if failing else "",
        )


def sign_all(session: ExamSession) -> None:
    for member in deliberation_queries.jurors(session):
        if member.present:
            deliberation_ops.sign(member=member, user_agent="pytest")


def reopen_and_resign(built: Built, *, reason: str, new_fail_reason: str) -> None:
    """The chair reopens, rewords the failing candidate's reason, and everyone signs again."""
    deliberation_ops.reopen(chair=built.chair, reason=reason)
    amend_and_resign(built, new_fail_reason=new_fail_reason)


def amend_and_resign(built: Built, *, new_fail_reason: str) -> None:
    """In a reopened deliberation: reword the failing candidate's reason, everyone signs."""
    board = deliberation_queries.candidate_board(built.chair, built.failing.id)
    deliberation_ops.record_competency_decision(
        chair=built.chair,
        candidate_id=built.failing.id,
        competency_id=board.competencies[0].competency.id,
        outcome="not_mastered",
        reason=new_fail_reason,
    )
    sign_all(built.session)
    db.session.commit()
    assert built.session.locked_at is not None


def _operation(member: JuryMember, kind: str, **payload) -> None:
    outcome = apply_operation(member=member, op_id=str(uuid.uuid4()), kind=kind, payload=payload)
    assert outcome.status == "applied", outcome


def _first_phase(session, chair, candidate) -> int:
    plan = candidate_plan(referential(session.certification_id), chair, candidate)
    return next(p.id for p in plan.phases if p.jury_present)


def _tick(session, chair, candidate, scorers, skip=None) -> None:
    """Every scorer completes every grid (but `skip`, the first one of the first candidate);
    all but the chair leave criterion 2 unticked."""
    ref = referential(session.certification_id)
    plan = candidate_plan(ref, chair, candidate)
    rows = []
    first_candidate = candidate.id == min(c.id for c in session.candidates)
    for index, (code, competencies) in enumerate(plan.grids.items()):
        modality = ref.modality(code)
        for member in scorers:
            if not (member is skip and first_candidate and index == 0):
                rows.append(
                    GridCompletion(
                        jury_member_id=member.id,
                        candidate_id=candidate.id,
                        modality_id=modality.id,
                    )
                )
            for competency in competencies:
                for criterion in competency.criteria:
                    rows.append(
                        Mark(
                            jury_member_id=member.id,
                            candidate_id=candidate.id,
                            criterion_id=criterion.id,
                            modality_id=modality.id,
                            observed=member is chair or criterion.position != 2,
                        )
                    )
    for transversal in ref.transversals:
        graded = [c for c in transversal.competency_ids if c in {k.id for k in plan.competencies}]
        if graded:
            rows.append(
                TransversalMark(
                    jury_member_id=chair.id,
                    candidate_id=candidate.id,
                    transversal_id=transversal.id,
                    competency_id=graded[0],
                    observed=True,
                )
            )
    db.session.add_all(rows)
    db.session.flush()
