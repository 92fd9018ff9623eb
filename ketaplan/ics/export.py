"""``to_ics()``: plans as iCalendar that Google, Apple, Outlook and Thunderbird show right.

What it guarantees:

- one VEVENT per appointment, never an RRULE, so updating one session never touches another;
- times in the appointment's IANA zone with a VTIMEZONE every client reads the same way
  (:mod:`ketaplan.ics.vtimezone`); a local time in a repeated DST hour is written in UTC;
- a stable, opaque UID per appointment (a hash: no patient data), SEQUENCE from the
  appointment's revision, DTSTAMP from ``now``: the same plan and ``now`` give the same bytes;
- ``STATUS:CANCELLED`` for cancelled and missed sessions (clients know no "missed"), so
  calendars show them as not taking place instead of keeping a stale copy;
  ``METHOD:REQUEST``/``CANCEL`` with ORGANIZER and ATTENDEE as RFC 5546 requires;
- for patients, by default (``detail="minimal"``), nothing that reveals the treatment or a
  diagnosis: a generic title with the clinic's patient-facing name, a neutral description
  for every event, neutral preparation text and reminders;
- patient reminders before the deadline they announce and outside the clinic's quiet hours
  (:mod:`ketaplan.ics.reminders`);
- for staff (``audience="clinic"``, ``detail="full"``), each checkpoint of a planned dose
  (blood pressure before dosing, 40 minutes after, ...) with its local time in the
  description, and a reminder for each timed check inside the session;
- every text cleaned of control and bidi characters before icalendar sees it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Literal

from icalendar import Alarm, Calendar, Component, Event, vCalAddress, vDuration, vText
from icalendar.enums import STATUS, TRANSP
from icalendar.parser import Contentline
from icalendar.timezone.tzid import tzid_from_tzinfo

from ketaplan._model import aware, choice
from ketaplan._resolve import timed_plans
from ketaplan._text import fmt_clock, fmt_day
from ketaplan._types import NUMBERED_KINDS, RESOURCE_KINDS, ResourceKind
from ketaplan._version import __version__
from ketaplan.errors import InputError, LimitError
from ketaplan.holds import resumes_after
from ketaplan.ics.reminders import DayBefore, reminder_for
from ketaplan.ics.text import MAX_TEXT, clean_line, clean_text, shortened
from ketaplan.ics.vtimezone import vtimezone
from ketaplan.plans import Appointment, Instruction, Plan, Task, opaque_key
from ketaplan.protocol import Protocol
from ketaplan.timing import current_time, steady_midnight, zone

__all__ = [
    "PRODID",
    "Audience",
    "Detail",
    "EventCache",
    "Method",
    "event_text",
    "instruction_text",
    "resource_name",
    "to_ics",
    "uid_for",
]

Audience = Literal["patient", "clinic"]
Detail = Literal["minimal", "full"]
Method = Literal["PUBLISH", "REQUEST", "CANCEL"]

#: The PRODID ketaplan writes (fixed, so output does not change with icalendar's version).
PRODID = f"-//ketaplan//ketaplan {__version__}//EN"

#: The separator in titles, an en dash: "Appointment \u2013 Demo Clinic".
DASH = " \u2013 "

#: An e-mail address, whole (``fullmatch``: no trailing newline): no space, no control
#: character, none of the characters that end a calendar address.
_PART = r"[^@\s:;,<>\"\x00-\x1f\x7f]+"
_EMAIL = re.compile(rf"{_PART}@{_PART}\.{_PART}")

#: Reminders written for patients, by instruction kind, with neutral words for ``minimal``.
_NEUTRAL: dict[str, str] = {
    "fasting-solids": "Please follow your clinic's instructions about eating before your "
    "appointment, from {at}.",
    "fasting-liquids": "Please follow your clinic's instructions about drinking before your "
    "appointment, from {at}.",
    "nasal-spray": "If you use a nasal spray or decongestant on the day of your appointment, "
    "use it by {at}.",
    "medication-hold": "Please pause the medicine your clinic told you about{which}: do not "
    "take it from {at}; resume after {until}.",
    "escort": "Please arrange your transportation home for about {at}.",
    "no-driving": "Please do not drive until {until}.",
    "peer-monitor": "Please make sure another adult is with you for the whole appointment.",
}

#: The neutral words of the label's driving restriction, which has a day and no time. Neutral
#: words keep what the patient must do and until when (a calendar that said only "after your
#: appointment" dropped the length of the restriction; a clinical review found it).
_NO_DRIVING_OVERNIGHT = (
    "Please do not drive or operate machinery until {day}, after a restful sleep."
)

#: The most of a session's reason a calendar shows: the instructions and checkpoints after it
#: fit within the text bound (a 5,000-character reason used to push them out of the event).
MAX_REASON = 1000

#: What a patient's event is, in neutral words, by the kind of session.
_NEUTRAL_KIND: dict[str, str] = {
    "dosing": "Session",
    "consultation": "Consultation",
    "preparation": "Preparation appointment",
    "integration": "Follow-up session",
    "review": "Review appointment",
    "call": "Call",
}


#: The DTSTAMP cached events are written with; replaced by the export's own on the way out.
_PLACEHOLDER_STAMP = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_PLACEHOLDER_LINE = b"\r\nDTSTAMP:19700101T000000Z\r\n"


class EventCache:
    """Serialized events kept between exports, so unchanged appointments cost a lookup.

    A clinic feed or a nightly export writes the same appointments again and again; with a
    cache, each is serialized once per content and options, and then copied. The key is the
    whole appointment, its plan's other fields and the export's options, so any change
    (a move, a new revision, a renamed clinic) misses and is written afresh. DTSTAMP is
    filled in per export. At most ``max_events`` are kept, least recently used first out.

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> made = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 12, 7))
    >>> cache = EventCache()
    >>> now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    >>> to_ics(made, now=now, cache=cache) == to_ics(made, now=now)
    True
    >>> len(cache), cache.hits  # the intake and 5 infusions
    (6, 0)
    >>> _ = to_ics(made, now=now, cache=cache)
    >>> cache.hits
    6
    """

    def __init__(self, *, max_events: int = 200_000) -> None:
        if not isinstance(max_events, int) or isinstance(max_events, bool) or max_events < 1:
            raise InputError("max_events", "a whole number >= 1", max_events)
        self.max_events = max_events
        self.hits = 0
        self._events: OrderedDict[tuple[object, ...], bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._events)

    def _get(self, key: tuple[object, ...]) -> bytes | None:
        found = self._events.get(key)
        if found is not None:
            self._events.move_to_end(key)
            self.hits += 1
        return found

    def _put(self, key: tuple[object, ...], data: bytes) -> None:
        self._events[key] = data
        if len(self._events) > self.max_events:
            self._events.popitem(last=False)


def serialize(component: Component) -> bytes:
    """``component.to_ical()``, byte for byte, with a faster path for folding lines.

    icalendar folds every content line character by character. Lines shorter than 75 octets
    never change, and ASCII lines fold at fixed places (:func:`fold`); only the others go
    through icalendar's folding.
    """
    parts = []
    for line in component.content_lines():
        if not line:
            continue
        if line.isascii():
            parts.append(fold(line).encode("ascii"))
        else:
            data = line.encode("utf-8")
            parts.append(data if len(data) < _FOLD_AT else line.to_ical())
    return b"\r\n".join(parts) + b"\r\n"


#: icalendar folds a line once it reaches 75 octets; shorter lines are never changed.
_FOLD_AT = 75


def fold(line: str) -> str:
    r"""An ASCII content line folded exactly as icalendar 7.3 folds it.

    Every piece but the last is 74 characters (the continuation's leading space makes 75
    octets), except that a piece never ends in ``\`` or ``^``, so an escape is not split: the
    character moves to the next piece.

    >>> fold("DESCRIPTION:" + "x" * 70) == "DESCRIPTION:" + "x" * 62 + "\r\n " + "x" * 8
    True
    """
    pieces = []
    start, size = 0, _FOLD_AT - 1
    while len(line) - start > size:
        cut = start + size
        if line[cut - 1] in "\\^":
            cut -= 1
        pieces.append(line[start:cut])
        start = cut
    pieces.append(line[start:])
    return "\r\n ".join(pieces)


def not_taking_place(appointment: Appointment) -> bool:
    """Whether calendars should show ``appointment`` as not taking place (no alarms either).

    A cancelled session, and a missed one: calendar clients know no "missed" status, and
    ``STATUS:CANCELLED`` is what they all show as an appointment that did not happen (struck
    through or hidden) rather than one that took place.
    """
    return appointment.status in {"cancelled", "missed"}


def event_status(appointment: Appointment) -> str:
    """The event's STATUS: CANCELLED, TENTATIVE (a provisional session) or CONFIRMED."""
    if not_taking_place(appointment):
        return "CANCELLED"
    return "TENTATIVE" if appointment.provisional else "CONFIRMED"


def uid_for(plan: Plan, appointment: Appointment) -> str:
    """The appointment's UID: stable across exports and re-plans, and opaque.

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> made = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 12, 7),
    ...             plan_id="plan-4cd0e1afed330299")
    >>> uid_for(made, made.doses[0])
    'c396dbdc9c165fe1e1980827d3cfb5fb@ketaplan'
    """
    return f"{opaque_key(plan.id, appointment.id)}@ketaplan"


def event_text(
    plan: Plan,
    appointment: Appointment,
    /,
    *,
    audience: Audience,
    detail: Detail,
    checks: Sequence[Task] | None = None,
) -> tuple[str, str]:
    """The title and description an audience sees of ``appointment``, cleaned.

    The words of the calendar's SUMMARY and DESCRIPTION, for other exports (FHIR) to show
    the same at each privacy level: at ``minimal`` nothing names the treatment. ``checks``:
    the appointment's checkpoint tasks, when the caller has them at hand (a clinic calendar
    at full detail lists them; without, they are looked up among the plan's tasks).

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> made = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 12, 7),
    ...             now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    >>> title, text = event_text(made, made.doses[0], audience="patient", detail="minimal")
    >>> title
    'Appointment \u2013 Clinic'
    >>> print(text)
    Session at Clinic, 08:00-13:15.
    Please arrange your transportation home for about 13:15.
    Please do not drive until 13:15 on Tue 15 Dec 2026.
    """
    full = detail == "full"
    if checks is None or audience != "clinic" or not full:
        checks = _checks_of(plan, appointment, audience, full)
    summary = clean_line(_summary(plan, appointment, audience=audience, full=full))
    text = _description(plan, appointment, audience=audience, full=full, checks=checks)
    return summary, clean_text(text)


def instruction_text(
    instruction: Instruction, appointment: Appointment, /, *, detail: Detail
) -> str:
    """An instruction in the words of its level: the protocol's (``full``) or neutral ones.

    At ``minimal``, an instruction with no neutral wording (the monitoring) is ``""``.
    """
    if detail == "full":
        return clean_text(instruction.text)
    return _neutral(instruction, appointment) if instruction.kind in _NEUTRAL else ""


def to_ics(
    plans: Plan | Sequence[Plan],
    /,
    *,
    audience: Audience = "patient",
    detail: Detail | None = None,
    method: Method | None = None,
    now: dt.datetime | None = None,
    organizer: str | None = None,
    attendee: str | None = None,
    appointments: Iterable[str] | None = None,
    resource: str | None = None,
    alarms: bool = True,
    calendar_name: str | None = None,
    cache: EventCache | None = None,
    protocols: Iterable[Protocol] = (),
) -> bytes:
    """Plans as an iCalendar file (bytes, UTF-8, CRLF).

    Args:
        plans: one plan (a patient's calendar) or several (a clinic calendar).
        audience: ``"patient"`` (default) or ``"clinic"`` (staff: resources, patient refs).
        detail: ``"minimal"`` (default for patients: nothing that reveals the treatment) or
            ``"full"`` (default for clinics: session, protocol, dose, instructions).
        method: ``None`` for files, feeds and CalDAV (no METHOD), or ``"PUBLISH"``,
            ``"REQUEST"`` or ``"CANCEL"`` for iTIP; PUBLISH needs ``organizer``, REQUEST and
            CANCEL need ``organizer`` and ``attendee`` (e-mail addresses).
        now: DTSTAMP (default: the current time); pass it for byte-identical output.
        organizer: the clinic's e-mail address.
        attendee: the patient's e-mail address.
        appointments: only these appointment ids (e.g. one per iMIP message).
        resource: only appointments using it: ``"chair"``, ``"room"`` or ``"chair:2"``.
        alarms: write reminders (VALARM): for patients, their preparation; in a clinic
            calendar at full detail, each timed checkpoint inside a session (e.g. blood
            pressure 40 minutes after dosing).
        calendar_name: the calendar's display name.
        cache: an :class:`EventCache` to keep serialized events in between exports; the
            output is the same bytes with or without it.
        protocols: the plans' protocols that are not built in. When dosing begins (which
            checks a clinic calendar reminds of, whether a hold's resume time is said) and
            which resources a session uses are read as ``check`` reads them, from each start
            (:func:`~ketaplan._resolve.timed`), not as a plan file stores them.
    """
    if not isinstance(plans, Plan | Sequence) or isinstance(plans, str | bytes):
        raise InputError("plans", "a Plan or a list of Plans", plans)
    chosen = [plans] if isinstance(plans, Plan) else list(plans)
    detail = detail if detail is not None else ("minimal" if audience == "patient" else "full")
    _check(
        chosen,
        audience=audience,
        detail=detail,
        method=method,
        now=now,
        organizer=organizer,
        attendee=attendee,
        resource=resource,
    )
    _check_options(alarms=alarms, calendar_name=calendar_name, cache=cache)
    chosen = timed_plans(chosen, protocols)
    stamp = (now or current_time()).astimezone(dt.UTC).replace(microsecond=0)
    chosen_events = _selected(chosen, appointments=appointments, resource=resource, method=method)
    writer = _Writer(
        audience=audience,
        detail=detail,
        method=method,
        organizer=organizer,
        attendee=attendee,
        alarms=alarms and method != "CANCEL",
        checks=_checks_by_appointment(chosen) if audience == "clinic" and detail == "full" else {},
    )
    head = serialize(_calendar(chosen, audience, method, calendar_name))
    events = [writer.event(*each, stamp, cache) for each in chosen_events]
    end = b"END:VCALENDAR\r\n"
    # The time zones come after the calendar's properties, as icalendar writes subcomponents.
    return head[: -len(end)] + _timezones(chosen_events) + b"".join(events) + end


#: One event of an export: its plan, its appointment and its UID.
_Chosen = tuple[Plan, Appointment, str]


def _selected(
    plans: list[Plan],
    *,
    appointments: Iterable[str] | None,
    resource: str | None,
    method: Method | None,
) -> list[_Chosen]:
    """The events the export writes, in the order it writes them: by start, then UID.

    Each is the plan, the appointment and its UID, worked out once. Two events with one UID
    are refused: a calendar server would keep only one of them. A bare CANCEL (nothing
    cancelled or missed) is refused too, and so is an appointment named in ``appointments``
    that ``resource`` or a CANCEL would leave out.
    """
    wanted = _wanted(plans, appointments)
    chosen: list[_Chosen] = []
    seen: set[str] = set()
    refused: dict[str, str] = {}  # named ids left out, and why; ids repeat across plans
    for plan in plans:
        for appointment in plan.appointments:
            if wanted is not None and appointment.id not in wanted:
                continue
            why_not = _left_out(appointment, resource, method)
            if why_not is not None:
                refused.setdefault(appointment.id, why_not)
                continue
            uid = uid_for(plan, appointment)
            if uid in seen:
                _two_with_one_uid(chosen, uid, plan, appointment)
            seen.add(uid)
            chosen.append((plan, appointment, uid))
    if wanted is not None:
        written = {each[1].id for each in chosen}
        missing = sorted(set(refused) - written)
        if missing:  # named, and no plan's appointment of that id is written
            raise InputError("appointments", refused[missing[0]], missing[0])
    if method == "CANCEL" and not chosen:
        raise InputError(
            "method", "'CANCEL' only for plans with cancelled or missed appointments", method
        )
    # Two stable sorts give the order by (start, UID) without a key tuple per event, which a
    # large export would otherwise hold (and the cycle collector walk) for the whole sort. The
    # start is its instant: two aware times in a repeated hour (a fall-back change) need not
    # compare as the instants they are.
    chosen.sort(key=itemgetter(2))
    chosen.sort(key=lambda each: each[1].start.timestamp())
    return chosen


def _left_out(appointment: Appointment, resource: str | None, method: Method | None) -> str | None:
    """What ``appointment`` would have to be for the export to write it, or None if it is."""
    if not _uses(appointment, resource):
        return f"appointments that use {resource}"
    if method == "CANCEL" and not not_taking_place(appointment):
        return "cancelled or missed appointments, with method 'CANCEL'"
    return None


def _two_with_one_uid(
    chosen: list[_Chosen], uid: str, plan: Plan, appointment: Appointment
) -> None:
    """Raise :class:`InputError` naming ``appointment`` and the event already given ``uid``."""
    first = next(each for each in chosen if each[2] == uid)
    raise InputError(
        "plans",
        "plans whose appointments have distinct calendar identities (one plan each, "
        "or plans made with different patients or plan_id)",
        f"{appointment.id} of plan {plan.id} and {first[1].id} of plan {first[0].id}",
    )


def _calendar(
    plans: list[Plan],
    audience: Audience,
    method: Method | None,
    calendar_name: str | None,
) -> Calendar:
    """The VCALENDAR with its properties, before its time zones and events."""
    calendar = Calendar.new(prodid=PRODID, uid=_calendar_uid(plans, audience), method=method)
    title = clean_line(calendar_name or _calendar_title(plans, audience))
    if title:
        calendar.add("NAME", vText(title))
        calendar.add("X-WR-CALNAME", vText(title))  # an X- property: only ever through vText
    if method in {None, "PUBLISH"}:
        calendar.add("REFRESH-INTERVAL", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("X-PUBLISHED-TTL", vText("PT1H"))
    return calendar


@dataclass(frozen=True)
class _Writer:
    """Writes one event with an export's options, through the cache when there is one."""

    audience: Audience
    detail: Detail
    method: Method | None
    organizer: str | None
    attendee: str | None
    alarms: bool
    checks: dict[tuple[str, str], tuple[Task, ...]]
    """Each appointment's checkpoint tasks, for a clinic calendar at full detail."""

    def event(
        self,
        plan: Plan,
        appointment: Appointment,
        uid: str,
        stamp: dt.datetime,
        cache: EventCache | None,
    ) -> bytes:
        """The event's bytes; a cached event gets this export's DTSTAMP."""
        if cache is None:
            return self.write(plan, appointment, uid, stamp)
        options = (self.audience, self.detail, self.method, self.organizer, self.attendee)
        context = tuple(getattr(plan, name) for name in _EVENT_PLAN_FIELDS)
        checks = self.checks.get((plan.id, appointment.id), ())
        key = (appointment, context, (*options, self.alarms), checks)
        found = cache._get(key)
        if found is None:
            found = self.write(plan, appointment, uid, _PLACEHOLDER_STAMP)
            cache._put(key, found)
        return found.replace(_PLACEHOLDER_LINE, f"\r\n{_stamp(stamp)}\r\n".encode(), 1)

    def write(self, plan: Plan, appointment: Appointment, uid: str, stamp: dt.datetime) -> bytes:
        """The event's bytes, as icalendar writes them."""
        checks = self.checks.get((plan.id, appointment.id), ())
        if self.method is None:  # files and feeds: the fast writer, which gives icalendar's bytes
            return write_event(
                plan, appointment, audience=self.audience, detail=self.detail, stamp=stamp,
                alarms=self.alarms, uid=uid, checks=checks,
            )  # fmt: skip
        event = _event(
            plan,
            appointment,
            audience=self.audience,
            detail=self.detail,
            method=self.method,
            stamp=stamp,
            organizer=self.organizer,
            attendee=self.attendee,
            alarms=self.alarms,
            checks=checks,
        )
        return serialize(event)


def _check(
    plans: list[Plan],
    *,
    audience: object,
    detail: object,
    method: object,
    now: object,
    organizer: str | None,
    attendee: str | None,
    resource: object,
) -> None:
    if not plans or not all(isinstance(plan, Plan) for plan in plans):
        raise InputError("plans", "a Plan or a list of Plans", plans)
    choice("audience", audience, ("patient", "clinic"), "'patient' or 'clinic'")
    choice("detail", detail, ("minimal", "full"), "'minimal' or 'full'")
    choice(
        "method",
        method,
        (None, "PUBLISH", "REQUEST", "CANCEL"),
        "None, 'PUBLISH', 'REQUEST' or 'CANCEL'",
    )
    if now is not None:
        aware("now", now)
    if resource is not None and not (isinstance(resource, str) and _RESOURCE.fullmatch(resource)):
        raise InputError("resource", _RESOURCE_EXPECTED, resource)
    for name, value in (("organizer", organizer), ("attendee", attendee)):
        if value is not None and not (isinstance(value, str) and _EMAIL.fullmatch(value)):
            raise InputError(name, "an e-mail address", value)
    _people_with_their_method(method, organizer=organizer, attendee=attendee)
    if method is not None and organizer is None:
        raise InputError("organizer", f"the clinic's e-mail address for METHOD:{method}", None)
    if method in {"REQUEST", "CANCEL"} and attendee is None:
        raise InputError("attendee", f"the patient's e-mail address for METHOD:{method}", None)


def _check_options(*, alarms: object, calendar_name: object, cache: object) -> None:
    """The export's other options: each of its type, and a name that shows."""
    if not isinstance(alarms, bool):
        raise InputError("alarms", "True or False", alarms)
    if isinstance(calendar_name, str) and len(calendar_name) > MAX_TEXT:  # it would be cut short
        raise LimitError("calendar_name", f"at most {MAX_TEXT} characters", len(calendar_name))
    if calendar_name is not None and not (
        isinstance(calendar_name, str) and clean_line(calendar_name)
    ):
        raise InputError("calendar_name", "None or a name with a visible character", calendar_name)
    if cache is not None and not isinstance(cache, EventCache):
        raise InputError("cache", "None or an EventCache", type(cache).__name__)


def _people_with_their_method(
    method: object, *, organizer: str | None, attendee: str | None
) -> None:
    """Refuse an organizer or attendee the export would leave out (RFC 5546 sections 3.2.1-3).

    A file or feed (no method) names neither; a PUBLISH names its organizer only.
    """
    if method is None:
        for name, value in (("organizer", organizer), ("attendee", attendee)):
            if value is not None:
                expected = "given only with a method (an iTIP message): a file or feed has none"
                raise InputError(name, expected, value)
    elif method == "PUBLISH" and attendee is not None:
        raise InputError("attendee", "left out of a PUBLISH, which has no attendees", attendee)


def _wanted(plans: list[Plan], appointments: Iterable[str] | None) -> set[str] | None:
    """The appointment ids asked for (None: all); each must name an appointment of the plans.

    An id that names none would leave its event out without a word (an iMIP message never
    sent), and a bare string would be read as its letters.
    """
    if appointments is None:
        return None
    if isinstance(appointments, str | bytes) or not isinstance(appointments, Iterable):
        raise InputError("appointments", "a list of appointment ids", appointments)
    wanted = list(appointments)
    if not all(isinstance(one, str) for one in wanted):
        raise InputError("appointments", "a list of appointment ids", wanted)
    known = {a.id for plan in plans for a in plan.appointments}
    unknown = sorted(set(wanted) - known)
    if unknown:
        whose = f"plan {plans[0].id}" if len(plans) == 1 else "the plans given"
        raise InputError("appointments", f"ids of appointments of {whose}", unknown)
    return set(wanted)


#: What ``resource=`` may name: a kind, or a chair or room with its number (``"chair:2"``).
_RESOURCE = re.compile(
    "|".join(
        re.escape(kind) + (r"(:[1-9][0-9]{0,5})?" if kind in NUMBERED_KINDS else "")
        for kind in RESOURCE_KINDS
    )
)
_RESOURCE_EXPECTED = (
    ", ".join(repr(kind) for kind in RESOURCE_KINDS) + f" or a unit ('{NUMBERED_KINDS[0]}:2')"
)


def _uses(appointment: Appointment, resource: str | None) -> bool:
    if resource is None:
        return True
    kind, _, unit = resource.partition(":")
    return any(
        span.resource == kind and (not unit or str(span.unit) == unit)
        for span in appointment.resources
    )


def _calendar_uid(plans: list[Plan], audience: str) -> str:
    key = "|".join([audience, *sorted(plan.id for plan in plans)])
    return hashlib.sha256(key.encode()).hexdigest()[:32] + "@ketaplan"


def _calendar_title(plans: list[Plan], audience: str) -> str:
    if audience == "patient":
        return f"Appointments{DASH}{plans[0].display_name}"
    return f"{plans[0].clinic_name}{DASH}schedule"


def _timezones(chosen: list[_Chosen]) -> bytes:
    """The VTIMEZONE of each zone the events are in, covering their years, as written."""
    years: dict[str, list[int]] = {}
    for _, appointment, _ in chosen:
        local = appointment.start.astimezone(zone(appointment.time_zone))
        years.setdefault(appointment.time_zone, []).append(local.year)
    return b"".join(
        _timezone(tzid, min(found), max(found))
        for tzid, found in sorted(years.items())
        if tzid != "UTC"
    )


@lru_cache(maxsize=64)
def _timezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """One zone's VTIMEZONE as written, worked out once per zone and span of years.

    A zone's rules do not change while the process runs (``zoneinfo`` reads tzdata once).
    """
    return serialize(vtimezone(tzid, first_year, last_year))


def _moment(moment: dt.datetime, tzid: str) -> dt.datetime:
    """The time to write: local in its zone, or UTC when the local time happens twice."""
    tz = zone(tzid)
    local = moment.astimezone(tz)
    if steady_midnight(local.toordinal(), tz) is not None:
        return local  # the day has one UTC offset: no time in it happens twice
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() != local.utcoffset():
        return moment.astimezone(dt.UTC)  # a repeated hour: local time alone is ambiguous
    return local


#: The plan's fields (and properties) an event is written from (besides the appointment): the
#: cache key. Keep it in step with ``_event`` and the helpers it calls.
_EVENT_PLAN_FIELDS = ("id", "patient", "clinic_name", "clinic_location", "clinic_display_name",
                      "display_name", "protocol", "protocol_version", "quiet_hours",
                      "reminder_lead_minutes")  # fmt: skip


def _event(
    plan: Plan,
    appointment: Appointment,
    *,
    audience: str,
    detail: str,
    method: str | None,
    stamp: dt.datetime,
    organizer: str | None,
    attendee: str | None,
    alarms: bool,
    checks: Sequence[Task] | None = None,
) -> Event:
    full = detail == "full"
    cancelled = not_taking_place(appointment)
    checks = _checks_of(plan, appointment, audience, full) if checks is None else checks
    event = Event.new(
        uid=uid_for(plan, appointment),
        start=_moment(appointment.start, appointment.time_zone),
        end=_moment(appointment.end, appointment.time_zone),
        stamp=stamp,
        sequence=appointment.revision,
        summary=clean_line(_summary(plan, appointment, audience=audience, full=full)),
        description=clean_text(
            _description(plan, appointment, audience=audience, full=full, checks=checks)
        )
        or None,  # an empty DESCRIPTION is invalid (libical drops it with an error)
        status=STATUS(event_status(appointment)),
        transparency=TRANSP.OPAQUE,
    )
    location = clean_line(plan.clinic_location or "")
    if location and appointment.location == "clinic":
        event.add("LOCATION", location)
    if audience == "clinic":
        _add_clinic_properties(event, plan, appointment, full=full)
    if method is not None:
        _add_people(event, plan, method, audience=audience, organizer=organizer, attendee=attendee)
    if alarms and not cancelled:
        for alarm in _alarms(plan, appointment, audience=audience, full=full, checks=checks):
            event.add_component(alarm)
    return event


def _add_clinic_properties(
    event: Event, plan: Plan, appointment: Appointment, *, full: bool
) -> None:
    """What staff see: resources, the category, and the appointment and patient references."""
    names = [resource_name(span.resource, span.unit) for span in appointment.resources]
    if names:
        # One RESOURCES value: iTIP allows one property, and libical counts each value of a
        # comma list as a property of its own, so the commas are escaped.
        event.add("RESOURCES", vText(", ".join(clean_line(name) for name in names)))
    if full:
        event.add("CATEGORIES", [clean_line(appointment.kind)])
    for name, value in (
        ("X-KETAPLAN-APPOINTMENT", appointment.id),
        ("X-KETAPLAN-PATIENT", _patient_ref(plan)),
    ):
        text = clean_line(value)
        if text:  # an empty property is invalid
            event.add(name, vText(text))  # X- properties only ever through vText


def _add_people(
    event: Event,
    plan: Plan,
    method: str,
    *,
    audience: str,
    organizer: str | None,
    attendee: str | None,
) -> None:
    """ITIP's ORGANIZER, named as the audience knows the clinic; the ATTENDEE unless PUBLISH."""
    assert organizer is not None  # noqa: S101 - checked by _check
    name = plan.display_name if audience == "patient" else plan.clinic_name
    event.add("ORGANIZER", vCalAddress.new(organizer, cn=clean_line(name)))
    if method != "PUBLISH":
        assert attendee is not None  # noqa: S101 - checked by _check
        event.add(
            "ATTENDEE",
            vCalAddress.new(
                attendee,
                role="REQ-PARTICIPANT",
                partstat="NEEDS-ACTION",
                rsvp=method == "REQUEST",
            ),
        )


def write_event(
    plan: Plan,
    appointment: Appointment,
    *,
    audience: str,
    detail: str,
    stamp: dt.datetime,
    alarms: bool,
    uid: str | None = None,
    checks: Sequence[Task] | None = None,
) -> bytes:
    """One appointment's VEVENT for a file or feed, without building icalendar objects.

    The same bytes as serializing :func:`_event` (without a METHOD) with icalendar: the same
    helpers decide every value, and this writes them as icalendar 7.3 does (its property
    order, TEXT escaping, date-time forms and line folding). ``tests/interop/test_writer.py``
    compares the two on generated plans and texts. ``checks`` are the appointment's checkpoint
    tasks (found in the plan when not given).
    """
    full = detail == "full"
    cancelled = not_taking_place(appointment)
    checks = _checks_of(plan, appointment, audience, full) if checks is None else checks
    # Only text values can make a line long enough to fold: the others are short ASCII.
    lines = [
        "BEGIN:VEVENT",
        _text("SUMMARY", _summary(plan, appointment, audience=audience, full=full)),
        _date_time("DTSTART", appointment.start, appointment.time_zone),
        _date_time("DTEND", appointment.end, appointment.time_zone),
        _stamp(stamp),
        "UID:" + (uid or uid_for(plan, appointment)),
        f"SEQUENCE:{appointment.revision}",
    ]
    # The rest in icalendar's order: by name. An empty value is not written.
    if audience == "clinic" and full:
        lines.append(_text_line("CATEGORIES", appointment.kind))
    description = clean_text(
        _description(plan, appointment, audience=audience, full=full, checks=checks)
    )
    if description:
        lines.append(_folded("DESCRIPTION:" + _escape(description)))
    if appointment.location == "clinic" and plan.clinic_location:
        lines.append(_text_line("LOCATION", plan.clinic_location))
    if audience == "clinic" and appointment.resources:
        units = tuple((span.resource, span.unit) for span in appointment.resources)
        lines.append(_resources_line(units))
    lines.append(f"STATUS:{event_status(appointment)}")
    lines.append("TRANSP:OPAQUE")
    if audience == "clinic":
        lines.append(_text_line("X-KETAPLAN-APPOINTMENT", appointment.id))
        lines.append(_text_line("X-KETAPLAN-PATIENT", _patient_ref(plan)))
    if alarms and not cancelled:
        for text, trigger in _reminders(
            plan, appointment, audience=audience, full=full, checks=checks
        ):
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                _folded("DESCRIPTION:" + _escape(text)),
                "TRIGGER:" + _duration(trigger),
                "END:VALARM",
            ]
    lines.append("END:VEVENT\r\n")
    return "\r\n".join(line for line in lines if line).encode("utf-8")


def _text(name: str, value: str) -> str:
    """``NAME:value`` for a one-line text: cleaned, escaped and folded; "" for none.

    SUMMARY is written even when empty (as icalendar writes it); other names are left out.
    """
    text = clean_line(value)
    if not text and name != "SUMMARY":
        return ""
    return _folded(f"{name}:{_escape(text)}")


#: :func:`_text` for the values that recur from event to event (kinds, places, session ids,
#: patients); a SUMMARY names the patient and the session, so it seldom recurs.
_text_line = lru_cache(maxsize=65536)(_text)


@lru_cache(maxsize=1024)
def _resources_line(units: tuple[tuple[ResourceKind, int | None], ...]) -> str:
    names = ", ".join(clean_line(resource_name(resource, unit)) for resource, unit in units)
    return _folded("RESOURCES:" + _escape(names))


def _escape(text: str) -> str:
    """TEXT escaping as icalendar 7.3 does it (its replacements, in its order)."""
    return (
        text.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


def _folded(line: str) -> str:
    """A content line folded as icalendar folds it."""
    if line.isascii():
        return line if len(line) < _FOLD_AT else fold(line)
    if len(line.encode("utf-8")) < _FOLD_AT:
        return line
    folded: bytes = Contentline(line).to_ical()  # type: ignore[no-untyped-call]
    return folded.decode("utf-8")


def _date_time(name: str, moment: dt.datetime, tzid: str) -> str:
    """``DTSTART;TZID=Europe/Berlin:20261207T090000``, or in UTC with ``Z``."""
    when = _moment(moment, tzid)
    digits = "%04d%02d%02dT%02d%02d%02d" % (  # noqa: UP031 - the fastest of the ways
        when.year,
        when.month,
        when.day,
        when.hour,
        when.minute,
        when.second,
    )
    ident = _tzid(when.tzinfo)
    if ident == "UTC":
        return f"{name}:{digits}Z"
    return f"{name};TZID={ident}:{digits}"


@lru_cache(maxsize=16)
def _stamp(stamp: dt.datetime) -> str:
    return _date_time("DTSTAMP", stamp, "UTC")


@lru_cache(maxsize=1024)
def _tzid(tz: dt.tzinfo | None) -> str:
    """The TZID icalendar writes for a zone ("UTC" for the ones it writes with ``Z``)."""
    found = tzid_from_tzinfo(tz)
    if found is None or not _SAFE_TZID.match(found):  # pragma: no cover - IANA keys are safe
        raise ValueError(f"no TZID for {tz!r}")
    return found


_SAFE_TZID = re.compile(r"^[A-Za-z0-9/_+-]+$")


@lru_cache(maxsize=1024, typed=True)  # typed: a DayBefore equals the exact day it is not
def _duration(delta: dt.timedelta) -> str:
    """A TRIGGER value: exact hours and minutes, or calendar days for a :class:`DayBefore`.

    RFC 5545 counts a duration's days (and weeks) as calendar days in local time, so
    ``-P2DT23H45M`` before a session after a DST change fires an hour off the deadline it
    announces; ``-PT71H45M`` is exact.
    """
    if isinstance(delta, DayBefore) or not delta:
        written: bytes = vDuration(delta).to_ical()  # type: ignore[no-untyped-call]
        return written.decode("ascii")
    seconds = int(delta.total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n]
    return ("-" if delta < dt.timedelta(0) else "") + "PT" + "".join(parts)


class _Trigger(vDuration):
    """A TRIGGER that icalendar writes as :func:`_duration` does."""

    def to_ical(self) -> bytes:
        return _duration(self.td).encode("ascii")


def _patient_ref(plan: Plan) -> str:
    return clean_line(plan.patient or "") or plan.id


_RESOURCE_NAMES: dict[ResourceKind, str] = {
    "chair": "Chair",
    "room": "Room",
    "monitoring-staff": "Monitoring staff",
    "prescriber": "Prescriber on site",
}


def resource_name(resource: ResourceKind, unit: int | None) -> str:
    """A resource as staff name it: ``"Chair 2"``, ``"Monitoring staff"``."""
    name = _RESOURCE_NAMES[resource]
    return f"{name} {unit}" if unit is not None else name


def _summary(plan: Plan, appointment: Appointment, *, audience: str, full: bool) -> str:
    if audience == "patient":
        what = appointment.name if full else "Appointment"
        return f"{what}{DASH}{plan.display_name}"
    what = appointment.name if full else "Booked"
    units = [resource_name(s.resource, s.unit) for s in appointment.resources if s.unit]
    where = f"{DASH}{', '.join(units)}" if units else ""
    return f"{_patient_ref(plan)}{DASH}{what}{where}"


def _at(
    moment: dt.datetime | None, appointment: Appointment, seen_on: dt.date | None = None
) -> str:
    """``moment``'s local time, with its day unless it is ``seen_on`` (the appointment's day)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone(appointment.time_zone))
    return fmt_clock(local, seen_on=seen_on or appointment.local_date)


def _description(
    plan: Plan, appointment: Appointment, *, audience: str, full: bool, checks: Sequence[Task]
) -> str:
    lines: list[str] = []
    if audience == "clinic" and full:
        lines += [
            f"Patient: {_patient_ref(plan)}",
            f"Protocol: {plan.protocol} (version {plan.protocol_version})",
            f"Session: {appointment.name} ({appointment.id}, phase {appointment.phase})",
        ]
        if appointment.decided_dose is not None:
            lines.append(f"Dose: {appointment.decided_dose}")
        elif appointment.dose:
            lines.append(f"Dose: {appointment.dose}")
        lines.append(f"Status: {appointment.status}")
        # A reason grows with each re-plan ("...; was: ..."): cut it, not what follows it.
        lines.append(f"Why this date: {shortened(appointment.reason, MAX_REASON)}")
    elif full:
        lines.append(f"{appointment.name} ({plan.protocol})")
        if appointment.decided_dose is not None:
            lines.append(f"Dose: {appointment.decided_dose}")
        elif appointment.dose:
            lines.append(f"Dose: {appointment.dose}")
    if full:
        lines += [instruction.text for instruction in appointment.instructions]
    else:
        if audience == "patient":
            lines.append(_what_and_when(plan, appointment))
        lines += [_neutral(i, appointment) for i in appointment.instructions if i.kind in _NEUTRAL]
    lines += [_check_line(task, appointment) for task in checks]
    if appointment.status == "cancelled":
        lines.insert(0, "This appointment is cancelled.")
    elif appointment.status == "missed":
        lines.insert(0, "This appointment was missed: it did not take place.")
    return "\n".join(dict.fromkeys(lines))


def _what_and_when(plan: Plan, appointment: Appointment) -> str:
    """What a patient's event is, in neutral words ("Consultation at Demo Clinic, 09:00-10:00.").

    Only what is true and reveals no treatment: the kind of session in plain words, with
    whom or where, and the time.
    """
    what = _NEUTRAL_KIND[appointment.kind]
    when = f"{_at(appointment.start, appointment)}-{_at(appointment.end, appointment)}"
    name = plan.display_name
    if appointment.location == "home":
        return f"{what} at home, {when}."
    if appointment.location == "remote":
        return f"{what} with {name}, {when}, remote: no visit to the clinic."
    return f"{what} at {name}, {when}."


def _neutral(
    instruction: Instruction, appointment: Appointment, seen_on: dt.date | None = None
) -> str:
    """``instruction`` in neutral words, its times as read on the day ``seen_on``.

    By default, the appointment's day (the description); a reminder's, the day it fires.
    """
    until = "your appointment"
    if instruction.kind == "no-driving" and instruction.until is None:
        # The label's words: until the next day, after a restful sleep (no time to give).
        ended = instruction.at or appointment.end
        day = ended.astimezone(zone(appointment.time_zone)).date() + dt.timedelta(days=1)
        return _NO_DRIVING_OVERNIGHT.format(day=fmt_day(day))
    if instruction.kind == "no-driving" and instruction.until is not None:
        until = _at(instruction.until, appointment, seen_on)
    if instruction.kind == "medication-hold" and instruction.until is not None:
        begins = appointment.dosing_start or appointment.start
        resume = resumes_after(instruction.until, begins)
        if resume is not None:
            until = _at(resume, appointment, seen_on)
    return _NEUTRAL[instruction.kind].format(
        at=_at(instruction.at, appointment, seen_on), until=until,
        which=_which_hold(instruction, appointment),
    )  # fmt: skip


def _which_hold(instruction: Instruction, appointment: Appointment) -> str:
    """`` (1 of 2)`` for one of several medicines held for one session, else nothing.

    The neutral words name no medicine: with two, "the medicine your clinic told you about"
    twice left the patient to guess which was which (a clinical review found it).
    """
    if instruction.kind != "medication-hold":
        return ""
    holds = [i for i in appointment.instructions if i.kind == "medication-hold"]
    if len(holds) < 2:  # noqa: PLR2004 - one medicine needs no number
        return ""
    number = next((n for n, i in enumerate(holds, 1) if i == instruction), 1)
    return f" ({number} of {len(holds)})"


def _alarms(
    plan: Plan, appointment: Appointment, *, audience: str, full: bool, checks: Sequence[Task]
) -> list[Alarm]:
    alarms = []
    for text, trigger in _reminders(plan, appointment, audience=audience, full=full, checks=checks):
        alarm = Alarm.new_display(description=text, trigger=trigger)
        alarm["TRIGGER"] = _Trigger(trigger)
        alarms.append(alarm)
    return alarms


def _checks_by_appointment(plans: Sequence[Plan]) -> dict[tuple[str, str], tuple[Task, ...]]:
    """Each appointment's checkpoint tasks, by plan and appointment id, in the plan's order."""
    found: dict[tuple[str, str], list[Task]] = {}
    for plan in plans:
        for task in plan.tasks:
            if task.kind == "checkpoint" and task.appointment is not None:
                found.setdefault((plan.id, task.appointment), []).append(task)
    return {key: tuple(tasks) for key, tasks in found.items()}


def _checks_of(plan: Plan, appointment: Appointment, audience: str, full: bool) -> list[Task]:
    """The checkpoint tasks a clinic calendar at full detail lists for ``appointment``."""
    if audience != "clinic" or not full:
        return []
    return [t for t in plan.tasks if t.kind == "checkpoint" and t.appointment == appointment.id]


def _check_line(task: Task, appointment: Appointment) -> str:
    """``Check 09:55: Blood pressure, 40 min after the start of dosing``."""
    when = _at(task.at, appointment)
    if task.until is not None:
        when += "-" + _at(task.until, appointment)
    return f"Check {when}: {task.title}"


def _check_reminders(
    appointment: Appointment, checks: Sequence[Task]
) -> list[tuple[str, dt.timedelta]]:
    """A reminder for each check at a moment strictly inside dosing and monitoring.

    Such a check (blood pressure 40 minutes after dosing) is marked by no step of the
    session; checks at the start of dosing, at discharge or through a period are in the
    description only.
    """
    begin = (appointment.dosing_start or appointment.start).astimezone(dt.UTC)
    end = appointment.end.astimezone(dt.UTC)
    start = appointment.start.astimezone(dt.UTC)
    return [
        (clean_text(_check_line(task, appointment)), at - start)
        for task in checks
        if task.at is not None
        and task.until is None
        and begin < (at := task.at.astimezone(dt.UTC)) < end
    ]


def _reminders(
    plan: Plan,
    appointment: Appointment,
    *,
    audience: str,
    full: bool,
    checks: Sequence[Task],
) -> list[tuple[str, dt.timedelta]]:
    """Each reminder's text and when it fires, relative to the start (:func:`reminder_for`).

    A neutral text names each time with its day unless it is the day the reminder fires; the
    reminders due at one moment make one alarm, a line each.
    """
    if audience == "clinic":
        return _check_reminders(appointment, checks)
    made: list[tuple[str, dt.timedelta]] = []
    seen: set[tuple[str, dt.timedelta]] = set()
    for instruction in appointment.instructions:
        reminder = reminder_for(
            instruction,
            appointment,
            quiet=plan.quiet_hours,
            lead_minutes=plan.reminder_lead_minutes,
        )
        if reminder is None or (instruction.kind, reminder.trigger) in seen:
            continue
        seen.add((instruction.kind, reminder.trigger))
        neutral = _neutral(instruction, appointment, reminder.at.date())
        text = clean_text(instruction.text) if full else neutral
        made.append((text or neutral, reminder.trigger))
    # Reminders due at one moment (eating and drinking, the evening before) are one alarm.
    together: dict[dt.timedelta, list[str]] = {}
    for text, trigger in made:
        together.setdefault(trigger, []).append(text)
    return [("\n".join(texts), trigger) for trigger, texts in together.items()]
