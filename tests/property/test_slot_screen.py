"""The slot finder's day screen gives the answers of the one-start-at-a-time reference.

``SlotFinder.best`` turns a day's bookings into sets of start instants once per day (see
``ketaplan._screen.DayScreen``); on days whose UTC offset changes it checks one aware datetime
at a time. Both must find the same slot and, on a day without one, give the same reason.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaplan import builtin_protocols, slots
from ketaplan._screen import DayScreen
from ketaplan._types import WEEKDAYS as WEEK
from ketaplan._types import ResourceKind
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.hours import DateRange
from ketaplan.ledger import Ledger
from ketaplan.patient import Patient
from ketaplan.protocol import SessionKind
from ketaplan.rules.calendar import Blackouts, Busy, BusyTimes
from ketaplan.slots import SlotFinder, Threshold
from ketaplan.strategies import clinics, patients
from ketaplan.timing import steady_midnight

PROTOCOLS = builtin_protocols()
KINDS = [(p, kind) for p in PROTOCOLS for kind in p.session_kinds]
FIRST_DAY = dt.date(2026, 3, 2)  # a fortnight either side of the spring change in the US and EU


@st.composite
def scenes(draw: st.DrawFn) -> tuple[SlotFinder, tuple[SessionKind, dt.date], dict[str, Any]]:
    clinic = draw(clinics(holidays=False, closures=False))
    data = clinic.model_dump(mode="json")
    data["slot_minutes"] = draw(st.sampled_from([5, 15, 30]))
    data["resources"]["monitoring_staff"] = draw(st.integers(0, 2))
    data["resources"]["patients_per_staff"] = draw(st.integers(1, 2))
    hours = draw(st.none() | st.sampled_from([["10:00-14:30"], ["07:53-12:07", "13:11-17:49"]]))
    if hours is not None:
        data["resources"]["prescriber_hours"] = {day: list(hours) for day in WEEK}
    protocol, kind = draw(st.sampled_from(KINDS))
    day = FIRST_DAY + dt.timedelta(days=draw(st.integers(0, 34)))
    if draw(st.booleans()):  # a dated capacity change on the day (issue 16)
        resources = data["resources"]
        change = {
            "start": str(day - dt.timedelta(days=draw(st.integers(0, 1)))),
            "chairs": draw(st.integers(0, resources["chairs"])),
            "rooms": draw(st.integers(0, resources["rooms"])),
            "monitoring_staff": draw(st.integers(0, resources["monitoring_staff"])),
            "prescriber_absent": draw(st.booleans()),
        }
        if any(value for key, value in change.items() if key != "start"):
            data["capacity_changes"] = [change]
    clinic = Clinic.model_validate(data)
    zone = clinic.zone
    bookings = []
    for _ in range(draw(st.integers(0, 25))):
        begin = dt.datetime.combine(day, dt.time(7), tzinfo=zone) + dt.timedelta(
            minutes=draw(st.integers(0, 140).map(lambda m: 5 * m) | st.integers(0, 700))
        )
        resource: ResourceKind | None = draw(
            st.sampled_from(["chair", "room", "monitoring-staff", "monitoring-staff", None])
        )
        units = clinic.resources.chairs if resource == "chair" else clinic.resources.rooms
        bookings.append(
            Booking(
                start=begin,
                end=begin
                + dt.timedelta(
                    minutes=draw(st.integers(1, 48).map(lambda m: 5 * m) | st.integers(1, 240))
                ),
                resource=resource,
                unit=draw(st.none() | st.integers(1, units))
                if resource in {"chair", "room"}
                else None,
                patient="me"
                if resource is None
                else draw(st.sampled_from([None, None, None, "me", "other"])),
            )
        )
    patient: Patient | None = draw(st.none() | patients(max_medications=0))
    now = draw(
        st.none()
        | st.integers(-3 * 24 * 60, 24 * 60).map(
            lambda m: dt.datetime.combine(day, dt.time(9), tzinfo=zone) + dt.timedelta(minutes=m)
        )
    )
    moments = st.integers(0, 14 * 60 * 60).map(
        lambda m: dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC) + dt.timedelta(seconds=m)
    )
    finder = SlotFinder(
        clinic,
        patient,
        Ledger(clinic, bookings),
        policy=protocol.calendar,
        now=now,
        patient_key="me",
        preferred_time=draw(st.none() | st.times().map(lambda t: t.replace(microsecond=0))),
    )
    options: dict[str, Any] = {
        "not_before": draw(st.none() | moments),
        "earliest": draw(
            st.none() | moments.map(lambda m: Threshold(m, "too soon after the last dose"))
        ),
    }
    return finder, (kind, day), options


@given(scenes())
def test_the_screen_finds_what_one_start_at_a_time_finds(
    scene: tuple[SlotFinder, tuple[SessionKind, dt.date], dict[str, Any]],
) -> None:
    finder, (kind, day), options = scene
    fast = finder.best(kind, day, **options)
    with mock.patch.object(slots, "steady_midnight", return_value=None):
        slow = finder.best(kind, day, **options)
    assert fast == slow


@given(scenes())
def test_the_screen_gives_each_start_the_reason_the_full_check_gives(
    scene: tuple[SlotFinder, tuple[SessionKind, dt.date], dict[str, Any]],
) -> None:
    finder, (kind, day), options = scene
    assert_screen_agrees(finder, kind, day, **options)


def assert_screen_agrees(
    finder: SlotFinder,
    kind: SessionKind,
    day: dt.date,
    *,
    not_before: dt.datetime | None = None,
    earliest: Threshold | None = None,
) -> int:
    """Compare the screen with the full check at every candidate start; return how many."""
    tz = finder.zone_for(kind)
    midnight = steady_midnight(day.toordinal(), tz)
    ranges, reason = finder.day_ranges(kind, day)
    if midnight is None or reason or finder.rules.availability_elsewhere:
        return 0
    clocks = list(finder._starts(ranges, kind.timeline.block_minutes, None).in_order)
    screen = DayScreen(
        finder, kind, day=day, midnight=midnight, clocks=clocks or [0], not_before=not_before,
        earliest=earliest,
    )  # fmt: skip
    passing, claimed = screen.verdicts([midnight + clock * 60 for clock in clocks])
    verdict: dict[int, str | None] = {i: None for a, b in passing for i in range(a, b)}
    verdict |= {i: reason for reason, runs in claimed for a, b in runs for i in range(a, b)}
    judged = sum(b - a for a, b in passing) + sum(b - a for _, runs in claimed for a, b in runs)
    assert judged == len(verdict) == len(clocks)  # every start judged, once
    for i, clock in enumerate(clocks):
        start = dt.datetime.combine(day, dt.time(clock // 60, clock % 60), tzinfo=tz)
        expected: str | None
        if earliest is not None and start < earliest.at:
            expected = earliest.reason
        else:
            expected = finder.slot_problem(kind, start, not_before=not_before)[1]
        assert verdict[i] == expected, (start, expected)
    return len(clocks)


def boundary_clinic(minute: int) -> Clinic:
    """One chair short of two, one staff member, a prescriber from ``minute`` past 08:00."""
    prescriber = (f"08:{minute:02}-12:53", f"13:11-18:{minute:02}")
    return Clinic.model_validate(
        {
            "id": "boundaries",
            "name": "Boundaries",
            "time_zone": "Europe/Berlin",
            "opening_hours": {day: ["07:00-19:00"] for day in WEEK},
            "slot_minutes": 5,
            "resources": {
                "chairs": 2, "rooms": 1, "monitoring_staff": 1, "patients_per_staff": 1,
                "prescriber_on_site": True, "chair_buffer_minutes": 15,
                "prescriber_hours": dict.fromkeys(WEEK, prescriber),
            },
        }
    )  # fmt: skip


@pytest.mark.parametrize("resource", ["chair", "room", "monitoring-staff", None])
def test_the_screen_agrees_at_every_minute_around_a_booking(resource: ResourceKind | None) -> None:
    day = dt.date(2026, 6, 10)
    compared = 0
    for minute in range(60):
        clinic = boundary_clinic(minute)
        tz = clinic.zone
        begin = dt.datetime.combine(day, dt.time(10), tzinfo=tz) + dt.timedelta(minutes=minute)
        bookings = [
            Booking(start=begin, end=begin + dt.timedelta(minutes=47 + minute), resource=resource,
                    unit=1 if resource else None, patient=None if resource else "me")
            for _ in range(2 if resource == "chair" else 1)
        ]  # fmt: skip
        if resource == "chair":  # both chairs, one of them from a minute later
            bookings[1] = bookings[1].model_copy(
                update={"unit": 2, "start": begin + dt.timedelta(minutes=1)}
            )
        ledger = Ledger(clinic, bookings)
        for protocol, kind in KINDS:
            finder = SlotFinder(clinic, None, ledger, policy=protocol.calendar, patient_key="me")
            compared += assert_screen_agrees(finder, kind, day)
    assert compared > 10_000


def test_a_day_whose_offset_changes_has_no_steady_midnight() -> None:
    ny = ZoneInfo("America/New_York")
    assert steady_midnight(dt.date(2026, 3, 8).toordinal(), ny) is None
    midnight = steady_midnight(dt.date(2026, 3, 9).toordinal(), ny)
    assert midnight == dt.datetime(2026, 3, 9, tzinfo=ny).timestamp()


_ZONES = [ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("UTC")]


@st.composite
def _commitments(draw: st.DrawFn) -> list[Busy]:
    """Commitments over a fortnight across DST changes: short, long, touching, in any order,
    some a fraction of a second off the minute."""
    first = dt.datetime(2026, 10, 28, tzinfo=dt.UTC)
    found = []
    for n in range(draw(st.integers(0, 40))):
        start = first + dt.timedelta(
            minutes=draw(st.integers(0, 14 * 24 * 60)),
            microseconds=draw(st.sampled_from([0, 1, 500_000, 999_999])),
        )
        length = draw(st.sampled_from([1, 15, 60, 24 * 60, 2 * 24 * 60, 2 * 24 * 60 + 1, 9000]))
        zone = draw(st.sampled_from(_ZONES))
        found.append(
            Busy(
                start.astimezone(zone),
                (start + dt.timedelta(minutes=length)).astimezone(zone),
                f"b{n}",
            )
        )
    return found


@given(
    busy=_commitments(),
    offset=st.integers(-2 * 24 * 60, 16 * 24 * 60),
    minutes=st.integers(0, 3 * 24 * 60),
)
def test_busy_times_near_a_span_are_those_a_scan_meets_in_the_same_order(
    busy: list[Busy], offset: int, minutes: int
) -> None:
    """``BusyTimes.near`` never leaves out a commitment that meets the span, and keeps order.

    The slot finder and the day screen read only these (a patient may bring thousands); the
    first commitment that overlaps a start must be the one a scan of them all meets first.
    """
    first = dt.datetime(2026, 10, 28, tzinfo=dt.UTC) + dt.timedelta(minutes=offset, microseconds=1)
    last = first + dt.timedelta(minutes=minutes)

    def meets(b: Busy) -> bool:
        return b.start <= last and first <= b.end

    near = BusyTimes(busy).near(first.timestamp(), last.timestamp())
    assert [b for b in near if meets(b)] == [b for b in busy if meets(b)]
    assert all(busy.index(b) < busy.index(c) for b, c in itertools.pairwise(near))


@st.composite
def _blackouts(draw: st.DrawFn) -> list[DateRange]:
    """Blackouts near one another: single days, weeks, years, overlapping, in any order."""
    first = dt.date(2027, 1, 1)
    found = []
    for n in range(draw(st.integers(0, 30))):
        start = first + dt.timedelta(days=draw(st.integers(0, 400)))
        length = draw(st.sampled_from([0, 1, 6, 30, 365, 3 * 366]))
        found.append(DateRange(start=start, end=start + dt.timedelta(days=length), reason=f"r{n}"))
    return found


@given(ranges=_blackouts(), offset=st.integers(-10, 1600))
def test_the_blackout_covering_a_day_is_the_first_given_that_covers_it(
    ranges: list[DateRange], offset: int
) -> None:
    """``Blackouts.covering`` finds what a scan of them all finds first (the reason given)."""
    day = dt.date(2027, 1, 1) + dt.timedelta(days=offset)
    expected = next((r for r in ranges if day in r), None)
    found = Blackouts(ranges).covering(day)
    assert found is expected
