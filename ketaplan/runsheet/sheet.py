""":func:`run_sheet`, which lays out one clinic day from plans.

Nothing here works out a time afresh: a session's steps are its protocol's timeline from the
appointment's start (:meth:`~ketaplan.protocol.Timeline.span`, as ``check`` reads it), the
chairs, rooms and monitoring places are the plan's spans as ``check`` reads them
(:func:`~ketaplan._resolve.timed`: from each start, with the units the plan assigned), the
checkpoints are the plan's own checkpoint tasks at their exact times, and the monitoring
capacity is :func:`~ketaplan.rules.capacity.limits`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from ketaplan._model import expect, in_range
from ketaplan._resolve import by_id, plan_clinic, protocol_map, read_plan
from ketaplan._types import NUMBERED_KINDS, ResourceKind
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError
from ketaplan.openings import ClinicCalendar
from ketaplan.plans import Appointment, Plan, ResourceSpan, Task
from ketaplan.protocol import Protocol, SessionKind
from ketaplan.protocol.session import STEP_ORDER
from ketaplan.rules.capacity import OnDuty, monitoring_on_duty
from ketaplan.runsheet.model import (
    DayEvent,
    Lane,
    RunSession,
    RunSheet,
    RunStep,
    RunWeek,
    StaffLoad,
    in_order,
    instant,
)
from ketaplan.timing import shift, zone

__all__ = ["MAX_DAYS", "MONITORING", "SEATS", "run_sheet", "run_week"]

#: The numbered resources a session is seated in, in the order the sheet lists their lanes.
SEATS: tuple[ResourceKind, ...] = NUMBERED_KINDS

#: The resource whose uses are the patients under monitoring.
MONITORING: ResourceKind = "monitoring-staff"

#: The most days one :func:`run_week` lays out (a month): the page stays one to print.
MAX_DAYS = 31


class _Placed(NamedTuple):
    """A session, the lane it sits in, and when its patient is under monitoring."""

    session: RunSession
    lane: tuple[ResourceKind | None, int | None]
    monitored: tuple[ResourceSpan, ...]


def run_sheet(
    plans: Plan | Iterable[Plan],
    /,
    *,
    day: dt.date,
    clinic: Clinic | None = None,
    protocols: Protocol | Iterable[Protocol] | None = None,
) -> RunSheet:
    """The run sheet of ``day`` at the plans' clinic.

    Args:
        plans: one plan per patient, all at one clinic.
        day: the clinic's local day.
        clinic: the plans' clinic, for its zone and its monitoring staff and ratio. Without
            one, a plan made at the default clinic uses it; otherwise the sheet has no ratio
            and flags nothing.
        protocols: the plans' protocols, where they are not built in.

    Sessions that take place (planned or attended) at the clinic and start on ``day`` are
    listed; home and remote sessions occupy no chair or room and are left out.

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> from ketaplan.defaults import demo_clinic
    >>> made_at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    >>> made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30),
    ...             clinic=demo_clinic(), preferred_time=dt.time(9), now=made_at, plan_id="p-1")
    >>> sheet = run_sheet([made], day=dt.date(2026, 12, 7), clinic=demo_clinic())
    >>> lane = sheet.lanes[0]
    >>> lane.label, [(sheet.clock(s.at), s.kind) for s in lane.sessions[0].steps][:3]
    ('chair 1', [('09:00', 'check-in'), ('09:15', 'checkpoint'), ('09:15', 'dosing')])
    """
    items = _plan_list(plans)
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise InputError("day", "a date (the clinic's local day)", day)
    in_range("day", day)
    expect("clinic", clinic, (Clinic, type(None)), "a Clinic or None")
    known = protocol_map(protocols)
    clinic = _clinic_of(items, clinic)
    time_zone = clinic.time_zone if clinic else items[0].time_zone
    placed = [
        found
        for index, plan in enumerate(items)
        for found in _sessions(*read_plan(index, plan, known), day, time_zone)
    ]
    return RunSheet(
        day=day,
        time_zone=time_zone,
        clinic=clinic.id if clinic else items[0].clinic,
        clinic_name=clinic.name if clinic else items[0].clinic_name,
        monitoring_staff=_on_duty(clinic, day).staff if clinic else None,
        patients_per_staff=clinic.resources.patients_per_staff if clinic else None,
        lanes=_lanes(placed),
        load=_load(placed, clinic, time_zone),
        history=_history(items, day, time_zone),
        closed=ClinicCalendar(clinic).closed_reason(day) if clinic else None,
    )


def run_week(
    plans: Plan | Iterable[Plan],
    /,
    *,
    start: dt.date,
    days: int = 7,
    clinic: Clinic | None = None,
    protocols: Protocol | Iterable[Protocol] | None = None,
) -> RunWeek:
    """The run sheets of ``days`` clinic days from ``start`` (a week unless told).

    Each day is :func:`run_sheet`'s, with the same arguments; ``days`` runs from 1 to
    :data:`MAX_DAYS`.

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> from ketaplan.defaults import demo_clinic
    >>> made_at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    >>> made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30),
    ...             clinic=demo_clinic(), preferred_time=dt.time(9), now=made_at, plan_id="p-1")
    >>> week = run_week([made], start=dt.date(2026, 12, 7), clinic=demo_clinic())
    >>> [(f"{sheet.day:%a}", len(sheet.sessions)) for sheet in week.days]
    [('Mon', 1), ('Tue', 0), ('Wed', 1), ('Thu', 0), ('Fri', 1), ('Sat', 0), ('Sun', 0)]
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InputError("days", f"a whole number of days from 1 to {MAX_DAYS}", days)
    if isinstance(start, dt.datetime) or not isinstance(start, dt.date):
        raise InputError("start", "a date (the clinic's local day)", start)
    in_range("start", start)
    items = _plan_list(plans)
    known = list(protocol_map(protocols).values())
    sheets = [
        run_sheet(items, day=start + dt.timedelta(days=n), clinic=clinic, protocols=known)
        for n in range(days)
    ]
    return RunWeek(start=start, days=tuple(sheets))


# -- arguments ---------------------------------------------------------------------------------


def _plan_list(plans: object) -> list[Plan]:
    if isinstance(plans, Plan):
        return [plans]
    if isinstance(plans, str | bytes) or not isinstance(plans, Iterable):
        raise InputError("plans", "a Plan or a list of Plans", plans)
    items = list(plans)
    if not items:
        raise InputError("plans", "at least one Plan", items)
    for index, item in enumerate(items):
        expect(f"plans[{index}]", item, Plan, "a Plan")
    by_id("plans", items, lambda item: item.id, each="plan")
    return items


def _clinic_of(plans: list[Plan], clinic: Clinic | None) -> Clinic | None:
    """The clinic of every plan: the one given, or the default clinic a plan was made at."""
    first = plans[0]
    clinic = plan_clinic(first, clinic, clinic_is="optional") if clinic is None else clinic
    expected = clinic.id if clinic else first.clinic
    for index, plan in enumerate(plans):
        if plan.clinic != expected:
            raise InputError(
                f"plans[{index}].clinic", f"{expected!r} (one clinic per run sheet)", plan.clinic
            )
        if clinic is None and plan.time_zone != first.time_zone:
            raise InputError(
                f"plans[{index}].time_zone", f"{first.time_zone!r}, as plans[0]'s", plan.time_zone
            )
    return clinic


# -- sessions ----------------------------------------------------------------------------------


def _history(plans: list[Plan], day: dt.date, time_zone: str) -> tuple[DayEvent, ...]:
    """The day's sessions cancelled by someone, or missed: in time order."""
    local = zone(time_zone)
    found = []
    for plan in plans:
        for a in plan.appointments:
            gone = a.status == "missed" or (a.status == "cancelled" and not a.no_longer_needed)
            if not gone or a.start.astimezone(local).date() != day:
                continue
            what = "no-show" if a.status == "missed" else "cancelled"
            if a.cancellation == "late":
                what = "late cancellation"
            who = plan.patient or plan.id
            found.append(DayEvent(patient=who, appointment=a.id, start=a.start, what=what,
                                  cancelled_at=a.cancelled_at))  # fmt: skip
    return tuple(sorted(found, key=lambda e: (instant(e.start), e.patient, e.appointment)))


def _sessions(plan: Plan, protocol: Protocol, day: dt.date, time_zone: str) -> list[_Placed]:
    """The plan's sessions at the clinic that start on ``day``, placed in their lanes.

    ``plan`` is read (:func:`~ketaplan._resolve.read_plan`): its spans are those of its starts.
    """
    local = zone(time_zone)
    checkpoints: dict[str, list[Task]] = defaultdict(list)
    for task in plan.tasks:
        if task.kind == "checkpoint" and task.appointment is not None and task.at is not None:
            checkpoints[task.appointment].append(task)
    found = []
    for appointment in plan.appointments:
        if not appointment.is_active or appointment.location != "clinic":
            continue
        if appointment.start.astimezone(local).date() != day:
            continue
        kind = protocol.session_kind(appointment.session)  # read_plan checked it is there
        used = appointment.resources
        session = RunSession(
            patient=plan.patient or plan.id,
            plan=plan.id,
            appointment=appointment.id,
            name=kind.name,
            category=kind.category,
            dose_number=appointment.dose_number,
            status=appointment.status,
            start=appointment.start.astimezone(local),
            end=appointment.end.astimezone(local),
            steps=_steps(kind, appointment, checkpoints[appointment.id], local),
        )
        seat = next((span for span in used if span.resource in SEATS), None)
        lane = (seat.resource, seat.unit) if seat else (None, None)
        monitored = tuple(span for span in used if span.resource == MONITORING)
        found.append(_Placed(session, lane, monitored))
    return found


#: Order of steps at one moment: a check at a moment, the timeline's steps, a check through a
#: period, the discharge. So "baseline vitals" comes before "dosing", and the discharge last.
_RANK = {"moment": 0, "timeline": 1, "period": 2, "discharge": 3}


def _steps(
    kind: SessionKind, appointment: Appointment, tasks: list[Task], local: dt.tzinfo
) -> tuple[RunStep, ...]:
    """The session's timeline from its start, its checkpoint tasks, then its discharge."""
    timeline = kind.timeline
    ranked: list[tuple[int, RunStep]] = []
    for step in STEP_ORDER:
        minutes = timeline.minutes(step)
        if not minutes:
            continue
        first, last = timeline.span((step,))
        ranked.append(
            (
                _RANK["timeline"],
                RunStep(
                    kind=step,
                    label=_label(step, minutes, appointment),
                    at=shift(appointment.start, minutes=first).astimezone(local),
                    until=shift(appointment.start, minutes=last).astimezone(local),
                ),
            )
        )
    for task in tasks:
        assert task.at is not None  # noqa: S101 - only tasks at a moment are passed
        ranked.append(
            (
                _RANK["moment" if task.until is None else "period"],
                RunStep(
                    kind="checkpoint",
                    label=task.title,
                    at=task.at.astimezone(local),
                    until=task.until.astimezone(local) if task.until else None,
                    task=task.id,
                ),
            )
        )
    if kind.is_dosing:
        end = shift(appointment.start, minutes=timeline.block_minutes).astimezone(local)
        discharge = RunStep(kind="discharge", label="monitoring ends; earliest discharge", at=end)
        ranked.append((_RANK["discharge"], discharge))
    ranked.sort(key=lambda item: (instant(item[1].at), item[0]))
    return tuple(step for _, step in ranked)


def _label(step: str, minutes: int, appointment: Appointment) -> str:
    if step == "dosing":
        dose = str(appointment.decided_dose or "") or appointment.dose
        return f"dosing ({dose})" if dose else "dosing"
    if step == "monitoring":
        return f"monitoring (at least {minutes} min)"
    return f"{step} ({minutes} min)"


def _lanes(placed: list[_Placed]) -> tuple[Lane, ...]:
    """The lanes with sessions: chairs, then rooms, by number; then those without one."""
    by_lane: dict[tuple[ResourceKind | None, int | None], list[RunSession]] = defaultdict(list)
    for item in placed:
        by_lane[item.lane].append(item.session)

    def order(key: tuple[ResourceKind | None, int | None]) -> tuple[int, int]:
        resource, unit = key
        rank = SEATS.index(resource) if resource in SEATS else len(SEATS)
        return rank, unit if unit is not None else 1_000_000

    return tuple(
        Lane(
            resource=resource,
            unit=unit,
            sessions=tuple(sorted(sessions, key=in_order)),
        )
        for (resource, unit), sessions in sorted(by_lane.items(), key=lambda item: order(item[0]))
    )


# -- the staff load ----------------------------------------------------------------------------


def _load(placed: list[_Placed], clinic: Clinic | None, time_zone: str) -> tuple[StaffLoad, ...]:
    """Patients under monitoring through the day, stretch by stretch.

    A sweep over the monitoring spans: at equal times an end comes before a start, so
    back-to-back patients are not counted together (as ``check`` counts them).
    """
    local = zone(time_zone)
    events = sorted(
        [(instant(span.start), 1) for item in placed for span in item.monitored]
        + [(instant(span.end), -1) for item in placed for span in item.monitored]
    )
    stretches: list[StaffLoad] = []
    patients = 0
    for (moment, step), (following, _) in itertools.pairwise(events):
        patients += step
        if not patients or following <= moment:
            continue
        # the staff on duty then, a dated absence counted, as the planner and check count it
        duty = monitoring_on_duty(clinic, moment, following) if clinic else None
        staff, capacity = (duty.staff, duty.capacity) if duty else (None, None)
        last = stretches[-1] if stretches else None
        if last is not None and (last.patients, last.capacity, last.end) == (
            patients,
            capacity,
            moment,
        ):
            stretches[-1] = last.model_copy(update={"end": following.astimezone(local)})
            continue
        stretches.append(
            StaffLoad(
                start=moment.astimezone(local),
                end=following.astimezone(local),
                patients=patients,
                staff=staff,
                capacity=capacity,
            )
        )
    return tuple(stretches)


def _on_duty(clinic: Clinic, day: dt.date) -> OnDuty:
    """The monitoring staff on duty through the clinic's local ``day``."""
    begins = dt.datetime.combine(day, dt.time(), tzinfo=clinic.zone)
    return monitoring_on_duty(clinic, begins, begins + dt.timedelta(days=1))
