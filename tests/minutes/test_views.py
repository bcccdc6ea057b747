"""The staff archive pages, downloads, the session ZIP, and the public verification page."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

from sqlalchemy import func, select

from ntc_jury.extensions import db
from ntc_jury.minutes import queries
from ntc_jury.minutes.operations import EXPORTED
from ntc_jury.models import AuditEvent, MinutesDocument, utcnow
from tests.auth import fresh_client, page_text
from tests.factories import issue_access, make_session, sign_in_juror
from tests.minutes.builders import (
    FAIL_REASON,
    OBSERVATION_TEXT,
    build_locked_session,
    reopen_and_resign,
)
from tests.minutes.pdfs import text

ARCHIVE = "/centre/archive"


def _documents(**filters) -> list[MinutesDocument]:
    return list(db.session.execute(select(MinutesDocument).filter_by(**filters)).scalars())


def test_staff_see_sessions_by_state(staff_client, built, ntc):
    planned = make_session(ntc, centre="Centre pas encore passé")
    db.session.commit()

    response = staff_client.get(f"{ARCHIVE}/")
    body = page_text(response)

    assert response.status_code == 200
    closed = body.index('id="state-closed"')
    assert closed < body.index(f'id="archive-session-{built.session.id}"')
    assert body.index('id="state-planned"') < body.index(f'id="archive-session-{planned.id}"')
    assert "à produire" in body


def test_staff_generate_download_and_get_the_stored_minutes(staff_client, built):
    url = f"{ARCHIVE}/sessions/{built.session.id}"

    response = staff_client.post(f"{url}/proces-verbal")
    assert response.status_code == 303 and response.headers["Location"] == url
    [document] = _documents(session_id=built.session.id)
    assert staff_client.post(f"{url}/proces-verbal").status_code == 303
    assert len(_documents(session_id=built.session.id)) == 1  # stored, not regenerated

    download = staff_client.get(f"{url}/proces-verbal.pdf")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data == document.content
    assert "proces-verbal-v1.pdf" in download.headers["Content-Disposition"]
    assert staff_client.get(f"{url}/proces-verbal.pdf?version=1").data == document.content
    assert staff_client.get(f"{url}/proces-verbal.pdf?version=2").status_code == 404
    assert staff_client.get(f"{url}/proces-verbal.pdf?version=deux").status_code == 404
    page = page_text(staff_client.get(url))
    assert document.sha256 in page


def test_staff_generate_and_download_the_candidate_sheets(staff_client, built, ntc):
    url = f"{ARCHIVE}/sessions/{built.session.id}"
    other = make_session(ntc)
    db.session.commit()

    assert (
        staff_client.get(f"{url}/candidats/{built.failing.id}/fiche-resultats.pdf").status_code
        == 404
    )
    assert staff_client.post(f"{url}/fiches").status_code == 303

    assert len(_documents(session_id=built.session.id)) == 2 * len(built.candidates)
    sheet = staff_client.get(f"{url}/candidats/{built.failing.id}/fiche-resultats.pdf")
    grid = staff_client.get(f"{url}/candidats/{built.failing.id}/grille-synthese.pdf")
    assert sheet.status_code == grid.status_code == 200
    assert built.failing.full_name in text(sheet.data) and FAIL_REASON in text(sheet.data)
    assert "Grille de synthèse" in text(grid.data)
    foreign = other.candidates[0].id
    assert staff_client.get(f"{url}/candidats/{foreign}/fiche-resultats.pdf").status_code == 404


def test_an_unlocked_session_gets_no_documents(staff_client, ntc):
    session = make_session(ntc)
    db.session.commit()
    url = f"{ARCHIVE}/sessions/{session.id}"

    for action in ("proces-verbal", "fiches", "export"):
        response = staff_client.post(f"{url}/{action}")
        assert response.status_code == 303 and response.headers["Location"] == url
    assert _documents() == []
    assert "session verrouillée" in page_text(staff_client.get(url))


def test_jurors_and_anonymous_visitors_are_kept_out(app, db, ntc):
    # Dated today: a juror's link only works around the session's dates.
    built = build_locked_session(ntc, starts_on=utcnow().date())
    juror = fresh_client(app)
    issued = issue_access(built.jurors[1])
    db.session.commit()
    assert sign_in_juror(juror, issued).headers.get("Location") == "/jury/"
    anonymous = fresh_client(app)
    url = f"{ARCHIVE}/sessions/{built.session.id}"

    for method, path in (
        ("GET", f"{ARCHIVE}/"),
        ("GET", url),
        ("POST", f"{url}/proces-verbal"),
        ("POST", f"{url}/export"),
        ("GET", f"{url}/proces-verbal.pdf"),
    ):
        assert juror.open(path, method=method).status_code == 403
        response = anonymous.open(path, method=method)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    assert _documents() == []


def test_the_session_zip_holds_everything_with_a_matching_manifest(staff_client, built):
    response = staff_client.post(f"{ARCHIVE}/sessions/{built.session.id}/export")

    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    files = {name: archive.read(name) for name in archive.namelist()}
    manifest = files.pop("SHA256SUMS").decode("utf-8")
    listed = dict(reversed(line.split("  ", 1)) for line in manifest.splitlines())
    assert set(listed) == set(files)
    for name, body in files.items():
        assert listed[name] == hashlib.sha256(body).hexdigest(), name
    for table in ("marks", "observations", "decisions", "signatures", "audit_log"):
        assert f"csv/{table}.csv" in files and f"json/{table}.json" in files
    sheets = [n for n in files if n.startswith("pdf/fiche-") or n.startswith("pdf/grille-")]
    assert "pdf/proces-verbal-v1.pdf" in files and len(sheets) == 2 * len(built.candidates)
    [minutes] = _documents(name=queries.MINUTES)
    assert files["pdf/proces-verbal-v1.pdf"] == minutes.content
    # The printed hash is reproducible from the export alone.
    assert hashlib.sha256(files["session-data.json"]).hexdigest() == minutes.data_sha256
    decisions = json.loads(files["json/decisions.json"])
    assert any(d["reason"] == FAIL_REASON for d in decisions)
    assert OBSERVATION_TEXT in files["csv/observations.csv"].decode("utf-8-sig")
    audit = json.loads(files["json/audit_log.json"])
    assert {row["action"] for row in audit} >= {"minutes_signed", "session_locked"}
    assert len(json.loads(files["json/signatures.json"])) == len(built.jurors)
    # Who the ids are, and the results in French words for the centre's spreadsheet.
    people = json.loads(files["json/candidates.json"])
    assert {p["last_name"] for p in people} == {c.last_name for c in built.candidates}
    assert {j["name"] for j in json.loads(files["json/jury.json"])} == {
        m.full_name for m in built.jurors
    }
    header, *rows = files["resultats.csv"].decode("utf-8-sig").splitlines()
    assert header == "N° de candidat;Nom;Prénom;Parcours;Présence;CCP1;CCP2;Titre"
    assert len(rows) == len(built.candidates)
    words = {cell for row in rows for cell in row.split(";")[5:]}
    assert words and words <= {"Acquis", "Non acquis", "Déjà acquis", "Obtenu", "Non obtenu", ""}
    assert "Non acquis" in words  # the failing candidate's CCP
    disposition = response.headers["Content-Disposition"]
    assert re.search(r"filename=\d{4}-\d{2}-\d{2}-[A-Za-z0-9-]+-export\.zip", disposition)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == EXPORTED)).scalar_one()
    assert event.after["manifest_sha256"] == hashlib.sha256(manifest.encode()).hexdigest()


def test_the_public_page_verifies_a_hash_and_names_no_one(app, built, staff_client):
    staff_client.post(f"{ARCHIVE}/sessions/{built.session.id}/proces-verbal")
    [first] = _documents(name=queries.MINUTES)
    old_data, old_file = first.data_sha256, first.sha256
    visitor = fresh_client(app)

    for digest in (old_data, old_file.upper()):
        body = page_text(visitor.get(f"/verification?empreinte={digest}"))
        assert "Valide" in body and "session du 12 mars 2025, version 1" in body
        for secret in (
            *(c.last_name for c in built.candidates),
            *(m.last_name for m in built.jurors),
            built.session.centre,
        ):
            assert secret.upper() not in body.upper()
    assert "Inconnu" in page_text(visitor.get(f"/verification?empreinte={'0' * 64}"))
    assert "Empreinte invalide" in page_text(visitor.get("/verification?empreinte=abc"))
    assert 'id="verification-result"' not in page_text(visitor.get("/verification"))

    reopen_and_resign(built, reason="Correction", new_fail_reason="Motif reformulé")
    staff_client.post(f"{ARCHIVE}/sessions/{built.session.id}/proces-verbal")
    body = page_text(visitor.get(f"/verification?empreinte={old_data}"))
    assert "version 1" in body and "remplacée par la version 2" in body
    count = select(func.count()).select_from(MinutesDocument)
    assert db.session.execute(count).scalar_one() == 2
