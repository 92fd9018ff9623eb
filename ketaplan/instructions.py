"""Patient instructions with exact local times, and staff tasks with due dates."""

from __future__ import annotations

import datetime as dt
import typing
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, TypeVar

from ketaplan._text import fmt_day, fmt_time
from ketaplan.clinic import Clinic
from ketaplan.decisions import Proposal
from ketaplan.holds import (
    SEIZURE_POSSIBLE,
    dosing_span,
    hold_instruction,
    hold_state,
    seizure_exemption,
)
from ketaplan.medications import NO_RULE, MedicationRules, medication_rules
from ketaplan.patient import Medication, Patient
from ketaplan.plans import Appointment, Instruction, InstructionKind, Task
from ketaplan.protocol import HoldRule, Instructions, Protocol, SessionKind
from ketaplan.rules import anchors
from ketaplan.rules.chain import Chain, course_prefix
from ketaplan.rules.course import Course
from ketaplan.rules.tasks import (
    checkpoint_minutes,
    checkpoint_times,
    decision_task_id,
    form_task_id,
    hold_task_id,
    monitoring_task_id,
    requirement_task_id,
    unmet_requirements,
)
from ketaplan.timing import instant, same_instant, shift, zone

__all__ = [
    "MEDICATION_KINDS",
    "VISIT_GAP",
    "Visits",
    "Words",
    "current_instructions",
    "instructions_for",
    "said",
    "says",
    "session_instructions",
    "session_words",
    "tasks_for",
    "visit_end",
]


def instructions_for(
    appointment: Appointment,
    kind: SessionKind,
    protocol: Protocol,
    *,
    patient: Patient | None = None,
    medications: MedicationRules | None = None,
    visit: Sequence[Appointment] | Visits = (),
) -> tuple[Instruction, ...]:
    """What the patient must do around ``appointment``, with local times.

    Fasting and nasal-spray deadlines count back from the start of dosing (the label's
    "before administration"); driving restrictions count from the end of the session; medication
    holds name each scheduled dose to skip and when to resume. ``visit``: the patient's other
    appointments, so that the ride home is arranged for the end of the whole visit
    (:func:`visit_end`: a review right after the dose, say).
    """
    own = session_instructions(appointment, kind, visit=visit)
    if patient is None or not patient.medications:
        return own  # no medicine to hold
    dosing = dosing_span(appointment, kind)
    if dosing is None:
        return own
    out = list(own)
    chosen = medications or medication_rules(protocol)
    for medication in patient.medications:
        for rule in chosen.matching(medication):
            if rule.severity != "hold" or hold_state(medication, rule, chosen) != "hold":
                continue
            held = hold_instruction(medication, rule, dosing)
            if held is not None:
                out.append(held)
    return tuple(out)


#: What :func:`hold_instruction` writes: the medication rule's words, not the session's.
MEDICATION_KINDS = frozenset({"medication-hold", "medication-resume"})


def session_instructions(
    appointment: Appointment, kind: SessionKind, *, visit: Sequence[Appointment] | Visits = ()
) -> tuple[Instruction, ...]:
    """The session's own instructions (fasting, nasal spray, ride home, driving), no medicines.

    They follow from its times and its visit alone: ``check`` compares a plan's with these.
    """
    return _session(appointment, kind, visit, _instruction)


class Words(NamedTuple):
    """What one instruction says: the fields of an :class:`~ketaplan.plans.Instruction`."""

    kind: InstructionKind
    text: str
    at: dt.datetime
    until: dt.datetime | None
    source: str | None


def session_words(
    appointment: Appointment, kind: SessionKind, *, visit: Sequence[Appointment] | Visits = ()
) -> tuple[Words, ...]:
    """What :func:`session_instructions` says, as :class:`Words` (to compare, not to keep)."""
    return _session(appointment, kind, visit, Words)


def _instruction(
    kind: InstructionKind,
    text: str,
    at: dt.datetime,
    until: dt.datetime | None,
    source: str | None,
) -> Instruction:
    # Written from a validated protocol and appointment: not validated again.
    if until is None:
        return Instruction.trusted(kind=kind, at=at, text=text, source=source)
    return Instruction.trusted(kind=kind, at=at, until=until, text=text, source=source)


_Said = TypeVar("_Said", Instruction, Words)
#: What a builder makes its instruction with: :func:`_instruction` or :class:`Words`.
_Make = Callable[[InstructionKind, str, dt.datetime, dt.datetime | None, str | None], _Said]


def _session(
    appointment: Appointment,
    kind: SessionKind,
    visit: Sequence[Appointment] | Visits,
    make: _Make[_Said],
) -> tuple[_Said, ...]:
    """What each builder says of the session, made with ``make``."""
    local = zone(appointment.time_zone)
    rules = kind.instructions
    times = _Times(
        start=appointment.start.astimezone(local),
        dosing=(appointment.dosing_start or appointment.start).astimezone(local),
        end=appointment.end.astimezone(local),
        home=visit_end(appointment, visit).astimezone(local),
        source=rules.source,
        fasting_source=rules.fasting_source or rules.source,
        driving_source=rules.driving_source or rules.source,
    )
    return tuple(made for build in _BUILDERS if (made := build(rules, times, make)) is not None)


#: What an instruction tells the patient: each field, and whether it is a moment (compared as
#: an instant: the second 01:15 of a fall-back night read back from a file is the same moment).
_TOLD: tuple[tuple[str, bool], ...] = (
    ("kind", False), ("text", False), ("at", True), ("until", True), ("source", False),
)  # fmt: skip


def said(instructions: Iterable[Instruction]) -> tuple[tuple[object, ...], ...]:
    """What ``instructions`` tell the patient, each moment as an instant (:func:`instant`)."""
    return tuple(
        tuple(instant(getattr(i, name)) if moment else getattr(i, name) for name, moment in _TOLD)
        for i in instructions
    )


def says(instructions: Sequence[Instruction], words: Sequence[Instruction | Words]) -> bool:
    """Whether ``instructions`` tell the patient ``words``: their :func:`said` are equal.

    Compared field by field, moments by :func:`~ketaplan.timing.same_instant`, without
    converting the moments that are already alike.
    """
    return len(instructions) == len(words) and all(
        same_instant(getattr(told, name), getattr(due, name))
        if moment
        else getattr(told, name) == getattr(due, name)
        for told, due in zip(instructions, words, strict=True)
        for name, moment in _TOLD
    )


def current_instructions(
    appointment: Appointment,
    protocol: Protocol,
    *,
    patient: Patient | None,
    medications: MedicationRules | None,
    visit: Sequence[Appointment] | Visits,
    since: dt.datetime,
) -> Appointment:
    """``appointment`` with the instructions it calls for now, if it is planned from ``since``.

    A session kept through a re-plan keeps its words only while they still hold: the ride home
    is arranged for the end of its visit as it now is. What took place, or was to take place
    before ``since``, is the record and is returned as it is; so is an appointment whose words
    are already right (the same object: nothing to revise).
    """
    if appointment.status != "planned" or appointment.start < since:
        return appointment
    kind = protocol.session_kind(appointment.session)
    instructions = instructions_for(
        appointment, kind, protocol, patient=patient, medications=medications, visit=visit
    )
    if says(appointment.instructions, instructions):
        return appointment
    return appointment.model_copy(update={"instructions": instructions})


#: Appointments of one patient this close (start after the previous end) make one visit: the
#: patient stays in between. No source gives a figure; a tolerance.
VISIT_GAP = dt.timedelta(minutes=60)


def visit_end(appointment: Appointment, others: Sequence[Appointment] | Visits) -> dt.datetime:
    """The end of the visit ``appointment`` begins or is part of.

    The visit is it and every active appointment of ``others`` that follows on within
    :data:`VISIT_GAP`, one after another. For many appointments of one plan, give ``others``
    as :class:`Visits` (sorted once).
    """
    visits = others if isinstance(others, Visits) else Visits(others)
    end = appointment.end.astimezone(dt.UTC)
    starts, ends = visits.starts, visits.ends
    for index in range(bisect_left(starts, end), len(starts)):
        if starts[index] - end > VISIT_GAP:
            break
        end = max(end, ends[index])
    return end


class Visits:
    """A plan's active appointments in order of start (UTC), to find where visits end."""

    def __init__(self, appointments: Sequence[Appointment]) -> None:
        times = sorted(
            (a.start.astimezone(dt.UTC), a.end.astimezone(dt.UTC))
            for a in appointments
            if a.is_active
        )
        self.starts = [start for start, _ in times]
        self.ends = [end for _, end in times]


class _Builder(typing.Protocol):
    """One instruction builder: what it says of a session if its rule applies, by ``make``."""

    def __call__(
        self, rules: Instructions, times: _Times, make: _Make[_Said], /
    ) -> _Said | None: ...


class _Times(NamedTuple):
    """A session's moments in its own zone, and the sources of its instructions."""

    start: dt.datetime
    dosing: dt.datetime
    end: dt.datetime
    home: dt.datetime
    """When the patient leaves: the end of the last appointment of the visit."""
    source: str | None
    fasting_source: str | None
    driving_source: str | None


def _fasting_solids(rules: Instructions, times: _Times, make: _Make[_Said]) -> _Said | None:
    """No food from ``fasting_solids_hours`` before dosing (the label's "before administration").

    Where only clear liquids are allowed after it, no milk either.
    """
    hours = rules.fasting_solids_hours
    if hours is None:
        return None
    at = shift(times.dosing, hours=-hours)
    what = "food or milk" if rules.liquids_after_food_cutoff == "clear" else "food"
    text = f"No {what} after {fmt_time(at)} ({hours:g} h before dosing)."
    return make("fasting-solids", text, at, None, times.fasting_source)


def _fasting_liquids(rules: Instructions, times: _Times, make: _Make[_Said]) -> _Said | None:
    """Nothing to drink from ``fasting_liquids_hours`` before dosing.

    Before that, clear liquids only where the source says so.
    """
    hours = rules.fasting_liquids_hours
    if hours is None:
        return None
    at = shift(times.dosing, hours=-hours)
    if rules.liquids_after_food_cutoff == "clear":
        text = (
            f"Clear liquids only (no milk) until {fmt_time(at)}, then nothing to drink "
            f"({hours:g} h before dosing)."
        )
    else:
        text = f"No liquids after {fmt_time(at)} ({hours:g} h before dosing)."
    return make("fasting-liquids", text, at, None, times.fasting_source)


def _nasal_spray(rules: Instructions, times: _Times, make: _Make[_Said]) -> _Said | None:
    minutes = rules.nasal_spray_minutes_before
    if minutes is None:
        return None
    at = shift(times.dosing, minutes=-minutes)
    text = (
        "If you use a nasal corticosteroid or decongestant that day, take it by "
        f"{fmt_time(at)} (at least {minutes} min before dosing)."
    )
    return make("nasal-spray", text, at, None, times.source)


def _escort(rules: Instructions, times: _Times, make: _Make[_Said]) -> _Said | None:
    if not rules.escort_required:
        return None
    text = f"Arrange your transportation home for about {fmt_time(times.home)}."
    return make("escort", text, times.home, None, times.driving_source)


def _no_driving_overnight(rules: Instructions, times: _Times, make: _Make[_Said]) -> _Said | None:
    if not rules.no_driving_until_next_day:
        return None
    next_day = times.end.date() + dt.timedelta(days=1)
    text = f"Do not drive or operate machinery until {fmt_day(next_day)}, after a restful sleep."
    return make("no-driving", text, times.end, None, times.driving_source)


def _no_driving_hours(rules: Instructions, times: _Times, make: _Make[_Said]) -> _Said | None:
    hours = rules.no_driving_hours
    if hours is None:
        return None
    until = shift(times.end, hours=hours)
    text = f"Do not drive until {fmt_time(until)} ({hours} h after)."
    return make("no-driving", text, times.end, until, times.driving_source)


def _peer_monitor(rules: Instructions, times: _Times, make: _Make[_Said]) -> _Said | None:
    if not rules.peer_monitor_required:
        return None
    text = "Another adult must be with you for the whole session."
    return make("peer-monitor", text, times.start, None, times.source)


#: One builder per instruction field, in the order the patient reads them.
_BUILDERS: tuple[_Builder, ...] = (
    _fasting_solids,
    _fasting_liquids,
    _nasal_spray,
    _escort,
    _no_driving_overnight,
    _no_driving_hours,
    _peer_monitor,
)


def tasks_for(
    protocol: Protocol,
    appointments: Sequence[Appointment],
    *,
    clinic: Clinic,
    patient: Patient | None,
    medications: MedicationRules | None = None,
    proposals: Sequence[Proposal] = (),
) -> tuple[tuple[Task, ...], tuple[str, ...]]:
    """Staff tasks (forms, requirements to confirm, monitoring, checkpoints, decisions), notes."""
    tasks = _decision_tasks(proposals) + _checkpoint_tasks(protocol, appointments)
    notes: list[str] = []
    chosen = medications or medication_rules(protocol, clinic)
    if patient is not None:
        tasks += _monitoring_tasks(appointments, patient, chosen)
        tasks += _hold_tasks(appointments, patient, chosen)
        notes += _medication_notes(patient, chosen)
    active = [a for a in appointments if a.is_active]
    courses = Chain.courses(Course(protocol), appointments)
    for chain in courses if protocol.tasks else ():
        prefix = course_prefix(chain.sessions[0].id)
        mine = [a for a in active if course_prefix(a.id) == prefix]
        for rule in protocol.tasks:
            tasks += [
                Task.trusted(  # from the validated protocol and plan: not validated again
                    id=form_task_id(rule.id, appointment.id),
                    title=rule.title,
                    due=appointment.local_date + dt.timedelta(days=rule.due_within_days),
                    kind=rule.kind,
                    appointment=appointment.id,
                    source=rule.source,
                )
                for appointment in anchors.selected(
                    rule.after, chain, chain_is="complete", among=mine
                )
            ]
    first_dose = next((a for a in active if a.is_dose), None)
    unmet = []
    if first_dose is not None:
        unmet = unmet_requirements(protocol, clinic, patient, unknown="unmet")
    for requirement in unmet:
        assert first_dose is not None  # noqa: S101 - no unmet requirement without a first dose
        tasks.append(
            Task(
                id=requirement_task_id(requirement.id),
                title=f"Confirm before the first dose: {requirement.description}",
                due=first_dose.local_date,
                kind="requirement",
                appointment=first_dose.id,
                source=requirement.source,
            )
        )
        who = "the clinic" if requirement.holder == "clinic" else "the patient"
        notes.append(
            f"{who} does not list {requirement.credential!r}: {requirement.description} "
            f"(before {fmt_day(first_dose.local_date)})"
        )
    tasks.sort(key=_task_order)
    return tuple(tasks), tuple(notes)


def _task_order(task: Task) -> tuple[dt.date, float, bool, str]:
    """By due date, then untimed first, then by time (a moment before a period), then by id."""
    moment = task.at.timestamp() if task.at is not None else float("-inf")
    return task.due, moment, task.until is not None, task.id


def _checkpoint_tasks(protocol: Protocol, appointments: Sequence[Appointment]) -> list[Task]:
    """A task for each checkpoint of each planned dose, at its local time (or period)."""
    tasks = []
    kinds = {kind.id: kind for kind in protocol.session_kinds}
    titles: dict[tuple[str, str], str] = {}  # each checkpoint's title, written once
    offsets = {kind.id: checkpoint_minutes(kind) for kind in protocol.session_kinds}
    for appointment in appointments:
        kind = kinds[appointment.session]
        for found in checkpoint_times(kind, appointment, minutes=offsets[kind.id]):
            checkpoint = found.checkpoint
            title = titles.get((kind.id, checkpoint.id))
            if title is None:
                name = checkpoint.name
                title = f"{name[:1].upper()}{name[1:]}, {checkpoint.describe()}"
                titles[kind.id, checkpoint.id] = title
            # From the validated protocol and plan, ``until`` never before ``at``: not
            # validated again.
            tasks.append(
                Task.trusted(
                    id=found.task_id,
                    title=title,
                    due=found.at.date(),
                    kind="checkpoint",
                    appointment=appointment.id,
                    source=checkpoint.source,
                    at=found.at,
                    until=found.until,
                )
            )
    return tasks


def _monitoring_tasks(
    appointments: Sequence[Appointment], patient: Patient, rules: MedicationRules
) -> list[Task]:
    """One task per monitoring rule and session, naming every medication that needs it."""
    needing: dict[str, tuple[HoldRule, list[str]]] = {}
    for medication in patient.medications:
        for rule in rules.matching(medication):
            if rule.severity == "monitor":
                names = needing.setdefault(rule.id, (rule, []))[1]
                if medication.name not in names:
                    names.append(medication.name)
    tasks = []
    for appointment in appointments:
        if not (appointment.is_dose and appointment.status == "planned"):
            continue
        for rule, names in needing.values():
            what = rule.note or f"monitor closely ({rule.medication})"
            tasks.append(
                Task(
                    id=monitoring_task_id(rule.id, appointment.id),
                    title=f"{what} The patient takes {', '.join(names)} ({rule.medication}).",
                    due=appointment.local_date,
                    kind="monitoring",
                    appointment=appointment.id,
                    source=rule.source,
                )
            )
    return tasks


def _medication_notes(patient: Patient, rules: MedicationRules) -> list[str]:
    notes = []
    for medication in patient.medications:
        classes = rules.classes_of(medication.name)
        if classes is None:
            notes.append(rules.unknown(medication) or "")
            continue
        if classes == frozenset({NO_RULE}) or NO_RULE in classes:
            continue
        for rule in rules.matching(medication):
            if rule.severity == "advisory":
                note = f" {rule.note}" if rule.note else ""
                notes.append(f"{medication.name} ({rule.medication}): advisory.{note}")
            elif rule.severity == "hold":
                notes += _hold_notes(medication, rule, rules, classes)
    return notes


def _hold_notes(
    medication: Medication, rule: HoldRule, rules: MedicationRules, classes: frozenset[str]
) -> list[str]:
    """What the clinician should know of one hold on one medication."""
    state = hold_state(medication, rule, rules)
    name = f"{medication.name} ({rule.medication} hold)"
    if state == "exempt":
        why = seizure_exemption(medication, rules)
        return [
            (
                f"{name}: not held, {why}; seizure medicines are never held by default. A "
                "clinician who wants the hold records hold = 'confirmed' on the medication"
            )
        ]
    if state == "not-applicable":
        return [f"{name}: not applied, as the clinician recorded"]
    if state == "hold" and medication.indication is None and SEIZURE_POSSIBLE in classes:
        return [
            (
                f"{name}: held; {medication.name} is also prescribed for seizures. If this patient "
                "takes it for seizures, record its indication and the hold no longer applies"
            )
        ]
    return []


def _hold_tasks(
    appointments: Sequence[Appointment], patient: Patient, rules: MedicationRules
) -> list[Task]:
    """A task for each conditional hold a clinician has not yet confirmed for the patient."""
    first = next((a for a in appointments if a.is_dose and a.status == "planned"), None)
    if first is None:
        return []
    tasks: dict[str, Task] = {}
    for medication in patient.medications:
        for rule in rules.matching(medication):
            if rule.severity != "hold" or hold_state(medication, rule, rules) != "to-confirm":
                continue
            task_id = hold_task_id(rule.id, medication.name)
            tasks[task_id] = Task(
                id=task_id,
                title=(
                    f"Confirm whether the {rule.medication} hold applies to "
                    f"{medication.name} for this patient ({rule.note or 'conditional'}). "
                    "Until it is recorded (hold = 'confirmed' or 'not-applicable' on the "
                    "medication), the patient is told nothing about it."
                ),
                due=first.local_date,
                kind="medication",
                appointment=first.id,
                source=rule.source,
            )
    return list(tasks.values())


def _decision_tasks(proposals: Sequence[Proposal]) -> list[Task]:
    """A task for each proposal still waiting for a clinician's decision."""
    return [
        Task(
            id=decision_task_id(proposal.id),
            title=f"Decide: {proposal.question}",
            due=proposal.due,
            kind="decision",
            source=proposal.source,
        )
        for proposal in proposals
        if proposal.decision is None and not proposal.automatic
    ]
