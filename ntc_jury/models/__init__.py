"""SQLAlchemy models, one module per area; importing this package registers them all."""

from .accounts import SignInThrottle, StaffUser
from .base import Base, utcnow
from .deliberation import CcpDecision, CompetencyDecision, Deliberation, Signature, TitleDecision
from .records import AuditEvent, MinutesDocument
from .referential import (
    Ccp,
    Certification,
    Competency,
    CompetencyModality,
    Criterion,
    Modality,
    Phase,
    PhaseCompetency,
    SessionFormat,
    TransversalCompetency,
    TransversalLink,
)
from .scoring import (
    AppliedOperation,
    ConflictDeclaration,
    GridCompletion,
    Mark,
    Observation,
    TransversalMark,
)
from .session import (
    Candidate,
    CandidateIncident,
    ExamSession,
    HeldCcp,
    JuryBreak,
    JuryMember,
    ScheduleSlot,
)

__all__ = [
    "AppliedOperation",
    "AuditEvent",
    "Base",
    "Candidate",
    "CandidateIncident",
    "Ccp",
    "CcpDecision",
    "Certification",
    "Competency",
    "CompetencyDecision",
    "CompetencyModality",
    "ConflictDeclaration",
    "Criterion",
    "Deliberation",
    "ExamSession",
    "GridCompletion",
    "HeldCcp",
    "JuryBreak",
    "JuryMember",
    "Mark",
    "MinutesDocument",
    "Modality",
    "Observation",
    "Phase",
    "PhaseCompetency",
    "ScheduleSlot",
    "SessionFormat",
    "SignInThrottle",
    "Signature",
    "StaffUser",
    "TitleDecision",
    "TransversalCompetency",
    "TransversalLink",
    "TransversalMark",
    "utcnow",
]
