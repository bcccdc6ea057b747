"""French labels of the domain's vocabularies, through gettext so a catalogue can translate them."""

from flask_babel import lazy_gettext as _l

from .core.vocabulary import JuryRole, Presence, Route, SessionState

ROUTE_LABELS = {
    Route.TRAINING: _l("Formation"),
    Route.VAE: _l("VAE"),
    Route.CAPITALISATION: _l("Capitalisation"),
}
PRESENCE_LABELS = {
    Presence.EXPECTED: _l("Attendu"),
    Presence.PRESENT: _l("Présent"),
    Presence.ABSENT: _l("Absent"),
    Presence.WITHDRAWN: _l("Abandon"),
}
SESSION_STATE_LABELS = {
    SessionState.PLANNED: _l("Planifiée"),
    SessionState.IN_PROGRESS: _l("En cours"),
    SessionState.DELIBERATION: _l("Délibération"),
    SessionState.CLOSED: _l("Close"),
    SessionState.ARCHIVED: _l("Archivée"),
}
JURY_ROLE_LABELS = {JuryRole.MEMBER: _l("Membre"), JuryRole.CHAIR: _l("Président(e)")}


def template_helpers() -> dict:
    return {
        "route_label": lambda value: ROUTE_LABELS[Route(value)],
        "presence_label": lambda value: PRESENCE_LABELS[Presence(value)],
        "session_state_label": lambda value: SESSION_STATE_LABELS[SessionState(value)],
        "jury_role_label": lambda value: JURY_ROLE_LABELS[JuryRole(value)],
        **deliberation_helpers(),
    }


SUGGESTION_LABELS = {
    "evident_mastered": _l("évident — maîtrisée"),
    "evident_not_mastered": _l("évident — non maîtrisée"),
    "to_debate": _l("à débattre"),
    "not_evaluated": _l("non évaluée — à débattre"),
    "acquired": _l("acquis"),
    "not_acquired": _l("non acquis"),
    "already_acquired": _l("déjà acquis"),
    "obtained": _l("obtenu"),
    "not_obtained": _l("non obtenu"),
    "pending": _l("en attente des décisions"),
}
OUTCOME_LABELS = {
    "mastered": _l("Maîtrisée"),
    "not_mastered": _l("Non maîtrisée"),
    "acquired": _l("Acquis"),
    "not_acquired": _l("Non acquis"),
    "already_acquired": _l("Déjà acquis"),
    "obtained": _l("Obtenu"),
    "not_obtained": _l("Non obtenu"),
}


def deliberation_helpers() -> dict:
    return {
        "suggestion_label": lambda value: SUGGESTION_LABELS.get(str(value), str(value)),
        "outcome_label": lambda value: OUTCOME_LABELS.get(
            getattr(value, "value", str(value)), str(value)
        ),
    }
