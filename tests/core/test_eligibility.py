"""The eligibility checklist, table-driven against the RE's figures for each format."""

from __future__ import annotations

import pytest

from ntc_jury.core.eligibility import (
    CandidateFile,
    FormatRules,
    Requirement,
    checklist,
    is_eligible,
    unmet_requirements,
)
from ntc_jury.core.vocabulary import Route

TITLE = FormatRules(company_hours=350, pages_min=32, pages_max=38, slides_min=28, slides_max=32)
CCP1 = FormatRules(company_hours=175, pages_min=22, pages_max=26, slides_min=18, slides_max=22)
R = Requirement

COMPLETE = {
    "company_hours": 350,
    "company_proof_received": True,
    "dossier_received": True,
    "production_received": True,
    "production_pages": 35,
    "production_slides": 30,
    "ecf_passed": True,
}


def file(route=Route.TRAINING, **changes) -> CandidateFile:
    return CandidateFile(route=route, **(COMPLETE | changes))


@pytest.mark.parametrize(
    ("candidate", "rules", "unmet"),
    [
        pytest.param(file(), TITLE, [], id="complete-training-file"),
        pytest.param(file(company_hours=349), TITLE, [R.COMPANY_HOURS], id="one-hour-short"),
        pytest.param(file(company_hours=None), TITLE, [R.COMPANY_HOURS], id="hours-unknown"),
        pytest.param(
            file(company_hours=175, production_pages=24, production_slides=20),
            CCP1,
            [],
            id="ccp-needs-175-hours",
        ),
        pytest.param(
            file(company_proof_received=False), TITLE, [R.COMPANY_PROOF], id="proof-missing"
        ),
        pytest.param(file(dossier_received=False), TITLE, [R.DOSSIER], id="no-dossier"),
        pytest.param(
            file(production_received=False),
            TITLE,
            [R.PRODUCTION],
            id="no-production-no-limit-check",
        ),
        pytest.param(file(production_pages=39), TITLE, [R.PRODUCTION_PAGES], id="too-many-pages"),
        pytest.param(file(production_pages=31), TITLE, [R.PRODUCTION_PAGES], id="too-few-pages"),
        pytest.param(
            file(production_slides=None), TITLE, [R.PRODUCTION_SLIDES], id="slides-unknown"
        ),
        pytest.param(
            file(production_slides=28, production_pages=38), TITLE, [], id="limits-inclusive"
        ),
        pytest.param(file(ecf_passed=None), TITLE, [R.ECF], id="ecf-unknown"),
        pytest.param(file(ecf_passed=False), TITLE, [R.ECF], id="ecf-failed"),
        pytest.param(
            file(Route.VAE, company_hours=None, company_proof_received=False, ecf_passed=None),
            TITLE,
            [],
            id="vae-has-no-company-period-nor-ecf",
        ),
        pytest.param(
            CandidateFile(route=Route.CAPITALISATION),
            CCP1,
            [R.DOSSIER, R.PRODUCTION],
            id="capitalisation-empty-file",
        ),
        pytest.param(
            CandidateFile(route=Route.TRAINING),
            FormatRules(),
            [R.DOSSIER, R.PRODUCTION, R.ECF],
            id="format-without-figures",
        ),
    ],
)
def test_unmet_requirements(candidate, rules, unmet):
    assert [c.requirement for c in unmet_requirements(candidate, rules)] == unmet
    assert is_eligible(candidate, rules) is (not unmet)


def test_checks_carry_the_figures_to_explain_them():
    checks = {
        c.requirement: c for c in checklist(file(company_hours=200, production_pages=40), TITLE)
    }
    assert (checks[R.COMPANY_HOURS].actual, checks[R.COMPANY_HOURS].minimum) == (200, 350)
    pages = checks[R.PRODUCTION_PAGES]
    assert (pages.met, pages.actual, pages.minimum, pages.maximum) == (False, 40, 32, 38)
    assert checks[R.DOSSIER].met
