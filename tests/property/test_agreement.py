"""The planner, the re-planner and ``check`` agree (issue 11): every error ``check`` finds in a
plan that ``plan()`` or ``replan()`` made, the planner or re-planner reported itself.

They report in two ways only: an appointment placed outside its window carries a ``shift``,
and what they could not do is a line in ``plan.notes``. A ``Moved`` event is the user's
choice: the moved appointment may break rules against what came before it. Every other error
is a rule written twice whose copies disagree. The inputs lean on the boundaries where copies
disagree: histories exactly at the lapse threshold, washouts and switch gaps that end on the
start date, missed last doses of a phase, re-plans on the day a lapse begins, and scores that
step a tier down and back up.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from hypothesis import event, find, given, note, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ketaplan import Clinic, Patient, Plan, Protocol, UnsatisfiableError, check
from ketaplan import strategies as kst
from ketaplan._types import Weekday
from ketaplan.plans import Appointment
from ketaplan.protocol import GapSequence, PerWeek
from ketaplan.replanning import (
    Assessed,
    Attended,
    Cancelled,
    Decided,
    Event,
    Missed,
    Moved,
    Requested,
    replan,
)
from ketaplan.violation import Violation
from tests.helpers import plan

OnConflict = Literal["raise", "shift"]

#: Codes a ``shift`` on the appointment ``check`` judges explains: ``on_conflict="shift"``
#: placed it outside its window, and said so.
SHIFT_EXCUSES = frozenset({"gap-above-maximum", "outside-window", "phase-deadline", "week-count"})

#: Codes a note explains, by a phrase in the note: the anchored session the planner places after
#: the chain (``which = "last"`` of an open-ended phase) had no slot.
NOTE_EXCUSES: dict[str, frozenset[str]] = {
    "cannot be placed": frozenset({"milestone-missing"}),
    "is not placed again": frozenset({"milestone-missing"}),  # a person cancelled it
    "review first": frozenset({"lapse-without-review"}),
    "re-induction first": frozenset({"lapse-without-review"}),
}

#: Codes a ``Moved`` event explains when the moved appointment breaks them against appointments
#: before it: the user chose that time. Never ``anchored-outside-window`` or
#: ``milestone-missing``: what is anchored to a moved dose moves with it.
MOVED_EXCUSES = frozenset(
    {
        # the calendar
        "clinic-closed",
        "outside-opening-hours",
        "outside-patient-availability",
        "patient-blackout",
        "no-prescriber",
        "patient-double-booked",
        "over-capacity",
        "chair-buffer",
        "same-day-exclusion",
        # the dose rules, judged at the moved dose against the doses before it
        "gap-above-maximum",
        "gap-below-absolute-minimum",
        "outside-window",
        "interval-too-short",
        "doses-same-day",
        "too-many-in-7-days",
        "week-count",
        "phase-deadline",
        "lapse-without-review",
    }
)

_DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# -- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One planning problem, shown in a falsifying example as the parts that matter."""

    protocol: Protocol
    clinic: Clinic
    patient: Patient | None
    start: dt.date
    on_conflict: OnConflict

    def __repr__(self) -> str:
        clinic = self.clinic
        shown = {
            "zone": clinic.time_zone,
            "open": {d: [str(r) for r in clinic.opening_hours.day(d)] for d in _DAYS
                     if clinic.opening_hours.day(d)},
            "chairs": clinic.resources.chairs,
            "holidays": clinic.holidays.country,
            "closures": [[c.start.isoformat(), c.last.isoformat()] for c in clinic.closures],
            "switch_gap_days": clinic.switch_gap_days,
            "washouts": [[r.medication, r.stop_days_before_start] for r in clinic.medication_rules],
        }  # fmt: skip
        patient = None
        if self.patient is not None:
            patient = self.patient.model_dump(
                mode="json", exclude_defaults=True, exclude={"id", "enrollments"}
            )
        return (
            f"Case(protocol={describe(self.protocol)}, start={self.start:%a %Y-%m-%d}, "
            f"on_conflict={self.on_conflict!r}, clinic={json.dumps(shown)}, "
            f"patient={json.dumps(patient)})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # Hypothesis would otherwise print every field in full


def describe(protocol: Protocol) -> str:
    """A built-in's id, or a generated protocol's phases and rules on one line."""
    if protocol.id != "generated":
        return protocol.id
    phases = []
    for phase in protocol.phases:
        cadence = protocol.cadence(phase)
        if isinstance(cadence, GapSequence):
            steps = [
                f"{s.gap.absolute_minimum}/{s.gap.minimum}/{s.gap.target}/{s.gap.maximum}"
                + (f"x{s.repeat}" if s.repeat else "")
                for s in cadence.steps
            ]
            how = "gaps " + ",".join(steps)
        else:
            how = f"{cadence.sessions}/week" if isinstance(cadence, PerWeek) else "once"
        entry = getattr(phase.start, "gap", None)
        after = f" after {entry.minimum}-{entry.maximum}d" if entry is not None else ""
        within = f" within {phase.within_days}d" if phase.within_days else ""
        phases.append(f"{phase.id} x{phase.count or 'open'}{after} {how}{within}")
    rules = protocol.rules.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return f"generated({'; '.join(phases)}; rules={rules}; anchored={len(protocol.anchored)})"


#: A ladder of tiers for generated protocols, most frequent first (as the protocol lists them).
_TIERS = [
    {"id": "twice-weekly", "name": "Twice weekly",
     "cadence": {"type": "per-week", "sessions": 2, "min_gap_days": 2}},
    {"id": "weekly", "name": "Weekly",
     "cadence": {"type": "per-week", "sessions": 1, "min_gap_days": 2}},
    {"id": "every-2-weeks", "name": "Every 2 weeks",
     "cadence": {"type": "gap-sequence", "steps": [{"gap": {
         "absolute_minimum": 10, "minimum": 12, "target": 14, "maximum": 17}}]}},
]  # fmt: skip


@st.composite
def agreement_protocols(draw: st.DrawFn) -> Protocol:
    """Built-ins and generated protocols; a generated one may have a lapse rule, and its last
    phase (after the first) may use a tier with a response rule on ``PHQ-9``."""
    protocol = draw(kst.protocols())
    if protocol.id != "generated":
        return protocol
    data = protocol.model_dump(exclude_none=True)
    if len(data["phases"]) > 1 and draw(st.booleans()):
        last = data["phases"][-1]
        tier = draw(st.sampled_from([t["id"] for t in _TIERS]))
        last.pop("cadence")
        last["tier"] = tier
        last["tier_choices"] = [t["id"] for t in _TIERS if t["id"] != tier]
        data["tiers"] = _TIERS
        low = draw(st.sampled_from([5, 9]))
        data["response"] = [
            {
                "id": "response",
                "phase": last["id"],
                "scale": "PHQ-9",
                "step_down_at_or_below": low,
                "step_up_above": draw(st.sampled_from([low, 9, 14])) if low < 9 else 9,
                "after_consecutive": draw(st.sampled_from([1, 2])),
                "automatic": draw(st.booleans()),
            }
        ]
        data["rules"]["worsening"] = draw(st.sampled_from(["propose", "automatic"]))
    if len(data["phases"]) > 1:
        # Issue 12: a later phase for responders only, and boosters a patient may ask for.
        last = data["phases"][-1]
        last["responders_only"] = draw(st.booleans())
        if draw(st.booleans()):
            data["boosters_on_request"] = {"phase": last["id"], "evaluation": "review"}
    if draw(st.booleans()):
        # A lapse the protocol's own gaps reach is invalid: land on that boundary or above it.
        longest = Protocol.model_validate(data).longest_gap_days()
        data["rules"]["lapse"] = {
            "after_days": draw(st.sampled_from([longest, longest + 1, max(longest, 28)])),
            "requires": draw(st.sampled_from(["review", "re-induction"])),
            "during_induction": draw(st.sampled_from(["resume", "re-induce"])),
            "session": "review",
        }
    return Protocol.model_validate(data)


@st.composite
def cases(draw: st.DrawFn, on_conflict: OnConflict | None = None) -> Case:
    """A protocol, a clinic that may set switch and washout rules, a start, and a patient whose
    history and medications sit on those rules' boundaries for that start."""
    protocol = draw(agreement_protocols())
    clinic = draw(kst.clinics(switch_gap=draw(st.booleans()), washouts=draw(st.booleans())))
    start = draw(kst.start_dates())
    patient = draw(
        st.one_of(kst.patients(relative_to=start, protocol=protocol, clinic=clinic), st.none())
    )
    chosen: OnConflict = (
        on_conflict if on_conflict is not None else draw(st.sampled_from(["raise", "shift"]))
    )
    return Case(protocol, clinic, patient, start, chosen)


def make(case: Case) -> Plan:
    """``plan()`` for the case; a case it cannot plan is rejected."""
    if case.protocol.id == "generated":
        note(f"protocol: {case.protocol.model_dump_json(exclude_defaults=True)}")
    try:
        made = plan(
            case.protocol,
            start=case.start,
            clinic=case.clinic,
            patient=case.patient,
            until=case.start + dt.timedelta(days=150),
            preferred_time=dt.time(9),
            on_conflict=case.on_conflict,
        )
    except UnsatisfiableError:
        event("rejected: plan() unsatisfiable")
        reject()
    return made


def unexplained(made: Plan, case: Case, moved: frozenset[str] = frozenset()) -> list[Violation]:
    """The errors ``check`` finds that no shift, note or (``moved``) user's choice explains."""
    found = check(made, protocol=case.protocol, clinic=case.clinic, patient=case.patient)
    by_id = {a.id: a for a in made.appointments}
    left = []
    for violation in found:
        if violation.severity != "error" or _noted(violation, made.notes):
            continue
        judged = by_id.get(violation.appointments[-1]) if violation.appointments else None
        if judged is not None and judged.shift is not None and violation.code in SHIFT_EXCUSES:
            continue
        if violation.code in MOVED_EXCUSES and _moved_against_earlier(violation, by_id, moved):
            continue
        left.append(violation)
    return left


def _moved_against_earlier(
    violation: Violation, by_id: dict[str, Appointment], moved: frozenset[str]
) -> bool:
    """Whether the violation is between a moved appointment and appointments before it."""
    involved = [by_id[i] for i in violation.appointments if i in by_id]
    mine = [a.start for a in involved if a.id in moved]
    return bool(mine) and all(a.id in moved or a.start <= max(mine) for a in involved)


def explain(found: Sequence[Violation]) -> str:
    return "\n".join(f"{v.code}: {v.message} [{', '.join(v.appointments)}]" for v in found)


def _show(made: Plan) -> str:
    return ", ".join(
        f"{a.id} {a.local_start:%a %Y-%m-%d %H:%M}"
        + ("" if a.status == "planned" else f" {a.status}")
        + (" (shift)" if a.shift else "")
        for a in made.appointments
    )


# -- property (a): plan() --------------------------------------------------------------------


def _noted(violation: Violation, notes: Sequence[str]) -> bool:
    """Whether a note explains ``violation``: a phrase for its code, naming its appointments.

    A week a re-plan kept short (its sessions were kept as they happened, or moved by request)
    is named in a note by the words ``check`` uses for it; so is what the rules now say of a
    session the re-plan kept as it happened.
    """
    if f"kept as it is: {violation.message}" in notes:
        return True
    if violation.code == "week-count":
        week = re.search(r"the week from .* session\(s\)", violation.message)
        if week and any(week.group(0) in line for line in notes):
            return True
    for phrase, codes in NOTE_EXCUSES.items():
        if violation.code not in codes:
            continue
        for line in notes:
            named = all(re.search(rf"\b{re.escape(i)}\b", line) for i in violation.appointments)
            if phrase in line and named:
                return True
    return False


def plan_errors(case: Case) -> list[Violation]:
    """The errors ``check`` finds in the case's plan that the planner did not report."""
    made = make(case)
    note(f"plan: {_show(made)}\nnotes: {list(made.notes)}")
    return unexplained(made, case)


@given(case=cases())
def test_check_finds_no_error_the_planner_did_not_report(case: Case) -> None:
    left = plan_errors(case)
    assert not left, explain(left)


# -- property (b): replan() ------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    """One re-plan: what happened, and when the re-plan is made."""

    as_of: dt.datetime
    events: tuple[Event, ...]

    def __repr__(self) -> str:
        shown = []
        for item in self.events:
            if isinstance(item, Assessed):
                shown.append(f"Assessed({item.on}, {item.scale}={item.score:g})")
            elif isinstance(item, Moved):
                shown.append(f"Moved({item.appointment} -> {item.to:%a %Y-%m-%d %H:%M})")
            elif isinstance(item, Missed):
                shown.append(f"Missed({item.appointment}{', worsening' * item.worsening})")
            elif isinstance(item, Decided):
                shown.append(f"Decided({item.proposal}={item.decision})")
            elif isinstance(item, Requested):
                shown.append(f"Requested({item.on})")
            else:
                shown.append(f"{type(item).__name__}({item.appointment})")
        return f"Round(as_of={self.as_of:%a %Y-%m-%d %H:%M %Z}, events=[{', '.join(shown)}])"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


#: An event about an appointment.
Happened = Attended | Missed | Cancelled | Moved

#: What happens to a dose, simplest first; a move only ends a round.
_KINDS = ("attended", "missed", "missed-worsening", "cancelled", "moved")


def _moves(appointment: Appointment, clinic: Clinic) -> list[dt.datetime]:
    """Where a receptionist might move an appointment: 1 to 3 days later at an hour the clinic
    is open, or another open hour of the same day (the next day first)."""
    zone = appointment.local_start.tzinfo
    length = appointment.end - appointment.start
    found = []
    for days in (1, 2, 3, 0):
        day = appointment.local_date + dt.timedelta(days=days)
        for hours in clinic.opening_hours.on(day):
            clock = dt.datetime.combine(day, hours.start, tzinfo=zone)
            while clock + length <= dt.datetime.combine(day, hours.end, tzinfo=zone):
                if clock != appointment.local_start:
                    found.append(clock)
                clock += dt.timedelta(hours=1)
    return found


def _last_of_phase(made: Plan) -> set[str]:
    last: dict[str, str] = {}
    for appointment in sorted(made.appointments, key=lambda a: a.start):
        if appointment.anchored is None:
            last[appointment.phase] = appointment.id
    return set(last.values())


@st.composite
def rounds(draw: st.DrawFn, made: Plan, case: Case, after: dt.datetime | None) -> Round:
    """What happened to the plan's next appointments (from ``after`` on), in time order.

    The next doses get an event each: attended, missed with or without worsening, cancelled,
    or, last, moved; the last is often the last dose of its phase. ``as_of`` comes soon after
    the last of them, or on the day a lapse begins or the day after; after a move, before the
    moved appointment. Every other appointment before ``as_of`` happened too: anchored sessions
    attended, doses missed. Scores on the protocol's response scales step tiers down and up.
    Shrinks toward one attended dose and a re-plan soon after it.
    """
    upcoming = sorted(
        (a for a in made.appointments
         if a.status == "planned" and (after is None or a.start >= after)),
        key=lambda a: (a.start, a.id),
    )  # fmt: skip
    doses = [a for a in upcoming if a.anchored is None]
    if not doses:
        reject()
    # The last event lands on a phase's last dose (or just after it) as often as not.
    ends = _last_of_phase(made)
    edges = [n + 1 + k for n, a in enumerate(doses) if a.id in ends for k in (0, 1, 2)]
    count = draw(
        st.one_of(
            st.integers(1, min(len(doses), 10)),
            st.sampled_from([n for n in edges if n <= len(doses)] or [1]),
        )
    )
    kinds = [draw(st.sampled_from(_KINDS[:-1])) for _ in range(count - 1)]
    kinds.append(draw(st.sampled_from(_KINDS)))
    happened = [
        _event(draw, appointment, kind, case.clinic)
        for appointment, kind in zip(doses, kinds, strict=False)
    ]
    last = happened[-1]
    if isinstance(last, Moved):
        moved = made.appointment(last.appointment)
        before = min(moved.start, last.to) - dt.timedelta(hours=draw(st.integers(1, 24)))
        floor = doses[len(happened) - 2].end if len(happened) > 1 else (after or before)
        as_of = max(before, floor)
    else:
        as_of = draw(st.sampled_from(_moments(draw, made, case, upcoming, happened)))
    events: list[Event] = [*happened, *_the_rest(upcoming, happened, as_of)]
    zone = doses[0].local_start.tzinfo
    for rule in case.protocol.response:
        scores = [rule.step_down_at_or_below, rule.step_up_above + 1,
                  rule.step_down_at_or_below - 1, rule.step_up_above]  # fmt: skip
        for _ in range(draw(st.integers(0, 2))):
            on = as_of.astimezone(zone).date() - dt.timedelta(days=draw(st.integers(0, 3)))
            events.append(Assessed(on=on, scale=rule.scale, score=draw(st.sampled_from(scores))))
    # Issue 12: the clinician answers some of the proposals earlier rounds raised, any way (a
    # stopped course takes no more decisions, and a booster request waits for its answer).
    stopped = any(d.decision == "stop" for d in made.decisions)
    waiting = any(p.id.startswith("booster-") and p.decision is None for p in made.proposals)
    if case.protocol.boosters_on_request and not (stopped or waiting) and draw(st.booleans()):
        events.append(Requested())  # the patient asks for a booster
    for proposal in made.proposals:
        if not stopped and proposal.decision is None and draw(st.booleans()):
            decision = draw(st.sampled_from(proposal.options))
            events.append(Decided(proposal=proposal.id, decision=decision))
            stopped = decision == "stop"
    return Round(as_of=as_of, events=tuple(sorted(events, key=_in_time(made))))


def _event(draw: st.DrawFn, appointment: Appointment, kind: str, clinic: Clinic) -> Happened:
    if kind == "moved":
        options = _moves(appointment, clinic)
        if options:
            return Moved(appointment=appointment.id, to=draw(st.sampled_from(options)))
    if kind == "cancelled":
        return Cancelled(appointment=appointment.id)
    if kind.startswith("missed"):
        return Missed(appointment=appointment.id, worsening=kind == "missed-worsening")
    return Attended(appointment=appointment.id)


def _moments(
    draw: st.DrawFn, made: Plan, case: Case, upcoming: list[Appointment], events: list[Happened]
) -> list[dt.datetime]:
    """When to re-plan after the events: soon after the last, before the next appointment;
    with a lapse rule, also the evening of the day a lapse begins and of the day after."""
    done = made.appointment(events[-1].appointment).end
    named = {e.appointment for e in events}
    soon = done + dt.timedelta(hours=draw(st.integers(1, 72)))
    following = [a for a in upcoming if a.start >= done and a.id not in named]
    if following:
        soon = min(soon, done + (following[0].start - done) / 2)
    found = [soon]
    lapse = case.protocol.rules.lapse
    attended = [made.appointment(e.appointment) for e in events if isinstance(e, Attended)]
    attended += [a for a in made.appointments if a.status == "attended"]
    attended = [a for a in attended if a.is_dose]
    if lapse is not None and attended:
        last = max(attended, key=lambda a: a.start)
        for extra in (0, 1):
            day = last.local_date + dt.timedelta(days=lapse.after_days + extra)
            evening = dt.datetime.combine(day, dt.time(19), tzinfo=last.local_start.tzinfo)
            if evening > done:
                found.append(evening)
    return found


def _the_rest(
    upcoming: list[Appointment], events: list[Happened], as_of: dt.datetime
) -> list[Happened]:
    """Events for the appointments before ``as_of`` that have none: anchored sessions were
    attended (the re-planner cancels those of missed or cancelled doses), doses were missed."""
    named = {e.appointment for e in events}
    gone = {e.appointment for e in events if isinstance(e, Missed | Cancelled)}
    rest: list[Happened] = []
    for appointment in upcoming:
        if appointment.id in named or appointment.start >= as_of:
            continue
        if appointment.anchored is None:
            rest.append(Missed(appointment=appointment.id))
            gone.add(appointment.id)
        elif appointment.anchor not in gone:
            rest.append(Attended(appointment=appointment.id))
    return rest


def _in_time(made: Plan) -> Callable[[Event], dt.datetime]:
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return lambda e: (
        far
        if isinstance(e, Assessed | Decided | Requested)
        else made.appointment(e.appointment).start
    )


def _upcoming_doses(made: Plan, after: dt.datetime | None) -> bool:
    """Whether a chain session is still planned (from ``after`` on) for a round to act on.

    Checked before drawing a round: rejecting inside the draw makes Hypothesis describe the
    strategy, plan and all, which is a warning (and so an error) for plans this long.
    """
    return any(
        a.status == "planned" and a.anchored is None and (after is None or a.start >= after)
        for a in made.appointments
    )


def replan_errors(case: Case, data: st.DataObject) -> tuple[list[Round], list[Violation]]:
    """Re-plan the case's plan once or twice, up to the first re-plan in which ``check`` finds
    an error the re-planner did not report: the rounds, and those errors (or none)."""
    made = make(case)
    if unexplained(made, case):
        event("rejected: the plan itself disagrees")
        reject()  # the planner's own disagreement: property (a) reports it
    after: dt.datetime | None = None
    done: list[Round] = []
    for number in range(1, data.draw(st.integers(1, 2), label="rounds") + 1):
        if not _upcoming_doses(made, after):
            break  # nothing left to happen: the rounds so far are the example
        happened = data.draw(rounds(made, case, after), label=f"round {number}")
        done.append(happened)
        try:
            made = replan(
                made,
                as_of=happened.as_of,
                events=happened.events,
                protocol=case.protocol,
                clinic=case.clinic,
                patient=case.patient,
                on_conflict=case.on_conflict,
            )
        except UnsatisfiableError:
            event("rejected: replan() unsatisfiable")
            reject()
        note(f"round {number}: tiers {made.tiers}\nplan: {_show(made)}\nnotes: {list(made.notes)}")
        moved = frozenset(e.appointment for e in happened.events if isinstance(e, Moved))
        left = unexplained(made, case, moved)
        if left:
            return done, left
        after = happened.as_of
    return done, []


@given(case=cases(on_conflict="raise"), data=st.data())
def test_check_finds_no_error_the_replanner_did_not_report(case: Case, data: st.DataObject) -> None:
    done, left = replan_errors(case, data)
    assert not left, f"after round {len(done)}:\n{explain(left)}"


@given(case=cases(on_conflict="shift"), data=st.data())
def test_check_finds_no_error_the_shifting_replanner_did_not_report(
    case: Case, data: st.DataObject
) -> None:
    done, left = replan_errors(case, data)
    assert not left, f"after round {len(done)}:\n{explain(left)}"


# -- the boundaries are generated ------------------------------------------------------------

FIND = settings(max_examples=2000, database=None)
START = dt.date(2026, 3, 2)
SWITCHING = Clinic.model_validate(
    {
        "id": "switching",
        "name": "Switching Clinic",
        "time_zone": "America/New_York",
        "opening_hours": {day: ["08:00-18:00"] for day in _DAYS[:5]},
        "switch_gap_days": 14,
        "medication_rules": [{"id": "maoi", "medication": "maoi", "severity": "hold",
                              "stop_days_before_start": 10, "source": "invita-maoi"}],
    }
)  # fmt: skip


def _offsets(patient: Patient) -> set[tuple[str, int]]:
    """Each boundary date as its distance from the threshold: ``("esketamine", 0)`` is a last
    session exactly ``after_days`` (28) days before the start."""
    threshold = {"esketamine": 28, "ketamine": 14}
    found: set[tuple[str, int]] = {
        (s.product, (START - s.date).days - threshold[s.product]) for s in patient.history
    }
    return found | {("washout", (START - m.stop).days - 10) for m in patient.medications if m.stop}


@given(kst.patients(relative_to=START, protocol="esketamine-trd", clinic=SWITCHING))
def test_boundary_patients_sit_on_the_boundaries(patient: Patient) -> None:
    allowed = {("esketamine", n) for n in (-1, 0, 1, 2, 3)}
    allowed |= {(what, n) for what in ("ketamine", "washout") for n in (-1, 0, 1)}
    assert _offsets(patient) <= allowed
    assert all(m.stop for m in patient.medications if m.name == "phenelzine")


@pytest.mark.parametrize(
    "boundary",
    [("esketamine", 3), ("ketamine", -1), ("washout", 1)],
)  # fmt: skip
def test_every_boundary_is_generated(boundary: tuple[str, int]) -> None:
    strategy = kst.patients(relative_to=START, protocol="esketamine-trd", clinic=SWITCHING)
    assert boundary in _offsets(find(strategy, lambda p: boundary in _offsets(p), settings=FIND))


def test_boundaries_shrink_to_the_threshold() -> None:
    strategy = kst.patients(relative_to=START, protocol="esketamine-trd", clinic=SWITCHING)
    for what in ("esketamine", "ketamine", "washout"):

        def has(patient: Patient, what: str = what) -> bool:
            return any(kind == what for kind, _ in _offsets(patient))

        assert (what, 0) in _offsets(find(strategy, has, settings=FIND))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: kst.patients(relative_to=START),
         "protocol=None: must be the plan's protocol when relative_to is given"),
        (lambda: kst.patients(relative_to=START, protocol="nope"),
         "protocol='nope': must be a built-in id"),
        (lambda: kst.patients(relative_to="2026-03-02",  # type: ignore[arg-type]
                              protocol="esketamine-trd"),
         "relative_to='2026-03-02': must be a date or a strategy of dates"),
        (lambda: kst.clinics(switch_gap="yes"),  # type: ignore[arg-type]
         "switch_gap='yes': must be True or False"),
        (lambda: kst.clinics(washouts=1),  # type: ignore[arg-type]
         "washouts=1: must be True or False"),
    ],
)  # fmt: skip
def test_bad_boundary_arguments_name_argument_and_value(build: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        build()
