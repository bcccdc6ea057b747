"""Failed sign-ins slow down, then block, per link or account and (more loosely) per address.

The counters live in the sign_in_throttle table, so a restarted app or a second process sees
them. Time is moved with a fake `utcnow` in ntc_jury.auth.throttle; nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from sqlalchemy import select

from ntc_jury.auth import throttle
from ntc_jury.extensions import db as _db
from ntc_jury.models import AuditEvent, SignInThrottle, utcnow
from tests.conftest import make_test_app
from tests.factories import issue_access, make_session, make_staff, sign_in_juror, sign_in_staff
from tests.jury.markup import parse

from . import fresh_client, page_text

TOO_MANY = "Trop de tentatives"
ADDRESS = "127.0.0.1"  # the test client's address


class Clock:
    """Stands in for `utcnow` in ntc_jury.auth.throttle."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def move(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(utcnow())
    monkeypatch.setattr(throttle, "utcnow", clock)
    return clock


@pytest.fixture
def client(app, db):
    return fresh_client(app)


@pytest.fixture
def limits(app) -> dict[str, int]:
    config = app.config
    return {
        "slowdown": int(config["SIGN_IN_SLOWDOWN_AFTER"]),
        "block": int(config["SIGN_IN_BLOCK_AFTER"]),
        "block_minutes": int(config["SIGN_IN_BLOCK_MINUTES"]),
    }


def wrong_pin(issued) -> str:
    return f"{(int(issued.pin) + 1) % 1_000_000:06d}"


def counter(db, key: str) -> SignInThrottle | None:
    db.session.expire_all()
    return db.session.get(SignInThrottle, key)


def failures(db, key: str) -> int:
    row = counter(db, key)
    return row.failures if row else 0


def retry_after_seconds(response) -> int:
    """The wait announced in the French message ("Réessayez dans N secondes", or N minutes
    once it is two minutes or more, rounded up)."""
    found = re.search(r"Réessayez dans (\d+) (seconde|minute)s?\.", page_text(response))
    return int(found.group(1)) * (60 if found.group(2) == "minute" else 1)


def assert_too_many(response) -> None:
    assert response.status_code == 429
    assert TOO_MANY in page_text(response)


def fail_pin(client, issued, clock) -> None:
    """One counted wrong PIN, waiting out any slowdown first (as a patient attacker would)."""
    response = client.post(f"/j/{issued.token}", data={"pin": wrong_pin(issued)})
    if response.status_code == 429:
        clock.move(seconds=retry_after_seconds(response))
        response = client.post(f"/j/{issued.token}", data={"pin": wrong_pin(issued)})
    assert response.status_code == 401


@pytest.fixture
def exam(db, ntc):
    return make_session(ntc, jurors=2)


# --------------------------------------------------------------------------- jurors' links


def test_after_a_few_wrong_pins_even_the_right_pin_must_wait(client, db, exam, clock, limits):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    for _ in range(limits["slowdown"]):
        response = client.post(f"/j/{issued.token}", data={"pin": wrong_pin(issued)})
        assert response.status_code == 401

    refused = sign_in_juror(client, issued)

    assert_too_many(refused)
    assert failures(db, f"link:{issued.member.id}") == limits["slowdown"]  # a refusal is no try
    wait = retry_after_seconds(refused)
    assert wait >= 1
    clock.move(seconds=wait - 0.5)
    assert_too_many(sign_in_juror(client, issued))

    clock.move(seconds=0.5)
    response = sign_in_juror(client, issued)

    assert response.status_code == 302
    assert response.headers["Location"] == "/jury/"
    assert client.get("/jury/").status_code == 200


def test_the_delay_grows_with_each_failure(client, db, exam, clock, limits):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    waits = []
    for _ in range(4):
        for _ in range(limits["slowdown"] if not waits else 1):
            fail_pin(client, issued, clock)
        waits.append(retry_after_seconds(sign_in_juror(client, issued)))

    assert waits == sorted(waits) and waits[-1] > waits[0]


def test_after_more_failures_the_link_is_blocked_for_a_while(client, db, exam, clock, limits):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    for _ in range(limits["block"]):
        fail_pin(client, issued, clock)
    blocked_at = clock.now

    row = counter(db, f"link:{issued.member.id}")
    assert row.failures == limits["block"]
    assert row.blocked_until == blocked_at + dt.timedelta(minutes=limits["block_minutes"])
    refused = sign_in_juror(client, issued)
    assert_too_many(refused)
    assert retry_after_seconds(refused) == limits["block_minutes"] * 60

    clock.move(minutes=limits["block_minutes"], seconds=-1)
    assert_too_many(sign_in_juror(client, issued))

    clock.move(seconds=1)
    assert sign_in_juror(client, issued).status_code == 302
    assert counter(db, f"link:{issued.member.id}") is None  # success clears the link


def blocked_message(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return (
        "Trop de tentatives de connexion avec ce lien : par sécurité, il est bloqué. "
        f"Réessayez dans {minutes} {unit}. "
        "Le centre d'examen peut aussi vous remettre un nouveau lien."
    )


def block(client, issued, clock, limits) -> dt.datetime:
    """Enough wrong PINs to block the link; when the block ends."""
    for _ in range(limits["block"]):
        fail_pin(client, issued, clock)
    return clock.now + dt.timedelta(minutes=limits["block_minutes"])


def test_a_blocked_link_says_so_how_long_and_that_the_centre_can_help(
    client, db, exam, clock, limits
):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    block(client, issued, clock, limits)

    refused = client.post(f"/j/{issued.token}", data={"pin": issued.pin})

    assert refused.status_code == 429
    page = parse(page_text(refused))
    [alert] = page.select("div", cls="flash-error", role="alert")
    assert alert.text() == blocked_message(limits["block_minutes"])
    # The same form, as it was: the greeting, the PIN typed; the PIN is not what is wrong.
    form = page.by_id("pin-form")
    assert issued.member.full_name in page.select("h1")[0].text()
    [pin] = form.select("input", name="pin")
    assert pin.attrs.get("value") == issued.pin and "aria-invalid" not in pin.attrs
    assert page.by_id("pin-error") is None


@pytest.mark.parametrize(("left", "said"), [(61, 2), (60, 1), (1, 1)])
def test_a_blocks_wait_is_said_in_minutes_rounded_up(client, db, exam, clock, limits, left, said):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    ends = block(client, issued, clock, limits)
    clock.now = ends - dt.timedelta(seconds=left)

    refused = sign_in_juror(client, issued)

    assert refused.status_code == 429
    assert blocked_message(said) in page_text(refused)


def test_a_new_link_from_the_centre_opens_a_blocked_jurors_session_at_once(
    client, db, exam, clock, limits
):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    block(client, issued, clock, limits)

    fresh = issue_access(issued.member)
    db.session.commit()

    assert counter(db, f"link:{issued.member.id}") is None
    assert sign_in_juror(client, fresh).headers["Location"] == "/jury/"


def test_counters_survive_a_restart_and_are_shared_by_processes(
    app, client, db, exam, clock, limits, database_url
):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    for _ in range(limits["slowdown"] - 1):
        fail_pin(client, issued, clock)
    db.session.commit()  # end this test's transaction: the other app must be able to write

    other = make_test_app(database_url)
    try:
        with other.app_context():
            # The other process counts one more failure, reaching the slowdown…
            other_client = other.test_client()
            response = other_client.post(f"/j/{issued.token}", data={"pin": wrong_pin(issued)})
            assert response.status_code == 401
        # …which this process sees at once.
        assert_too_many(sign_in_juror(client, issued))
        db.session.commit()
        with other.app_context():
            # And a fresh app on the same database (a restart) refuses the right PIN too.
            assert_too_many(sign_in_juror(other.test_client(), issued))
    finally:
        with other.app_context():
            _db.engine.dispose()
    assert failures(db, f"link:{issued.member.id}") == limits["slowdown"]


def test_one_jurors_failures_do_not_block_another_on_the_same_address(
    app, client, db, exam, clock, limits
):
    careless, colleague = (issue_access(m) for m in exam.jury_members)
    db.session.commit()
    for _ in range(limits["block"]):
        fail_pin(client, careless, clock)
    assert_too_many(sign_in_juror(client, careless))

    response = sign_in_juror(fresh_client(app), colleague)

    assert response.status_code == 302
    assert failures(db, f"ip:{ADDRESS}") == limits["block"]
    assert failures(db, f"link:{careless.member.id}") == limits["block"]
    assert counter(db, f"link:{careless.member.id}").blocked_until is not None
    assert counter(db, f"ip:{ADDRESS}").blocked_until is None


def test_an_address_with_many_failures_is_slowed_down_too(app, db, ntc, clock, limits):
    """Spread over many links, failures from one address add up (with looser limits)."""
    address_slowdown = limits["slowdown"] * throttle.ADDRESS_FACTOR
    guessers = math.ceil(address_slowdown / limits["slowdown"])
    exam = make_session(ntc, jurors=guessers + 1)
    *tried, victim = (issue_access(m) for m in exam.jury_members)
    db.session.commit()
    attacker = fresh_client(app)
    attacker.environ_base["REMOTE_ADDR"] = "10.0.0.66"
    done = 0
    for issued in tried:
        for _ in range(limits["slowdown"]):
            if done < address_slowdown:
                fail_pin(attacker, issued, clock)
                done += 1
    assert failures(db, "ip:10.0.0.66") == address_slowdown

    same_address = fresh_client(app)
    same_address.environ_base["REMOTE_ADDR"] = "10.0.0.66"
    elsewhere = fresh_client(app)
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.99"

    assert_too_many(sign_in_juror(same_address, victim))
    assert sign_in_juror(elsewhere, victim).status_code == 302


def test_success_resets_the_links_counter_but_not_the_addresss(client, db, exam, clock, limits):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    for _ in range(limits["slowdown"] - 1):
        fail_pin(client, issued, clock)

    assert sign_in_juror(client, issued).status_code == 302

    assert counter(db, f"link:{issued.member.id}") is None
    assert failures(db, f"ip:{ADDRESS}") == limits["slowdown"] - 1
    # The next failure starts again from one for the link.
    client.post("/deconnexion")
    fail_pin(client, issued, clock)
    assert failures(db, f"link:{issued.member.id}") == 1
    assert failures(db, f"ip:{ADDRESS}") == limits["slowdown"]


def test_a_quiet_hour_forgives_earlier_failures(client, db, exam, clock, limits):
    issued = issue_access(exam.jury_members[1])
    db.session.commit()
    for _ in range(limits["slowdown"]):
        fail_pin(client, issued, clock)
    assert_too_many(sign_in_juror(client, issued))

    clock.move(hours=1, seconds=1)
    fail_pin(client, issued, clock)

    assert failures(db, f"link:{issued.member.id}") == 1


# --------------------------------------------------------------------------- staff accounts


def fail_password(client, email: str, clock) -> None:
    data = {"email": email, "password": "pas le bon mot de passe"}
    response = client.post("/connexion", data=data)
    if response.status_code == 429:
        clock.move(seconds=retry_after_seconds(response))
        response = client.post("/connexion", data=data)
    assert response.status_code == 401


def test_staff_wrong_passwords_slow_down_then_the_right_one_works(client, db, clock, limits):
    user = make_staff()
    db.session.commit()
    for _ in range(limits["slowdown"]):
        fail_password(client, user.email, clock)

    refused = sign_in_staff(client, user)

    assert_too_many(refused)
    assert client.get("/centre/").status_code == 302
    assert failures(db, f"account:{user.email}") == limits["slowdown"]
    failed = db.session.execute(
        select(AuditEvent.id).where(AuditEvent.action == "sign_in_failed")
    ).all()
    assert len(failed) == limits["slowdown"]  # the refused attempt is not a failure

    clock.move(seconds=retry_after_seconds(refused))
    assert sign_in_staff(client, user).headers["Location"] == "/centre/"
    assert counter(db, f"account:{user.email}") is None
    assert failures(db, f"ip:{ADDRESS}") == limits["slowdown"]


def test_a_staff_account_is_blocked_after_many_failures(client, db, clock, limits):
    user = make_staff()
    db.session.commit()
    for _ in range(limits["block"]):
        fail_password(client, user.email.upper(), clock)  # the same account, however typed

    row = counter(db, f"account:{user.email}")
    assert row.failures == limits["block"]
    assert row.blocked_until == clock.now + dt.timedelta(minutes=limits["block_minutes"])
    assert_too_many(sign_in_staff(client, user))

    clock.move(minutes=limits["block_minutes"])
    assert sign_in_staff(client, user).status_code == 302


def test_a_blocked_staff_account_does_not_block_a_colleague(app, client, db, clock, limits):
    user, colleague = make_staff(), make_staff()
    db.session.commit()
    for _ in range(limits["block"]):
        fail_password(client, user.email, clock)

    assert sign_in_staff(fresh_client(app), colleague).status_code == 302
    assert_too_many(sign_in_staff(fresh_client(app), user))


def test_unknown_emails_are_counted_like_real_accounts(client, db, clock, limits):
    for _ in range(limits["slowdown"]):
        fail_password(client, "personne@example.org", clock)

    response = client.post(
        "/connexion", data={"email": "personne@example.org", "password": "peu importe"}
    )

    assert_too_many(response)
    assert failures(db, "account:personne@example.org") == limits["slowdown"]


def test_a_long_wait_is_said_in_minutes(app):
    from ntc_jury.auth.operations import _wait_message

    with app.test_request_context():
        assert _wait_message(1) == "Trop de tentatives. Réessayez dans 1 seconde."
        assert _wait_message(119) == "Trop de tentatives. Réessayez dans 119 secondes."
        assert _wait_message(900) == "Trop de tentatives. Réessayez dans 15 minutes."
        assert _wait_message(527) == "Trop de tentatives. Réessayez dans 9 minutes."


# --------------------------------------------------------------------------- addresses


def test_an_address_is_slowed_down_but_never_blocked(app, db, clock, limits):
    """Many jurors share an exam room's address (or a proxy's): a stranger's failures from it
    must not lock the jury out, only make each new attempt wait."""
    staff = make_staff()
    db.session.commit()
    attacker = fresh_client(app)
    for _ in range(limits["block"] * throttle.ADDRESS_FACTOR + 5):
        response = attacker.post("/connexion", data={"email": "x@example.org", "password": "?"})
        if response.status_code == 429:
            clock.move(seconds=retry_after_seconds(response))

    assert counter(db, f"ip:{ADDRESS}").blocked_until is None
    wait = throttle.wait_before_retry([f"ip:{ADDRESS}"])
    assert wait.seconds <= throttle.MAX_DELAY_SECONDS and not wait.blocked
    clock.move(seconds=throttle.MAX_DELAY_SECONDS)
    assert sign_in_staff(fresh_client(app), staff).status_code == 302


@pytest.mark.parametrize("hops, counted", [(0, ADDRESS), (1, "203.0.113.9")])
def test_the_address_behind_a_proxy_is_the_forwarded_one_only_when_told(
    db, database_url, clock, hops, counted
):
    """Behind nginx every visitor comes from 127.0.0.1: NTC_PROXY_HOPS=1 makes the sign-in
    limits and the audit log see the visitor's address; by default the header, which any
    client can write, is ignored."""
    proxied = make_test_app(database_url, PROXY_HOPS=hops)
    with proxied.app_context():
        try:
            response = proxied.test_client().post(
                "/connexion",
                data={"email": "x@example.org", "password": "?"},
                headers={"X-Forwarded-For": "203.0.113.9"},
            )
            assert response.status_code == 401
        finally:
            _db.session.remove()
            _db.engine.dispose()
    assert failures(db, f"ip:{counted}") == 1
    [event] = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "sign_in_failed")
    ).scalars()
    assert event.ip == counted
