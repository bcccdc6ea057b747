"""The iCalendar writer: valid RFC 5545 that a reader parses back."""

from __future__ import annotations

import datetime as dt

import pytest

from ntc_jury.centre.ics import Event, calendar, escape_text, fold

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def unfold(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # every line ends with CRLF, nothing else
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append("\n" if following in "nN" else following)
        else:
            out.append(char)
    return "".join(out)


def parse_calendar(data: bytes) -> list[dict[str, str]]:
    """A strict little reader: every line ≤ 75 octets, events as {property: value}."""
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
    lines = unfold(data)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events, current = [], None
    for line in lines:
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
                assert required in current, required
            events.append(current)
            current = None
        elif current is not None:
            current[name] = (
                unescape(value) if name in ("SUMMARY", "LOCATION", "DESCRIPTION") else value
            )
    return events


def test_round_trip():
    summary = "Oral de LEFÈVRE Zoé, salle; bâtiment \\ B"
    description = "09:00–09:15 Présentation\n09:15–09:30 Échange " + "é" * 80
    data = calendar(
        [
            Event(
                uid="s1-slot7@example.org",
                starts_at=dt.datetime(
                    2026, 3, 10, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))
                ),
                ends_at=dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC),
                summary=summary,
                location="Salle 12, Lyon",
                description=description,
            )
        ],
        name="Jury, NTC",
        now=NOW,
    )
    (event,) = parse_calendar(data)
    assert event["DTSTART"] == "20260310T120000Z"
    assert event["DTEND"] == "20260310T123000Z"
    assert event["DTSTAMP"] == "20260301T090000Z"
    assert event["SUMMARY"] == summary
    assert event["DESCRIPTION"] == description
    assert event["LOCATION"] == "Salle 12, Lyon"
    assert b"X-WR-CALNAME:Jury\\, NTC\r\n" in data


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\nb"),
    ],
)
def test_escape_text(raw, escaped):
    assert escape_text(raw) == escaped


def test_fold_never_splits_a_character():
    line = "DESCRIPTION:" + "€" * 100  # 3 octets each
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(pieces)) == line
    assert fold("SUMMARY:court") == "SUMMARY:court"


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        calendar(
            [Event("u", dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 1, 1), "x")],
            name="n",
            now=NOW,
        )
