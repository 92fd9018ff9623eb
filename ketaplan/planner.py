"""``plan()``: from a protocol and a start date to a plan a clinic can book as it is.

How a plan is made
------------------
The sessions of the phases form a chain. For each next session the planner works out a window
of acceptable dates and a target date from the protocol (the previous session plus the gap, the
per-week grid, the treatment week), orders the candidate days by distance from the target
(ties go to the earlier day), and takes the first day with a feasible slot that keeps every
rule: opening hours, closures and holidays, the patient's availability, blackouts and
commitments, resource capacity over the whole block, the prescriber's presence, the minimum
interval in elapsed hours, consecutive days, doses per rolling 7 days, per-week counts and the
phase's deadline. Sessions anchored to a dose (integration, calls, reviews) are placed with it;
if one cannot be placed, the dose tries its next day.

When a session has no feasible day, the planner goes back and tries the previous session's
other days (depth first, bounded by :data:`MAX_EVALUATIONS` candidate days). If the series
still cannot be placed it raises :class:`~ketaplan.errors.UnsatisfiableError` naming the
session, its window and what blocked each day, unless ``on_conflict="shift"`` asks it to place
the session after its window and record the shift.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ketaplan._text import fmt_day
from ketaplan.bookings import Booking, bookings_of
from ketaplan.clinic import Clinic
from ketaplan.defaults import default_clinic
from ketaplan.errors import InputError, LimitError, UnsatisfiableError
from ketaplan.instructions import instructions_for, tasks_for
from ketaplan.ledger import Ledger
from ketaplan.medications import medication_rules
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Instruction, Plan, ResourceSpan, Shift
from ketaplan.protocol import (
    AfterPrevious,
    Anchor,
    AnchoredSession,
    GapSequence,
    GapWindow,
    InWeek,
    PerWeek,
    Phase,
    Protocol,
    SessionKind,
)
from ketaplan.protocol.gap import Cadence
from ketaplan.slots import Slot, SlotFinder
from ketaplan.timing import add_gap, shift

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "DEFAULT_START_WINDOW_DAYS",
    "MAX_EVALUATIONS",
    "MAX_HORIZON_DAYS",
    "OnConflict",
    "plan",
]

#: Without ``until``, open-ended phases are planned this many days past the start.
DEFAULT_HORIZON_DAYS = 365
#: ``until`` may be at most this many days after ``start``.
MAX_HORIZON_DAYS = 5 * 366
#: The first session may be placed up to this many days after ``start``.
DEFAULT_START_WINDOW_DAYS = 28
#: The search gives up after trying this many candidate days.
MAX_EVALUATIONS = 20_000
#: With ``on_conflict="shift"``, how many days past a window's end a session may go.
SHIFT_DAYS = 28

OnConflict = Literal["raise", "shift"]


def plan(
    protocol: Protocol,
    /,
    *,
    start: dt.date,
    clinic: Clinic | None = None,
    patient: Patient | None = None,
    bookings: Iterable[Booking] | Ledger = (),
    until: dt.date | None = None,
    preferred_time: dt.time | None = None,
    tiers: Mapping[str, str] | None = None,
    on_conflict: OnConflict = "raise",
    now: dt.datetime | None = None,
    time_zone: str | None = None,
    start_window_days: int = DEFAULT_START_WINDOW_DAYS,
) -> Plan:
    """Plan ``protocol`` from ``start`` into the clinic's and the patient's calendars.

    Args:
        protocol: what to plan.
        start: the first date a session may take place.
        clinic: where; without one, :func:`~ketaplan.defaults.default_clinic` in ``time_zone``.
        patient: who, with availability, blackouts, commitments and medications.
        bookings: the clinic's other bookings (or a :class:`~ketaplan.ledger.Ledger` of them);
            the plan fits around them and never exceeds a resource's capacity.
        until: the horizon for open-ended phases (default: start + 365 days).
        preferred_time: the local time of day to aim for (default: as early as possible).
        tiers: the tier to use for phases that offer a choice, e.g. ``{"maintenance": "weekly"}``.
        on_conflict: ``"raise"`` (default) or ``"shift"`` a session past its window.
        now: the moment of planning, for minimum notice and the booking horizon.
        time_zone: the zone of the default clinic when ``clinic`` is omitted.
        start_window_days: how far after ``start`` the first session may go.

    >>> from ketaplan import load_protocol
    >>> from ketaplan.defaults import demo_clinic
    >>> result = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30),
    ...               clinic=demo_clinic(), preferred_time=dt.time(9))
    >>> [f"{a.local_start:%a %d %H:%M}" for a in result.doses][:6]
    ['Mon 30 09:00', 'Wed 02 09:00', 'Fri 04 09:00', 'Mon 07 09:00', 'Wed 09 09:00', 'Fri 11 09:00']
    """
    _check_arguments(
        start,
        until=until,
        preferred_time=preferred_time,
        on_conflict=on_conflict,
        now=now,
        start_window_days=start_window_days,
    )
    if clinic is None:
        clinic = default_clinic(time_zone or protocol.calendar.time_zone or "UTC")
    horizon = until if until is not None else start + dt.timedelta(days=DEFAULT_HORIZON_DAYS)
    chosen = _choose_tiers(protocol, tiers)
    plan_id = _plan_id(protocol, clinic, patient, start)
    ledger = bookings.fork() if isinstance(bookings, Ledger) else Ledger(clinic, bookings)
    planner = _Planner(
        protocol,
        clinic=clinic,
        patient=patient,
        ledger=ledger,
        start=start,
        until=horizon,
        preferred_time=preferred_time,
        tiers=chosen,
        now=now,
        patient_key=patient.id if patient else f"plan:{plan_id}",
        start_window_days=start_window_days,
    )
    appointments = planner.solve(on_conflict=on_conflict)
    tasks, notes = tasks_for(
        protocol, appointments, clinic=clinic, patient=patient, medications=planner.medications
    )
    return Plan(
        id=plan_id,
        protocol=protocol.id,
        protocol_version=protocol.version,
        patient=patient.id if patient else None,
        clinic=clinic.id,
        clinic_name=clinic.name,
        clinic_location=clinic.location,
        time_zone=clinic.time_zone,
        start=start,
        until=horizon,
        tiers=chosen,
        appointments=tuple(appointments),
        tasks=tasks,
        notes=(*planner.notes, *notes),
    )


# -- arguments ---------------------------------------------------------------------------------


def _check_arguments(
    start: object,
    *,
    until: object,
    preferred_time: object,
    on_conflict: object,
    now: object,
    start_window_days: object,
) -> None:
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise InputError("start", "a date (datetime.date, not datetime)", start)
    if until is not None:
        if not isinstance(until, dt.date) or isinstance(until, dt.datetime):
            raise InputError("until", "a date (datetime.date, not datetime)", until)
        if until < start:
            raise InputError("until", f"on or after start ({start})", until)
        if (until - start).days > MAX_HORIZON_DAYS:
            raise LimitError("until", f"at most {MAX_HORIZON_DAYS} days after start", until)
    if preferred_time is not None and (
        not isinstance(preferred_time, dt.time) or preferred_time.tzinfo is not None
    ):
        raise InputError("preferred_time", "a local time of day without a zone", preferred_time)
    if on_conflict not in {"raise", "shift"}:
        raise InputError("on_conflict", "'raise' or 'shift'", on_conflict)
    if now is not None and (not isinstance(now, dt.datetime) or now.tzinfo is None):
        raise InputError("now", "an aware datetime (with a zone)", now)
    if not isinstance(start_window_days, int) or not 0 <= start_window_days <= _MAX_START_WINDOW:
        raise InputError(
            "start_window_days", f"a whole number from 0 to {_MAX_START_WINDOW}", start_window_days
        )


def _choose_tiers(protocol: Protocol, tiers: Mapping[str, str] | None) -> dict[str, str]:
    chosen = {phase.id: phase.tier for phase in protocol.phases if phase.tier is not None}
    for phase_id, tier in (tiers or {}).items():
        phases = {phase.id: phase for phase in protocol.phases}
        phase = phases.get(phase_id)
        if phase is None or phase.tier is None:
            raise InputError(
                f"tiers[{phase_id!r}]",
                f"a tiered phase of {protocol.id} ({', '.join(chosen)})",
                tier,
            )
        allowed = (phase.tier, *phase.tier_choices)
        if tier not in allowed:
            raise InputError(f"tiers[{phase_id!r}]", f"one of {', '.join(allowed)}", tier)
        chosen[phase_id] = tier
    return chosen


def _plan_id(protocol: Protocol, clinic: Clinic, patient: Patient | None, start: dt.date) -> str:
    key = "|".join([protocol.id, clinic.id, patient.id if patient else "", start.isoformat()])
    return "plan-" + hashlib.sha256(key.encode()).hexdigest()[:16]


# -- the search --------------------------------------------------------------------------------


@dataclass
class _Step:
    """The next session of the chain, and where it may go."""

    phase_index: int
    phase: Phase
    kind: SessionKind
    index: int
    dose_number: int | None
    earliest: dt.date
    latest: dt.date
    target: dt.date
    rule: str
    window_text: str
    previous: Appointment | None
    hard_latest: dt.date | None = None
    """A date no candidate may pass even when shifting (a phase deadline)."""
    gap: GapWindow | None = None
    """The gap window that set the dates, when a gap did."""


@dataclass(frozen=True)
class _WeekCounts:
    """A per-week cadence's sessions so far, by week."""

    cadence: PerWeek
    first: dt.date
    week_of: Callable[[dt.date], int]
    counts: dict[int, int]
    booked: dict[int, int]


@dataclass(frozen=True)
class _DayContext:
    """What judging a day for a step needs, apart from the day (see ``day_context``)."""

    frozen: dt.date | None
    dose_dates: list[dt.date]
    last_dose_id: str
    weeks: _WeekCounts | None
    lookahead: tuple[dt.date | None, int, int, int] | None
    earliest: tuple[dt.datetime, str] | None
    """The earliest start the minimum interval allows, and the reason."""


@dataclass
class _Frame:
    step: _Step
    candidates: list[dt.date]
    position: int = 0
    context: _DayContext | None = None
    """The step's day-independent rules, made on the frame's first day."""
    added: list[Appointment] = field(default_factory=list)
    ledger_adds: int = 0
    rejected: dict[dt.date, str] = field(default_factory=dict)


class _Planner:
    def __init__(
        self,
        protocol: Protocol,
        *,
        clinic: Clinic,
        patient: Patient | None,
        ledger: Ledger,
        start: dt.date,
        until: dt.date,
        preferred_time: dt.time | None,
        tiers: Mapping[str, str],
        now: dt.datetime | None,
        patient_key: str,
        start_window_days: int,
        fixed: Sequence[Appointment] = (),
    ) -> None:
        self.protocol = protocol
        self.clinic = clinic
        self.patient = patient
        self.ledger = ledger
        self.start = start
        self.until = until
        self.tiers = dict(tiers)
        self.patient_key = patient_key
        self.start_window_days = start_window_days
        self.finder = SlotFinder(
            clinic,
            patient,
            ledger,
            policy=protocol.calendar,
            preferred_time=preferred_time,
            now=now,
            patient_key=patient_key,
        )
        self.medications = medication_rules(protocol, clinic)
        self.fixed = list(fixed)
        self.chain: list[Appointment] = [a for a in fixed if a.anchored is None]
        self.extras: list[Appointment] = [a for a in fixed if a not in self.chain]
        self.id_prefix = ""
        self.review_first: str | None = None
        self.resume_after: dt.datetime | None = None
        #: The local time each appointment had before a re-plan, to keep it where possible.
        self.preferred_by_id: dict[str, dt.time] = {}
        #: The date each appointment had before a re-plan (phases that continue after a miss).
        self.preferred_day_by_id: dict[str, dt.date] = {}
        self.notes: list[str] = []
        self.evaluations = 0
        self.shift = False
        self.deepest: tuple[int, _Frame] | None = None
        self.earliest_start = start
        self.booking_limit = (
            now.astimezone(self.finder.zone).date() + dt.timedelta(days=clinic.booking_horizon_days)
            if now is not None
            else None
        )

    # -- cadence -----------------------------------------------------------------------------

    def cadence(self, phase: Phase) -> Cadence | None:
        if phase.id in self.tiers:
            return self.protocol.tier(self.tiers[phase.id]).cadence
        return phase.cadence

    def _counted(self, phase: Phase, sessions: list[Appointment]) -> int:
        """How many of the phase's sessions count toward its ``count``.

        A cancelled session is not replaced; a missed one is made up unless the phase says
        ``missed = "continue"``.
        """
        if phase.missed == "continue":
            return len(sessions)
        return sum(1 for a in sessions if a.status != "missed")

    def _last_active(self, *, doses_only: bool = False) -> Appointment | None:
        for appointment in reversed(self.chain):
            if appointment.is_active and (appointment.is_dose or not doses_only):
                return appointment
        return None

    def _first_dose_date(self) -> dt.date | None:
        for appointment in self.chain:
            if appointment.is_dose and appointment.status != "cancelled":
                return appointment.local_date
        return None

    def _current_phase(self) -> tuple[int, Phase, list[Appointment]] | None:
        """The first phase that still needs sessions, with the sessions it has."""
        phases = self.protocol.phases
        for phase_index, phase in enumerate(phases):
            in_phase = [a for a in self.chain if a.phase == phase.id]
            later = {p.id for p in phases[phase_index + 1 :]}
            if any(a.phase in later for a in self.chain):
                continue  # the series has moved on: a later phase has begun
            if phase.count is None or self._counted(phase, in_phase) < phase.count:
                return phase_index, phase, in_phase
        return None

    def next_step(self) -> _Step | None:
        """The next session of the chain and its window, or ``None`` when the plan is done."""
        current = self._current_phase()
        if current is None:
            return None
        phase_index, phase, in_phase = current
        kind = self.protocol.session_kind(phase.session)
        index = max((a.index for a in in_phase), default=0) + 1
        dose_number = None
        if kind.is_dosing:
            dose_number = sum(1 for a in self.chain if a.is_dose and a.is_active) + 1
        previous = self._last_active()
        if previous is None:
            window = self._first_window()
        elif not in_phase:
            window = self._entry_window(phase, previous)
        else:
            window = self._next_in_phase_window(phase, in_phase, index, previous)
        earliest, target, latest, rule, words, gap = window
        frozen = self._frozen_until()
        resume = self.start if frozen is None else max(self.start, frozen + dt.timedelta(days=1))
        if previous is not None and any(
            a.status == "missed" and a.start > previous.start for a in self.chain
        ):
            # Making up a missed session: as soon as possible, even past the old window's end.
            earliest = max(earliest, resume)
            latest = max(latest, resume + dt.timedelta(days=self.start_window_days))
            rule = f"making up the session missed after {previous.id}"
        if latest < resume:
            # The whole window lies before the re-plan or on days already held (after a lapse
            # or a missed session): resume as soon as possible, keeping the other rules.
            earliest = target = resume
            latest = resume + dt.timedelta(days=self.start_window_days)
            rule = (
                f"resuming after {previous.id if previous else 'a break'}, whose window has passed"
            )
            words = f"within {self.start_window_days} days of resuming"
        if not in_phase and phase.preferred_weekdays:
            target = self._preferred_day(phase, target)
        kept = self.preferred_day_by_id.get(f"{self.id_prefix}{phase.id}-{index}")
        if kept is not None and earliest <= kept <= latest:
            target = kept  # re-planning: keep the date the session already had, if it still fits
        hard_latest = None
        if phase.within_days is not None and in_phase:
            hard_latest = in_phase[0].local_date + dt.timedelta(days=phase.within_days - 1)
            latest = min(latest, hard_latest)
        earliest = max(earliest, self.start, self.earliest_start)
        if phase.count is None and target > self.until:
            return None
        if self.booking_limit is not None and earliest > self.booking_limit:
            note = (
                f"sessions from {phase.id}-{index} on lie beyond the clinic's "
                f"{self.clinic.booking_horizon_days}-day booking horizon: "
                "re-plan later to book them"
            )
            if note not in self.notes:
                self.notes.append(note)
            return None
        latest = max(latest, earliest)
        return _Step(
            phase_index=phase_index,
            phase=phase,
            kind=kind,
            index=index,
            dose_number=dose_number,
            earliest=earliest,
            latest=latest,
            target=min(max(target, earliest), latest),
            rule=rule,
            window_text=words,
            previous=previous,
            hard_latest=hard_latest,
            gap=gap,
        )

    def _first_window(self) -> _Window:
        """The first session of the plan: on or after the start (and any washout)."""
        earliest = self.earliest_start
        latest = earliest + dt.timedelta(days=self.start_window_days)
        rule = "first session, on or after the plan start"
        if earliest > self.start:
            rule += f" and after the washout (from {fmt_day(earliest)})"
        return earliest, earliest, latest, rule, f"within {self.start_window_days} days of it", None

    def _entry_window(self, phase: Phase, previous: Appointment) -> _Window:
        """The first session of a later phase, by the phase's ``start``."""
        start = phase.start
        prev_day = previous.local_date
        cadence = self.cadence(phase)
        if isinstance(start, InWeek):
            first_dose = self._first_dose_date() or prev_day
            week_start = first_dose + dt.timedelta(days=7 * (start.week - 1))
            earliest = max(week_start, prev_day + dt.timedelta(days=1))
            return (
                earliest,
                max(week_start, earliest),
                week_start + dt.timedelta(days=6),
                f"treatment week {start.week} (week 1 began {fmt_day(first_dose)})",
                f"within treatment week {start.week}",
                None,
            )
        gap = start.gap if isinstance(start, AfterPrevious) else None
        if gap is None and isinstance(cadence, GapSequence):
            gap = cadence.gap(0)
        if gap is not None:
            return self._gap_step(previous, gap)
        if isinstance(cadence, PerWeek):
            earliest = prev_day + dt.timedelta(days=cadence.min_gap_days)
            return (
                earliest,
                max(earliest, prev_day + dt.timedelta(days=_WEEK // cadence.sessions)),
                prev_day + dt.timedelta(days=_WEEK),
                f"{cadence.describe()}, after {previous.id}",
                f"at least {cadence.min_gap_days} days and at most a week after it",
                None,
            )
        # A single-session phase that names no gap: from the next day on.
        earliest = prev_day + dt.timedelta(days=1)
        latest = prev_day + dt.timedelta(days=self.start_window_days)
        return (
            earliest,
            earliest,
            latest,
            f"after {previous.id}",
            f"within {self.start_window_days} days",
            None,
        )

    def _next_in_phase_window(
        self, phase: Phase, in_phase: list[Appointment], index: int, previous: Appointment
    ) -> _Window:
        """A later session of a phase, by the phase's cadence."""
        prev_day = previous.local_date
        cadence = self.cadence(phase)
        if isinstance(cadence, PerWeek):
            earliest = prev_day + dt.timedelta(days=cadence.min_gap_days)
            first = in_phase[0].local_date
            return (
                earliest,
                self._per_week_target(phase, cadence, first, index, earliest),
                # Beyond two weeks a complete week would have no session at all.
                prev_day + dt.timedelta(days=2 * _WEEK - 1),
                f"{cadence.describe()}, after {previous.id}",
                f"at least {cadence.min_gap_days} days after {previous.id}",
                None,
            )
        # Every phase with more than one session has a cadence (the protocol validates it).
        assert isinstance(cadence, GapSequence)  # noqa: S101
        # An entry that borrowed the cadence's first gap moves the rest along by one.
        borrowed = isinstance(phase.start, AfterPrevious) and phase.start.gap is None
        return self._gap_step(previous, cadence.gap(index - 2 + (1 if borrowed else 0)))

    def _gap_step(self, previous: Appointment, gap: GapWindow) -> _Window:
        """The window ``gap`` opens after ``previous``, with its rule in words."""
        earliest, target, latest = self._gap_window(previous.local_date, gap)
        rule = f"{_gap_words(gap)} after {previous.id}"
        return earliest, target, latest, rule, _window_words(gap), gap

    def _gap_window(self, day: dt.date, gap: GapWindow) -> tuple[dt.date, dt.date, dt.date]:
        month_end = self.protocol.calendar.month_end
        return (
            add_gap(day, gap.minimum, gap.unit, month_end=month_end),
            add_gap(day, gap.target, gap.unit, month_end=month_end),
            add_gap(day, gap.maximum, gap.unit, month_end=month_end),
        )

    @staticmethod
    def _preferred_day(phase: Phase, earliest: dt.date) -> dt.date:
        """The first of the phase's preferred weekdays on or after ``earliest``."""
        wanted = {_WEEKDAY_INDEX[day] for day in phase.preferred_weekdays}
        for offset in range(7):
            day = earliest + dt.timedelta(days=offset)
            if day.weekday() in wanted:
                return day
        return earliest

    def _per_week_target(
        self, phase: Phase, cadence: PerWeek, first: dt.date, index: int, earliest: dt.date
    ) -> dt.date:
        if phase.preferred_weekdays:
            return self._preferred_day(phase, earliest)
        grid = first + dt.timedelta(days=((index - 1) * 7) // cadence.sessions)
        return max(grid, earliest)

    # -- validity of a candidate day ---------------------------------------------------------

    def day_problem(
        self, step: _Step, day: dt.date, context: _DayContext | None = None
    ) -> str | None:
        """Why ``day`` cannot take the step, or ``None`` (the first of :meth:`day_findings`)."""
        found = self.day_findings(step, day, context=context)
        return found[0][1] if found else None

    def day_findings(
        self,
        step: _Step,
        day: dt.date,
        *,
        planning: bool = True,
        context: _DayContext | None = None,
    ) -> list[tuple[str, str]]:
        """Every dose-level rule ``day`` would break for the step, as ``(code, message)``.

        The codes are ``check``'s violation codes; with ``planning`` also the planner's own
        look-ahead and re-planning limits (``held``, ``deadline-lookahead``). ``context`` is
        :meth:`day_context` for the step, when the caller keeps one for many days.
        """
        if context is None:
            context = self.day_context(step, planning=planning)
        rules = self.protocol.rules
        found: list[tuple[str, str]] = []
        if step.hard_latest is not None and day > step.hard_latest and not self.shift:
            found.append(
                ("phase-deadline", f"after the phase's deadline ({fmt_day(step.hard_latest)})")
            )
        frozen = context.frozen
        if planning and frozen is not None and day <= frozen:
            found.append(("held", "not after sessions already held"))
        if step.kind.is_dosing:
            dates = context.dose_dates
            if dates:
                last, last_id = dates[-1], context.last_dose_id
                if day == last:
                    found.append(("doses-same-day", f"the same day as {last_id}"))
                elif day < last and planning:
                    found.append(("held", "not after the previous dose"))
                elif rules.consecutive_days == "avoid" and (day - last).days == 1:
                    found.append(
                        ("consecutive-days", "the day after a dose (consecutive days are avoided)")
                    )
            if rules.max_per_7_days is not None:
                window_start = day - dt.timedelta(days=6)
                recent = sum(1 for date in dates if window_start <= date <= day)
                if recent + 1 > rules.max_per_7_days.doses:
                    found.append(
                        (
                            "too-many-in-7-days",
                            f"more than {rules.max_per_7_days.doses} doses in 7 days",
                        )
                    )
        if context.weeks is not None:
            problem = self._per_week_problem(context.weeks, day)
            if problem:
                found.append(("week-count", problem))
        if context.lookahead is not None:
            first, within, remaining, spacing = context.lookahead
            deadline = (first or day) + dt.timedelta(days=within - 1)
            if day + dt.timedelta(days=remaining * spacing) > deadline:
                found.append(
                    (
                        "deadline-lookahead",
                        (
                            f"leaves too little time for the {remaining} remaining sessions "
                            f"before {fmt_day(deadline)}"
                        ),
                    )
                )
        return found

    def day_context(self, step: _Step, *, planning: bool = True) -> _DayContext:
        """What :meth:`day_findings` needs that does not depend on the day.

        It depends on the chain placed so far; the search keeps one per frame, for the chain
        does not change while a frame tries its days.
        """
        doses = [a for a in self.chain if a.is_dose and a.is_active] if step.kind.is_dosing else []
        cadence = self.cadence(step.phase)
        in_phase = [a for a in self.chain if a.phase == step.phase.id and a.is_active]
        weeks = None
        if isinstance(cadence, PerWeek) and in_phase:
            weeks = self._week_counts(step, cadence, in_phase)
        phase = step.phase
        lookahead = None
        if (
            planning
            and phase.within_days is not None
            and phase.count is not None
            and not self.shift
        ):
            every = [a for a in self.chain if a.phase == phase.id]
            lookahead = (
                in_phase[0].local_date if in_phase else None,
                phase.within_days,
                phase.count - self._counted(phase, every) - 1,
                self._min_spacing(phase),
            )
        return _DayContext(
            frozen=self._frozen_until(),
            dose_dates=[a.local_date for a in doses],
            last_dose_id=doses[-1].id if doses else "",
            weeks=weeks,
            lookahead=lookahead,
            earliest=self._interval_check(step),
        )

    def _frozen_until(self) -> dt.date | None:
        held = [a.local_date for a in self.fixed if a.anchored is None]
        return max(held) if held else None

    def _min_spacing(self, phase: Phase) -> int:
        cadence = self.cadence(phase)
        if isinstance(cadence, PerWeek):
            spacing = cadence.min_gap_days
        elif isinstance(cadence, GapSequence):
            spacing = min(
                step.gap.minimum
                * (1 if step.gap.unit == "days" else 7 if step.gap.unit == "weeks" else 28)
                for step in cadence.steps
            )
        else:
            spacing = 1
        if self.protocol.rules.consecutive_days == "avoid":
            spacing = max(spacing, 2)
        return max(spacing, 1)

    def _week_counts(
        self, step: _Step, cadence: PerWeek, in_phase: list[Appointment]
    ) -> _WeekCounts:
        first = next(a for a in self.chain if a.phase == step.phase.id).local_date
        week_of = _week_function(cadence, first)
        counts: dict[int, int] = {}  # sessions that take place, for the maximum
        booked: dict[int, int] = {}  # and those missed too, for the minimum: a miss is no gap
        for appointment in in_phase:
            week = week_of(appointment.local_date)
            counts[week] = counts.get(week, 0) + 1
        for appointment in self.chain:
            if appointment.phase == step.phase.id and appointment.status != "cancelled":
                week = week_of(appointment.local_date)
                booked[week] = booked.get(week, 0) + 1
        return _WeekCounts(cadence, first, week_of, counts, booked)

    def _per_week_problem(self, weeks: _WeekCounts, day: dt.date) -> str | None:
        cadence, first, week_of = weeks.cadence, weeks.first, weeks.week_of
        week = week_of(day)
        if weeks.counts.get(week, 0) + 1 > cadence.most:
            return f"more than {cadence.most} sessions in that week"
        frozen = self._frozen_until()
        first_week_partial = cadence.week == "calendar" and first.weekday() != 0
        for earlier in range(week_of(first), week):
            if first_week_partial and earlier == week_of(first):
                continue
            if (
                frozen is not None
                and _week_end(cadence, first, earlier) - dt.timedelta(days=6) <= frozen
            ):
                continue  # a week that began before the re-plan is not the planner's to fill
            if weeks.booked.get(earlier, 0) < cadence.fewest:
                begins = _week_end(cadence, first, earlier) - dt.timedelta(days=6)
                return (
                    f"the week from {fmt_day(begins)} has {weeks.booked.get(earlier, 0)} "
                    f"session(s); the cadence asks at least {cadence.fewest}"
                )
        return None

    # -- placing -----------------------------------------------------------------------------

    def candidates(self, step: _Step) -> list[dt.date]:
        span = (step.latest - step.earliest).days
        days = [step.earliest + dt.timedelta(days=n) for n in range(span + 1)]
        days.sort(key=lambda d: (abs((d - step.target).days), d))
        if self.shift:
            days += [step.latest + dt.timedelta(days=n) for n in range(1, SHIFT_DAYS + 1)]
        return days

    def try_day(self, frame: _Frame, day: dt.date) -> str | None:
        """Place the step on ``day`` (with its anchored sessions); return why not, if not."""
        step = frame.step
        self.evaluations += 1
        if self.evaluations > MAX_EVALUATIONS:
            raise UnsatisfiableError(
                self._label(step),
                (step.earliest.isoformat(), step.latest.isoformat()),
                sorted((d.isoformat(), r) for d, r in frame.rejected.items()),
                hint=f"the search stopped after trying {MAX_EVALUATIONS} candidate days",
            )
        if frame.context is None:
            frame.context = self.day_context(step)
        problem = self.day_problem(step, day, frame.context)
        if problem:
            return problem
        earliest = frame.context.earliest
        not_before = self.resume_after if step.kind.is_dosing else None
        preferred = self.preferred_by_id.get(f"{self.id_prefix}{step.phase.id}-{step.index}")
        slot, problem = self.finder.best(
            step.kind, day, earliest=earliest, not_before=not_before, preferred_time=preferred
        )
        if slot is None:
            return problem
        appointment = self._appointment(step, slot, day, frame)
        mark = len(self.ledger.bookings)
        self._book(appointment)
        self.chain.append(appointment)
        frame.added = [appointment]
        anchored_problem = self._place_anchored(frame, appointment)
        if anchored_problem:
            self._undo(frame, mark)
            return anchored_problem
        frame.ledger_adds = len(self.ledger.bookings) - mark
        return None

    def _interval_check(self, step: _Step) -> tuple[dt.datetime, str] | None:
        """The earliest start the protocol's minimum interval allows, and the reason."""
        rule = self.protocol.rules.min_interval
        if rule is None or not step.kind.is_dosing:
            return None
        last = self._last_active(doses_only=True)
        if last is None or last.dosing_start is None:
            return None
        # Dosing starts check_in minutes after the start: it may begin rule.hours after the last.
        check_in = step.kind.timeline.check_in_minutes
        earliest = shift(last.dosing_start, hours=rule.hours, minutes=-check_in)
        return earliest, f"less than {rule.hours:g} h after {last.id}"

    def _undo(self, frame: _Frame, mark: int) -> None:
        while len(self.ledger.bookings) > mark:
            self.ledger.remove_last()
        for appointment in frame.added:
            if appointment in self.chain:
                self.chain.remove(appointment)
            elif appointment in self.extras:
                self.extras.remove(appointment)
        frame.added = []
        frame.ledger_adds = 0

    def _book(self, appointment: Appointment) -> None:
        for booking in bookings_of(appointment, patient=self.patient_key):
            self.ledger.add(booking)

    def _appointment(
        self, step: _Step, slot: Slot, day: dt.date, frame: _Frame | None
    ) -> Appointment:
        kind = step.kind
        dosing_start = None
        if kind.is_dosing:
            dosing_start = shift(slot.start, minutes=kind.timeline.check_in_minutes)
        dose = None
        if kind.is_dosing and self.protocol.dosing is not None and step.dose_number is not None:
            dose = self.protocol.dosing.describe(step.dose_number)
        moved_out = None
        if day > step.latest or day < step.earliest:
            outside = (day - step.latest).days if day > step.latest else (step.earliest - day).days
            text = (
                f"placed {outside} day(s) outside its window ({fmt_day(step.earliest)} to "
                f"{fmt_day(step.latest)}) because no day in it was feasible"
            )
            if step.hard_latest is not None and day > step.hard_latest:
                text += f"; this misses the phase's deadline ({fmt_day(step.hard_latest)})"
            moved_out = Shift(
                earliest=step.earliest,
                latest=step.latest,
                days_outside=outside,
                text=text,
            )
        reason = self._reason(step, day, frame)
        appointment = Appointment(
            id=f"{self.id_prefix}{step.phase.id}-{step.index}",
            kind=kind.category,
            session=kind.id,
            name=kind.name,
            phase=step.phase.id,
            index=step.index,
            dose_number=step.dose_number,
            start=slot.start,
            end=slot.end,
            dosing_start=dosing_start,
            time_zone=str(self.finder.zone_for(kind)),
            location=kind.location,
            resources=_spans(slot),
            dose=dose,
            target=step.target,
            earliest=step.earliest,
            latest=step.latest,
            rule=step.rule,
            reason=reason,
            shift=moved_out,
        )
        return appointment.model_copy(update={"instructions": self._instructions(appointment)})

    def _instructions(self, appointment: Appointment) -> tuple[Instruction, ...]:
        return instructions_for(
            appointment,
            self.protocol.session_kind(appointment.session),
            self.protocol,
            patient=self.patient,
            medications=self.medications,
        )

    def _reason(self, step: _Step, day: dt.date, frame: _Frame | None) -> str:
        if day == step.target:
            return f"{step.rule}; on the target date {fmt_day(day)}"
        why = "not feasible"
        if frame is not None and step.target in frame.rejected:
            why = frame.rejected[step.target]
        elif frame is not None:
            why = "kept free so that later sessions fit"
        placement = f"moved to {fmt_day(day)}"
        if step.earliest <= day <= step.latest:
            placement += f", {step.window_text}"
        else:
            placement += f", outside {step.window_text}"
        return f"target {fmt_day(step.target)} ({step.rule}); {why}; {placement}"

    # -- anchored sessions -------------------------------------------------------------------

    def _anchor_pool(self, anchor: Anchor) -> list[Appointment]:
        """The chain's active sessions that ``anchor`` counts, in order."""
        return [
            a
            for a in self.chain
            if a.session == anchor.session
            and a.is_active
            and (anchor.phase is None or a.phase == anchor.phase)
        ]

    def _anchored_due(self, dose: Appointment) -> list[AnchoredSession]:
        due = []
        for rule in self.protocol.anchored:
            anchor = rule.after
            if anchor.session != dose.session:
                continue
            if anchor.phase is not None and anchor.phase != dose.phase:
                continue
            pool = self._anchor_pool(anchor)
            position = len(pool)
            if (
                anchor.which == "each"
                or (anchor.which == "first" and position == 1)
                or (isinstance(anchor.which, int) and position == anchor.which)
            ):
                due.append(rule)
            elif anchor.which == "last" and anchor.phase is not None:
                phase = self.protocol.phase(anchor.phase)
                in_phase = [a for a in self.chain if a.phase == phase.id]
                if phase.count is not None and self._counted(phase, in_phase) == phase.count:
                    due.append(rule)
        return due

    def _place_anchored(self, frame: _Frame, dose: Appointment) -> str | None:
        for rule in self._anchored_due(dose):
            placed = self._place_one_anchored(rule, dose)
            if isinstance(placed, str):
                return placed
            frame.added.append(placed)
        return None

    def _place_one_anchored(self, rule: AnchoredSession, anchor: Appointment) -> Appointment | str:
        kind = self.protocol.session_kind(rule.session)
        occurrence = sum(1 for a in self.extras if a.anchored == rule.id and a.anchor != anchor.id)
        occurrence += 1
        base = anchor.local_date
        earliest = base + dt.timedelta(days=rule.offset.minimum)
        latest = base + dt.timedelta(days=rule.offset.maximum)
        target = base + dt.timedelta(days=rule.offset.target)
        days = [earliest + dt.timedelta(days=n) for n in range((latest - earliest).days + 1)]
        days.sort(key=lambda d: (abs((d - target).days), d))
        rejected: dict[dt.date, str] = {}
        preferred = self.preferred_by_id.get(f"{rule.id}-{anchor.id}")
        for day in days:
            self.evaluations += 1
            not_before = anchor.end if day == base else None
            slot, problem = self.finder.best(
                kind, day, not_before=not_before, preferred_time=preferred
            )
            if slot is None:
                rejected[day] = problem
                continue
            rule_text = f"{rule.offset.describe()} after {anchor.id}"
            if day == target:
                reason = f"{rule_text}; on the target date {fmt_day(day)}"
            else:
                why = rejected.get(target, "not feasible")
                reason = (
                    f"target {fmt_day(target)} ({rule_text}); {why}; moved to {fmt_day(day)}, "
                    f"within {rule.offset.describe()} after {anchor.id}"
                )
            appointment = Appointment(
                # Named after its anchor, so a re-plan gives the same session the same id.
                id=f"{rule.id}-{anchor.id}",
                kind=kind.category,
                session=kind.id,
                name=kind.name,
                phase=anchor.phase,
                index=occurrence,
                anchored=rule.id,
                anchor=anchor.id,
                start=slot.start,
                end=slot.end,
                time_zone=str(self.finder.zone_for(kind)),
                location=kind.location,
                resources=_spans(slot),
                target=target,
                earliest=earliest,
                latest=latest,
                rule=rule_text,
                reason=reason,
            )
            appointment = appointment.model_copy(
                update={"instructions": self._instructions(appointment)}
            )
            self._book(appointment)
            self.extras.append(appointment)
            return appointment
        first_reason = rejected.get(target, "no slot")
        return (
            f"{kind.name.lower()} ({rule.offset.describe()} after) cannot be placed: {first_reason}"
        )

    def _place_final_anchors(self) -> None:
        """``last`` anchors without a finite phase: placed once the chain is complete."""
        for rule in self.protocol.anchored:
            anchor = rule.after
            if anchor.which != "last":
                continue
            if anchor.phase is not None and self.protocol.phase(anchor.phase).count is not None:
                continue
            pool = self._anchor_pool(anchor)
            if not pool or any(a.anchored == rule.id for a in self.extras):
                continue
            placed = self._place_one_anchored(rule, pool[-1])
            if isinstance(placed, str):
                self.notes.append(f"{rule.id}: {placed}")

    # -- the search loop ---------------------------------------------------------------------

    def require_review(self, why: str, *, reinduction: bool = False) -> None:
        """Before the next dose, place the protocol's lapse review (``why`` says what lapsed).

        With ``reinduction`` a new course starts from the first phase after the review; its
        appointments are named ``course-N-...`` and the earlier course stays as it was.
        """
        self.review_first = why
        if reinduction:
            courses = {a.id.split("-", 2)[1] for a in self.chain if a.id.startswith("course-")}
            self.id_prefix = f"course-{len(courses) + 2}-"
            self.extras += self.chain
            self.chain = []

    def solve(self, *, on_conflict: OnConflict) -> list[Appointment]:
        self._apply_washouts()
        self._book_fixed()
        lapse_review = self._lapse_review()
        base_mark = len(self.ledger.bookings)
        base_chain, base_extras = list(self.chain), list(self.extras)
        try:
            self._search()
        except UnsatisfiableError:
            if on_conflict != "shift":
                raise
            while len(self.ledger.bookings) > base_mark:
                self.ledger.remove_last()
            self.chain, self.extras = base_chain, base_extras
            self.shift = True
            self.evaluations = 0
            self._search()
        self._place_final_anchors()
        placed = [*self.chain, *self.extras]
        if lapse_review is not None and lapse_review not in placed:
            placed.append(lapse_review)
        return sorted(placed, key=lambda a: (a.start, a.id))

    def _book_fixed(self) -> None:
        for appointment in self.fixed:
            if appointment.is_active:
                self._book(appointment)

    def _search(self) -> None:
        stack: list[_Frame] = []
        step = self.next_step()
        if step is None:
            return
        stack.append(_Frame(step, self.candidates(step)))
        while stack:
            frame = stack[-1]
            if frame.added:  # coming back: this day led nowhere, undo it and try the next
                self._undo(frame, len(self.ledger.bookings) - frame.ledger_adds)
                frame.position += 1
            placed = False
            while frame.position < len(frame.candidates):
                day = frame.candidates[frame.position]
                problem = self.try_day(frame, day)
                if problem is None:
                    placed = True
                    break
                frame.rejected[day] = problem
                frame.position += 1
            if not placed:
                self._remember_failure(len(stack), frame)
                stack.pop()
                if not stack:
                    self._raise_unsatisfiable()
                parent = stack[-1]
                parent.rejected[parent.candidates[parent.position]] = _blocked_follower(frame)
                continue
            following = self.next_step()
            if following is None:
                return
            stack.append(_Frame(following, self.candidates(following)))

    def _remember_failure(self, depth: int, frame: _Frame) -> None:
        if self.deepest is None or depth > self.deepest[0]:
            self.deepest = (depth, frame)

    def _raise_unsatisfiable(self) -> None:
        assert self.deepest is not None  # noqa: S101 - set whenever a frame fails
        frame = self.deepest[1]
        step = frame.step
        blocked = [(fmt_day(day), frame.rejected[day]) for day in sorted(frame.rejected)]
        raise UnsatisfiableError(
            self._label(step),
            (fmt_day(step.earliest), fmt_day(step.latest)),
            blocked,
            hint=f"rule: {step.rule}",
        )

    def _label(self, step: _Step) -> str:
        return f"{step.kind.name.lower()} {step.index} of phase {step.phase.id!r}"

    # -- washouts and lapses -----------------------------------------------------------------

    def _apply_washouts(self) -> None:
        """Move the first session after washouts and after a switch from the other product."""
        if self.patient is None or self.fixed:
            return
        for medication in self.patient.medications:
            for hold in self.medications.matching(medication):
                if hold.stop_days_before_start is None:
                    continue
                if medication.stop is None:
                    raise UnsatisfiableError(
                        "the first session",
                        (self.start.isoformat(), self.start.isoformat()),
                        [
                            (
                                self.start.isoformat(),
                                (
                                    f"{medication.name} must be stopped "
                                    f"{hold.stop_days_before_start} days before the first "
                                    "session and the patient's medication list gives no stop date"
                                ),
                            )
                        ],
                    )
                clear = medication.stop + dt.timedelta(days=hold.stop_days_before_start)
                self._not_before(
                    clear,
                    f"{medication.name} stopped {fmt_day(medication.stop)} needs a "
                    f"{hold.stop_days_before_start}-day washout",
                )
        gap = self.clinic.switch_gap_days
        other = [s.date for s in self.patient.history if s.product != self.protocol.drug]
        if gap is not None and other:
            self._not_before(
                max(other) + dt.timedelta(days=gap),
                f"the last {('esketamine' if self.protocol.drug == 'ketamine' else 'ketamine')} "
                f"session was on {fmt_day(max(other))} and the clinic asks {gap} days before "
                "switching",
            )

    def _not_before(self, day: dt.date, why: str) -> None:
        if day > self.earliest_start:
            self.earliest_start = day
            self.notes.append(f"start moved to {fmt_day(day)}: {why}")

    def _lapse_review(self) -> Appointment | None:
        """A review before the first dose when the patient's history shows a lapse."""
        lapse = self.protocol.rules.lapse
        if lapse is None:
            return None
        if self.review_first is not None:
            rule = f"review before resuming: {self.review_first}"
        else:
            if self.patient is None or self.fixed:
                return None
            history = [s.date for s in self.patient.history if s.product == self.protocol.drug]
            if not history:
                return None
            last = max(history)
            gap = (self.start - last).days
            if gap <= lapse.after_days:
                return None
            rule = f"review before resuming: {gap} days since the last session ({last})"
            self.notes.append(
                f"{gap} days since the last {self.protocol.drug} session: a review comes first "
                f"({lapse.requires})"
            )
        kind = self.protocol.session_kind(lapse.session)
        step = _Step(
            phase_index=0,
            phase=self.protocol.phases[0],
            kind=kind,
            index=1,
            dose_number=None,
            earliest=self.start,
            latest=self.start + dt.timedelta(days=self.start_window_days),
            target=self.start,
            rule=rule,
            window_text=f"within {self.start_window_days} days of the plan start",
            previous=None,
        )
        for day in self.candidates(step):
            slot, _ = self.finder.best(kind, day)
            if slot is None:
                continue
            number = sum(1 for a in self.extras if a.anchored == _LAPSE) + 1
            review = self._appointment(step, slot, day, None).model_copy(
                update={"id": f"lapse-review-{number}", "phase": _LAPSE, "anchored": _LAPSE}
            )
            self._book(review)
            self.extras.append(review)
            self.earliest_start = max(self.earliest_start, day)
            self.resume_after = review.end
            return review
        raise UnsatisfiableError(
            "the lapse review",
            (step.earliest.isoformat(), step.latest.isoformat()),
            [],
            hint=step.rule,
        )


_LAPSE = "lapse"
_WEEK = 7
_MAX_START_WINDOW = 366

#: earliest, target, latest, the rule in words, the window in words, the gap window if any
_Window = tuple[dt.date, dt.date, dt.date, str, str, GapWindow | None]

_WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _blocked_follower(frame: _Frame) -> str:
    """Why a day was given up because the next session had nowhere to go after it."""
    step = frame.step
    why = frame.rejected.get(step.target)
    if why is None and frame.rejected:
        why = max(frame.rejected.values(), key=list(frame.rejected.values()).count)
    detail = f" ({fmt_day(step.target)}: {why})" if why else ""
    return f"{step.phase.id}-{step.index} would have no feasible day after it{detail}"


def _week_function(cadence: PerWeek, first: dt.date) -> Callable[[dt.date], int]:
    if cadence.week == "treatment":
        return lambda day: (day - first).days // 7
    monday = first - dt.timedelta(days=first.weekday())
    return lambda day: (day - monday).days // 7


def _week_end(cadence: PerWeek, first: dt.date, week: int) -> dt.date:
    if cadence.week == "treatment":
        return first + dt.timedelta(days=7 * week + 6)
    monday = first - dt.timedelta(days=first.weekday())
    return monday + dt.timedelta(days=7 * week + 6)


def _gap_words(gap: GapWindow) -> str:
    unit = gap.unit if gap.target != 1 else gap.unit.rstrip("s")
    return f"{gap.target} {unit}"


def _window_words(gap: GapWindow) -> str:
    if gap.minimum == gap.maximum:
        return f"exactly {gap.minimum} {gap.unit} after it"
    return f"within the {gap.minimum}-{gap.maximum} {gap.unit.rstrip('s')} window"


def _spans(slot: Slot) -> tuple[ResourceSpan, ...]:
    return tuple(
        ResourceSpan(resource=resource, unit=unit, start=start, end=end)  # type: ignore[arg-type]
        for resource, unit, start, end in slot.spans
    )
