"""Busy times of a calendar's events and free/busy periods, expanded within the planning span.

An event that stands alone (one component for its UID, no RRULE, RDATE or EXDATE) is read
directly: its start and end (DTEND, DURATION, or a day for an all-day event) clipped to the
span, with no date arithmetic outside it. A series (a recurring event with its moved or
cancelled instances) is expanded by recurring-ical-events, which keeps RFC 5545's rules for
EXDATE, RECURRENCE-ID, RANGE=THISANDFUTURE and SEQUENCE, and Google's X-WR-TIMEZONE; its rules
are walked by :mod:`ketaplan.ics.rules`, only as far as the span needs. A series whose main
event is cancelled or free (``STATUS:CANCELLED``, ``TRANSP:TRANSPARENT``) is not expanded at
all, only its own moved instances are read. VFREEBUSY periods are clipped to the span like events.
Every busy time is counted (:class:`~ketaplan.ics.window.Tally`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import recurring_ical_events
from dateutil.rrule import rrule
from recurring_ical_events import EventAdapter, Occurrence, SelectComponents, Series
from recurring_ical_events.util import convert_to_datetime

from ketaplan.errors import CalendarFileError, KetaplanError, Problem
from ketaplan.ics import rules
from ketaplan.ics.lines import Part
from ketaplan.ics.window import Tally, Window

__all__ = ["Interval", "event_busy", "free_busy", "time_problems"]

Interval = tuple[dt.datetime, dt.datetime]
_GENERATORS = ("RRULE", "RDATE", "EXDATE")
_QUERY_MARGIN = dt.timedelta(days=1)  # each side: events are compared in their own zones
_FAR = "has dates that cannot be computed: they reach year 1 or year 9999"


def is_free(component: Any) -> bool:
    """Whether an event takes no time: cancelled, or free (transparent)."""
    status = str(component.get("STATUS", "")).upper()
    return status == "CANCELLED" or str(component.get("TRANSP", "")).upper() == "TRANSPARENT"


class BusyEvent(EventAdapter):  # type: ignore[misc]  # recurring-ical-events is untyped
    """An event, and whether it takes time."""

    def __init__(self, component: Any) -> None:
        super().__init__(component)
        self.free = is_free(component)
        """Whether the event is cancelled or free (transparent)."""


class BusyOccurrence(Occurrence):  # type: ignore[misc]
    """One occurrence of a series, remembering whether its own event takes time."""

    def __init__(
        self, adapter: BusyEvent, start: Any = None, end: Any = None, sequence: int = -1
    ) -> None:
        super().__init__(adapter, start, end, sequence)
        self.free = adapter.free


class BoundedSeries(Series):  # type: ignore[misc]
    """A series whose rules are walked only as far as the span needs, every step counted."""

    def __init__(
        self, components: Sequence[BusyEvent], *, tally: Tally, where: str, event: str
    ) -> None:
        self.tally = tally
        self.where = where
        """Where its rule is, for messages about its steps (``line 12: RRULE``)."""
        self.event = event
        """Where the event is, for other messages (``line 9: VEVENT``)."""
        self.counted: set[int] = set()
        """The rules whose busy times were counted ahead (the library may walk a rule again)."""
        super().__init__(components)

    def occurrence(self, adapter: BusyEvent, start: Any = None, end: Any = None) -> Occurrence:
        """An occurrence that knows whether it is free (the library's hook for its class)."""
        return BusyOccurrence(adapter, start, end, sequence=self.sequence)

    def rrule_between(self, span_start: Any, span_stop: Any) -> Iterator[Any]:
        """The starts of repetitions from ``span_start`` to ``span_stop`` (the library's hook)."""
        recurrence = self.recurrence
        if not recurrence.has_core:
            return
        if recurrence.core.free and not self.this_and_future:
            return  # nothing of the main event takes time; its moved instances are read alone
        back = max(c.extend_query_span_by[0] for c in self.this_and_future_components)
        ahead = max(c.extend_query_span_by[1] for c in self.this_and_future_components)
        tz = recurrence.tzinfo
        first = _moved(convert_to_datetime(span_start, tz), -back)
        last = _moved(convert_to_datetime(span_stop, tz), ahead)
        for rule in recurrence.rrules:
            if isinstance(rule, rrule):
                yield from self._walk(rule, first, last)
            else:  # the set of RDATEs and DTSTART: as long as the file
                yield from rule.between(first, last, inc=True)

    def _walk(self, rule: rrule, first: dt.datetime, last: dt.datetime) -> Iterator[dt.datetime]:
        start = self.recurrence.start
        tz = start.tzinfo
        text = rule.string  # type: ignore[attr-defined]  # the RRULE as written, set by the library
        limit = rule.until  # type: ignore[attr-defined]  # UNTIL as written, set by the library
        until = None if limit is None else _wall(limit, tz)
        begin, first, last = _wall(start, tz), _wall(first, tz), _wall(last, tz)
        recur = rules.by_day(rules.Recur.parse(text), begin)
        walk_from = rules.rebase(recur, begin, first)
        walk = rules.Walk(rule, recur, begin, walk_from, until, last)
        self._charge(recur, begin, walk_from, min(last, until or last))
        if id(rule) not in self.counted:
            self.counted.add(id(rule))
            self._expect_busy(walk)
        for moment in walk:
            self.tally.step(self.where)
            if moment >= first:
                yield moment if tz is None else moment.replace(tzinfo=tz)

    def _charge(
        self, recur: rules.Recur, start: dt.datetime, walk_from: dt.datetime, last: dt.datetime
    ) -> None:
        """Charge the periods the walk may take without a repetition, before taking them.

        ``start`` is the rule's DTSTART, ``walk_from`` where the walk begins, ``last`` where it
        ends (the span's end, or UNTIL), all naive wall times. A rule whose gaps are not known, or
        whose every day costs more than a step (:func:`~ketaplan.ics.rules.ticks`), is charged
        every period up to ``last`` and beyond it, at once; every rule, what making it costs
        (:func:`~ketaplan.ics.rules.setup`).
        """
        self.tally.step(self.where, rules.setup(recur))
        gap = rules.gap(recur, start)
        each_day = rules.ticks(recur)
        if gap is None or each_day > 1:
            after = rules.tail(recur) if gap is None else gap
            self.tally.step(self.where, (rules.periods(recur, walk_from, last) + after) * each_day)
            return
        self.tally.step(self.where, gap)
        at_least = rules.least(recur, start, walk_from, last)
        self.tally.expect(self.where, min(at_least, recur.count or at_least))

    def _expect_busy(self, walk: rules.Walk) -> None:
        """Fail now if the rule surely gives more busy times in the span than the file may have.

        Its repetitions that start in the span are counted first (a walk of dateutil alone, up
        to either cap), before the library makes each an occurrence; less one for each EXDATE,
        RDATE and moved instance (each takes away at most one), they are busy times when the
        event lasts.
        """
        core = self.recurrence.core
        if core.free or core.duration <= dt.timedelta(0):
            return
        window = self.tally.window
        tz = self.recurrence.tzinfo
        first, last = (_wall(moment, tz) for moment in (window.start, window.stop))
        removed = 1 + len(core.exdates) + len(core.rdates) + len(self.modifications)
        room = self.tally.busy_room() + removed
        found = 0
        for walked, moment in enumerate(walk, start=1):
            if walked > self.tally.step_room():
                self.tally.expect(self.where, walked)
            if moment >= last:
                break
            found += moment >= first
            if found > room:
                break
        self.tally.expect_busy(found - removed)


def _wall(value: dt.date | dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    """``value`` as a naive wall time of the series' zone (floating when it has none)."""
    moment: dt.datetime = convert_to_datetime(value, tz)
    if tz is not None and moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return moment.replace(tzinfo=None)


def _moved(moment: dt.datetime, by: dt.timedelta) -> dt.datetime:
    """``moment`` + ``by``, stopping at the ends of Python's calendar."""
    try:
        return moment + by
    except OverflowError:
        end = dt.datetime.min if by < dt.timedelta(0) else dt.datetime.max
        return end.replace(tzinfo=moment.tzinfo)


class _Selection(SelectComponents):  # type: ignore[misc]
    """Events grouped by UID: lone events set aside, series made :class:`BoundedSeries`."""

    def __init__(self, parts: dict[int, Part], tally: Tally) -> None:
        self.parts = parts
        self.tally = tally
        self.lone: list[Any] = []

    def collect_series_from(self, source: Any, suppress_errors: tuple[type, ...]) -> list[Series]:
        groups: dict[str, list[Any]] = defaultdict(list)
        for component in source.walk("VEVENT"):
            groups[str(component.get("UID", id(component)))].append(component)
        series = []
        for group in groups.values():
            if len(group) == 1 and not any(name in group[0] for name in _GENERATORS):
                self.lone.append(group[0])
                continue
            main = next((c for c in group if "RECURRENCE-ID" not in c), group[0])
            part = self.parts.get(id(main))
            uid = f"VEVENT {str(main.get('UID', ''))[:60]!r}"
            where = f"line {part.line_of('RRULE')}: RRULE" if part else f"{uid}: RRULE"
            event = f"line {part.begin}: VEVENT" if part else uid
            self._charge_rules(group, where)
            adapters = [BusyEvent(c) for c in group]
            series.append(BoundedSeries(adapters, tally=self.tally, where=where, event=event))
        return series

    def _charge_rules(self, group: list[Any], where: str) -> None:
        """Charge making the rules of ``group``, before the library reads each into dateutil."""
        for component in group:
            values = component.get("RRULE", [])
            for value in values if isinstance(values, list) else [values]:
                try:
                    recur = rules.Recur.parse(value.to_ical().decode())
                except (ValueError, AttributeError):
                    continue  # the library says what is wrong with it
                self.tally.step(where, rules.setup(recur))


#: The type each time property of an event must have, in words.
_TIMES: dict[str, tuple[tuple[type, ...], str]] = {
    "DTSTART": ((dt.date,), "a date or a date-time"),
    "DTEND": ((dt.date,), "a date or a date-time"),
    "RECURRENCE-ID": ((dt.date,), "a date or a date-time"),
    "DURATION": ((dt.timedelta,), "a duration"),
}


def time_problems(calendar: Any, parts: dict[int, Part], origin: str) -> list[Problem]:
    """Each time of an event whose value is of the wrong kind (``DTSTART:P1D``), on its line.

    icalendar reads a value as whatever it parses as; the expansion needs dates and durations.
    """
    problems = []
    for component in calendar.walk("VEVENT"):
        part = parts.get(id(component))
        if "DTSTART" not in component:
            where = f"line {part.begin}" if part else f"UID {component.get('UID')}"
            problems.append(Problem(where, "VEVENT: must have a DTSTART", origin=origin))
        for name, (kinds, words) in _TIMES.items():
            value = component.get(name)
            if value is not None and not isinstance(getattr(value, "dt", None), kinds):
                line = part.properties[name][0] if part and part.properties.get(name) else None
                where = f"line {line.number}" if line else "VEVENT"
                shown = line.text.partition(":")[2] if line else value.to_ical().decode()
                problems.append(Problem(where, f"{name}: must be {words}", shown, origin))
    return problems


def event_busy(
    calendar: Any, window: Window, tally: Tally, parts: dict[int, Part], origin: str
) -> Iterator[Interval]:
    """The busy times of every event of ``calendar`` within ``window``, each counted."""
    selection = _Selection(parts, tally)
    try:
        query = recurring_ical_events.of(calendar, components=[selection])
    except KetaplanError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as err:
        raise CalendarFileError(
            [Problem("", f"events cannot be read: {err}", origin=origin)]
        ) from err
    for component in selection.lone:
        yield from _counted(tally, _lone(component, window))
    for series in query.series:
        yield from _series_busy(series, window, tally, origin)


def _series_busy(
    series: BoundedSeries, window: Window, tally: Tally, origin: str
) -> Iterator[Interval]:
    """The busy times of one series in ``window``, or an error naming the series."""
    first = window.start.date() - _QUERY_MARGIN
    last = window.stop.date() + _QUERY_MARGIN
    try:
        for occurrence in series.between(first, last):
            if not occurrence.free:
                span = window.clip(window.instant(occurrence.start), _end(occurrence, window))
                yield from _counted(tally, [span] if span else [])
    except KetaplanError:
        raise
    except OverflowError as err:
        raise CalendarFileError([Problem(series.event, _FAR, origin=origin)]) from err
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise CalendarFileError(
            [Problem(series.event, f"cannot be expanded: {err}", origin=origin)]
        ) from err


def _counted(tally: Tally, spans: Sequence[Interval] | Iterator[Interval]) -> Iterator[Interval]:
    for span in spans:
        tally.occurrence(*span)
        yield span


def _end(occurrence: Occurrence, window: Window) -> dt.datetime:
    end = window.instant(occurrence.end)
    return max(end, window.instant(occurrence.start))


def _lone(component: Any, window: Window) -> list[Interval]:
    """The busy time of one event that is not part of a series, clipped to the span."""
    if is_free(component):
        return []
    start = component["DTSTART"]
    begin = window.instant(start.dt)
    if "DTEND" in component:
        end = window.instant(component["DTEND"].dt)
    elif "DURATION" in component:
        end = _after(start.dt, component["DURATION"].dt, window)
    elif isinstance(start.dt, dt.datetime):
        end = begin
    else:
        end = _after(start.dt, dt.timedelta(days=1), window)
    span = window.clip(*sorted((begin, end)))
    return [span] if span else []


def _after(value: dt.date | dt.datetime, length: dt.timedelta, window: Window) -> dt.datetime:
    """The instant ``length`` after ``value`` (a date with a time part becomes a datetime)."""
    if not isinstance(value, dt.datetime) and length % dt.timedelta(days=1):
        value = dt.datetime.combine(value, dt.time(0))
    try:
        return window.instant(value + length)
    except OverflowError:
        return window.beyond if length > dt.timedelta(0) else window.before


def free_busy(calendar: Any, window: Window, tally: Tally) -> Iterator[Interval]:
    """The busy periods of every VFREEBUSY component within ``window`` (FBTYPE=FREE left out)."""
    for component in calendar.walk("VFREEBUSY"):
        values = component.get("FREEBUSY", [])
        for value in values if isinstance(values, list) else [values]:
            if str(value.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            for period in value.dts if hasattr(value, "dts") else [value]:
                first, second = period.dt if isinstance(period.dt, tuple) else (period.dt, None)
                if second is None:
                    continue
                if isinstance(second, dt.timedelta):
                    end = _after(first, second, window)
                else:
                    end = window.instant(second)
                span = window.clip(window.instant(first), end)
                if span:
                    tally.occurrence(*span)
                    yield span
