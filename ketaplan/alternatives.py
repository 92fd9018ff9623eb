"""Alternatives for one session: where else it could go, and what that would change.

A patient asks "what else is there this week?". :func:`alternatives` looks at each day of the
session's window, finds that day's best slot (nearest the session's own time of day) in the
clinic's and the patient's calendars around everyone else's bookings, and tries the move as a
re-plan would make it (:func:`~ketaplan.replanning.replan` with a ``Moved`` event). A move is
offered only when ``check`` then finds no error in the moved session; each offer lists the later
sessions the re-plan would move and whether any would leave its window. Nothing is changed: the
caller records the chosen move with ``replan``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from ketaplan._model import AnyDateTime, Model, Ref, aware
from ketaplan._resolve import plan_clinic, plan_protocol
from ketaplan.bookings import Booking, bookings_of
from ketaplan.checking import check
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError, UnsatisfiableError
from ketaplan.ledger import Ledger, booking_list
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Plan
from ketaplan.protocol import Protocol
from ketaplan.replanning import Moved, replan
from ketaplan.slots import SlotFinder
from ketaplan.timing import current_time

__all__ = ["MAX_ALTERNATIVES", "Alternative", "Change", "alternatives"]

#: At most this many alternatives are offered at once.
MAX_ALTERNATIVES = 20
#: Days either side of the session searched when it has no window of its own (an intake).
_AROUND_DAYS = 7


class Change(Model):
    """A later session the move would take along."""

    appointment: Ref
    before: AnyDateTime
    after: AnyDateTime
    outside_window: bool
    """Whether it would then lie outside the window its rule gives."""


class Alternative(Model):
    """One place the session could go instead."""

    start: AnyDateTime
    end: AnyDateTime
    changes: tuple[Change, ...] = ()
    """The later sessions that would move with it, in order."""

    @property
    def leaves_window(self) -> bool:
        """Whether any later session would leave its window."""
        return any(change.outside_window for change in self.changes)


class _Context(NamedTuple):
    """What every tried move is judged against."""

    plan: Plan
    protocol: Protocol
    clinic: Clinic
    patient: Patient | None
    others: list[Booking]
    """The clinic's other bookings (not the plan's own)."""
    moment: dt.datetime


def alternatives(
    plan: Plan,
    appointment_id: str,
    /,
    *,
    as_of: dt.datetime | None = None,
    protocol: Protocol | None = None,
    clinic: Clinic | None = None,
    patient: Patient | None = None,
    bookings: Iterable[Booking] = (),
    limit: int = 5,
) -> list[Alternative]:
    """Other slots for ``appointment_id`` inside its window, best first.

    Best is: no later session leaves its window, then the fewest later sessions moved, then
    the nearest day and time to the session's own.

    Args:
        plan: the plan as it stands.
        appointment_id: the session to move (one still planned, after ``as_of``).
        as_of: now (default: :func:`~ketaplan.timing.current_time`); nothing before it.
        protocol: the plan's protocol (default: the built-in the plan names).
        clinic: the plan's clinic (required unless the plan used the default clinic).
        patient: the plan's patient (required when the plan names one).
        bookings: the clinic's other bookings.
        limit: how many to offer (1 to :data:`MAX_ALTERNATIVES`).
    """
    moment = aware("as_of", as_of) if as_of is not None else current_time()
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_ALTERNATIVES:
        raise InputError("limit", f"a whole number from 1 to {MAX_ALTERNATIVES}", limit)
    plan, protocol = plan_protocol(plan, protocol, patient, patient_is="required")
    where = plan_clinic(plan, clinic, clinic_is="required")
    assert where is not None  # noqa: S101 - required above
    given = booking_list("bookings", bookings, ledger=False)
    session = _session(plan, appointment_id, moment)
    others = [b for b in given if b.plan != plan.id]
    context = _Context(plan, protocol, where, patient, others, moment)
    finder = _finder(context, session)
    kind = protocol.session_kind(session.session)
    found: list[Alternative] = []
    for day in _days(session):
        slot, _ = finder.best(kind, day, preferred_time=session.local_start.time())
        if slot is None or slot.start == session.start:
            continue
        offer = _try(context, session, slot.start)
        if offer is not None:
            found.append(offer)
    found.sort(key=lambda offer: _rank(offer, session))
    return found[:limit]


def _session(plan: Plan, appointment_id: str, moment: dt.datetime) -> Appointment:
    ids = [a.id for a in plan.appointments]
    if not isinstance(appointment_id, str) or appointment_id not in ids:
        raise InputError("appointment_id", f"an appointment of plan {plan.id}", appointment_id)
    session = plan.appointment(appointment_id)
    if session.status != "planned" or session.start <= moment:
        raise InputError(
            "appointment_id", "a session still planned and still to come", appointment_id
        )
    return session


def _finder(context: _Context, session: Appointment) -> SlotFinder:
    """Slots around everyone else's bookings and the plan's own other sessions."""
    plan, patient = context.plan, context.patient
    ledger = Ledger(context.clinic, context.others)
    for other in plan.appointments:
        if other.is_active and session.id not in (other.id, other.anchor):
            for booking in bookings_of(other, patient=plan.patient, plan=plan.id):
                ledger.add(booking)
    return SlotFinder(
        context.clinic,
        patient,
        ledger,
        policy=context.protocol.calendar,
        now=context.moment,
        patient_key=patient.id if patient else f"plan:{plan.id}",
    )


def _days(session: Appointment) -> list[dt.date]:
    """The days of the session's window, nearest its own day first."""
    around = dt.timedelta(days=_AROUND_DAYS)
    first = session.earliest or session.local_date - around
    last = session.latest or session.local_date + around
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return sorted(days, key=lambda day: (abs((day - session.local_date).days), day))


def _try(context: _Context, session: Appointment, start: dt.datetime) -> Alternative | None:
    """The move to ``start`` as a re-plan makes it, or None when it breaks a rule."""
    plan, moment = context.plan, context.moment
    protocol, clinic, patient = context.protocol, context.clinic, context.patient
    event = Moved(appointment=session.id, to=start)
    try:
        after = replan(plan, as_of=moment, events=[event], protocol=protocol, clinic=clinic,
                       patient=patient, bookings=context.others)  # fmt: skip
    except UnsatisfiableError:
        return None
    found = check(after, protocol=protocol, clinic=clinic, patient=patient, bookings=context.others)
    if any(v.severity == "error" and session.id in v.appointments for v in found):
        return None
    before = {a.id: a for a in plan.appointments}
    changes = tuple(
        Change(appointment=a.id, before=before[a.id].start, after=a.start,
               outside_window=_outside(a))
        for a in after.appointments
        if a.id != session.id and a.id in before and a.is_active
        and a.start != before[a.id].start and a.start > moment
    )  # fmt: skip
    moved = after.appointment(session.id)
    return Alternative(start=moved.start, end=moved.end, changes=changes)


def _outside(appointment: Appointment) -> bool:
    shifted = appointment.shift is not None and appointment.shift.days_outside > 0
    late = appointment.latest is not None and appointment.local_date > appointment.latest
    return shifted or late


def _rank(offer: Alternative, session: Appointment) -> tuple[bool, int, int, float]:
    days = abs((offer.start.astimezone(session.start.tzinfo).date() - session.local_date).days)
    local = offer.start.astimezone(session.start.tzinfo)
    minutes = abs(
        (local.hour * 60 + local.minute)
        - (session.local_start.hour * 60 + session.local_start.minute)
    )
    return offer.leaves_window, len(offer.changes), days, minutes
