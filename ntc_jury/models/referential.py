"""The referential (RE) as data: one certification version and everything it defines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, created_at_column


class Certification(Base):
    """A titre professionnel at one version (millésime) of its RE."""

    __tablename__ = "certification"
    __table_args__ = (Unique("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    acronym: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer)
    journal_officiel: Mapped[dt.date | None] = mapped_column(Date)
    updated_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[list] = mapped_column(JSON, default=list)
    source_sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[dt.datetime] = created_at_column()

    modalities: Mapped[list[Modality]] = relationship(
        back_populates="certification", order_by="Modality.position"
    )
    ccps: Mapped[list[Ccp]] = relationship(back_populates="certification", order_by="Ccp.position")
    transversals: Mapped[list[TransversalCompetency]] = relationship(
        back_populates="certification", order_by="TransversalCompetency.position"
    )
    formats: Mapped[list[SessionFormat]] = relationship(
        back_populates="certification", order_by="SessionFormat.position"
    )


class Modality(Base):
    __tablename__ = "modality"
    __table_args__ = (Unique("certification_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"))
    code: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    certification: Mapped[Certification] = relationship(back_populates="modalities")


class Ccp(Base):
    """Certificat de compétences professionnelles."""

    __tablename__ = "ccp"
    __table_args__ = (Unique("certification_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"))
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)

    certification: Mapped[Certification] = relationship(back_populates="ccps")
    competencies: Mapped[list[Competency]] = relationship(
        back_populates="ccp", order_by="Competency.position"
    )


class Competency(Base):
    __tablename__ = "competency"
    __table_args__ = (Unique("certification_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the CCP so a code is unique within its certification.
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"))
    ccp_id: Mapped[int] = mapped_column(ForeignKey("ccp.id"))
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)

    ccp: Mapped[Ccp] = relationship(back_populates="competencies")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="competency", order_by="Criterion.position"
    )
    modality_links: Mapped[list[CompetencyModality]] = relationship(
        order_by="CompetencyModality.position"
    )


class Criterion(Base):
    """Critère d'évaluation, verbatim from the RE."""

    __tablename__ = "criterion"
    __table_args__ = (Unique("competency_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    competency: Mapped[Competency] = relationship(back_populates="criteria")


class CompetencyModality(Base):
    """Which modality evaluates which competency (RE table 3.2)."""

    __tablename__ = "competency_modality"

    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"), primary_key=True)
    modality_id: Mapped[int] = mapped_column(ForeignKey("modality.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)

    modality: Mapped[Modality] = relationship()


class TransversalCompetency(Base):
    __tablename__ = "transversal_competency"
    __table_args__ = (Unique("certification_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"))
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)

    certification: Mapped[Certification] = relationship(back_populates="transversals")
    links: Mapped[list[TransversalLink]] = relationship(order_by="TransversalLink.position")


class TransversalLink(Base):
    """A transversal competency is evaluated through a professional one (RE §3.3)."""

    __tablename__ = "transversal_link"

    transversal_id: Mapped[int] = mapped_column(
        ForeignKey("transversal_competency.id"), primary_key=True
    )
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)

    competency: Mapped[Competency] = relationship()


class SessionFormat(Base):
    """Titre complet or one CCP: an ordered list of phases."""

    __tablename__ = "session_format"
    __table_args__ = (Unique("certification_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"))
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    # The CCP a CCP session certifies; NULL for the whole title.
    ccp_id: Mapped[int | None] = mapped_column(ForeignKey("ccp.id"))
    total_minutes: Mapped[int] = mapped_column(Integer)
    jury_minutes: Mapped[int] = mapped_column(Integer)
    company_hours: Mapped[int | None] = mapped_column(Integer)
    document_pages_min: Mapped[int | None] = mapped_column(Integer)
    document_pages_max: Mapped[int | None] = mapped_column(Integer)
    slides_min: Mapped[int | None] = mapped_column(Integer)
    slides_max: Mapped[int | None] = mapped_column(Integer)

    certification: Mapped[Certification] = relationship(back_populates="formats")
    ccp: Mapped[Ccp | None] = relationship()
    phases: Mapped[list[Phase]] = relationship(back_populates="format", order_by="Phase.position")


class Phase(Base):
    __tablename__ = "phase"
    __table_args__ = (
        Unique("format_id", "position"),
        Unique("format_id", "code"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    format_id: Mapped[int] = mapped_column(ForeignKey("session_format.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    part: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    modality_id: Mapped[int | None] = mapped_column(ForeignKey("modality.id"))
    minutes: Mapped[int] = mapped_column(Integer)
    jury_present: Mapped[bool] = mapped_column(Boolean)
    supervised: Mapped[bool] = mapped_column(Boolean)
    # The entretien final of capitalisation candidates at their last CCP session.
    capitalisation_only: Mapped[bool] = mapped_column(Boolean, default=False)

    format: Mapped[SessionFormat] = relationship(back_populates="phases")
    modality: Mapped[Modality | None] = relationship()
    competency_links: Mapped[list[PhaseCompetency]] = relationship(
        order_by="PhaseCompetency.position"
    )


class PhaseCompetency(Base):
    __tablename__ = "phase_competency"

    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)

    competency: Mapped[Competency] = relationship()


__all__ = [
    "Ccp",
    "Certification",
    "Competency",
    "CompetencyModality",
    "Criterion",
    "Modality",
    "Phase",
    "PhaseCompetency",
    "SessionFormat",
    "TransversalCompetency",
    "TransversalLink",
]
