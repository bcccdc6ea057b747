"""French sentences for the codes the pure core returns (import problems, checklist, clashes)."""

from __future__ import annotations

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.candidate_rows import (
    ARRANGEMENTS,
    BIRTH_DATE,
    CONTEXT,
    FIRST_NAME,
    HELD_CCPS,
    LAST_NAME,
    NUMBER,
    ROUTE,
    Problem,
    column_letter,
)
from ..core.eligibility import Check, Requirement
from ..core.schedule import Clash, ClashKind
from ..core.vocabulary import SessionState
from .importing import FileProblem

COLUMN_NAMES = {
    LAST_NAME: _l("nom"),
    FIRST_NAME: _l("prénom"),
    BIRTH_DATE: _l("date de naissance"),
    NUMBER: _l("numéro de candidat"),
    ROUTE: _l("parcours"),
    HELD_CCPS: _l("CCP déjà acquis"),
    ARRANGEMENTS: _l("aménagements"),
    CONTEXT: _l("contexte d'entreprise"),
}

_PROBLEMS = {
    "empty_file": _l("Le fichier est vide."),
    "no_rows": _l("Le fichier ne contient que la ligne d'en-tête : aucun candidat à importer."),
    "header_not_first": _l(
        "La ligne d'en-tête (nom, prénom, date de naissance…) doit être la première ligne du "
        "fichier : elle semble être à la ligne %(header_line)s. Supprimez les lignes de titre "
        "au-dessus, puis importez le fichier à nouveau."
    ),
    "no_header": _l(
        "La première ligne du fichier doit être la ligne d'en-tête, avec le titre de chaque "
        "colonne : nom, prénom, date de naissance, numéro de candidat, parcours, CCP déjà "
        "acquis, aménagements, contexte d'entreprise."
    ),
    "blank_column": _l("Cette colonne n'a pas de titre : supprimez-la ou nommez-la."),
    "unknown_column": _l(
        "Colonne « %(header)s » inconnue. Colonnes attendues : nom, prénom, date de naissance, "
        "numéro de candidat, parcours, CCP déjà acquis, aménagements, contexte d'entreprise."
    ),
    "duplicate_column": _l(
        "La colonne « %(header)s » reprend la colonne %(first)s (même information)."
    ),
    "missing_column": _l("La colonne « %(column)s » est obligatoire et manque au fichier."),
    "too_many_cells": _l(
        "%(count)s valeurs pour %(expected)s colonnes : une valeur contient peut-être le "
        "séparateur sans guillemets."
    ),
    "required": _l("La valeur « %(column)s » est obligatoire."),
    "too_long": _l("Trop long : %(max)s caractères au plus."),
    "bad_date": _l("« %(value)s » n'est pas une date (jj/mm/aaaa ou aaaa-mm-jj)."),
    "implausible_date": _l("Date de naissance improbable : « %(value)s »."),
    "bad_route": _l("Parcours « %(value)s » inconnu : formation, VAE ou capitalisation."),
    "bad_ccp_list": _l("« %(value)s » n'est pas une liste de CCP (exemple : CCP1, CCP2)."),
    "unknown_ccp": _l("%(value)s n'existe pas dans ce titre (CCP : %(known)s)."),
    "ccp_of_session": _l(
        "%(value)s est le CCP de cette session : il ne peut pas être déjà acquis."
    ),
    "number_in_file": _l("Le numéro %(value)s figure déjà à la ligne %(other)s du fichier."),
    "number_in_session": _l("Le numéro %(value)s est déjà inscrit dans cette session."),
    "person_in_file": _l(
        "%(person)s, même date de naissance, figure déjà à la ligne %(other)s du fichier."
    ),
    "person_in_session": _l(
        "%(person)s, même date de naissance, est déjà inscrit(e) dans cette session."
    ),
}

_FILE_PROBLEMS = {
    "empty_file": _l("Le fichier est vide."),
    "too_big": _l("Le fichier dépasse %(max_mb)s Mo."),
    "too_many_rows": _l("Le fichier dépasse %(max)s lignes : découpez-le."),
    "utf16": _l(
        "Le fichier est en UTF-16 (« Texte Unicode »). Enregistrez-le au format « CSV UTF-8 » "
        "ou « CSV (séparateur : point-virgule) », ou envoyez le classeur .xlsx."
    ),
    "old_excel": _l(
        "C'est un classeur Excel ancien (.xls) : enregistrez-le au format .xlsx ou "
        "« CSV UTF-8 », puis importez-le à nouveau."
    ),
    "pdf": _l(
        "C'est un document PDF, pas un tableau : envoyez la liste au format .xlsx ou « CSV UTF-8 »."
    ),
    "binary": _l(
        "Ce fichier n'est pas un tableau lisible (image, document ou archive ?) : envoyez la "
        "liste au format .xlsx ou « CSV UTF-8 »."
    ),
    "mojibake": _l(
        "Caractère inattendu « %(char)s » (ligne %(line)s) : le fichier n'est sans doute ni "
        "en UTF-8 ni en Windows-1252 (Mac, ISO-8859-15…), et les accents seraient faussés. "
        "Enregistrez-le au format « CSV UTF-8 »."
    ),
    "encoding": _l(
        "Encodage non reconnu (ligne %(line)s) : le fichier n'est ni en UTF-8 ni en "
        "Windows-1252. Enregistrez-le au format « CSV UTF-8 »."
    ),
    "bad_csv": _l("Le fichier CSV est mal formé : %(detail)s."),
    "bad_xlsx": _l("Le classeur Excel est illisible : enregistrez-le de nouveau au format .xlsx."),
}


def describe_file_problem(problem: FileProblem) -> str:
    # Numbers the French way: « 20 000 lignes », not « 20000 ».
    params = {
        name: format_number(value) if isinstance(value, int) else value
        for name, value in problem.params.items()
    }
    return str(_FILE_PROBLEMS[problem.code]) % params


def describe_problem(problem: Problem) -> str:
    params = {**problem.params, "header": problem.header}
    if problem.name:
        params["column"] = COLUMN_NAMES[problem.name]
    return str(_PROBLEMS[problem.code]) % params


def problem_place(problem: Problem) -> str:
    """« Ligne 4, colonne C (date de naissance) » — where to look in the spreadsheet."""
    parts = []
    if problem.line is not None:
        parts.append(_("Ligne %(n)s", n=problem.line))
    if problem.column is not None:
        label = problem.header or (COLUMN_NAMES[problem.name] if problem.name else "")
        column = column_letter(problem.column)
        parts.append(
            _("colonne %(letter)s (%(label)s)", letter=column, label=label)
            if label
            else _("colonne %(letter)s", letter=column)
        )
    return ", ".join(parts) or _("Fichier")


_CHECKS = {
    Requirement.COMPANY_PROOF: _l("Attestation de période en entreprise"),
    Requirement.COMPANY_HOURS: _l("Période en entreprise d'au moins %(minimum)s h"),
    Requirement.DOSSIER: _l("Dossier professionnel reçu"),
    Requirement.PRODUCTION: _l("Production reçue"),
    Requirement.PRODUCTION_PAGES: _l("Document de %(minimum)s à %(maximum)s pages"),
    Requirement.PRODUCTION_SLIDES: _l("Diaporama de %(minimum)s à %(maximum)s diapositives"),
    Requirement.ECF: _l("ECF validées"),
}
_SHORT = {
    Requirement.COMPANY_PROOF: _l("attestation entreprise"),
    Requirement.COMPANY_HOURS: _l("heures en entreprise"),
    Requirement.DOSSIER: _l("dossier professionnel"),
    Requirement.PRODUCTION: _l("production"),
    Requirement.PRODUCTION_PAGES: _l("pages"),
    Requirement.PRODUCTION_SLIDES: _l("diapositives"),
    Requirement.ECF: _l("ECF"),
}


def describe_check(check: Check) -> str:
    """The checklist item in French, with the candidate's figure when it is known."""
    text = str(_CHECKS[check.requirement]) % {"minimum": check.minimum, "maximum": check.maximum}
    if isinstance(check.actual, int) and not isinstance(check.actual, bool):
        return _("%(item)s (déclaré : %(actual)s)", item=text, actual=check.actual)
    return text


def short_check(check: Check) -> str:
    return str(_SHORT[check.requirement])


_CLASHES = {
    ClashKind.JURY_BUSY: _l("Le jury entend deux candidats en même temps."),
    ClashKind.CANDIDATE_BUSY: _l("Un candidat a deux épreuves en même temps."),
    ClashKind.DURING_BREAK: _l("Une épreuve devant le jury tombe pendant sa pause."),
}


def describe_clash(clash: Clash) -> str:
    return str(_CLASHES[clash.kind])


TRANSITION_LABELS = {
    SessionState.IN_PROGRESS: _l("Démarrer la session"),
    SessionState.PLANNED: _l("Revenir à « Planifiée »"),
    SessionState.ARCHIVED: _l("Archiver la session"),
    SessionState.DELIBERATION: _l("Passer en délibération"),
    SessionState.CLOSED: _l("Clore la session"),
}
