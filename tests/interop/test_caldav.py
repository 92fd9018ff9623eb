"""A real CalDAV round trip: Radicale on loopback, driven by the caldav client.

Store a patient calendar (one resource per appointment, no METHOD), read it back, update it
after a re-plan (same UIDs, still one resource each), cancel a session (the cancellation
persists), and find events by a time-range query across a DST change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from caldav.davclient import DAVClient

from ketaplan import Plan, load_protocol
from ketaplan.ics import to_ics, uid_for
from ketaplan.replanning import Cancelled, Moved, replan
from tests.helpers import plan

#: caldav's objects, untyped here
DavCalendar = Any

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
START_TIMEOUT = 30


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("radicale")
    port = free_port()
    log = (folder / "radicale.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--config",
            "",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--auth-type",
            "none",
            "--rights-type",
            "owner_only",
            "--storage-filesystem-folder",
            str(folder / "collections"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # any HTTP answer means the server is up
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Radicale did not start: {(folder / 'radicale.log').read_text()}")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def calendar(server: str, request: pytest.FixtureRequest) -> DavCalendar:
    client = DAVClient(
        url=server,
        username="tester",
        password="x",  # noqa: S106 - Radicale runs with --auth-type none
        require_tls=False,
        enable_rfc6764=False,
    )
    name = request.node.name.replace("[", "-").replace("]", "")[:40]
    principal = client.principal()  # type: ignore[no-untyped-call]
    made: DavCalendar = principal.make_calendar(name=name, cal_id=name)
    return made


def make() -> Plan:
    return plan(
        load_protocol("iv-ketamine-standard"),
        start=dt.date(2026, 2, 23),
        time_zone="America/New_York",
        preferred_time=dt.time(9),
        until=dt.date(2026, 5, 1),
    )


def store(calendar: DavCalendar, made: Plan) -> None:
    """Each appointment as its own CalDAV resource, as RFC 4791 asks (no METHOD)."""
    for appointment in made.appointments:
        data = to_ics(made, appointments=[appointment.id], now=NOW)
        assert b"METHOD:" not in data
        # increase_seqno=False: the SEQUENCE is ours (the revision); the client must not change it
        calendar.save_event(data.decode(), increase_seqno=False)


def stored(calendar: DavCalendar) -> dict[str, icalendar.Event]:
    found: dict[str, icalendar.Event] = {}
    for resource in calendar.events():
        events = icalendar.Calendar.from_ical(resource.data).events
        assert len(events) == 1, "one appointment per resource"
        found[str(events[0]["UID"])] = events[0]
    return found


def test_store_read_update_cancel(calendar: DavCalendar) -> None:
    made = make()
    store(calendar, made)
    first = stored(calendar)
    assert set(first) == {uid_for(made, a) for a in made.appointments}
    for appointment in made.appointments:
        event = first[uid_for(made, appointment)]
        assert event.start == appointment.start
        assert isinstance(event.start, dt.datetime)
        assert event.start.tzinfo is not None
    # Move a session: the re-plan keeps ids, so the same UIDs update the same resources.
    moved_at = made.appointment("induction-4").start + dt.timedelta(days=1)
    updated = replan(
        made,
        as_of=dt.datetime(2026, 2, 24, tzinfo=NY),
        events=[Moved(appointment="induction-4", to=moved_at)],
    )
    store(calendar, updated)
    second = stored(calendar)
    assert set(second) == set(first), "no duplicates after an update"
    event = second[uid_for(updated, updated.appointment("induction-4"))]
    assert event.start == moved_at
    assert event["SEQUENCE"] == updated.appointment("induction-4").revision >= 1
    # Cancel one: STATUS:CANCELLED persists on the server.
    cancelled = replan(
        updated,
        as_of=dt.datetime(2026, 2, 24, tzinfo=NY),
        events=[Cancelled(appointment="induction-5")],
    )
    store(calendar, cancelled)
    third = stored(calendar)
    assert set(third) == set(first)
    assert str(third[uid_for(cancelled, cancelled.appointment("induction-5"))]["STATUS"]) == (
        "CANCELLED"
    )


def test_time_range_query_across_dst(calendar: DavCalendar) -> None:
    made = make()
    store(calendar, made)
    # New York springs forward on Sunday 8 March 2026.
    begin = dt.datetime(2026, 3, 5, 12, tzinfo=NY)
    end = dt.datetime(2026, 3, 12, 12, tzinfo=NY)
    hits = calendar.search(start=begin, end=end, event=True, expand=False)
    found = {str(icalendar.Calendar.from_ical(hit.data).walk("VEVENT")[0]["UID"]) for hit in hits}
    expected = {uid_for(made, a) for a in made.appointments if begin < a.end and a.start < end}
    assert found == expected
    assert len(expected) >= 2
    offsets = {made.appointments[0].start.astimezone(NY).utcoffset()}
    offsets |= {a.start.astimezone(NY).utcoffset() for a in made.appointments if a.start > end}
    assert len(offsets) == 2, "the query window spans the change"
