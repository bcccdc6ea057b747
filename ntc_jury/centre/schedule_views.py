"""Centre staff: the timetable — generate, edit, print, export to a calendar, convocations."""

from __future__ import annotations

import re
from pathlib import Path

from flask import current_app, make_response, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..access import staff_required
from ..core.candidate_rows import normalise
from ..core.schedule import ScheduleError
from ..models import utcnow
from . import bp, ics, queries
from .clock import from_local, to_local
from .forms import CandidateSlotsForm, ScheduleForm
from .responses import back, done, form_status, not_editable, pdf_response, refused
from .rules import CentreError, preparation_refusal
from .schedule_operations import DayPlan, SlotChange, generate_schedule, update_candidate_slots
from .schedule_queries import arrival_time, day_plan, jury_events, timetable


@bp.get("/sessions/<int:session_id>/planning")
@staff_required
def schedule(session_id: int):
    """The timetable of every candidate, and the form that generates it."""
    session = queries.session_or_404(session_id)
    return _schedule_page(session, _schedule_form(session))


@bp.post("/sessions/<int:session_id>/planning")
@staff_required
def generate(session_id: int):
    """Compute the timetable from the format's phases (replaces the current one)."""
    session = queries.session_or_404(session_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        fields = {name: form[name].data for name in DayPlan.__dataclass_fields__}
        try:
            result = generate_schedule(session=session, plan=DayPlan(**fields), actor=current_user)
        except (CentreError, ScheduleError) as error:
            refused(form, error if isinstance(error, CentreError) else _("Horaires invalides."))
        else:
            message = _("Planning généré.")
            if result.overflows:
                message += " " + _("Attention : il déborde du dernier jour de la session.")
            return done(message, "centre.schedule", session_id=session_id)
    return _schedule_page(session, form)


@bp.route(
    "/sessions/<int:session_id>/planning/candidats/<int:candidate_id>", methods=["GET", "POST"]
)
@staff_required
def edit_slots(session_id: int, candidate_id: int):
    """Move one candidate's phases or change their rooms."""
    candidate = queries.candidate_or_404(session_id, candidate_id)
    if refusal := not_editable(candidate.session, preparation_refusal(candidate.session)):
        return refusal
    slots = queries.candidate_slots(candidate)
    form = CandidateSlotsForm(data={"slots": [_slot_data(s) for s in slots]})
    if form.validate_on_submit():
        try:
            update_candidate_slots(
                candidate=candidate, changes=_changes(form, slots), actor=current_user
            )
        except CentreError as error:
            refused(form, error)
        else:
            return done(_("Horaires modifiés."), "centre.schedule", session_id=session_id)
    by_id = {str(slot.id): slot for slot in slots}
    rows = [(entry, by_id.get(entry.slot_id.data)) for entry in form.slots]
    return render_template(
        "centre/slots_form.html", form=form, candidate=candidate, rows=rows
    ), form_status(form)


@bp.get("/sessions/<int:session_id>/planning/imprimer")
@staff_required
def print_plan(session_id: int):
    """The day plan, laid out for printing."""
    session = queries.session_or_404(session_id)
    return render_template(
        "centre/day_plan.html", session=session, days=day_plan(timetable(session))
    )


@bp.get("/sessions/<int:session_id>/planning.ics")
@staff_required
def jury_calendar(session_id: int):
    """The jury's day as an iCalendar file (orals and breaks)."""
    session = queries.session_or_404(session_id)
    events = jury_events(timetable(session), current_app.config["PUBLIC_URL"])
    name = _("Jury %(format)s — %(centre)s", format=session.format.title, centre=session.centre)
    response = make_response(ics.calendar(events, name=name, now=utcnow()))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    filename = _safe_name(f"jury-session-{session.id}.ics")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/sessions/<int:session_id>/candidats/<int:candidate_id>/convocation.pdf")
@staff_required
def convocation(session_id: int, candidate_id: int):
    """One candidate's convocation, as a PDF."""
    candidate = queries.candidate_or_404(session_id, candidate_id)
    table = timetable(queries.session_or_404(session_id))
    if candidate.id not in table.by_candidate:
        return back(_("Générez d'abord le planning."), "centre.schedule", session_id=session_id)
    if refusal := _misplaced_refusal(table):
        return refusal
    html = _convocations_html(table, [candidate])
    name = _safe_name(f"convocation-{candidate.candidate_number}.pdf")
    return pdf_response(html, name, fallback=("centre.schedule", {"session_id": session_id}))


@bp.get("/sessions/<int:session_id>/convocations.pdf")
@staff_required
def all_convocations(session_id: int):
    """Every scheduled candidate's convocation in one PDF, one page each."""
    table = timetable(queries.session_or_404(session_id))
    scheduled = [c for c in table.session.candidates if c.id in table.by_candidate]
    if not scheduled:
        return back(_("Générez d'abord le planning."), "centre.schedule", session_id=session_id)
    if refusal := _misplaced_refusal(table):
        return refusal
    html = _convocations_html(table, scheduled)
    name = f"convocations-session-{session_id}.pdf"
    return pdf_response(html, name, fallback=("centre.schedule", {"session_id": session_id}))


def _misplaced_refusal(table):
    """No convocation while some candidate is timed outside the session's days or hours."""
    misplaced = table.misplaced()
    if not misplaced:
        return None
    message = _(
        "Convocations impossibles : le planning place %(names)s hors des jours ou des horaires "
        "de la session. Corrigez le planning (page Planning), puis téléchargez les convocations.",
        names=", ".join(c.full_name for c in misplaced),
    )
    return back(message, "centre.schedule", session_id=table.session.id)


def _schedule_page(session, form):
    # Once the jury, candidates and timetable are frozen, the page only shows and prints.
    return render_template(
        "centre/schedule.html",
        session=session,
        form=form,
        table=timetable(session),
        read_only=preparation_refusal(session),
    ), form_status(form)


def _schedule_form(session) -> ScheduleForm:
    form = ScheduleForm()
    if not form.is_submitted():
        form.written_room.data, form.oral_room.data = _default_rooms(session.rooms)
    return form


def _default_rooms(rooms: str) -> tuple[str, str]:
    """The rooms named for the jury and the written part, else the last and the first."""
    names = [room.strip() for room in rooms.split(",") if room.strip()]
    if not names:
        return "", ""
    keyed = [(name, normalise(name)) for name in names]
    oral = next((n for n, k in keyed if any(w in k for w in ("oral", "oraux", "jury"))), names[-1])
    others = [n for n in names if n != oral] or [oral]
    written = next((n for n, k in keyed if "ecrit" in k), others[0])
    return written, oral


def _slot_data(slot) -> dict:
    local = {"starts_at": to_local(slot.starts_at), "ends_at": to_local(slot.ends_at)}
    return {"slot_id": str(slot.id), "room": slot.room} | {
        k: v.replace(tzinfo=None) for k, v in local.items()
    }


def _changes(form: CandidateSlotsForm, slots) -> list[SlotChange]:
    """Pair each submitted line with the candidate's own slot (ids from elsewhere are ignored)."""
    own = {str(slot.id): slot for slot in slots}
    return [
        SlotChange(
            own[entry.slot_id.data],
            from_local(entry.starts_at.data),
            from_local(entry.ends_at.data),
            entry.room.data or "",
        )
        for entry in form.slots
        if entry.slot_id.data in own
    ]


def _convocations_html(table, candidates) -> str:
    stylesheet = Path(current_app.static_folder, "css", "centre.css").as_uri()
    # A convocation is a French document, whatever the language of the staff's screen.
    with force_locale("fr"):
        return render_template(
            "centre/convocation.html",
            session=table.session,
            letters=[
                (c, table.by_candidate[c.id], arrival_time(table.by_candidate[c.id]))
                for c in candidates
            ],
            stylesheet=stylesheet,
            now=utcnow(),
        )


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", name)
