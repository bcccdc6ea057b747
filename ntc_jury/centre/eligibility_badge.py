"""The eligibility flag any page can show next to a candidate (the jury's list included).

Templates include "centre/_eligibility_badge.html" with `candidate` (a Candidate) and
`session` (its ExamSession, whose format is loaded) in scope; it renders nothing when the
file is complete, else a short warning listing what is missing. No query is made beyond
loading `session.format` once.
"""

from __future__ import annotations

from flask import Blueprint

from ..core.eligibility import Check, unmet_requirements
from .explanations import describe_check, short_check


def unmet_eligibility(candidate, fmt) -> tuple[Check, ...]:
    from .queries import candidate_file, format_rules

    return unmet_requirements(candidate_file(candidate), format_rules(fmt))


def register_badge(bp: Blueprint) -> None:
    bp.add_app_template_global(unmet_eligibility, "unmet_eligibility")
    bp.add_app_template_global(short_check, "eligibility_short_label")
    bp.add_app_template_global(describe_check, "eligibility_label")
