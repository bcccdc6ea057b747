"""The eligibility fragment other pages (the jury's list) include: its contract."""

from __future__ import annotations

from flask import render_template_string

from tests.factories import add_candidate, make_session

INCLUDE = '{% include "centre/_eligibility_badge.html" %}'


def test_badge_names_what_is_missing_and_nothing_when_complete(app, db, ntc):
    exam = make_session(ntc, candidates=0)
    missing = add_candidate(exam, dossier_received=False, ecf_passed=None)
    complete = add_candidate(
        exam,
        company_hours=400,
        company_proof_received=True,
        dossier_received=True,
        production_received=True,
        production_pages=35,
        production_slides=30,
        ecf_passed=True,
    )
    db.session.commit()
    with app.test_request_context("/"):
        flagged = render_template_string(INCLUDE, candidate=missing, session=exam)
        silent = render_template_string(INCLUDE, candidate=complete, session=exam)
    assert f'id="eligibility-{missing.id}"' in flagged
    assert "Dossier incomplet" in flagged
    assert "dossier professionnel" in flagged and "ECF" in flagged
    assert silent.strip() == ""
