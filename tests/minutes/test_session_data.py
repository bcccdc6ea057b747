"""The session's data: the canonical JSON whose SHA-256 the documents print."""

from __future__ import annotations

import hashlib
import json

from ntc_jury.extensions import db
from ntc_jury.minutes import session_data
from tests.minutes.builders import FAIL_REASON, reopen_and_resign


def test_the_hash_is_the_sha256_of_the_documented_canonical_json(built):
    digest, body = session_data.data_sha256(built.session)
    data = json.loads(body)

    assert hashlib.sha256(body).hexdigest() == digest
    # The documented serialisation: sorted keys, no whitespace, UTF-8 as is.
    assert body == json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    assert "Éloïse".encode() in body
    assert data["format"] == "ntc-jury/session-data/v1"
    assert data["session"]["ceres_number"] == built.session.ceres_number
    assert data["session"]["certification"] == {"code": "TP-00338", "version": "07"}
    assert data["session"]["manager"] == "Claire Responsable"
    assert [m["id"] for m in data["jury"]] == sorted(m.id for m in built.jurors)
    assert {m["habilitation_valid_until"] for m in data["jury"]} == {"2027-12-31"}
    assert [(c["last_name"], c["birth_date"]) for c in data["candidates"]] == [
        (c.last_name, c.birth_date.isoformat()) for c in built.candidates
    ]
    # 9 competencies, 2 CCPs and the title for each of the two candidates.
    assert len(data["decisions"]) == 2 * (9 + 2 + 1)
    failed = [d for d in data["decisions"] if d["outcome"] == "not_mastered"]
    assert failed == [
        {
            "candidate_id": built.failing.id,
            "level": "competency",
            "subject": "CP1",
            "outcome": "not_mastered",
            "reason": FAIL_REASON,
        }
    ]
    signatures = data["signatures"]
    assert signatures["round"] == 1
    assert [s["jury_member_id"] for s in signatures["signatures"]] == sorted(
        m.id for m in built.jurors
    )
    assert all(s["signed_at"].endswith("Z") for s in signatures["signatures"])


def test_the_hash_is_stable_and_follows_the_signed_content(built):
    first, _body = session_data.data_sha256(built.session)
    db.session.expire_all()
    again, _body = session_data.data_sha256(built.session)
    assert again == first

    reopen_and_resign(built, reason="Correction d'un motif", new_fail_reason="Autre motif")

    changed, body = session_data.data_sha256(built.session)
    assert changed != first
    assert json.loads(body)["signatures"]["round"] == 2
