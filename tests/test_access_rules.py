"""Every route declares who may use it, and every role gets what that rule promises.

The matrix is read from `app.url_map` when the tests are collected, so a route added later is
checked without touching this file — unless its URL takes an argument this file cannot fill
with a real id, which fails loudly: add the argument to `ID_OF_ARGUMENT` below.

Each (stage, route, method) case gets a fresh database with two exam sessions, A and B (two
jurors, the first one chair, and two candidates each), a staff member and an admin. URLs are
built with session A's ids. Jury routes run at two stages of the sessions' life: before the
deliberation (each juror sees only their own work) and once both deliberations are open (the
jury pages reveal everything about the session, so that is where scoping matters most).
Roles ask in the order of `ROLES`: session B's jurors go first, so what they may have changed in
session A's data is checked before anyone else writes to it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from sqlalchemy import or_, select
from werkzeug.routing import IntegerConverter, PathConverter, Rule, UnicodeConverter
from werkzeug.security import generate_password_hash

from ntc_jury.access import ADMIN, CHAIR, JUROR, PUBLIC, RULES, STAFF, rule_of
from ntc_jury.assets import asset_url
from ntc_jury.auth import credentials
from tests.auth import fresh_client, page_text
from tests.conftest import make_test_app
from tests.factories import issue_access, make_session, make_staff, sign_in_juror, sign_in_staff

NOT_CHECKED_ENDPOINTS = {"static"}  # Flask's own files: no view of ours, no rule to declare
CHECKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# ----------------------------------------------------------------------------- the table

ANONYMOUS, JUROR_B, CHAIR_B, JUROR_A, CHAIR_A, STAFF_MEMBER, ADMIN_MEMBER = ROLES = (
    "anonymous",
    "juror of B",
    "chair of B",
    "juror of A",
    "chair of A",
    "staff",
    "admin",
)
OTHER_SESSION = (JUROR_B, CHAIR_B)
VARIANTS = (("", {}), (" (htmx)", {"HX-Request": "true"}))


@dataclasses.dataclass(frozen=True)
class Outcome:
    label: str
    check: Callable  # (response) -> bool


def _is_sign_in_redirect(response) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code in (301, 302, 303, 307, 308) and (
        urlsplit(location).path == "/connexion"
    )


SIGN_IN = Outcome("a redirect to /connexion", _is_sign_in_redirect)
FORBIDDEN = Outcome("403", lambda r: r.status_code == 403)
ALLOWED = Outcome(
    "allowed (< 500, not 401/403, not sent to sign in)",
    lambda r: (
        r.status_code < 500 and r.status_code not in (401, 403) and not _is_sign_in_redirect(r)
    ),
)
# Before the deliberation, a jury page may still refuse (403) what is not revealed yet.
ALLOWED_OR_NOT_YET = Outcome(
    "allowed, or 403 until the deliberation opens (< 500, not 401, not sent to sign in)",
    lambda r: r.status_code < 500 and r.status_code != 401 and not _is_sign_in_redirect(r),
)
# A juror of session B passes the role gate of juror routes; the queries must keep them in B.
OWN_SESSION_ONLY = Outcome(
    "at most their own session (< 500, not 401, not sent to sign in)",
    lambda r: r.status_code < 500 and r.status_code != 401 and not _is_sign_in_redirect(r),
)

EXPECTED: dict[str, dict[str, Outcome]] = {
    PUBLIC: dict.fromkeys(ROLES, ALLOWED),
    STAFF: {
        ANONYMOUS: SIGN_IN,
        JUROR_B: FORBIDDEN,
        CHAIR_B: FORBIDDEN,
        JUROR_A: FORBIDDEN,
        CHAIR_A: FORBIDDEN,
        STAFF_MEMBER: ALLOWED,
        ADMIN_MEMBER: ALLOWED,
    },
    ADMIN: {
        ANONYMOUS: SIGN_IN,
        JUROR_B: FORBIDDEN,
        CHAIR_B: FORBIDDEN,
        JUROR_A: FORBIDDEN,
        CHAIR_A: FORBIDDEN,
        STAFF_MEMBER: FORBIDDEN,
        ADMIN_MEMBER: ALLOWED,
    },
    JUROR: {
        ANONYMOUS: SIGN_IN,
        JUROR_B: OWN_SESSION_ONLY,
        CHAIR_B: OWN_SESSION_ONLY,
        JUROR_A: ALLOWED,
        CHAIR_A: ALLOWED,
        STAFF_MEMBER: FORBIDDEN,
        ADMIN_MEMBER: FORBIDDEN,
    },
    CHAIR: {
        ANONYMOUS: SIGN_IN,
        JUROR_B: FORBIDDEN,
        CHAIR_B: OWN_SESSION_ONLY,
        JUROR_A: FORBIDDEN,
        CHAIR_A: ALLOWED,
        STAFF_MEMBER: FORBIDDEN,
        ADMIN_MEMBER: FORBIDDEN,
    },
}

BEFORE_DELIBERATION, DELIBERATION_OPEN = STAGES = ("before deliberation", "deliberation open")


def expected_outcome(stage: str, rule: str, role: str) -> Outcome:
    outcome = EXPECTED[rule][role]
    if stage == BEFORE_DELIBERATION and outcome is ALLOWED and role in (JUROR_A, CHAIR_A):
        return ALLOWED_OR_NOT_YET
    return outcome


# URL arguments → a real object of the world (session A's, or the referential's).
ID_OF_ARGUMENT: dict[str, Callable[[World], int]] = {
    "session_id": lambda w: w.session_a.id,
    "member_id": lambda w: w.juror_a.member.id,
    "candidate_id": lambda w: w.session_a.candidates[0].id,
    "user_id": lambda w: w.staff.id,
    "phase_id": lambda w: w.session_a.format.phases[0].id,
    "competency_id": lambda w: w.session_a.certification.ccps[0].competencies[0].id,
    "criterion_id": lambda w: w.session_a.certification.ccps[0].competencies[0].criteria[0].id,
    "ccp_id": lambda w: w.session_a.certification.ccps[0].id,
    "modality_id": lambda w: w.session_a.certification.modalities[0].id,
}
TEXT_OF_ARGUMENT: dict[str, Callable[[World], str]] = {
    "token": lambda w: w.chair_a.token,
    "hashed": lambda w: asset_url("css/app.css").removeprefix("/assets/"),
}


# ----------------------------------------------------------------------------- the routes


def _cases(app) -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) for every route of the app but Flask's static files."""
    cases = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_CHECKED_ENDPOINTS:
            continue
        for method in sorted(set(rule.methods) & set(CHECKED_METHODS)):
            cases.append((rule.endpoint, rule.rule, method))
    return sorted(cases, key=lambda case: (case[1], case[2]))


def _staged(app, cases) -> list[tuple[str, str, str, str]]:
    """Jury routes run at both stages (what they reveal depends on it); the others once."""
    with app.app_context():
        return [
            (stage, *case)
            for case in cases
            for stage in (STAGES if rule_of(case[0]) in (JUROR, CHAIR) else STAGES[:1])
        ]


# Read once at collection time; `test_the_matrix_covers_every_route` checks it against the
# app the tests really use.
_COLLECTION_APP = make_test_app("sqlite://")
CASES = _cases(_COLLECTION_APP)
STAGED_CASES = _staged(_COLLECTION_APP, CASES)


def _rule(app, endpoint: str, path: str) -> Rule:
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == path)


def test_every_route_declares_an_access_rule(app):
    with app.app_context():
        missing = sorted(
            f"{rule.endpoint} ({rule.rule})"
            for rule in app.url_map.iter_rules()
            if rule.endpoint not in NOT_CHECKED_ENDPOINTS and rule_of(rule.endpoint) not in RULES
        )
    assert not missing, (
        "these routes declare no access rule (decorate the view with one of ntc_jury.access's "
        "public / staff_required / admin_required / juror_required / chair_required): "
        + ", ".join(missing)
    )


def test_the_matrix_covers_every_route(app):
    assert _cases(app) == CASES
    assert len(CASES) > 10  # the URL map really was read


def test_a_route_without_a_rule_is_refused():
    """The before_request guard refuses a view that declares nothing, even for anonymous."""
    bare = make_test_app("sqlite://")
    bare.add_url_rule("/sans-regle", "no_rule", lambda: "secret")
    response = bare.test_client().get("/sans-regle")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


# ----------------------------------------------------------------------------- the world


@dataclasses.dataclass
class World:
    session_a: object
    session_b: object
    juror_a: object  # IssuedAccess: member, token, pin
    chair_a: object
    juror_b: object
    chair_b: object
    staff: object
    admin: object

    @property
    def surnames_a(self) -> list[str]:
        return [c.last_name for c in self.session_a.candidates]

    def surnames_a_in(self, body: str) -> list[str]:
        """Session A's candidate surnames on a page, whatever their case (lists upper-case them)."""
        return [
            name
            for name in self.surnames_a
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", body, re.IGNORECASE)
        ]


@pytest.fixture
def world(db, ntc, monkeypatch) -> World:
    # A cheap hash for the PINs and passwords of the world: this file makes a dozen per case
    # and is about access rules; tests/auth covers the real (scrypt) hashes.
    monkeypatch.setattr(
        credentials,
        "hash_password",
        lambda secret: generate_password_hash(secret, "pbkdf2:sha256:1"),
    )
    session_a, session_b = make_session(ntc), make_session(ntc)
    chair_a, juror_a = (issue_access(m) for m in session_a.jury_members)
    chair_b, juror_b = (issue_access(m) for m in session_b.jury_members)
    assert chair_a.member.is_chair and chair_b.member.is_chair
    assert not juror_a.member.is_chair and not juror_b.member.is_chair
    built = World(
        session_a=session_a,
        session_b=session_b,
        juror_a=juror_a,
        chair_a=chair_a,
        juror_b=juror_b,
        chair_b=chair_b,
        staff=make_staff(),
        admin=make_staff(admin=True),
    )
    db.session.commit()
    # Session B's candidates must not share a surname with A's, or the leak check means nothing.
    assert not built.surnames_a_in(" ".join(c.full_name for c in session_b.candidates))
    return built


def _enter(stage: str, world: World, db) -> None:
    """Bring both sessions to `stage` through the app's own operations."""
    if stage == DELIBERATION_OPEN:
        from ntc_jury.deliberation.operations import open_deliberation

        for issued in (world.chair_a, world.chair_b):
            open_deliberation(chair=issued.member, acknowledge=True)
        db.session.commit()


def _signed_in_clients(app, world: World) -> dict:
    """One test client per role, signed in as Flask-Login's login_user would sign them in.

    (The sign-in pages themselves are tested in tests/auth; going through them here would
    cost six more commits per case.)
    """
    people = {
        JUROR_A: world.juror_a.member,
        CHAIR_A: world.chair_a.member,
        JUROR_B: world.juror_b.member,
        CHAIR_B: world.chair_b.member,
        STAFF_MEMBER: world.staff,
        ADMIN_MEMBER: world.admin,
    }
    clients = {role: fresh_client(app) for role in ROLES}
    for role, person in people.items():
        with clients[role].session_transaction() as cookie_session:
            cookie_session["_user_id"] = person.get_id()
            cookie_session["_fresh"] = True
    return clients


def _url(rule: Rule, world: World) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter) and name in ID_OF_ARGUMENT:
            values[name] = ID_OF_ARGUMENT[name](world)
        elif isinstance(converter, UnicodeConverter | PathConverter) and name in TEXT_OF_ARGUMENT:
            values[name] = TEXT_OF_ARGUMENT[name](world)
        else:
            pytest.fail(
                f"route {rule.rule} ({rule.endpoint}) takes <{type(converter).__name__} {name}>, "
                "which tests/test_access_rules.py cannot fill: map it to a real object of "
                "session A in ID_OF_ARGUMENT or TEXT_OF_ARGUMENT"
            )
    _, path = rule.build(values, append_unknown=False)
    return path


def _rows_of_session(db, session) -> dict[str, list[tuple]]:
    """Every row that belongs to `session`, following foreign keys from the session row down."""
    tables = db.metadata.sorted_tables
    referenced = {(fk.column.table.name, fk.column.name) for t in tables for fk in t.foreign_keys}
    owned: dict[tuple[str, str], set] = {}  # (table, referenced column) → values in the session
    rows_by_table: dict[str, list[str]] = {}
    for table in tables:
        if table.name == "exam_session":
            condition = table.c.id == session.id
        else:
            links = [
                fk.parent.in_(owned[(fk.column.table.name, fk.column.name)])
                for fk in table.foreign_keys
                if (fk.column.table.name, fk.column.name) in owned
            ]
            if not links:
                continue
            condition = or_(*links)
        rows = db.session.execute(select(table).where(condition)).all()
        for column in table.columns:
            if (table.name, column.name) in referenced:
                owned[(table.name, column.name)] = {getattr(row, column.name) for row in rows}
        rows_by_table[table.name] = sorted(repr(tuple(row)) for row in rows)
    return rows_by_table


def test_the_matrix_signs_people_in_as_the_sign_in_pages_do(app, world):
    """The matrix writes identities into the cookie; they must be those real sign-ins make."""
    shortcut = _signed_in_clients(app, world)
    through_the_pages = {role: fresh_client(app) for role in ROLES}
    for role, issued in ((JUROR_A, world.juror_a), (CHAIR_A, world.chair_a)):
        sign_in_juror(through_the_pages[role], issued)
    for role, issued in ((JUROR_B, world.juror_b), (CHAIR_B, world.chair_b)):
        sign_in_juror(through_the_pages[role], issued)
    sign_in_staff(through_the_pages[STAFF_MEMBER], world.staff)
    sign_in_staff(through_the_pages[ADMIN_MEMBER], world.admin)

    for role in ROLES:
        with (
            shortcut[role].session_transaction() as one,
            through_the_pages[role].session_transaction() as other,
        ):
            assert one.get("_user_id") == other.get("_user_id"), role
        assert (role == ANONYMOUS) == (one.get("_user_id") is None)


def test_the_leak_check_sees_session_a_on_its_own_pages(app, world):
    """Guards the guard: session A's juror page shows what the leak check looks for."""
    clients = _signed_in_clients(app, world)

    page = page_text(clients[CHAIR_A].get("/jury/"))
    other_page = page_text(clients[CHAIR_B].get("/jury/"))

    assert sorted(world.surnames_a_in(page)) == sorted(world.surnames_a)
    assert world.surnames_a_in(other_page) == []


# ----------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize(
    ("stage", "endpoint", "path", "method"),
    STAGED_CASES,
    ids=[
        f"{method} {path} ({endpoint}, {stage})" for stage, endpoint, path, method in STAGED_CASES
    ],
)
def test_each_role_gets_what_the_rule_promises(app, db, world, stage, endpoint, path, method):
    rule = _rule(app, endpoint, path)
    with app.app_context():
        declared = rule_of(endpoint)
    assert declared in RULES, f"{endpoint} declares no access rule"
    url = _url(rule, world)
    _enter(stage, world, db)
    clients = _signed_in_clients(app, world)
    session_a_before = _rows_of_session(db, world.session_a)

    failures = []
    for role in ROLES:
        expected = expected_outcome(stage, declared, role)
        # GETs also as htmx asks for them: fragments take other paths through the views.
        for variant, headers in VARIANTS if method == "GET" else VARIANTS[:1]:
            who = f"{role}{variant}"
            try:
                response = clients[role].open(
                    url, method=method, data={} if method != "GET" else None, headers=headers
                )
            except Exception as error:  # the test client re-raises what would have been a 500
                db.session.rollback()
                failures.append(f"as {who}: raised {type(error).__name__}: {error}")
                continue
            status = response.status_code
            body = page_text(response)
            response.close()  # files are streamed from an open file
            if status >= 500:
                failures.append(f"as {who}: got {status}, never acceptable")
            elif not expected.check(response):
                location = response.headers.get("Location", "")
                got = f"{status} → {location}" if location else str(status)
                failures.append(f"as {who}: expected {expected.label}, got {got}")
            if role in OTHER_SESSION and status not in (403, 404):
                leaked = world.surnames_a_in(body)
                if leaked:
                    failures.append(
                        f"as {who}: got {status} with session A's candidates {', '.join(leaked)}"
                    )
        if role == OTHER_SESSION[-1]:
            db.session.rollback()  # read the database afresh
            if _rows_of_session(db, world.session_a) != session_a_before:
                failures.append("session B's jurors changed session A's data")

    assert not failures, (
        f"{method} {url} ({endpoint}, rule {declared}, {stage}):\n  " + "\n  ".join(failures)
    )
