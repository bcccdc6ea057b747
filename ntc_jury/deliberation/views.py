from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import chair_required, juror_required
from ..core.vocabulary import Presence, SessionState
from ..extensions import db
from ..http import is_htmx
from ..locking import allowed_when_locked
from . import bp, operations, queries
from .forms import DecisionForm, OpenForm, ReopenForm

REVEALED = (SessionState.DELIBERATION, SessionState.CLOSED, SessionState.ARCHIVED)


def _revealed_or_403() -> None:
    # Independence: nobody sees another juror's ticks before the deliberation opens.
    if current_user.session.state not in REVEALED:
        abort(403)


@bp.get("/")
@juror_required
def overview():
    """Before opening: the readiness check; after: every candidate's decisions and signatures."""
    session = current_user.session
    if session.state not in REVEALED:
        ready, candidates, members = queries.opening_readiness(current_user)
        return render_template(
            "deliberation/opening.html",
            ready=ready,
            candidates=candidates,
            members=members,
            form=OpenForm(),
        )
    return render_template("deliberation/overview.html", **_live_context())


@bp.get("/etat")
@juror_required
def live_status():
    """The live strip every juror's phone polls: progress, signatures, lock."""
    if current_user.session.state not in REVEALED:
        # Phones waiting for the opening poll here too; they learn only that it is not open.
        return render_template("deliberation/_waiting.html")
    return render_template("deliberation/_live_status.html", **_live_context())


@bp.post("/ouvrir")
@chair_required
def open_deliberation():
    """The chair opens the deliberation (all ticks revealed)."""
    form = OpenForm()
    try:
        operations.open_deliberation(chair=current_user, acknowledge=bool(form.acknowledge.data))
    except operations.DeliberationRefused as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for("deliberation.overview"), code=303)
    db.session.commit()
    flash(
        _("La délibération est ouverte : les grilles de tous les jurés sont visibles."), "success"
    )
    return redirect(url_for("deliberation.overview"), code=303)


@bp.get("/candidats/<int:candidate_id>")
@juror_required
def candidate(candidate_id: int):
    """Every juror's ticks side by side, disagreements first, suggestions and decisions."""
    _revealed_or_403()
    board = queries.candidate_board(current_user, candidate_id)
    return render_template("deliberation/candidate.html", board=board, form=DecisionForm())


@bp.get("/candidats/<int:candidate_id>/decisions")
@juror_required
def candidate_decisions(candidate_id: int):
    """The decisions fragment members' phones poll while the chair records them."""
    _revealed_or_403()
    board = queries.candidate_board(current_user, candidate_id)
    return render_template("deliberation/_decisions.html", board=board)


@bp.post("/candidats/<int:candidate_id>/decision")
@juror_required
def decide(candidate_id: int):
    """The chair records one decision (competency, CCP, title or presence); the operation
    checks who may (a juror replaces a chair who declared a link with the candidate)."""
    form = DecisionForm()
    try:
        notice = operations.record_decision(
            chair=current_user, candidate_id=candidate_id, form=form
        )
    except operations.DecisionUnchanged:
        db.session.rollback()
        if is_htmx():
            board = queries.candidate_board(current_user, candidate_id)
            return render_template("deliberation/_decisions.html", board=board)
        flash(_("Décision inchangée : rien n'est modifié, les signatures sont conservées."), "info")
        return redirect(_back(candidate_id), code=303)
    except operations.DeliberationRefused as refused:
        db.session.rollback()
        return _refused(refused, candidate_id, form)
    db.session.commit()
    if is_htmx():
        board = queries.candidate_board(current_user, candidate_id)
        return render_template("deliberation/_decisions.html", board=board)
    saved = {
        "presence": _("Présence enregistrée."),
        "incident": _("Incident consigné au procès-verbal."),
    }.get(form.level.data, _("Décision enregistrée."))
    flash(saved, "success")
    if notice:
        flash(notice, "warning")
    return redirect(_back(candidate_id), code=303)


@bp.post("/signer")
@juror_required
def sign():
    """A present juror signs the decisions on their own phone."""
    try:
        operations.sign(
            member=current_user,
            user_agent=request.headers.get("User-Agent", ""),
            seen_digest=request.form.get("vu", ""),
        )
    except operations.DeliberationRefused as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for("deliberation.overview"), code=303)
    db.session.commit()
    flash(_("Votre signature est enregistrée."), "success")
    return redirect(url_for("deliberation.overview"), code=303)


@bp.post("/rouvrir")
@chair_required
@allowed_when_locked
def reopen():
    """The chair reopens a signed record for a correction (reason required, audited)."""
    form = ReopenForm()
    try:
        operations.reopen(chair=current_user, reason=form.reason.data or "")
    except operations.DeliberationRefused as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for("deliberation.overview"), code=303)
    db.session.commit()
    flash(
        _("Délibération rouverte : les signatures devront être recueillies à nouveau."), "warning"
    )
    return redirect(url_for("deliberation.overview"), code=303)


@bp.get("/candidats/<int:candidate_id>/synthese")
@juror_required
def summary_sheet(candidate_id: int):
    """The candidate's fiche de synthèse: printable, readable offline once visited."""
    _revealed_or_403()
    board = queries.candidate_board(current_user, candidate_id)
    if current_user.id in board.recused:
        # A juror with a link to the candidate sees their decisions only (on the board).
        message = _(
            "Vous avez déclaré un lien avec ce candidat : sa fiche de synthèse ne vous est pas "
            "ouverte. Ses décisions restent visibles sur sa page de délibération."
        )
        return render_template("errors/error.html", code=403, message=message), 403
    return render_template(
        "deliberation/summary_sheet.html", board=board, session=current_user.session
    )


@bp.get("/synthese")
@juror_required
def session_summary():
    """All candidates × CCPs × title, with counts."""
    _revealed_or_403()
    return render_template(
        "deliberation/session_summary.html", summary=queries.session_summary(current_user)
    )


def _live_context() -> dict:
    session = current_user.session
    current = queries.current_round(session)
    rows = queries.overview(current_user)
    digest = queries.decisions_digest_of(session)
    # The decisions as this page first showed them: the poll keeps the page's digest, so a
    # signature confirms what the juror looked at, never what changed since.
    seen = request.args.get("vu", "")
    if not (len(seen) == 64 and all(c in "0123456789abcdef" for c in seen)):
        seen = digest
    return {
        "session": session,
        "seen_digest": seen,
        "decisions_changed": seen != digest,
        "round": current,
        "rows": rows,
        "signing": queries.signing_summary(current_user, rows),
        "members": queries.jurors(session),
        "signed": queries.signatures(current),
        "missing": operations.missing_decisions(current_user, rows=rows),
        "presence_to_record": operations.presence_to_record(rows),
        "reopen_form": ReopenForm(),
    }


def _refused(refused, candidate_id: int, form: DecisionForm):
    """The board again, the refused form showing why next to it, with what the chair chose
    and wrote kept (a flash at the top of a long page went unseen on a phone)."""
    status = 409 if refused.locked else 403 if refused.forbidden else 422
    if is_htmx():
        return render_template("deliberation/_refusal.html", message=refused.message), status
    board = queries.candidate_board(current_user, candidate_id)
    absent = board.candidate.presence == Presence.ABSENT
    if refused.locked or (absent and form.level.data not in ("presence", "incident")):
        # No form to show it next to (locked, or an absent candidate's board has no decision
        # forms): said at the top, with what was typed, so nothing is lost unseen.
        flash(refused.message, "error")
        typed = (form.reason.data or "").strip()
        if typed:
            flash(_("Texte saisi, non enregistré : « %(text)s »", text=typed), "warning")
        return redirect(_back(candidate_id), code=303)
    refusal = {
        "anchor": request.form.get("anchor", ""),
        "message": refused.message,
        "outcome": form.outcome.data or "",
        "reason": form.reason.data or "",
    }
    return render_template(
        "deliberation/candidate.html", board=board, form=DecisionForm(), refusal=refusal
    ), status


def _back(candidate_id: int) -> str:
    anchor = request.form.get("anchor", "")
    target = url_for("deliberation.candidate", candidate_id=candidate_id)
    return f"{target}#{anchor}" if anchor.replace("-", "").isalnum() else target
