"""Moments moved and compared the fast way give what the slow way gives.

``shift`` and ``shifts`` give what moving the UTC instant and reading it back gives: on a run
of days with one UTC offset they move the wall clock instead (see ``ketaplan.timing._steady``),
for the same wall time, the same ``tzinfo`` object and ``fold`` 0, on days whose offset
changes, around them and on steady days alike. ``same_instant`` is ``instant`` equality.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

import pytest
from dateutil import tz as tzutil
from hypothesis import given
from hypothesis import strategies as st

from ketaplan import load_protocol, plan
from ketaplan.checking import check
from ketaplan.defaults import demo_clinic
from ketaplan.timing import instant, same_instant, shift, shifts, steady_midnight, zone

UTC = dt.UTC

#: Zones with changes of an hour, of half an hour (Lord Howe), at midnight (Havana, Santiago),
#: several a year (Casablanca), and none; Apia skipped a whole day (30 December 2011).
ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Havana",
    "America/Santiago",
    "Africa/Casablanca",
    "Asia/Kolkata",
    "UTC",
]
#: Moves of a session's checkpoints, of fasting before it, and across a day or two.
MINUTES = [0, 1, 40, 90, 150, -45, -360, -720, 1440, -1440, 2880, 3000, -3000]


def on_the_instant(moment: dt.datetime, minutes: float) -> dt.datetime:
    """The reference: ``moment`` moved on its UTC instant, read back in its zone."""
    return (moment.astimezone(UTC) + dt.timedelta(minutes=minutes)).astimezone(moment.tzinfo)


def assert_same(found: Sequence[dt.datetime], expected: Sequence[dt.datetime]) -> None:
    assert len(found) == len(expected)
    for got, want in zip(found, expected, strict=True):
        assert got.replace(tzinfo=None) == want.replace(tzinfo=None), (got, want)
        assert got.tzinfo is want.tzinfo
        assert got.fold == want.fold
        assert got == want


def assert_moves_agree(moment: dt.datetime, minutes: Sequence[int]) -> None:
    assert_same(shifts(moment, minutes), [on_the_instant(moment, m) for m in minutes])
    for m in minutes:
        assert_same([shift(moment, minutes=m)], [on_the_instant(moment, m)])
        assert_same([shift(moment, hours=m / 60)], [on_the_instant(moment, m)])


def changes(tz: zoneinfo.ZoneInfo, year: int) -> list[dt.date]:
    """The days of ``year`` whose UTC offset changes in ``tz``."""
    first = dt.date(year, 1, 1).toordinal()
    return [
        dt.date.fromordinal(day)
        for day in range(first, dt.date(year + 1, 1, 1).toordinal())
        if steady_midnight(day, tz) is None
    ]


@pytest.mark.parametrize(
    ("name", "year"), [(name, 2026) for name in ZONES] + [("Pacific/Apia", 2011)]
)
def test_moves_agree_every_quarter_hour_around_each_change(name: str, year: int) -> None:
    tz = zone(name)
    days = changes(tz, year)
    assert days or name in {"Asia/Kolkata", "UTC"}
    for day in days or [dt.date(year, 6, 1)]:
        begin = dt.datetime.combine(day - dt.timedelta(days=2), dt.time(), tzinfo=tz)
        for quarter in range(5 * 24 * 4):
            moment = begin + dt.timedelta(minutes=15 * quarter)
            for fold in (0, 1):
                assert_moves_agree(moment.replace(fold=fold), MINUTES)


def test_a_move_across_a_change_is_made_on_the_instant() -> None:
    ny = zone("America/New_York")
    evening = dt.datetime(2026, 3, 7, 20, tzinfo=ny)
    assert shift(evening, hours=12).isoformat() == "2026-03-08T09:00:00-04:00"
    assert [t.isoformat() for t in shifts(evening, [0, 12 * 60])] == [
        "2026-03-07T20:00:00-05:00",
        "2026-03-08T09:00:00-04:00",
    ]


class _NoonHour(dt.tzinfo):
    """A made-up zone an hour ahead from 12:00 to 18:00 each day: two changes in one day."""

    def utcoffset(self, moment: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=1 if moment is not None and 12 <= moment.hour < 18 else 0)

    def dst(self, moment: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)

    def tzname(self, moment: dt.datetime | None) -> str:
        return "NOON"


@pytest.mark.parametrize(
    "tz", [tzutil.tzutc(), tzutil.tzoffset("X", -18000), tzutil.gettz("Europe/Berlin"), _NoonHour()]
)
def test_another_kind_of_tzinfo_is_moved_on_the_instant(tz: dt.tzinfo) -> None:
    """dateutil's zones (what arrow and some pandas give) are not hashable, and a tzinfo of
    one's own may change offset twice a day: their moments are moved on the instant."""
    moment = dt.datetime(2026, 7, 1, 10, tzinfo=tz)
    assert_same([shift(moment, hours=3)], [on_the_instant(moment, 180)])
    assert_same(shifts(moment, [0, 180]), [on_the_instant(moment, m) for m in (0, 180)])


def test_a_plan_made_and_checked_with_a_dateutil_now() -> None:
    """``now`` from dateutil (tzutc) is a moment like any other: no unhashable-type error."""
    protocol = load_protocol("esketamine-trd")
    now = dt.datetime(2026, 11, 21, 9, tzinfo=tzutil.tzutc())
    start, until = dt.date(2026, 12, 1), dt.date(2027, 2, 1)
    made = plan(protocol, start=start, clinic=demo_clinic(), now=now, until=until)
    utc = now.replace(tzinfo=UTC)
    same = plan(protocol, start=start, clinic=demo_clinic(), now=utc, until=until)
    assert [a.start for a in made.appointments] == [a.start for a in same.appointments]
    assert check(made, protocol=protocol, clinic=demo_clinic(), now=now) == []


@given(
    name=st.sampled_from(sorted(zoneinfo.available_timezones() - {"localtime"})),
    when=st.datetimes(dt.datetime(1900, 1, 2), dt.datetime(2200, 12, 30)),
    fold=st.integers(0, 1),
    minutes=st.lists(st.integers(-4 * 1440, 4 * 1440), max_size=8),
)
def test_moves_agree_in_any_zone(
    name: str, when: dt.datetime, fold: int, minutes: list[int]
) -> None:
    assert_moves_agree(when.replace(tzinfo=zone(name), fold=fold), minutes)


@given(
    when=st.datetimes(dt.datetime(2026, 3, 1), dt.datetime(2026, 11, 30)),
    hours=st.floats(-48, 48, allow_nan=False).map(lambda h: round(h, 2)),
    minutes=st.sampled_from([0, 7.5, -30, 45]),
)
def test_a_move_by_hours_and_minutes_agrees(
    when: dt.datetime, hours: float, minutes: float
) -> None:
    moment = when.replace(tzinfo=zone("Europe/Berlin"))
    reference = (moment.astimezone(UTC) + dt.timedelta(hours=hours, minutes=minutes)).astimezone(
        moment.tzinfo
    )
    assert_same([shift(moment, hours=hours, minutes=minutes)], [reference])


#: Moments around New York's fall-back night (01:00-02:00 happens twice) and its spring
#: gap (02:00-03:00 is skipped), in the zone, at a fixed offset and in UTC.
_NY = zone("America/New_York")
_ZONES_OF_A_MOMENT = [
    _NY,
    dt.timezone(dt.timedelta(hours=-4)),
    dt.timezone(dt.timedelta(hours=-5)),
    UTC,
]


_MOMENTS = [
    None,
    *(
        (dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=30 * n)).replace(
            tzinfo=tz, fold=fold
        )
        for day in (dt.date(2026, 11, 1), dt.date(2026, 3, 8), dt.date(2026, 6, 1))
        for n in range(9)
        for tz in _ZONES_OF_A_MOMENT
        for fold in (0, 1)
    ),
]


def test_same_instant_is_equal_instants() -> None:
    pairs = [(a, b) for a in _MOMENTS for b in _MOMENTS]
    for first, second in pairs:
        assert same_instant(first, second) == (instant(first) == instant(second)), (first, second)
    assert any(same_instant(a, b) and a != b for a, b in pairs)  # Python: not equal


def test_same_instant_on_a_repeated_and_a_skipped_hour() -> None:
    once = dt.datetime(2026, 11, 1, 1, 30, tzinfo=_NY)
    assert not same_instant(once, once.replace(fold=1))  # equal as Python compares them
    assert same_instant(once.replace(fold=1), once.replace(fold=1).astimezone(UTC))
    skipped = dt.datetime(2026, 3, 8, 2, 30, tzinfo=_NY)  # no such wall time: 03:30 EDT
    assert same_instant(skipped, dt.datetime(2026, 3, 8, 3, 30, tzinfo=_NY))
