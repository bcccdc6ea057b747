"""One seeded centre for tests/browser/test_accessibility_everywhere.py: every page has content.

Built once per module through the app's own operations (and tests/minutes/builders.py):

- P, "planned": today and tomorrow, 3 jurors (a chair, a member whose habilitation ends too
  early, a third one whose link the access-card page reissues), 3 candidates (one with
  arrangements, one by capitalisation holding CCP1), a generated timetable, and two pending
  imports (a clean file, a file with problems);
- D, "deliberating": today, 2 jurors who scored 2 candidates; the deliberation is open, the
  first candidate fully decided, the second only on its competencies;
- L, "locked": today, signed by its 3 jurors (one recused), with its procès-verbal, result
  sheets and synthesis grids archived;
- K, "to archive": an older signed session with no document yet (the keyboard test makes them).

Only plain values (ids, tokens, PINs) leave this module: the live server has its own sessions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ntc_jury.centre.importing import store_pending
from ntc_jury.centre.schedule_operations import DayPlan, generate_schedule
from ntc_jury.core.vocabulary import Route
from ntc_jury.deliberation import operations as deliberation_ops
from ntc_jury.deliberation import queries as deliberation_queries
from ntc_jury.extensions import db
from ntc_jury.jury.operations import apply_operation
from ntc_jury.minutes import operations as minutes_ops
from ntc_jury.models import utcnow
from ntc_jury.referential.queries import referential
from tests.factories import add_candidate, issue_access, make_session, make_staff
from tests.minutes.builders import _tick, build_locked_session, decide_all

IMPORTS = Path(__file__).resolve().parents[1] / "data" / "imports"
# A file with one problem of each common kind: no birth date, unknown route, duplicate number.
PROBLEM_CSV = (
    "Nom;Prénom;Date de naissance;N° de candidat;Parcours\n"
    "Durand;Alice;;2026-201;Formation\n"
    "Petit;Bruno;1990-05-04;2026-202;Stage\n"
    "Roux;Chloé;1992-07-08;2026-202;VAE\n"
).encode()


@dataclass(frozen=True)
class Juror:
    """A juror's way in: the personal link's token and the PIN."""

    token: str
    pin: str


@dataclass
class Scene:
    staff_email: str
    admin_email: str
    staff_id: int
    planned: int  # session ids
    deliberating: int
    locked: int
    to_archive: int
    planned_candidate: int  # a training candidate of P, scheduled, file incomplete
    holder_candidate: int  # P's candidate by capitalisation, who holds CCP1
    planned_member: int  # P's member whose habilitation ends before the session does
    card_member: int  # P's juror whose link the access-card page reissues
    scored_phase: int  # a phase of P's candidate held in front of the jury
    deliberating_candidate: int  # D's first candidate, fully decided
    locked_candidate: int  # L's first candidate, with an archived result sheet
    minutes_sha256: str
    import_ok: str  # pending-import tokens for P, uploaded by the staff member
    import_problems: str
    jurors: dict[str, Juror] = field(default_factory=dict)  # role name → access


def build_scene(ntc, *, today: dt.date | None = None) -> Scene:
    """Seed the whole centre and commit it."""
    today = today or utcnow().date()
    staff = make_staff(email="personnel@example.org")
    admin = make_staff(admin=True, email="admin@example.org")
    db.session.flush()

    planned, planned_ids = _planned_session(ntc, today)
    deliberating, deliberating_ids = _deliberating_session(ntc, today)
    locked = build_locked_session(ntc, candidates=2, jurors=3, starts_on=today)
    minutes = minutes_ops.generate_minutes(session=locked.session)
    minutes_ops.generate_candidate_sheets(session=locked.session)
    to_archive = build_locked_session(ntc, candidates=1, jurors=2, starts_on=dt.date(2025, 3, 12))

    jurors = {
        "planned_chair": planned_ids.pop("chair"),
        "planned_member": planned_ids.pop("member_access"),
        "deliberating_chair": deliberating_ids.pop("chair"),
        "deliberating_member": deliberating_ids.pop("member"),
        "locked_chair": _access(locked.chair),
    }
    scene = Scene(
        staff_email=staff.email,
        admin_email=admin.email,
        staff_id=staff.id,
        planned=planned.id,
        deliberating=deliberating.id,
        locked=locked.session.id,
        to_archive=to_archive.session.id,
        locked_candidate=locked.candidates[0].id,
        minutes_sha256=minutes.sha256,
        import_ok=store_pending(
            (IMPORTS / "candidats_utf8.csv").read_bytes(),
            filename="candidats_utf8.csv",
            session_id=planned.id,
            staff_id=staff.id,
        ),
        import_problems=store_pending(
            PROBLEM_CSV,
            filename="candidats-a-corriger.csv",
            session_id=planned.id,
            staff_id=staff.id,
        ),
        jurors=jurors,
        **planned_ids,
        **deliberating_ids,
    )
    db.session.commit()
    return scene


def _access(member) -> Juror:
    issued = issue_access(member)
    return Juror(issued.token, issued.pin)


def _planned_session(ntc, today: dt.date):
    session = make_session(ntc, jurors=3, candidates=2, starts_on=today, centre="AFPA Lyon")
    add_candidate(
        session,
        route=Route.CAPITALISATION,
        held_ccp_codes=["CCP1"],
        company_context="Contexte A — Équipements industriels",
    )
    db.session.flush()
    db.session.refresh(session)
    session.ends_on = today + dt.timedelta(days=1)
    session.site = "Site de Vénissieux"
    session.rooms = "Salle 14, Salle 12 (jury)"
    session.manager_name = "Claire Responsable"
    chair, member, card = session.jury_members
    for juror in (chair, card):
        juror.habilitation_number = f"HAB-{juror.id:04d}"
        juror.habilitation_valid_until = today + dt.timedelta(days=400)
    member.habilitation_number = f"HAB-{member.id:04d}"
    member.habilitation_valid_until = today  # ends before the second day: a warning
    first, _second, holder = session.candidates
    first.disability_arrangements = "Tiers temps et salle au rez-de-chaussée"
    db.session.flush()
    generate_schedule(
        session=session,
        plan=DayPlan(
            day_start=dt.time(8, 30),
            day_end=dt.time(18, 30),
            break_start=dt.time(12, 0),
            break_end=dt.time(13, 0),
            break_label="Pause déjeuner",
            written_room="Salle 14",
            oral_room="Salle 12 (jury)",
        ),
    )
    plan_phase = next(
        p for p in referential(ntc.id).format(session.format_id).phases if p.jury_present
    )
    ids = {
        "chair": _access(chair),
        "member_access": _access(member),
        "planned_candidate": first.id,
        "holder_candidate": holder.id,
        "planned_member": member.id,
        "card_member": card.id,
        "scored_phase": plan_phase.id,
    }
    return session, ids


def _deliberating_session(ntc, today: dt.date):
    session = make_session(ntc, jurors=2, candidates=0, starts_on=today, centre="AFPA Lyon")
    people = [
        add_candidate(session, route=Route.TRAINING, last_name="Arnaud", first_name="Inès"),
        add_candidate(session, route=Route.TRAINING, last_name="Bernard", first_name="Hugo"),
    ]
    db.session.flush()
    db.session.refresh(session)
    chair = next(m for m in session.jury_members if m.is_chair)
    member = next(m for m in session.jury_members if not m.is_chair)
    for candidate in people:
        for juror in (chair, member):
            _operation(juror, "conflict", candidate_id=candidate.id, has_conflict=False)
        _tick(session, chair, candidate, [chair, member])
    deliberation_ops.open_deliberation(chair=chair, acknowledge=True)
    decide_all(chair, people[0], failing=True)
    for item in deliberation_queries.candidate_board(chair, people[1].id).competencies:
        deliberation_ops.record_competency_decision(
            chair=chair,
            candidate_id=people[1].id,
            competency_id=item.competency.id,
            outcome="mastered",
            reason="",
        )
    ids = {
        "chair": _access(chair),
        "member": _access(member),
        "deliberating_candidate": people[0].id,
    }
    return session, ids


def _operation(member, kind: str, **payload) -> None:
    outcome = apply_operation(member=member, op_id=str(uuid.uuid4()), kind=kind, payload=payload)
    assert outcome.status == "applied", outcome
