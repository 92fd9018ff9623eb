"""Local wall time, DST policies and calendar arithmetic.

Appointments are local wall-clock times in an IANA zone. Arithmetic in days keeps the wall time
(09:00 stays 09:00 across a DST change); intervals in hours are measured on UTC instants.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Literal

from dateutil.relativedelta import relativedelta

from ketaplan._model import FIRST_DATE, LAST_DATE, on_the_calendar
from ketaplan._types import GapUnit, MonthEnd, RepeatedTime, SkippedTime
from ketaplan.errors import InputError, LocalTimeError

__all__ = [
    "CLOCK_VARIABLE",
    "UNIT_DAYS",
    "add_gap",
    "current_time",
    "elapsed_hours",
    "gap_days",
    "instant",
    "resolve",
    "same_instant",
    "shift",
    "shifts",
    "steady_midnight",
    "zone",
]

UTC = dt.UTC

#: The environment variable that sets the clock, for reproducible runs and test suites.
CLOCK_VARIABLE = "KETAPLAN_NOW"


def current_time() -> dt.datetime:
    """The moment of planning when none is given: now, or :data:`CLOCK_VARIABLE` if set.

    ``KETAPLAN_NOW=2026-11-21T09:00:00+00:00`` makes every plan made without ``now=`` (or
    ``--now``) be made as of that moment, so runs can be repeated on any day.

    >>> import os
    >>> os.environ[CLOCK_VARIABLE] = "2026-11-21T09:00:00-05:00"
    >>> current_time().isoformat()
    '2026-11-21T14:00:00+00:00'
    >>> del os.environ[CLOCK_VARIABLE]
    """
    text = os.environ.get(CLOCK_VARIABLE, "").strip()
    if not text:
        return dt.datetime.now(UTC)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not on_the_calendar(moment):
        raise InputError(
            CLOCK_VARIABLE,
            f"a moment with its UTC offset, from {FIRST_DATE} to {LAST_DATE}, "
            "e.g. 2026-11-21T09:00:00+00:00",
            text,
        )
    return moment.astimezone(UTC)


@cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name`` (cached)."""
    return zoneinfo.ZoneInfo(name)


def resolve(
    day: dt.date,
    clock: dt.time,
    tz: zoneinfo.ZoneInfo,
    *,
    skipped: SkippedTime = "later",
    repeated: RepeatedTime = "earlier",
) -> dt.datetime:
    """The aware datetime for a local wall time, by the DST policies.

    A time skipped by spring-forward is moved by the length of the gap (``later``, as RFC 5545
    reads it, or ``earlier``); a time that happens twice is its first (``earlier``, RFC 5545) or
    second occurrence. ``raise`` raises :class:`~ketaplan.errors.LocalTimeError`.

    >>> ny = zone("America/New_York")
    >>> resolve(dt.date(2026, 3, 8), dt.time(2, 30), ny).isoformat()
    '2026-03-08T03:30:00-04:00'
    >>> resolve(dt.date(2026, 11, 1), dt.time(1, 30), ny, repeated="later").isoformat()
    '2026-11-01T01:30:00-05:00'
    """
    naive = dt.datetime.combine(day, clock)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    offset_first, offset_second = first.utcoffset(), second.utcoffset()
    if offset_first == offset_second:
        return first
    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    when = f"{naive:%Y-%m-%d %H:%M}"
    if round_trip != naive:  # skipped: the wall time does not exist
        if skipped == "raise":
            raise LocalTimeError(when, tz.key, "does not exist (clocks go forward)", "skipped_time")
        chosen = first if skipped == "later" else second
    else:  # repeated: the wall time happens twice
        if repeated == "raise":
            raise LocalTimeError(when, tz.key, "happens twice (clocks go back)", "repeated_time")
        chosen = first if repeated == "earlier" else second
    return chosen.astimezone(UTC).astimezone(tz)


def add_gap(day: dt.date, amount: int, unit: GapUnit, *, month_end: MonthEnd = "clamp") -> dt.date:
    """``day`` plus ``amount`` days, weeks or months.

    >>> add_gap(dt.date(2027, 1, 31), 1, "months")
    datetime.date(2027, 2, 28)
    >>> add_gap(dt.date(2027, 1, 31), 1, "months", month_end="roll-forward")
    datetime.date(2027, 3, 1)
    """
    if unit == "days":
        return day + dt.timedelta(days=amount)
    if unit == "weeks":
        return day + dt.timedelta(weeks=amount)
    shifted: dt.date = day + relativedelta(months=amount)
    if month_end == "roll-forward" and shifted.day != day.day:
        shifted = shifted.replace(day=1) + relativedelta(months=1)
    return shifted


#: Calendar days in one unit of a gap, shortest and longest: a month is 28 to 31 days. The
#: one conversion of months to days: the shortest bounds how close sessions may come, the
#: longest bounds how far a window may reach.
UNIT_DAYS: dict[GapUnit, tuple[int, int]] = {"days": (1, 1), "weeks": (7, 7), "months": (28, 31)}


def gap_days(amount: int, unit: GapUnit, *, bound: Literal["shortest", "longest"]) -> int:
    """``amount`` days, weeks or months in calendar days, at their shortest or longest.

    >>> gap_days(2, "months", bound="shortest"), gap_days(2, "months", bound="longest")
    (56, 62)
    """
    shortest, longest = UNIT_DAYS[unit]
    return amount * (shortest if bound == "shortest" else longest)


def instant(moment: dt.datetime | None) -> float | None:
    """``moment`` as seconds since the epoch (``None`` stays ``None``), to compare moments.

    Python never holds a moment of a repeated hour (the second 01:15 of a fall-back night) in
    one zone equal to the same moment with a fixed offset, as a file gives it back; as
    instants they are equal.
    """
    return None if moment is None else moment.timestamp()


def same_instant(first: dt.datetime | None, second: dt.datetime | None) -> bool:
    """Whether two moments (or ``None``) are one instant: ``instant(first) == instant(second)``.

    Two moments with the same wall time, fold and ``tzinfo`` object are, and need no
    conversion (a plan's words and times, made again as they were made).
    """
    if first is None or second is None:
        return first is second
    if first.tzinfo is second.tzinfo and first.fold == second.fold and first == second:
        return True
    return first.timestamp() == second.timestamp()


def elapsed_hours(earlier: dt.datetime, later: dt.datetime) -> float:
    """Real elapsed hours between two aware datetimes, whatever their zones."""
    return (later.astimezone(UTC) - earlier.astimezone(UTC)).total_seconds() / 3600


def shift(moment: dt.datetime, *, hours: float = 0, minutes: float = 0) -> dt.datetime:
    """``moment`` moved by real elapsed time, in ``moment``'s own zone.

    Adding a ``timedelta`` to an aware datetime keeps the wall clock (09:00 + 24 h is 09:00
    the next day even across DST); this measures real time instead.

    >>> ny = zone("America/New_York")
    >>> dose = dt.datetime(2026, 3, 8, 9, tzinfo=ny)  # the first hour of EDT was skipped at 02:00
    >>> shift(dose, hours=-12).isoformat()
    '2026-03-07T20:00:00-05:00'
    """
    step = _step(hours, minutes)
    tz = moment.tzinfo
    if on_the_calendar(moment):  # a day whose neighbours' offsets can be looked up
        moved = moment + step
        if _steady(tz, moment.toordinal(), moved.toordinal()):
            return moved
    return (moment.astimezone(UTC) + step).astimezone(tz)


def shifts(moment: dt.datetime, minutes: Iterable[int]) -> list[dt.datetime]:
    """``moment`` moved by each of ``minutes`` of real elapsed time, in its own zone.

    The same as :func:`shift` for each, with ``moment`` converted to UTC once (a session's
    resource spans are several offsets from one start).

    >>> ny = zone("America/New_York")
    >>> [t.isoformat() for t in shifts(dt.datetime(2026, 3, 8, 1, 30, tzinfo=ny), [0, 60])]
    ['2026-03-08T01:30:00-05:00', '2026-03-08T03:30:00-04:00']
    """
    steps, earliest, latest = _steps(tuple(minutes))
    tz = moment.tzinfo
    if on_the_calendar(moment) and _steady(
        tz, (moment + earliest).toordinal(), (moment + latest).toordinal()
    ):
        return [moment + step for step in steps]
    utc = moment.astimezone(UTC)
    return [(utc + step).astimezone(tz) for step in steps]


# Real time is wall time while the UTC offset stays the same: :func:`shift` and :func:`shifts`
# move the wall clock where every day from the moment to its moves has one offset (see
# :func:`steady_midnight`), which gives the same wall time, zone and ``fold`` (0) as moving
# the UTC instant and reading it back in the zone.


def _steady(tz: dt.tzinfo | None, first: int, last: int) -> bool:
    """Whether the days ``first`` to ``last`` (ordinals, either way round) have one UTC offset.

    Only for days at most :data:`_STEADY_SPAN` apart: a longer move is made on the instant.
    """
    if first > last:
        first, last = last, first
    if type(tz) not in _STEADY_ZONES or last - first > _STEADY_SPAN:
        return False  # another kind of tzinfo (dateutil's) may not be hashable, nor a real zone
    return all(steady_midnight(day, tz) is not None for day in range(first, last + 1))


@lru_cache(maxsize=1024)
def _step(hours: float, minutes: float) -> dt.timedelta:
    """``hours`` and ``minutes`` as one ``timedelta`` (made once: a protocol has few)."""
    return dt.timedelta(hours=hours, minutes=minutes)


@lru_cache(maxsize=1024)
def _steps(minutes: tuple[int, ...]) -> tuple[tuple[dt.timedelta, ...], dt.timedelta, dt.timedelta]:
    """Each of ``minutes`` as a ``timedelta``; the earliest and latest of them and of none."""
    steps = tuple(dt.timedelta(minutes=offset) for offset in minutes)
    return steps, min((*steps, _NO_TIME)), max((*steps, _NO_TIME))


_NO_TIME = dt.timedelta(0)
#: The kinds of tzinfo whose days :func:`steady_midnight` judges: the tz database's zones (no
#: two changes of offset within a day) and fixed offsets.
_STEADY_ZONES = (zoneinfo.ZoneInfo, dt.timezone)
#: The most days apart a move on the wall clock may reach (see :func:`_steady`).
_STEADY_SPAN = 2


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@lru_cache(maxsize=8192)
def steady_midnight(ordinal: int, tz: dt.tzinfo) -> int | None:
    """The instant (epoch seconds) a local day begins, if the day has one UTC offset.

    ``None`` on a day whose offset changes (or whose midnight is skipped or repeated): there,
    wall times are turned into instants one by one with the DST policies. The offset is
    compared at the day's midnight and the next, which assumes at most one change a day.

    >>> ny = zone("America/New_York")
    >>> steady_midnight(dt.date(2026, 3, 8).toordinal(), ny) is None  # spring forward
    True
    >>> steady_midnight(dt.date(2026, 3, 9).toordinal(), ny)
    1773028800
    """
    day = dt.date.fromordinal(ordinal)
    following = day + dt.timedelta(days=1)
    offsets = {
        dt.datetime.combine(when, dt.time(0), tzinfo=tz).replace(fold=fold).utcoffset()
        for when in (day, following)
        for fold in (0, 1)
    }
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    if offset is None:  # pragma: no cover - a ZoneInfo always has an offset
        return None
    return (ordinal - _EPOCH_ORDINAL) * 86_400 - int(offset.total_seconds())
