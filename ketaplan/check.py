"""``check()``: every rule a plan breaks, with a stable code and the rule's source.

``check`` verifies with the same code the planner places with: the planner's windows and
day rules (gaps, per-week counts, deadlines, consecutive days, doses in 7 days, the interval in
hours), the slot finder's calendar rules (opening hours, closures, holidays, availability,
blackouts, prescriber, notice), and the medication rules the planner turns into instructions
and tasks. So a plan made by ``plan()`` checks clean, and an edited one says exactly what the
edit broke. Overlaps and capacity over a whole clinic's bookings are sweeps over sorted
intervals, O(n log n).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ketaplan._text import fmt_day
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.defaults import default_clinic
from ketaplan.errors import InputError
from ketaplan.holds import hold_window, skipped_doses
from ketaplan.instructions import monitoring_task_id
from ketaplan.ledger import Ledger
from ketaplan.loading import load_protocol
from ketaplan.medications import MedicationRules, medication_rules
from ketaplan.patient import Medication, Patient
from ketaplan.planner import _Planner, _Step
from ketaplan.plans import Appointment, Plan, ResourceSpan
from ketaplan.protocol import HoldRule, InWeek, Protocol
from ketaplan.slots import SlotFinder
from ketaplan.timing import add_gap, elapsed_hours, shift
from ketaplan.violation import CODES, Severity, Violation

__all__ = ["check"]

_PLANNER_ONLY = {"held", "deadline-lookahead"}
_END, _START = -2, -1  # sweep events: at equal times ends come first


def check(
    plan: Plan,
    /,
    *,
    protocol: Protocol | None = None,
    clinic: Clinic | None = None,
    patient: Patient | None = None,
    bookings: Iterable[Booking] | Ledger | None = None,
    now: dt.datetime | None = None,
) -> list[Violation]:
    """Every rule ``plan`` breaks, sorted by date.

    Args:
        plan: the plan to check (made by ``plan()``, or edited).
        protocol: its protocol (default: the built-in the plan names).
        clinic: its clinic; without one, calendar and capacity rules are not checked (unless
            the plan used the default clinic).
        patient: its patient; without one, availability and medication rules are not checked.
        bookings: the clinic's other bookings, for capacity and the patient's other bookings.
        now: the moment of checking, for minimum notice, the booking horizon and requirements.

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> from ketaplan.defaults import demo_clinic
    >>> made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30),
    ...             clinic=demo_clinic(), preferred_time=dt.time(9))
    >>> check(made, clinic=demo_clinic())
    []
    >>> day = dt.timedelta(days=1)
    >>> third = made.appointment("induction-3")  # Fri 4 Dec; a receptionist moves it to Thu
    >>> moved = third.model_copy(update={"start": third.start - day, "end": third.end - day})
    >>> edited = made.model_copy(update={"appointments": tuple(
    ...     moved if a.id == "induction-3" else a for a in made.appointments)})
    >>> for v in check(edited, clinic=demo_clinic()):
    ...     print(v.code, v.severity, v.evidence)
    interval-too-short error derived
    outside-window error trial
    consecutive-days warning trial
    """
    protocol = _resolve(plan, protocol, clinic, patient, now)
    plan = _derived_times(plan, protocol)
    if clinic is None and plan.clinic == "default-clinic":
        clinic = default_clinic(plan.time_zone)
    context = _Context(plan, protocol, clinic, patient, _bookings(bookings), now)
    found: list[Violation] = []
    found += context.dose_rules()
    found += context.anchored()
    found += context.blocks()
    found += context.double_booking()
    if clinic is not None:
        found += context.calendar()
        found += context.capacity()
    found += context.medications()
    found += context.requirements()
    return _sorted_unique(plan, found)


def _resolve(
    plan: Plan,
    protocol: Protocol | None,
    clinic: Clinic | None,
    patient: Patient | None,
    now: dt.datetime | None,
) -> Protocol:
    if not isinstance(plan, Plan):
        raise InputError("plan", "a Plan", type(plan).__name__)
    protocol = protocol or load_protocol(plan.protocol)
    if protocol.id != plan.protocol:
        raise InputError("protocol", f"the plan's protocol {plan.protocol!r}", protocol.id)
    if clinic is not None and clinic.id != plan.clinic:
        raise InputError("clinic", f"the plan's clinic {plan.clinic!r}", clinic.id)
    if patient is not None and plan.patient is not None and patient.id != plan.patient:
        raise InputError("patient", f"the plan's patient {plan.patient!r}", patient.id)
    if now is not None and (not isinstance(now, dt.datetime) or now.tzinfo is None):
        raise InputError("now", "an aware datetime (with a zone)", now)
    return protocol


def _derived_times(plan: Plan, protocol: Protocol) -> Plan:
    """The plan with each appointment's dosing start and resource spans derived from its start.

    Clinic software that moves an appointment may update ``start`` and ``end`` only; the
    protocol's timeline, not the stored copies, says when dosing begins and when each resource
    is in use. The chair or room numbers the plan assigned are kept.
    """
    updated = []
    for appointment in plan.appointments:
        kind = protocol.session_kind(appointment.session)
        update: dict[str, object] = {}
        begins = shift(appointment.start, minutes=kind.timeline.check_in_minutes)
        if kind.is_dosing and appointment.dosing_start != begins:
            update["dosing_start"] = begins
        units = {span.resource: span.unit for span in appointment.resources}
        spans = []
        for use in kind.resources:
            offset, finish = kind.timeline.span(use.during)
            spans.append(
                ResourceSpan(
                    resource=use.resource,
                    unit=units.get(use.resource),
                    start=shift(appointment.start, minutes=offset),
                    end=shift(appointment.start, minutes=finish),
                )
            )
        if tuple(spans) != appointment.resources:
            update["resources"] = tuple(spans)
        updated.append(appointment.model_copy(update=update) if update else appointment)
    return plan.model_copy(update={"appointments": tuple(updated)})


def _bookings(bookings: Iterable[Booking] | Ledger | None) -> list[Booking]:
    if bookings is None:
        return []
    if isinstance(bookings, Ledger):
        return bookings.all_bookings()
    return list(bookings)


def _sorted_unique(plan: Plan, found: list[Violation]) -> list[Violation]:
    starts = {a.id: a.start for a in plan.appointments}
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    unique = list({(v.code, v.appointments, v.message): v for v in found}.values())
    return sorted(
        unique,
        key=lambda v: (min((starts.get(i, far) for i in v.appointments), default=far), v.code),
    )


@dataclass
class _Context:
    plan: Plan
    protocol: Protocol
    clinic: Clinic | None
    patient: Patient | None
    bookings: list[Booking]
    now: dt.datetime | None

    def __post_init__(self) -> None:
        self.rules: MedicationRules = medication_rules(self.protocol, self.clinic)
        self.active = [a for a in self.plan.appointments if a.is_active]
        self.chain = sorted(
            (a for a in self.plan.appointments if a.anchored is None), key=lambda a: a.start
        )
        self.doses = [a for a in self.chain if a.is_dose and a.is_active]

    # -- building violations -------------------------------------------------------------------

    def violation(
        self,
        code: str,
        appointments: Sequence[str],
        rule: str,
        message: str,
        *,
        source: str | None = None,
        severity: Severity | None = None,
    ) -> Violation:
        found = self.rules.source(source) or (
            next((s for s in self.protocol.sources if s.id == source), None) if source else None
        )
        return Violation(
            code=code,
            severity=severity or CODES[code][0],
            appointments=tuple(appointments),
            rule=rule,
            message=message,
            source=source,
            evidence=found.evidence if found else None,
        )

    # -- gaps, intervals, counts -----------------------------------------------------------------

    def dose_rules(self) -> list[Violation]:
        clinic = self.clinic or default_clinic(self.plan.time_zone)
        planner = _Planner(
            self.protocol,
            clinic=clinic,
            patient=None,
            ledger=Ledger(clinic),
            start=self.plan.start,
            until=self.plan.until,
            preferred_time=None,
            tiers=self.plan.tiers,
            now=None,
            patient_key="",
            start_window_days=366,
        )
        rules = self.protocol.rules
        found: list[Violation] = []
        seen: set[tuple[str, str]] = set()
        dose_number = 0
        for position, appointment in enumerate(self.chain):
            planner.chain = self.chain[:position]
            step = planner.next_step()
            if not appointment.is_active:
                continue
            if appointment.phase not in {p.id for p in self.protocol.phases}:
                found.append(
                    self.violation(
                        "phase-count",
                        [appointment.id],
                        f"phases of {self.protocol.id}",
                        f"{appointment.id} is in phase {appointment.phase!r}, which "
                        f"{self.protocol.id} does not have",
                    )
                )
                continue
            if step is None:
                continue  # one session too many: the phase counts below report it
            if step.phase.id != appointment.phase:
                continue  # reported by the phase counts below
            day = appointment.local_date
            found += self._window(appointment, step, day)
            cadence = planner.cadence(step.phase)
            names = {
                "consecutive-days": (
                    "rules.consecutive_days (avoid)",
                    rules.consecutive_days_source,
                ),
                "too-many-in-7-days": (
                    f"rules.max_per_7_days ({rules.max_per_7_days.doses})"
                    if rules.max_per_7_days
                    else "rules.max_per_7_days",
                    rules.max_per_7_days.source if rules.max_per_7_days else None,
                ),
                "week-count": (
                    f"phases[{step.phase.id}]: {cadence.describe() if cadence else 'cadence'}",
                    getattr(cadence, "source", None) or step.phase.source,
                ),
                "phase-deadline": (
                    f"phases[{step.phase.id}].within_days ({step.phase.within_days})",
                    step.phase.source,
                ),
                "doses-same-day": ("one dose a day", None),
            }
            for code, message in planner.day_findings(step, day, planning=False):
                if code in _PLANNER_ONLY or (code, message) in seen:
                    continue
                if code == "week-count" and message.startswith("the week from"):
                    seen.add((code, message))  # an under-filled week, reported once
                rule_name, source = names.get(code, (f"phase {step.phase.id}", step.phase.source))
                found.append(
                    self.violation(
                        code,
                        [appointment.id],
                        rule_name,
                        f"{appointment.id} on {fmt_day(day)}: {message}",
                        source=source,
                    )
                )
            earliest = planner._interval_check(step)
            if earliest is not None and rules.min_interval is not None:
                allowed, problem = earliest
                if appointment.start < allowed:
                    found.append(
                        self.violation(
                            "interval-too-short",
                            [step.previous.id if step.previous else "", appointment.id],
                            f"rules.min_interval ({rules.min_interval.hours:g} h)",
                            f"{appointment.id}: {problem}",
                            source=rules.min_interval.source,
                        )
                    )
            if appointment.is_dose:
                dose_number += 1
                found += self._dose(appointment, dose_number)
        planner.chain = list(self.chain)
        for phase in self.protocol.phases:
            if phase.count is None:
                continue
            in_phase = [a for a in self.chain if a.phase == phase.id]
            counted = planner._counted(phase, in_phase)
            if counted != phase.count and (in_phase or counted > phase.count):
                more = counted > phase.count
                found.append(
                    self.violation(
                        "phase-count",
                        [a.id for a in in_phase],
                        f"phases[{phase.id}].count ({phase.count})",
                        f"phase {phase.id} has {counted} sessions; the protocol asks for "
                        f"{phase.count}",
                        source=phase.source,
                        severity="error" if more else "warning",
                    )
                )
        return found + self._lapses()

    def _window(self, appointment: Appointment, step: _Step, day: dt.date) -> list[Violation]:
        previous = step.previous
        if previous is None:
            return []
        gap = step.gap
        month_end = self.protocol.calendar.month_end
        prev_day = previous.local_date
        ids = [previous.id, appointment.id]
        if gap is not None:
            floor = add_gap(prev_day, gap.absolute_minimum, gap.unit, month_end=month_end)
            lowest = add_gap(prev_day, gap.minimum, gap.unit, month_end=month_end)
            highest = add_gap(prev_day, gap.maximum, gap.unit, month_end=month_end)
            days = (day - prev_day).days
            rule = f"gap after {previous.id}: {gap.describe()}"
            if day < floor:
                code, what = "gap-below-absolute-minimum", f"never before {fmt_day(floor)}"
            elif day < lowest:
                code, what = "gap-below-minimum", f"the window starts {fmt_day(lowest)}"
            elif day > highest:
                code, what = "gap-above-maximum", f"the window ends {fmt_day(highest)}"
            else:
                return []
            message = f"{appointment.id} is {days} days after {previous.id}; {what}"
            severity: Severity | None = None
            if code == "gap-above-maximum" and self._missed_between(previous, appointment):
                # Making up a missed session: the long gap is the miss, recorded as such.
                severity = "warning"
                message += " (a session between them was missed)"
            return [self.violation(code, ids, rule, message, source=gap.source, severity=severity)]
        if isinstance(step.phase.start, InWeek) and step.index == 1:
            if step.earliest <= day <= step.latest:
                return []
            message = (
                f"{appointment.id} on {fmt_day(day)} is outside {step.rule}: "
                f"{fmt_day(step.earliest)} to {fmt_day(step.latest)}"
            )
        elif day < step.earliest:
            days = (day - prev_day).days
            message = (
                f"{appointment.id} is {days} day(s) after {previous.id}; the cadence asks "
                f"{step.rule}"
            )
        else:
            return []
        return [
            self.violation(
                "outside-window", ids, f"phase {step.phase.id}", message, source=step.phase.source
            )
        ]

    def _missed_between(self, first: Appointment, second: Appointment) -> bool:
        return any(
            a.status == "missed" and first.start < a.start < second.start for a in self.chain
        )

    def _dose(self, appointment: Appointment, number: int) -> list[Violation]:
        dosing = self.protocol.dosing
        if dosing is None:
            return []
        expected = dosing.describe(number)
        if appointment.dose == expected:
            return []  # a renumbering alone changes nothing the patient receives
        return [
            self.violation(
                "dose-mismatch",
                [appointment.id],
                f"dosing (dose {number})",
                f"{appointment.id} is dose {number}, which the protocol gives as {expected}; "
                f"the plan says {appointment.dose!r} (dose number {appointment.dose_number})",
                source=dosing.source,
            )
        ]

    def _lapses(self) -> list[Violation]:
        lapse = self.protocol.rules.lapse
        if lapse is None:
            return []
        found = []
        reviews = [a for a in self.active if a.session == lapse.session]
        previous: tuple[dt.date, dt.datetime | None, str] | None = None
        if self.patient is not None:
            history = [s.date for s in self.patient.history if s.product == self.protocol.drug]
            if history:
                previous = (max(history), None, f"the last session on {fmt_day(max(history))}")
        for dose in self.doses:
            if previous is not None:
                day, end, label = previous
                gap = (dose.local_date - day).days
                reviewed = any(
                    r.start < dose.start and (end is None or r.start >= end) for r in reviews
                )
                if gap > lapse.after_days and not reviewed:
                    found.append(
                        self.violation(
                            "lapse-without-review",
                            [dose.id],
                            f"rules.lapse ({lapse.after_days} days: {lapse.requires})",
                            f"{dose.id} comes {gap} days after {label} with no "
                            f"{lapse.session} before it",
                            source=lapse.source,
                        )
                    )
            previous = (dose.local_date, dose.end, dose.id)
        return found

    # -- sessions ------------------------------------------------------------------------------

    def blocks(self) -> list[Violation]:
        found = []
        for appointment in self.active:
            kind = self.protocol.session_kind(appointment.session)
            t = kind.timeline
            if kind.is_dosing:
                begin = appointment.dosing_start or appointment.start
                needed = t.dosing_minutes + t.monitoring_minutes
                what = f"dosing and at least {t.monitoring_minutes} min of monitoring"
            else:
                begin = appointment.start
                needed = t.session_minutes
                what = "the session"
            minutes = elapsed_hours(begin, appointment.end) * 60
            if minutes + 1e-9 < needed:
                found.append(
                    self.violation(
                        "block-too-short",
                        [appointment.id],
                        f"session_kinds[{kind.id}].timeline",
                        f"{appointment.id} leaves {minutes:g} min for {what}; it needs {needed}",
                        source=kind.source,
                    )
                )
        return found

    def anchored(self) -> list[Violation]:
        found = []
        active_ids = {a.id for a in self.active}
        for rule in self.protocol.anchored:
            after = rule.after
            pool = [
                a
                for a in self.chain
                if a.is_active
                and a.session == after.session
                and (after.phase is None or a.phase == after.phase)
            ]
            for anchor in self._anchors(rule.after.which, after.phase, pool):
                placed = [a for a in self.active if a.anchored == rule.id and a.anchor == anchor.id]
                if not placed and rule.required:
                    found.append(
                        self.violation(
                            "milestone-missing",
                            [anchor.id],
                            f"anchored[{rule.id}]",
                            f"no {rule.session} {rule.offset.describe()} after {anchor.id}",
                            source=rule.source,
                        )
                    )
                for item in placed:
                    days = (item.local_date - anchor.local_date).days
                    early = days == 0 and item.start < anchor.end
                    if not rule.offset.minimum <= days <= rule.offset.maximum or early:
                        found.append(
                            self.violation(
                                "anchored-outside-window",
                                [anchor.id, item.id],
                                f"anchored[{rule.id}]",
                                f"{item.id} is {days} days after {anchor.id}"
                                + (" and starts before it ends" if early else "")
                                + f"; it must be {rule.offset.describe()} after",
                                source=rule.source,
                            )
                        )
            found.extend(
                self.violation(
                    "anchored-outside-window",
                    [item.id],
                    f"anchored[{rule.id}]",
                    f"{item.id} is anchored to {item.anchor}, which does not take place",
                    source=rule.source,
                )
                for item in self.active
                if item.anchored == rule.id and item.anchor not in active_ids
            )
        return found

    def _anchors(
        self, which: object, phase_id: str | None, pool: list[Appointment]
    ) -> list[Appointment]:
        if which == "each":
            return pool
        if which == "first":
            return pool[:1]
        if isinstance(which, int):
            return pool[which - 1 : which]
        # "last": only once the series has reached it.
        phases = [self.protocol.phase(phase_id)] if phase_id else list(self.protocol.phases)
        finite = all(p.count is not None for p in phases)
        complete = all(
            sum(1 for a in self.chain if a.phase == p.id and a.status != "missed") >= (p.count or 0)
            for p in phases
        )
        return pool[-1:] if finite and complete else []

    # -- calendars -----------------------------------------------------------------------------

    def calendar(self) -> list[Violation]:
        assert self.clinic is not None  # noqa: S101 - called only with a clinic
        finder = SlotFinder(
            self.clinic,
            self.patient,
            Ledger(self.clinic),
            policy=self.protocol.calendar,
            now=self.now,
        )
        rule = f"clinic {self.clinic.id}"
        return [
            self.violation(code, [appointment.id], rule, message)
            for appointment in self.active
            if appointment.status == "planned"
            for code, message in finder.calendar_findings(
                self.protocol.session_kind(appointment.session), appointment.start, appointment.end
            )
        ]

    def double_booking(self) -> list[Violation]:
        intervals: list[tuple[dt.datetime, dt.datetime, str, bool]] = [
            (a.start, a.end, a.id, True) for a in self.active
        ]
        if self.patient is not None:
            intervals += [
                (b.start, b.end, b.label or "another appointment", False)
                for b in self.patient.appointments
            ]
        who = self.plan.patient
        if who is not None:
            intervals += [
                (b.start, b.end, b.label or "another booking", False)
                for b in self.bookings
                if b.patient == who and b.plan != self.plan.id
            ]
        found = []
        for first, second in _overlapping_pairs(intervals):
            ids = [name for _, _, name, mine in (first, second) if mine]
            found.append(
                self.violation(
                    "patient-double-booked",
                    ids,
                    "one patient, one place at a time",
                    f"{first[2]} ({first[0]:%H:%M}-{first[1]:%H:%M}) overlaps {second[2]} "
                    f"({second[0]:%H:%M}-{second[1]:%H:%M}) on {fmt_day(first[0].date())}",
                )
            )
        return found

    def capacity(self) -> list[Violation]:
        assert self.clinic is not None  # noqa: S101 - called only with a clinic
        resources = self.clinic.resources
        limits = {
            "chair": resources.chairs,
            "room": resources.rooms,
            "monitoring-staff": resources.monitoring_staff * resources.patients_per_staff,
        }
        buffers = {"chair": resources.chair_buffer_minutes}
        spans: dict[str, list[tuple[dt.datetime, dt.datetime, str, bool, int | None]]] = (
            defaultdict(list)
        )
        for appointment in self.active:
            for span in appointment.resources:
                if span.resource in limits:
                    pad = buffers.get(span.resource, 0)
                    spans[span.resource].append(
                        (span.start, shift(span.end, minutes=pad), appointment.id, True, span.unit)
                    )
        for booking in self.bookings:
            if booking.resource in limits and booking.plan != self.plan.id:
                pad = buffers.get(booking.resource, 0)
                spans[booking.resource].append(
                    (
                        booking.start,
                        shift(booking.end, minutes=pad),
                        booking.label or "a booking",
                        False,
                        booking.unit,
                    )
                )
        found = []
        for resource, items in spans.items():
            for peak, involved in _overloads(
                [(s, e, name, mine) for s, e, name, mine, _ in items], limits[resource]
            ):
                found.append(
                    self.violation(
                        "over-capacity",
                        involved,
                        f"clinic {self.clinic.id}: {limits[resource]} {resource}",
                        f"{peak} uses of {resource} at once (the clinic has {limits[resource]}) "
                        f"involving {', '.join(involved)}",
                    )
                )
            if resource in {"chair", "room"}:
                found += self._unit_conflicts(resource, items)
        return found

    def _unit_conflicts(
        self, resource: str, items: list[tuple[dt.datetime, dt.datetime, str, bool, int | None]]
    ) -> list[Violation]:
        by_unit: dict[int, list[tuple[dt.datetime, dt.datetime, str, bool]]] = defaultdict(list)
        for start, end, name, mine, unit in items:
            if unit is not None:
                by_unit[unit].append((start, end, name, mine))
        found = []
        for unit, uses in by_unit.items():
            for first, second in _overlapping_pairs(uses):
                ids = [name for _, _, name, mine in (first, second) if mine]
                found.append(
                    self.violation(
                        "chair-buffer",
                        ids,
                        f"{resource} {unit} with its cleaning buffer",
                        f"{resource} {unit}: {second[2]} starts before {first[2]} and its "
                        "cleaning buffer end",
                    )
                )
        return found

    # -- medications -----------------------------------------------------------------------------

    def medications(self) -> list[Violation]:
        if self.patient is None:
            return []
        found = []
        task_ids = {task.id for task in self.plan.tasks}
        for medication in self.patient.medications:
            if self.rules.classes_of(medication.name) is None:
                found.append(
                    self.violation(
                        "unknown-medication",
                        [],
                        "medication classes",
                        f"{medication.name!r} is not a drug or class ketaplan knows: check the "
                        "spelling or add it to the clinic's medication_classes",
                    )
                )
            rules = self.rules.matching(medication)
            for appointment in self.doses:
                if appointment.status != "planned" or appointment.dosing_start is None:
                    continue
                dosing = appointment.local_start + (appointment.dosing_start - appointment.start)
                for rule in rules:
                    if rule.severity == "hold" and hold_window(rule, dosing) is not None:
                        due = skipped_doses(medication, rule, dosing) or medication.as_needed
                        told = any(
                            i.kind == "medication-hold" and medication.name in i.text
                            for i in appointment.instructions
                        )
                        if due and not told:
                            found.append(
                                self.violation(
                                    "medication-hold",
                                    [appointment.id],
                                    f"{rule.id} hold",
                                    f"{medication.name} ({rule.medication}) falls in the hold "
                                    f"around {appointment.id} and the plan does not tell the "
                                    "patient to skip it",
                                    source=rule.source,
                                )
                            )
                    if rule.severity == "monitor" and (
                        monitoring_task_id(rule.id, appointment.id) not in task_ids
                    ):
                        found.append(
                            self.violation(
                                "monitoring-task-missing",
                                [appointment.id],
                                f"{rule.id} monitoring",
                                f"{medication.name} ({rule.medication}) needs monitoring at "
                                f"{appointment.id}: {rule.note or 'monitor closely'}",
                                source=rule.source,
                            )
                        )
            found += self._washout(medication, rules)
        return found + self._switch()

    def _washout(self, medication: Medication, rules: Sequence[HoldRule]) -> list[Violation]:
        if not self.doses:
            return []
        first = self.doses[0]
        found = []
        for rule in rules:
            days = rule.stop_days_before_start
            if days is None:
                continue
            if medication.stop is None:
                problem = f"{medication.name} has no stop date; it must stop {days} days before"
            elif medication.stop + dt.timedelta(days=days) > first.local_date:
                problem = (
                    f"{medication.name} stops {fmt_day(medication.stop)}, less than {days} "
                    f"days before the first session on {fmt_day(first.local_date)}"
                )
            else:
                continue
            found.append(
                self.violation(
                    "washout",
                    [first.id],
                    f"{rule.id} washout ({days} days)",
                    problem,
                    source=rule.source,
                )
            )
        return found

    def _switch(self) -> list[Violation]:
        if self.clinic is None or self.patient is None or not self.doses:
            return []
        gap = self.clinic.switch_gap_days
        other = [s.date for s in self.patient.history if s.product != self.protocol.drug]
        first = self.doses[0]
        if gap is None or not other:
            return []
        last = max(other)
        if (first.local_date - last).days >= gap:
            return []
        return [
            self.violation(
                "switch-gap",
                [first.id],
                f"clinic {self.clinic.id}: switch_gap_days ({gap})",
                f"{first.id} on {fmt_day(first.local_date)} is {(first.local_date - last).days} "
                f"days after the last session of the other product ({fmt_day(last)}); the clinic "
                f"asks {gap}",
            )
        ]

    # -- requirements ----------------------------------------------------------------------------

    def requirements(self) -> list[Violation]:
        if not self.doses:
            return []
        first = self.doses[0]
        task_ids = {task.id for task in self.plan.tasks}
        found = []
        for requirement in self.protocol.requirements:
            if requirement.holder == "clinic":
                if self.clinic is None:
                    continue
                held = requirement.credential in self.clinic.certifications
            else:
                if self.patient is None:
                    continue
                held = requirement.credential in self.patient.enrollments
            if held:
                continue
            tasked = f"requirement-{requirement.id}" in task_ids
            started = self.now is not None and self.now >= first.start
            if tasked and not started:
                continue  # the plan carries the task to confirm it before the first dose
            found.append(
                self.violation(
                    "requirement-unmet",
                    [first.id],
                    f"requirements[{requirement.id}]",
                    f"{requirement.description}: {requirement.holder} does not list "
                    f"{requirement.credential!r}"
                    + (" and the first dose has come" if started else " and no task says so"),
                    source=requirement.source,
                )
            )
        return found


_Interval = tuple[dt.datetime, dt.datetime, str, bool]


def _overlapping_pairs(intervals: Iterable[_Interval]) -> list[tuple[_Interval, _Interval]]:
    """Pairs of overlapping intervals where at least one is the plan's (sweep, O(n log n + k))."""
    ordered = sorted(intervals, key=lambda item: (item[0], item[1]))
    open_: list[_Interval] = []
    pairs = []
    for item in ordered:
        open_ = [other for other in open_ if other[1] > item[0]]
        pairs += [(other, item) for other in open_ if other[3] or item[3]]
        open_.append(item)
    return pairs


def _overloads(intervals: Iterable[_Interval], capacity: int) -> list[tuple[int, list[str]]]:
    """Moments where more than ``capacity`` intervals overlap and one is the plan's."""
    events = []
    names: dict[int, tuple[str, bool]] = {}
    for key, (start, end, name, mine) in enumerate(intervals):
        names[key] = (name, mine)
        events.append((start, _START, key))
        events.append((end, _END, key))
    # At equal times an end (-2) sorts before a start (-1): back-to-back uses do not overlap.
    events.sort(key=lambda event: (event[0], event[1]))
    current: set[int] = set()
    found: list[tuple[int, list[str]]] = []
    reported: set[frozenset[str]] = set()
    for _, kind, key in events:
        if kind == _END:
            current.discard(key)
            continue
        current.add(key)
        if len(current) > capacity:
            involved = sorted(names[k][0] for k in current if names[k][1])
            episode = frozenset(involved)
            if involved and episode not in reported:
                reported.add(episode)
                found.append((len(current), involved))
    return found
