"""VTIMEZONE components that ical.js, vobject, libical and Outlook all read right.

icalendar's own generated VTIMEZONE lists transitions as comma-separated RDATEs and puts a
COMMENT on the VTIMEZONE: ical.js reads only the first RDATE value (one-hour errors for summer
events) and libical flags the COMMENT. So ketaplan writes what Google, Outlook and vzic write: one
STANDARD and one DAYLIGHT observance, each with a yearly RRULE (``BYMONTH`` and one ``BYDAY``
occurrence), anchored in 1970, derived from the zone's real transitions in the years the events
cover. Where the rules change within those years, it falls back to icalendar's generator,
hardened: no COMMENT, one RDATE per line, and DTSTART repeated as an RDATE.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cache

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

__all__ = ["vtimezone"]

UTC = dt.UTC
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class _Transition:
    local: dt.datetime  # naive wall time of the onset, in the offset before it
    before: dt.timedelta
    after: dt.timedelta
    daylight: bool
    name: str


@dataclass(frozen=True)
class _Rule:
    month: int
    nth: int  # 1-4, or -1 for the last
    weekday: int
    clock: dt.time
    before: dt.timedelta
    after: dt.timedelta
    name: str


def _offset(tz: zoneinfo.ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None  # noqa: S101 - zoneinfo always has one
    return offset


@cache
def _transitions(tzid: str, first_year: int, last_year: int) -> tuple[_Transition, ...]:
    tz = zoneinfo.ZoneInfo(tzid)
    day = dt.datetime(first_year, 1, 1, tzinfo=UTC)
    stop = dt.datetime(last_year + 1, 1, 1, tzinfo=UTC)
    found = []
    current = _offset(tz, day)
    while day < stop:
        following = day + dt.timedelta(days=1)
        offset = _offset(tz, following)
        if offset != current:
            low, high = day, following  # the change lies in (low, high]
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                if _offset(tz, middle) == current:
                    low = middle
                else:
                    high = middle
            onset = high.replace(second=0, microsecond=0)
            after = onset.astimezone(tz)
            found.append(
                _Transition(
                    local=(onset + current).replace(tzinfo=None),
                    before=current,
                    after=offset,
                    daylight=bool(after.dst()),
                    name=after.tzname() or tzid,
                )
            )
            current = offset
        day = following
    return tuple(found)


def _rule(group: list[_Transition], years: range) -> _Rule | None:
    """One yearly rule that produces every transition of the group, or ``None``."""
    if sorted(t.local.year for t in group) != list(years):
        return None  # not exactly one transition of this kind each year
    shapes = {
        (t.local.month, t.local.weekday(), t.local.time(), t.before, t.after, t.name) for t in group
    }
    if len(shapes) != 1:
        return None
    month, weekday, clock, before, after, name = shapes.pop()
    lasts = [t.local.day + 7 > calendar.monthrange(t.local.year, t.local.month)[1] for t in group]
    nths = {(t.local.day - 1) // 7 + 1 for t in group}
    if all(lasts):
        nth = -1  # "the last Sunday" is the 4th in some years and the 5th in others
    elif len(nths) == 1:
        nth = nths.pop()
    else:
        return None
    return _Rule(month, nth, weekday, clock, before, after, name)


def _first_onset(rule: _Rule, year: int) -> dt.datetime:
    weeks = calendar.Calendar().monthdatescalendar(year, rule.month)
    days = [
        d for week in weeks for d in week if d.month == rule.month and d.weekday() == rule.weekday
    ]
    day = days[-1] if rule.nth == -1 else days[rule.nth - 1]
    return dt.datetime.combine(day, rule.clock)


def _observance(rule: _Rule, *, daylight: bool) -> TimezoneStandard | TimezoneDaylight:
    part = TimezoneDaylight() if daylight else TimezoneStandard()
    part.add("DTSTART", _first_onset(rule, 1970))
    part.add(
        "RRULE",
        vRecur(freq="YEARLY", bymonth=rule.month, byday=f"{rule.nth}{_WEEKDAYS[rule.weekday]}"),
    )
    part.add("TZOFFSETFROM", rule.before)
    part.add("TZOFFSETTO", rule.after)
    part.add("TZNAME", rule.name)
    return part


def vtimezone(tzid: str, first_year: int, last_year: int, *, label: str | None = None) -> Timezone:
    r"""The VTIMEZONE for ``tzid`` covering events from ``first_year`` to ``last_year``.

    ``label`` renames the TZID (tests use it to force parsers onto the embedded definition).

    >>> print(vtimezone("America/New_York", 2026, 2027).to_ical().decode().replace("\r", ""))
    BEGIN:VTIMEZONE
    TZID:America/New_York
    BEGIN:DAYLIGHT
    DTSTART:19700308T020000
    RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3
    TZNAME:EDT
    TZOFFSETFROM:-0500
    TZOFFSETTO:-0400
    END:DAYLIGHT
    BEGIN:STANDARD
    DTSTART:19701101T020000
    RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11
    TZNAME:EST
    TZOFFSETFROM:-0400
    TZOFFSETTO:-0500
    END:STANDARD
    END:VTIMEZONE
    <BLANKLINE>
    """
    years = range(first_year, last_year + 1)
    transitions = _transitions(tzid, first_year, last_year)
    component = Timezone()
    component.add("TZID", label or tzid)
    if not transitions:
        tz = zoneinfo.ZoneInfo(tzid)
        moment = dt.datetime(first_year, 7, 1, tzinfo=UTC).astimezone(tz)
        offset = moment.utcoffset() or dt.timedelta()
        standard = TimezoneStandard()
        standard.add("DTSTART", dt.datetime(1970, 1, 1))
        # The onset again as an RDATE, as vzic writes it: the `ical` library needs one.
        standard.add("RDATE", dt.datetime(1970, 1, 1))
        standard.add("TZOFFSETFROM", offset)
        standard.add("TZOFFSETTO", offset)
        standard.add("TZNAME", moment.tzname() or tzid)
        component.add_component(standard)
        return component
    daylight = _rule([t for t in transitions if t.daylight], years)
    standard_rule = _rule([t for t in transitions if not t.daylight], years)
    if daylight is None or standard_rule is None:
        return _hardened(tzid, first_year, last_year, label)
    component.add_component(_observance(daylight, daylight=True))
    component.add_component(_observance(standard_rule, daylight=False))
    return component


def _hardened(tzid: str, first_year: int, last_year: int, label: str | None) -> Timezone:
    """The VTIMEZONE icalendar generates, made safe for ical.js and libical."""
    generated = Timezone.from_tzid(
        tzid, first_date=dt.date(first_year, 1, 1), last_date=dt.date(last_year + 1, 1, 1)
    )
    generated.pop("COMMENT", None)
    if label is not None:
        generated["TZID"] = label
    for part in generated.subcomponents:
        rdates = part.get("RDATE")
        if rdates is None:
            continue
        values = rdates if isinstance(rdates, list) else [rdates]
        moments = [period.dt for value in values for period in value.dts]
        del part["RDATE"]
        onset: dt.datetime = part.DTSTART
        for moment in [onset, *moments]:
            part.add("RDATE", moment)
    return generated
