"""Every built-in protocol, in four zones across DST changes, read by five independent parsers:
all of them must see the same events at the same UTC instants as the plan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ketaplan import Plan, builtin_protocol_ids, load_protocol
from ketaplan.ics import to_ics, uid_for
from ketaplan.ics.lint import lint_ics
from tests.helpers import plan

from .parsers import Libical, Seen, with_ical, with_icalendar, with_icaljs, with_vobject

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
#: zone, and a start a few weeks before its next DST change (Phoenix has none)
ZONES = {
    "America/New_York": dt.date(2026, 2, 16),
    "Europe/Berlin": dt.date(2026, 3, 9),
    "Australia/Sydney": dt.date(2026, 3, 16),
    "America/Phoenix": dt.date(2026, 3, 2),
}


def make(protocol_id: str, zone: str) -> Plan:
    start = ZONES[zone]
    return plan(load_protocol(protocol_id), start=start, time_zone=zone,
                until=start + dt.timedelta(days=240), preferred_time=dt.time(9))  # fmt: skip


def truth(made: Plan) -> list[tuple[str, dt.datetime, dt.datetime]]:
    return sorted(
        (uid_for(made, a), a.start.astimezone(dt.UTC), a.end.astimezone(dt.UTC))
        for a in made.appointments
    )


def times(seen: list[Seen]) -> list[tuple[str, dt.datetime, dt.datetime]]:
    return [(s.uid, s.start, s.end) for s in seen]


def renamed(data: bytes, zone: str) -> bytes:
    """The same file with a TZID no parser knows, so each must use the embedded VTIMEZONE."""
    alias = b"X-ketaplan-" + zone.replace("/", "-").encode()
    return data.replace(f"TZID={zone}".encode(), b"TZID=" + alias).replace(
        f"TZID:{zone}".encode(), b"TZID:" + alias
    )


CASES = [(protocol_id, zone) for protocol_id in builtin_protocol_ids() for zone in ZONES]


@pytest.fixture(scope="module")
def calendars(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str, str], tuple[Plan, Path]]:
    folder = tmp_path_factory.mktemp("matrix")
    out = {}
    for protocol_id, zone in CASES:
        made = make(protocol_id, zone)
        for audience in ("patient", "clinic"):
            data = to_ics(made, audience=audience, now=NOW)
            for variant, content in (("iana", data), ("renamed", renamed(data, zone))):
                path = folder / f"{protocol_id}-{zone.replace('/', '-')}-{audience}-{variant}.ics"
                path.write_bytes(content)
                out[(protocol_id, zone, f"{audience}-{variant}")] = (made, path)
    return out


def test_the_matrix_spans_dst_changes() -> None:
    for protocol_id, zone in CASES:
        # Phoenix has no DST; the pain series is five weekdays in a row, which no weekend
        # change can fall inside at a weekday clinic.
        if zone == "America/Phoenix" or protocol_id == "iv-ketamine-pain":
            continue
        made = make(protocol_id, zone)
        offsets = {a.start.astimezone(load_zone(zone)).utcoffset() for a in made.appointments}
        assert len(offsets) == 2, (protocol_id, zone)


def load_zone(name: str) -> dt.tzinfo:
    return ZoneInfo(name)


@pytest.mark.parametrize(("protocol_id", "zone"), CASES)
def test_python_parsers_and_lint(
    calendars: dict[tuple[str, str, str], tuple[Plan, Path]], protocol_id: str, zone: str
) -> None:
    for variant in ("patient-iana", "patient-renamed", "clinic-iana", "clinic-renamed"):
        made, path = calendars[(protocol_id, zone, variant)]
        data = path.read_bytes()
        assert lint_ics(data) == [], variant
        expected = truth(made)
        assert times(with_icalendar(data)) == expected, ("icalendar", variant)
        assert times(with_ical(data)) == expected, ("ical", variant)
        assert times(with_vobject(data)) == expected, ("vobject", variant)


@pytest.mark.parametrize(("protocol_id", "zone"), CASES)
def test_libical(
    calendars: dict[tuple[str, str, str], tuple[Plan, Path]],
    libical_reader: Libical,
    protocol_id: str,
    zone: str,
) -> None:
    for variant in ("patient-iana", "patient-renamed", "clinic-iana", "clinic-renamed"):
        made, path = calendars[(protocol_id, zone, variant)]
        seen, errors = libical_reader.read(path.read_bytes())
        assert errors == [], (variant, errors)
        assert times(seen) == truth(made), variant


def test_icaljs(calendars: dict[tuple[str, str, str], tuple[Plan, Path]], icaljs: None) -> None:
    del icaljs
    seen = with_icaljs([path for _, path in calendars.values()])
    assert len(seen) == len(calendars)
    for (protocol_id, zone, variant), (made, path) in calendars.items():
        assert times(seen[str(path)]) == truth(made), (protocol_id, zone, variant)
