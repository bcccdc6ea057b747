"""The procès-verbal and the candidate sheets: PDF/A-3b, content, pages, storage and versions."""

from __future__ import annotations

import hashlib

import pytest
from flask_babel import format_datetime
from sqlalchemy import func, select

from ntc_jury.deliberation import operations as deliberation_ops
from ntc_jury.extensions import db
from ntc_jury.minutes import operations, queries, session_data
from ntc_jury.models import AuditEvent, MinutesDocument
from tests.factories import make_session
from tests.minutes.builders import (
    CCP_FAIL_REASON,
    CONFLICT_REASON,
    FAIL_REASON,
    OBSERVATION_TEXT,
    TITLE_FAIL_REASON,
    amend_and_resign,
    build_locked_session,
)
from tests.minutes.pdfs import (
    page_texts,
    pdfa_identification,
    pikepdf_status,
    reader,
    text,
    xmp_keywords,
)

# The grille de synthèse of an NTC titre complet candidate, with the RE's 51 criteria verbatim:
# CCP1 (4 competencies, 23 criteria) from page 1, CCP2 (5 competencies, 28 criteria) from a new
# page, the transversal competencies and the hash after it: 4 pages in pdf.css's layout.
GRID_PAGES = 4


def _documents() -> int:
    return db.session.execute(select(func.count()).select_from(MinutesDocument)).scalar_one()


def _generated_events() -> int:
    return db.session.execute(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == operations.GENERATED)
    ).scalar_one()


def test_the_minutes_are_pdfa_3b_and_hold_everything_the_issue_lists(built):
    session = built.session
    document = operations.generate_minutes(session=session)
    db.session.commit()
    pdf = document.content

    assert pdfa_identification(pdf) == ("3", "B")
    assert pikepdf_status(pdf) == "3B"
    pages = page_texts(pdf)
    # The cover (session, jury, results), one page per candidate, the signatures.
    assert len(reader(pdf).pages) == len(pages) == 2 + len(built.candidates)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} / {len(pages)}" in page
        assert "Sous réserve de validation par la DDETS" in page
    cover, first, second, signatures = pages
    for expected in (
        "Procès-verbal de délibération du jury",
        "TP-00338, version 07",
        "Titre professionnel complet",
        session.ceres_number,
        "AFPA Lyon Vénissieux",
        "Site de Vénissieux, bâtiment B",
        "mercredi 12 mars 2025",
        "Claire Responsable",
        "sous réserve de validation par la DDETS",
    ):
        assert expected in cover
    for member in built.jurors:
        assert member.full_name in cover
        assert member.habilitation_number in cover
    assert "31/12/2027" in cover
    good, failing = built.candidates
    assert good.full_name in first and failing.full_name not in first
    for expected in (
        good.candidate_number,
        "10/01/1990 à Lyon",
        "Formation",
        "Présent",
        "Tiers temps et salle au rez-de-chaussée",
        "Obtenu",
        "Arrivé avec 10 minutes de retard",
    ):
        assert expected in first
    # The last juror declared a link with the first candidate (not why: see below).
    recused = built.jurors[-1].full_name
    assert " ".join(first.split()).count(f"Lien déclaré avec le candidat : {recused}") == 1
    assert recused not in " ".join(second.split()).split("Signatures")[0]
    for expected in (
        failing.full_name,
        "Non obtenu",
        TITLE_FAIL_REASON,
        "Non acquis",
        CCP_FAIL_REASON,
        "Non maîtrisée",
        FAIL_REASON,
        "Signalement de fraude",
        "Consultation d'un téléphone pendant la préparation",
    ):
        assert expected in second
    # Jurors' own notes and conflict reasons are not part of the minutes.
    assert OBSERVATION_TEXT not in text(pdf) and CONFLICT_REASON not in text(pdf)
    for member in built.jurors:
        signature = next(s for s in built.session_signatures() if s.jury_member_id == member.id)
        assert member.full_name in signatures
        assert format_datetime(signature.signed_at, "dd/MM/yyyy HH:mm:ss") in signatures
        assert signature.decisions_sha256 in signatures.replace(" ", "")
    assert "Signatures manuscrites" in signatures
    digest, _body = session_data.data_sha256(session)
    assert document.data_sha256 == digest
    assert digest in signatures.replace(" ", "")
    assert "http://127.0.0.1:5000/verification?" in signatures
    assert document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert (document.version, document.size, document.engine) == (1, len(pdf), "weasyprint")


def test_asking_again_returns_the_stored_minutes(built):
    first = operations.generate_minutes(session=built.session)
    db.session.commit()
    again = operations.generate_minutes(session=built.session)
    db.session.commit()

    assert again.id == first.id and again.version == 1
    assert _documents() == 1
    assert _generated_events() == 1


def test_a_reopening_and_new_signatures_make_a_new_version_and_keep_the_old(built):
    first = operations.generate_minutes(session=built.session)
    db.session.commit()
    old_id, old_bytes, old_hash = first.id, first.content, first.sha256

    deliberation_ops.reopen(chair=built.chair, reason="Motif mal rédigé pour un candidat")
    db.session.commit()
    with pytest.raises(operations.MinutesRefused):
        operations.generate_minutes(session=built.session)
    db.session.rollback()
    amend_and_resign(built, new_fail_reason="Objections mal traitées")
    second = operations.generate_minutes(session=built.session)
    db.session.commit()

    assert (second.version, second.name) == (2, queries.MINUTES)
    assert second.id != old_id and second.data_sha256 != first.data_sha256
    kept = db.session.get(MinutesDocument, old_id)
    assert (kept.version, kept.content, kept.sha256) == (1, old_bytes, old_hash)
    new_text = text(second.content)
    assert "Objections mal traitées" in new_text and FAIL_REASON not in new_text
    assert FAIL_REASON in text(old_bytes)
    assert "tour n° 2" in new_text and "Motif mal rédigé pour un candidat" in new_text
    assert _generated_events() == 2


def test_each_candidate_gets_a_result_sheet_and_a_synthesis_grid(built):
    documents = operations.generate_candidate_sheets(session=built.session)
    db.session.commit()
    by_name = {d.name: d for d in documents}
    failing = built.failing
    assert set(by_name) == {
        name(c.id)
        for c in built.candidates
        for name in (queries.result_sheet_name, queries.synthesis_grid_name)
    }

    sheet = by_name[queries.result_sheet_name(failing.id)]
    assert (sheet.kind, sheet.candidate_id, sheet.version) == ("result_sheet", failing.id, 1)
    assert pdfa_identification(sheet.content) == ("3", "B")
    assert pikepdf_status(sheet.content) == "3B"
    [page] = page_texts(sheet.content)
    for expected in (
        "Fiche individuelle de résultats",
        failing.full_name,
        failing.candidate_number,
        "Non obtenu",
        TITLE_FAIL_REASON,
        CCP_FAIL_REASON,
        FAIL_REASON,
        "Claire Responsable",
        "Page 1 / 1",
        "Sous réserve de validation par la DDETS",
    ):
        assert expected in page
    assert built.candidates[0].full_name not in page

    grid = by_name[queries.synthesis_grid_name(failing.id)]
    assert grid.kind == "synthesis_grid"
    assert pdfa_identification(grid.content) == ("3", "B")
    pages = page_texts(grid.content)
    assert len(pages) == GRID_PAGES
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} / {GRID_PAGES}" in page
    whole = " ".join(pages)
    ref = built.session_referential()
    for competency in ref.competencies:
        assert f"{competency.code} {competency.title}" in whole
    # Criteria verbatim, with how many counted jurors observed each one in each modality.
    assert "Les données recherchées sont pertinentes par rapport à l'objectif" in whole
    assert "1/3 non" in whole and "3/3 oui" in whole
    assert "Compétences transversales" in whole
    for transversal in ref.transversals:
        assert transversal.title in whole
    assert FAIL_REASON in whole and "Non maîtrisée" in whole

    again = operations.generate_candidate_sheets(session=built.session)
    assert [d.id for d in again] == [d.id for d in documents]


def test_the_pdfkit_engine_renders_the_same_html_without_pdfa_or_footers(app, built, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_ENGINE", "pdfkit")
    document = operations.generate_minutes(session=built.session)
    db.session.commit()

    assert document.engine == "pdfkit"
    pages = page_texts(document.content)
    assert len(pages) == 2 + len(built.candidates)  # page-break-before is honoured
    whole = " ".join(pages)
    for candidate in built.candidates:
        assert candidate.full_name in whole
    for member in built.jurors:
        assert member.full_name in whole
    assert "Non obtenu" in whole and FAIL_REASON in whole
    assert document.data_sha256 in whole.replace(" ", "")
    # What wkhtmltopdf cannot do (README, "Minutes (PV) rendering"): no PDF/A identification,
    # and Debian's build draws no margin boxes, so no "Page X / Y".
    assert pdfa_identification(document.content) == (None, None)
    assert "Page 1 /" not in whole


def test_nothing_is_generated_for_a_session_that_is_not_locked(db, ntc):
    session = make_session(ntc)
    db.session.commit()

    with pytest.raises(operations.MinutesRefused):
        operations.generate_minutes(session=session)
    with pytest.raises(operations.MinutesRefused):
        operations.generate_candidate_sheets(session=session)
    with pytest.raises(operations.MinutesRefused):
        operations.build_export_zip(session=session)
    db.session.rollback()
    assert _documents() == 0


def test_each_kind_of_document_carries_its_own_keywords(built):
    minutes = operations.generate_minutes(session=built.session)
    documents = operations.generate_candidate_sheets(session=built.session)
    db.session.commit()
    by_kind = {d.kind: d for d in documents}
    code = built.session.certification.code
    assert xmp_keywords(minutes.content) == f"{code}, procès-verbal, délibération"
    assert xmp_keywords(by_kind["result_sheet"].content) == (
        f"{code}, fiche individuelle de résultats, résultats du candidat"
    )
    assert xmp_keywords(by_kind["synthesis_grid"].content) == (
        f"{code}, grille de synthèse, critères d'évaluation"
    )


def test_the_synthesis_grid_says_when_a_suggestion_rests_on_fewer_jurors(db, ntc):
    built = build_locked_session(ntc, candidates=1, jurors=3, missing_grid=True)
    [grid] = [
        d
        for d in operations.generate_candidate_sheets(session=built.session)
        if d.kind == "synthesis_grid"
    ]
    whole = " ".join(page_texts(grid.content))
    # The third juror declared a link: two were expected, one completed the first grid.
    assert "1 juré sur 2 a terminé la grille" in whole
    assert "jurés sur 2 ont terminé" not in whole  # the other grids are complete
