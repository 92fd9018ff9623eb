"""``replan()``: update a plan after sessions were attended, missed, moved or cancelled.

What happened is never lost: attended, missed and cancelled appointments stay in the plan with
their status, and nothing before ``as_of`` changes. Later sessions are planned again from what
actually happened, keeping their gaps. Appointment ids are stable (they come from the phase and
the position, or from the anchor), and every appointment that changes gets a higher revision,
so calendars update or cancel events instead of duplicating them.

Protocol rules applied on the way:

- a missed session in a phase with ``missed = "continue"`` is not made up (the esketamine label
  for weeks 1-4); with ``"make-up"`` (the default) the phase gets another session;
- a missed session with worsening in a tiered phase after the first steps that phase back one
  tier, e.g. weekly to twice weekly, every 2 weeks to weekly (the esketamine label);
- after more than ``rules.lapse.after_days`` without a dose, a review comes first (and, where
  the protocol says ``re-induction``, a new course starts from the first phase);
- response rules step a tiered phase down while scores stay low and back up when they rise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter

from ketaplan._model import Model, validate_as
from ketaplan._text import fmt_day
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.defaults import default_clinic
from ketaplan.errors import InputError
from ketaplan.instructions import instructions_for, tasks_for
from ketaplan.ledger import Ledger
from ketaplan.loading import load_protocol
from ketaplan.medications import MedicationRules, medication_rules
from ketaplan.patient import Patient
from ketaplan.planner import OnConflict, _Planner
from ketaplan.plans import Appointment, Assessment, Plan
from ketaplan.protocol import Protocol
from ketaplan.timing import elapsed_hours, shift, zone

__all__ = [
    "Assessed",
    "Attended",
    "Cancelled",
    "Event",
    "Missed",
    "Moved",
    "parse_events",
    "replan",
]


class Attended(Model):
    """The patient came; ``at`` records the actual start if it differed."""

    type: Literal["attended"] = "attended"
    appointment: str
    at: AwareDatetime | None = None


class Missed(Model):
    """The patient did not come; ``worsening`` if symptoms got worse."""

    type: Literal["missed"] = "missed"
    appointment: str
    worsening: bool = False


class Moved(Model):
    """The appointment was moved to start at ``to``."""

    type: Literal["moved"] = "moved"
    appointment: str
    to: AwareDatetime


class Cancelled(Model):
    """The appointment will not take place and is not replaced."""

    type: Literal["cancelled"] = "cancelled"
    appointment: str


class Assessed(Model):
    """A rating-scale score was recorded, e.g. PHQ-9 = 7."""

    type: Literal["assessed"] = "assessed"
    on: dt.date
    scale: str
    score: float


Event = Annotated[Attended | Missed | Moved | Cancelled | Assessed, Field(discriminator="type")]

_EVENTS: TypeAdapter[list[Event]] = TypeAdapter(list[Event])


def parse_events(data: object, /) -> list[Event]:
    """Events from JSON-like data (a list of objects with a ``type``).

    >>> parse_events([{"type": "missed", "appointment": "induction-3", "worsening": True}])
    [Missed(type='missed', appointment='induction-3', worsening=True)]
    """
    return validate_as(_EVENTS, data, field="events")


def replan(
    plan: Plan,
    /,
    *,
    as_of: dt.datetime,
    events: Sequence[Event] = (),
    protocol: Protocol | None = None,
    clinic: Clinic | None = None,
    patient: Patient | None = None,
    bookings: Iterable[Booking] | Ledger = (),
    until: dt.date | None = None,
    preferred_time: dt.time | None = None,
    on_conflict: OnConflict = "raise",
) -> Plan:
    """Apply ``events`` and plan again everything after ``as_of``.

    Args:
        plan: the current plan.
        as_of: now; nothing before it changes and nothing new is placed before it.
        events: what happened (attended, missed, moved, cancelled, assessed).
        protocol: the plan's protocol (default: the built-in named in the plan).
        clinic: the plan's clinic (required unless the plan used the default clinic).
        patient: the plan's patient (required when the plan names one).
        bookings: the clinic's other bookings, as for ``plan``.
        until: a new horizon for open-ended phases (default: the plan's).
        preferred_time: the local time of day to aim for.
        on_conflict: as for ``plan``.
    """
    protocol, clinic = _resolve(plan, protocol, clinic, patient, as_of)
    tiers = dict(plan.tiers)
    assessments = list(plan.assessments)
    notes: list[str] = []
    ledger = bookings.fork() if isinstance(bookings, Ledger) else Ledger(clinic, bookings)
    appointments, touched = _apply(
        plan,
        events,
        protocol,
        tiers=tiers,
        assessments=assessments,
        notes=notes,
        patient=patient,
        medications=medication_rules(protocol, clinic),
    )
    notes += _respond(protocol, tiers, assessments)
    fixed = _frozen(appointments.values(), as_of, touched)
    planner = _Planner(
        protocol,
        clinic=clinic,
        patient=patient,
        ledger=ledger,
        start=max(plan.start, as_of.astimezone(zone(clinic.time_zone)).date()),
        until=until or plan.until,
        preferred_time=preferred_time,
        tiers=tiers,
        now=as_of,
        patient_key=patient.id if patient else f"plan:{plan.id}",
        start_window_days=28,
        fixed=fixed,
    )
    if preferred_time is None:
        planned = [a for a in plan.appointments if a.status == "planned"]
        planner.preferred_by_id = {a.id: a.local_start.time() for a in planned}
        doses = [a for a in planned if a.is_dose]
        if doses:  # new sessions default to the time the series already uses
            planner.finder.preferred_time = doses[-1].local_start.time()
    # A phase that continues after a miss keeps its later sessions' dates where they still fit
    # (unless its cadence changed tier, which moves them on purpose).
    continuing = {
        phase.id
        for phase in protocol.phases
        if phase.missed == "continue" and tiers.get(phase.id) == plan.tiers.get(phase.id)
    }
    planner.preferred_day_by_id = {
        a.id: a.local_date
        for a in plan.appointments
        if a.status == "planned" and a.phase in continuing and a.anchored is None
    }
    lapse = _lapse(protocol, fixed, as_of, clinic)
    if lapse is not None and protocol.rules.lapse is not None:
        planner.require_review(lapse, reinduction=protocol.rules.lapse.requires == "re-induction")
        notes.append(lapse)
    fresh = planner.solve(on_conflict=on_conflict)
    merged = _merge(plan, appointments, fresh)
    tasks, task_notes = tasks_for(
        protocol, merged, clinic=clinic, patient=patient, medications=planner.medications
    )
    changed = (
        merged != plan.appointments or tiers != plan.tiers or assessments != list(plan.assessments)
    )
    return plan.model_copy(
        update={
            "revision": plan.revision + (1 if changed else 0),
            "tiers": tiers,
            "appointments": merged,
            "tasks": tasks,
            "assessments": tuple(assessments),
            "until": until or plan.until,
            "notes": _unique((*plan.notes, *notes, *planner.notes, *task_notes)),
        }
    )


def _apply(
    plan: Plan,
    events: Sequence[Event],
    protocol: Protocol,
    *,
    tiers: dict[str, str],
    assessments: list[Assessment],
    notes: list[str],
    patient: Patient | None,
    medications: MedicationRules,
) -> tuple[dict[str, Appointment], set[str]]:
    """Apply the events to the plan's appointments; return them and the ids events named."""
    appointments = {a.id: a for a in plan.appointments}
    touched: set[str] = set()
    for number, event in enumerate(events):
        if isinstance(event, Assessed):
            assessments.append(Assessment(on=event.on, scale=event.scale, score=event.score))
            continue
        current = appointments.get(event.appointment)
        if current is None:
            raise InputError(
                f"events[{number}].appointment",
                f"an appointment of plan {plan.id}",
                event.appointment,
            )
        touched.add(current.id)
        if isinstance(event, Attended):
            update: dict[str, object] = {"status": "attended"}
            if event.at is not None:
                update.update(_moved_times(current, event.at))
            appointments[current.id] = current.model_copy(update=update)
        elif isinstance(event, Moved):
            moved_to = current.model_copy(
                update={"status": "planned", **_moved_times(current, event.to)}
            )
            kind = protocol.session_kind(current.session)
            instructions = instructions_for(
                moved_to, kind, protocol, patient=patient, medications=medications
            )
            appointments[current.id] = moved_to.model_copy(update={"instructions": instructions})
            notes.append(f"{current.id} moved to {event.to.isoformat()} by request")
        else:  # Missed or Cancelled
            status = "missed" if isinstance(event, Missed) else "cancelled"
            appointments[current.id] = current.model_copy(update={"status": status})
            for other in list(appointments.values()):
                if other.anchor == current.id and other.status == "planned":
                    appointments[other.id] = other.model_copy(update={"status": "cancelled"})
            if isinstance(event, Missed) and event.worsening:
                note = _step_back(protocol, tiers, current)
                if note:
                    notes.append(note)
    return appointments, touched


def _resolve(
    plan: Plan,
    protocol: Protocol | None,
    clinic: Clinic | None,
    patient: Patient | None,
    as_of: dt.datetime,
) -> tuple[Protocol, Clinic]:
    if not isinstance(as_of, dt.datetime) or as_of.tzinfo is None:
        raise InputError("as_of", "an aware datetime (with a zone)", as_of)
    protocol = protocol or load_protocol(plan.protocol)
    if protocol.id != plan.protocol:
        raise InputError("protocol", f"the plan's protocol {plan.protocol!r}", protocol.id)
    if clinic is None:
        if plan.clinic != "default-clinic":
            raise InputError("clinic", f"the plan's clinic {plan.clinic!r}", None)
        clinic = default_clinic(plan.time_zone)
    if clinic.id != plan.clinic:
        raise InputError("clinic", f"the plan's clinic {plan.clinic!r}", clinic.id)
    if plan.patient is not None and (patient is None or patient.id != plan.patient):
        raise InputError(
            "patient", f"the plan's patient {plan.patient!r}", patient.id if patient else None
        )
    return protocol, clinic


def _moved_times(appointment: Appointment, start: dt.datetime) -> dict[str, object]:
    """New start, end, dosing start and resource spans for an appointment moved to ``start``."""

    def moved(moment: dt.datetime) -> dt.datetime:
        # Keep each offset from the start in real elapsed time.
        return shift(start, hours=elapsed_hours(appointment.start, moment))

    spans = tuple(
        span.model_copy(update={"start": moved(span.start), "end": moved(span.end)})
        for span in appointment.resources
    )
    dosing = moved(appointment.dosing_start) if appointment.dosing_start else None
    return {
        "start": start,
        "end": moved(appointment.end),
        "dosing_start": dosing,
        "resources": spans,
        "reason": f"moved by request to {start.isoformat()}; was: {appointment.reason}",
    }


def _frozen(
    appointments: Iterable[Appointment], as_of: dt.datetime, touched: set[str]
) -> list[Appointment]:
    """What the re-plan keeps as it is.

    The chain of phase sessions is kept up to its last session that is in the past or was
    named by an event (attended, missed, moved, cancelled); everything after that point is
    planned again. Anchored sessions are kept with their anchor, and when they are in the past
    or were changed themselves.
    """
    items = sorted(appointments, key=lambda a: (a.start, a.id))
    chain = [a for a in items if a.anchored is None]
    boundary = -1
    for position, appointment in enumerate(chain):
        if (
            appointment.start < as_of
            or appointment.id in touched
            or appointment.status != "planned"
        ):
            boundary = position
    kept = {a.id for a in chain[: boundary + 1]}
    for appointment in items:
        if appointment.anchored is not None and (
            appointment.anchor in kept
            or appointment.start < as_of
            or appointment.status != "planned"
            or appointment.anchored == "lapse"
        ):
            kept.add(appointment.id)
    return [a for a in items if a.id in kept]


def _step_back(protocol: Protocol, tiers: dict[str, str], missed: Appointment) -> str | None:
    """Missed with worsening in a tiered phase after the first: one tier more frequent."""
    phase = (
        protocol.phase(missed.phase) if missed.phase in {p.id for p in protocol.phases} else None
    )
    if phase is None or phase.id not in tiers or protocol.phases.index(phase) == 0:
        return None
    order = [tier.id for tier in protocol.tiers]
    position = order.index(tiers[phase.id])
    if position == 0:
        return None
    before, after = tiers[phase.id], order[position - 1]
    tiers[phase.id] = after
    return f"{missed.id} missed with worsening: {phase.id} steps back from {before} to {after}"


def _respond(protocol: Protocol, tiers: dict[str, str], assessments: list[Assessment]) -> list[str]:
    """Response-guided taper: move tiered phases by the recorded scores."""
    notes = []
    order = [tier.id for tier in protocol.tiers]
    for rule in protocol.response:
        phase = protocol.phase(rule.phase)
        allowed = [t for t in order if t in {phase.tier, *phase.tier_choices}]
        current = tiers.get(phase.id, phase.tier)
        if current not in allowed:
            continue
        scores = sorted(
            (a for a in assessments if a.scale.casefold() == rule.scale.casefold()),
            key=lambda a: a.on,
        )
        if not scores:
            continue
        position = allowed.index(current)
        latest = scores[-1]
        recent = scores[-rule.after_consecutive :]
        if latest.score > rule.step_up_above and position > 0:
            tiers[phase.id] = allowed[position - 1]
            notes.append(
                f"{rule.scale} {latest.score:g} on {latest.on} is above {rule.step_up_above:g}: "
                f"{phase.id} steps up to {allowed[position - 1]}"
            )
        elif (
            len(recent) == rule.after_consecutive
            and all(a.score <= rule.step_down_at_or_below for a in recent)
            and position < len(allowed) - 1
        ):
            tiers[phase.id] = allowed[position + 1]
            notes.append(
                f"{rule.scale} at or below {rule.step_down_at_or_below:g} "
                f"{rule.after_consecutive} time(s) in a row: {phase.id} steps down to "
                f"{allowed[position + 1]}"
            )
    return notes


def _lapse(
    protocol: Protocol, fixed: list[Appointment], as_of: dt.datetime, clinic: Clinic
) -> str | None:
    rule = protocol.rules.lapse
    if rule is None:
        return None
    held = [a for a in fixed if a.is_dose and a.status == "attended"]
    if not held:
        return None
    last = held[-1].local_date
    today = as_of.astimezone(zone(clinic.time_zone)).date()
    reviewed = any(
        a.session == rule.session and a.status == "attended" and a.local_date >= last for a in fixed
    )
    if (today - last).days <= rule.after_days or reviewed:
        return None
    return (
        f"{(today - last).days} days since the last dose on {fmt_day(last)} "
        f"(more than {rule.after_days}): {rule.requires} first"
    )


def _merge(
    plan: Plan, applied: dict[str, Appointment], fresh: list[Appointment]
) -> tuple[Appointment, ...]:
    """New appointments with revisions raised where something changed; dropped ones cancelled."""
    old = {a.id: a for a in plan.appointments}
    merged: dict[str, Appointment] = {}
    for appointment in fresh:
        before = old.get(appointment.id)
        if before is None:
            merged[appointment.id] = appointment
            continue
        merged[appointment.id] = _with_revision(before, appointment)
    for appointment_id, before in old.items():
        if appointment_id in merged:
            continue
        current = applied[appointment_id]
        if current.status == "planned":
            current = current.model_copy(
                update={"status": "cancelled", "reason": f"no longer needed; was: {before.reason}"}
            )
        merged[appointment_id] = _with_revision(before, current)
    return tuple(sorted(merged.values(), key=lambda a: (a.start, a.id)))


def _unique(notes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


_SIGNIFICANT = ("start", "end", "status", "resources", "dose", "location", "kind")


def _with_revision(before: Appointment, after: Appointment) -> Appointment:
    changed = any(getattr(before, name) != getattr(after, name) for name in _SIGNIFICANT)
    revision = before.revision + 1 if changed else before.revision
    if not changed:
        # Keep the earlier text too: only what a calendar shows decides a revision.
        return before
    return after.model_copy(update={"revision": revision})
