"""Reading busy times from a FHIR Bundle, as bookings for ``plan`` and ``check``.

The FHIR counterpart of :mod:`ketaplan.ics.reading`: a clinic's EHR exports its schedule as a
Bundle (a search result, a collection) of Appointment, Slot and Schedule resources, and each
busy time becomes a :class:`~ketaplan.bookings.Booking`:

- an Appointment with a start, unless it is ``cancelled``, ``noshow``, ``entered-in-error``
  or ``waitlist`` (:data:`~ketaplan.fhir.mapping.BUSY_APPOINTMENT_STATUSES`); its end, or its
  start plus ``minutesDuration``;
- a Slot that is ``busy``, ``busy-unavailable`` or ``busy-tentative``, unless its Schedule is
  in the Bundle and not ``active``; free slots are not busy;
- a Schedule is not busy time itself (its planning horizon is when slots may be found).

Every resource of those types is read through the FHIR models, so a malformed one is an error
naming its entry and field, never a silent drop; other resource types (a CarePlan, Tasks) are
passed over. Only times are read: no text, so nothing private travels into plans. The same
bounds as for ``.ics`` files hold.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ketaplan._model import number_refused
from ketaplan._types import ResourceKind
from ketaplan.bookings import Booking
from ketaplan.errors import CalendarFileError, LimitError, Problem
from ketaplan.fhir.mapping import BUSY_APPOINTMENT_STATUSES, BUSY_SLOT_STATUSES
from ketaplan.fhir.models import Appointment, Schedule, Slot
from ketaplan.ics.lines import MAX_COMPONENTS
from ketaplan.ics.reading import MAX_ICS_BYTES, read_busy_file
from ketaplan.protocol.policy import valid_time_zone
from ketaplan.timing import zone

__all__ = ["MAX_ENTRIES", "MAX_FHIR_BYTES", "bookings_from_fhir", "load_busy"]

#: Files larger than this are refused unread (as ``.ics`` files are).
MAX_FHIR_BYTES = MAX_ICS_BYTES
#: At most this many entries in one Bundle: as many as an ``.ics`` file may hold components.
MAX_ENTRIES = MAX_COMPONENTS
_MAX_REPORTED = 50
_MODELS: dict[str, type[Appointment | Slot | Schedule]] = {
    "Appointment": Appointment,
    "Slot": Slot,
    "Schedule": Schedule,
}

Read = tuple[int, str | None, Appointment | Slot | Schedule]
"""An entry's index, its fullUrl, and its resource, parsed."""


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
    """Busy times from a FHIR JSON file, between ``start`` and ``end``.

    The options are those of :func:`bookings_from_fhir`.
    """
    origin = os.fspath(path)
    data = read_busy_file(origin, limit=MAX_FHIR_BYTES)
    return bookings_from_fhir(
        data,
        start=start,
        end=end,
        resource=resource,
        patient=patient,
        time_zone=time_zone,
        origin=origin,
    )


def bookings_from_fhir(
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
    """Busy times in a FHIR Bundle (or a single Appointment or Slot), as bookings.

    Args:
        data: the JSON document.
        start: the first day to read.
        end: the last day to read (included).
        resource: what each busy time occupies in the clinic (``"chair"``, ...); ``None`` for
            a patient's own schedule (then give ``patient``).
        patient: the patient the busy times belong to, if any.
        time_zone: the zone whose days ``start`` and ``end`` are (the clinic's).
        origin: a name for messages.

    >>> text = ('{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": '
    ...         '{"resourceType": "Slot", "schedule": {"reference": "Schedule/1"}, '
    ...         '"status": "busy", "start": "2026-12-07T09:00:00-05:00", '
    ...         '"end": "2026-12-07T10:00:00-05:00"}}]}')
    >>> [b.start.isoformat() for b in bookings_from_fhir(
    ...     text, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31), resource="chair")]
    ['2026-12-07T09:00:00-05:00']
    """
    if end < start:
        raise LimitError("end", f"on or after start ({start})", end)
    document = _document(data, origin)
    read = _read(document, origin)
    tz = zone(valid_time_zone("time_zone", time_zone))
    lowest = dt.datetime.combine(start, dt.time(0), tzinfo=tz)
    highest = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    label = f"busy ({Path(origin).name})"
    return sorted(
        (
            Booking(start=first, end=last, resource=resource, patient=patient, label=label)
            for first, last in _busy(read)
            if last > first and last > lowest and first < highest
        ),
        key=lambda booking: (booking.start, booking.end),
    )


def _document(data: bytes | str, origin: str) -> dict[str, Any]:
    """The JSON object, or :class:`CalendarFileError` saying why not."""
    if len(data) > MAX_FHIR_BYTES:
        raise LimitError(origin, f"at most {MAX_FHIR_BYTES} bytes", len(data))
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        _count_resources(text, origin)
        document = json.loads(text)
    except LimitError:  # a ValueError too: the count above, said as it is
        raise
    except UnicodeDecodeError as err:
        raise CalendarFileError([Problem("", "must be UTF-8 text", origin=origin)]) from err
    except json.JSONDecodeError as err:
        where = f"line {err.lineno}"
        raise CalendarFileError([Problem(where, f"is not JSON: {err.msg}", origin=origin)]) from err
    except RecursionError as err:
        raise CalendarFileError([Problem("", "is nested too deeply", origin=origin)]) from err
    except ValueError as err:  # a number longer than Python reads (4,300 digits)
        raise CalendarFileError([Problem("", f"cannot be read: {err}", origin=origin)]) from err
    if not isinstance(document, dict) or "resourceType" not in document:
        expected = "must be a FHIR resource (a JSON object with resourceType)"
        raise CalendarFileError([Problem("", expected, origin=origin)])
    return document


#: A resource in the JSON text, counted before it is parsed (each entry holds one).
_RESOURCE = re.compile(r'"resource"\s*:')


def _count_resources(text: str, origin: str) -> None:
    """Refuse a Bundle of more entries than an .ics file may hold components, before parsing.

    JSON is parsed whole: 150,000 entries took 16 s and 750 MB. The text's ``"resource":``
    keys bound the entries from above (an escaped key is counted after parsing, by
    :func:`_read`).
    """
    for count, _ in enumerate(_RESOURCE.finditer(text), start=1):
        if count > MAX_ENTRIES:
            raise LimitError(origin, f"at most {MAX_ENTRIES:,} entries; reading stopped at the "
                             "count given", count)  # fmt: skip


def _read(document: dict[str, Any], origin: str) -> list[Read]:
    """The Appointments, Slots and Schedules of the document, each parsed by its model."""
    if document["resourceType"] == "Bundle":
        entries = document.get("entry", [])
        if not isinstance(entries, list):
            raise CalendarFileError([Problem("entry", "must be a list", origin=origin)])
    else:
        entries = [{"resource": document}]
    if len(entries) > MAX_ENTRIES:
        raise LimitError(origin, f"at most {MAX_ENTRIES:,} entries", len(entries))
    found: list[Read] = []
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if not isinstance(kind, str) or kind not in _MODELS:
            if not isinstance(kind, str):
                problems.append(Problem(f"entry[{index}]", "must hold a resource", origin=origin))
            continue
        numbers = _times_as_numbers(resource, f"entry[{index}].resource", origin)
        if numbers:
            problems += numbers
            continue
        try:
            parsed = _MODELS[kind].model_validate(resource)
        except ValidationError as err:
            problems += _problems(err, f"entry[{index}].resource", origin)
            continue
        wrong = _inconsistent(parsed, f"entry[{index}].resource", origin)
        if wrong:
            problems += wrong
            continue
        full_url = entry.get("fullUrl")
        found.append((index, full_url if isinstance(full_url, str) else None, parsed))
    if problems:
        omitted = max(0, len(problems) - _MAX_REPORTED)
        raise CalendarFileError(problems[:_MAX_REPORTED], omitted=omitted)
    return found


#: The codes FHIR R4 allows for an Appointment's and a Slot's status (required value sets).
_APPOINTMENT_STATUSES = frozenset({"proposed", "pending", "booked", "arrived", "fulfilled",
                                   "cancelled", "noshow", "entered-in-error", "checked-in",
                                   "waitlist"})  # fmt: skip
_SLOT_STATUSES = frozenset({"busy", "free", "busy-unavailable", "busy-tentative",
                            "entered-in-error"})  # fmt: skip


def _inconsistent(resource: Any, where: str, origin: str) -> list[Problem]:
    """What the models let through that would drop or misplace a busy time, said.

    A status outside FHIR's value set, a time that is not a date and time (a leap second is
    kept as text), an Appointment with a start and neither end nor duration (invariant
    app-2), or an end before the start: each used to be skipped, silently, or to fail with a
    Python error.
    """
    if isinstance(resource, Schedule):
        return []
    statuses = _APPOINTMENT_STATUSES if isinstance(resource, Appointment) else _SLOT_STATUSES
    found = []
    if resource.status not in statuses:
        found.append(Problem(f"{where}.status", f"must be one of {', '.join(sorted(statuses))}",
                             resource.status, origin))  # fmt: skip
    start, end = resource.start, resource.end
    for name, value in (("start", start), ("end", end)):
        if value is not None and not (isinstance(value, dt.datetime) and value.tzinfo):
            found.append(Problem(f"{where}.{name}", _NOT_AN_INSTANT, str(value), origin))
    if found:
        return found
    if (
        isinstance(resource, Appointment)
        and start is not None
        and end is None
        and (not resource.minutesDuration)
    ):
        found.append(Problem(f"{where}.end", "must be given with start (or minutesDuration)",
                             origin=origin))  # fmt: skip
    if start is not None and end is not None and end < start:
        found.append(Problem(f"{where}.end", f"must not be before start ({start})", str(end),
                             origin))  # fmt: skip
    return found


def _times_as_numbers(resource: Any, where: str, origin: str) -> list[Problem]:
    """A problem for each time read from ``resource`` that is a number.

    The FHIR models read a number as Unix seconds (``"start": 5`` is 1970-01-01T00:00:05Z), so
    a mistake would be a busy time; ketaplan's own models refuse it (:func:`number_refused`).
    """
    found: list[Problem] = []
    for name in _TIMES:
        said = number_refused(resource.get(name))
        if said is not None:
            found.append(Problem(f"{where}.{name}", said, resource[name], origin))
    return found


#: The fields read as times from an Appointment or a Slot (a Schedule's are not read).
_TIMES = ("start", "end")

#: What a busy time's start or end must be: a FHIR ``instant``. The models' own words ("Value
#: error, Instant value string does not match spec regex.") said neither what nor how.
_NOT_AN_INSTANT = (
    "must be a date and time with a UTC offset (a FHIR instant), e.g. 2026-12-07T09:00:00-05:00"
)


def _problems(err: ValidationError, where: str, origin: str) -> list[Problem]:
    """The models' errors, each naming its entry's field; a start or end in ketaplan's words."""
    return [
        Problem(
            ".".join([where, *(str(part) for part in error["loc"])]),
            _NOT_AN_INSTANT
            if tuple(error["loc"]) in {(name,) for name in _TIMES}
            else error["msg"],
            error.get("input"),
            origin,
        )
        for error in err.errors()
    ]


def _busy(read: list[Read]) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Each busy interval: booked appointments, and busy slots of schedules in use."""
    inactive: set[str] = set()
    for _, full_url, resource in read:
        if isinstance(resource, Schedule) and resource.active is False:
            inactive.add(f"Schedule/{resource.id}")
            if full_url:
                inactive.add(full_url)
    for _, _, resource in read:
        if isinstance(resource, Appointment):
            if resource.status not in BUSY_APPOINTMENT_STATUSES or resource.start is None:
                continue
            if resource.end is not None:
                yield resource.start, resource.end
            elif resource.minutesDuration:
                yield (
                    resource.start,
                    resource.start + dt.timedelta(minutes=resource.minutesDuration),
                )
        elif (
            isinstance(resource, Slot)
            and resource.status in BUSY_SLOT_STATUSES
            and resource.schedule.reference not in inactive
            and resource.start is not None
            and resource.end is not None
        ):
            yield resource.start, resource.end
