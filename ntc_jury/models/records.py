"""What is kept for years: generated documents and the hash-chained audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column

from ..core.vocabulary import ActorKind
from .base import Base, created_at_column, enum_column


class MinutesDocument(Base):
    """A generated PDF, stored once with its hash; a new version never replaces an old one."""

    __tablename__ = "minutes_document"
    __table_args__ = (Unique("session_id", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    deliberation_id: Mapped[int | None] = mapped_column(ForeignKey("deliberation.id"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id"))
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(20))
    media_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    sha256: Mapped[str] = mapped_column(String(64))
    # Hash of the session's data the document was made from, printed on the document.
    data_sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = created_at_column()


class AuditEvent(Base):
    """Append-only log; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = created_at_column()
    session_id: Mapped[int | None] = mapped_column(ForeignKey("exam_session.id"), index=True)
    actor_kind: Mapped[ActorKind] = enum_column(ActorKind)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(String(60), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    op_id: Mapped[str | None] = mapped_column(String(36))
    ip: Mapped[str] = mapped_column(String(64), default="")
    # Unique: two rows chained onto the same predecessor would fork the chain.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
