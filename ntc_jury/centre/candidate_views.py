"""Centre staff: add or correct one candidate, with the eligibility checklist."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from ..access import staff_required
from ..core.vocabulary import Presence, Route
from . import bp, queries, removal_operations
from .candidate_operations import add_candidate, update_candidate
from .explanations import describe_check
from .forms import CandidateForm
from .responses import back, done, form_status, not_editable, refused
from .rules import CentreError, preparation_refusal


@bp.route("/sessions/<int:session_id>/candidats/nouveau", methods=["GET", "POST"])
@staff_required
def new_candidate(session_id: int):
    """Enrol one candidate by hand."""
    session = queries.session_or_404(session_id)
    if refusal := not_editable(session, preparation_refusal(session)):
        return refusal
    form = _candidate_form(session)
    del form.presence, form.presence_note  # a new candidate is expected
    if form.validate_on_submit():
        try:
            add_candidate(session=session, **_candidate_fields(form), actor=current_user)
        except CentreError as error:
            refused(form, error)
        else:
            message = _("Candidat %(number)s ajouté.", number=form.candidate_number.data)
            return done(message, "centre.session_detail", session_id=session_id)
    return _page(form, session, None)


@bp.route(
    "/sessions/<int:session_id>/candidats/<int:candidate_id>/modifier", methods=["GET", "POST"]
)
@staff_required
def edit_candidate(session_id: int, candidate_id: int):
    """Correct a candidate and tick what their file contains (eligibility checklist)."""
    candidate = queries.candidate_or_404(session_id, candidate_id)
    session = queries.session_or_404(session_id)
    if refusal := not_editable(session, preparation_refusal(session)):
        return refusal
    form = _candidate_form(session, candidate)
    if form.validate_on_submit():
        try:
            update_candidate(
                candidate=candidate,
                **_candidate_fields(form),
                presence=Presence(form.presence.data),
                presence_note=form.presence_note.data or "",
                actor=current_user,
            )
        except CentreError as error:
            refused(form, error)
        else:
            return done(_("Candidat modifié."), "centre.session_detail", session_id=session_id)
    return _page(form, session, candidate)


@bp.post("/sessions/<int:session_id>/candidats/<int:candidate_id>/retirer")
@staff_required
def remove_candidate(session_id: int, candidate_id: int):
    """Remove a candidate added by mistake (only while nothing is recorded about them)."""
    candidate = queries.candidate_or_404(session_id, candidate_id)
    name = candidate.full_name
    try:
        removal_operations.remove_candidate(candidate=candidate, actor=current_user)
    except CentreError as error:
        return back(
            str(error), "centre.edit_candidate", session_id=session_id, candidate_id=candidate_id
        )
    return done(
        _("Candidat retiré de la session : %(name)s.", name=name),
        "centre.session_detail",
        session_id=session_id,
    )


def _page(form: CandidateForm, session, candidate):
    checks = queries.eligibility_checklist(candidate, session.format) if candidate else ()
    return render_template(
        "centre/candidate_form.html",
        form=form,
        session=session,
        candidate=candidate,
        checks=checks,
        describe_check=describe_check,
        removal_refusal=removal_operations.candidate_removal_refusal(candidate)
        if candidate
        else None,
    ), form_status(form)


def _candidate_form(session, candidate=None) -> CandidateForm:
    form = CandidateForm(obj=candidate)
    own = session.format.ccp_id
    form.held_ccps.choices = [
        SelectChoice(ccp.code, f"{ccp.code} — {ccp.title}")
        for ccp in session.certification.ccps
        if ccp.id != own
    ]
    if candidate is not None and not form.is_submitted():
        form.held_ccps.data = [h.ccp.code for h in candidate.held_ccps]
        form.route.data = candidate.route.value
        form.presence.data = candidate.presence.value
        form.ecf.data = {True: "yes", False: "no"}.get(candidate.ecf_passed, "")
    return form


def _candidate_fields(form: CandidateForm) -> dict:
    return {
        "candidate_number": form.candidate_number.data,
        "last_name": form.last_name.data,
        "first_name": form.first_name.data,
        "birth_date": form.birth_date.data,
        "route": Route(form.route.data),
        "held_ccp_codes": tuple(form.held_ccps.data or ()),
        "disability_arrangements": form.disability_arrangements.data or "",
        "company_context": form.company_context.data or "",
        "company_hours": form.company_hours.data,
        "company_proof_received": form.company_proof_received.data,
        "dossier_received": form.dossier_received.data,
        "production_received": form.production_received.data,
        "production_pages": form.production_pages.data,
        "production_slides": form.production_slides.data,
        "ecf_passed": form.ecf_passed,
    }
