"""Recurrence rules walked only as far as the planning span needs.

dateutil, which expands RRULEs for recurring-ical-events and for icalendar's time zones, walks a
rule from its DTSTART one period at a time (a year, ..., a second) and stops only at a repetition
after the end of the query, at UNTIL or COUNT, or at year 9999. Left alone, a rule costs every
period from its DTSTART (``FREQ=SECONDLY`` from 1970: two billion), and a rule whose filters
leave nothing after the span (``BYMONTH=2;BYMONTHDAY=30``) walks on to year 9999. So each rule
is walked as follows, which bounds it by construction:

1. **Rebased**: a rule without COUNT starts one period before the span's period instead of at
   its DTSTART, with the parts DTSTART implies (its month, day, weekday and time) written out:
   a period boundary of the rule starts the same sequence, so the span sees the same repetitions.
   A rule with COUNT must be walked from its DTSTART, to count.
2. **Shifted**: the rule is walked a multiple of 400 years later, the exact period of the
   Gregorian calendar (weekdays, leap years and week numbers repeat), chosen so the span ends
   within 400 years of year 9999; the repetitions are shifted back. A rule with nothing after the
   span stops at year 9999, at most 400 years of periods after it.
3. **Charged**: before a rule is walked, the periods it may walk without a repetition are added
   to the file's step count (:data:`~ketaplan.ics.window.MAX_RULE_STEPS`): the longest gap its
   shape allows (:func:`gap`: one period for a weekly rule on given weekdays, twelve for a
   monthly rule on the second Tuesday, a year and a week for a daily rule in some months), or,
   for a shape whose gaps are not known, the
   periods from where the walk starts to 400 years after the span. A rule whose every period
   repeats as often (no filters) is refused at once when the repetitions it must generate to
   reach the end of the span exceed the cap (:func:`least`).

A step must cost about as much whatever the rule: a microsecond or two of dateutil's work. A rule
more frequent than daily is counted in days (a day its filters exclude is crossed in a step or
two) only while its every period gives repetitions. With day filters (BYDAY, BYMONTHDAY, ...),
or parts that filter its periods (BYHOUR on a MINUTELY rule, BYSECOND on a SECONDLY one),
dateutil tries one period after another, building the times of each, on a day excluded too:
``FREQ=SECONDLY;BYHOUR=3;BYMINUTE=7;BYSECOND=9;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO`` tries 1,440
minutes a day (14 s to the next Monday 29 February). Such a rule is

4. **Walked by day** (:func:`by_day`): as a daily rule with the same day filters and its times
   of day written out (that rule is ``FREQ=DAILY;BYHOUR=3;BYMINUTE=7;BYSECOND=9;...``), which
   gives the same repetitions when its step divides a minute, an hour (in minutes) or a day (in
   hours), so that every day has the same times, and it has no BYSETPOS. It is then charged as
   a daily rule, a day a step.
5. **Charged by the period** otherwise (:func:`ticks`): every day from where the walk starts to
   the longest gap (or 400 years) after the span costs the periods of a day and their times
   (12,343 for ``FREQ=SECONDLY;INTERVAL=7``), charged before the walk, so such a rule is
   refused unless its walk is short.

Making a rule costs too: a daily or less frequent rule builds the times of day of one period as
it is made (86,400 with every hour, minute and second), charged (:func:`setup`) as the library
reads the rule and each time it is walked.

Each repetition generated then counts one step, so no rule, however written, walks further than
the cap allows. Time-zone rules (``STANDARD``/``DAYLIGHT`` in a ``VTIMEZONE``), which icalendar
hands to dateutil unbounded, must repeat yearly and are counted up to the span
(:func:`zone_onsets`, :data:`MAX_ZONE_ONSETS`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from dateutil.rrule import (
    DAILY,
    HOURLY,
    MINUTELY,
    MONTHLY,
    SECONDLY,
    WEEKLY,
    YEARLY,
    rrule,
    rrulestr,
)

__all__ = [
    "MAX_ZONE_ONSETS",
    "Recur",
    "Walk",
    "by_day",
    "defaults",
    "gap",
    "least",
    "period_times",
    "periods",
    "rebase",
    "setup",
    "shift_years",
    "tail",
    "ticks",
    "zone_onsets",
]

#: A time zone's offset may change at most this many times from its first onset to the end of
#: the span (each DTSTART, RDATE and yearly repetition of its observances counts once).
MAX_ZONE_ONSETS = 1_000

_FREQS = {"YEARLY": YEARLY, "MONTHLY": MONTHLY, "WEEKLY": WEEKLY, "DAILY": DAILY,
          "HOURLY": HOURLY, "MINUTELY": MINUTELY, "SECONDLY": SECONDLY}  # fmt: skip
_SECONDS = {HOURLY: 3600, MINUTELY: 60, SECONDLY: 1}
_WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_DAY_PARTS = frozenset({"BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYSETPOS",
                        "BYEASTER"})  # fmt: skip
_IMPLYING = frozenset({"BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYEASTER"})
_TIME_PARTS = (("BYHOUR", HOURLY), ("BYMINUTE", MINUTELY), ("BYSECOND", SECONDLY))
#: The parts that filter the periods of a rule more frequent than daily (BYHOUR on a MINUTELY
#: rule): dateutil tries one period after another until one passes, on every day.
_SKIPPING = {HOURLY: frozenset({"BYHOUR"}), MINUTELY: frozenset({"BYHOUR", "BYMINUTE"}),
             SECONDLY: frozenset({"BYHOUR", "BYMINUTE", "BYSECOND"})}  # fmt: skip
_CYCLE_YEARS = 400
_CYCLE_DAYS = 146_097  # days in 400 Gregorian years
_EVERY_MONTH = 28  # the days every month has
_SMALL_GAP = 16  # periods: more than a rule with only DTSTART's implied parts can skip
_DAY = 86_400  # seconds
_LEAP_DAY = (2, 29)


@dataclass(frozen=True)
class Recur:
    """The parts of one RRULE that bound its walk (values as written, upper case)."""

    freq: int
    interval: int
    count: int | None
    wkst: int
    """The first day of a week (0 Monday), for weekly rules."""
    parts: dict[str, list[str]]
    by_day: bool = False
    """A rule more frequent than daily, written as a daily rule with its times (:func:`by_day`)."""

    @classmethod
    def parse(cls, text: str) -> Recur:
        """The parts of ``text`` (``FREQ=WEEKLY;BYDAY=MO,TH``); ValueError if it has no FREQ.

        An INTERVAL below 1 is a ValueError too: dateutil would repeat one period without end.

        >>> Recur.parse("FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU").parts
        {'BYDAY': ['2TU']}
        """
        fields = dict(p.partition("=")[::2] for p in text.upper().split(";") if p)
        freq = _FREQS.get(fields.pop("FREQ", ""))
        if freq is None:
            raise ValueError(f"no known FREQ in {text!r}")
        interval = int(fields.pop("INTERVAL", "1") or 1)
        if interval < 1:
            raise ValueError(f"INTERVAL must be a positive integer in {text!r}")
        count = fields.pop("COUNT", None)
        fields.pop("UNTIL", None)
        wkst = _WEEKDAYS.get(fields.pop("WKST", "MO"), 0)
        parts = {name: value.split(",") for name, value in fields.items() if name.startswith("BY")}
        return cls(freq, interval, None if count is None else int(count), wkst, parts)

    @property
    def filtered(self) -> bool:
        """Whether a period can pass without a repetition (a filter, not only expansions)."""
        if _DAY_PARTS & self.parts.keys():
            return True
        return bool(_SKIPPING.get(self.freq, frozenset()) & self.parts.keys())

    def written(self) -> dict[str, Any]:
        """What dateutil must be given beyond the rule as written: a rule walked by day's parts."""
        if not self.by_day:
            return {}
        times = {name.lower(): [int(v) for v in self.parts[name]] for name, _ in _TIME_PARTS}
        return {"freq": DAILY, "interval": 1} | times


@dataclass(frozen=True)
class Walk:
    """The repetitions of one rule up to ``last``, walked from ``walk_from`` 400·k years later.

    All times are naive wall times of the rule's zone; each iteration walks afresh.
    """

    rule: rrule
    recur: Recur
    start: dt.datetime
    """The rule's DTSTART, whose implied parts are written out."""
    walk_from: dt.datetime
    until: dt.datetime | None
    last: dt.datetime

    def __iter__(self) -> Iterator[dt.datetime]:
        years = shift_years(self.last)
        until = None if self.until is None else _later(self.until, years)
        options: dict[str, Any] = {"dtstart": _later(self.walk_from, years), "until": until}
        options |= {"cache": False} | defaults(self.recur, self.start) | self.recur.written()
        walked = self.rule.replace(**options)
        for found in walked:
            moment = found.replace(year=found.year - years)
            if moment > self.last:
                return
            yield moment


def _later(moment: dt.datetime, years: int) -> dt.datetime:
    return moment.replace(year=min(moment.year + years, dt.MAXYEAR))


def periods(recur: Recur, first: dt.datetime, last: dt.datetime) -> int:
    """How many periods of ``recur`` a walk from ``first`` to ``last`` visits (at least one).

    For rules more frequent than daily this counts days: a day the filters exclude is crossed
    in one step, and the periods of a day that is not excluded are repetitions, counted as such
    (unless a day costs more, see :func:`ticks`).
    """
    if last <= first:
        return 1
    if recur.freq == YEARLY:
        return (last.year - first.year) // recur.interval + 1
    if recur.freq == MONTHLY:
        months = (last.year - first.year) * 12 + last.month - first.month
        return months // recur.interval + 1
    days = (last.date() - first.date()).days
    if recur.freq == WEEKLY:
        return days // (7 * recur.interval) + 1
    if recur.freq == DAILY:
        return days // recur.interval + 1
    return days + 1


def least(recur: Recur, start: dt.datetime, first: dt.datetime, last: dt.datetime) -> int:
    """A lower bound of the repetitions of ``recur`` (from ``start``) from ``first`` to ``last``.

    Known for a rule whose every period repeats the same number of times (no filters, only
    expansions such as BYHOUR on a daily rule or BYDAY on a weekly one); 0 for others. Only whole
    periods inside ``first``-``last`` are counted.

    >>> r = Recur.parse("FREQ=HOURLY;BYMINUTE=0,15,30,45")
    >>> least(r, dt.datetime(2027, 1, 1), dt.datetime(2027, 1, 1), dt.datetime(2027, 1, 2))
    92
    """
    each = _each_period(recur, start)
    if not each or last <= first:
        return 0
    if recur.freq in _SECONDS:
        step = _SECONDS[recur.freq] * recur.interval
        whole = int((last - max(first, start)).total_seconds()) // step - 1
    else:
        whole = periods(recur, max(first, start), last) - 2
    return max(whole, 0) * each


def _each_period(recur: Recur, start: dt.datetime) -> int:
    """How many repetitions every whole period of ``recur`` has, or 0 when that varies."""
    day_parts = _DAY_PARTS & recur.parts.keys()
    if recur.filtered and day_parts != {"BYDAY"}:
        return 0
    if day_parts and (recur.freq != WEEKLY or _plain_weekdays(recur) is None):
        return 0
    if recur.freq == MONTHLY and start.day > _EVERY_MONTH:
        return 0
    if recur.freq == YEARLY and (start.month, start.day) == _LEAP_DAY:
        return 0
    days = len(recur.parts["BYDAY"]) if day_parts else 1
    return days * period_times(recur)


def tail(recur: Recur) -> int:
    """The periods a walk may take after the span before it stops (400 years of them, shifted)."""
    end = dt.datetime(2000 + _CYCLE_YEARS, 1, 1)
    return periods(recur, dt.datetime(2000, 1, 1), end)


def shift_years(last: dt.datetime) -> int:
    """How many years (a multiple of 400) to walk a rule later so ``last`` nears year 9999."""
    return max(_CYCLE_YEARS * ((dt.MAXYEAR - 1 - last.year) // _CYCLE_YEARS), 0)


def rebase(recur: Recur, start: dt.datetime, first: dt.datetime) -> dt.datetime:
    """Where to walk ``recur`` (starting ``start``) from, to see every repetition from ``first``.

    One period before the period that holds ``first``, on a period boundary; ``start`` itself
    when the rule has a COUNT or ``first`` is not later. All times are naive wall times.

    >>> r = Recur.parse("FREQ=WEEKLY;INTERVAL=2")
    >>> rebase(r, dt.datetime(1970, 1, 5, 9), dt.datetime(2027, 3, 3))
    datetime.datetime(2027, 2, 15, 0, 0)
    """
    if recur.count is not None or first <= start:
        return start
    interval = recur.interval
    if recur.freq == YEARLY:
        k = (first.year - start.year) // interval - 1
        return dt.datetime(start.year + k * interval, 1, 1) if k > 0 else start
    if recur.freq == MONTHLY:
        months = start.year * 12 + start.month - 1
        k = (first.year * 12 + first.month - 1 - months) // interval - 1
        month = months + k * interval
        return dt.datetime(month // 12, month % 12 + 1, 1) if k > 0 else start
    if recur.freq in {WEEKLY, DAILY}:
        days = 7 * interval if recur.freq == WEEKLY else interval
        week = (start.weekday() - recur.wkst) % 7 if recur.freq == WEEKLY else 0
        origin = start.date() - dt.timedelta(days=week)
        k = (first.date() - origin).days // days - 1
        moved = dt.datetime.combine(origin + dt.timedelta(days=k * days), dt.time(0))
        return moved if k > 0 else start
    step = dt.timedelta(seconds=_SECONDS[recur.freq] * interval)
    k = (first - start) // step - 1
    return start + k * step if k > 0 else start


def defaults(recur: Recur, start: dt.datetime) -> dict[str, int]:
    """The parts ``start`` implies for ``recur`` (as dateutil derives them), written out."""
    named = recur.parts.keys()
    out: dict[str, int] = {}
    if not _IMPLYING & named:
        if recur.freq == YEARLY:
            if "BYMONTH" not in named:
                out["bymonth"] = start.month
            out["bymonthday"] = start.day
        elif recur.freq == MONTHLY:
            out["bymonthday"] = start.day
        elif recur.freq == WEEKLY:
            out["byweekday"] = start.weekday()
    for part, freq, value in (("BYHOUR", HOURLY, start.hour), ("BYMINUTE", MINUTELY, start.minute),
                              ("BYSECOND", SECONDLY, start.second)):  # fmt: skip
        if recur.freq < freq and part not in named:
            out[part.lower()] = value
    return out


def ticks(recur: Recur) -> int:
    """The steps one day of a walk of ``recur`` is charged, in place of one: its periods' times.

    For a rule more frequent than daily with day filters, or whose periods may give nothing on a
    day the filters keep (BYHOUR on a MINUTELY rule, BYSECOND on a SECONDLY one, a BYSETPOS
    beyond the times one period holds): dateutil may try each period of a day in turn,
    building its times (:func:`period_times`), on a day the filters exclude too. 1 for any other
    rule, whose every period gives repetitions, each counted.

    >>> ticks(Recur.parse("FREQ=MINUTELY;INTERVAL=7;BYHOUR=9")), ticks(Recur.parse("FREQ=MINUTELY"))
    (206, 1)
    >>> ticks(Recur.parse("FREQ=HOURLY;INTERVAL=5;BYSECOND=0,30;BYDAY=MO"))
    10
    """
    day_filters = (_DAY_PARTS - {"BYSETPOS"}) & recur.parts.keys()
    if recur.freq not in _SECONDS or not (day_filters or _empty_periods(recur)):
        return 1
    return -(-_DAY // (recur.interval * _SECONDS[recur.freq])) * period_times(recur)


def _empty_periods(recur: Recur) -> bool:
    """Whether a period of ``recur`` (more frequent than daily) may give nothing on a day kept."""
    if _SKIPPING.get(recur.freq, frozenset()) & recur.parts.keys():
        return True
    return any(abs(int(p)) > period_times(recur) for p in recur.parts.get("BYSETPOS", []))


def by_day(recur: Recur, start: dt.datetime) -> Recur:
    """``recur`` (from ``start``) as a daily rule with its times of day, when that is the same.

    For a rule more frequent than daily whose days cost more than a step (:func:`ticks`):
    dateutil walks the daily rule a day at a time. The same repetitions when every day has the
    same times (the rule's step divides a minute, an hour or a day) and there is no BYSETPOS
    (which picks within a period); ``recur`` itself otherwise.

    >>> r = Recur.parse("FREQ=SECONDLY;BYHOUR=3;BYMINUTE=7;BYSECOND=9;BYMONTHDAY=29;BYDAY=MO")
    >>> daily = by_day(r, dt.datetime(1900, 1, 1))
    >>> daily.freq == DAILY, daily.written()
    (True, {'freq': 3, 'interval': 1, 'byhour': [3], 'byminute': [7], 'bysecond': [9]})
    """
    if ticks(recur) == 1 or "BYSETPOS" in recur.parts:
        return recur
    times = _times_of_day(recur, start)
    if times is None:
        return recur
    names = [name for name, _ in _TIME_PARTS]
    parts = {name: values for name, values in recur.parts.items() if name not in names}
    parts |= {
        name: [str(v) for v in sorted(values)] for name, values in zip(names, times, strict=True)
    }
    return replace(recur, freq=DAILY, interval=1, parts=parts, by_day=True)


def _times_of_day(recur: Recur, start: dt.datetime) -> list[set[int]] | None:
    """The hours, minutes and seconds of every repetition of ``recur``, or None if days differ.

    Each a set, all their combinations repetitions: the values a walk from ``start`` reaches,
    kept by the parts that filter them (BYHOUR on a MINUTELY rule) or given by the parts that
    expand each period (BYSECOND on a MINUTELY rule). None when a set is empty.
    """
    grid = _grid(recur.interval * _SECONDS[recur.freq], start)
    if grid is None:
        return None
    times = []
    for (name, freq), reached in zip(_TIME_PARTS, grid, strict=True):
        given = recur.parts.get(name)
        if given is None:
            values = reached
        elif freq > recur.freq:  # an expansion: each period has every value given
            values = {int(v) for v in given}
        else:
            values = reached & {int(v) for v in given}
        if not values:
            return None
        times.append(values)
    return times


def _grid(step: int, start: dt.datetime) -> tuple[set[int], set[int], set[int]] | None:
    """The hours, minutes and seconds a walk from ``start`` by ``step`` seconds reaches.

    Every combination of them, and the same every day, when ``step`` divides a minute, an hour
    (being whole minutes) or a day (being whole hours); None otherwise.

    >>> [sorted(values)[:4] for values in _grid(1200, dt.datetime(2027, 1, 1, 9, 5, 30))]
    [[0, 1, 2, 3], [5, 25, 45], [30]]
    """
    hours, minutes = set(range(24)), set(range(60))
    if 60 % step == 0:
        return hours, minutes, set(range(start.second % step, 60, step))
    if step % 60 == 0 and 3600 % step == 0:
        return hours, set(range(start.minute % (step // 60), 60, step // 60)), {start.second}
    if step % 3600 == 0 and _DAY % step == 0:
        return (
            set(range(start.hour % (step // 3600), 24, step // 3600)),
            {start.minute},
            {start.second},
        )
    return None


def gap(recur: Recur, start: dt.datetime) -> int | None:
    """The most periods in a row ``recur`` (from ``start``) can pass without a repetition.

    None when its shape is not one whose gaps are known; then the walk is charged in full.

    >>> start = dt.datetime(2026, 1, 6, 9)
    >>> gap(Recur.parse("FREQ=MONTHLY;BYDAY=2TU"), start), gap(Recur.parse("FREQ=WEEKLY"), start)
    (12, 16)
    >>> gap(Recur.parse("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"), start) is None
    True
    >>> gap(Recur.parse("FREQ=DAILY;BYMONTH=6,7,8;BYDAY=MO,TU"), start)
    373
    """
    filters = _DAY_PARTS & recur.parts.keys()
    if not filters:
        return _SMALL_GAP
    if recur.freq == YEARLY:
        return None  # a yearly walk is short: charged in full
    if recur.freq == MONTHLY:
        return 12 if _monthly_every_cycle(recur, start) else None
    if recur.freq != WEEKLY and filters & {"BYMONTH", "BYMONTHDAY"}:
        return _daily_in_months(recur)
    weekdays = _plain_weekdays(recur)
    if weekdays is None or filters - {"BYDAY", "BYSETPOS"} or not _setpos_fits(recur, weekdays):
        return None
    if recur.freq == WEEKLY:
        return 1
    step = recur.interval * _SECONDS.get(recur.freq, _DAY)
    if step < _DAY:
        return 2 * 7  # every day is visited; a day excluded costs at most two steps
    if step % _DAY:
        return None
    reachable = {(start.weekday() + j * step // _DAY) % 7 for j in range(7)}
    return 2 * 7 if reachable & weekdays else None


def _daily_in_months(recur: Recur) -> int | None:
    """The gap of a rule that visits every day, in some months or on some days of the month.

    ``FREQ=DAILY;BYMONTH=6,7,8`` (summer days), optionally on given weekdays, or on days every
    month has (``BYMONTHDAY=1,15``): a year and a week hold the next repetition. In days, which
    is what a walk more frequent than daily is counted in too.
    """
    every_day = recur.interval * _SECONDS.get(recur.freq, _DAY) <= _DAY
    monthdays = [int(d) for d in recur.parts.get("BYMONTHDAY", [])]
    plain = _plain_weekdays(recur) is not None
    known = _DAY_PARTS & recur.parts.keys() <= {"BYMONTH", "BYMONTHDAY", "BYDAY"}
    one_kind = not (monthdays and "BYDAY" in recur.parts)
    each_month = all(abs(d) <= _EVERY_MONTH for d in monthdays)
    if every_day and plain and known and one_kind and each_month:
        return 366 + 7
    return None


def _plain_weekdays(recur: Recur) -> set[int] | None:
    """The weekdays of BYDAY when none has an ordinal (every day when there is no BYDAY)."""
    days = recur.parts.get("BYDAY")
    if days is None:
        return set(range(7))
    if any(day not in _WEEKDAYS for day in days):
        return None
    return {_WEEKDAYS[day] for day in days}


def setup(recur: Recur) -> int:
    """The steps dateutil takes to make a rule of ``recur``, each time it is made (at least 1).

    A daily or less frequent rule builds the times of day of one period as it is made (86,400
    for every second of a day); a more frequent one builds them for each period it walks.

    >>> setup(Recur.parse("FREQ=WEEKLY;BYHOUR=9,17;BYMINUTE=0,15,30,45"))
    8
    """
    return period_times(recur) if recur.freq <= DAILY else 1


def period_times(recur: Recur) -> int:
    """How many times of day one period of ``recur`` holds (one for a SECONDLY rule)."""
    finer = [name for name, freq in _TIME_PARTS if freq > recur.freq]
    return math.prod(len(set(recur.parts.get(p, [""]))) for p in finer)


def _setpos_fits(recur: Recur, weekdays: set[int]) -> bool:
    """Whether every BYSETPOS picks from a set each period surely has (weekly or daily)."""
    days = len(weekdays) if recur.freq == WEEKLY and "BYDAY" in recur.parts else 1
    size = days * period_times(recur)
    return all(abs(int(p)) <= size for p in recur.parts.get("BYSETPOS", []))


def _monthly_every_cycle(recur: Recur, start: dt.datetime) -> bool:
    """Whether a monthly rule repeats in some month of every 12 it visits.

    True for the shapes calendar programs write: the n-th (|n| <= 4) or every given weekday, a
    day of the month every month has, or a weekday within seven consecutive such days (RFC 5545's
    "first Saturday after the first Sunday"), in months the interval reaches, with BYSETPOS
    within the days each month surely has.
    """
    if _DAY_PARTS & recur.parts.keys() - {"BYMONTH", "BYDAY", "BYMONTHDAY", "BYSETPOS"}:
        return False
    reached = {(start.month - 1 + j * recur.interval) % 12 + 1 for j in range(12)}
    wanted = {int(m) for m in recur.parts.get("BYMONTH", [])} or reached
    if not reached & wanted:
        return False
    size = _days_each_month(recur, start)
    return size > 0 and all(abs(int(p)) <= size * period_times(recur)
                            for p in recur.parts.get("BYSETPOS", []))  # fmt: skip


def _days_each_month(recur: Recur, start: dt.datetime) -> int:
    """How many days every month surely has for the rule (0 when some month may have none)."""
    days = recur.parts.get("BYDAY", [])
    monthdays = [int(d) for d in recur.parts.get("BYMONTHDAY", [])]
    if any(abs(d) > _EVERY_MONTH for d in monthdays):
        return 0
    plain = [d for d in days if d in _WEEKDAYS]
    ordinal = [d for d in days if d not in _WEEKDAYS]
    if any(abs(int(d[:-2] or 0)) > 4 for d in ordinal):  # noqa: PLR2004 - four of each weekday
        return 0
    if days and monthdays:
        week = any(_has_week({d for d in monthdays if d * sign > 0}) for sign in (1, -1))
        return 1 if week and plain and not ordinal else 0
    if days:
        return 4 * len(plain) + len(ordinal)
    if monthdays:
        return len(set(monthdays))
    return 1 if start.day <= _EVERY_MONTH else 0


def _has_week(days: set[int]) -> bool:
    """Whether ``days`` holds seven consecutive days (so every weekday falls on one of them)."""
    ordered = sorted(days)
    return any(ordered[i + 6] - ordered[i] == 6 for i in range(len(ordered) - 6))  # noqa: PLR2004


def zone_onsets(start: object, text: str, last: dt.datetime) -> Iterator[dt.datetime]:
    """The onsets of one time-zone observance rule ``text`` from ``start`` up to ``last``.

    ValueError unless the rule repeats yearly with a known gap (a zone's offset changes on a
    yearly rule); the walk is at most a few thousand yearly periods.
    """
    if not isinstance(start, dt.datetime):
        raise ValueError("needs a DTSTART date-time in its STANDARD or DAYLIGHT")  # noqa: TRY004
    recur = Recur.parse(text)
    if recur.freq != YEARLY or (recur.parts and gap(_as_monthly(recur), start) is None):
        raise ValueError("must repeat yearly, on a day every year has")
    for onset in rrulestr(text, dtstart=start.replace(tzinfo=None), ignoretz=True):
        if onset > last:
            return
        yield onset


def _as_monthly(recur: Recur) -> Recur:
    """A yearly rule's days judged month by month (its BYMONTH months are reached every year)."""
    parts = {**recur.parts, "BYMONTH": recur.parts.get("BYMONTH", [str(m) for m in range(1, 13)])}
    return replace(recur, freq=MONTHLY, interval=1, parts=parts)
