"""The session's data: what the SHA-256 printed on the archived documents covers."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import select

from ..core.referential import ReferentialDef
from ..deliberation import queries as deliberation_queries
from ..extensions import db
from ..models import Candidate, CcpDecision, CompetencyDecision, ExamSession, TitleDecision
from ..referential.queries import referential
from .queries import manager_name

SESSION_DATA_FORMAT = "ntc-jury/session-data/v1"


def session_data(session: ExamSession) -> dict:
    """The session's data: what the SHA-256 printed on the minutes and sheets covers.

    Serialised by `canonical_json` (UTF-8; object keys sorted; separators "," and ":" with no
    whitespace; non-ASCII characters written as themselves), its SHA-256 (`data_sha256`) is the
    hash printed on the documents, and the export ZIP holds those exact bytes as
    `session-data.json`, so `sha256sum session-data.json` reproduces it. Values: dates as
    YYYY-MM-DD, instants in UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ, enumerations as their stored
    values, missing values as null. Content, each list in the order given:

    - "format": "ntc-jury/session-data/v1", the version of this definition;
    - "session": id, certification (code, version), session_format (code), ceres_number,
      centre, site, starts_on, ends_on, manager (the session manager's name);
    - "jury": every jury member by id: id, last_name, first_name, role, habilitation_number,
      habilitation_valid_until, present;
    - "candidates": every candidate by id: id, candidate_number, last_name, first_name,
      birth_date, route, presence;
    - "decisions": every decision by (candidate id, level competency < ccp < title, subject
      code): candidate_id, level, subject (the competency or CCP code, "" for the title),
      outcome, reason;
    - "signatures": the current deliberation round ({"round": n, "signatures": [...]}, or
      null before any deliberation), each signature by jury member id: jury_member_id,
      signed_at, decisions_sha256 (the hash of the decisions that juror confirmed).
    """
    ref = referential(session.certification_id)
    deliberation = deliberation_queries.current_round(session)
    signed = deliberation_queries.signatures(deliberation)
    return {
        "format": SESSION_DATA_FORMAT,
        "session": {
            "id": session.id,
            "certification": {"code": ref.code, "version": ref.version},
            "session_format": ref.format(session.format_id).code,
            "ceres_number": session.ceres_number,
            "centre": session.centre,
            "site": session.site,
            "starts_on": _date(session.starts_on),
            "ends_on": _date(session.ends_on),
            "manager": manager_name(session),
        },
        "jury": [
            {
                "id": m.id,
                "last_name": m.last_name,
                "first_name": m.first_name,
                "role": m.role.value,
                "habilitation_number": m.habilitation_number,
                "habilitation_valid_until": _date(m.habilitation_valid_until),
                "present": m.present,
            }
            for m in deliberation_queries.jurors(session)
        ],
        "candidates": [
            {
                "id": c.id,
                "candidate_number": c.candidate_number,
                "last_name": c.last_name,
                "first_name": c.first_name,
                "birth_date": _date(c.birth_date),
                "route": c.route.value,
                "presence": c.presence.value,
            }
            for c in db.session.execute(
                select(Candidate).where(Candidate.session_id == session.id).order_by(Candidate.id)
            ).scalars()
        ],
        "decisions": _decision_rows(session, ref),
        "signatures": None
        if deliberation is None
        else {
            "round": deliberation.round,
            "signatures": [
                {
                    "jury_member_id": s.jury_member_id,
                    "signed_at": instant(s.signed_at),
                    "decisions_sha256": s.decisions_sha256,
                }
                for _member_id, s in sorted(signed.items())
            ],
        },
    }


def canonical_json(data) -> bytes:
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def data_sha256(session: ExamSession) -> tuple[str, bytes]:
    """The SHA-256 of the session's data, and the canonical bytes it was computed over."""
    body = canonical_json(session_data(session))
    return hashlib.sha256(body).hexdigest(), body


_LEVELS = {"competency": 0, "ccp": 1, "title": 2}


def _decision_rows(session: ExamSession, ref: ReferentialDef) -> list[dict]:
    competency_code = {c.id: c.code for c in ref.competencies}
    ccp_code = {c.id: c.code for c in ref.ccps}
    rows = []
    for model, level, subject in (
        (CompetencyDecision, "competency", lambda d: competency_code[d.competency_id]),
        (CcpDecision, "ccp", lambda d: ccp_code[d.ccp_id]),
        (TitleDecision, "title", lambda d: ""),
    ):
        for decision in db.session.execute(
            select(model)
            .join(Candidate, Candidate.id == model.candidate_id)
            .where(Candidate.session_id == session.id)
        ).scalars():
            rows.append(
                {
                    "candidate_id": decision.candidate_id,
                    "level": level,
                    "subject": subject(decision),
                    "outcome": decision.outcome.value,
                    "reason": decision.reason,
                }
            )
    rows.sort(key=lambda r: (r["candidate_id"], _LEVELS[r["level"]], r["subject"]))
    return rows


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def instant(value: dt.datetime | None) -> str | None:
    """An instant in UTC with microseconds, the same whatever the database returned."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
