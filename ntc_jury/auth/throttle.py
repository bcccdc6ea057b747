"""Sign-in failure counters kept in the database, so a restart or a second process sees them.

After a few failures a key must wait (doubling delay); after more it is blocked for a while.
Addresses get looser limits than links and accounts, and are only ever slowed down, never
blocked: a whole exam room shares one address, and a stranger's failures must not lock the
jury out (a link or an account is blocked on its own counter).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from ..extensions import db, on_conflict_insert
from ..models import SignInThrottle, utcnow

ADDRESS_FACTOR = 5
MAX_DELAY_SECONDS = 300
# A quiet hour forgives earlier failures.
FORGET_AFTER = dt.timedelta(hours=1)


def _limits(key: str) -> tuple[int, int]:
    factor = ADDRESS_FACTOR if key.startswith("ip:") else 1
    config = current_app.config
    return (
        int(config["SIGN_IN_SLOWDOWN_AFTER"]) * factor,
        int(config["SIGN_IN_BLOCK_AFTER"]) * factor,
    )


@dataclass(frozen=True)
class Wait:
    """How long before another attempt (0: go ahead); `blocked` when a block holds it, not
    the short growing delay between attempts: the person is then told more than a number."""

    seconds: int = 0
    blocked: bool = False


def wait_before_retry(keys: list[str]) -> Wait:
    """The wait before another attempt is allowed for these keys."""
    now = utcnow()
    rows = db.session.execute(select(SignInThrottle).where(SignInThrottle.key.in_(keys))).scalars()
    wait = 0.0
    blocked = False
    for row in rows:
        if now - row.last_failure_at > FORGET_AFTER and row.blocked_until is None:
            continue
        if row.blocked_until is not None and row.blocked_until > now:
            wait = max(wait, (row.blocked_until - now).total_seconds())
            blocked = True
            continue
        slowdown_after, _ = _limits(row.key)
        if row.failures >= slowdown_after:
            delay = min(2 ** (row.failures - slowdown_after), MAX_DELAY_SECONDS)
            allowed_at = row.last_failure_at + dt.timedelta(seconds=delay)
            wait = max(wait, (allowed_at - now).total_seconds())
    return Wait(math.ceil(wait), blocked) if wait > 0 else Wait()


def record_failure(keys: list[str]) -> None:
    """Count one failure for each key; flushes."""
    now = utcnow()
    insert = on_conflict_insert(db.session.get_bind().dialect.name)
    for key in keys:
        db.session.execute(
            insert(SignInThrottle)
            .values(key=key, failures=0, first_failure_at=now, last_failure_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        row = db.session.get(SignInThrottle, key, populate_existing=True)
        if now - row.last_failure_at > FORGET_AFTER and (
            row.blocked_until is None or row.blocked_until <= now
        ):
            row.failures, row.first_failure_at, row.blocked_until = 0, now, None
        db.session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == key)
            .values(failures=SignInThrottle.failures + 1, last_failure_at=now)
        )
        db.session.refresh(row)
        _, block_after = _limits(key)
        if row.failures >= block_after and not key.startswith("ip:"):
            minutes = int(current_app.config["SIGN_IN_BLOCK_MINUTES"])
            row.blocked_until = now + dt.timedelta(minutes=minutes)
    db.session.flush()


def forget(keys: list[str]) -> None:
    """A success clears the counters of the credential (not of the address)."""
    for key in keys:
        row = db.session.get(SignInThrottle, key)
        if row is not None:
            db.session.delete(row)
    db.session.flush()
