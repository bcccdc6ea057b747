"""What the hostile-input suite is made of: the checks of an answer, symbolic ids, the world's
credentials and scope of writes, and the hypothesis strategies (see test_hostile_input.py)."""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from babel.messages.pofile import read_po
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from wtforms.fields.core import UnboundField

from ntc_jury.access import ADMIN, CHAIR, JUROR, PUBLIC, STAFF, rule_of
from ntc_jury.auth import forms as auth_forms
from ntc_jury.centre import forms as centre_forms
from ntc_jury.deliberation import forms as deliberation_forms
from ntc_jury.extensions import db
from ntc_jury.jury import operations
from ntc_jury.jury.forms import PAYLOAD_FIELDS
from ntc_jury.jury.queries import candidate_plan
from ntc_jury.models import (
    AppliedOperation,
    ExamSession,
    JuryMember,
    Mark,
    StaffUser,
)
from ntc_jury.referential.queries import referential
from tests.conftest import ROOT, make_test_app

ALLOWED = frozenset({200, 302, 303, 400, 401, 403, 404, 409, 413, 422, 429})
CALLERS = ("anonymous", "juror", "chair", "chair_d", "staff")
RIGHT_CALLERS = {
    PUBLIC: CALLERS,
    STAFF: ("staff",),
    ADMIN: ("staff",),
    JUROR: ("juror", "chair", "chair_d"),
    CHAIR: ("chair", "chair_d"),
}
REFERENTIAL_TABLES = frozenset(
    {
        "certification",
        "ccp",
        "modality",
        "transversal_competency",
        "competency",
        "session_format",
        "competency_modality",
        "criterion",
        "phase",
        "transversal_link",
        "phase_competency",
    }
)
INVALID_OP = "Identifiant d'opération invalide."
UNREADABLE = "Opération illisible."
PO_PATH = ROOT / "ntc_jury" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
_FRENCH_LETTERS = re.compile(r"[àâçéèêëîïôûùüÿœÀÂÇÉÈÊÎÔÛ«»]")


def hostile(examples: int) -> settings:
    """Bounded example counts. No example database and no shrinking: the world keeps what
    earlier examples wrote, so an example run again later is another example."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


_FIRST_FAILURES: dict[tuple, Exception] = {}


def sticky(test):
    """Hypothesis runs a failing example once more to report it, but the world has moved on
    and the rerun could pass (a "flaky" report hiding the bug): the first failure of each test
    (and route) is kept and raised again on reruns, so it is what gets reported."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        key = (test.__name__, kwargs.get("endpoint"), kwargs.get("path"), kwargs.get("case"))
        if key in _FIRST_FAILURES:
            raise _FIRST_FAILURES[key]
        try:
            return test(*args, **kwargs)
        except Exception as failure:
            _FIRST_FAILURES[key] = failure
            raise

    return run


# ----------------------------------------------------------------------------- French answers


def _catalogue_patterns() -> list[re.Pattern]:
    """The app's French messages (the catalogue's ids), placeholders matching anything."""
    with PO_PATH.open("rb") as handle:
        catalogue = read_po(handle)
    patterns = []
    for message in catalogue:
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            if msgid:
                parts = re.split(r"%\(\w+\)[sd]", msgid)
                patterns.append(re.compile(".+?".join(re.escape(p) for p in parts), re.S))
    return patterns


CATALOGUE = _catalogue_patterns()


def is_french(message) -> bool:
    """One of the app's French messages, or a French text (never empty, never English)."""
    if not isinstance(message, str) or not message.strip():
        return False
    return bool(_FRENCH_LETTERS.search(message)) or any(p.fullmatch(message) for p in CATALOGUE)


def _is_local(location: str) -> bool:
    parts = urlsplit(location)
    return (
        parts.scheme == ""
        and parts.netloc in ("", "localhost")
        and (bool(parts.netloc) or location.startswith("/"))
        and not location.startswith("//")
        and not any(c.isspace() or ord(c) < 32 or c == "\\" for c in location)
    )


def assert_clear_answer(response, what) -> None:
    status = response.status_code
    assert status in ALLOWED, (what, status)
    body = response.get_data()
    assert body.strip(), (what, status, "empty body")
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        assert _is_local(location), (what, "redirect off the site", location)
    if response.mimetype == "application/json":
        answer = response.get_json()
        if status >= 400:
            assert is_french(answer.get("error")), (what, status, answer)
        for result in answer.get("results", []) if isinstance(answer, dict) else []:
            if result["status"] == "refused":
                assert is_french(result["message"]), (what, result)
    elif response.mimetype == "text/html" and not 300 <= status < 400:
        # (A redirect's body is Werkzeug's "Redirecting..." note: browsers never show it.)
        page = body.decode("utf-8", "replace")
        assert "<html lang=en>" not in page, (what, status, "Werkzeug's English page")
        if "<html" in page:
            assert 'lang="fr"' in page, (what, status)


# ----------------------------------------------------------------------------- symbolic ids


@dataclass(frozen=True)
class Ref:
    """An id of the world named by what it is ("the 2nd candidate of session B")."""

    kind: str
    owner: str = ""
    index: int = 0
    text: bool = False  # a form value (string) rather than a JSON number


@dataclass(frozen=True)
class Long:
    """`size` characters made of `unit`, built only when the request is."""

    unit: str
    size: int

    def text(self) -> str:
        return (self.unit * (self.size // len(self.unit) + 1))[: self.size]


@dataclass(frozen=True)
class RawJson:
    """A JSON body written by hand: nested deeper than Python's stack, or not JSON at all."""

    shape: str
    depth: int

    def body(self) -> bytes:
        n = self.depth
        nested = "[" * n + "]" * n

        def batch(kind: str, payload: str) -> str:
            op = f'{{"op_id": "{uuid.uuid4()}", "kind": {kind}, "payload": {payload}}}'
            return f'{{"operations": [{op}]}}'

        shapes = {
            "array": nested,
            "object": '{"a":' * n + "1" + "}" * n,
            "deep_kind": batch(nested, "{}"),
            "deep_text": batch('"observation"', '{"candidate_id": 1, "text": ' + nested + "}"),
            "nan": '{"operations": [NaN, Infinity, -Infinity], "pending": NaN}',
            "surrogate": '{"operations": [{"op_id": "\\ud800", "kind": "\\udfff"}]}',
            "truncated": '{"operations": [' * (n % 50 + 1),
        }
        if self.shape not in shapes:  # not even UTF-8
            return b"\xff\xfe\x00{" * (n % 100 + 1)
        return shapes[self.shape].encode()


@dataclass(frozen=True)
class Replay:
    """An operation an earlier example sent: resent as it was, or with another payload."""

    index: int
    payload: dict | None = None


@dataclass(repr=False)
class World:
    app: object
    csrf_app: object
    # "A" the jurors' (scoring), "D" deliberation open, "E" staff's sandbox, "B" the other one
    sessions: dict[str, int]
    members: dict[str, int]  # juror caller → jury member id
    staff_id: int
    pools: dict[tuple[str, str], list]  # (kind, owner) → the ids a Ref picks from
    cookies: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    credentials: dict = field(default_factory=dict)
    referential_rows: dict = field(default_factory=dict)
    last_snapshot: Snapshot | None = None
    answers: dict[str, tuple] = field(default_factory=dict)  # op id → (owner, first answer)
    history: list[dict] = field(default_factory=list)  # valid operations sent, to replay

    def __repr__(self) -> str:
        return f"World(sessions={self.sessions}, members={self.members})"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))

    def session_of(self, caller: str) -> int | None:
        """The exam session of a juror caller (None for staff and anonymous)."""
        name = {"juror": "A", "chair": "A", "chair_d": "D"}.get(caller)
        return None if name is None else self.sessions[name]

    def resolve(self, value):
        if isinstance(value, Ref):
            pool = self.pools[(value.kind, value.owner)]
            found = pool[value.index % len(pool)]
            return str(found) if value.text else found
        if isinstance(value, Long):
            return value.text()
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def operation(self, item):
        if not isinstance(item, Replay):
            return self.resolve(item)
        if not self.history:
            return {"op_id": str(uuid.UUID(int=item.index)), "kind": "mark", "payload": {}}
        op = dict(self.history[item.index % len(self.history)])
        if item.payload is not None:
            op["payload"] = self.resolve(item.payload)
        return op

    def client(self, caller: str, *, app=None):
        client = (app or self.app).test_client()
        for name, value in self.cookies.get(caller, []):
            client.set_cookie(name, value)
        return client


def cookies_of(client) -> list[tuple[str, str]]:
    found = []
    for name in ("ntc_session", "ntc_remember"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            found.append((name, cookie.value))
    assert found, "not signed in"
    return found


def score(member, candidate, ref, *, ticks: int) -> None:
    """The member clears the candidate, ticks a few criteria of the first grid, notes."""

    def applied(kind: str, **payload) -> None:
        outcome = operations.apply_operation(
            member=member,
            op_id=str(uuid.uuid4()),
            kind=kind,
            payload={"candidate_id": candidate.id, **payload},
        )
        assert outcome.status == "applied", outcome.message

    applied("conflict", has_conflict=False)
    modality, competencies = next(iter(candidate_plan(ref, member, candidate).grids.items()))
    for criterion in [c for comp in competencies for c in comp.criteria][:ticks]:
        applied("mark", modality=modality, criterion_id=criterion.id, observed=True)
    applied("observation", competency_id=competencies[0].id, text="Vu")


# ----------------------------------------------------------------------------- credentials


_MEMBER_FIELDS = ("access_token_sha256", "pin_hash", "access_revoked_at", "role")
_STAFF_FIELDS = ("password_hash", "active", "role")
_SESSION_FIELDS = ("starts_on", "ends_on")


def credentials_of(world: World) -> dict:
    """What keeps each caller signed in: link, PIN and role, password, session dates."""
    ids = [world.sessions["A"], world.sessions["D"]]
    with world.app.app_context():
        members = db.session.execute(
            select(JuryMember.id, *(getattr(JuryMember, f) for f in _MEMBER_FIELDS)).where(
                JuryMember.session_id.in_(ids)
            )
        ).all()
        staff = db.session.execute(
            select(*(getattr(StaffUser, f) for f in _STAFF_FIELDS)).where(
                StaffUser.id == world.staff_id
            )
        ).one()
        sessions = db.session.execute(
            select(ExamSession.id, *(getattr(ExamSession, f) for f in _SESSION_FIELDS)).where(
                ExamSession.id.in_(ids)
            )
        ).all()
        db.session.remove()
    return {
        "members": {row[0]: tuple(row[1:]) for row in members},
        "staff": tuple(staff),
        "sessions": {row[0]: tuple(row[1:]) for row in sessions},
    }


def restore_credentials(world: World) -> None:
    """Put back what a previous example may have changed, so each one starts signed in."""
    if credentials_of(world) == world.credentials:
        return
    world.last_snapshot = None  # rows change here, not in a request
    saved = world.credentials
    with world.app.app_context():
        # Every role "member" first: one chair per session is a unique index.
        db.session.execute(
            update(JuryMember)
            .where(JuryMember.id.in_(list(saved["members"])))
            .values(role="member")
        )
        for member_id, values in saved["members"].items():
            db.session.execute(
                update(JuryMember)
                .where(JuryMember.id == member_id)
                .values(dict(zip(_MEMBER_FIELDS, values, strict=True)))
            )
        db.session.execute(
            update(StaffUser)
            .where(StaffUser.id == world.staff_id)
            .values(dict(zip(_STAFF_FIELDS, saved["staff"], strict=True)))
        )
        for session_id, values in saved["sessions"].items():
            db.session.execute(
                update(ExamSession)
                .where(ExamSession.id == session_id)
                .values(dict(zip(_SESSION_FIELDS, values, strict=True)))
            )
        db.session.commit()
        db.session.remove()
    assert credentials_of(world) == world.credentials


# ----------------------------------------------------------------------------- scope of writes


@dataclass(frozen=True)
class Snapshot:
    rows: dict[tuple[str, tuple], tuple]  # (table, primary key) → (row, session id, member id)
    audit_count: int
    audit_last: int  # the highest audit event id
    audit_added: dict[int, int | None]  # id → session id of the events after `since`


SESSION_TABLES = [t for t in db.metadata.sorted_tables if t.name not in REFERENTIAL_TABLES]


def snapshot(world: World, *, since: int | None = None, tables=SESSION_TABLES) -> Snapshot:
    """Every row of every table but the referential and the audit log (see below), tied to
    its exam session and, where it has one, its juror.

    The audit log is append-only: its count, its last id and the events after `since` are
    enough here; an edited event is caught by the chain, verified at the end of the module.
    """
    audit = db.metadata.tables["audit_event"]
    with world.app.app_context(), db.engine.connect() as conn:
        content = {
            t.name: list(conn.execute(t.select()).mappings()) for t in tables if t is not audit
        }
        count, last = conn.execute(select(func.count(), func.max(audit.c.id))).one()
        added = {}
        if since is not None:
            new = select(audit.c.id, audit.c.session_id).where(audit.c.id > since)
            added = {event_id: session_id for event_id, session_id in conn.execute(new)}
    rows: dict[tuple[str, tuple], tuple] = {}
    candidate_session = {r["id"]: r["session_id"] for r in content.get("candidate", ())}
    member_session = {r["id"]: r["session_id"] for r in content.get("jury_member", ())}
    deliberation_session = {r["id"]: r["session_id"] for r in content.get("deliberation", ())}
    for table in tables:
        if table is audit:
            continue
        pk = [c.name for c in table.primary_key.columns]
        for row in content[table.name]:
            member = row["id"] if table.name == "jury_member" else row.get("jury_member_id")
            if table.name == "exam_session":
                session = row["id"]
            elif row.get("candidate_id") is not None:
                session = candidate_session.get(row["candidate_id"])
            elif row.get("session_id") is not None:
                session = row["session_id"]
            elif member is not None:
                session = member_session.get(member)
            elif row.get("deliberation_id") is not None:
                session = deliberation_session.get(row["deliberation_id"])
            else:
                session = None
            rows[(table.name, tuple(row[k] for k in pk))] = (tuple(row.values()), session, member)
    return Snapshot(rows, count, last or 0, added)


def _may_write(world: World, caller: str, table: str, session, member) -> bool:
    if table == "sign_in_throttle":
        return True  # anyone may fail to sign in
    if table in REFERENTIAL_TABLES:
        return False
    if caller == "staff":
        return session != world.sessions["B"]
    if caller == "anonymous" or session != world.session_of(caller):
        return False
    own = world.members[caller]
    if caller == "juror":
        return member == own
    return member in (None, own)  # a chair: their session, never another juror's records


def assert_in_scope(world: World, caller: str, before: Snapshot, after: Snapshot, what) -> None:
    outside = []
    for key in before.rows.keys() | after.rows.keys():
        was, now = before.rows.get(key), after.rows.get(key)
        if (was and was[0]) == (now and now[0]):
            continue
        for state in (was, now):
            if state is not None and not _may_write(world, caller, key[0], state[1], state[2]):
                outside.append((key, state))
    assert outside == [], (what, caller, outside[:5])
    # The audit log only grows, and never with the other session's events.
    assert after.audit_count == before.audit_count + len(after.audit_added), (what, "audit")
    assert world.sessions["B"] not in set(after.audit_added.values()), (what, caller, "audit B")


# ----------------------------------------------------------------------------- strategies


def _form_field_names() -> list[str]:
    names = set()
    for module in (auth_forms, centre_forms, deliberation_forms):
        for value in vars(module).values():
            if isinstance(value, type):
                names |= {n for n, f in vars(value).items() if isinstance(f, UnboundField)}
    for fields in PAYLOAD_FIELDS.values():
        names |= set(fields)
    names |= {"kind", "op_id", "next", "lang", "anchor", "csrf_token", "jeton", "token"}
    names |= {f"slots-{i}-{n}" for i in (0, 1, 7) for n in ("slot_id", "starts_at", "ends_at")}
    names |= {"slots-0-room", "slots-0-csrf_token"}
    return sorted(names - {"file"})


FIELD_NAMES = _form_field_names()
UTF8_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
WEIRD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\t",
    "𝕏😀",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "/\t/evil.example",
    "/\\evil.example",
    "//evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\n/x",
    "%00",
    "../../etc/passwd",
    "true",
    "on",
    "oui",
    "false",
    "0",
    "-1",
    "9223372036854775808",
    "99999999999999999999",
    "1e309",
    "NaN",
    "Infinity",
    "1.5",
    "0x10",
    "٣",
    "¹",
    " 7 ",
    "+3",
    "-0",
    "2026-13-45",
    "0001-01-01",
    "9999-12-31",
    "31/02/2026",
    "25:61",
    "00:00",
    "23:59",
    "2026-01-09T08:00",
    "2026-01-09T25:00",
    "mark",
    "grid",
    "observation",
    "conflict",
    "transversal",
    "MSP",
    "ET",
    "QP",
    "EF",
    "planned",
    "in_progress",
    "deliberation",
    "closed",
    "archived",
    "competency",
    "ccp",
    "title",
    "presence",
    "mastered",
    "not_mastered",
    "acquired",
    "not_acquired",
    "already_held",
    "obtained",
    "not_obtained",
    "absent",
    "present",
    "withdrawn",
    "formation",
    "vae",
    "capitalisation",
    "fr",
    "en",
    "admin",
    "staff",
    "chair",
    "member",
    "y",
    "yes",
    "no",
]
UNKNOWN_IDS = st.sampled_from([0, -1, 987_654, 2**31, 2**63, 10**30])
ID_KINDS = [
    ("candidate", "A"),
    ("candidate", "B"),
    ("candidate", "D"),
    ("candidate", "E"),
    ("member", "A"),
    ("member", "B"),
    ("member", "D"),
    ("member", "E"),
    ("slot", "A"),
    ("slot", "B"),
    ("slot", "E"),
    ("criterion", ""),
    ("competency", ""),
    ("phase", ""),
    ("transversal", ""),
    ("user", ""),
]


def refs(kinds=ID_KINDS, *, text: bool = False):
    return st.builds(
        lambda kind, index: Ref(kind[0], kind[1], index, text),
        st.sampled_from(kinds),
        st.integers(0, 60),
    )


def ids_of(*kinds, text: bool = False):
    """Ids of these kinds (of every session), or unknown and huge ones."""
    chosen = [k for k in ID_KINDS if k[0] in kinds]
    return refs(chosen, text=text) | (UNKNOWN_IDS.map(str) if text else UNKNOWN_IDS)


def huge_strings(low: int = 10_000, high: int = 1_048_576):
    """Up to 1 MB of text, drawn as a `Long` (short to print) and made when resolved."""
    return st.builds(
        Long, st.sampled_from(["a", "é", "\x00", "<b>", "9", "𝕏"]), st.integers(low, high)
    )


TOKENS = st.builds(lambda index: Ref("token", "", index, True), st.integers(0, 5))
FORM_VALUES = st.one_of(
    UTF8_TEXT,
    st.sampled_from(WEIRD),
    refs(text=True),
    UNKNOWN_IDS.map(str),
    TOKENS,
    st.uuids().map(str),
    st.integers().map(str),
    huge_strings(),
)


def _csv_upload(cells: list[list[str]]) -> bytes:
    header = "Nom;Prénom;Date de naissance;N° de candidat;Parcours"
    lines = [header] + [";".join(c.replace(";", ",") for c in row) for row in cells]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


UPLOADS = st.tuples(
    st.one_of(
        st.binary(max_size=2_000),
        st.just(b""),
        st.binary(max_size=500).map(lambda junk: b"PK\x03\x04" + junk),
        st.lists(
            st.lists(UTF8_TEXT | st.sampled_from(WEIRD), min_size=5, max_size=5), max_size=3
        ).map(_csv_upload),
    ),
    st.sampled_from(["candidats.csv", "candidats.xlsx", "", "../../x.csv", "é\x00.csv"]),
)
FORMS = st.dictionaries(
    st.sampled_from(FIELD_NAMES) | UTF8_TEXT,
    FORM_VALUES | st.lists(FORM_VALUES, min_size=2, max_size=3),
    max_size=10,
)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, -(2**63) - 1, 10**30])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["\ud800", "a\x00b", "", "𝕏"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS | refs(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
URL_ARGUMENTS = st.fixed_dictionaries(
    {
        "session_id": st.sampled_from(["A", "D", "E", "B"]) | UNKNOWN_IDS,
        "candidate_id": ids_of("candidate"),
        "member_id": ids_of("member"),
        "user_id": ids_of("user"),
        "token": TOKENS | UTF8_TEXT.filter(bool),
    }
)


def _id_field(kind: str):
    """An id as a juror's phone would send it (int or text), or anything else."""
    return refs([k for k in ID_KINDS if k[0] == kind]) | ids_of(kind, text=True) | JSON_SCALARS


PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        # The candidate the callers are cleared for, often: most ticks then reach the grid.
        "candidate_id": st.just(Ref("candidate", "A", 0)) | _id_field("candidate"),
        "modality": st.sampled_from(["MSP", "ET", "QP", "EF", "QPro", "", "msp", "MSP "])
        | JSON_SCALARS,
        "criterion_id": _id_field("criterion"),
        "observed": st.booleans() | JSON_SCALARS,
        "completed": st.booleans() | JSON_SCALARS,
        "text": UTF8_TEXT | huge_strings(9_000, 20_000) | JSON_VALUES,
        "phase_id": _id_field("phase"),
        "competency_id": _id_field("competency"),
        "transversal_id": _id_field("transversal"),
        "has_conflict": st.booleans() | JSON_SCALARS,
        "reason": UTF8_TEXT | huge_strings(1_000, 5_000) | JSON_SCALARS,
    },
)
FRESH_OPERATIONS = st.fixed_dictionaries(
    {
        "op_id": st.uuids().map(str),
        "kind": st.sampled_from(list(operations.KINDS)) | JSON_SCALARS,
        "payload": PAYLOADS,
    },
    optional={"client_time": JSON_SCALARS},
)
OUTBOX_ITEMS = st.one_of(
    FRESH_OPERATIONS,
    FRESH_OPERATIONS,
    st.builds(Replay, st.integers(0, 10**6), st.none() | PAYLOADS),
    JSON_VALUES | FRESH_OPERATIONS.map(lambda op: {**op, "op_id": "x" + op["op_id"]}),
)


def routes_of(app) -> list[tuple[str, str]]:
    """(endpoint, rule) of every POST route; the chair opening the deliberation last."""
    rules = sorted(
        (r for r in app.url_map.iter_rules() if "POST" in r.methods),
        key=lambda r: (r.endpoint == "deliberation.open_deliberation", r.endpoint, r.rule),
    )
    return [(r.endpoint, r.rule) for r in rules]


_COLLECTION_APP = make_test_app("sqlite://")
POST_ROUTES = routes_of(_COLLECTION_APP)
with _COLLECTION_APP.app_context():
    RIGHT = {endpoint: RIGHT_CALLERS[rule_of(endpoint)] for endpoint, _path in POST_ROUTES}


def route_rule(world: World, endpoint: str, path: str):
    rules = world.app.url_map.iter_rules()
    return next(r for r in rules if (r.endpoint, r.rule) == (endpoint, path))


def url_of(world: World, rule, arguments: dict, caller: str) -> str:
    values = {}
    for name in rule.arguments:
        assert name in arguments, f"{rule.rule}: give this test values for {name}"
        value = arguments[name]
        if name == "session_id" and isinstance(value, str):
            # Staff may change any session: B stays untouched only if they are not sent there.
            value = world.sessions["A" if value == "B" and caller == "staff" else value]
        values[name] = world.resolve(value)
    return rule.build(values, append_unknown=False)[1]


def pick_caller(endpoint: str, chosen: str, prefer_right: int | None) -> str:
    """Mostly someone the route is for, sometimes anyone."""
    right = RIGHT[endpoint]
    return chosen if prefer_right is None else right[prefer_right % len(right)]


def post_and_compare(world: World, caller: str, url: str, *, app=None, **kwargs):
    """One request, with the rows before and after it. Only requests and credential
    restoring write to the database here, so the last request's "after" is the next one's
    "before" unless credentials were restored in between."""
    restore_credentials(world)
    before = world.last_snapshot or snapshot(world)
    response = world.client(caller, app=app).post(url, **kwargs)
    after = world.last_snapshot = snapshot(world, since=before.audit_last)
    return before, response, after


def is_op_id(value) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _as_id(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def assert_marks_follow_the_last_applied_ticks(world: World) -> None:
    """Each mark of the callers holds the value of the last tick applied for its key."""
    members = [world.members["juror"], world.members["chair"]]
    with world.app.app_context():
        exam = db.session.get(ExamSession, world.sessions["A"])
        modality_ids = {m.code: m.id for m in referential(exam.certification_id).modalities}
        expected = {}
        for member_id, payload, result in db.session.execute(
            select(
                AppliedOperation.jury_member_id, AppliedOperation.payload, AppliedOperation.result
            )
            .where(
                AppliedOperation.jury_member_id.in_(members),
                AppliedOperation.kind == "mark",
                AppliedOperation.status == "applied",
            )
            .order_by(AppliedOperation.id)
        ):
            key = (
                member_id,
                _as_id(payload.get("candidate_id")),
                result["criterion_id"],
                modality_ids[result["modality"]],
            )
            expected[key] = result["observed"]
        marks = {
            (m.jury_member_id, m.candidate_id, m.criterion_id, m.modality_id): m.observed
            for m in db.session.execute(
                select(Mark).where(Mark.jury_member_id.in_(members))
            ).scalars()
        }
        db.session.remove()
    assert marks == expected
