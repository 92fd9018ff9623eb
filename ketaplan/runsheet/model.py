"""The run sheet's records: lanes (chairs and rooms), sessions and steps, and the staff load.

Every time is local to the clinic's zone; compare them as instants (:func:`instant`), never by
their wall clocks.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ketaplan._model import AnyDateTime, AnyDay, AnyMoment, Model, Name, Ref, Text
from ketaplan._text import fmt_clock
from ketaplan._types import ResourceKind, SessionCategory
from ketaplan.plans import AppointmentStatus
from ketaplan.timing import steady_midnight, zone

__all__ = [
    "Lane",
    "RunSession",
    "RunSheet",
    "RunStep",
    "RunWeek",
    "StaffLoad",
    "StepKind",
    "in_order",
    "instant",
]

StepKind = Literal["check-in", "dosing", "monitoring", "session", "checkpoint", "discharge"]
"""What a step of a session is: a step of its timeline, a checkpoint, or the discharge."""


class RunStep(Model):
    """One step of a session: a moment, or a period when it has ``until``."""

    kind: StepKind
    label: Text
    """What happens, e.g. "dosing (0.5 mg/kg over 40 min)" or a checkpoint task's title."""
    at: AnyMoment
    until: AnyMoment | None = None
    task: Name | None = None
    """The staff task the step comes from (a checkpoint's), if any."""


class RunSession(Model):
    """One patient's session on the day, with its steps in time order."""

    patient: Ref
    """The patient's id (the plan's id when the plan names no patient); never a name."""
    plan: Ref
    appointment: Ref
    name: Name
    """The session kind's name, e.g. "IV ketamine infusion"."""
    category: SessionCategory
    dose_number: int | None = None
    status: AppointmentStatus
    start: AnyMoment
    end: AnyMoment
    steps: tuple[RunStep, ...]


class Lane(Model):
    """A chair or a room, and the sessions in it, in time order."""

    resource: ResourceKind | None
    """``"chair"`` or ``"room"``; ``None`` for sessions that use neither."""
    unit: int | None
    """Which chair or room (1-based); ``None`` when the plan assigned none."""
    sessions: tuple[RunSession, ...]

    @property
    def label(self) -> str:
        """``"chair 2"``, ``"room, not assigned"`` or ``"no chair or room"``."""
        if self.resource is None:
            return "no chair or room"
        if self.unit is None:
            return f"{self.resource}, not assigned"
        return f"{self.resource} {self.unit}"


class StaffLoad(Model):
    """A stretch of the day with the same number of patients under monitoring."""

    start: AnyMoment
    end: AnyMoment
    patients: int
    """Patients under monitoring (dosing and the monitoring after it) in this stretch."""
    staff: int | None
    """Monitoring staff on duty; ``None`` when the clinic is not known."""
    capacity: int | None
    """How many patients they may watch at once (staff times the clinic's patients per staff
    member); ``None`` when the clinic is not known."""

    @property
    def per_staff(self) -> float | None:
        """Patients per staff member, or ``None`` without staff."""
        return self.patients / self.staff if self.staff else None

    @property
    def over(self) -> bool:
        """Whether more patients are under monitoring than the staff may watch."""
        return self.capacity is not None and self.patients > self.capacity


class DayEvent(Model):
    """A session of the day that does not take place: cancelled (in time or late) or missed."""

    patient: Ref
    appointment: Ref
    start: AnyDateTime
    what: Text
    """``"cancelled"``, ``"late cancellation"`` (inside the clinic's cancellation window) or
    ``"no-show"`` (missed without a cancellation)."""
    cancelled_at: AnyDateTime | None = None


class RunSheet(Model):
    """One clinic day: each chair's and room's sessions, and the monitoring staff's load."""

    day: AnyDay
    time_zone: Ref
    """The clinic's zone: every time of the sheet is local to it."""
    clinic: Ref
    clinic_name: Name
    monitoring_staff: int | None
    """The clinic's monitoring staff; ``None`` when the clinic is not known."""
    patients_per_staff: int | None
    lanes: tuple[Lane, ...]
    load: tuple[StaffLoad, ...]
    """Each stretch with patients under monitoring, in time order."""
    history: tuple[DayEvent, ...] = ()
    """The day's sessions that do not take place, in time order: the front desk's record."""
    closed: Text | None = None
    """Why the clinic is closed on the day (a closure, a holiday, a weekday it does not open),
    in its calendar's words (:meth:`~ketaplan.openings.ClinicCalendar.closed_reason`), e.g.
    ``"clinic closed (Christmas Day)"``; ``None`` when it is open or no clinic is known."""

    @property
    def sessions(self) -> tuple[RunSession, ...]:
        """Every session of the day, in time order."""
        every = (session for lane in self.lanes for session in lane.sessions)
        return tuple(sorted(every, key=in_order))

    @property
    def patients(self) -> tuple[str, ...]:
        """The patients' ids, sorted."""
        return tuple(sorted({session.patient for session in self.sessions}))

    @property
    def over_ratio(self) -> tuple[StaffLoad, ...]:
        """The stretches with more patients under monitoring than the staff may watch."""
        return tuple(stretch for stretch in self.load if stretch.over)

    @property
    def closed_note(self) -> str | None:
        """The closure in a sentence, for every way the sheet is shown; ``None`` when open.

        ``"No sessions: clinic closed on Sundays."``, or, when sessions are planned on the
        closed day (booked before the closure was entered), a warning that they are.
        """
        if self.closed is None:
            return None
        if not self.sessions:
            return f"No sessions: {self.closed}."
        count = len(self.sessions)
        return (
            f"{self.closed[:1].upper()}{self.closed[1:]}, yet {count} session"
            f"{'s are' if count != 1 else ' is'} planned on this day."
        )

    @property
    def offset_changes(self) -> bool:
        """Whether the clocks change on this day (a DST day), so a wall time may repeat."""
        return steady_midnight(self.day.toordinal(), zone(self.time_zone)) is None

    def clock(self, moment: dt.datetime) -> str:
        """``moment`` on the clinic's wall clock, e.g. ``"09:15"``.

        On a DST day with the zone's abbreviation (``"01:30 EST"``), and with its date when it
        falls on another day.
        """
        local = moment.astimezone(zone(self.time_zone))
        text = fmt_clock(local, seen_on=self.day)
        if self.offset_changes:
            text = f"{text[:5]} {local.tzname()}{text[5:]}"
        return text


class RunWeek(Model):
    """Clinic days in a row (a week, or a few days): the run sheet of each, in order."""

    start: AnyDay
    """The first day."""
    days: tuple[RunSheet, ...]
    """One sheet per day, from ``start`` on, including days without sessions."""

    @property
    def end(self) -> dt.date:
        """The last day."""
        return self.days[-1].day

    @property
    def sessions(self) -> tuple[RunSession, ...]:
        """Every session of the days, in time order."""
        return tuple(session for sheet in self.days for session in sheet.sessions)

    @property
    def over_ratio(self) -> tuple[StaffLoad, ...]:
        """The stretches of every day with more patients under monitoring than staff may watch."""
        return tuple(stretch for sheet in self.days for stretch in sheet.over_ratio)


def instant(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC: how times of one zone must be compared and subtracted.

    Python compares two datetimes that share a ``tzinfo`` by their wall clocks, so 01:10 EST
    would sort before 01:30 EDT on the day the clocks go back, although it comes 40 minutes
    later.
    """
    return moment.astimezone(dt.UTC)


def in_order(session: RunSession) -> tuple[dt.datetime, str, str]:
    """The order of sessions: by start, then patient and appointment."""
    return instant(session.start), session.patient, session.appointment
