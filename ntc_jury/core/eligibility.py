"""Is a candidate's file complete for the session? A checklist of the RE's prerequisites.

The checklist never refuses anyone: it lists what is missing so the centre can chase it and
the jury knows, before hearing the candidate, that the file is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .vocabulary import Route


class Requirement(StrEnum):
    """One item of the checklist; the web layer turns each code into a French sentence."""

    COMPANY_PROOF = "company_proof"  # attestation of the period in a company
    COMPANY_HOURS = "company_hours"  # the period lasts at least the format's hours
    DOSSIER = "dossier"  # dossier professionnel received
    PRODUCTION = "production"  # the production (document and slides) received
    PRODUCTION_PAGES = "production_pages"  # its document within the RE's page limits
    PRODUCTION_SLIDES = "production_slides"  # its slideshow within the RE's slide limits
    ECF = "ecf"  # évaluations en cours de formation passed


@dataclass(frozen=True, slots=True)
class FormatRules:
    """What the RE requires for one session format (TITLE, CCP1, CCP2)."""

    company_hours: int | None = None
    pages_min: int | None = None
    pages_max: int | None = None
    slides_min: int | None = None
    slides_max: int | None = None


@dataclass(frozen=True, slots=True)
class CandidateFile:
    route: Route
    company_hours: int | None = None
    company_proof_received: bool = False
    dossier_received: bool = False
    production_received: bool = False
    production_pages: int | None = None
    production_slides: int | None = None
    ecf_passed: bool | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One checklist item: met or not, with the figures needed to explain it."""

    requirement: Requirement
    met: bool
    actual: int | bool | None = None
    minimum: int | None = None
    maximum: int | None = None


def checklist(file: CandidateFile, rules: FormatRules) -> tuple[Check, ...]:
    """Every item that applies to this candidate in this format, met or not."""
    checks: list[Check] = []
    training = file.route == Route.TRAINING
    # Only the training route comes with a period in a company and ECF (RE: prerequisites).
    if training and rules.company_hours:
        checks.append(Check(Requirement.COMPANY_PROOF, file.company_proof_received))
        hours = file.company_hours
        checks.append(
            Check(
                Requirement.COMPANY_HOURS,
                hours is not None and hours >= rules.company_hours,
                actual=hours,
                minimum=rules.company_hours,
            )
        )
    checks.append(Check(Requirement.DOSSIER, file.dossier_received))
    checks.append(Check(Requirement.PRODUCTION, file.production_received))
    if file.production_received:
        checks += _within(
            Requirement.PRODUCTION_PAGES, file.production_pages, rules.pages_min, rules.pages_max
        )
        checks += _within(
            Requirement.PRODUCTION_SLIDES,
            file.production_slides,
            rules.slides_min,
            rules.slides_max,
        )
    if training:
        checks.append(Check(Requirement.ECF, file.ecf_passed is True, actual=file.ecf_passed))
    return tuple(checks)


def unmet_requirements(file: CandidateFile, rules: FormatRules) -> tuple[Check, ...]:
    """The items not met; empty when the candidate's file is complete."""
    return tuple(check for check in checklist(file, rules) if not check.met)


def is_eligible(file: CandidateFile, rules: FormatRules) -> bool:
    return not unmet_requirements(file, rules)


def _within(
    requirement: Requirement, value: int | None, low: int | None, high: int | None
) -> list[Check]:
    if low is None and high is None:
        return []
    met = value is not None and (low is None or value >= low) and (high is None or value <= high)
    return [Check(requirement, met, actual=value, minimum=low, maximum=high)]
