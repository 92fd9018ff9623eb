"""Reading busy times from iCalendar files, as bookings for ``plan`` and ``check``.

A clinic's existing appointments (exported by its software, Google or Outlook) or a patient's
own calendar become :class:`~ketaplan.bookings.Booking` objects. Recurring events are expanded
with ``recurring-ical-events`` (RRULE, RDATE, EXDATE, moved instances by RECURRENCE-ID, and
Google's ``X-WR-TIMEZONE``); all-day events block their whole days; cancelled instances and
transparent (free) events are skipped; VFREEBUSY busy periods count too. A malformed file is an
error naming each bad line, never a silent drop. Only times are read: summaries and
descriptions stay behind, so nothing private travels into plans.

Reading is bounded by construction, whatever the file holds, and its cost is linear in the
file's size (``docs/performance.md`` gives the figures):

- the file: at most :data:`MAX_ICS_BYTES`; lines end only in CRLF or LF, so U+2028 and other
  Unicode line breaks inside a value are read as text;
- components: at most :data:`~ketaplan.ics.lines.MAX_COMPONENTS`, of which at most
  :data:`~ketaplan.ics.lines.MAX_TIME_ZONES` time zones, counted before any is parsed;
- errors: each line is checked once, and at most 50 problems are listed with the count of the
  rest;
- the span: every busy time is clipped to the days asked for (``start`` to ``end``, which must
  lie from 1900 to 2200), so an event or free/busy period from year 1 to 9999 costs no more
  than one within the span, and dates far outside it are never converted or added to;
- recurrence: rules are walked only from just before the span, a rule more frequent than daily
  with filters a day at a time, and every repetition, or period a rule may walk without one, is
  counted against :data:`MAX_RULE_STEPS` for the file (:mod:`ketaplan.ics.rules`); events that
  are cancelled or free are not expanded at all;
- busy times: at most :data:`MAX_OCCURRENCES` per file, counted in the span, touching at most
  :data:`MAX_BUSY_DAYS` days in all (a busy time of the whole span touches each of its days);
- time zones: each ``VTIMEZONE`` observance must repeat yearly, and a zone may change its
  offset at most :data:`MAX_ZONE_ONSETS` times up to the end of the span.

Each bound, when passed, is a :class:`~ketaplan.errors.LimitError` or
:class:`~ketaplan.errors.CalendarFileError` naming the file, the line where it can, the bound and
the count that passed it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from icalendar import Calendar, vPeriod
from icalendar.timezone import tzp

from ketaplan._files import FileRefused, read_capped
from ketaplan._model import in_range
from ketaplan._types import ResourceKind
from ketaplan.bookings import Booking, parse_bookings
from ketaplan.errors import CalendarFileError, LimitError, Problem
from ketaplan.ics.expansion import Interval, event_busy, free_busy, time_problems
from ketaplan.ics.lines import (
    Outline,
    Part,
    count_components,
    logical_lines,
    order_problems,
    property_problems,
    raise_problems,
)
from ketaplan.ics.lines import structure as check_structure
from ketaplan.ics.rules import MAX_ZONE_ONSETS, zone_onsets
from ketaplan.ics.window import MAX_BUSY_DAYS, MAX_OCCURRENCES, MAX_RULE_STEPS, Tally, Window
from ketaplan.protocol.policy import valid_time_zone
from ketaplan.timing import zone

__all__ = [
    "MAX_BUSY_DAYS",
    "MAX_ICS_BYTES",
    "MAX_OCCURRENCES",
    "MAX_RULE_STEPS",
    "MAX_ZONE_ONSETS",
    "CalendarFileError",
    "bookings_from_ics",
    "load_busy",
    "read_busy_file",
]

#: Files larger than this are refused unread: with at most
#: :data:`~ketaplan.ics.lines.MAX_COMPONENTS` components, a real file is far smaller (20,000
#: events are 2 to 20 MB), and reading a larger one would take gigabytes.
MAX_ICS_BYTES = 50 * 1024 * 1024


def load_busy(
    path: str | os.PathLike[str],
    /,
    *,
    start: dt.date,
    end: dt.date,
    resource: ResourceKind | None = None,
    patient: str | None = None,
    time_zone: str = "UTC",
) -> list[Booking]:
    """Busy times from an ``.ics`` file, between ``start`` and ``end``.

    The options are those of :func:`bookings_from_ics`.
    """
    origin = os.fspath(path)
    data = read_busy_file(origin)
    return bookings_from_ics(
        data,
        start=start,
        end=end,
        resource=resource,
        patient=patient,
        time_zone=time_zone,
        origin=origin,
    )


def read_busy_file(origin: str, /, *, limit: int = MAX_ICS_BYTES) -> bytes:
    """A file of busy times, read whole: refused unread above ``limit`` bytes.

    :class:`CalendarFileError` when it cannot be read; shared by the ``.ics`` and FHIR readers.
    """
    try:
        return read_capped(origin, limit)
    except FileRefused as err:
        if err.too_large:
            raise LimitError(origin, err.expectation, err.value) from None
        raise CalendarFileError(
            [Problem("", f"must be {err.expectation}", err.value, origin=origin)]
        ) from None
    except OSError as err:
        raise CalendarFileError(
            [Problem("", f"cannot be read ({err.strerror or err})", origin=origin)]
        ) from err


def bookings_from_ics(
    data: bytes | str,
    /,
    *,
    start: dt.date,
    end: dt.date,
    resource: ResourceKind | None = None,
    patient: str | None = None,
    time_zone: str = "UTC",
    origin: str = "<string>",
) -> list[Booking]:
    r"""Busy times in an iCalendar document, as bookings.

    Args:
        data: the file's content.
        start: the first day to read.
        end: the last day to read (included).
        resource: what each busy time occupies in the clinic (``"chair"``, ...); ``None`` for
            a patient's own calendar (then give ``patient``).
        patient: the patient the busy times belong to, if any.
        time_zone: the zone for floating times and all-day events (the clinic's).
        origin: a name for messages.

    >>> text = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n"
    ...         "DTSTAMP:20260101T000000Z\r\nDTSTART:20260105T090000Z\r\n"
    ...         "DTEND:20260105T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n"
    ...         "END:VCALENDAR\r\n")
    >>> [b.start.isoformat() for b in bookings_from_ics(
    ...     text, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31), resource="chair")]
    ['2026-01-05T09:00:00+00:00', '2026-01-06T09:00:00+00:00', '2026-01-07T09:00:00+00:00']
    """
    in_range("start", start)
    in_range("end", end)
    if end < start:
        raise LimitError("end", f"on or after start ({start})", end)
    window = Window.of(start, end, zone(valid_time_zone("time_zone", time_zone)))
    calendar, outline = _parse(data, origin)
    parts = outline.of(calendar.walk())
    raise_problems(time_problems(calendar, parts, origin))
    _check_zones(calendar, window, parts, origin)
    tally = Tally(origin, window)
    found: list[Interval] = list(event_busy(calendar, window, tally, parts, origin))
    found += free_busy(calendar, window, tally)
    found.sort(key=lambda span: (span[0].astimezone(dt.UTC), span[1].astimezone(dt.UTC)))
    # One booking validated, the rest copies of it: each span is aware and ordered by clipping.
    label = f"busy ({Path(origin).name})"
    fields = {"start": window.start, "end": window.stop, "resource": resource}
    (template,) = parse_bookings([{**fields, "patient": patient, "label": label}])
    return [template.model_copy(update={"start": s, "end": e}) for s, e in found]


def _parse(data: bytes | str, origin: str) -> tuple[Any, Outline]:
    """The calendar in ``data`` and its outline, or every problem of shape or value in it."""
    text = _decode(data, origin)
    count_components(text, origin)
    lines = logical_lines(text)
    problems, outline = check_structure(lines, origin)
    raise_problems(problems)
    # A VTIMEZONE belongs to its file: icalendar keeps custom zones in a process-wide cache by
    # TZID, where an earlier file's zone (even one refused) would stand in for this file's.
    tzp.use(tzp.name)
    try:
        calendar = Calendar.from_ical(text)
    except OverflowError as err:  # icalendar adds a period's duration to its start as it reads
        where = next((f"line {n}" for n, line in lines if _overflows(line)), "")
        raise CalendarFileError(
            [Problem(where, "has a period that ends after year 9999", origin=origin)]
        ) from err
    except (ValueError, IndexError, KeyError) as err:
        raise CalendarFileError([Problem("", f"is not iCalendar: {err}", origin=origin)]) from err
    except (OSError, RecursionError) as err:  # a zone name the structure check did not foresee
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise CalendarFileError(
            [Problem("", f"names a time zone that cannot be looked up ({reason})", origin=origin)]
        ) from err
    raise_problems(*property_problems(calendar, outline, origin))
    raise_problems(order_problems(calendar, outline, origin))
    return calendar, outline


def _overflows(line: str) -> bool:
    """Whether ``line`` holds a period (start/duration) that icalendar cannot end."""
    if "/" not in line:
        return False
    for value in line.partition(":")[2].split(","):
        try:
            vPeriod(vPeriod.from_ical(value))  # type: ignore[no-untyped-call]  # untyped there
        except OverflowError:
            return True
        except (ValueError, TypeError):
            continue
    return False


def _decode(data: bytes | str, origin: str) -> str:
    if isinstance(data, str):
        if len(data) > MAX_ICS_BYTES:
            raise LimitError(origin, f"at most {MAX_ICS_BYTES} characters", len(data))
        return data
    if len(data) > MAX_ICS_BYTES:
        raise LimitError(origin, f"at most {MAX_ICS_BYTES} bytes", len(data))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CalendarFileError(
            [Problem(f"line {line}", "must be UTF-8 text", origin=origin)]
        ) from err


def _check_zones(calendar: Any, window: Window, parts: dict[int, Part], origin: str) -> None:
    """Every VTIMEZONE changes its offset on yearly rules, at most MAX_ZONE_ONSETS times."""
    last = window.beyond.replace(tzinfo=None)
    for tz in calendar.walk("VTIMEZONE"):
        onsets = 0
        for observance in tz.subcomponents:
            onsets += 1 + sum(len(r.dts) for r in _values(observance, "RDATE"))
            for rule in _values(observance, "RRULE"):
                onsets += _zone_rule(observance, rule.to_ical().decode(), last, parts, origin)
        if onsets > MAX_ZONE_ONSETS:
            part = parts.get(id(tz))
            where = f"line {part.begin}: " if part else ""
            raise LimitError(
                f"{origin}: {where}VTIMEZONE {tz.get('TZID')}",
                f"at most {MAX_ZONE_ONSETS:,} changes of offset up to the end of the span "
                "(DTSTARTs, RDATEs and yearly repetitions; counted until the count passed that)",
                onsets,
            )


def _values(component: Any, name: str) -> list[Any]:
    values = component.get(name, [])
    return values if isinstance(values, list) else [values]


def _zone_rule(
    observance: Any, text: str, last: dt.datetime, parts: dict[int, Part], origin: str
) -> int:
    """How many onsets one rule of a zone's observance has up to ``last``.

    Counting stops above MAX_ZONE_ONSETS. A rule that is not yearly is a CalendarFileError.
    """
    start = observance.get("DTSTART")
    begin = start.dt if start is not None else None
    count = 0
    try:
        for _ in zone_onsets(begin, text, last):
            count += 1
            if count > MAX_ZONE_ONSETS:
                break
    except (ValueError, TypeError) as err:
        part = parts.get(id(observance))
        where = f"line {part.line_of('RRULE')}" if part else str(observance.name)
        raise CalendarFileError(
            [Problem(where, f"RRULE of a time zone: {err}", text, origin)]
        ) from err
    return count
