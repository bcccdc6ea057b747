"""The session export: one ZIP holding everything the archive keeps about a session.

Layout: `session-data.json` (the canonical bytes whose SHA-256 the documents print),
`pdf/<name>-v<version>.pdf` for every stored version, `csv/<table>.csv` (UTF-8 with BOM,
";"-separated, as French spreadsheets open them) and `json/<table>.json` for marks,
transversal marks, grid completions, observations, decisions, deliberation rounds,
signatures, incidents, the candidates, the jury and the session's audit log;
`resultats.csv`, the results per candidate in French words for the centre's spreadsheet; and
`SHA256SUMS`, the manifest in the format `sha256sum -c SHA256SUMS` checks.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..labels import OUTCOME_LABELS, PRESENCE_LABELS, ROUTE_LABELS
from ..models import (
    AuditEvent,
    Candidate,
    CandidateIncident,
    CcpDecision,
    CompetencyDecision,
    Deliberation,
    ExamSession,
    GridCompletion,
    HeldCcp,
    JuryMember,
    Mark,
    MinutesDocument,
    Observation,
    Signature,
    TitleDecision,
    TransversalMark,
)
from ..referential.queries import referential
from . import session_data

MANIFEST = "SHA256SUMS"
SESSION_DATA = "session-data.json"
RESULTS = "resultats.csv"

_WHO = ("candidate_id", "candidate_number")
# Each table's columns, so an empty table still exports its header line (a file holding only
# the BOM reads as broken). tests/minutes/test_export_csv.py checks them against the rows.
COLUMNS: dict[str, tuple[str, ...]] = {
    "candidates": (
        *_WHO,
        "last_name",
        "first_name",
        "birth_date",
        "route",
        "held_ccps",
        "presence",
        "presence_note",
    ),
    "jury": ("jury_member_id", "name", "role", "present"),
    "marks": (
        *_WHO,
        "jury_member_id",
        "juror",
        "competency",
        "criterion",
        "criterion_id",
        "modality",
        "observed",
        "updated_at",
    ),
    "transversal_marks": (
        *_WHO,
        "jury_member_id",
        "juror",
        "transversal",
        "competency",
        "observed",
        "updated_at",
    ),
    "grid_completions": (*_WHO, "jury_member_id", "juror", "modality", "completed_at"),
    "observations": (
        *_WHO,
        "jury_member_id",
        "juror",
        "phase",
        "competency",
        "text",
        "updated_at",
    ),
    "decisions": (
        *_WHO,
        "level",
        "subject",
        "outcome",
        "reason",
        "suggestion",
        "decided_by",
        "decided_at",
    ),
    "deliberations": (
        "round",
        "opened_at",
        "incomplete_grids_acknowledged",
        "reopen_reason",
        "locked_at",
        "superseded_at",
    ),
    "signatures": (
        "round",
        "jury_member_id",
        "juror",
        "signed_at",
        "decisions_sha256",
        "user_agent",
    ),
    "incidents": (*_WHO, "kind", "text", "reported_by", "reported_at"),
    "audit_log": (
        "id",
        "at",
        "actor_kind",
        "actor_id",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "before",
        "after",
        "op_id",
        "ip",
        "prev_hash",
        "hash",
    ),
}


def session_zip(session: ExamSession) -> tuple[bytes, str, int]:
    """(the ZIP's bytes, the SHA-256 of its manifest, how many files the manifest lists)."""
    files: dict[str, bytes] = {}
    _digest, files[SESSION_DATA] = session_data.data_sha256(session)
    for document in db.session.execute(
        select(MinutesDocument)
        .where(MinutesDocument.session_id == session.id)
        .order_by(MinutesDocument.name, MinutesDocument.version)
    ).scalars():
        files[f"pdf/{document.name}-v{document.version}.pdf"] = document.content
    data = tables(session)
    for name, rows in data.items():
        files[f"csv/{name}.csv"] = _csv(rows, COLUMNS[name])
        files[f"json/{name}.json"] = _json(rows)
    files[RESULTS] = _csv(results(session, data), results_columns(session))
    manifest = "".join(
        f"{hashlib.sha256(body).hexdigest()}  {path}\n" for path, body in sorted(files.items())
    ).encode("utf-8")
    buffer = io.BytesIO()
    stamp = dt.datetime.now().timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, body in [*sorted(files.items()), (MANIFEST, manifest)]:
            archive.writestr(zipfile.ZipInfo(path, date_time=stamp), body, zipfile.ZIP_DEFLATED)
    return buffer.getvalue(), hashlib.sha256(manifest).hexdigest(), len(files)


def tables(session: ExamSession) -> dict[str, list[dict]]:
    """Every table of the export as rows of plain values, in a stable order."""
    ref = referential(session.certification_id)
    jurors = {
        m.id: m.full_name
        for m in db.session.execute(
            select(JuryMember).where(JuryMember.session_id == session.id)
        ).scalars()
    }
    numbers = dict(
        db.session.execute(
            select(Candidate.id, Candidate.candidate_number).where(
                Candidate.session_id == session.id
            )
        ).all()
    )
    modality = {m.id: m.code for m in ref.modalities}

    def of_session(model):
        return (
            select(model)
            .join(Candidate, Candidate.id == model.candidate_id)
            .where(Candidate.session_id == session.id)
            .order_by(model.candidate_id, model.id)
        )

    def who(row) -> dict:
        return {
            "candidate_id": row.candidate_id,
            "candidate_number": numbers[row.candidate_id],
        }

    marks = []
    for mark in db.session.execute(of_session(Mark)).scalars():
        competency, criterion = ref.criterion(mark.criterion_id)
        marks.append(
            {
                **who(mark),
                "jury_member_id": mark.jury_member_id,
                "juror": jurors.get(mark.jury_member_id, ""),
                "competency": competency.code,
                "criterion": criterion.position,
                "criterion_id": mark.criterion_id,
                "modality": modality[mark.modality_id],
                "observed": mark.observed,
                "updated_at": session_data.instant(mark.updated_at),
            }
        )
    transversal = [
        {
            **who(t),
            "jury_member_id": t.jury_member_id,
            "juror": jurors.get(t.jury_member_id, ""),
            "transversal": ref.transversal(t.transversal_id).code,
            "competency": ref.competency(t.competency_id).code,
            "observed": t.observed,
            "updated_at": session_data.instant(t.updated_at),
        }
        for t in db.session.execute(of_session(TransversalMark)).scalars()
    ]
    grids = [
        {
            **who(g),
            "jury_member_id": g.jury_member_id,
            "juror": jurors.get(g.jury_member_id, ""),
            "modality": modality[g.modality_id],
            "completed_at": session_data.instant(g.completed_at),
        }
        for g in db.session.execute(of_session(GridCompletion)).scalars()
    ]
    observations = [
        {
            **who(o),
            "jury_member_id": o.jury_member_id,
            "juror": jurors.get(o.jury_member_id, ""),
            "phase": ref.phase(o.phase_id).code if o.phase_id else "",
            "competency": ref.competency(o.competency_id).code if o.competency_id else "",
            "text": o.text,
            "updated_at": session_data.instant(o.updated_at),
        }
        for o in db.session.execute(of_session(Observation)).scalars()
    ]
    candidates = [
        {
            "candidate_id": c.id,
            "candidate_number": c.candidate_number,
            "last_name": c.last_name,
            "first_name": c.first_name,
            "birth_date": c.birth_date.isoformat() if c.birth_date else "",
            "route": c.route.value,
            "held_ccps": " ".join(sorted(h.ccp.code for h in c.held_ccps)),
            "presence": c.presence.value,
            "presence_note": c.presence_note,
        }
        for c in _candidates(session)
    ]
    jury = [
        {
            "jury_member_id": m.id,
            "name": m.full_name,
            "role": m.role.value,
            "present": m.present,
        }
        for m in db.session.execute(
            select(JuryMember).where(JuryMember.session_id == session.id).order_by(JuryMember.id)
        ).scalars()
    ]
    return {
        "candidates": candidates,
        "jury": jury,
        "marks": marks,
        "transversal_marks": transversal,
        "grid_completions": grids,
        "observations": observations,
        "decisions": _decisions(session, ref, of_session, who, jurors),
        "deliberations": _rounds(session),
        "signatures": _signatures(session, jurors),
        "incidents": [
            {
                **who(i),
                "kind": i.kind.value,
                "text": i.text,
                "reported_by": i.reported_by,
                "reported_at": session_data.instant(i.reported_at),
            }
            for i in db.session.execute(of_session(CandidateIncident)).scalars()
        ],
        "audit_log": _audit(session),
    }


def _candidates(session: ExamSession) -> list[Candidate]:
    return list(
        db.session.execute(
            select(Candidate)
            .where(Candidate.session_id == session.id)
            .options(selectinload(Candidate.held_ccps).selectinload(HeldCcp.ccp))
            .order_by(Candidate.schedule_position, Candidate.last_name, Candidate.id)
        ).scalars()
    )


def results_columns(session: ExamSession) -> list[str]:
    """The French headers of resultats.csv: identity, presence, each CCP, the title."""
    ccps = [c.code for c in referential(session.certification_id).ccps]
    identity = [_("N° de candidat"), _("Nom"), _("Prénom"), _("Parcours"), _("Présence")]
    return [*identity, *ccps, _("Titre")]


def results(session: ExamSession, data: dict[str, list[dict]]) -> list[dict]:
    """One row per candidate, French headers and words: what each CCP and the title became."""
    ccps = [c.code for c in referential(session.certification_id).ccps]
    decided = {
        (d["candidate_id"], d["level"], d["subject"]): d["outcome"] for d in data["decisions"]
    }
    rows = []
    for c in data["candidates"]:
        row = {
            _("N° de candidat"): c["candidate_number"],
            _("Nom"): c["last_name"],
            _("Prénom"): c["first_name"],
            _("Parcours"): str(ROUTE_LABELS[c["route"]]),
            _("Présence"): str(PRESENCE_LABELS[c["presence"]]),
        }
        for code in ccps:
            outcome = decided.get((c["candidate_id"], "ccp", code))
            row[code] = str(OUTCOME_LABELS[outcome]) if outcome else ""
        title = decided.get((c["candidate_id"], "title", ""))
        row[_("Titre")] = str(OUTCOME_LABELS[title]) if title else ""
        rows.append(row)
    return rows


def _decisions(session, ref, of_session, who, jurors) -> list[dict]:
    codes = {
        CompetencyDecision: lambda d: ref.competency(d.competency_id).code,
        CcpDecision: lambda d: next(c.code for c in ref.ccps if c.id == d.ccp_id),
        TitleDecision: lambda d: "",
    }
    levels = {CompetencyDecision: "competency", CcpDecision: "ccp", TitleDecision: "title"}
    rows = []
    for model, code in codes.items():
        for d in db.session.execute(of_session(model)).scalars():
            rows.append(
                {
                    **who(d),
                    "level": levels[model],
                    "subject": code(d),
                    "outcome": d.outcome.value,
                    "reason": d.reason,
                    "suggestion": d.suggestion,
                    "decided_by": jurors.get(d.decided_by_id, ""),
                    "decided_at": session_data.instant(d.decided_at),
                }
            )
    return rows


def _rounds(session) -> list[dict]:
    return [
        {
            "round": d.round,
            "opened_at": session_data.instant(d.opened_at),
            "incomplete_grids_acknowledged": d.incomplete_grids_acknowledged,
            "reopen_reason": d.reopen_reason,
            "locked_at": session_data.instant(d.locked_at),
            "superseded_at": session_data.instant(d.superseded_at),
        }
        for d in db.session.execute(
            select(Deliberation)
            .where(Deliberation.session_id == session.id)
            .order_by(Deliberation.round)
        ).scalars()
    ]


def _signatures(session, jurors) -> list[dict]:
    return [
        {
            "round": round_number,
            "jury_member_id": s.jury_member_id,
            "juror": jurors.get(s.jury_member_id, ""),
            "signed_at": session_data.instant(s.signed_at),
            "decisions_sha256": s.decisions_sha256,
            "user_agent": s.user_agent,
        }
        for s, round_number in db.session.execute(
            select(Signature, Deliberation.round)
            .join(Deliberation, Deliberation.id == Signature.deliberation_id)
            .where(Deliberation.session_id == session.id)
            .order_by(Deliberation.round, Signature.jury_member_id)
        ).all()
    ]


def _audit(session) -> list[dict]:
    return [
        {
            "id": e.id,
            "at": session_data.instant(e.at),
            "actor_kind": e.actor_kind.value,
            "actor_id": e.actor_id,
            "actor_label": e.actor_label,
            "action": e.action,
            "target_type": e.target_type,
            "target_id": e.target_id,
            "before": e.before,
            "after": e.after,
            "op_id": e.op_id,
            "ip": e.ip,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.session_id == session.id).order_by(AuditEvent.id)
        ).scalars()
    ]


# A cell a spreadsheet would read as a formula (OWASP "CSV injection"): a candidate's name,
# a juror's note or a reason starting with one of these runs when the file is opened.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # shown as text, the quote hidden by the spreadsheet
    return value


def _csv(rows: list[dict], columns: Sequence[str] | None = None) -> bytes:
    """The rows as CSV; the header line is written even when there is no row."""
    fieldnames = list(columns) if columns is not None else list(rows[0]) if rows else []
    buffer = io.StringIO()
    if fieldnames:
        writer = csv.DictWriter(buffer, fieldnames=fieldnames, delimiter=";")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8-sig")


def _json(rows: list[dict]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"
