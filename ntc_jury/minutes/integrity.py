"""Integrity checks behind `flask audit verify`: the audit log's hash chain and stored PDFs.

The chain is global (one chain for every session), so it is verified from its first row to
its last; the report then says which differences concern the asked session. Each row must
chain onto the row before it (`prev_hash` = previous `hash`, the first onto GENESIS) and its
`hash` must be what `ntc_jury.audit.chain.event_hash` computes from its content. Rows the
retention purge redacted cannot be recomputed (their texts are gone on purpose): they pass
when the purge's own, intact, event lists them with the same hash and the same digest of the
fields they kept. Limit: a chain is only evidence up to its last row; someone able to rewrite
every row after an edit could rebuild it, which is why the documents' hashes are also printed
on paper and in every export's manifest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select

from ..audit.chain import GENESIS, HASHED_FIELDS, event_hash
from ..extensions import db
from ..models import AuditEvent, ExamSession, MinutesDocument
from .operations import GENERATED, PURGED
from .retention import kept_fields_digest


@dataclass(frozen=True)
class Difference:
    """One thing that is not what it should be, with what was expected and what was found."""

    subject: str  # "audit" (where = the event id) or "document" (where = "name v2")
    where: str
    what: str  # the field or check: "prev_hash", "hash", "sha256", …
    expected: str
    found: str
    in_session: bool
    reason: str  # one of REASONS; commands.py words it in French
    detail: str = ""  # the action, or the id of the event it refers to


@dataclass
class Report:
    session_id: int
    rows: int = 0
    session_rows: int = 0
    redacted: int = 0
    documents: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


REASONS = (
    "unchained",
    "content_changed",
    "purged_row_changed",
    "file_changed",
    "size_changed",
    "not_recorded",
    "recorded_differs",
    "version_missing",
    "document_missing",
)


def verify_session(session: ExamSession) -> Report:
    report = Report(session.id)
    recorded = verify_chain(report)
    verify_documents(session, recorded, report)
    return report


def verify_chain(report: Report) -> dict[tuple[str, int], tuple[int, str]]:
    """Walk the whole chain; returns what the session's intact events say was generated."""
    redactions = _redactions()
    recorded: dict[tuple[str, int], tuple[int, str]] = {}
    expected_prev, previous_id = GENESIS, None
    rows = db.session.execute(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    ).scalars()
    for row in rows:
        report.rows += 1
        mine = row.session_id == report.session_id
        report.session_rows += mine
        where = str(row.id)
        if row.prev_hash != expected_prev:
            report.differences.append(
                Difference(
                    "audit",
                    where,
                    "prev_hash",
                    expected_prev,
                    row.prev_hash,
                    mine,
                    "unchained",
                    "" if previous_id is None else str(previous_id),
                )
            )
        fields = {name: getattr(row, name) for name in HASHED_FIELDS}
        recomputed = event_hash(row.prev_hash, fields)
        intact = recomputed == row.hash
        if not intact and row.id in redactions:
            stored_hash, kept = redactions[row.id]
            if stored_hash == row.hash and kept == kept_fields_digest(row):
                report.redacted += mine
            else:
                report.differences.append(
                    Difference(
                        "audit",
                        where,
                        "hash",
                        f"{stored_hash} / {kept}",
                        f"{row.hash} / {kept_fields_digest(row)}",
                        mine,
                        "purged_row_changed",
                        row.action,
                    )
                )
        elif not intact:
            report.differences.append(
                Difference(
                    "audit",
                    where,
                    "hash",
                    recomputed,
                    row.hash,
                    mine,
                    "content_changed",
                    row.action,
                )
            )
        if intact and mine and row.action == GENERATED:
            for item in (row.after or {}).get("documents", []):
                recorded[(item["name"], int(item["version"]))] = (row.id, item["sha256"])
        expected_prev, previous_id = row.hash, row.id
    return recorded


def _redactions() -> dict[int, tuple[str, str]]:
    """Rows redacted by purges, as listed by purge events that are themselves intact."""
    found: dict[int, tuple[str, str]] = {}
    for event in db.session.execute(
        select(AuditEvent).where(AuditEvent.action == PURGED).order_by(AuditEvent.id)
    ).scalars():
        fields = {name: getattr(event, name) for name in HASHED_FIELDS}
        if event_hash(event.prev_hash, fields) != event.hash:
            continue  # a forged or edited purge event vouches for nothing
        for row_id, row_hash, kept in (event.after or {}).get("redacted", []):
            found[int(row_id)] = (row_hash, kept)
    return found


def verify_documents(
    session: ExamSession, recorded: dict[tuple[str, int], tuple[int, str]], report: Report
) -> None:
    """Each stored PDF against its own hash, the audit log's record of it, and its versions."""
    versions: dict[str, list[int]] = {}
    for document in db.session.execute(
        select(MinutesDocument)
        .where(MinutesDocument.session_id == session.id)
        .order_by(MinutesDocument.name, MinutesDocument.version)
    ).scalars():
        report.documents += 1
        where = f"{document.name} v{document.version}"
        versions.setdefault(document.name, []).append(document.version)
        actual = hashlib.sha256(document.content).hexdigest()
        if actual != document.sha256:
            report.differences.append(
                Difference(
                    "document", where, "sha256", document.sha256, actual, True, "file_changed"
                )
            )
        if len(document.content) != document.size:
            report.differences.append(
                Difference(
                    "document",
                    where,
                    "size",
                    str(document.size),
                    str(len(document.content)),
                    True,
                    "size_changed",
                )
            )
        logged = recorded.pop((document.name, document.version), None)
        if logged is None:
            report.differences.append(
                Difference("document", where, "audit", GENERATED, "", True, "not_recorded")
            )
        elif logged[1] != document.sha256:
            report.differences.append(
                Difference(
                    "document",
                    where,
                    "sha256",
                    logged[1],
                    document.sha256,
                    True,
                    "recorded_differs",
                    str(logged[0]),
                )
            )
    for name, numbers in versions.items():
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        for number in missing:
            recorded.pop((name, number), None)
            report.differences.append(
                Difference(
                    "document", f"{name} v{number}", "version", "", "", True, "version_missing"
                )
            )
    for (name, number), (event_id, digest) in sorted(recorded.items()):
        report.differences.append(
            Difference(
                "document",
                f"{name} v{number}",
                "sha256",
                digest,
                "",
                True,
                "document_missing",
                str(event_id),
            )
        )
