"""The result of planning: appointments with their reasons, instructions and tasks.

A :class:`Plan` is plain data: it round-trips through JSON (``model_dump_json`` and
``Plan.model_validate_json``) and carries everything a calendar, a receptionist or ``check``
needs, including why each appointment is where it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from ketaplan._model import (
    Day,
    FiniteFloat,
    Loc,
    Model,
    Moment,
    Name,
    NonEmptyText,
    Ref,
    Text,
    check_unique,
    elapsed_order,
    fail,
)
from ketaplan._types import (
    MAX_UNITS,
    CancellationNotice,
    DoseUnit,
    Location,
    ResourceKind,
    SessionCategory,
)
from ketaplan.bookings import Booking, bookings_of
from ketaplan.decisions import Decision, Proposal, stopped_on
from ketaplan.errors import DefinitionError, PlanError
from ketaplan.hours import DEFAULT_QUIET_HOURS, QuietSetting
from ketaplan.timing import zone

__all__ = [
    "MAX_NUMBER",
    "MOVED",
    "MOVED_BY_REQUEST",
    "NO_LONGER_NEEDED",
    "Appointment",
    "AppointmentStatus",
    "Assessment",
    "Instruction",
    "InstructionKind",
    "Plan",
    "ResourceSpan",
    "ScaleName",
    "Score",
    "Shift",
    "Task",
    "TierChange",
    "opaque_key",
]

#: The largest number a plan counts with (a session's place in its phase, a dose's number, a
#: revision, days outside a window): far above any plan (five years of daily sessions are
#: under 2,000), and far below where date arithmetic and C integers overflow.
MAX_NUMBER = 100_000

AppointmentStatus = Literal["planned", "attended", "missed", "cancelled"]

#: The reason of a session a re-plan no longer needs (cancelled, kept so calendars remove it).
NO_LONGER_NEEDED = "no longer needed"

#: How the reason of every session a re-plan moved begins (by request, or around a disruption).
MOVED = "moved"
#: How the reason of a session a person moved (a ``Moved`` event) begins.
MOVED_BY_REQUEST = f"{MOVED} by request"

InstructionKind = Literal[
    "fasting-solids",
    "fasting-liquids",
    "nasal-spray",
    "escort",
    "no-driving",
    "peer-monitor",
    "medication-hold",
    "medication-resume",
    "monitoring",
]


class ResourceSpan(Model):
    """A resource an appointment occupies, and when."""

    resource: ResourceKind
    unit: Annotated[int, Field(ge=1, le=MAX_UNITS)] | None = None
    """Which chair or room (1-based); ``None`` for counted resources and presence."""
    start: Moment
    end: Moment


class Instruction(Model):
    """Something the patient must do, at an exact local time when it has one."""

    kind: InstructionKind
    text: Text
    """A sentence for the patient, with local times, e.g. "No food after 07:15 on Mon 7 Dec"."""
    at: Moment | None = None
    """When it starts to apply."""
    until: Moment | None = None
    """When it stops applying, if it is a period."""
    source: Ref | None = None


class DecidedDose(Model):
    """A dose a clinician chose from the menu, as recorded."""

    amount: Annotated[float, Field(gt=0, le=1000)]
    unit: DoseUnit

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit}"


class Shift(Model):
    """Recorded when ``on_conflict="shift"`` placed an appointment outside its window."""

    earliest: Day
    latest: Day
    days_outside: Annotated[int, Field(ge=-MAX_NUMBER, le=MAX_NUMBER)]
    text: Text


class Appointment(Model):
    """One planned session."""

    id: Ref
    """Stable across re-planning: calendars update it instead of adding a duplicate."""
    kind: SessionCategory
    """What the session is for; ``"dosing"`` for doses."""
    session: Ref
    """The protocol's session kind."""
    name: Name
    phase: Ref
    """The phase it belongs to (for an anchored session, its anchor's phase)."""
    index: Annotated[int, Field(ge=1, le=MAX_NUMBER)]
    """1-based position within its phase (or among its anchored rule's sessions)."""
    dose_number: Annotated[int, Field(ge=1, le=MAX_NUMBER)] | None = None
    """1-based dose count over the plan, for dosing sessions."""
    anchored: Ref | None = None
    """The anchored-session rule that placed it, if any."""
    anchor: Ref | None = None
    """The appointment it is anchored to, if any."""
    start: Moment
    end: Moment
    dosing_start: Moment | None = None
    """When dosing begins (after check-in), for dosing sessions."""
    time_zone: Ref
    location: Location
    resources: tuple[ResourceSpan, ...] = ()
    dose: Name | None = None
    """The protocol's dose menu at this place in the series, e.g. "56 mg or 84 mg"."""
    decided_dose: DecidedDose | None = None
    """The dose the clinician decided and recorded, e.g. 84 mg (one of the menu's)."""
    target: Day | None = None
    """The date the rule aimed for."""
    earliest: Day | None = None
    latest: Day | None = None
    rule: Text
    """The rule that set the date, e.g. "7 days after infusion 6 (window 7-10)"."""
    reason: Text
    """Why it is where it is, in a sentence."""
    shift: Shift | None = None
    status: AppointmentStatus = "planned"
    cancellation: CancellationNotice | None = None
    """For a cancelled session, how much notice the cancellation gave (``in-time`` or
    ``late``, by the clinic's ``cancellation_window_hours``); ``None`` when no one cancelled it
    (a re-plan no longer needs it, its anchor did not take place) or in an older plan file."""
    cancelled_at: Moment | None = None
    """When the cancellation was made (``Cancelled.made_at``)."""
    on_request: bool = False
    """A booster the patient asked for: brought forward from its gap, after an evaluation."""
    provisional: bool = False
    """Planned only if a decision still to be taken goes one way (maintenance for responders)."""
    revision: Annotated[int, Field(ge=0, le=MAX_NUMBER)] = 0
    """Raised whenever the appointment changes, so calendars update it."""
    booked_at: Moment | None = None
    """The moment it was booked at this time (the plan's or re-plan's ``now``): the clinic's
    minimum notice and booking horizon are judged from it."""
    instructions: tuple[Instruction, ...] = ()

    @property
    def local_start(self) -> dt.datetime:
        """The start in the appointment's own zone."""
        return self.start.astimezone(zone(self.time_zone))

    @property
    def local_date(self) -> dt.date:
        """The local date of the start."""
        return self.local_start.date()

    @property
    def is_dose(self) -> bool:
        """Whether it is a dosing session."""
        return self.kind == "dosing"

    @property
    def is_active(self) -> bool:
        """Whether it still takes place (planned or attended)."""
        return self.status in {"planned", "attended"}

    @property
    def moved(self) -> bool:
        """Whether it is not where its rule aimed.

        Off its target date, placed outside its window (``shift``), or moved by a re-plan (by
        request, or around a disruption: its reason begins with :data:`MOVED`).
        """
        return (
            self.shift is not None
            or (self.target is not None and self.local_date != self.target)
            or self.relocated
        )

    @property
    def relocated(self) -> bool:
        """Whether a re-plan moved it where its rules would not put it.

        By request, or around a disruption (a closure the clinic file may not hold): later
        re-plans keep it there.
        """
        return self.reason.startswith(f"{MOVED} ")

    @property
    def no_longer_needed(self) -> bool:
        """Cancelled by a re-plan that no longer needs it: bookkeeping, not a cancellation."""
        return self.status == "cancelled" and self.reason.startswith(NO_LONGER_NEEDED)


class Task(Model):
    """A staff task with a due date (a REMS form, a requirement to confirm, a scale).

    A task that happens at a moment (a checkpoint during a session) also has ``at``, and
    ``until`` when it runs through a period.
    """

    id: Ref
    title: NonEmptyText
    due: Day
    kind: Literal[
        "form",
        "requirement",
        "monitoring",
        "assessment",
        "decision",
        "medication",
        "checkpoint",
        "confirmation",
        "call",
    ]
    appointment: Ref | None = None
    source: Ref | None = None
    at: Moment | None = None
    """When it happens, for a task at a moment (in the zone of its appointment)."""
    until: Moment | None = None
    """When it ends, for a task that runs through a period."""

    @model_validator(mode="after")
    def _period(self) -> Task:
        if self.until is not None and (self.at is None or self.until < self.at):
            raise ValueError(f"until: must come with at and not before it; got {self.until!r}")
        return self


#: A rating scale's name, as the protocol's rules name it (``MADRS``, ``PHQ-9``): text, as any
#: other a person writes (a clinic may track "Columbia Suicide Severity Rating Scale ...").
ScaleName = NonEmptyText
#: A score on a rating scale: finite, and far within what float arithmetic holds (a score of
#: 1e308 was once written and read back as infinity); every scale in use is far inside it.
Score = Annotated[FiniteFloat, Field(ge=-1_000_000, le=1_000_000)]


class Assessment(Model):
    """A recorded rating-scale score."""

    on: Day
    scale: ScaleName
    score: Score


class TierChange(Model):
    """A tiered phase changed tier when re-planning; the new tier applies from ``since`` on.

    Sessions before ``since`` were planned, and are judged, under ``before``.
    """

    phase: Ref
    before: Ref
    after: Ref
    since: Moment
    """The moment of the re-plan that made the change."""
    reason: Text
    """Why, in words (a score, a missed session with worsening)."""


class Plan(Model):
    """A patient's planned series."""

    error_class: ClassVar[type[DefinitionError]] = PlanError

    id: Ref
    protocol: Ref
    protocol_version: Ref
    patient: Ref | None = None
    clinic: Ref
    clinic_name: Name
    clinic_location: Name | None = None
    """The clinic's address, for calendars."""
    clinic_display_name: Name | None = None
    """The clinic's ``patient_facing_name``; ``None`` when it has none (patients see
    ``clinic_name``): see :attr:`display_name`."""
    quiet_hours: QuietSetting = DEFAULT_QUIET_HOURS
    """The clinic's quiet hours, in which no patient reminder fires (``None``: off)."""
    reminder_lead_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 60
    """How long before a deadline the patient's reminder of it fires (the clinic's setting)."""
    time_zone: Ref
    start: Day
    until: Day
    revision: Annotated[int, Field(ge=0, le=MAX_NUMBER)] = 0
    tiers: dict[Ref, Ref] = Field(default_factory=dict)
    """The tier each tiered phase uses now (the clinician's choice, or a re-planning step)."""
    tier_changes: tuple[TierChange, ...] = ()
    """Each change of tier re-planning made, in order, so history is judged by its own tier."""
    appointments: tuple[Appointment, ...] = ()
    tasks: tuple[Task, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    """Decisions re-planning asked a clinician for, each with its answer once recorded."""
    decisions: tuple[Decision, ...] = ()
    """Every decision recorded, in order (the history of what the clinician decided)."""
    notes: tuple[Text, ...] = ()
    """Things a person should know about the plan as it stands (a requirement to confirm, a
    session that could not be placed): worked out afresh by each re-plan."""
    history: tuple[Text, ...] = ()
    """What happened and what was decided, one line per re-plan's record (a move by request,
    a decision, a proposal raised), each with the re-plan's moment; kept for good."""

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        """A plan read from a file holds together: unique ids, times in order, known zones."""
        found: list[tuple[Loc, str, object]] = []
        found += check_unique(self.appointments, "appointments")
        found += check_unique(self.tasks, "tasks")
        found += check_unique(self.proposals, "proposals")
        zones = {self.time_zone}
        if self.until < self.start:
            found.append((("until",), f"must be on or after start {self.start}", self.until))
        ids = {a.id for a in self.appointments}
        for index, a in enumerate(self.appointments):
            zones.add(a.time_zone)
            at: Loc = ("appointments", index)
            if not elapsed_order(a.start, a.end):
                found.append(((*at, "end"), f"must be after start {a.start}", a.end))
            if a.anchor is not None and a.anchor not in ids:
                found.append(((*at, "anchor"), "must name an appointment of the plan", a.anchor))
        for index, task in enumerate(self.tasks):
            if task.appointment is not None and task.appointment not in ids:
                where: Loc = ("tasks", index, "appointment")
                found.append((where, "must name an appointment of the plan", task.appointment))
        for name in sorted(zones):
            if not _known_zone(name):
                found.append((("time_zone",), "must be an IANA time zone", name))
        fail(found)
        return self

    @property
    def display_name(self) -> str:
        """The clinic's name as patients see it: its patient-facing name, else its name."""
        return self.clinic_display_name or self.clinic_name

    @property
    def stopped_on(self) -> dt.date | None:
        """The local day a decision stopped the course, if one did."""
        return stopped_on(self.decisions, self.time_zone)

    def appointment(self, appointment_id: str) -> Appointment:
        """The appointment with this id."""
        for appointment in self.appointments:
            if appointment.id == appointment_id:
                return appointment
        raise KeyError(appointment_id)

    @property
    def doses(self) -> tuple[Appointment, ...]:
        """The dosing appointments still taking place, in order."""
        return tuple(a for a in self.appointments if a.is_dose and a.is_active)

    def bookings(self) -> tuple[Booking, ...]:
        """What this plan occupies as stored, as bookings for planning other patients around it.

        Each resource is booked for the span the appointment stores: right for a plan as
        ketaplan made or re-planned it. Clinic software may move an appointment's ``start``
        and ``end`` only, which leaves the stored spans at the old time; for a plan read back,
        :func:`ketaplan.plan_bookings` derives each span from the start, as ``check`` does.
        """
        return tuple(
            booking
            for appointment in self.appointments
            if appointment.is_active
            for booking in bookings_of(
                appointment,
                patient=self.patient,
                label=f"{self.patient or self.id} {appointment.id}",
                plan=self.id,
            )
        )


def _known_zone(name: str) -> bool:
    try:
        zone(name)
    except (ValueError, OSError, KeyError):
        return False
    return True


def opaque_key(*parts: str) -> str:
    """A stable, opaque key for a plan or an item of it: 32 hex digits of SHA-256.

    The one rule for identity in exports: the parts are the plan's id and the item's
    (``opaque_key(plan.id, appointment.id)``), so the key survives re-planning, and it holds
    no patient data. Calendar UIDs (:func:`ketaplan.ics.uid_for`) and FHIR ids and identifiers
    (:mod:`ketaplan.fhir`) are written from it.

    >>> opaque_key("plan-4cd0e1afed330299", "series-1")
    'c396dbdc9c165fe1e1980827d3cfb5fb'
    """
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]
