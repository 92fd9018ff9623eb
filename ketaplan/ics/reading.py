"""Reading busy times from iCalendar files, as bookings for ``plan`` and ``check``.

A clinic's existing appointments (exported by its software, Google or Outlook) or a patient's
own calendar become :class:`~ketaplan.bookings.Booking` objects. Recurring events are expanded
with ``recurring-ical-events`` (RRULE, RDATE, EXDATE, moved instances by RECURRENCE-ID, and
Google's ``X-WR-TIMEZONE``); all-day events block their whole days; cancelled instances and
transparent (free) events are skipped; VFREEBUSY busy periods count too. A malformed file is an
error naming each bad line, never a silent drop. Only times are read: summaries and
descriptions stay behind, so nothing private travels into plans.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import recurring_ical_events
from icalendar import Calendar

from ketaplan._types import ResourceKind
from ketaplan.bookings import Booking
from ketaplan.errors import CalendarFileError, LimitError, Problem
from ketaplan.timing import zone

__all__ = [
    "MAX_ICS_BYTES",
    "MAX_OCCURRENCES",
    "CalendarFileError",
    "bookings_from_ics",
    "load_busy",
    "read_busy_file",
]

#: Files larger than this are refused unread.
MAX_ICS_BYTES = 200 * 1024 * 1024
#: At most this many busy intervals are read from one file (recurring events included).
MAX_OCCURRENCES = 2_000_000
_MAX_REPORTED = 50

_NAME = re.compile(r"^[A-Za-z0-9-]+(;|:)")


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
        size = Path(origin).stat().st_size
        if size > limit:
            raise LimitError(origin, f"at most {limit} bytes", size)
        return Path(origin).read_bytes()
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
    if end < start:
        raise LimitError("end", f"on or after start ({start})", end)
    text = _decode(data, origin)
    lines = _logical_lines(text)
    problems = _structure(lines, origin)
    if problems:
        raise CalendarFileError(problems[:_MAX_REPORTED])
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as err:
        raise CalendarFileError([Problem("", f"is not iCalendar: {err}", origin=origin)]) from err
    problems = _property_errors(calendar, lines, origin)
    if problems:
        raise CalendarFileError(problems[:_MAX_REPORTED])
    tz = zone(time_zone)
    bookings = _events(calendar, start, end, tz, origin)
    bookings += _free_busy(calendar, start, end, tz)
    if len(bookings) > MAX_OCCURRENCES:
        raise LimitError(origin, f"at most {MAX_OCCURRENCES} busy times", len(bookings))
    label = f"busy ({Path(origin).name})"
    return sorted(
        (
            Booking(start=s, end=e, resource=resource, patient=patient, label=label)
            for s, e in bookings
            if e > s
        ),
        key=lambda booking: (booking.start, booking.end),
    )


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


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Unfolded content lines with the number of the physical line each starts on."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in {" ", "\t"} and lines:
            first, content = lines[-1]
            lines[-1] = (first, content + raw[1:])
        elif raw.strip():
            lines.append((number, raw))
    return lines


def _structure(lines: list[tuple[int, str]], origin: str) -> list[Problem]:
    problems: list[Problem] = []
    stack: list[tuple[str, int]] = []
    for number, line in lines:
        if not _NAME.match(line):
            problems.append(
                Problem(f"line {number}", "must be a content line NAME:value", line[:60], origin)
            )
            continue
        name, _, value = line.partition(":")
        key = name.split(";", 1)[0].upper()
        if key == "BEGIN":
            stack.append((value.strip().upper(), number))
        elif key == "END":
            if not stack or stack[-1][0] != value.strip().upper():
                problems.append(
                    Problem(f"line {number}", "does not close an open component", line, origin)
                )
            else:
                stack.pop()
    problems += [
        Problem(f"line {opened}", f"{component} is never closed", origin=origin)
        for component, opened in stack
    ]
    if lines and not lines[0][1].upper().startswith("BEGIN:VCALENDAR"):
        problems.insert(0, Problem("line 1", "must begin with BEGIN:VCALENDAR", origin=origin))
    return problems


def _property_errors(calendar: Any, lines: list[tuple[int, str]], origin: str) -> list[Problem]:
    problems: list[Problem] = []
    for component in calendar.walk():
        for name, message in getattr(component, "errors", ()):
            number = next(
                (
                    n
                    for n, line in lines
                    if line.upper().startswith(str(name).upper())
                    and (line.partition(":")[2] in str(message))
                ),
                None,
            ) or next((n for n, line in lines if line.upper().startswith(str(name).upper())), None)
            where = f"line {number}" if number else str(component.name)
            problems.append(Problem(where, f"{name}: {message}", origin=origin))
    return problems


def _as_instant(value: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    return dt.datetime.combine(value, dt.time(0), tzinfo=tz)


def _events(
    calendar: Any, start: dt.date, end: dt.date, tz: dt.tzinfo, origin: str
) -> list[tuple[dt.datetime, dt.datetime]]:
    found: list[tuple[dt.datetime, dt.datetime]] = []
    try:
        occurrences = recurring_ical_events.of(calendar).between(start, end + dt.timedelta(days=1))
        for event in occurrences:
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
                continue
            begin = event.get("DTSTART")
            if begin is None:
                continue
            first = _as_instant(begin.dt, tz)
            finish = event.get("DTEND")
            if finish is not None:
                last = _as_instant(finish.dt, tz)
            elif isinstance(begin.dt, dt.datetime):
                last = first + (event.duration if event.get("DURATION") else dt.timedelta())
            else:
                last = _as_instant(begin.dt + dt.timedelta(days=1), tz)
            found.append((first, last))
            if len(found) > MAX_OCCURRENCES:
                break
    except (ValueError, TypeError, KeyError) as err:
        raise CalendarFileError(
            [Problem("", f"recurring events cannot be expanded: {err}", origin=origin)]
        ) from err
    return found


def _free_busy(
    calendar: Any, start: dt.date, end: dt.date, tz: dt.tzinfo
) -> list[tuple[dt.datetime, dt.datetime]]:
    found = []
    lowest = dt.datetime.combine(start, dt.time(0), tzinfo=tz)
    highest = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    for component in calendar.walk("VFREEBUSY"):
        values = component.get("FREEBUSY", [])
        for value in values if isinstance(values, list) else [values]:
            kind = str(value.params.get("FBTYPE", "BUSY")).upper()
            if kind == "FREE":
                continue
            for period in value.dts if hasattr(value, "dts") else [value]:
                first, second = period.dt if isinstance(period.dt, tuple) else (period.dt, None)
                if second is None:
                    continue
                begin = _as_instant(first, tz)
                finish = (
                    begin + second if isinstance(second, dt.timedelta) else _as_instant(second, tz)
                )
                if finish > lowest and begin < highest:
                    found.append((begin, finish))
    return found
