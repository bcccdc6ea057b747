"""`flask purge`: personal data of long-closed sessions goes, the minutes and results stay."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from ntc_jury.extensions import db
from ntc_jury.minutes import operations, queries
from ntc_jury.minutes.retention import DurationError, cutoff, parse_duration
from ntc_jury.models import (
    AppliedOperation,
    AuditEvent,
    CcpDecision,
    ConflictDeclaration,
    JuryMember,
    MinutesDocument,
    Observation,
    utcnow,
)
from tests.minutes.builders import (
    CONFLICT_REASON,
    FAIL_REASON,
    OBSERVATION_TEXT,
    build_locked_session,
)
from tests.minutes.pdfs import text


@pytest.mark.parametrize(
    ("written", "parsed"),
    [("5y", (5, "y")), ("18m", (18, "m")), ("30d", (30, "d")), (" 2Y ", (2, "y"))],
)
def test_durations_are_read(written, parsed):
    assert parse_duration(written) == parsed


@pytest.mark.parametrize("written", ["", "5", "y5", "5 years", "-1y", "1.5y", "5w"])
def test_unreadable_durations_are_refused(app, written):
    with app.app_context(), pytest.raises(DurationError):
        parse_duration(written)


def test_cutoffs_count_calendar_months_and_years():
    now = dt.datetime(2025, 3, 31, 12, 0, tzinfo=dt.UTC)
    assert cutoff(now, 1, "m") == dt.datetime(2025, 2, 28, 12, 0, tzinfo=dt.UTC)
    assert cutoff(now, 18, "m") == dt.datetime(2023, 9, 30, 12, 0, tzinfo=dt.UTC)
    assert cutoff(now, 30, "d") == dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    leap = dt.datetime(2024, 2, 29, tzinfo=dt.UTC)
    assert cutoff(leap, 1, "y") == dt.datetime(2023, 2, 28, tzinfo=dt.UTC)


def _close_years_ago(built, years: int) -> None:
    closed = utcnow() - dt.timedelta(days=365 * years + 2)
    built.session.closed_at = closed
    db.session.commit()


def _snapshot() -> dict[str, list[str]]:
    """Every row of every table: a dry run must leave this exactly as it was."""
    db.session.expire_all()
    return {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
        for table in db.metadata.sorted_tables
    }


def test_a_dry_run_lists_what_it_would_remove_and_writes_nothing(runner, built):
    _close_years_ago(built, 6)
    before = _snapshot()

    result = runner.invoke(args=["purge"])  # RETENTION_YEARS: 5 years by default

    assert result.exit_code == 0, result.output
    assert f"Session {built.session.id} du 12 mars 2025" in result.output
    assert "2 candidats : nom et prénom remplacés par « Candidat n° … » (2)" in result.output
    assert "date de naissance (2)" in result.output
    assert "aménagements liés au handicap (1)" in result.output
    assert "2 observations supprimées" in result.output
    assert "1 motif de conflit d'intérêts effacé" in result.output
    assert "le procès-verbal, pas encore produit, sera généré avant la purge" in result.output
    assert "Simulation : rien n'a été modifié" in result.output
    assert _snapshot() == before


def test_apply_pseudonymises_keeps_the_minutes_and_results_and_is_audited(runner, built, ntc):
    minutes = operations.generate_minutes(session=built.session)
    kept_bytes = minutes.content
    recent = build_locked_session(ntc, candidates=1, jurors=2, failing=False)
    _close_years_ago(built, 6)
    names = [(c.last_name, c.first_name) for c in built.candidates]

    result = runner.invoke(args=["purge", "--older-than", "5y", "--apply"])

    assert result.exit_code == 0, result.output
    assert "1 session purgée" in result.output
    db.session.expire_all()
    session = built.session
    assert session.purged_at is not None
    for candidate in built.candidates:
        assert candidate.last_name == f"Candidat n° {candidate.candidate_number}"
        assert candidate.first_name == candidate.email == candidate.birth_place == ""
        assert candidate.birth_date is None
        assert candidate.disability_arrangements == candidate.company_context == ""
    assert (
        db.session.execute(
            select(func.count())
            .select_from(Observation)
            .where(Observation.candidate_id.in_([c.id for c in built.candidates]))
        ).scalar_one()
        == 0
    )
    reasons = (
        db.session.execute(
            select(ConflictDeclaration.reason).where(ConflictDeclaration.has_conflict.is_(True))
        )
        .scalars()
        .all()
    )
    assert reasons == ["(purgé)"]
    # The minutes are kept as they were, names included; the results stay.
    [document] = db.session.execute(select(MinutesDocument)).scalars().all()
    assert (document.version, document.content) == (1, kept_bytes)
    assert names[0][0].upper() in text(document.content)
    lost = (
        db.session.execute(select(CcpDecision).where(CcpDecision.candidate_id == built.failing.id))
        .scalars()
        .all()
    )
    assert any(d.outcome.value == "not_acquired" for d in lost)
    # No personal text survives in the audit log or the jurors' operation log.
    log = json.dumps(
        [
            [e.before, e.after]
            for e in db.session.execute(
                select(AuditEvent).where(AuditEvent.session_id == session.id)
            ).scalars()
        ],
        ensure_ascii=False,
    )
    for secret in (OBSERVATION_TEXT, CONFLICT_REASON, *(last for last, _first in names[:1])):
        assert secret not in log
    assert FAIL_REASON in log  # a decision's reason is a result, kept
    payloads = json.dumps(
        [
            o.payload
            for o in db.session.execute(
                select(AppliedOperation)
                .join(JuryMember, JuryMember.id == AppliedOperation.jury_member_id)
                .where(JuryMember.session_id == session.id)
            ).scalars()
        ],
        ensure_ascii=False,
    )
    assert OBSERVATION_TEXT not in payloads and CONFLICT_REASON not in payloads
    purge = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == operations.PURGED)
    ).scalar_one()
    assert purge.session_id == session.id
    assert purge.after["observations"] == 2 and purge.after["candidates"] == 2
    # The session closed recently is untouched.
    assert recent.session.purged_at is None
    assert recent.candidates[0].birth_date is not None
    # The redacted chain still verifies: purged rows are vouched for by the purge event.
    verified = runner.invoke(args=["audit", "verify", str(session.id)])
    assert verified.exit_code == 0, verified.output
    assert f"({len(purge.after['redacted'])} expurgés par la purge)" in verified.output
    # A second run finds nothing left to purge.
    again = runner.invoke(args=["purge", "--older-than", "5y", "--apply"])
    assert again.exit_code == 0 and "Aucune session close avant le" in again.output


def test_apply_generates_the_missing_minutes_before_the_names_go(runner, built):
    _close_years_ago(built, 6)
    names = [c.full_name for c in built.candidates]

    result = runner.invoke(args=["purge", "--apply"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    document = queries.latest_document(built.session.id, queries.MINUTES)
    assert document is not None and document.version == 1
    assert all(name in text(document.content) for name in names)


def test_a_purged_row_edited_afterwards_is_caught(runner, built):
    _close_years_ago(built, 6)
    assert runner.invoke(args=["purge", "--apply"]).exit_code == 0
    db.session.expire_all()
    row = (
        db.session.execute(
            select(AuditEvent).where(
                AuditEvent.session_id == built.session.id, AuditEvent.action == "observation_saved"
            )
        )
        .scalars()
        .first()
    )
    row.actor_label = "quelqu'un d'autre"
    db.session.commit()

    result = runner.invoke(args=["audit", "verify", str(built.session.id)])

    assert result.exit_code == 1
    assert f"ÉCART événement {row.id} (cette session)" in result.output
    assert "modifiée après la purge" in result.output


def test_an_unreadable_duration_stops_the_command(runner, built):
    result = runner.invoke(args=["purge", "--older-than", "cinq ans"])

    assert result.exit_code != 0
    assert "Durée illisible" in result.output
