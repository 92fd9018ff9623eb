"""``check()``: every rule a plan breaks, with a stable code and the rule's source.

``check`` verifies with the rules the planner places with (:mod:`ketaplan.rules`): the windows
and day rules (gaps, per-week counts, deadlines, consecutive days, doses in 7 days, the interval
in hours), the calendar rules (opening hours, closures, holidays, availability, blackouts,
prescriber, notice), anchored sessions, lapses, washouts and switches, and the medication rules
the planner turns into instructions and tasks. So a plan made by ``plan()`` checks clean, and
an edited one says exactly what the edit broke. History is judged by the rules in force when
it happened: after a change of tier, sessions before the change keep the tier they had. An IV
induction outside the real-world bounds of one (4-8 infusions over 7-28 days) is a warning.

Each family of rules is a module of this package; they share a small :class:`Context`.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Callable, Iterable

from ketaplan._model import aware, expect
from ketaplan._resolve import course_span, plan_clinic, plan_protocol, timed
from ketaplan.bookings import Booking
from ketaplan.checking import doses, medications, overlaps, sessions
from ketaplan.checking.context import Context
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError
from ketaplan.ledger import Ledger, seconds
from ketaplan.patient import Patient
from ketaplan.plans import Plan
from ketaplan.protocol import Protocol
from ketaplan.rules.capacity import limits
from ketaplan.violation import Violation

__all__ = ["FAMILIES", "TRIAL_FAMILIES", "check", "check_trial"]

_DAY = 86_400

#: The families of rules, in the order they are run.
FAMILIES: tuple[Callable[[Context], list[Violation]], ...] = (
    doses.dose_rules,
    doses.phase_counts,
    doses.induction_bounds,
    doses.lapse_rules,
    sessions.anchored,
    sessions.blocks,
    overlaps.double_booking,
    overlaps.another_course,
    sessions.calendar,
    sessions.records,
    overlaps.capacity,
    medications.medications,
    sessions.requirements,
    sessions.checkpoints,
    sessions.instructions,
)


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
    >>> made_at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)  # when it is made (default: now)
    >>> made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30),
    ...             clinic=demo_clinic(), preferred_time=dt.time(9), now=made_at)
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
    checkpoint-task-missing warning clinic
    checkpoint-task-missing warning trial
    checkpoint-task-missing warning trial
    checkpoint-task-missing warning clinic
    consecutive-days warning trial
    instructions-out-of-date error clinic
    """
    expect("protocol", protocol, (Protocol, type(None)), "a Protocol or None")
    expect("clinic", clinic, (Clinic, type(None)), "a Clinic or None")
    expect("patient", patient, (Patient, type(None)), "a Patient or None")
    plan, protocol = plan_protocol(plan, protocol, patient, patient_is="optional")
    clinic = plan_clinic(plan, clinic, clinic_is="optional")
    if now is not None:
        now = aware("now", now)
    ledger = _ledger(bookings, plan, clinic)
    return _checked(plan, Context(plan, protocol, clinic, patient, ledger, now), FAMILIES)


#: The rules a trial placement is judged by: all but the patient's words, which a search that
#: moves sessions writes once it has chosen (the ride home waits for the visit as it ends up).
TRIAL_FAMILIES = tuple(family for family in FAMILIES if family is not sessions.instructions)


def check_trial(
    plan: Plan,
    /,
    *,
    protocol: Protocol,
    clinic: Clinic | None,
    patient: Patient | None,
    bookings: Iterable[Booking] | Ledger | None,
    now: dt.datetime | None,
    families: tuple[Callable[[Context], list[Violation]], ...] = TRIAL_FAMILIES,
) -> list[Violation]:
    """:func:`check`'s ``families`` of rules (default: a trial's), its inputs checked already.

    The plan is read :func:`~ketaplan._resolve.timed` here; :func:`check` has it so from
    :func:`~ketaplan._resolve.plan_protocol` and runs every family on it without timing it again.
    """
    plan = timed(plan, protocol)  # the times clinic software may have left behind a move
    context = Context(plan, protocol, clinic, patient, _ledger(bookings, plan, clinic), now)
    return _checked(plan, context, families)


def _checked(
    plan: Plan, context: Context, families: tuple[Callable[[Context], list[Violation]], ...]
) -> list[Violation]:
    """What ``families`` find in ``plan`` (already :func:`timed`), sorted by date, each once."""
    found = [violation for family in families for violation in family(context)]
    return _sorted_unique(plan, found)


def _ledger(
    bookings: Iterable[Booking] | Ledger | None, plan: Plan, clinic: Clinic | None
) -> Ledger | None:
    """The other bookings, indexed by day: a ledger as it is, or one of the listed bookings.

    Of a list, only the bookings on the days the plan's sessions touch (with a unit's
    cleaning buffer either side) are indexed, with their units as given: those are the only
    ones a rule can find overlapping a session.
    """
    if bookings is None or isinstance(bookings, Ledger):
        return bookings
    if isinstance(bookings, str | bytes) or not isinstance(bookings, Iterable):
        raise InputError("bookings", "a Ledger or a list of Booking", bookings)
    items = list(bookings)
    for index, item in enumerate(items):
        expect(f"bookings[{index}]", item, Booking, "a Booking")
    pad = max(limits(clinic).buffer_minutes.values(), default=0) * 60 if clinic else 0
    days = sorted(
        {
            day
            for a in plan.appointments
            for day in range((seconds(a.start) - pad) // _DAY, (seconds(a.end) + pad) // _DAY + 1)
        }
    )

    course = course_span(plan)

    def near(booking: Booking) -> bool:
        if course is not None and booking.patient == plan.patient and booking.plan is not None:
            # the patient's other courses, on any day of this one (``other_courses``)
            first, last = course
            if seconds(booking.start) < last and first < seconds(booking.end):
                return True
        first = bisect_left(days, seconds(booking.start) // _DAY)
        return first < len(days) and days[first] <= seconds(booking.end) // _DAY

    return Ledger(clinic, [b for b in items if near(b)], units="as-given")


def _sorted_unique(plan: Plan, found: list[Violation]) -> list[Violation]:
    starts = {a.id: a.start for a in plan.appointments}
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    unique = list({(v.code, v.appointments, v.message): v for v in found}.values())
    return sorted(
        unique,
        key=lambda v: (min((starts.get(i, far) for i in v.appointments), default=far), v.code),
    )
