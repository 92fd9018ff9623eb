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
import re
import secrets
from collections.abc import Iterable, Mapping

from ketaplan._model import aware, choice, expect, in_range, local_time, start_in_range
from ketaplan._planning.continuity import Continuity
from ketaplan._planning.search import MAX_EVALUATIONS, SHIFT_DAYS, Search, Setting
from ketaplan._resolve import new_plan_clinic, other_courses
from ketaplan._text import fmt_day
from ketaplan._types import OnConflict
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError, LimitError, UnsatisfiableError
from ketaplan.instructions import tasks_for
from ketaplan.ledger import Ledger, bookings_argument
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Plan
from ketaplan.protocol import Protocol
from ketaplan.rules.course import Course
from ketaplan.rules.decisions import gate_proposals, mark_provisional
from ketaplan.rules.windows import DEFAULT_START_WINDOW_DAYS, MAX_START_WINDOW_DAYS
from ketaplan.timing import current_time, zone

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "DEFAULT_START_WINDOW_DAYS",
    "MAX_EVALUATIONS",
    "MAX_HORIZON_DAYS",
    "SHIFT_DAYS",
    "OnConflict",
    "made_before",
    "plan",
]

#: Without ``until``, open-ended phases are planned this many days past the start.
DEFAULT_HORIZON_DAYS = 365
#: ``until`` may be at most this many days after ``start``.
MAX_HORIZON_DAYS = 5 * 366


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
    plan_id: str | None = None,
    hints: Mapping[str, dt.datetime] | None = None,
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
        now: the moment the plan is made (default: :func:`~ketaplan.timing.current_time`,
            the current time or ``KETAPLAN_NOW``). Nothing is booked before it, inside the
            clinic's minimum notice after it, or beyond its booking horizon; ``start`` may not
            be a day before it. Give it to plan as of another moment.
        time_zone: the zone of the default clinic when ``clinic`` is omitted; with a clinic,
            only its own zone (another is an :class:`InputError`).
        start_window_days: how far after ``start`` the first session may go.
        plan_id: the plan's identity (letters, digits, ``.``, ``_``, ``-``), from which every
            calendar UID derives. By default it derives from the protocol, clinic, patient and
            start, so planning the same patient again gives the same identity; a plan without a
            patient gets a random one, so two anonymous plans never share calendar UIDs.
        hints: a moment to aim for, by appointment id (``{"induction-2": ...}``; a placement
            across patients passes a solver's answer): the session's target day and time of
            day where its rules allow. A hint never breaks a rule, and the appointment's
            ``target`` stays the day its rule aims for; its ``reason`` says it was hinted.

    >>> from ketaplan import load_protocol
    >>> from ketaplan.defaults import demo_clinic
    >>> made_at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)  # when it is made (default: now)
    >>> result = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 23),
    ...               clinic=demo_clinic(), preferred_time=dt.time(9), now=made_at)
    >>> result.appointments[0].id, f"{result.appointments[0].local_start:%a %d %b}"
    ('intake-1', 'Mon 23 Nov')
    >>> [f"{a.local_start:%a %d %H:%M}" for a in result.doses][:6]
    ['Mon 30 09:00', 'Wed 02 09:00', 'Fri 04 09:00', 'Mon 07 09:00', 'Wed 09 09:00', 'Fri 11 09:00']
    """
    expect("protocol", protocol, Protocol, "a Protocol (load_protocol(ID) gives one)")
    expect("clinic", clinic, (Clinic, type(None)), "a Clinic or None (demo_clinic() gives one)")
    expect("patient", patient, (Patient, type(None)), "a Patient or None")
    if tiers is not None and not (
        isinstance(tiers, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in tiers.items())
    ):
        raise InputError("tiers", "a mapping of phase ids to tier ids", tiers)
    _check_arguments(
        start,
        until=until,
        preferred_time=preferred_time,
        on_conflict=on_conflict,
        now=now,
        start_window_days=start_window_days,
        plan_id=plan_id,
    )
    clinic = new_plan_clinic(protocol, clinic, time_zone)
    now = _planning_moment(now, start, clinic)
    horizon = until if until is not None else start + dt.timedelta(days=DEFAULT_HORIZON_DAYS)
    chosen = _choose_tiers(protocol, tiers)
    plan_id = plan_id if plan_id is not None else _plan_id(protocol, clinic, patient, start)
    ledger = bookings_argument("bookings", bookings, clinic)
    setting = Setting(
        clinic=clinic,
        patient=patient,
        start=start,
        until=horizon,
        start_window_days=start_window_days,
        preferred_time=preferred_time,
        now=now,
        patient_key=patient.id if patient else f"plan:{plan_id}",
    )
    continuity = _hinted(hints, clinic, protocol)
    search = Search(Course(protocol, chosen), setting, ledger=ledger, continuity=continuity)
    appointments = search.solve(on_conflict=on_conflict)
    made = _result(protocol, search, appointments, plan_id=plan_id, tiers=chosen)
    _one_course(ledger, made)
    return made


def _one_course(ledger: Ledger, made: Plan) -> None:
    """Refuse a plan whose patient has another plan's sessions during it (:func:`other_courses`)."""
    others = other_courses(ledger, made)
    if not others:
        return
    local = zone(made.time_zone)
    first, last = (
        min(b.start for b in others).astimezone(local),
        max(b.end for b in others).astimezone(local),
    )
    course = [a.local_date for a in made.appointments if a.is_active]
    # Unsatisfiable from this start (first_available and plan_many try a later one, or refuse
    # this patient alone), not a wrong argument.
    raise UnsatisfiableError.for_session(
        "the course",
        earliest=course[0],
        latest=course[-1],
        blocked={
            first.date(): f"patient {made.patient} has sessions of plan {others[0].plan} from "
            f"{fmt_day(first.date())} to {fmt_day(last.date())}"
        },
        hint="one course at a time: stop or finish the other (decided:stop), or start this "
        "one after its last session",
    )


def _result(
    protocol: Protocol,
    search: Search,
    appointments: list[Appointment],
    *,
    plan_id: str,
    tiers: dict[str, str],
) -> Plan:
    """The plan a search made, with its tasks and notes."""
    clinic, patient = search.setting.clinic, search.setting.patient
    start = dt.datetime.combine(search.setting.start, dt.time(), tzinfo=zone(clinic.time_zone))
    # What the search proposed (a review after a lapse before the plan), then the gates.
    proposals = [
        *search.proposals,
        *gate_proposals(protocol, appointments, at=search.setting.now or start),
    ]
    tasks, notes = tasks_for(
        protocol,
        appointments,
        clinic=clinic,
        patient=patient,
        medications=search.medications,
        proposals=proposals,
    )
    # Every value is the planner's own or comes from the validated protocol, clinic and
    # patient (the plan id was checked by plan()): built without validating again.
    return Plan.trusted(
        id=plan_id,
        protocol=protocol.id,
        protocol_version=protocol.version,
        patient=patient.id if patient else None,
        clinic=clinic.id,
        clinic_name=clinic.name,
        clinic_location=clinic.location,
        clinic_display_name=clinic.patient_facing_name,
        quiet_hours=clinic.quiet_hours,
        reminder_lead_minutes=clinic.reminder_lead_minutes,
        time_zone=clinic.time_zone,
        start=search.setting.start,
        until=search.setting.until,
        tiers=tiers,
        appointments=mark_provisional(appointments, proposals),
        tasks=tasks,
        proposals=tuple(proposals),
        notes=(*search.notes, *notes),
    )


# -- arguments ---------------------------------------------------------------------------------


_PLAN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _check_arguments(
    start: object,
    *,
    until: object,
    preferred_time: object,
    on_conflict: object,
    now: object,
    start_window_days: object,
    plan_id: object,
) -> None:
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise InputError("start", "a date (datetime.date, not datetime)", start)
    start_in_range("start", start)
    if until is not None:
        if not isinstance(until, dt.date) or isinstance(until, dt.datetime):
            raise InputError("until", "a date (datetime.date, not datetime)", until)
        if until < start:
            raise InputError("until", f"on or after start ({start})", until)
        if (until - start).days > MAX_HORIZON_DAYS:
            raise LimitError("until", f"at most {MAX_HORIZON_DAYS} days after start", until)
    local_time("preferred_time", preferred_time)
    choice("on_conflict", on_conflict, ("raise", "shift"), "'raise' or 'shift'")
    if plan_id is not None and (not isinstance(plan_id, str) or not _PLAN_ID.fullmatch(plan_id)):
        raise InputError("plan_id", "1-64 letters, digits, '.', '_' or '-'", plan_id)
    if now is not None:
        aware("now", now)
    if (
        not isinstance(start_window_days, int)
        or isinstance(start_window_days, bool)
        or not 0 <= start_window_days <= MAX_START_WINDOW_DAYS
    ):
        raise InputError(
            "start_window_days",
            f"a whole number from 0 to {MAX_START_WINDOW_DAYS}",
            start_window_days,
        )


def _hinted(
    hints: Mapping[str, dt.datetime] | None, clinic: Clinic, protocol: Protocol
) -> Continuity:
    """The search's targets from ``hints``: each appointment's local day and time.

    A key that no appointment of ``protocol`` can have (a typo, a session past a phase's
    count) would be left unused without a word: it is refused.
    """
    if hints is None:
        return Continuity()
    if not isinstance(hints, Mapping):
        raise InputError("hints", "a mapping of appointment ids to aware datetimes", hints)
    days: dict[str, dt.date] = {}
    times: dict[str, dt.time] = {}
    for key, moment in hints.items():
        if not isinstance(key, str):
            raise InputError("hints", "appointment ids (strings) as keys", key)
        if not _can_have(protocol, key):
            example = f"{protocol.phases[0].id}-1"
            expected = f"keyed by ids of appointments of {protocol.id}, such as {example!r}"
            raise InputError("hints", expected, key)
        local = aware(f"hints[{key!r}]", moment).astimezone(clinic.zone)
        days[key], times[key] = local.date(), local.time().replace(tzinfo=None)
    return Continuity(aims=days, times=times)


#: The longest session number an appointment id may carry (a phase's count is at most 500).
_NUMBER_DIGITS = 6


def _can_have(protocol: Protocol, key: str) -> bool:
    """Whether an appointment of a new plan of ``protocol`` may have the id ``key``.

    A phase's sessions are ``PHASE-N`` (N from 1 to its count, if it has one); an anchored
    session's id starts with its rule's id (``integration-dosing-1``).
    """
    for phase in protocol.phases:
        number = key.removeprefix(f"{phase.id}-")
        if (
            number != key
            and 0 < len(number) <= _NUMBER_DIGITS
            and number.isascii()
            and number.isdigit()
            and not number.startswith("0")
            and (phase.count is None or int(number) <= phase.count)
        ):
            return True
    return any(key.startswith(f"{rule.id}-") for rule in protocol.anchored)


def made_before(start: dt.date, clinic: Clinic | None = None) -> dt.datetime:
    """A moment to plan as of (``plan(now=...)``) for a series from ``start``.

    Plans are made as of a moment, and nothing is booked before it or inside the clinic's
    minimum notice after it; a property test that draws start dates gives this as ``now``, so
    that its answers do not depend on the day it runs. It is the start of ``start`` in the
    clinic's zone, less the clinic's minimum notice (without a clinic: in the zone furthest
    east, UTC+14, so any zone's day has begun).

    >>> made_before(dt.date(2026, 12, 1)).isoformat()
    '2026-11-30T10:00:00+00:00'
    """
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise InputError("start", "a date (datetime.date, not datetime)", start)
    in_range("start", start)
    expect("clinic", clinic, (Clinic, type(None)), "a Clinic or None")
    if clinic is None:
        return dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC) - dt.timedelta(hours=14)
    midnight = dt.datetime.combine(start, dt.time(), tzinfo=clinic.zone).astimezone(dt.UTC)
    return midnight - dt.timedelta(hours=clinic.minimum_notice_hours)


def _planning_moment(now: dt.datetime | None, start: dt.date, clinic: Clinic) -> dt.datetime:
    """The moment of planning, and a clear error for a start on a day already past."""
    moment = now if now is not None else current_time()
    local = moment.astimezone(zone(clinic.time_zone))
    if start < local.date():
        raise InputError(
            "start",
            f"today or later: the plan is made at {local.isoformat(timespec='minutes')} "
            f"({local.date()} in {clinic.time_zone}); give now= (--now) to plan as of another "
            "moment",
            start,
        )
    return moment


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
    """A stable identity for a patient's plan; a random one for an anonymous plan."""
    if patient is None:
        return f"plan-{secrets.token_hex(8)}"
    key = "|".join([protocol.id, clinic.id, patient.id, start.isoformat()])
    return "plan-" + hashlib.sha256(key.encode()).hexdigest()[:16]
