"""What one juror records about one candidate, and the operations that recorded it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.vocabulary import OperationStatus
from .base import Base, UTCDateTime, created_at_column, enum_column, utcnow
from .session import Candidate, JuryMember


class Mark(Base):
    """One juror × candidate × criterion × modality: observed or not."""

    __tablename__ = "mark"
    __table_args__ = (Unique("jury_member_id", "candidate_id", "criterion_id", "modality_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_member_id: Mapped[int] = mapped_column(ForeignKey("jury_member.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id"))
    modality_id: Mapped[int] = mapped_column(ForeignKey("modality.id"))
    observed: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TransversalMark(Base):
    """A transversal competency a juror observed through one professional competency."""

    __tablename__ = "transversal_mark"
    __table_args__ = (Unique("jury_member_id", "candidate_id", "transversal_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_member_id: Mapped[int] = mapped_column(ForeignKey("jury_member.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    transversal_id: Mapped[int] = mapped_column(ForeignKey("transversal_competency.id"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"))
    observed: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class GridCompletion(Base):
    """A juror declares a modality's grid complete for a candidate ("grille terminée")."""

    __tablename__ = "grid_completion"
    __table_args__ = (Unique("jury_member_id", "candidate_id", "modality_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_member_id: Mapped[int] = mapped_column(ForeignKey("jury_member.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    modality_id: Mapped[int] = mapped_column(ForeignKey("modality.id"))
    completed_at: Mapped[dt.datetime] = created_at_column()


class Observation(Base):
    """The juror's own note on a phase or on a competency; never on the candidate's works."""

    __tablename__ = "observation"
    __table_args__ = (
        # Exactly one subject; NULLs are distinct, so each unique key covers one kind of note.
        CheckConstraint("(phase_id IS NULL) <> (competency_id IS NULL)", name="one_subject"),
        Unique("jury_member_id", "candidate_id", "phase_id"),
        Unique("jury_member_id", "candidate_id", "competency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_member_id: Mapped[int] = mapped_column(ForeignKey("jury_member.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("phase.id"))
    competency_id: Mapped[int | None] = mapped_column(ForeignKey("competency.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    jury_member: Mapped[JuryMember] = relationship()


class ConflictDeclaration(Base):
    """Before scoring a candidate a juror states a link (conflict) or none."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (
        Unique("jury_member_id", "candidate_id"),
        CheckConstraint("NOT has_conflict OR reason <> ''", name="conflict_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_member_id: Mapped[int] = mapped_column(ForeignKey("jury_member.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    has_conflict: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[dt.datetime] = created_at_column()

    jury_member: Mapped[JuryMember] = relationship()
    candidate: Mapped[Candidate] = relationship()


class AppliedOperation(Base):
    """A client-made operation id, applied at most once; a replay gets the stored answer."""

    __tablename__ = "applied_operation"

    id: Mapped[int] = mapped_column(primary_key=True)
    op_id: Mapped[str] = mapped_column(String(36), unique=True)
    jury_member_id: Mapped[int] = mapped_column(ForeignKey("jury_member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[OperationStatus] = enum_column(OperationStatus)
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    # The device's own clock, kept to show how late an offline operation arrived.
    client_time: Mapped[str] = mapped_column(String(40), default="")
    applied_at: Mapped[dt.datetime] = created_at_column()


__all__ = [
    "AppliedOperation",
    "ConflictDeclaration",
    "GridCompletion",
    "Mark",
    "Observation",
    "TransversalMark",
]
