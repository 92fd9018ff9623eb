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
from typing import Annotated, Literal, NamedTuple

from pydantic import AwareDatetime, Field, TypeAdapter

from ketaplan._model import Model, aware, validate_as
from ketaplan._planning.continuity import Continuity
from ketaplan._planning.resumption import LAPSE
from ketaplan._planning.search import Search, Setting
from ketaplan._resolve import plan_clinic, plan_protocol
from ketaplan._types import OnConflict
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError
from ketaplan.instructions import instructions_for, tasks_for
from ketaplan.ledger import Ledger
from ketaplan.medications import MedicationRules, medication_rules
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Assessment, Plan, TierChange
from ketaplan.protocol import Protocol, SessionKind
from ketaplan.rules.capacity import spans
from ketaplan.rules.course import Course
from ketaplan.rules.windows import DEFAULT_START_WINDOW_DAYS
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
    as_of = aware("as_of", as_of)
    plan, protocol = plan_protocol(plan, protocol, patient, patient_is="required")
    clinic = plan_clinic(plan, clinic, clinic_is="required")
    assert clinic is not None  # noqa: S101 - required above
    tiers = dict(plan.tiers)
    assessments = list(plan.assessments)
    notes: list[str] = []
    applied = _apply(
        plan,
        events,
        protocol,
        tiers=tiers,
        assessments=assessments,
        notes=notes,
        patient=patient,
        medications=medication_rules(protocol, clinic),
    )
    notes += _respond(protocol, tiers, assessments, new=assessments[len(plan.assessments) :])
    changes = _tier_changes(plan, tiers, as_of, notes)
    continuity = _continuity(plan, applied, as_of, tiers, protocol, preferred_time=preferred_time)
    # The rules from here on are the search's: the sessions kept, the tiers now in force.
    setting = Setting(
        clinic=clinic,
        patient=patient,
        start=max(plan.start, as_of.astimezone(zone(clinic.time_zone)).date()),
        until=until or plan.until,
        start_window_days=DEFAULT_START_WINDOW_DAYS,
        preferred_time=preferred_time,
        now=as_of,
        patient_key=patient.id if patient else f"plan:{plan.id}",
    )
    ledger = bookings.fork() if isinstance(bookings, Ledger) else Ledger(clinic, bookings)
    search = Search(Course(protocol, tiers, changes), setting, ledger=ledger, continuity=continuity)
    merged = _merge(plan, applied.appointments, search.solve(on_conflict=on_conflict))
    return _updated(plan, search, merged, changes, assessments=assessments, notes=notes)


def _updated(
    plan: Plan,
    search: Search,
    merged: tuple[Appointment, ...],
    changes: tuple[TierChange, ...],
    *,
    assessments: list[Assessment],
    notes: list[str],
) -> Plan:
    """The plan after a re-plan: a higher revision when anything a calendar shows changed."""
    tasks, task_notes = tasks_for(
        search.protocol,
        merged,
        clinic=search.setting.clinic,
        patient=search.setting.patient,
        medications=search.medications,
    )
    changed = merged != plan.appointments or changes or assessments != list(plan.assessments)
    return plan.model_copy(
        update={
            "revision": plan.revision + (1 if changed else 0),
            "tiers": dict(search.chain.course.tiers),
            "tier_changes": (*plan.tier_changes, *changes),
            "appointments": merged,
            "tasks": tasks,
            "assessments": tuple(assessments),
            "until": search.setting.until,
            "notes": _unique((*plan.notes, *notes, *search.notes, *task_notes)),
        }
    )


def _tier_changes(
    plan: Plan, tiers: dict[str, str], as_of: dt.datetime, notes: list[str]
) -> tuple[TierChange, ...]:
    """The tiers this re-plan changed, each applying from ``as_of`` on."""
    changes = []
    for phase_id, after in tiers.items():
        before = plan.tiers.get(phase_id)
        if before is None or before == after:
            continue
        why = [note for note in notes if f"{phase_id} steps" in note]
        changes.append(
            TierChange(
                phase=phase_id,
                before=before,
                after=after,
                since=as_of,
                reason="; ".join(why) or f"{phase_id} changed from {before} to {after}",
            )
        )
    return tuple(changes)


def _continuity(
    plan: Plan,
    applied: Applied,
    as_of: dt.datetime,
    tiers: dict[str, str],
    protocol: Protocol,
    *,
    preferred_time: dt.time | None,
) -> Continuity:
    """What the search keeps: the sessions frozen, and the times and dates the plan had."""
    times: dict[str, dt.time] = {}
    series_time = None
    if preferred_time is None:
        planned = [a for a in plan.appointments if a.status == "planned"]
        times = {a.id: a.local_start.time() for a in planned}
        doses = [a for a in planned if a.is_dose]
        if doses:  # new sessions default to the time the series already uses
            series_time = doses[-1].local_start.time()
    # A phase that continues after a miss keeps its later sessions' dates where they still fit
    # (unless its cadence changed tier, which moves them on purpose).
    continuing = {
        phase.id
        for phase in protocol.phases
        if phase.missed == "continue" and tiers.get(phase.id) == plan.tiers.get(phase.id)
    }
    days = {
        a.id: a.local_date
        for a in plan.appointments
        if a.status == "planned" and a.phase in continuing and a.anchored is None
    }
    fixed = _frozen(applied, as_of, order={a.id: (a.start, a.id) for a in plan.appointments})
    return Continuity(
        fixed=tuple(fixed),
        times=times,
        days=days,
        series_time=series_time,
        plan_start=plan.start,
    )


class Applied(NamedTuple):
    """The plan's appointments after the events, and which ones the events named."""

    appointments: dict[str, Appointment]
    touched: set[str]
    """Named by an event: kept as the event left them."""
    moved: set[str]
    """Moved to another time (by request, or attended at another time)."""


#: The reason of a session a re-plan no longer needs (cancelled, kept so calendars remove it).
NO_LONGER_NEEDED = "no longer needed"


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
) -> Applied:
    """Apply the events to the plan's appointments, in order."""
    applied = Applied({a.id: a for a in plan.appointments}, set(), set())
    appointments = applied.appointments
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
        applied.touched.add(current.id)
        kind = protocol.session_kind(current.session)
        if isinstance(event, Attended):
            update: dict[str, object] = {"status": "attended"}
            if event.at is not None and event.at != current.start:
                update.update(_moved_times(current, event.at, kind))
                applied.moved.add(current.id)
            appointments[current.id] = current.model_copy(update=update)
        elif isinstance(event, Moved):
            moved_to = current.model_copy(
                update={"status": "planned", **_moved_times(current, event.to, kind)}
            )
            instructions = instructions_for(
                moved_to, kind, protocol, patient=patient, medications=medications
            )
            appointments[current.id] = moved_to.model_copy(update={"instructions": instructions})
            applied.moved.add(current.id)
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
    return applied


def _moved_times(
    appointment: Appointment, start: dt.datetime, kind: SessionKind
) -> dict[str, object]:
    """New start, end, dosing start and resource spans for an appointment moved to ``start``.

    The block keeps its length in real elapsed time; dosing and each resource's span follow
    the protocol's timeline (:func:`ketaplan.rules.capacity.spans`), keeping the chair or room.
    """
    length = elapsed_hours(appointment.start, appointment.end)
    units = {span.resource: span.unit for span in appointment.resources}
    dosing = shift(start, minutes=kind.timeline.check_in_minutes) if kind.is_dosing else None
    return {
        "start": start,
        "end": shift(start, hours=length),
        "dosing_start": dosing,
        "resources": spans(kind, start, units=units),
        "reason": f"moved by request to {start.isoformat()}; was: {appointment.reason}",
    }


def _superseded(appointment: Appointment, as_of: dt.datetime, applied: Applied) -> bool:
    """A future session an earlier re-plan cancelled as no longer needed (not history)."""
    return (
        appointment.status == "cancelled"
        and appointment.start >= as_of
        and appointment.id not in applied.touched
        and appointment.reason.startswith(NO_LONGER_NEEDED)
    )


def _frozen(
    applied: Applied, as_of: dt.datetime, *, order: dict[str, tuple[dt.datetime, str]]
) -> list[Appointment]:
    """What the re-plan keeps as it is.

    The chain of phase sessions is kept up to its last session that is in the past, was named
    by an event, or did not take place as planned (attended, missed, cancelled by a person);
    everything after that point is planned again. A session an earlier re-plan cancelled as no
    longer needed is not history and sets no such point. Anchored sessions are kept with their
    anchor, unless the anchor moved (they are placed again after it), and when they are in the
    past or were changed themselves.

    The chain is read in the plan's ``order`` (its sessions' places before the events): a
    session moved past later ones does not keep them where they were; they follow it.
    """
    items = sorted(
        (a for a in applied.appointments.values() if not _superseded(a, as_of, applied)),
        key=lambda a: (a.start, a.id),
    )
    chain = sorted(
        (a for a in items if a.anchored is None), key=lambda a: order.get(a.id, (a.start, a.id))
    )
    boundary = -1
    for position, appointment in enumerate(chain):
        if (
            appointment.start < as_of
            or appointment.id in applied.touched
            or appointment.status != "planned"
        ):
            boundary = position
    kept = {a.id for a in chain[: boundary + 1]}
    for appointment in items:
        if appointment.anchored is None:
            continue
        with_anchor = appointment.anchor in kept and appointment.anchor not in applied.moved
        if (
            with_anchor
            or appointment.start < as_of
            or appointment.status != "planned"
            or appointment.id in applied.touched
            or appointment.anchored == LAPSE
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


def _respond(
    protocol: Protocol,
    tiers: dict[str, str],
    assessments: list[Assessment],
    *,
    new: Sequence[Assessment],
) -> list[str]:
    """Response-guided taper: move tiered phases by the recorded scores.

    A rule acts only when this re-plan records a new score on its scale: scores already acted
    on do not step the tier again at every later re-plan.
    """
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
        if not scores or not any(a.scale.casefold() == rule.scale.casefold() for a in new):
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
                update={
                    "status": "cancelled",
                    "reason": f"{NO_LONGER_NEEDED}; was: {before.reason}",
                }
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
        # Keep the earlier text too: only what a calendar shows decides a revision. What the
        # rules say of the session now (a rule a shift relaxed) is kept up to date.
        if before.shift != after.shift:
            return before.model_copy(update={"shift": after.shift})
        return before
    return after.model_copy(update={"revision": revision})
