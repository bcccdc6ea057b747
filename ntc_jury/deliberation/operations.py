"""Writes of the deliberation. The chair records what the jury agreed; flush only."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, select

from ..audit.operations import record_event
from ..core.deliberation import (
    all_signed,
    decision_is_stale,
    reason_required,
)
from ..core.suggestion import (
    CcpOutcome,
    CompetencyOutcome,
    TitleOutcome,
    TitleSuggestion,
    departs_from_suggestion,
)
from ..core.vocabulary import IncidentKind, Presence, SessionState, can_transition
from ..extensions import db
from ..labels import OUTCOME_LABELS
from ..models import (
    CandidateIncident,
    CcpDecision,
    CompetencyDecision,
    Deliberation,
    ExamSession,
    JuryMember,
    Signature,
    TitleDecision,
    utcnow,
)
from . import queries

REASON_MAX = 4000


class DecisionUnchanged(Exception):
    """The posted decision is the one already recorded: nothing is written."""


class DeliberationRefused(Exception):
    """A refused deliberation step; `message` is French, `locked` maps to HTTP 409,
    `forbidden` (not this person's to do) to 403."""

    def __init__(self, message: str, *, locked: bool = False, forbidden: bool = False):
        super().__init__(message)
        self.message = message
        self.locked = locked
        self.forbidden = forbidden


def _require_chair(member: JuryMember) -> None:
    if not member.is_chair:
        raise DeliberationRefused(_("Seul le président du jury peut faire cela."))


def _board_to_decide(member: JuryMember, candidate_id: int, *, decisions: bool = True):
    """The open round and the candidate's board, once `member` may record for them (and,
    for decisions rather than presence or incidents, the candidate is not absent)."""
    deliberation = _require_open(member)
    board = queries.candidate_board(member, candidate_id)
    _require_decider(member, board)
    if decisions:
        _require_not_absent(board)
    return deliberation, board


def _require_decider(member: JuryMember, board) -> None:
    """A juror who declared a link with the candidate takes no part in their deliberation,
    the chair included; then a present juror without one records in the chair's place."""
    if member.id in board.recused:
        raise DeliberationRefused(
            _(
                "Vous avez déclaré un lien avec ce candidat : vous ne prenez pas part à sa "
                "délibération."
            ),
            forbidden=True,
        )
    if not board.may_decide(member):
        raise DeliberationRefused(_("Seul le président du jury peut faire cela."), forbidden=True)


def _require_not_absent(board) -> None:
    if board.candidate.presence == Presence.ABSENT:
        raise DeliberationRefused(
            _(
                "Candidat absent : aucune décision n'est à prendre. S'il est venu, indiquez-le "
                "présent d'abord."
            )
        )


def _session_for_update(member: JuryMember) -> ExamSession:
    """The member's session, re-read under a row lock held until commit.

    Two phones signing at the same moment must not both miss each other's signature (nobody
    would lock the record), and a decision must not slip in beside the last signature: every
    deliberation write of a session queues here. PostgreSQL needs the row lock; SQLite
    already queues writing requests (BEGIN IMMEDIATE) and ignores FOR UPDATE.
    """
    return db.session.execute(
        select(ExamSession)
        .where(ExamSession.id == member.session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _require_open(member: JuryMember) -> Deliberation:
    session = _session_for_update(member)
    if session.locked_at is not None:
        raise DeliberationRefused(
            _(
                "La session est verrouillée : les décisions sont signées. Le président peut "
                "rouvrir la délibération."
            ),
            locked=True,
        )
    current = queries.current_round(session)
    if current is None or session.state != SessionState.DELIBERATION:
        raise DeliberationRefused(_("La délibération n'est pas ouverte."))
    return current


def open_deliberation(*, chair: JuryMember, acknowledge: bool) -> Deliberation:
    """Open the deliberation: every juror's ticks and notes become visible to the jury."""
    _require_chair(chair)
    session = _session_for_update(chair)
    if session.state not in (SessionState.PLANNED, SessionState.IN_PROGRESS):
        raise DeliberationRefused(_("La délibération est déjà ouverte ou close."), locked=True)
    ready, _candidates, _members = queries.opening_readiness(chair)
    if not ready.can_open:
        raise DeliberationRefused(
            _("Il faut au moins 2 jurés présents et sans lien avec chaque candidat.")
        )
    if ready.needs_acknowledgement and not acknowledge:
        raise DeliberationRefused(
            _(
                "Des grilles ne sont pas terminées ou des saisies ne sont pas synchronisées : "
                "cochez la case pour ouvrir quand même."
            )
        )
    previous = queries.current_round(session)
    deliberation = Deliberation(
        session_id=session.id,
        round=(previous.round + 1) if previous else 1,
        opened_by_id=chair.id,
        incomplete_grids_acknowledged=ready.needs_acknowledgement,
        incomplete_grids=[list(item) for item in ready.missing_grids],
    )
    db.session.add(deliberation)
    session.state = SessionState.DELIBERATION
    db.session.flush()
    record_event(
        action="deliberation_opened",
        actor=chair,
        session_id=session.id,
        target_type="deliberation",
        target_id=deliberation.id,
        after={
            "round": deliberation.round,
            "missing_grids": len(ready.missing_grids),
            "pending_jurors": list(ready.pending_jurors),
            "acknowledged": ready.needs_acknowledgement,
        },
    )
    return deliberation


def _validated_reason(outcome: str, departs: bool, reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise DeliberationRefused(
            _("Motif trop long (%(max)s caractères au plus).", max=REASON_MAX)
        )
    if reason_required(outcome, departs) and not reason:
        if departs:
            raise DeliberationRefused(
                _("Cette décision s'écarte de la suggestion : indiquez le motif.")
            )
        raise DeliberationRefused(_("Une décision négative doit être motivée."))
    return reason


def _decided(chair, deliberation, kind, candidate_id, subject_id, before, after) -> None:
    """Audit a decision and void the round's signatures: they confirmed other content."""
    removed = db.session.execute(
        delete(Signature).where(Signature.deliberation_id == deliberation.id)
    ).rowcount
    record_event(
        action=f"{kind}_decided",
        actor=chair,
        session_id=chair.session_id,
        target_type=kind,
        target_id=f"{candidate_id}:{subject_id}",
        before=before,
        after={**after, "signatures_cleared": removed},
    )
    db.session.flush()


def _store_decision(
    chair, deliberation, kind, candidate_id, subject_id, decision, existing, result, value, reason
):
    """Check the reason rule, record the decision with its suggestion, audit, void signatures."""
    departs = departs_from_suggestion(result.suggestion, value)
    reason = _validated_reason(value.value, departs, reason)
    if existing is not None and existing.outcome == value and (existing.reason or "") == reason:
        # The prefilled form saved again: nothing to record, and the signatures stand.
        raise DecisionUnchanged()
    before = _snapshot(existing)
    decision.outcome, decision.reason, decision.decided_by_id = value, reason, chair.id
    decision.suggestion = result.suggestion.value
    decision.suggestion_trace = result.trace.summary()
    decision.decided_at = utcnow()
    db.session.add(decision)
    _decided(
        chair,
        deliberation,
        kind,
        candidate_id,
        subject_id,
        before,
        {"outcome": value.value, "reason": reason, "departs": departs},
    )
    return decision


def record_competency_decision(
    *, chair: JuryMember, candidate_id: int, competency_id: int, outcome: str, reason: str
) -> str:
    """Maîtrisée / non maîtrisée for one competency, with its reason where required; returns
    what else it changed, to tell the chair ("" when nothing)."""
    deliberation, board = _board_to_decide(chair, candidate_id)
    item = next((b for b in board.competencies if b.competency.id == competency_id), None)
    if item is None:
        raise DeliberationRefused(_("Compétence inconnue pour ce candidat."))
    value = _outcome(CompetencyOutcome, outcome)
    _store_decision(
        chair,
        deliberation,
        "competency",
        candidate_id,
        competency_id,
        item.decision or CompetencyDecision(candidate_id=candidate_id, competency_id=competency_id),
        item.decision,
        item.result,
        value,
        reason,
    )
    cause = {"cleared_by_competency": item.competency.code}
    return " ".join(_clear_stale(chair, deliberation, candidate_id, cause))


def record_ccp_decision(
    *, chair: JuryMember, candidate_id: int, ccp_id: int, outcome: str, reason: str
) -> str:
    """Acquis / non acquis / déjà acquis for one CCP; returns what else it changed, to tell
    the chair ("" when nothing)."""
    deliberation, board = _board_to_decide(chair, candidate_id)
    found = next(((c, r, d) for c, r, d in board.ccps if c.id == ccp_id), None)
    if found is None:
        raise DeliberationRefused(_("CCP inconnu pour ce candidat."))
    ccp, result, existing = found
    value = _outcome(CcpOutcome, outcome)
    held = ccp.code in board.plan.held_ccp_codes
    if (value == CcpOutcome.ALREADY_ACQUIRED) != held:
        raise DeliberationRefused(
            _("« Déjà acquis » est réservé aux CCP que le candidat détient déjà.")
        )
    _store_decision(
        chair,
        deliberation,
        "ccp",
        candidate_id,
        ccp_id,
        existing or CcpDecision(candidate_id=candidate_id, ccp_id=ccp_id),
        existing,
        result,
        value,
        reason,
    )
    return " ".join(_clear_stale(chair, deliberation, candidate_id, {"cleared_by_ccp": ccp.code}))


def _stale(result, decision) -> bool:
    return decision_is_stale(
        result.suggestion, decision.suggestion, decision.outcome, decision.reason
    )


def _clear_stale(chair, deliberation, candidate_id: int, cause: dict) -> list[str]:
    """Erase the CCP and title decisions a new decision left against the rules; the chair
    is told which ones to decide again. Nothing stale is ever signed."""
    notices = []
    board = queries.candidate_board(chair, candidate_id)
    for ccp, result, decision in board.ccps:
        if decision is not None and _stale(result, decision):
            _erase(chair, deliberation, "ccp", candidate_id, ccp.id, decision, cause)
            notices.append(
                _(
                    "%(code)s : la décision « %(outcome)s » s'écarte désormais de la suggestion ; "
                    "elle est effacée, décidez à nouveau ce CCP (avec son motif si vous la "
                    "maintenez).",
                    code=ccp.code,
                    outcome=OUTCOME_LABELS[decision.outcome.value],
                )
            )
    if notices:
        board = queries.candidate_board(chair, candidate_id)  # the title follows the CCPs
    if board.title is not None and board.title[1] is not None:
        result, title = board.title
        if _stale(result, title):
            was_obtained = title.outcome == TitleOutcome.OBTAINED
            _erase(chair, deliberation, "title", candidate_id, 0, title, cause)
            if was_obtained and result.trace.not_acquired:
                notices.append(
                    _(
                        "%(code)s non acquis : la décision « titre obtenu » est effacée, "
                        "décidez à nouveau le titre.",
                        code=", ".join(result.trace.not_acquired),
                    )
                )
            else:
                notices.append(
                    _(
                        "La décision sur le titre ne correspond plus aux décisions sur les CCP : "
                        "elle est effacée, décidez à nouveau le titre."
                    )
                )
    return notices


def _erase(chair, deliberation, kind, candidate_id, subject_id, decision, cause) -> None:
    _decided(
        chair,
        deliberation,
        kind,
        candidate_id,
        subject_id,
        _snapshot(decision),
        {"outcome": None, "reason": "", **cause},
    )
    db.session.delete(decision)
    db.session.flush()


def record_title_decision(
    *, chair: JuryMember, candidate_id: int, outcome: str, reason: str
) -> TitleDecision:
    """Obtenu / non obtenu for the title (titre complet sessions and capitalisation)."""
    deliberation, board = _board_to_decide(chair, candidate_id)
    if board.title is None:
        raise DeliberationRefused(_("Ce candidat ne se présente pas au titre dans cette session."))
    result, existing = board.title
    value = _outcome(TitleOutcome, outcome)
    if value == TitleOutcome.OBTAINED and result.suggestion != TitleSuggestion.OBTAINED:
        # The title is the sum of its CCPs: the jury decides each CCP, not the title past them.
        missing = [_("%(code)s non acquis", code=code) for code in result.trace.not_acquired] + [
            _("%(code)s non décidé", code=code) for code in result.trace.undecided
        ]
        raise DeliberationRefused(
            _(
                "Le titre n'est obtenu que si chaque CCP est acquis (dans cette session ou "
                "déjà) : %(missing)s.",
                missing=", ".join(missing),
            )
        )
    return _store_decision(
        chair,
        deliberation,
        "title",
        candidate_id,
        0,
        existing or TitleDecision(candidate_id=candidate_id),
        existing,
        result,
        value,
        reason,
    )


def record_presence(*, chair: JuryMember, candidate_id: int, presence: str, note: str) -> str:
    """Absent or abandon is recorded by the jury, never guessed. An absent candidate has no
    decision: those already recorded are erased (audited); returns that notice, or ""."""
    deliberation, board = _board_to_decide(chair, candidate_id, decisions=False)
    value = _outcome(Presence, presence)
    note = (note or "").strip()[:REASON_MAX]
    if value.needs_circumstances and not note:
        raise DeliberationRefused(_("Précisez les circonstances de l'absence ou de l'abandon."))
    if value == board.candidate.presence and note == (board.candidate.presence_note or ""):
        raise DecisionUnchanged()
    before = {"presence": board.candidate.presence.value, "note": board.candidate.presence_note}
    board.candidate.presence, board.candidate.presence_note = value, note
    _decided(
        chair,
        deliberation,
        "presence",
        candidate_id,
        0,
        before,
        {"presence": value.value, "note": note},
    )
    if value != Presence.ABSENT:
        return ""
    cause = {"cleared_by_presence": value.value}
    recorded = [
        *(("competency", item.competency.id, item.decision) for item in board.competencies),
        *(("ccp", ccp.id, decision) for ccp, _result, decision in board.ccps),
        *([("title", 0, board.title[1])] if board.title else []),
    ]
    erased = 0
    for kind, subject_id, decision in recorded:
        if decision is not None:
            _erase(chair, deliberation, kind, candidate_id, subject_id, decision, cause)
            erased += 1
    if not erased:
        return ""
    return _(
        "Candidat absent : les %(n)s décision(s) déjà saisies pour lui sont effacées.", n=erased
    )


def record_incident(*, chair: JuryMember, candidate_id: int, kind: str, text: str) -> None:
    """An incident or a fraud report about a candidate, kept in the minutes."""
    deliberation, board = _board_to_decide(chair, candidate_id, decisions=False)
    value = _outcome(IncidentKind, kind)
    text = (text or "").strip()[:REASON_MAX]
    if not text:
        raise DeliberationRefused(_("Décrivez l'incident ou la fraude constatée."))
    incident = CandidateIncident(
        candidate_id=board.candidate.id, kind=value, text=text, reported_by=chair.full_name
    )
    db.session.add(incident)
    db.session.flush()
    _decided(
        chair,
        deliberation,
        "incident",
        candidate_id,
        incident.id,
        None,
        {"kind": value.value, "text": text},
    )


def sign(*, member: JuryMember, user_agent: str = "", seen_digest: str | None = None) -> Signature:
    """A present juror confirms the decisions on their own device; the last one locks.

    `seen_digest` is the digest of the decisions the juror's page showed (the sign form
    carries it): a signature never confirms decisions changed since the juror looked."""
    deliberation = _require_open(member)
    session = member.session
    if not member.present:
        raise DeliberationRefused(_("Seuls les jurés présents signent le procès-verbal."))
    rows = queries.overview(member)
    missing = missing_decisions(member, rows=rows)
    if missing:
        raise DeliberationRefused(
            _(
                "Des décisions manquent encore (%(n)s) : elles sont à saisir avant les signatures.",
                n=missing,
            )
        )
    unrecorded = presence_to_record(rows)
    if unrecorded:
        raise DeliberationRefused(
            _(
                "La présence de %(names)s est à indiquer avant les signatures : elle figure "
                "au procès-verbal.",
                names=", ".join(c.full_name for c in unrecorded),
            )
        )
    signed = queries.signatures(deliberation)
    if member.id in signed:
        return signed[member.id]
    digest = queries.decisions_digest_of(session)
    if seen_digest is not None and seen_digest != digest:
        raise DeliberationRefused(
            _(
                "Des décisions ont changé depuis l'affichage de votre page : relisez-les, "
                "puis signez."
            )
        )
    signature = Signature(
        deliberation_id=deliberation.id,
        jury_member_id=member.id,
        decisions_sha256=digest,
        user_agent=(user_agent or "")[:300],
    )
    db.session.add(signature)
    db.session.flush()
    record_event(
        action="minutes_signed",
        actor=member,
        session_id=session.id,
        target_type="deliberation",
        target_id=deliberation.id,
        after={"digest": digest},
    )
    present = frozenset(m.id for m in queries.jurors(session) if m.present)
    if all_signed(present, frozenset(signed) | {member.id}):
        _lock(session, deliberation)
    return signature


def _lock(session, deliberation: Deliberation) -> None:
    now = utcnow()
    deliberation.locked_at = now
    session.locked_at = now
    session.closed_at = now
    session.state = SessionState.CLOSED
    db.session.flush()
    record_event(
        action="session_locked",
        actor_kind=None,
        session_id=session.id,
        target_type="deliberation",
        target_id=deliberation.id,
    )


def reopen(*, chair: JuryMember, reason: str) -> Deliberation:
    """Reopen a locked record for a correction: audited, reasoned, needs new signatures."""
    _require_chair(chair)
    session = _session_for_update(chair)
    reason = (reason or "").strip()[:REASON_MAX]
    if session.locked_at is None:
        raise DeliberationRefused(_("La délibération n'est pas verrouillée."))
    if not can_transition(session.state, SessionState.DELIBERATION):
        # An archived session's minutes are final.
        raise DeliberationRefused(_("La délibération est déjà ouverte ou close."), locked=True)
    if not reason:
        raise DeliberationRefused(_("Indiquez le motif de la réouverture."))
    previous = queries.current_round(session)
    previous.superseded_at = utcnow()
    deliberation = Deliberation(
        session_id=session.id,
        round=previous.round + 1,
        opened_by_id=chair.id,
        reopen_reason=reason,
    )
    db.session.add(deliberation)
    session.locked_at = None
    session.closed_at = None
    session.state = SessionState.DELIBERATION
    db.session.flush()
    record_event(
        action="deliberation_reopened",
        actor=chair,
        session_id=session.id,
        target_type="deliberation",
        target_id=deliberation.id,
        before={"round": previous.round},
        after={"round": deliberation.round, "reason": reason},
    )
    return deliberation


def record_decision(*, chair: JuryMember, candidate_id: int, form) -> str:
    """Dispatch one posted decision to the right level; returns a warning to show, or "".

    Raises DecisionUnchanged when the decision is the one already recorded (nothing written,
    the signatures stand). When a change voids signatures already given, the chair is told."""
    signed_before = len(queries.signatures(queries.current_round(chair.session)))
    notice = _dispatch_decision(chair, candidate_id, form)
    if signed_before and not queries.signatures(queries.current_round(chair.session)):
        voided = ngettext(
            "La signature déjà recueillie est annulée : elle portait sur d'autres décisions, "
            "elle est à refaire.",
            "Les %(num)s signatures déjà recueillies sont annulées : elles portaient sur "
            "d'autres décisions, elles sont à refaire.",
            signed_before,
        )
        notice = f"{notice} {voided}".strip()
    return notice


def _dispatch_decision(chair: JuryMember, candidate_id: int, form) -> str:
    level = form.level.data
    subject = form.subject_id.data
    outcome, reason = form.outcome.data or "", form.reason.data or ""
    if level == "competency" and subject:
        return record_competency_decision(
            chair=chair,
            candidate_id=candidate_id,
            competency_id=subject,
            outcome=outcome,
            reason=reason,
        )
    elif level == "ccp" and subject:
        return record_ccp_decision(
            chair=chair, candidate_id=candidate_id, ccp_id=subject, outcome=outcome, reason=reason
        )
    elif level == "title":
        record_title_decision(
            chair=chair, candidate_id=candidate_id, outcome=outcome, reason=reason
        )
    elif level == "presence":
        return record_presence(
            chair=chair, candidate_id=candidate_id, presence=outcome, note=reason
        )
    elif level == "incident":
        record_incident(chair=chair, candidate_id=candidate_id, kind=outcome, text=reason)
    else:
        raise DeliberationRefused(_("Décision invalide."))
    return ""


def missing_decisions(member: JuryMember, rows: list | None = None) -> int:
    """How many decisions are still to record for candidates who were not absent."""
    return sum(
        row.expected - row.decided
        for row in (queries.overview(member) if rows is None else rows)
        if row.candidate.presence != Presence.ABSENT
    )


def presence_to_record(rows: list) -> list:
    """Candidates whose presence nobody recorded: the minutes print it, so it is recorded
    (by the centre at the door or by the jury), never guessed, before the signatures."""
    return [row.candidate for row in rows if row.candidate.presence == Presence.EXPECTED]


def _outcome(enum_cls, value: str):
    try:
        return enum_cls(value)
    except ValueError as error:
        raise DeliberationRefused(_("Décision invalide.")) from error


def _snapshot(decision) -> dict | None:
    if decision is None:
        return None
    return {"outcome": decision.outcome.value, "reason": decision.reason}
