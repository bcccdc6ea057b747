"""An exam session: its jury, its candidates and their timetable."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.vocabulary import IncidentKind, JuryRole, Presence, Route, SessionState
from .base import Base, UTCDateTime, created_at_column, enum_column
from .referential import Ccp, Certification, Phase, SessionFormat


class ExamSession(Base):
    __tablename__ = "exam_session"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"))
    format_id: Mapped[int] = mapped_column(ForeignKey("session_format.id"))
    centre: Mapped[str] = mapped_column(String(200))
    site: Mapped[str] = mapped_column(String(200), default="")
    rooms: Mapped[str] = mapped_column(String(300), default="")
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    ceres_number: Mapped[str] = mapped_column(String(40), default="")
    manager_name: Mapped[str] = mapped_column(String(200), default="")
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    state: Mapped[SessionState] = enum_column(SessionState, default=SessionState.PLANNED)
    # Set when every present juror has signed the current deliberation: writes are refused.
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_at_column()

    certification: Mapped[Certification] = relationship()
    format: Mapped[SessionFormat] = relationship()
    jury_members: Mapped[list[JuryMember]] = relationship(
        back_populates="session", order_by="JuryMember.id"
    )
    candidates: Mapped[list[Candidate]] = relationship(
        back_populates="session", order_by="Candidate.schedule_position"
    )


class JuryMember(UserMixin, Base):
    """A person assigned to one session's jury; signs in with a personal link and a PIN."""

    __tablename__ = "jury_member"
    __table_args__ = (
        Unique("session_id", "email"),
        # One chair per session, enforced by the database itself.
        Index(
            "uq_jury_member_one_chair",
            "session_id",
            unique=True,
            sqlite_where=text("role = 'chair'"),
            postgresql_where=text("role = 'chair'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[JuryRole] = enum_column(JuryRole, default=JuryRole.MEMBER)
    habilitation_number: Mapped[str] = mapped_column(String(60), default="")
    habilitation_valid_until: Mapped[dt.date | None] = mapped_column(Date)
    # SHA-256 of the link token (high entropy, so a fast hash is enough and allows lookup).
    access_token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The 6-digit PIN, slow-hashed.
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    access_issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    access_revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Counted up at each sign-out: a copied cookie stops working then (auth/identity.py).
    sign_out_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # What the juror's device last reported of its outbox.
    device_pending: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = created_at_column()

    session: Mapped[ExamSession] = relationship(back_populates="jury_members")

    kind = "juror"

    def get_id(self) -> str:
        from ..auth.identity import juror_identity

        return juror_identity(self)

    @property
    def is_chair(self) -> bool:
        return self.role == JuryRole.CHAIR

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Candidate(Base):
    __tablename__ = "candidate"
    __table_args__ = (
        Unique("session_id", "candidate_number"),
        CheckConstraint("company_hours IS NULL OR company_hours >= 0", name="hours_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    candidate_number: Mapped[str] = mapped_column(String(40))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    birth_place: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    route: Mapped[Route] = enum_column(Route)
    disability_arrangements: Mapped[str] = mapped_column(Text, default="")
    company_context: Mapped[str] = mapped_column(String(200), default="")
    presence: Mapped[Presence] = enum_column(Presence, default=Presence.EXPECTED)
    presence_note: Mapped[str] = mapped_column(Text, default="")
    schedule_position: Mapped[int] = mapped_column(Integer, default=0)
    # Eligibility checklist (RE: période en entreprise, dossier professionnel, production).
    company_hours: Mapped[int | None] = mapped_column(Integer)
    company_proof_received: Mapped[bool] = mapped_column(Boolean, default=False)
    dossier_received: Mapped[bool] = mapped_column(Boolean, default=False)
    production_received: Mapped[bool] = mapped_column(Boolean, default=False)
    production_pages: Mapped[int | None] = mapped_column(Integer)
    production_slides: Mapped[int | None] = mapped_column(Integer)
    ecf_passed: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = created_at_column()

    session: Mapped[ExamSession] = relationship(back_populates="candidates")
    held_ccps: Mapped[list[HeldCcp]] = relationship(back_populates="candidate")

    @property
    def full_name(self) -> str:
        return f"{self.last_name.upper()} {self.first_name}"


class HeldCcp(Base):
    """A CCP the candidate already holds (capitalisation route)."""

    __tablename__ = "held_ccp"

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), primary_key=True)
    ccp_id: Mapped[int] = mapped_column(ForeignKey("ccp.id"), primary_key=True)
    obtained_on: Mapped[dt.date | None] = mapped_column(Date)

    candidate: Mapped[Candidate] = relationship(back_populates="held_ccps")
    ccp: Mapped[Ccp] = relationship()


class ScheduleSlot(Base):
    """When and where a candidate takes one phase."""

    __tablename__ = "schedule_slot"
    __table_args__ = (
        Unique("candidate_id", "phase_id"),
        CheckConstraint("ends_at > starts_at", name="slot_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    room: Mapped[str] = mapped_column(String(100), default="")

    phase: Mapped[Phase] = relationship()


class JuryBreak(Base):
    __tablename__ = "jury_break"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="break_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    label: Mapped[str] = mapped_column(String(100), default="")


class CandidateIncident(Base):
    """An incident or a fraud report, recorded in the minutes."""

    __tablename__ = "candidate_incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    kind: Mapped[IncidentKind] = enum_column(IncidentKind)
    text: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[dt.datetime] = created_at_column()
