"""What ``to_ics`` is measured against: the same events written by hand (issue 18).

Both baselines write, for every appointment, the 14 properties ``to_ics`` writes for a clinic
calendar at full detail: SUMMARY, DTSTART, DTEND, DTSTAMP, UID, SEQUENCE, CATEGORIES,
DESCRIPTION, LOCATION, RESOURCES, STATUS, TRANSP, X-KETAPLAN-APPOINTMENT and
X-KETAPLAN-PATIENT, with the same words, and the VTIMEZONE its times need. The words are
ketaplan's own, from its public helpers (:func:`~ketaplan.ics.event_text` for the title and
the description, given each appointment's checkpoints found in one pass as ``to_ics`` finds
them; :func:`~ketaplan.ics.uid_for`, :func:`~ketaplan.ics.resource_name`), as a clinic writing
its own export around ketaplan's plans would take them: so the ratios compare the writing,
not two different texts or two ways of finding them. :func:`words` alone is timed too, to show
its share. Both write the events in the order ``to_ics`` writes them, by start and then UID,
so all three write the same calendar.

- :func:`with_icalendar`: icalendar's ``Event`` and ``Calendar.to_ical()``.
- :func:`with_fstrings`: the floor, hand-written f-strings with RFC 5545 escaping and
  folding; it writes every local time with its TZID (``to_ics`` also checks for a repeated
  hour, where it writes UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

import icalendar

from ketaplan import Plan
from ketaplan.ics import uid_for
from ketaplan.ics.export import event_status, event_text, resource_name
from ketaplan.plans import Appointment, Task

__all__ = [
    "PROPERTIES",
    "Words",
    "checkpoints",
    "in_order",
    "with_fstrings",
    "with_icalendar",
    "words",
]

#: The properties of each event, as ``to_ics`` writes them for a clinic at full detail.
PROPERTIES = ("SUMMARY", "DTSTART", "DTEND", "DTSTAMP", "UID", "SEQUENCE", "CATEGORIES",
              "DESCRIPTION", "LOCATION", "RESOURCES", "STATUS", "TRANSP",
              "X-KETAPLAN-APPOINTMENT", "X-KETAPLAN-PATIENT")  # fmt: skip


@dataclass(frozen=True)
class Words:
    """One event's values, in ketaplan's words."""

    uid: str
    summary: str
    description: str
    location: str
    resources: str
    category: str
    status: str
    patient: str


def checkpoints(plans: list[Plan]) -> dict[tuple[str, str], list[Task]]:
    """Each appointment's checkpoint tasks, found in one pass (as ``to_ics`` finds them)."""
    found: dict[tuple[str, str], list[Task]] = {}
    for plan in plans:
        for task in plan.tasks:
            if task.kind == "checkpoint" and task.appointment is not None:
                found.setdefault((plan.id, task.appointment), []).append(task)
    return found


def in_order(plans: list[Plan]) -> list[tuple[float, str, Plan, Appointment]]:
    """Each appointment's start (as an instant), UID, plan and itself, in ``to_ics``'s order."""
    found = [
        (a.start.timestamp(), uid_for(made, a), made, a)
        for made in plans
        for a in made.appointments
    ]
    found.sort(key=itemgetter(0, 1))
    return found


def words(
    plan: Plan, appointment: Appointment, checks: Sequence[Task] = (), *, uid: str | None = None
) -> Words:
    """The values of ``appointment``'s event, from ketaplan's public helpers."""
    summary, description = event_text(
        plan, appointment, audience="clinic", detail="full", checks=checks
    )
    names = [resource_name(span.resource, span.unit) for span in appointment.resources]
    return Words(
        uid=uid or uid_for(plan, appointment),
        summary=summary,
        description=description,
        location=plan.clinic_location or "",
        resources=", ".join(names),
        category=appointment.kind,
        status=event_status(appointment),
        patient=plan.patient or plan.id,
    )


def with_icalendar(plans: list[Plan], stamp: dt.datetime) -> bytes:
    """The events written with icalendar's objects, as a clinic would by hand."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//baseline//EN")
    calendar.add("version", "2.0")
    checks = checkpoints(plans)
    for _, uid, made, appointment in in_order(plans):
        said = words(made, appointment, checks.get((made.id, appointment.id), ()), uid=uid)
        local = appointment.local_start
        event = icalendar.Event()
        event.add("summary", said.summary)
        event.add("dtstart", local)
        event.add("dtend", appointment.end.astimezone(local.tzinfo))
        event.add("dtstamp", stamp)
        event.add("uid", said.uid)
        event.add("sequence", appointment.revision)
        event.add("categories", [said.category])
        event.add("description", said.description)
        event.add("location", said.location)
        event.add("resources", icalendar.vText(said.resources))
        event.add("status", said.status)
        event.add("transp", "OPAQUE")
        event.add("x-ketaplan-appointment", icalendar.vText(appointment.id))
        event.add("x-ketaplan-patient", icalendar.vText(said.patient))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _line(text: str) -> str:
    """A content line folded at 75 octets (ASCII: by characters; otherwise by UTF-8 bytes)."""
    if len(text) < 75 and text.isascii():
        return text + "\r\n"
    data = text.encode()
    if len(data) < 75:
        return text + "\r\n"
    parts, start = [], 0
    while start < len(data):
        end = min(start + (75 if not parts else 74), len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a UTF-8 sequence
            end -= 1
        parts.append(data[start:end].decode())
        start = end
    return "\r\n ".join(parts) + "\r\n"


def with_fstrings(plans: list[Plan], stamp: dt.datetime) -> bytes:
    """The floor: the same events as f-strings, escaped and folded, and one VTIMEZONE a zone."""
    out = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//floor//EN\r\n"]
    zones: set[str] = set()
    stamped = f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}\r\n"
    checks = checkpoints(plans)
    for _, uid, made, appointment in in_order(plans):
        said = words(made, appointment, checks.get((made.id, appointment.id), ()), uid=uid)
        local = appointment.local_start
        end = appointment.end.astimezone(local.tzinfo)
        tzid = appointment.time_zone
        zones.add(tzid)
        out.append(
            "BEGIN:VEVENT\r\n"
            + _line(f"SUMMARY:{_escape(said.summary)}")
            + f"DTSTART;TZID={tzid}:{local:%Y%m%dT%H%M%S}\r\n"
            + f"DTEND;TZID={tzid}:{end:%Y%m%dT%H%M%S}\r\n"
            + stamped
            + f"UID:{said.uid}\r\nSEQUENCE:{appointment.revision}\r\n"
            + _line(f"CATEGORIES:{_escape(said.category)}")
            + _line(f"DESCRIPTION:{_escape(said.description)}")
            + _line(f"LOCATION:{_escape(said.location)}")
            + _line(f"RESOURCES:{_escape(said.resources)}")
            + f"STATUS:{said.status}\r\nTRANSP:OPAQUE\r\n"
            + _line(f"X-KETAPLAN-APPOINTMENT:{_escape(appointment.id)}")
            + _line(f"X-KETAPLAN-PATIENT:{_escape(said.patient)}")
            + "END:VEVENT\r\n"
        )
    for tzid in sorted(zones):
        out.insert(1, icalendar.Timezone.from_tzid(tzid).to_ical().decode())
    out.append("END:VCALENDAR\r\n")
    return "".join(out).encode()
