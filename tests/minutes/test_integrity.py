"""`flask audit verify SESSION`: the audit log's hash chain and the stored PDFs, tampered with."""

from __future__ import annotations

import hashlib
import io

import pikepdf
import pytest
from sqlalchemy import delete, insert, select, update

from ntc_jury.audit.chain import HASHED_FIELDS, event_hash
from ntc_jury.extensions import db
from ntc_jury.minutes import operations
from ntc_jury.models import AuditEvent, MinutesDocument, utcnow
from tests.factories import make_session


def _verify(runner, session_id: int):
    return runner.invoke(args=["audit", "verify", str(session_id)])


def _events(session_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if session_id is not None:
        query = query.where(AuditEvent.session_id == session_id)
    return list(db.session.execute(query).scalars())


def _recomputed(row: AuditEvent) -> str:
    return event_hash(row.prev_hash, {name: getattr(row, name) for name in HASHED_FIELDS})


@pytest.fixture
def archived(built):
    """The locked session with its PV generated."""
    operations.generate_minutes(session=built.session)
    db.session.commit()
    return built


def test_an_intact_record_passes(runner, archived):
    operations.generate_candidate_sheets(session=archived.session)
    db.session.commit()

    result = _verify(runner, archived.session.id)

    assert result.exit_code == 0, result.output
    assert "Intégrité vérifiée : aucun écart." in result.output
    rows = len(_events(archived.session.id))
    assert f"dont {rows} de la session {archived.session.id}" in result.output
    assert "Documents stockés de la session : 5 vérifiés." in result.output
    assert "ÉCART" not in result.output


def test_an_edited_row_is_named_with_its_expected_and_stored_hash(runner, archived):
    signed = next(e for e in _events(archived.session.id) if e.action == "minutes_signed")
    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == signed.id).values(after={"digest": "0" * 64})
    )
    db.session.commit()
    db.session.expire_all()
    edited = db.session.get(AuditEvent, signed.id)

    result = _verify(runner, archived.session.id)

    assert result.exit_code == 1
    assert f"ÉCART événement {signed.id} (cette session)" in result.output
    assert "minutes_signed" in result.output
    assert f"hash attendu : {_recomputed(edited)}" in result.output
    assert f"hash trouvé : {edited.hash}" in result.output
    assert "1 écart trouvé." in result.output


def test_a_deleted_row_breaks_the_link_of_the_next_one(runner, archived):
    rows = _events()
    index = next(
        i for i, e in enumerate(rows) if e.action == "minutes_signed" and i + 1 < len(rows)
    )
    before, deleted, after = rows[index - 1], rows[index], rows[index + 1]
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == deleted.id))
    db.session.commit()

    result = _verify(runner, archived.session.id)

    assert result.exit_code == 1
    assert f"ÉCART événement {after.id} (cette session)" in result.output
    assert f"ne s'enchaîne pas sur l'événement {before.id}" in result.output
    assert f"prev_hash attendu : {before.hash}" in result.output
    assert f"prev_hash trouvé : {deleted.hash}" in result.output


def test_an_inserted_row_is_found(runner, archived):
    rows = _events()
    index = next(i for i, e in enumerate(rows) if e.action == "session_locked")
    anchor = rows[index]
    # Make room after the anchor, as someone slipping a row into the history would.
    for row in reversed(rows[index + 1 :]):
        db.session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(id=row.id + 1))
    forged = {
        "at": utcnow(),
        "session_id": archived.session.id,
        "actor_kind": "staff",
        "actor_id": None,
        "actor_label": "faussaire@example.org",
        "action": "ccp_decided",
        "target_type": "ccp",
        "target_id": "1:1",
        "before": None,
        "after": {"outcome": "acquired"},
        "op_id": None,
        "ip": "",
    }
    forged_prev = hashlib.sha256(b"forged").hexdigest()
    forged_hash = event_hash(forged_prev, forged)
    db.session.execute(
        insert(AuditEvent).values(
            id=anchor.id + 1, **forged, prev_hash=forged_prev, hash=forged_hash
        )
    )
    db.session.commit()

    result = _verify(runner, archived.session.id)

    assert result.exit_code == 1
    assert f"ÉCART événement {anchor.id + 1} (cette session)" in result.output
    assert f"prev_hash attendu : {anchor.hash}" in result.output
    assert f"prev_hash trouvé : {forged_prev}" in result.output
    # The row that followed the anchor no longer chains onto what precedes it.
    assert f"ÉCART événement {anchor.id + 2} (cette session)" in result.output
    assert f"prev_hash attendu : {forged_hash}" in result.output


def test_a_tampered_pdf_is_named_with_its_hashes(runner, archived):
    document = db.session.execute(
        select(MinutesDocument).where(MinutesDocument.name == "proces-verbal")
    ).scalar_one()
    # Opened and saved again by a PDF editor, with one field of its own changed.
    with pikepdf.open(io.BytesIO(document.content)) as pdf:
        pdf.docinfo["/Title"] = "Procès-verbal corrigé"
        out = io.BytesIO()
        pdf.save(out)
    tampered = out.getvalue()
    assert tampered != document.content
    stored = document.sha256
    document.content = tampered
    db.session.commit()

    result = _verify(runner, archived.session.id)

    assert result.exit_code == 1
    assert "ÉCART document proces-verbal v1" in result.output
    assert f"sha256 attendu : {stored}" in result.output
    assert f"sha256 trouvé : {hashlib.sha256(tampered).hexdigest()}" in result.output
    assert f"size trouvé : {len(tampered)}" in result.output
    assert "2 écarts trouvés." in result.output


def test_a_deleted_document_is_missed_by_the_audit_record(runner, archived):
    document = db.session.execute(
        select(MinutesDocument).where(MinutesDocument.name == "proces-verbal")
    ).scalar_one()
    digest = document.sha256
    db.session.delete(document)
    db.session.commit()

    result = _verify(runner, archived.session.id)

    assert result.exit_code == 1
    assert "ÉCART document proces-verbal v1" in result.output
    assert "mais plus stocké" in result.output
    assert f"sha256 attendu : {digest}" in result.output


def test_a_difference_in_another_session_fails_the_whole_chain(runner, archived, ntc):
    other = make_session(ntc)
    db.session.commit()
    row = _events(other.id)[0]
    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == row.id).values(actor_label="quelqu'un")
    )
    db.session.commit()

    result = _verify(runner, archived.session.id)

    assert result.exit_code == 1
    assert f"ÉCART événement {row.id} (autre session)" in result.output


def test_an_unknown_session_is_an_error(runner, db):
    result = _verify(runner, 999_999)

    assert result.exit_code == 1
    assert "Session 999999 inconnue." in result.output
