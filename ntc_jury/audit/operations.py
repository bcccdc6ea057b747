"""Appending to the audit log."""

from __future__ import annotations

from functools import cache

from flask import has_request_context, request
from sqlalchemy import insert, select

from ..core.vocabulary import ActorKind
from ..extensions import db, hold_pg_write_lock
from ..models import AuditEvent, utcnow
from .chain import GENESIS, event_hash


def record_event(
    *,
    action: str,
    actor=None,
    actor_kind: ActorKind | None = None,
    session_id: int | None = None,
    target_type: str = "",
    target_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
    op_id: str | None = None,
) -> None:
    """Append one event, chained to the previous one; the caller commits.

    Two prepared Core statements (the last hash, the INSERT): every tick writes an event, and
    building statements or an ORM object costs more than the database takes to run them.
    """
    lock_chain()
    connection = db.session.connection()
    previous = connection.execute(_last_hash_statement()).scalar_one_or_none()
    kind, actor_id, label = _describe_actor(actor, actor_kind)
    fields = {
        "at": utcnow(),
        "session_id": session_id,
        "actor_kind": kind,
        "actor_id": actor_id,
        "actor_label": _fit("actor_label", label),
        "action": action,
        "target_type": _fit("target_type", target_type),
        "target_id": _fit("target_id", str(target_id)),
        "before": before,
        "after": after,
        "op_id": op_id,
        "ip": _fit("ip", (request.remote_addr or "") if has_request_context() else ""),
    }
    prev_hash = previous or GENESIS
    connection.execute(
        _insert_statement(),
        {**fields, "prev_hash": prev_hash, "hash": event_hash(prev_hash, fields)},
    )


@cache
def _last_hash_statement():
    table = AuditEvent.__table__
    return select(table.c.hash).order_by(table.c.id.desc()).limit(1)


@cache
def _insert_statement():
    return insert(AuditEvent.__table__)


def _fit(column: str, text: str) -> str:
    """Cut a label to its column: the e-mail typed at a failed sign-in is the target of its
    event and may be longer than an id (PostgreSQL refuses, it does not cut)."""
    return text[: AuditEvent.__table__.c[column].type.length]


def lock_chain() -> None:
    """Two writers must not both chain onto the same row: take the chain's lock, until commit.

    PostgreSQL: the transaction-scoped advisory lock all writers share
    (`extensions.hold_pg_write_lock`); writing requests already hold it from their first
    statement, except the juror's operation views (`extensions.reads_before_writing`),
    which take it here; commands and tests take it here too. SQLite: write transactions
    already begin IMMEDIATE (see extensions.py), so only one writer is ever inside one.

    A writer that may also wait on another transaction's rows before its first event (two
    requests claiming the same operation ids) calls this first: holding a row the other
    needs while waiting here for the other would deadlock.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        hold_pg_write_lock(db.session.connection())


def _describe_actor(actor, actor_kind: ActorKind | None) -> tuple[ActorKind, int | None, str]:
    kind = getattr(actor, "kind", None)
    if kind == "staff":
        return ActorKind.STAFF, actor.id, actor.email
    if kind == "juror":
        return ActorKind.JUROR, actor.id, actor.full_name
    return actor_kind or ActorKind.SYSTEM, None, ""
