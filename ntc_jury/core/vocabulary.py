"""The domain's closed vocabularies (stored as their values, shown through gettext)."""

from enum import StrEnum


class Route(StrEnum):
    """How the candidate comes to the session."""

    TRAINING = "formation"
    VAE = "vae"
    CAPITALISATION = "capitalisation"


class Presence(StrEnum):
    EXPECTED = "expected"
    PRESENT = "present"
    ABSENT = "absent"
    WITHDRAWN = "withdrawn"

    @property
    def needs_circumstances(self) -> bool:
        """Absent or withdrawn is recorded with its circumstances, never bare."""
        return self in (Presence.ABSENT, Presence.WITHDRAWN)


class JuryRole(StrEnum):
    MEMBER = "member"
    CHAIR = "chair"


class StaffRole(StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


class SessionState(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DELIBERATION = "deliberation"
    CLOSED = "closed"
    ARCHIVED = "archived"


# Only these moves are allowed; reopening a deliberation goes back from CLOSED.
SESSION_TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.PLANNED: frozenset({SessionState.IN_PROGRESS}),
    SessionState.IN_PROGRESS: frozenset({SessionState.DELIBERATION, SessionState.PLANNED}),
    SessionState.DELIBERATION: frozenset({SessionState.CLOSED}),
    SessionState.CLOSED: frozenset({SessionState.DELIBERATION, SessionState.ARCHIVED}),
    SessionState.ARCHIVED: frozenset(),
}


def can_transition(current: SessionState, target: SessionState) -> bool:
    """True when a session may move from `current` to `target`."""
    return target in SESSION_TRANSITIONS[current]


class IncidentKind(StrEnum):
    INCIDENT = "incident"
    FRAUD = "fraud"


class OperationStatus(StrEnum):
    APPLIED = "applied"
    REFUSED = "refused"


class ActorKind(StrEnum):
    STAFF = "staff"
    JUROR = "juror"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"
