"""The jury's deliberation: rounds, decisions with reasons, and signatures."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.suggestion import CcpOutcome, CompetencyOutcome, TitleOutcome
from .base import Base, UTCDateTime, created_at_column, enum_column, utcnow
from .session import JuryMember


class Deliberation(Base):
    """One round of deliberation; a reopening starts a new round that needs new signatures."""

    __tablename__ = "deliberation"
    __table_args__ = (Unique("session_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    round: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[dt.datetime] = created_at_column()
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("jury_member.id"))
    # The chair chose to go on although some grids were not completed.
    incomplete_grids_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    incomplete_grids: Mapped[list] = mapped_column(JSON, default=list)
    reopen_reason: Mapped[str] = mapped_column(Text, default="")
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    signatures: Mapped[list[Signature]] = relationship(back_populates="deliberation")


class _Decision:
    """Columns shared by the three levels of decision."""

    reason: Mapped[str] = mapped_column(Text, default="")
    # The app's suggestion when the decision was taken, and its trace, for the record.
    suggestion: Mapped[str] = mapped_column(String(32), default="")
    suggestion_trace: Mapped[dict] = mapped_column(JSON, default=dict)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("jury_member.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CompetencyDecision(_Decision, Base):
    __tablename__ = "competency_decision"
    __table_args__ = (Unique("candidate_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"))
    outcome: Mapped[CompetencyOutcome] = enum_column(CompetencyOutcome)


class CcpDecision(_Decision, Base):
    __tablename__ = "ccp_decision"
    __table_args__ = (Unique("candidate_id", "ccp_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    ccp_id: Mapped[int] = mapped_column(ForeignKey("ccp.id"))
    outcome: Mapped[CcpOutcome] = enum_column(CcpOutcome)


class TitleDecision(_Decision, Base):
    __tablename__ = "title_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), unique=True)
    outcome: Mapped[TitleOutcome] = enum_column(TitleOutcome)


class Signature(Base):
    """A present juror confirms the decisions of one deliberation round on their own device."""

    __tablename__ = "signature"
    __table_args__ = (Unique("deliberation_id", "jury_member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deliberation_id: Mapped[int] = mapped_column(ForeignKey("deliberation.id"))
    jury_member_id: Mapped[int] = mapped_column(ForeignKey("jury_member.id"))
    signed_at: Mapped[dt.datetime] = created_at_column()
    # SHA-256 of the decisions as shown when signing: proves what was signed.
    decisions_sha256: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    deliberation: Mapped[Deliberation] = relationship(back_populates="signatures")
    jury_member: Mapped[JuryMember] = relationship()
