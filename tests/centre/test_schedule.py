"""The timetable in the database: generation, edits, the jurors' order, print, ICS, PDF."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from zoneinfo import ZoneInfo

import pypdf
import pytest

from ntc_jury.centre.rules import CentreError
from ntc_jury.centre.schedule_operations import DayPlan, generate_schedule, update_candidate_slots
from ntc_jury.core.vocabulary import Presence, Route, SessionState
from ntc_jury.jury.queries import session_candidates
from ntc_jury.models import Candidate, JuryBreak, ScheduleSlot, utcnow
from tests.centre.conftest import audit_actions, count
from tests.factories import add_candidate, make_session

PARIS = ZoneInfo("Europe/Paris")
# A Tuesday, so nothing in the test depends on today's date or a daylight-saving change.
DAY = dt.date(2026, 3, 10)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def local(instant: dt.datetime) -> str:
    return instant.astimezone(PARIS).strftime("%d %H:%M")


def slots_of(db, candidate) -> dict[str, ScheduleSlot]:
    rows = db.session.execute(
        db.select(ScheduleSlot).filter_by(candidate_id=candidate.id)
    ).scalars()
    return {s.phase.code: s for s in rows}


@pytest.fixture
def title4(db, ntc):
    made = make_session(ntc, starts_on=DAY, candidates=4)
    made.ends_on = DAY + dt.timedelta(days=1)
    made.rooms = "Salle 14, Salle 12"
    db.session.commit()
    return made


def fit_in_three_days(db, exam):
    """4 titles need a third day: on two, the last candidate's orals run into the night."""
    exam.ends_on = DAY + dt.timedelta(days=2)
    db.session.commit()


def generate(client, exam, **changes):
    data = {
        "day_start": "08:30",
        "day_end": "18:30",
        "break_start": "12:00",
        "break_end": "13:00",
        "break_label": "Déjeuner",
        "written_room": "Salle 14",
        "oral_room": "Salle 12",
    } | changes
    return client.post(f"/centre/sessions/{exam.id}/planning", data=data)


def test_generate_from_the_page(staff_client, db, title4):
    page = staff_client.get(f"/centre/sessions/{title4.id}/planning")
    assert page.status_code == 200
    assert 'value="Salle 14"' in text(page) and 'value="Salle 12"' in text(page)  # from rooms
    response = generate(staff_client, title4)
    assert response.status_code == 303
    assert count(db, ScheduleSlot) == 4 * 13
    assert count(db, JuryBreak, session_id=title4.id) == 2  # one lunch per day
    first, second, _third, fourth = sorted(title4.candidates, key=lambda c: c.schedule_position)
    one = slots_of(db, first)
    assert local(one["MSP-ECRIT"].starts_at) == "10 08:30"  # local time, stored in UTC
    assert local(one["MSP-COMPTE-RENDU"].starts_at) == "10 13:00"  # after lunch
    assert (one["MSP-ECRIT"].room, one["MSP-COMPTE-RENDU"].room) == ("Salle 14", "Salle 12")
    assert local(slots_of(db, second)["MSP-COMPTE-RENDU"].starts_at) == "11 09:00"
    assert local(slots_of(db, second)["QP-PRESENTATION"].starts_at) == "11 13:00"
    assert audit_actions(db, title4.id)[-1] == "schedule_generated"
    page = text(staff_client.get(response.headers["Location"]))
    assert "Planning généré. Attention : il déborde du dernier jour de la session." in page
    assert f'id="schedule-candidate-{fourth.id}"' in page


@pytest.mark.parametrize(
    ("rooms", "written", "oral"),
    [
        ("Salle 12 (oraux), Salle 14 (écrits)", "Salle 14 (écrits)", "Salle 12 (oraux)"),
        ("A, B, C", "A", "C"),
        ("Salle du jury, Amphi", "Amphi", "Salle du jury"),
    ],
)
def test_rooms_are_suggested_from_the_session(staff_client, db, title4, rooms, written, oral):
    title4.rooms = rooms
    db.session.commit()
    page = text(staff_client.get(f"/centre/sessions/{title4.id}/planning"))
    assert re.search(rf'<input id="written_room"[^>]* value="{re.escape(written)}"', page)
    assert re.search(rf'<input id="oral_room"[^>]* value="{re.escape(oral)}"', page)


def test_a_timetable_past_the_session_dates_stays_flagged(staff_client, db, ntc):
    one_day = make_session(ntc, starts_on=DAY, candidates=4)
    db.session.commit()
    generate(staff_client, one_day)  # 4 titles cannot fit in one day: it runs into the night
    page = text(staff_client.get(f"/centre/sessions/{one_day.id}/planning"))
    assert 'id="schedule-overflow"' in page


def test_invalid_generation_form_is_422(staff_client, db, title4):
    response = generate(staff_client, title4, day_end="07:00", break_end="", break_label="Gardé")
    assert response.status_code == 422
    page = text(response)
    assert "La fin de journée doit suivre le début." in page
    assert "Donnez le début et la fin de la pause, ou aucun des deux." in page
    assert 'value="Gardé"' in page
    assert count(db, ScheduleSlot) == 0


def test_capitalisation_candidate_gets_the_final_interview_last(db, ntc):
    exam = make_session(ntc, format_code="CCP1", starts_on=DAY, candidates=0)
    trained = add_candidate(exam)
    capitalising = add_candidate(exam, route=Route.CAPITALISATION, held_ccp_codes=("CCP2",))
    last = add_candidate(exam)
    generate_schedule(session=exam, plan=DayPlan(dt.time(8), dt.time(20)))
    assert "EF" not in slots_of(db, trained) and "EF" not in slots_of(db, last)
    final = slots_of(db, capitalising)["EF"]
    ends = [s.ends_at for c in (trained, last) for s in slots_of(db, c).values()]
    assert final.starts_at >= max(ends)
    assert count(db, ScheduleSlot) == 10 + 11 + 10


def test_absent_candidates_are_not_scheduled_and_go_last(db, ntc):
    exam = make_session(ntc, starts_on=DAY, candidates=3)
    absent = sorted(exam.candidates, key=lambda c: c.schedule_position)[0]
    absent.presence = Presence.ABSENT
    generate_schedule(session=exam, plan=DayPlan(dt.time(8), dt.time(23)))
    db.session.commit()
    assert slots_of(db, absent) == {}
    db.session.expire_all()
    assert db.session.get(Candidate, absent.id).schedule_position == 2


def test_jurors_list_follows_the_schedule_after_an_edit(staff_client, db, title4):
    generate(staff_client, title4)
    ordered = sorted(title4.candidates, key=lambda c: c.schedule_position)
    last = ordered[-1]
    url = f"/centre/sessions/{title4.id}/planning/candidats/{last.id}"
    page = staff_client.get(url)
    assert page.status_code == 200
    slots = sorted(slots_of(db, last).values(), key=lambda s: s.starts_at)
    data = {}
    for index, slot in enumerate(slots):
        starts, ends = slot.starts_at.astimezone(PARIS), slot.ends_at.astimezone(PARIS)
        if slot.phase.jury_present:  # heard the day before everyone: first in the list
            starts, ends = starts - dt.timedelta(days=2), ends - dt.timedelta(days=2)
        data |= {
            f"slots-{index}-slot_id": slot.id,
            f"slots-{index}-starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            f"slots-{index}-ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
            f"slots-{index}-room": "Salle B" if index == 0 else slot.room,
        }
    response = staff_client.post(url, data=data)
    assert response.status_code == 303
    db.session.expire_all()
    member = title4.jury_members[0]
    assert session_candidates(member)[0].id == last.id
    assert [c.id for c in session_candidates(member)[1:]] == [c.id for c in ordered[:-1]]
    assert slots_of(db, last)[slots[0].phase.code].room == "Salle B"
    assert audit_actions(db, title4.id)[-1] == "schedule_edited"


def test_an_edit_that_makes_the_jury_hear_two_candidates_is_flagged(staff_client, db, title4):
    generate(staff_client, title4)
    first, second = sorted(title4.candidates, key=lambda c: c.schedule_position)[:2]
    taken = slots_of(db, first)["MSP-COMPTE-RENDU"]
    moved = slots_of(db, second)["MSP-COMPTE-RENDU"]
    url = f"/centre/sessions/{title4.id}/planning/candidats/{second.id}"
    response = staff_client.post(
        url,
        data={
            "slots-0-slot_id": moved.id,
            "slots-0-starts_at": taken.starts_at.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M"),
            "slots-0-ends_at": taken.ends_at.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M"),
            "slots-0-room": moved.room,
        },
    )
    assert response.status_code == 303
    page = text(staff_client.get(f"/centre/sessions/{title4.id}/planning"))
    assert 'id="schedule-clashes"' in page
    assert "Le jury entend deux candidats en même temps." in page


def test_slot_edit_errors_are_422_and_foreign_slots_ignored(staff_client, db, ntc, title4):
    generate(staff_client, title4)
    other = make_session(ntc, starts_on=DAY, candidates=1)
    generate_schedule(session=other, plan=DayPlan(dt.time(8), dt.time(20)))
    db.session.commit()
    foreign = next(iter(slots_of(db, other.candidates[0]).values()))
    candidate = title4.candidates[0]
    own = next(iter(slots_of(db, candidate).values()))
    url = f"/centre/sessions/{title4.id}/planning/candidats/{candidate.id}"
    bad = staff_client.post(
        url,
        data={
            "slots-0-slot_id": own.id,
            "slots-0-starts_at": "2026-03-10T10:00",
            "slots-0-ends_at": "2026-03-10T09:00",
            "slots-0-room": "Salle gardée",
        },
    )
    assert bad.status_code == 422
    assert "La fin doit suivre le début." in text(bad) and 'value="Salle gardée"' in text(bad)
    before = (foreign.starts_at, foreign.room)
    staff_client.post(
        url,
        data={
            "slots-0-slot_id": foreign.id,
            "slots-0-starts_at": "2026-03-10T10:00",
            "slots-0-ends_at": "2026-03-10T11:00",
            "slots-0-room": "Volée",
        },
    )
    db.session.expire_all()
    assert (db.session.get(ScheduleSlot, foreign.id).starts_at, foreign.room) == before
    stranger = f"/centre/sessions/{title4.id}/planning/candidats/{other.candidates[0].id}"
    assert staff_client.get(stranger).status_code == 404


def test_day_plan_prints_every_day(staff_client, db, title4):
    generate(staff_client, title4)
    page = text(staff_client.get(f"/centre/sessions/{title4.id}/planning/imprimer"))
    assert page.count('class="plan-day"') == 2
    assert "Tous les candidats (4)" in page  # the written part, once for everybody
    assert "Déjeuner" in page and "Négociation en face à face" in page


def test_day_plan_leaves_out_a_day_with_no_exam(staff_client, db, title4):
    """A day left with its lunch break only prints no page."""
    generate(staff_client, title4)
    second_day = [
        s
        for s in db.session.scalars(db.select(ScheduleSlot))
        if s.starts_at.astimezone(PARIS).date() != DAY
    ]
    assert second_day
    for slot in second_day:
        db.session.delete(slot)
    db.session.commit()
    page = text(staff_client.get(f"/centre/sessions/{title4.id}/planning/imprimer"))
    assert page.count('class="plan-day"') == 1
    assert "Déjeuner" in page  # the first day's


def test_convocation_pdf(staff_client, db, title4):
    fit_in_three_days(db, title4)
    generate(staff_client, title4)
    candidate = title4.candidates[0]
    response = staff_client.get(
        f"/centre/sessions/{title4.id}/candidats/{candidate.id}/convocation.pdf"
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    content = " ".join(page.extract_text() for page in reader.pages)
    assert candidate.full_name in content
    assert "Convocation à une session d'examen" in content
    assert "08:15" in content  # arrival 15 minutes before the written part
    # PDF/A-3b carries its identification in the XMP metadata.
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp


def test_all_convocations_one_page_each(staff_client, db, title4):
    fit_in_three_days(db, title4)
    generate(staff_client, title4)
    response = staff_client.get(f"/centre/sessions/{title4.id}/convocations.pdf")
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 4
    for page, candidate in zip(
        reader.pages, sorted(title4.candidates, key=lambda c: c.schedule_position), strict=True
    ):
        assert candidate.full_name in page.extract_text()


def test_no_convocation_before_the_schedule(staff_client, db, title4):
    candidate = title4.candidates[0]
    response = staff_client.get(
        f"/centre/sessions/{title4.id}/candidats/{candidate.id}/convocation.pdf",
        follow_redirects=True,
    )
    assert "Générez d'abord le planning." in text(response)


def test_jury_calendar(staff_client, db, title4):
    from tests.centre.test_ics import parse_calendar

    generate(staff_client, title4)
    response = staff_client.get(f"/centre/sessions/{title4.id}/planning.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    events = parse_calendar(response.data)
    orals = [e for e in events if e["SUMMARY"].startswith("Oral de")]
    # One event per run of consecutive orals: MSP, then ET+QP+EF (cut once by a lunch).
    assert len(orals) == 9

    def minutes(event):
        parse = lambda v: dt.datetime.strptime(v, "%Y%m%dT%H%M%SZ")  # noqa: E731
        return (parse(event["DTEND"]) - parse(event["DTSTART"])).total_seconds() / 60

    assert sum(minutes(e) for e in orals) == 4 * 220  # the RE's jury time per candidate
    first = min(orals, key=lambda e: e["DTSTART"])
    assert first["DTSTART"] == "20260310T120000Z"  # 13:00 in Paris (UTC+1 in March)
    assert first["LOCATION"].startswith("Salle 12")
    assert sum(e["SUMMARY"] == "Déjeuner" for e in events) == 2


def test_no_convocation_while_the_timetable_overflows_the_session(staff_client, db, ntc):
    one_day = make_session(ntc, starts_on=DAY, candidates=4)
    db.session.commit()
    generate(staff_client, one_day)  # 4 titles cannot fit in one day: it runs into the night
    page = text(staff_client.get(f"/centre/sessions/{one_day.id}/planning"))
    assert 'id="convocations-blocked"' in page
    assert "Les convocations sont bloquées tant que le planning ne tient pas" in page
    assert "convocations.pdf" not in page and "convocation.pdf" not in page
    late = max(one_day.candidates, key=lambda c: c.schedule_position)
    for url in (
        f"/centre/sessions/{one_day.id}/convocations.pdf",
        f"/centre/sessions/{one_day.id}/candidats/{late.id}/convocation.pdf",
    ):
        response = staff_client.get(url)
        assert response.status_code == 303, url
        assert response.headers["Location"] == f"/centre/sessions/{one_day.id}/planning"
        shown = text(staff_client.get(response.headers["Location"]))
        assert "Convocations impossibles" in shown and late.full_name in shown

    # More days make it fit: convocations are back.
    fit_in_three_days(db, one_day)
    generate(staff_client, one_day)
    page = text(staff_client.get(f"/centre/sessions/{one_day.id}/planning"))
    assert 'id="convocations-blocked"' not in page
    ok = staff_client.get(f"/centre/sessions/{one_day.id}/convocations.pdf")
    assert ok.status_code == 200


def test_a_slot_moved_outside_the_working_hours_blocks_the_convocations(staff_client, db, title4):
    generate(staff_client, title4, day_end="18:30")
    candidate = title4.candidates[0]
    slot = max(slots_of(db, candidate).values(), key=lambda s: s.ends_at)
    # Same day, inside the session, but after the day's end (18:30).
    slot.starts_at = dt.datetime.combine(DAY, dt.time(19, 0), PARIS).astimezone(dt.UTC)
    slot.ends_at = slot.starts_at + dt.timedelta(minutes=30)
    db.session.commit()
    response = staff_client.get(
        f"/centre/sessions/{title4.id}/candidats/{candidate.id}/convocation.pdf"
    )
    assert response.status_code == 303
    assert candidate.full_name in text(staff_client.get(response.headers["Location"]))


def lock(db, exam, *, state=SessionState.CLOSED):
    """As the last signature leaves it (state CLOSED), or with only its record locked."""
    exam.locked_at = utcnow()
    exam.state = state
    db.session.commit()


def test_a_locked_sessions_planning_is_read_only_but_printable(staff_client, db, title4):
    fit_in_three_days(db, title4)
    generate(staff_client, title4)
    candidate = title4.candidates[0]
    edit_url = f"/centre/sessions/{title4.id}/planning/candidats/{candidate.id}"
    assert edit_url in text(staff_client.get(f"/centre/sessions/{title4.id}/planning"))
    lock(db, title4)

    response = staff_client.get(f"/centre/sessions/{title4.id}/planning")
    assert response.status_code == 200
    page = text(response)
    content = page.split("<main")[1].split("</main>")[0]
    assert 'id="not-editable"' in content
    assert "La session est verrouillée" in content
    assert "<form" not in content and "<input" not in content
    assert "Générer" not in content and "Horaires" not in content
    assert "/planning/candidats/" not in content
    assert 'id="schedule-table"' in content  # the timetable itself stays shown
    for url in (
        f"/centre/sessions/{title4.id}/planning/imprimer",
        f"/centre/sessions/{title4.id}/planning.ics",
        f"/centre/sessions/{title4.id}/convocations.pdf",
        f"/centre/sessions/{title4.id}/candidats/{candidate.id}/convocation.pdf",
    ):
        assert url in content, url
    printable = staff_client.get(f"/centre/sessions/{title4.id}/planning/imprimer")
    assert printable.status_code == 200 and "Déjeuner" in text(printable)


def test_a_locked_session_with_no_planning_does_not_invite_to_generate_one(
    staff_client, db, title4
):
    lock(db, title4)
    content = text(staff_client.get(f"/centre/sessions/{title4.id}/planning")).split("<main")[1]
    assert 'id="no-schedule"' in content and "générez" not in content.lower()
    assert 'id="schedule-form"' not in content


def test_the_planning_is_read_only_once_the_deliberation_has_begun(staff_client, db, title4):
    generate(staff_client, title4)
    title4.state = SessionState.DELIBERATION
    db.session.commit()
    content = text(staff_client.get(f"/centre/sessions/{title4.id}/planning")).split("<main")[1]
    assert "La délibération est commencée" in content
    assert 'id="schedule-form"' not in content and "/planning/candidats/" not in content
    slots_before = count(db, ScheduleSlot)
    refused = generate(staff_client, title4, day_start="09:00")
    assert refused.status_code == 422
    assert "La délibération est commencée" in text(refused)
    assert count(db, ScheduleSlot) == slots_before


def test_planning_writes_to_a_locked_session_are_refused_in_french(staff_client, db, title4):
    generate(staff_client, title4)
    candidate = title4.candidates[0]
    slot = next(iter(slots_of(db, candidate).values()))
    before = (slot.id, slot.starts_at, slot.room)
    slots_before = count(db, ScheduleSlot)
    events_before = audit_actions(db, title4.id)
    lock(db, title4)

    regenerate = generate(staff_client, title4, day_start="09:00")
    assert regenerate.status_code == 409
    assert "La session est verrouillée" in text(regenerate)
    moved = staff_client.post(
        f"/centre/sessions/{title4.id}/planning/candidats/{candidate.id}",
        data={
            "slots-0-slot_id": slot.id,
            "slots-0-starts_at": "2026-03-10T15:00",
            "slots-0-ends_at": "2026-03-10T16:00",
            "slots-0-room": "Ailleurs",
        },
        headers={"HX-Request": "true"},
    )
    assert moved.status_code == 409
    assert "La session est verrouillée" in text(moved)

    db.session.expire_all()
    assert count(db, ScheduleSlot) == slots_before
    kept = db.session.get(ScheduleSlot, slot.id)
    assert (kept.id, kept.starts_at, kept.room) == before
    assert audit_actions(db, title4.id) == events_before


@pytest.mark.parametrize("state", [SessionState.CLOSED, SessionState.IN_PROGRESS])
def test_the_schedule_operations_refuse_a_locked_record_and_say_so(db, title4, state):
    """Whatever the state says, a locked record is the reason given (not "la session est
    en cours")."""
    generate_schedule(session=title4, plan=DayPlan(dt.time(8), dt.time(20)))
    db.session.commit()
    lock(db, title4, state=state)
    with pytest.raises(CentreError, match="La session est verrouillée"):
        generate_schedule(session=title4, plan=DayPlan(dt.time(9), dt.time(20)))
    db.session.rollback()
    with pytest.raises(CentreError, match="La session est verrouillée"):
        update_candidate_slots(candidate=title4.candidates[0], changes=[])
