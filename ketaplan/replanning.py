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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal, NamedTuple

from pydantic import Field, TypeAdapter

from ketaplan._model import (
    Day,
    Model,
    Moment,
    Ref,
    Text,
    aware,
    choice,
    expect,
    in_range,
    local_time,
    start_in_range,
    validate_as,
)
from ketaplan._planning.continuity import Continuity
from ketaplan._planning.resumption import BOOSTER, LAPSE
from ketaplan._planning.search import Search, Setting
from ketaplan._resolve import plan_clinic, plan_protocol
from ketaplan._text import fmt_day
from ketaplan._types import OnConflict, ResourceKind
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.decisions import (
    STOP,
    Decision,
    DecisionKind,
    Proposal,
    course_stop,
    declined_phases,
    stopped_on,
)
from ketaplan.errors import InputError, LimitError
from ketaplan.instructions import said, tasks_for
from ketaplan.ledger import Ledger, booking_list
from ketaplan.patient import Patient
from ketaplan.planner import MAX_HORIZON_DAYS
from ketaplan.plans import (
    MOVED,
    MOVED_BY_REQUEST,
    NO_LONGER_NEEDED,
    Appointment,
    Assessment,
    DecidedDose,
    Plan,
    ScaleName,
    Score,
    TierChange,
)
from ketaplan.protocol import AnchoredSession, Protocol, SessionKind
from ketaplan.rules import anchors
from ketaplan.rules.capacity import dosing_start, spans
from ketaplan.rules.chain import Chain, course_prefix, live, numbered
from ketaplan.rules.course import (
    Course,
    Previous,
    lapse_at,
    previous_from_history,
    recorded_early,
    taken,
)
from ketaplan.rules.decisions import (
    gate_proposals,
    mark_provisional,
    proposed_note,
    qualifying_score,
    response,
    response_proposal,
    step_back,
    step_down,
    taken_before_decision,
    worsening_proposal,
)
from ketaplan.rules.windows import DEFAULT_START_WINDOW_DAYS
from ketaplan.timing import elapsed_hours, instant, shift, zone

__all__ = [
    "Assessed",
    "Attended",
    "Cancelled",
    "Decided",
    "Event",
    "Missed",
    "Moved",
    "Requested",
    "moved_times",
    "parse_events",
    "replan",
    "with_revision",
]


class Attended(Model):
    """The patient came.

    ``at`` records the actual start if it differed; ``dose``, the dose the clinician decided
    (in the protocol's unit, one of the amounts its menu allows at that place).
    """

    type: Literal["attended"] = "attended"
    appointment: Ref
    at: Moment | None = None
    dose: Annotated[float, Field(gt=0, le=1000)] | None = None
    correction: bool = False
    """It corrects what was recorded before (see :class:`Missed`)."""


class Missed(Model):
    """The patient did not come; ``worsening`` if symptoms got worse."""

    type: Literal["missed"] = "missed"
    appointment: Ref
    worsening: bool = False
    correction: bool = False
    """It corrects what was recorded before: a session recorded attended, missed or cancelled
    keeps that record unless the event says it is a correction, which history keeps with the
    record it replaced. Recording the same outcome again changes nothing."""


class Moved(Model):
    """The appointment was moved to start at ``to``."""

    type: Literal["moved"] = "moved"
    appointment: Ref
    to: Moment


class Cancelled(Model):
    """The appointment will not take place and is not replaced.

    ``made_at`` is when the cancellation was made (default: the re-plan's ``as_of``, the
    moment it is recorded); the clinic's ``cancellation_window_hours`` classes it in time or
    late (``Appointment.cancellation``). A patient who did not come without notice is
    :class:`Missed` (a no-show), not cancelled.
    """

    type: Literal["cancelled"] = "cancelled"
    appointment: Ref
    made_at: Moment | None = None
    correction: bool = False
    """It corrects what was recorded before (see :class:`Missed`)."""


class Assessed(Model):
    """A rating-scale score was recorded, e.g. PHQ-9 = 7."""

    type: Literal["assessed"] = "assessed"
    on: Day
    scale: ScaleName
    score: Score


class Decided(Model):
    """A clinician's decision, answering one of the plan's proposals.

    See :mod:`ketaplan.decisions`; ``stop`` needs no proposal.
    """

    type: Literal["decided"] = "decided"
    decision: DecisionKind
    proposal: Ref | None = None
    """The id of the proposal it answers (``Plan.proposals``)."""
    at: Moment | None = None
    """When it was decided (default: the re-plan's ``as_of``)."""
    note: Annotated[Text, Field(max_length=2000)] | None = None


class Requested(Model):
    """The patient asked for a booster (where the protocol allows boosters on request).

    The re-plan places an evaluation as soon as possible and brings the next session of the
    protocol's booster phase forward to after it, provisional until the clinician decides
    ``booster`` or ``continue`` on the proposal ``booster-N``.
    """

    type: Literal["requested"] = "requested"
    on: Day | None = None
    """When the patient asked (default: the re-plan's day)."""
    note: Annotated[Text, Field(max_length=2000)] | None = None


Event = Annotated[
    Attended | Missed | Moved | Cancelled | Assessed | Decided | Requested,
    Field(discriminator="type"),
]

_EVENTS: TypeAdapter[list[Event]] = TypeAdapter(list[Event])
_EVENT_TYPES = (Attended, Missed, Moved, Cancelled, Assessed, Decided, Requested)


def parse_events(data: object, /) -> list[Event]:
    """Events from JSON-like data (a list of objects with a ``type``).

    >>> parse_events([{"type": "missed", "appointment": "induction-3", "worsening": True}])
    [Missed(type='missed', appointment='induction-3', worsening=True, correction=False)]
    """
    return validate_as(_EVENTS, data, field="events", item=Event)


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
        bookings: the clinic's bookings, as for ``plan``; a shared ledger may hold this plan's
            own (``Plan.bookings()`` names their plan), which are left out.
        until: a new horizon for open-ended phases (default: the plan's).
        preferred_time: the local time of day to aim for.
        on_conflict: as for ``plan``.
    """
    as_of = aware("as_of", as_of)
    _check_arguments(as_of, events, until=until, preferred_time=preferred_time,
                     on_conflict=on_conflict)  # fmt: skip
    others = bookings if isinstance(bookings, Ledger) else booking_list("bookings", bookings)
    plan, protocol = plan_protocol(plan, protocol, patient, patient_is="required")
    clinic = plan_clinic(plan, clinic, clinic_is="required")
    assert clinic is not None  # noqa: S101 - required above
    record = Record.of(plan)
    applied = _apply(
        plan,
        events,
        protocol,
        record=record,
        as_of=as_of,
        clinic=clinic,
    )
    _respond(plan, protocol, record, as_of)
    _withdraw_stale_reviews(protocol, plan, applied, record, as_of=as_of, patient=patient)
    _decide_all(plan, protocol, record, events, applied, as_of=as_of)
    stop = record.stopped()
    if stop is not None:
        _stop(applied, as_of)
    changes = _tier_changes(plan, record.tiers, as_of, record.notes)
    continuity = _continuity(plan, applied, as_of, record, protocol, preferred_time=preferred_time)
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
    course = Course(protocol, record.tiers, changes)
    search = Search(course, setting, ledger=_others(plan, clinic, others), continuity=continuity)
    fresh = search.solve(on_conflict=on_conflict, stopped=stop is not None)
    record.raised(search.proposals)
    for proposal in gate_proposals(protocol, fresh, at=as_of):
        record.propose(proposal)
    fresh = list(mark_provisional(fresh, list(record.proposals.values())))
    merged = _merge(plan, applied.appointments, fresh)
    return _updated(plan, search, merged, changes, record=record, as_of=as_of)


@dataclass
class Record:
    """What a re-plan records besides the appointments: tiers, scores, proposals, decisions."""

    tiers: dict[str, str]
    assessments: list[Assessment]
    proposals: dict[str, Proposal]
    decisions: list[Decision]
    notes: list[str]
    """What this re-plan recorded (moves, proposals, decisions, tier steps): history."""
    standing: list[str] = field(default_factory=list)
    """What holds however often the plan is re-planned (a stopped course): notes only."""

    @classmethod
    def of(cls, plan: Plan) -> Record:
        """What ``plan`` recorded so far."""
        return cls(
            tiers=dict(plan.tiers),
            assessments=list(plan.assessments),
            proposals={p.id: p for p in plan.proposals},
            decisions=list(plan.decisions),
            notes=[],
        )

    def still_going(self, field: str, value: object) -> None:
        """Raise :class:`InputError` for ``field`` when a decision stopped the course."""
        stop = course_stop(self.decisions)
        if stop is not None:
            raise InputError(field, f"a course still going (it was stopped at {stop.at})", value)

    def stopped(self) -> Decision | None:
        """The decision that stopped the course, if one did: nothing more is planned."""
        stop = course_stop(self.decisions)
        if stop is not None:
            self.standing.append(f"the course was stopped by a decision recorded at {stop.at}")
        return stop

    def propose(self, proposal: Proposal) -> Proposal:
        """Record ``proposal`` (once: a proposal raised before is kept as it was).

        One that asks something else under a taken id (another score on the same day, say)
        gets the next free id (``-2``, ``-3``).
        """
        known = self.proposals.get(proposal.id)
        if known is not None and (known.question, known.options) == (
            proposal.question,
            proposal.options,
        ):
            if known.decision is None and known.due != proposal.due:
                known = known.model_copy(update={"due": proposal.due})  # it follows its session
                self.proposals[known.id] = known
            return known
        if known is not None:
            number = 2
            while f"{proposal.id}-{number}" in self.proposals:
                number += 1
            proposal = proposal.model_copy(update={"id": f"{proposal.id}-{number}"})
        self.proposals[proposal.id] = proposal
        self.notes.append(proposed_note(proposal))
        return proposal

    def raised(self, proposals: Iterable[Proposal]) -> None:
        """Record what the search proposed (a lapse review's question), new ones in history."""
        for proposal in proposals:
            if proposal.id not in self.proposals:
                self.proposals[proposal.id] = proposal
                self.notes.append(proposed_note(proposal))


def _check_arguments(
    as_of: dt.datetime,
    events: object,
    *,
    until: object,
    preferred_time: object,
    on_conflict: object,
) -> None:
    """Raise :class:`InputError` for the first argument of ``replan`` that is not right.

    The plan, protocol, clinic and patient are checked with the plan they go with.
    """
    start_in_range("as_of", as_of.date())
    for number, event in enumerate(events if isinstance(events, Sequence) else [events]):
        expect(f"events[{number}]", event, _EVENT_TYPES, "an event (Attended, Missed, ...)")
    if until is not None:
        if not isinstance(until, dt.date) or isinstance(until, dt.datetime):
            raise InputError("until", "a date (datetime.date, not datetime)", until)
        if (in_range("until", until) - as_of.date()).days > MAX_HORIZON_DAYS:
            raise LimitError("until", f"at most {MAX_HORIZON_DAYS} days after as_of", until)
    local_time("preferred_time", preferred_time)
    choice("on_conflict", on_conflict, ("raise", "shift"), "'raise' or 'shift'")


def _others(plan: Plan, clinic: Clinic, bookings: Iterable[Booking] | Ledger) -> Ledger:
    """The clinic's bookings but the plan's own, which never block its own sessions."""
    if isinstance(bookings, Ledger):
        return bookings.without_plan(plan.id)
    return Ledger(clinic, [b for b in bookings if b.plan != plan.id])


def _updated(
    plan: Plan,
    search: Search,
    merged: tuple[Appointment, ...],
    changes: tuple[TierChange, ...],
    *,
    record: Record,
    as_of: dt.datetime,
) -> Plan:
    """The plan after a re-plan: a higher revision when anything a calendar shows changed."""
    proposals = tuple(record.proposals.values())
    tasks, task_notes = tasks_for(
        search.protocol,
        merged,
        clinic=search.setting.clinic,
        patient=search.setting.patient,
        medications=search.medications,
        proposals=proposals,
    )
    changed = (
        merged != plan.appointments
        or changes
        or record.assessments != list(plan.assessments)
        or proposals != plan.proposals
        or tuple(record.decisions) != plan.decisions
    )
    return plan.model_copy(
        update={
            "revision": plan.revision + (1 if changed else 0),
            "tiers": dict(search.chain.course.tiers),
            "tier_changes": (*plan.tier_changes, *changes),
            "appointments": merged,
            "tasks": tasks,
            "assessments": tuple(record.assessments),
            "proposals": proposals,
            "decisions": tuple(record.decisions),
            "until": search.setting.until,
            # What happened and what was decided is history, kept for good; the rest of the
            # notes say how the plan stands now and are worked out afresh.
            "history": _unique(
                (*plan.history, *(f"{as_of:%Y-%m-%d %H:%M %Z}: {n}" for n in record.notes))
            ),
            "notes": _unique((*record.notes, *record.standing, *search.notes, *task_notes)),
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
        why = [
            note
            for note in notes
            if f"{phase_id} steps" in note or f"{phase_id} from {before} to {after}" in note
        ]
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
    record: Record,
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
        if phase.missed == "continue" and record.tiers.get(phase.id) == plan.tiers.get(phase.id)
    }
    days = {
        a.id: a.local_date
        for a in plan.appointments
        if a.status == "planned" and a.phase in continuing and a.anchored is None
    }
    # A session a person moved (or a disruption did) keeps the day it was moved to wherever
    # its rules still allow it, and its time (``times``): it follows its anchor or a new
    # course like any other, and is not put back on the day its rule first gave.
    days |= {a.id: a.local_date for a in plan.appointments if a.status == "planned" and a.relocated}
    fixed = _frozen(
        applied,
        as_of,
        order={a.id: (a.start, a.id) for a in plan.appointments},
        rules={rule.id: rule for rule in protocol.anchored},
        notes=record.notes,
    )
    return Continuity(
        fixed=tuple(fixed),
        times=times,
        days=days,
        booked={a.id: a.start for a in plan.appointments if a.status == "planned"},
        series_time=series_time,
        plan_start=plan.start,
        stopped_on=stopped_on(record.decisions, plan.time_zone),
        declined=declined_phases(record.proposals.values()),
        proposals=dict(record.proposals),
    )


def _decide_all(
    plan: Plan,
    protocol: Protocol,
    record: Record,
    events: Sequence[Event],
    applied: Applied,
    *,
    as_of: dt.datetime,
) -> None:
    """Record the events' decisions, then note sessions they leave taken before a decision."""
    for number, event in enumerate(events):
        if isinstance(event, Decided):
            _decide(plan, protocol, record, event, field=f"events[{number}]", as_of=as_of)
    _note_taken_early(applied, record)


def _note_taken_early(applied: Applied, record: Record) -> None:
    """A line of history for each session attended while the decision it waits for is open.

    ``check`` warns ``taken-before-decision`` about it until the decision is recorded.
    """
    sessions = list(applied.appointments.values())
    for appointment, finding in taken_before_decision(sessions, list(record.proposals.values())):
        if appointment.id in applied.touched:
            record.notes.append(f"{appointment.id} {finding.message}")


def _stop(applied: Applied, as_of: dt.datetime) -> None:
    """A stopped course: everything still planned from ``as_of`` on is cancelled.

    As if reported so, and kept: the rules then see the course as it ended.
    """
    for appointment in list(applied.appointments.values()):
        if appointment.status == "planned" and appointment.start >= as_of:
            reason = f"{NO_LONGER_NEEDED}: the course stopped; was: {appointment.reason}"
            applied.appointments[appointment.id] = appointment.model_copy(
                update={"status": "cancelled", "reason": reason}
            )
            applied.touched.add(appointment.id)


class Applied(NamedTuple):
    """The plan's appointments after the events, and which ones the events named."""

    appointments: dict[str, Appointment]
    touched: set[str]
    """Named by an event: kept as the event left them."""
    moved: set[str]
    """Moved to another time (by request, or attended at another time)."""


def _apply(
    plan: Plan,
    events: Sequence[Event],
    protocol: Protocol,
    *,
    record: Record,
    as_of: dt.datetime,
    clinic: Clinic,
) -> Applied:
    """Apply what happened to the plan's appointments, in order (decisions come after)."""
    applied = Applied({a.id: a for a in plan.appointments}, set(), set())
    appointments = applied.appointments
    notes = record.notes
    doses: dict[str, tuple[float, int]] = {}
    superseded = _superseded(events)
    for number, event in enumerate(events):
        if isinstance(event, Decided) or number in superseded:
            continue
        if isinstance(event, Assessed):
            if event.on > as_of.astimezone(clinic.zone).date():  # a score is what was measured
                expected = f"a day on or before as_of ({as_of.date().isoformat()})"
                raise InputError(f"events[{number}].on", expected, event.on.isoformat())
            _assessed(protocol, record, event)
            continue
        if isinstance(event, Requested):
            _requested(plan, protocol, record, event, field=f"events[{number}]", as_of=as_of)
            continue
        current = _named(plan, appointments, event.appointment, field=f"events[{number}]")
        applied.touched.add(current.id)
        kind = protocol.session_kind(current.session)
        _taken_place_by(event, current, as_of, field=f"events[{number}]")
        if not isinstance(event, Moved) and current.status != "planned":
            if _recorded_already(event, current, field=f"events[{number}]"):
                continue
            current = _corrected(current, event, record, appointments)
        if isinstance(event, Attended):
            update: dict[str, object] = {"status": "attended"}
            if event.dose is not None:
                doses[current.id] = (event.dose, number)  # judged once every event is applied
            if event.at is not None and event.at != current.start:
                update.update(moved_times(current, event.at, kind, cause=TOOK_PLACE_AT))
                applied.moved.add(current.id)
            appointments[current.id] = current.model_copy(update=update)
        elif isinstance(event, Moved):
            _movable(current, event, as_of, field=f"events[{number}]")
            moved = {**moved_times(current, event.to, kind), "booked_at": as_of}
            # its words are written with the plan's visits once the re-plan is placed
            appointments[current.id] = current.model_copy(update={"status": "planned", **moved})
            applied.moved.add(current.id)
            notes.append(f"{current.id} moved to {event.to.isoformat()} by request")
        else:  # Missed or Cancelled
            not_held: dict[str, object] = {"status": "missed"}
            if isinstance(event, Cancelled):
                field = f"events[{number}]"
                not_held = _cancellation(current, event, clinic, record, field=field, as_of=as_of)
            appointments[current.id] = current.model_copy(update=not_held)
            _cancel_anchored(appointments, appointments[current.id], record)
            if isinstance(event, Missed) and event.worsening:
                _worsening(plan, protocol, record, current, as_of)
    _number_doses(protocol, applied, doses)
    return applied


#: How the reason of a session that took place at another time than planned begins.
TOOK_PLACE_AT = f"{MOVED} (it took place at another time)"


def _number_doses(
    protocol: Protocol, applied: Applied, decided: Mapping[str, tuple[float, int]]
) -> None:
    """Number the doses that took place as the chain numbers them, then judge decided doses.

    Once every event is applied, so that the order in which events are listed, or the re-plans
    they are spread over, makes no difference: a dose attended after an earlier one that a
    report now says was missed is the next dose of what took place (the label's first esketamine
    dose is 56 mg; a second dose's 84 mg recorded with the first missed is refused). Only the
    courses an event named are renumbered; a recorded dose keeps its amount, and ``check`` judges
    it by its number.
    """
    appointments = applied.appointments
    named = {course_prefix(i) for i in applied.touched}
    for prefix in named:
        course = [a for a in appointments.values() if course_prefix(a.id) == prefix]
        for session in numbered(Chain.of(Course(protocol), course), status="attended").sessions:
            appointments[session.id] = session
    for appointment_id, (amount, number) in decided.items():
        current = appointments[appointment_id]
        dose = _decided_dose(protocol, current, amount, number)
        appointments[appointment_id] = current.model_copy(update={"decided_dose": dose})


def _last_taken(
    appointments: Iterable[Appointment],
    protocol: Protocol,
    *,
    as_of: dt.datetime,
    patient: Patient | None,
) -> Previous | None:
    """The last dose taken before ``as_of`` (``rules.course.taken``), or the patient's history."""
    doses = sorted(
        (a for a in appointments if a.is_dose and a.anchored is None and a.start < as_of),
        key=lambda a: a.start,
    )
    held = taken(doses, now=as_of)
    if held:
        return Previous(held[-1].local_date, held[-1].end, held[-1].id)
    return previous_from_history(patient, protocol)


def _withdraw_stale_reviews(
    protocol: Protocol,
    before: Plan,
    applied: Applied,
    record: Record,
    *,
    as_of: dt.datetime,
    patient: Patient | None,
) -> None:
    """A lapse review still to come, undecided, whose lapse the events closed, is withdrawn.

    A review is placed when the doses recorded leave a lapse before the next one. Doses this
    re-plan records (attended after all) can close it: the review's own day, more than
    ``after_days`` after the last dose taken before them, is no longer so after them. Its
    question is then about nothing: the review is cancelled as no longer needed and its
    proposal withdrawn, with a line of history, so no decision is asked (or taken) on a lapse
    that did not happen. A decided one stays, and so does one booked ahead of a lapse still to
    come (its day was not past a lapse before the events either).
    """
    rule = protocol.rules.lapse
    appointments = applied.appointments
    reviews = [
        a
        for a in appointments.values()
        if a.anchored == LAPSE and a.status == "planned" and a.start >= as_of
        and (p := record.proposals.get(a.id)) is not None and p.decision is None
    ]  # fmt: skip
    if rule is None or not reviews:
        return
    previous = _last_taken(appointments.values(), protocol, as_of=as_of, patient=patient)
    earlier = _last_taken(before.appointments, protocol, as_of=as_of, patient=patient)
    if previous is None or earlier is None:
        return
    for review in reviews:
        day = review.local_date
        if lapse_at(rule, earlier, day) is None or lapse_at(rule, previous, day) is not None:
            continue  # not placed for a lapse the events closed: it stands as it was
        why = (
            f"{NO_LONGER_NEEDED}: the lapse it was to review no longer stands ({previous.label} "
            f"took place on {fmt_day(previous.day)})"
        )
        appointments[review.id] = review.model_copy(
            update={"status": "cancelled", "reason": f"{why}; was: {review.reason}"}
        )
        applied.touched.add(review.id)
        del record.proposals[review.id]
        record.notes.append(f"{review.id} withdrawn, and its proposal: {why}")


def _named(
    plan: Plan, appointments: Mapping[str, Appointment], name: str, *, field: str
) -> Appointment:
    """The appointment an event names, or :class:`InputError` naming ``field``."""
    found = appointments.get(name)
    if found is None:
        raise InputError(f"{field}.appointment", f"an appointment of plan {plan.id}", name)
    return found


def _assessed(protocol: Protocol, record: Record, event: Assessed) -> None:
    """Record a score; note it when no rule of the protocol reads its scale (MDRS for MADRS).

    The score is kept either way: a clinic may track other scales.
    """
    record.assessments.append(Assessment(on=event.on, scale=event.scale, score=event.score))
    read = protocol.scales
    if not read or event.scale.casefold() in {scale.casefold() for scale in read}:
        return  # a protocol whose rules read no scale: every score is for the record
    record.notes.append(
        f"{event.scale} {event.score:g} on {event.on} is recorded, but no rule of "
        f"{protocol.id} reads {event.scale} (it reads {', '.join(read)})"
    )


def _taken_place_by(
    event: Event, appointment: Appointment, as_of: dt.datetime, *, field: str
) -> None:
    """Refuse an attendance or a no-show recorded before the session could have begun.

    Attended (at its start, or at ``at``) and missed are what happened: as of ``as_of`` a later
    session has not happened yet, and a mistyped id would record a dose never given. Moves
    and cancellations are about what is to come.
    """
    if not isinstance(event, Attended | Missed):
        return
    began = event.at if isinstance(event, Attended) and event.at is not None else None
    moment = recorded_early(event.type, appointment.start, now=as_of, at=began)
    if moment is not None:
        when = "at" if began else f"{appointment.id}, which begins"
        raise InputError(
            field,
            f"a session begun by as_of ({as_of.isoformat()}); a later one can be moved or "
            f"cancelled",
            f"{event.type} {when} {moment.isoformat()}",
        )


_Outcome = Attended | Missed | Cancelled


def _superseded(events: Sequence[Event]) -> frozenset[int]:
    """The outcome events a later correction of the same session in the list replaces.

    A cumulative events file keeps what was recorded and, later, its correction: replayed, the
    correction is what stands (and, already on record, changes nothing).
    """
    corrected: dict[str, int] = {}
    for number, event in enumerate(events):
        if isinstance(event, _Outcome) and event.correction:
            corrected[event.appointment] = number
    return frozenset(
        number
        for number, event in enumerate(events)
        if isinstance(event, _Outcome) and number < corrected.get(event.appointment, -1)
    )


def _recorded_already(event: _Outcome, appointment: Appointment, *, field: str) -> bool:
    """Whether ``event`` records what ``appointment`` (recorded before) already says.

    Otherwise it must be a correction: :class:`InputError`, naming the record it would replace.
    """
    decided = appointment.decided_dose
    same = event.type == appointment.status and (
        not isinstance(event, Attended)
        or (
            (event.dose is None or (decided is not None and decided.amount == event.dose))
            and (event.at is None or event.at == appointment.start)
        )
    )
    if isinstance(event, Cancelled) and event.made_at is not None:
        same = same and event.made_at == appointment.cancelled_at
    if same or event.correction:
        return same  # the same outcome again (a replayed correction too) changes nothing
    raise InputError(
        f"{field}.correction",
        "true to replace what was recorded (a correction, kept in history; correct:EVENT at the "
        "command line); a recorded outcome is never replaced silently",
        f"{appointment.id} is recorded {_record_of(appointment)}; the event says {event.type}",
    )


def _record_of(appointment: Appointment) -> str:
    """What was recorded of a session, in words: ``attended (84 mg)``, ``cancelled (late)``."""
    detail = appointment.decided_dose or appointment.cancellation
    return f"{appointment.status} ({detail})" if detail else appointment.status


def _corrected(
    appointment: Appointment,
    event: _Outcome,
    record: Record,
    appointments: dict[str, Appointment],
) -> Appointment:
    """``appointment`` before a correction is applied: what the old record alone held is gone.

    History keeps the record it replaces.
    """
    record.notes.append(
        f"{appointment.id} corrected: was recorded {_record_of(appointment)}, now {event.type}"
    )
    if isinstance(event, Attended):  # what was cancelled with it is to take place again
        restore = _CANCELLED_WITH.format(anchor=appointment.id, status=appointment.status)
        for other in list(appointments.values()):
            if other.anchor == appointment.id and other.reason.startswith(restore):
                was = other.reason.removeprefix(restore).removeprefix("; was: ")
                appointments[other.id] = other.model_copy(
                    update={"status": "planned", "reason": was}
                )
                record.notes.append(f"{other.id} planned again: {appointment.id} took place")
    return appointment.model_copy(
        update={"decided_dose": None, "cancellation": None, "cancelled_at": None}
    )


def _movable(appointment: Appointment, event: Moved, as_of: dt.datetime, *, field: str) -> None:
    """Refuse a move of a session no longer to come, or to before ``as_of``.

    Moving one that took place, was missed or was cancelled made it planned again, and the
    miss or the cancellation (and its notice) was lost. Nothing is placed before ``as_of``:
    a session that took place at another time is attended at that time.
    """
    if appointment.status != "planned":
        raise InputError(
            field,
            "a planned session: one that took place, was missed or was cancelled stays on "
            "record (a missed one is made up or booked again by the re-plan)",
            f"moved {appointment.id}, which was {appointment.status}",
        )
    if event.to < as_of:
        expected = (
            f"a moment at or after as_of ({as_of.isoformat()}); one that took place is "
            "Attended with its time"
        )
        raise InputError(f"{field}.to", expected, event.to.isoformat())


#: The reason a session cancelled with its anchor begins with (a correction restores it).
_CANCELLED_WITH = "cancelled with {anchor}, which was {status}"


def _cancel_anchored(
    appointments: dict[str, Appointment], anchor: Appointment, record: Record
) -> None:
    """The planned sessions anchored to ``anchor``, which does not take place, are cancelled.

    Each says why (its reason, and a line of history): no person cancelled it, and it must not
    read as if one had.
    """
    for other in list(appointments.values()):
        if other.anchor == anchor.id and other.status == "planned":
            why = _CANCELLED_WITH.format(anchor=anchor.id, status=anchor.status)
            appointments[other.id] = other.model_copy(
                update={"status": "cancelled", "reason": f"{why}; was: {other.reason}"}
            )
            record.notes.append(f"{other.id} {why}")


def _cancellation(
    appointment: Appointment,
    event: Cancelled,
    clinic: Clinic,
    record: Record,
    *,
    field: str,
    as_of: dt.datetime,
) -> dict[str, object]:
    """A cancellation, classed by the clinic's cancellation window, and a line of history."""
    made_at = as_of if event.made_at is None else aware(f"{field}.made_at", event.made_at)
    if made_at > as_of:
        expected = f"a moment on or before as_of ({as_of.isoformat()})"
        raise InputError(f"{field}.made_at", expected, made_at.isoformat())
    notice = clinic.cancellation_notice(appointment.start, made_at=made_at)
    hours = elapsed_hours(made_at, appointment.start)
    before = f"{hours:.0f} h before it" if hours >= 0 else "after it began"
    record.notes.append(
        f"{appointment.id} cancelled {notice} (made {made_at.isoformat()}, {before}; "
        f"the clinic's cancellation window is {clinic.cancellation_window_hours} h)"
    )
    return {"status": "cancelled", "cancellation": notice, "cancelled_at": made_at}


def _decided_dose(
    protocol: Protocol, appointment: Appointment, amount: float, number: int
) -> DecidedDose:
    """The dose recorded for ``appointment``: one the protocol's menu allows at its place."""
    dosing = protocol.dosing
    field = f"events[{number}].dose"
    if dosing is None or appointment.dose_number is None:
        raise InputError(field, f"no dose: {appointment.id} has no dose menu", amount)
    if not dosing.allows(appointment.dose_number, amount, dosing.unit):
        expected = f"one of {appointment.dose} for {appointment.id}"
        raise InputError(field, expected, f"{amount:g} {dosing.unit}")
    return DecidedDose(amount=amount, unit=dosing.unit)


def _requested(
    plan: Plan,
    protocol: Protocol,
    record: Record,
    event: Requested,
    *,
    field: str,
    as_of: dt.datetime,
) -> None:
    """A booster the patient asked for: a proposal the evaluation decides (planned: booster)."""
    rule = protocol.boosters_on_request
    if rule is None:
        expected = f"a protocol that allows boosters on request ({protocol.id} does not)"
        raise InputError(field, expected, "requested")
    record.still_going(field, "requested")
    requests = [p for p in record.proposals.values() if p.requests_booster]
    waiting = [p.id for p in requests if p.decision is None]
    if waiting:
        raise InputError(field, f"no booster request still open ({waiting[0]} is)", "requested")
    today = as_of.astimezone(zone(plan.time_zone)).date()
    asked = event.on or today
    if asked > today:
        raise InputError(f"{field}.on", f"a day on or before the re-plan's ({today})", asked)
    number = 1 + len(requests)
    note = f" ({event.note})" if event.note else ""
    record.propose(
        Proposal(
            id=f"{BOOSTER}-{number}",
            question=f"the patient asked for a booster on {asked}{note}: give it after the "
            "evaluation?",
            options=(BOOSTER, "continue"),
            suggested=BOOSTER,
            planned=BOOSTER,
            raised=as_of,
            due=today,
            phase=rule.phase,
            source=rule.source,
        )
    )


def _due(plan: Plan, phase: str | None, as_of: dt.datetime) -> dt.date:
    """The day a decision about ``phase`` is due: its next planned session (or today)."""
    today = as_of.astimezone(zone(plan.time_zone)).date()
    upcoming = [
        a.local_date
        for a in plan.appointments
        if a.status == "planned" and a.start >= as_of and (phase is None or a.phase == phase)
    ]
    return min(upcoming, default=today)


def _worsening(
    plan: Plan, protocol: Protocol, record: Record, missed: Appointment, as_of: dt.datetime
) -> None:
    """A missed session with worsening: propose a step back (automatic if the protocol says)."""
    proposal = worsening_proposal(
        protocol, record.tiers, missed, at=as_of, due=_due(plan, missed.phase, as_of)
    )
    if proposal is None:
        return
    proposal = record.propose(proposal)
    if proposal.planned == "step-back":
        _step(protocol, record, proposal, "step-back")


def _step(protocol: Protocol, record: Record, proposal: Proposal, decision: str) -> None:
    """Move the proposal's phase a tier, as decided (or as the protocol makes automatic)."""
    assert proposal.phase is not None  # noqa: S101 - tier proposals name their phase
    move = step_back if decision == "step-back" else step_down
    note = move(protocol, record.tiers, proposal.phase, to=proposal.tier)
    if note is not None:
        record.notes.append(f"{proposal.id}: {note}")


def _respond(plan: Plan, protocol: Protocol, record: Record, as_of: dt.datetime) -> None:
    """What the scores say: response-guided frequency proposals, and responders.

    A response rule raises a proposal (automatic where the rule says); a qualifying score
    settles the start of a phase for responders.
    """
    for proposal in list(record.proposals.values()):
        phase = protocol.phase(proposal.phase) if proposal.phase else None
        if proposal.decision is None and phase is not None and proposal.starts_phase:
            why = qualifying_score(phase, record.assessments)
            if why is not None:
                decided = Decision(decision="start-maintenance", at=as_of, proposal=proposal.id,
                                   note=why, by="score")  # fmt: skip
                record.decisions.append(decided)
                record.proposals[proposal.id] = proposal.model_copy(update={"decision": decided})
                record.notes.append(f"decided ({proposal.id}) by a score: {why}")
    new = record.assessments[len(plan.assessments) :]
    for found in response(protocol, record.tiers, record.assessments, new=new):
        due = _due(plan, found.rule.phase, as_of)
        proposal = record.propose(response_proposal(found, record.tiers, at=as_of, due=due))
        if proposal.planned == found.direction:
            _step(protocol, record, proposal, found.direction)


def _decide(
    plan: Plan,
    protocol: Protocol,
    record: Record,
    event: Decided,
    *,
    field: str,
    as_of: dt.datetime,
) -> None:
    """Record a decision; a tier decision moves the tier now, the others act in the search."""
    decision = Decision(
        decision=event.decision,
        at=aware(f"{field}.at", event.at) if event.at is not None else as_of,
        proposal=event.proposal,
        note=event.note,
    )
    record.still_going(field, event.decision)
    if event.proposal is None:
        if event.decision != STOP:
            raise InputError(
                f"{field}.proposal",
                "the id of one of the plan's proposals (only stop needs none)",
                None,
            )
        record.decisions.append(decision)
        return
    proposal = record.proposals.get(event.proposal)
    if proposal is None:
        known = ", ".join(record.proposals) or "none yet"
        raise InputError(
            f"{field}.proposal", f"a proposal of plan {plan.id} ({known})", event.proposal
        )
    if proposal.decision is not None:
        expected = f"an open proposal ({proposal.id} was decided {proposal.decision.decision})"
        raise InputError(f"{field}.proposal", expected, event.proposal)
    if event.decision not in proposal.options:
        raise InputError(
            f"{field}.decision", f"one of {', '.join(proposal.options)}", event.decision
        )
    record.decisions.append(decision)
    record.proposals[proposal.id] = proposal.model_copy(update={"decision": decision})
    record.notes.append(f"decided ({proposal.id}): {event.decision}")
    if event.decision in ("step-back", "step-down"):
        _step(protocol, record, proposal, event.decision)  # to the proposal's tier, once


def moved_times(
    appointment: Appointment,
    start: dt.datetime,
    kind: SessionKind,
    *,
    units: Mapping[ResourceKind, int | None] | None = None,
    cause: str = MOVED_BY_REQUEST,
) -> dict[str, object]:
    """New start, end, dosing start, resource spans and reason for a move to ``start``.

    The block keeps its length in real elapsed time; dosing and each resource's span follow
    the protocol's timeline (:func:`ketaplan.rules.capacity.spans`), keeping the chair or room
    unless ``units`` gives others. The reason says ``cause`` (which begins with
    :data:`~ketaplan.plans.MOVED`, so that ``Appointment.moved`` sees it) and what it was
    before.
    """
    length = elapsed_hours(appointment.start, appointment.end)
    if units is None:
        units = {span.resource: span.unit for span in appointment.resources}
    dosing = dosing_start(kind, start)
    return {
        "start": start,
        "end": shift(start, hours=length),
        "dosing_start": dosing,
        "resources": spans(kind, start, units=units),
        "reason": f"{cause} to {start.isoformat()}; was: {appointment.reason}",
    }


def _frozen(
    applied: Applied,
    as_of: dt.datetime,
    *,
    order: dict[str, tuple[dt.datetime, str]],
    rules: Mapping[str, AnchoredSession],
    notes: list[str],
) -> list[Appointment]:
    """What the re-plan keeps as it is.

    The chain of phase sessions is kept up to its last session that is in the past, was named
    by an event, or did not take place as planned (attended, missed, cancelled by a person);
    everything after that point is planned again. A session an earlier re-plan cancelled as no
    longer needed is not history and sets no such point. Anchored sessions are kept with their
    anchor, unless the anchor moved (they are placed again after it), and when they are in the
    past or were changed themselves. A planned anchored session that a session moved by
    request now overlaps is placed again, around the move. So is one in the past, not
    recorded, whose anchor took place at another time that leaves it overlapping a moved
    session or outside its offset window (``rules.anchors.anchored_finding``): it cannot
    have taken place as planned. When no day of its window is left, it is kept, with a note
    asking for what happened (the re-plan does not say it was missed).

    The chain is read in the plan's ``order`` (its sessions' places before the events): a
    session moved past later ones does not keep them where they were; they follow it.
    """
    items = sorted(
        live(applied.appointments.values(), named=applied.touched), key=lambda a: (a.start, a.id)
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
    moved = [applied.appointments[i] for i in applied.moved]
    for appointment in items:
        if appointment.anchored is None:
            continue
        overlapped = any(m.start < appointment.end and appointment.start < m.end for m in moved)
        if appointment.status != "planned" or appointment.id in applied.touched:
            kept.add(appointment.id)
        elif appointment.start < as_of:
            why = _displaced(appointment, applied, rules, overlapped=overlapped)
            if why is None or why.latest < as_of.astimezone(zone(appointment.time_zone)).date():
                kept.add(appointment.id)
            if why is not None and appointment.id in kept:
                notes.append(why.note)
        elif overlapped:
            continue  # a session moved by request now overlaps it: placed again, around the move
        elif (
            appointment.anchor in kept and appointment.anchor not in applied.moved
        ) or appointment.anchored in (LAPSE, BOOSTER):  # a review before resuming stays
            kept.add(appointment.id)
    return [a for a in items if a.id in kept]


class _Displaced(NamedTuple):
    """A past anchored session its anchor's move displaced: the last day it may go, and why."""

    latest: dt.date
    note: str


def _displaced(
    appointment: Appointment,
    applied: Applied,
    rules: Mapping[str, AnchoredSession],
    *,
    overlapped: bool,
) -> _Displaced | None:
    """How a past, unrecorded anchored session was displaced by its anchor's move, if it was.

    Its anchor was attended (or moved) at another time, and it now overlaps a moved session
    or lies outside its offset window after the anchor: it cannot have taken place as planned.
    """
    anchor = applied.appointments.get(appointment.anchor or "")
    rule = rules.get(appointment.anchored or "")
    if anchor is None or rule is None or anchor.id not in applied.moved:
        return None
    if not overlapped and anchors.anchored_finding(rule, anchor, appointment) is None:
        return None
    local = zone(appointment.time_zone)
    planned = f"{fmt_day(appointment.local_date)} {appointment.start.astimezone(local):%H:%M}"
    took = f"{anchor.start.astimezone(local):%H:%M}-{anchor.end.astimezone(local):%H:%M}"
    note = (
        f"{appointment.id} was planned for {planned}, no longer {rule.offset.describe()} "
        f"after {anchor.id} as it took place ({took}): record when it took place, or that it "
        "did not"
    )
    return _Displaced(anchors.offset_window(rule, anchor).latest, note)


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
        merged[appointment.id] = with_revision(before, appointment)
    for appointment_id, before in old.items():
        if appointment_id in merged:
            continue
        current = applied[appointment_id]
        if current.status == "planned":
            current = current.model_copy(
                update={
                    "status": "cancelled",
                    "reason": f"{NO_LONGER_NEEDED}; was: {before.reason}",
                    "provisional": False,
                }
            )
        merged[appointment_id] = with_revision(before, current)
    return tuple(sorted(merged.values(), key=lambda a: (a.start, a.id)))


def _unique(notes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


_SIGNIFICANT = (
    "status",
    "provisional",
    "dose",
    "decided_dose",
    "location",
    "kind",
)


def _shown(appointment: Appointment) -> tuple[object, ...]:
    """What a calendar shows of ``appointment``, to compare two versions of it.

    Its times as instants (a repeated hour read back from a file is the same moment), its
    fields, and the words it tells the patient.
    """
    return (
        instant(appointment.start),
        instant(appointment.end),
        tuple(
            (r.resource, r.unit, instant(r.start), instant(r.end)) for r in appointment.resources
        ),
        *(getattr(appointment, name) for name in _SIGNIFICANT),
        said(appointment.instructions),
    )


def with_revision(before: Appointment, after: Appointment) -> Appointment:
    """``after`` with a higher revision than ``before`` when a calendar would show a change."""
    changed = _shown(before) != _shown(after)
    revision = before.revision + 1 if changed else before.revision
    if not changed:
        # Keep the earlier text too: only what a calendar shows decides a revision. What the
        # rules say of the session now (a rule a shift relaxed, its dose's number when the
        # text of the menu is the same) is kept up to date.
        current = {"shift": after.shift, "dose_number": after.dose_number}
        if any(getattr(before, name) != value for name, value in current.items()):
            return before.model_copy(update=current)
        return before
    update: dict[str, object] = {"revision": revision}
    if instant(before.start) == instant(after.start):
        update["booked_at"] = before.booked_at  # booked at this time then, not now
    return after.model_copy(update=update)
