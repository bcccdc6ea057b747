"""The centre's wall clock: staff type local times, the database keeps UTC."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def utc_at(day: dt.date, time: dt.time) -> dt.datetime:
    """The UTC instant of a local wall-clock time on `day`."""
    return dt.datetime.combine(day, time, tzinfo=local_zone()).astimezone(dt.UTC)


def from_local(naive: dt.datetime) -> dt.datetime:
    """A local wall-clock datetime typed in a form, as a UTC instant."""
    return naive.replace(tzinfo=local_zone()).astimezone(dt.UTC)


def to_local(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(local_zone())


def session_days(starts_on: dt.date, ends_on: dt.date) -> list[dt.date]:
    return [starts_on + dt.timedelta(days=n) for n in range((ends_on - starts_on).days + 1)]
