"""Issue 9, part 3: hostile input against every form and JSON endpoint, with hypothesis.

Every POST route of `app.url_map` gets random and huge strings (up to 1 MB), repeated fields,
uploads, wrong JSON types (lists, nested objects, numbers, booleans, null, NaN, lone
surrogates), unknown and huge ids and the ids of another exam session, from every kind of
caller (anonymous, juror, chair, staff). The outbox endpoint also gets replayed and reordered
operations, including other jurors' ids. Requests without a CSRF token go to an app built
with CSRF on. Whatever is sent:

- never a 500 (the test client re-raises any exception of the app, so one fails the test);
- always a clear answer: a status of ALLOWED with a body; JSON errors and refusals in French;
  full pages in French (never Werkzeug's own English page); redirects stay on the site;
- never a write outside the caller's scope: every row is tied to an exam session (and a
  juror where it has one) and compared before and after each request. The other session's
  rows never change; a juror changes only their own records in their own session; a chair
  only their session; the referential never; the audit log only grows.

The world is built once for the module (a request costs milliseconds, building sessions
seconds), so rows accumulate between examples and only what holds whatever came before is
asserted. Strategies name ids symbolically (`Ref`, `Replay`) and the world resolves them at
run time: what hypothesis draws never depends on what earlier examples left behind. Callers'
credentials are put back before each example (a random form may well reissue a juror's link
or change the staff password), so each example starts signed in.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from ntc_jury.centre.clock import to_local
from ntc_jury.centre.schedule_operations import DayPlan, generate_schedule
from ntc_jury.extensions import db
from ntc_jury.jury import operations
from ntc_jury.jury.forms import PAYLOAD_FIELDS
from ntc_jury.models import (
    ScheduleSlot,
)
from ntc_jury.referential.loader import load_referential_file
from ntc_jury.referential.queries import forget_referentials, referential
from tests.conftest import NTC_YAML, _wipe, make_test_app
from tests.deliberation.conftest import make_jury
from tests.factories import STAFF_PASSWORD, issue_access, make_session, make_staff, sign_in_juror

from .conftest import chain_problems
from .hostile import (
    CALLERS,
    FORM_VALUES,
    FORMS,
    INVALID_OP,
    JSON_SCALARS,
    JSON_VALUES,
    OUTBOX_ITEMS,
    POST_ROUTES,
    REFERENTIAL_TABLES,
    UNREADABLE,
    UPLOADS,
    URL_ARGUMENTS,
    UTF8_TEXT,
    WEIRD,
    Long,
    RawJson,
    Ref,
    Replay,
    World,
    assert_clear_answer,
    assert_in_scope,
    assert_marks_follow_the_last_applied_ticks,
    cookies_of,
    credentials_of,
    hostile,
    ids_of,
    is_op_id,
    pick_caller,
    post_and_compare,
    refs,
    restore_credentials,
    route_rule,
    score,
    snapshot,
    sticky,
    url_of,
)


@pytest.fixture(scope="module")
def world(app, database_url, tmp_path_factory):
    """Sessions A (the callers'), D (deliberation open) and B (never theirs), signed in."""
    imports = str(tmp_path_factory.mktemp("imports"))
    hostile_app = make_test_app(database_url, CANDIDATE_IMPORT_DIR=imports)
    csrf_app = make_test_app(database_url, CANDIDATE_IMPORT_DIR=imports, WTF_CSRF_ENABLED=True)
    with hostile_app.test_request_context("/", method="POST"):
        ntc = load_referential_file(NTC_YAML)
        ref = referential(ntc.id)
        admin, other_staff = make_staff(admin=True), make_staff()
        a = make_session(ntc, jurors=3, candidates=3)
        b = make_session(ntc, jurors=2, candidates=2, centre="Autre centre")
        e = make_session(ntc, jurors=2, candidates=1, centre="Bac à sable du personnel")
        for exam in (a, b, e):
            generate_schedule(session=exam, plan=DayPlan(dt.time(8), dt.time(20)))
        jury_d = make_jury(ntc, format_code="CCP1", jurors=2, candidates=1)
        jury_d.score(jury_d.candidates[0])
        jury_d.open()
        d = jury_d.session
        chair_a = next(m for m in a.jury_members if m.is_chair)
        juror_a = next(m for m in a.jury_members if not m.is_chair)
        spare_a = next(m for m in a.jury_members if m not in (juror_a, chair_a))
        score(juror_a, a.candidates[0], ref, ticks=3)
        score(chair_a, a.candidates[0], ref, ticks=2)
        for member in b.jury_members:
            for candidate in b.candidates:
                score(member, candidate, ref, ticks=4)
        issued = {
            "juror": issue_access(juror_a),
            "chair": issue_access(chair_a),
            "chair_d": issue_access(jury_d.chair),
        }
        spare = issue_access(spare_a)
        db.session.commit()
        exams = {"A": a, "B": b, "D": d, "E": e}
        pools = {("session", name): [exam.id] for name, exam in exams.items()}
        for name, exam in exams.items():
            pools[("candidate", name)] = [c.id for c in exam.candidates]
            pools[("member", name)] = [m.id for m in exam.jury_members]
            pools[("slot", name)] = [
                slot_id
                for c in exam.candidates
                for slot_id in db.session.execute(
                    select(ScheduleSlot.id).where(ScheduleSlot.candidate_id == c.id)
                ).scalars()
            ] or [0]
        pools[("criterion", "")] = [c.id for comp in ref.competencies for c in comp.criteria]
        pools[("competency", "")] = [c.id for c in ref.competencies]
        pools[("phase", "")] = [p.id for f in ref.formats for p in f.phases]
        pools[("transversal", "")] = [t.id for t in ref.transversals]
        pools[("user", "")] = [admin.id, other_staff.id]
        pools[("token", "")] = [issued["juror"].token, issued["chair"].token, spare.token]
        pools[("format", "")] = [f.id for f in ref.formats]
        pools[("competency", "D")] = [c.id for c in jury_d.plan(jury_d.candidates[0]).competencies]
        world = World(
            app=hostile_app,
            csrf_app=csrf_app,
            sessions={name: exam.id for name, exam in exams.items()},
            members={"juror": juror_a.id, "chair": chair_a.id, "chair_d": jury_d.chair.id},
            staff_id=admin.id,
            pools=pools,
        )
        staff_email = admin.email
        db.session.remove()
    # Signed in by requests of their own, outside the context that built the data.
    for caller, access in issued.items():
        client = hostile_app.test_client()
        assert sign_in_juror(client, access).status_code == 302
        world.cookies[caller] = cookies_of(client)
    client = hostile_app.test_client()
    response = client.post("/connexion", data={"email": staff_email, "password": STAFF_PASSWORD})
    assert response.status_code in (302, 303)
    world.cookies["staff"] = cookies_of(client)
    world.credentials = credentials_of(world)
    referential_tables = [t for t in db.metadata.sorted_tables if t.name in REFERENTIAL_TABLES]
    world.referential_rows = snapshot(world, tables=referential_tables).rows
    yield world
    with app.app_context():
        _wipe(app)
    forget_referentials()
    for built in (hostile_app, csrf_app):
        with built.app_context():
            db.engine.dispose()


# ----------------------------------------------------------------------------- the tests


# Valid forms, then hostile values in their text fields: what gets past the validators is
# what reaches the database (NUL characters, lengths at and past each column's size, 1 MB).


def _slot_fields(world: World) -> dict:
    candidate = world.pools[("candidate", "E")][0]
    with world.app.app_context():
        slots = db.session.execute(
            select(ScheduleSlot).where(ScheduleSlot.candidate_id == candidate)
        ).scalars()
        fields = {}
        for i, slot in enumerate(slots):
            fields[f"slots-{i}-slot_id"] = str(slot.id)
            for name in ("starts_at", "ends_at"):
                fields[f"slots-{i}-{name}"] = to_local(getattr(slot, name)).strftime(
                    "%Y-%m-%dT%H:%M"
                )
            fields[f"slots-{i}-room"] = "Salle 1"
        db.session.remove()
    return fields


def _unique() -> str:
    return uuid.uuid4().hex[:8]


# name → (caller, URL, the valid form, its text fields)
VALID_FORMS: dict[str, Callable[[World], tuple]] = {
    "sign_in": lambda w: (
        "anonymous",
        "/connexion",
        {"email": "x@example.org", "password": "pas le bon"},
        ["email", "password"],
    ),
    "pin": lambda w: ("anonymous", f"/j/{w.pools[('token', '')][2]}", {"pin": "000000"}, ["pin"]),
    "create_staff": lambda w: (
        "staff",
        "/admin/personnel",
        {
            "name": "Nom",
            "email": f"s{_unique()}@example.org",
            "role": "staff",
            "password": "un mot de passe long",
        },
        ["name", "email", "password"],
    ),
    "reset_password": lambda w: (
        "staff",
        f"/admin/personnel/{w.pools[('user', '')][1]}/mot-de-passe",
        {"password": "un mot de passe long", "confirm": "un mot de passe long"},
        ["password"],
    ),
    "new_session": lambda w: (
        "staff",
        "/centre/sessions/nouvelle",
        {
            "format_id": str(w.pools[("format", "")][0]),
            "centre": "Centre",
            "starts_on": "2031-03-02",
            "manager_id": "0",
            "site": "Site",
            "rooms": "A, B",
            "ceres_number": "C-1",
            "manager_name": "Nom",
        },
        ["centre", "site", "rooms", "ceres_number", "manager_name"],
    ),
    "edit_session": lambda w: (
        "staff",
        f"/centre/sessions/{w.sessions['E']}/modifier",
        {
            "format_id": str(w.pools[("format", "")][0]),
            "centre": "Centre",
            "starts_on": dt.date.today().isoformat(),
            "manager_id": "0",
            "rooms": "A, B",
        },
        ["centre", "site", "rooms", "ceres_number", "manager_name"],
    ),
    "add_member": lambda w: (
        "staff",
        f"/centre/sessions/{w.sessions['E']}/jury/nouveau",
        {
            "first_name": "Jeanne",
            "last_name": "Juré",
            "email": f"j{_unique()}@example.org",
            "habilitation_number": "H-1",
        },
        ["first_name", "last_name", "email", "habilitation_number"],
    ),
    "edit_member": lambda w: (
        "staff",
        f"/centre/sessions/{w.sessions['E']}/jury/{w.pools[('member', 'E')][1]}/modifier",
        {"first_name": "Jean", "last_name": "Juré", "email": f"e{_unique()}@example.org"},
        ["first_name", "last_name", "email", "habilitation_number"],
    ),
    "new_candidate": lambda w: (
        "staff",
        f"/centre/sessions/{w.sessions['E']}/candidats/nouveau",
        {
            "candidate_number": f"N{_unique()}",
            "last_name": f"Nom {_unique()}",
            "first_name": "Prénom",
            "birth_date": "1990-01-01",
            "route": "formation",
            "company_context": "Contexte",
            "disability_arrangements": "Tiers temps",
        },
        [
            "candidate_number",
            "last_name",
            "first_name",
            "company_context",
            "disability_arrangements",
        ],
    ),
    "edit_candidate": lambda w: (
        "staff",
        f"/centre/sessions/{w.sessions['E']}/candidats/{w.pools[('candidate', 'E')][0]}/modifier",
        {
            "candidate_number": f"M{_unique()}",
            "last_name": f"Nom {_unique()}",
            "first_name": "Pré",
            "birth_date": "1990-01-01",
            "route": "formation",
        },
        [
            "candidate_number",
            "last_name",
            "first_name",
            "company_context",
            "disability_arrangements",
        ],
    ),
    "schedule": lambda w: (
        "staff",
        f"/centre/sessions/{w.sessions['E']}/planning",
        {
            "day_start": "08:00",
            "day_end": "19:00",
            "break_label": "Pause",
            "written_room": "Salle A",
            "oral_room": "Salle B",
        },
        ["break_label", "written_room", "oral_room"],
    ),
    "slots": lambda w: (
        "staff",
        f"/centre/sessions/{w.sessions['E']}/planning/candidats/{w.pools[('candidate', 'E')][0]}",
        _slot_fields(w),
        ["slots-0-room"],
    ),
    "decision": lambda w: (
        "chair_d",
        f"/jury/deliberation/candidats/{w.pools[('candidate', 'D')][0]}/decision",
        {
            "level": "competency",
            "subject_id": str(w.pools[("competency", "D")][0]),
            "outcome": "not_mastered",
            "reason": "Le jury a délibéré.",
        },
        ["reason", "outcome", "level", "anchor"],
    ),
    "observation": lambda w: (
        "juror",
        f"/jury/candidats/{w.pools[('candidate', 'A')][0]}/operation",
        {"kind": "observation", "competency_id": str(w.pools[("competency", "")][0]), "text": "Vu"},
        ["text", "op_id"],
    ),
    "conflict": lambda w: (
        "juror",
        f"/jury/candidats/{w.pools[('candidate', 'A')][2]}/operation",
        {"kind": "conflict", "has_conflict": "1", "reason": "Ancien collègue"},
        ["reason", "op_id"],
    ),
}
HOSTILE_TEXT = st.one_of(
    UTF8_TEXT,
    st.sampled_from(WEIRD),
    st.builds(
        Long,
        st.sampled_from(["é", "a", "\x00", "𝕏", " "]),
        st.sampled_from([39, 40, 41, 60, 61, 100, 101, 200, 201, 254, 255, 300, 301, 4001])
        | st.integers(10_000, 1_048_576),
    ),
    st.builds(lambda text, at: text[:at] + "\x00" + text[at:], UTF8_TEXT, st.integers(0, 40)),
)


def test_every_valid_form_of_the_hostile_cases_is_accepted_as_it_is(world):
    """The baselines below are valid: the hostile values reach the operations behind them."""
    for name, case in VALID_FORMS.items():
        caller, url, fields, _text_fields = case(world)
        before, response, after = post_and_compare(world, caller, url, data=fields)
        assert_clear_answer(response, name)
        assert_in_scope(world, caller, before, after, name)
        expected = 401 if name in ("sign_in", "pin") else (200, 302, 303)
        assert response.status_code in (expected if isinstance(expected, tuple) else (expected,)), (
            name,
            response.status_code,
        )
        assert after.rows != before.rows or after.audit_added, (name, "nothing was written")


@pytest.mark.parametrize("case", list(VALID_FORMS))
@hostile(10)
@given(changes=st.dictionaries(st.integers(0, 9), HOSTILE_TEXT, min_size=1, max_size=3))
@sticky
def test_valid_forms_with_hostile_text_answer_clearly_and_within_scope(world, case, changes):
    caller, url, fields, text_fields = VALID_FORMS[case](world)
    for index, value in changes.items():
        fields[text_fields[index % len(text_fields)]] = world.resolve(value)
    before, response, after = post_and_compare(world, caller, url, data=fields)

    assert_clear_answer(response, (case, url))
    assert_in_scope(world, caller, before, after, (case, url))


@hostile(60)
@given(
    caller=st.sampled_from(["juror", "juror", "chair"]),
    items=st.lists(OUTBOX_ITEMS, max_size=10),
    pending=JSON_SCALARS,
)
@sticky
def test_the_outbox_answers_hostile_replayed_and_reordered_batches_one_by_one(
    world, caller, items, pending
):
    ops = [world.operation(item) for item in items]
    body = {"operations": ops, "pending": pending}
    before, response, after = post_and_compare(world, caller, "/jury/operations", json=body)

    assert_clear_answer(response, "outbox")
    assert_in_scope(world, caller, before, after, "outbox")
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert len(results) == len(ops)
    for op, result in zip(ops, results, strict=True):
        assert result["status"] in ("applied", "already_applied", "refused"), result
        op_id = op.get("op_id") if isinstance(op, dict) else None
        if not is_op_id(op_id):
            assert result["status"] == "refused", (op, result)
            continue
        assert result["op_id"] == op_id
        first = world.answers.get(op_id)
        if result["message"] == UNREADABLE:
            # Text no database can store: not claimed, so nothing to remember either.
            assert first is None, "a claimed id must get its stored answer"
            continue
        if first is None:
            world.answers[op_id] = (caller, result)
            world.history.append(op)
            continue
        owner, answer = first
        if owner != caller:
            # Someone else's operation: neither applied nor acknowledged, nothing revealed.
            assert (result["status"], result["message"], result["result"]) == (
                "refused",
                INVALID_OP,
                {},
            )
        elif answer["status"] == "refused":
            assert (result["status"], result["message"]) == ("refused", answer["message"])
        else:
            assert result["status"] == "already_applied"
            assert result["result"] == answer["result"]
    assert_marks_follow_the_last_applied_ticks(world)


@hostile(30)
@given(
    caller=st.sampled_from(["juror", "chair", "chair_d", "anonymous", "staff"]),
    candidate=ids_of("candidate"),
    kind=st.sampled_from(list(operations.KINDS)) | UTF8_TEXT,
    payload=st.fixed_dictionaries(
        {},
        optional={
            name: st.sampled_from(["1", "0", "on", "MSP", "ET", "QP"])
            | refs(text=True)
            | FORM_VALUES
            for fields in PAYLOAD_FIELDS.values()
            for name in fields
        },
    ),
    extra=FORMS,
    op_id=st.none() | st.uuids().map(str) | st.builds(Replay, st.integers(0, 10**6)),
    htmx=st.booleans(),
)
@sticky
def test_the_form_operation_endpoint_answers_hostile_forms_with_htmx_or_not(
    world, caller, candidate, kind, payload, extra, op_id, htmx
):
    fields = {**world.resolve(extra), **world.resolve(payload), "kind": kind}
    if op_id is not None:
        fields["op_id"] = world.operation(op_id)["op_id"] if isinstance(op_id, Replay) else op_id
    url = f"/jury/candidats/{world.resolve(candidate)}/operation"
    headers = {"HX-Request": "true"} if htmx else {}
    before, response, after = post_and_compare(world, caller, url, data=fields, headers=headers)

    assert_clear_answer(response, url)
    assert_in_scope(world, caller, before, after, url)
    assert_marks_follow_the_last_applied_ticks(world)


@pytest.mark.parametrize(("endpoint", "path"), POST_ROUTES, ids=[e for e, _p in POST_ROUTES])
@hostile(8)
@given(
    chosen=st.sampled_from(CALLERS),
    prefer_right=st.none() | st.integers(0, 5),
    arguments=URL_ARGUMENTS,
    form=FORMS,
    upload=st.none() | UPLOADS,
    htmx=st.booleans(),
)
@sticky
def test_every_post_route_answers_hostile_forms_clearly_and_within_scope(
    world, endpoint, path, chosen, prefer_right, arguments, form, upload, htmx
):
    caller = pick_caller(endpoint, chosen, prefer_right)
    url = url_of(world, route_rule(world, endpoint, path), arguments, caller)
    body = world.resolve(form)
    sent = {"data": body}
    if upload is not None:
        content, filename = upload
        body["file"] = FileStorage(io.BytesIO(content), filename=filename)
        # Encoded here, in memory: the test client would spool a big body to a temporary file
        # it never closes.
        boundary, encoded = encode_multipart(body)
        sent = {"data": encoded, "content_type": f"multipart/form-data; boundary={boundary}"}
    headers = {"HX-Request": "true"} if htmx else {}
    before, response, after = post_and_compare(world, caller, url, headers=headers, **sent)

    assert_clear_answer(response, (endpoint, url))
    assert_in_scope(world, caller, before, after, (endpoint, url))


@pytest.mark.parametrize(("endpoint", "path"), POST_ROUTES, ids=[e for e, _p in POST_ROUTES])
@hostile(5)
@given(
    chosen=st.sampled_from(CALLERS),
    prefer_right=st.none() | st.integers(0, 5),
    arguments=URL_ARGUMENTS,
    body=JSON_VALUES
    | st.fixed_dictionaries({"operations": JSON_VALUES}, optional={"pending": JSON_VALUES})
    | st.builds(
        RawJson,
        st.sampled_from(
            ["array", "object", "deep_kind", "deep_text", "nan", "surrogate", "truncated", "bytes"]
        ),
        st.integers(1, 1_000) | st.integers(1_000, 200_000),
    ),
)
@sticky
def test_every_post_route_answers_hostile_json_clearly_and_within_scope(
    world, endpoint, path, chosen, prefer_right, arguments, body
):
    caller = pick_caller(endpoint, chosen, prefer_right)
    url = url_of(world, route_rule(world, endpoint, path), arguments, caller)
    if isinstance(body, RawJson):
        sent = {"data": body.body(), "content_type": "application/json"}
    else:
        sent = {"json": world.resolve(body)}
    before, response, after = post_and_compare(world, caller, url, **sent)

    assert_clear_answer(response, (endpoint, url))
    assert_in_scope(world, caller, before, after, (endpoint, url))


OFF_SITE = [
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "\t//evil.example",
    "/%09/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\x00/evil.example",
    "/\u3000/evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_no_next_parameter_sends_anyone_off_the_site(world, target):
    """Browsers drop tabs and newlines from URLs and read "\\" as "/": "/\t/x" is "//x"."""
    candidate = world.pools[("candidate", "A")][0]
    for caller, url, fields in (
        ("anonymous", "/langue", {"lang": "en", "next": target}),
        (
            "juror",
            f"/jury/candidats/{candidate}/operation",
            {"kind": "conflict", "has_conflict": "0", "next": target},
        ),
    ):
        before, response, after = post_and_compare(world, caller, url, data=fields)
        assert_clear_answer(response, (url, target))
        assert_in_scope(world, caller, before, after, (url, target))


def test_a_post_without_its_csrf_token_is_refused_everywhere_and_writes_nothing(world):
    """CSRF on: every POST route, from every caller, as a form, htmx or JSON, without a
    token or with a forged one → 400 with the French explanation, and not one row written."""
    restore_credentials(world)
    before = snapshot(world, tables=db.metadata.sorted_tables)
    arguments = {
        "session_id": "A",
        "candidate_id": Ref("candidate", "A", 0),
        "member_id": Ref("member", "A", 1),
        "user_id": Ref("user", "", 1),
        "token": Ref("token", "", 0),
    }
    attempts = (
        {"data": {"reason": "Motif", "pin": "123456", "kind": "conflict"}},
        {"data": {"csrf_token": "forged"}, "headers": {"HX-Request": "true"}},
        {"json": {"operations": []}, "headers": {"X-CSRFToken": "forged"}},
    )
    tried = 0
    for endpoint, path in POST_ROUTES:
        url = url_of(world, route_rule(world, endpoint, path), arguments, "staff")
        for caller in CALLERS:
            client = world.client(caller, app=world.csrf_app)
            for attempt in attempts:
                response = client.post(url, **attempt)
                assert response.status_code == 400, (endpoint, caller, attempt)
                page = response.get_data(as_text=True).replace("&#39;", "'")
                assert "Le formulaire a expiré ou n'est pas valide." in page, (endpoint, caller)
                assert_clear_answer(response, (endpoint, caller))
                tried += 1
    assert tried == len(POST_ROUTES) * len(CALLERS) * len(attempts)
    assert len(POST_ROUTES) > 30  # the whole map was read
    after = snapshot(world, since=before.audit_last, tables=db.metadata.sorted_tables)
    assert after.rows == before.rows
    assert (after.audit_count, after.audit_added) == (before.audit_count, {})


def test_after_every_hostile_request_the_referential_and_the_audit_chain_are_intact(world):
    """Run last: whatever was sent above, the referential is the one loaded (the examples
    compare session tables only, for speed) and every audit row chains onto the one before
    (an edited row would not)."""
    referential_tables = [t for t in db.metadata.sorted_tables if t.name in REFERENTIAL_TABLES]
    assert snapshot(world, tables=referential_tables).rows == world.referential_rows
    with world.app.app_context():
        assert chain_problems() == []
        db.session.remove()
