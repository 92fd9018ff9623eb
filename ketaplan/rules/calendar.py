"""The calendar rules of one session on one day: where and when it may take place.

Opening hours, closures and public holidays, the patient's availability (in the patient's own
zone), blackouts and commitments, same-day exclusions (no dose the day of an ECT session, say),
the prescriber's presence, minimum notice and the booking horizon. :class:`DayRules` answers
for a clinic and a patient: the slot finder asks it which hours of a day a session may use,
and ``check`` asks it what an existing session breaks (:meth:`DayRules.findings`).

The reasons a start is turned down are named once, in :class:`Reasons`, for both of the slot
finder's paths (one start at a time, and the day screen).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ketaplan._text import WEEKDAY_PLURAL, fmt_day
from ketaplan._types import ResourceKind
from ketaplan.clinic import Clinic
from ketaplan.hours import DateRange, TimeRange
from ketaplan.openings import ClinicCalendar
from ketaplan.patient import Patient
from ketaplan.protocol import CalendarPolicy, SessionKind
from ketaplan.rules.capacity import uses
from ketaplan.rules.finding import Finding
from ketaplan.timing import shift, zone

__all__ = ["Busy", "DayRules", "Ranges", "Reasons", "Threshold", "instructions_lead"]

#: Local time ranges a session may use on a day.
Ranges = list[tuple[dt.time, dt.time]]


class Reasons:
    """Why a start instant is turned down, in the words a day's explanation uses."""

    TOO_EARLY = "too early"
    PAST = "already past"
    AFTER_MIDNIGHT = "would end after midnight"
    PATIENT_BOOKED = "patient already booked then"
    NO_PRESCRIBER = "no prescriber on site then"
    NO_PRESCRIBER_DAY = "no prescriber on site"
    STAFF_FULL = "monitoring staff fully booked"
    PATIENT_HOURS = "outside the patient's availability"

    @staticmethod
    def notice(hours: int) -> str:
        """Inside the clinic's minimum notice."""
        return f"less than {hours} h notice"

    @staticmethod
    def instructions(lead: dt.timedelta) -> str:
        """So soon that the session's own instructions would already have begun."""
        return f"too soon to follow its instructions, which begin {_duration(lead)} before it"

    @staticmethod
    def patient_busy(label: str) -> str:
        """During one of the patient's own commitments."""
        return f"patient busy ({label})"

    @staticmethod
    def no_free(resource: str) -> str:
        """Every unit of a chair or room taken."""
        return f"no {resource} free"

    @classmethod
    def resource_of(cls, reason: str) -> ResourceKind | None:
        """The clinic resource a reason says was missing, or ``None`` for any other reason.

        >>> Reasons.resource_of("no chair free"), Reasons.resource_of("clinic closed on Sundays")
        ('chair', None)
        """
        named: dict[str, ResourceKind] = {
            cls.no_free("chair"): "chair",
            cls.no_free("room"): "room",
            cls.STAFF_FULL: "monitoring-staff",
            cls.NO_PRESCRIBER: "prescriber",
            cls.NO_PRESCRIBER_DAY: "prescriber",
        }
        return named.get(reason)


def instructions_lead(kind: SessionKind) -> dt.timedelta:
    """How long before its start a session's own instructions begin (zero: none before it).

    The longest of the fasting and nasal-spray leads before dosing (which begins after the
    check-in), in real elapsed time: the instructions ketaplan writes
    (:mod:`ketaplan.instructions`) begin then. A session booked later than this before its
    start tells the patient to have stopped eating, say, before they knew of it: the planner
    never places one so (:meth:`DayRules.ready_from`), and ``check`` warns of one booked so
    (``instructions-before-booking``).
    """
    rules = kind.instructions
    before = max(
        60 * (rules.fasting_solids_hours or 0),
        60 * (rules.fasting_liquids_hours or 0),
        rules.nasal_spray_minutes_before or 0,
    )
    check_in = kind.timeline.check_in_minutes if kind.is_dosing else 0
    return dt.timedelta(minutes=max(0.0, before - check_in))


def _duration(span: dt.timedelta) -> str:
    """``6 h``, ``2 h 15 min``, ``45 min``."""
    minutes = round(span.total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


class Threshold(NamedTuple):
    """Starts before ``at`` fail with ``reason`` (the minimum interval since the last dose)."""

    at: dt.datetime
    reason: str


class Busy(NamedTuple):
    """One of the patient's own commitments."""

    start: dt.datetime
    end: dt.datetime
    label: str


#: A commitment up to this long (seconds) is found by its start; longer ones are few.
_SHORT = 2 * 86_400


class BusyTimes:
    """The patient's commitments, found by time: those near a span, in the order given.

    A plan asks for each candidate day; a patient may bring thousands of commitments (a synced
    calendar), so each day reads only those near it instead of all of them.
    """

    def __init__(self, busy: list[Busy]) -> None:
        self.all = busy
        entries = [(b.start.timestamp(), b.end.timestamp(), n) for n, b in enumerate(busy)]
        short = sorted(e for e in entries if e[1] - e[0] <= _SHORT)
        self._starts = [start for start, _, _ in short]
        self._short = short
        self._long = [e for e in entries if e[1] - e[0] > _SHORT]

    def near(self, first: float, last: float) -> list[Busy]:
        """Every commitment that may meet the span ``first``-``last`` (epoch seconds).

        A superset of those that overlap it (a second either side), in the order given, so
        that the first that overlaps is the one a scan of them all would meet first.
        """
        if not self.all:
            return []
        low, high = first - 1, last + 1
        begin = bisect_left(self._starts, low - _SHORT)
        end = bisect_right(self._starts, high)
        found = [n for start, stop, n in self._short[begin:end] if stop >= low and start <= high]
        found += [n for start, stop, n in self._long if stop >= low and start <= high]
        return [self.all[n] for n in sorted(found)]


class Blackouts:
    """The patient's blackouts, found by day: the first given that covers a day.

    Sorted once by their first day; a day reads only those that begin within the longest
    blackout before it (a blackout is at most about three years), not all of them.
    """

    def __init__(self, ranges: Sequence[DateRange]) -> None:
        self.ranges = ranges
        self._order = sorted(range(len(ranges)), key=lambda n: ranges[n].start)
        self._starts = [ranges[n].start.toordinal() for n in self._order]
        self._longest = max(((r.last - r.start).days for r in ranges), default=0)

    def covering(self, day: dt.date) -> DateRange | None:
        """The first blackout (in the order given) that covers ``day``, if any."""
        if not self.ranges:
            return None
        ordinal = day.toordinal()
        begin = bisect_left(self._starts, ordinal - self._longest)
        end = bisect_right(self._starts, ordinal)
        found = [n for n in self._order[begin:end] if day <= self.ranges[n].last]
        return self.ranges[min(found)] if found else None


def _intersect(a: tuple[TimeRange, ...], b: tuple[TimeRange, ...]) -> Ranges:
    out = []
    for x in a:
        for y in b:
            start, end = max(x.start, y.start), min(x.end, y.end)
            if start < end:
                out.append((start, end))
    return sorted(out)


def _needs_prescriber(kind: SessionKind) -> bool:
    return any(use.resource == "prescriber" for use in kind.resources)


class DayRules:
    """The calendar rules for one clinic and one patient (with ``now``, if known)."""

    def __init__(
        self,
        clinic: Clinic,
        patient: Patient | None,
        *,
        policy: CalendarPolicy,
        now: dt.datetime | None = None,
    ) -> None:
        self.clinic = clinic
        self.calendar = ClinicCalendar(clinic)
        self.patient = patient
        self.policy = policy
        self.now = now
        self.zone = zone(clinic.time_zone)
        self.patient_zone = zone(patient.time_zone) if patient and patient.time_zone else self.zone
        self.notice = shift(now, hours=clinic.minimum_notice_hours) if now is not None else None
        self._ready: dict[str, tuple[dt.datetime, str] | None] = {}
        self._leads: dict[str, dt.timedelta] = {}
        self._notices: dict[tuple[dt.datetime, int, int], dt.datetime] = {}
        self.busy = BusyTimes(
            [
                Busy(b.start, b.end, b.label or "another appointment")
                for b in (patient.appointments if patient else ())
            ]
        )
        """The patient's commitments; :meth:`BusyTimes.near` gives those near a span."""
        self.blackouts = Blackouts(patient.blackouts if patient else ())
        self.availability_elsewhere = (
            patient is not None
            and patient.availability is not None
            and self.patient_zone != self.zone
        )
        """Whether the patient's availability is in another zone than the clinic's."""
        self._today = now.astimezone(self.zone).date() if now is not None else None
        self._excluded = frozenset(t.casefold() for t in clinic.same_day_exclusions)
        self._treatments: dict[dt.date, str] | None = None

    def zone_for(self, kind: SessionKind) -> ZoneInfo:
        """The zone a session's local times are in (the patient's, for home sessions)."""
        return self.patient_zone if kind.location == "home" else self.zone

    def blackout(self, day: dt.date) -> str | None:
        """The patient's blackout covering ``day``, in words."""
        blackout = self.blackouts.covering(day)
        if blackout is None:
            return None
        why = f" ({blackout.reason})" if blackout.reason else ""
        return f"patient unavailable{why}"

    def excluded_treatment(self, day: dt.date) -> str | None:
        """Another treatment on ``day`` after which the clinic gives no dose that day."""
        if self._treatments is None:  # the first of them on each local day, worked out once
            self._treatments = {}
            for busy in self.patient.appointments if self.patient else ():
                if busy.treatment and busy.treatment.casefold() in self._excluded:
                    local = busy.start.astimezone(self.zone).date()
                    self._treatments.setdefault(local, busy.treatment)
        return self._treatments.get(day)

    def horizon(self, day: dt.date, *, at: dt.datetime | None = None) -> str | None:
        """Why ``day`` cannot be booked now, or ``at`` (in the past, beyond the horizon)."""
        if at is not None:
            today = at.astimezone(self.zone).date()
        elif self._today is not None:  # now's day, worked out once
            today = self._today
        else:
            return None
        if day < today:
            return "in the past"
        if (day - today).days > self.clinic.booking_horizon_days:
            return f"beyond the clinic's {self.clinic.booking_horizon_days}-day booking horizon"
        return None

    @staticmethod
    def alike(kind: SessionKind) -> tuple[object, ...]:
        """What :meth:`day_ranges` asks of a session kind.

        Kinds with equal keys get equal answers on every day (a dose and the review after it).
        """
        return kind.is_dosing, kind.location, _needs_prescriber(kind)

    def day_ranges(self, kind: SessionKind, day: dt.date) -> tuple[Ranges, str | None]:
        """The local time ranges a session may use on ``day``, or why there are none."""
        for reason in (self.horizon(day), self.blackout(day)):
            if reason:
                return [], reason
        if kind.is_dosing:
            excluded = self.excluded_treatment(day)
            if excluded:
                return [], f"{excluded} that day (no dose the same day)"
        availability = self.patient.availability if self.patient else None
        if kind.location == "home":
            base = self.clinic.opening_hours.on(day)
        else:
            closed = self.calendar.closed_reason(day)
            if closed:
                return [], closed
            base = self.calendar.ranges(day)
        if availability is not None and self.patient_zone == self.zone:
            mine = availability.on(day)
            if not mine:
                return [], f"patient not available on {WEEKDAY_PLURAL[day.weekday()]}"
            ranges = _intersect(base, mine)
            if not ranges:
                return [], "patient's hours and the clinic's do not overlap"
        else:
            ranges = [(r.start, r.end) for r in base]
        if _needs_prescriber(kind) and not self.calendar.prescriber_ranges(day):
            return [], Reasons.NO_PRESCRIBER_DAY
        return ranges, None

    def prescriber_present(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether a prescriber is on site for the whole of ``start``-``end``."""
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        return any(
            r.contains(local_start.time(), local_end.time())
            for r in self.calendar.prescriber_ranges(local_start.date())
        )

    def within_patient_hours(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether ``start``-``end`` lies in the patient's availability (in their zone)."""
        availability = self.patient.availability if self.patient else None
        if availability is None:
            return True
        mine_start = start.astimezone(self.patient_zone)
        mine_end = end.astimezone(self.patient_zone)
        return mine_end.date() == mine_start.date() and any(
            r.contains(mine_start.time(), mine_end.time())
            for r in availability.on(mine_start.date())
        )

    def ready_from(self, kind: SessionKind) -> tuple[dt.datetime, str] | None:
        """The first start a session of ``kind`` booked ``now`` may have, and why one before fails.

        A start before it would tell the patient to have begun following its instructions
        before they knew of it (:func:`instructions_lead`). ``None`` without ``now`` or without
        instructions before the session.
        """
        if self.now is None:
            return None
        if kind.id not in self._ready:
            lead = self.lead(kind)
            ready = (shift(self.now, minutes=lead.total_seconds() / 60), Reasons.instructions(lead))
            self._ready[kind.id] = ready if lead else None
        return self._ready[kind.id]

    def findings(
        self,
        kind: SessionKind,
        start: dt.datetime,
        end: dt.datetime,
        *,
        booked_at: dt.datetime | None = None,
    ) -> list[Finding]:
        """The calendar rules an existing session from ``start`` to ``end`` breaks.

        ``booked_at``: when it was booked at this time; notice and horizon are judged from it
        (else from ``now``, for a session still to come).
        """
        tz = self.zone_for(kind)
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        day = local_start.date()
        span = _Words(local_start, local_end)  # written only when a finding needs it
        rule = f"clinic {self.clinic.id}"
        found = self._booking_findings(start, day, span, rule, booked_at)
        found += _instruction_findings(kind, self.lead(kind), local_start, booked_at, rule)
        blackout = self.blackout(day)
        if blackout:
            found.append(Finding("patient-blackout", f"{fmt_day(day)}: {blackout}", rule))
        if kind.location != "home":
            found += self._opening_findings(local_start, local_end, span, rule)
        if not self.within_patient_hours(start, end):
            message = f"{span} is outside the patient's availability"
            found.append(Finding("outside-patient-availability", message, rule))
        if kind.is_dosing:
            excluded = self.excluded_treatment(day)
            if excluded:
                message = f"{excluded} on {fmt_day(day)}: no dose the same day"
                found.append(Finding("same-day-exclusion", message, rule))
        for use in uses(kind):
            if use.resource == "prescriber" and not self.prescriber_present(
                shift(start, minutes=use.offset), shift(start, minutes=use.finish)
            ):
                message = f"no prescriber on site during {span}"
                found.append(Finding("no-prescriber", message, rule))
        return found

    def _booking_findings(
        self,
        start: dt.datetime,
        day: dt.date,
        span: _Words,
        rule: str,
        booked_at: dt.datetime | None,
    ) -> list[Finding]:
        """Booked after its start, inside the minimum notice, beyond the horizon."""
        hours = self.clinic.minimum_notice_hours
        if booked_at is not None:
            moment = booked_at
        elif self.now is not None and start >= self.now:
            moment = self.now
        else:
            return []

        def booked() -> str:
            assert booked_at is not None  # noqa: S101 - only asked when it was given
            return f"{span} was booked at {booked_at.astimezone(self.zone):%H:%M on %d %b %Y}"

        if start < moment:
            return [Finding("booked-in-the-past", f"{booked()}, after its start", rule)]
        found = []
        horizon = self.horizon(day, at=moment)
        if horizon:
            found.append(Finding("beyond-booking-horizon", f"{fmt_day(day)} is {horizon}", rule))
        if start < self._notice_after(moment):
            late = (
                f"{booked()}, less than {hours} h before it"
                if booked_at is not None
                else f"{span} is less than {hours} h from now"
            )
            found.append(Finding("before-minimum-notice", late, rule))
        return found

    def lead(self, kind: SessionKind) -> dt.timedelta:
        """:func:`instructions_lead` of ``kind``, worked out once for each kind."""
        found = self._leads.get(kind.id)
        if found is None:
            found = self._leads[kind.id] = instructions_lead(kind)
        return found

    def _notice_after(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` plus the clinic's minimum notice: a start booked then must not be sooner.

        Worked out once for each moment (a plan's sessions are mostly booked at one). The key
        holds the moment's zone and fold too: equal moments of one zone and fold are one
        value, whose notice is the same.
        """
        key = (moment, id(moment.tzinfo), moment.fold)
        found = self._notices.get(key)
        if found is None:
            found = shift(moment, hours=self.clinic.minimum_notice_hours)
            self._notices[key] = found
        return found

    def _opening_findings(
        self, local_start: dt.datetime, local_end: dt.datetime, span: _Words, rule: str
    ) -> list[Finding]:
        day = local_start.date()
        closed = self.calendar.closed_reason(day)
        if closed:
            return [Finding("clinic-closed", f"{fmt_day(day)}: {closed}", rule)]
        ranges = self.calendar.ranges(day)
        if local_end.date() != day or not any(
            r.contains(local_start.time(), local_end.time()) for r in ranges
        ):
            hours = ", ".join(str(r) for r in ranges)
            message = f"{span} is outside the opening hours ({hours})"
            return [Finding("outside-opening-hours", message, rule)]
        return []


class _Words:
    """A session's time in words (``09:00-10:25 on Tue 1 Dec 2026``), written when formatted.

    Most sessions break no rule, so their words are never needed.
    """

    __slots__ = ("end", "start")

    def __init__(self, start: dt.datetime, end: dt.datetime) -> None:
        self.start, self.end = start, end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} on {fmt_day(self.start.date())}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _instruction_findings(
    kind: SessionKind,
    lead: dt.timedelta,
    start: dt.datetime,
    booked_at: dt.datetime | None,
    rule: str,
) -> list[Finding]:
    """A session booked after its own instructions began.

    They begin ``lead`` before its start (:func:`instructions_lead`).
    """
    if booked_at is None or not lead:
        return []
    began = shift(start, minutes=-lead.total_seconds() / 60)  # real elapsed time
    if booked_at <= began:
        return []
    booked = booked_at.astimezone(start.tzinfo)
    message = (
        f"{kind.name} at {start:%H:%M} on {fmt_day(start.date())} was booked at "
        f"{booked:%H:%M} on {fmt_day(booked.date())}, after its instructions began at "
        f"{began:%H:%M} ({_duration(lead)} before it)"
    )
    return [Finding("instructions-before-booking", message, rule)]
