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
    "defaults",
    "gap",
    "least",
    "periods",
    "rebase",
    "shift_years",
    "tail",
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

    @classmethod
    def parse(cls, text: str) -> Recur:
        """The parts of ``text`` (``FREQ=WEEKLY;BYDAY=MO,TH``); ValueError if it has no FREQ.

        >>> Recur.parse("FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU").parts
        {'BYDAY': ['2TU']}
        """
        fields = dict(p.partition("=")[::2] for p in text.upper().split(";") if p)
        freq = _FREQS.get(fields.pop("FREQ", ""))
        if freq is None:
            raise ValueError(f"no known FREQ in {text!r}")
        interval = int(fields.pop("INTERVAL", "1") or 1)
        count = fields.pop("COUNT", None)
        fields.pop("UNTIL", None)
        wkst = _WEEKDAYS.get(fields.pop("WKST", "MO"), 0)
        parts = {name: value.split(",") for name, value in fields.items() if name.startswith("BY")}
        return cls(freq, max(interval, 1), None if count is None else int(count), wkst, parts)

    @property
    def filtered(self) -> bool:
        """Whether a period can pass without a repetition (a filter, not only expansions)."""
        if _DAY_PARTS & self.parts.keys():
            return True
        coarse = {HOURLY: {"BYHOUR"}, MINUTELY: {"BYHOUR", "BYMINUTE"},
                  SECONDLY: {"BYHOUR", "BYMINUTE", "BYSECOND"}}.get(self.freq, set())  # fmt: skip
        return bool(coarse & self.parts.keys())


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
        walked = self.rule.replace(**options | {"cache": False} | defaults(self.recur, self.start))
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
    in one step, and the periods of a day that is not excluded are repetitions, counted as such.
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
    finer = {HOURLY: ("BYMINUTE", "BYSECOND"), MINUTELY: ("BYSECOND",), SECONDLY: ()}
    names = finer.get(recur.freq, ("BYHOUR", "BYMINUTE", "BYSECOND"))
    return days * math.prod(len(set(recur.parts.get(p, [""]))) for p in names)


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


def _times(recur: Recur) -> int:
    return math.prod(len(recur.parts.get(p, [""])) for p in ("BYHOUR", "BYMINUTE", "BYSECOND"))


def _setpos_fits(recur: Recur, weekdays: set[int]) -> bool:
    """Whether every BYSETPOS picks from a set each period surely has (weekly or daily)."""
    days = len(weekdays) if recur.freq == WEEKLY and "BYDAY" in recur.parts else 1
    size = days * _times(recur)
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
    return size > 0 and all(abs(int(p)) <= size * _times(recur)
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
