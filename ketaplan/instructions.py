"""Patient instructions with exact local times, and staff tasks with due dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ketaplan._text import fmt_day, fmt_time
from ketaplan.clinic import Clinic
from ketaplan.holds import hold_instruction
from ketaplan.medications import NO_RULE, MedicationRules, medication_rules
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Instruction, Task
from ketaplan.protocol import Protocol, SessionKind
from ketaplan.rules import anchors
from ketaplan.rules.chain import Chain
from ketaplan.rules.course import Course
from ketaplan.rules.tasks import (
    form_task_id,
    monitoring_task_id,
    requirement_task_id,
    unmet_requirements,
)
from ketaplan.timing import shift, zone

__all__ = ["instructions_for", "tasks_for"]


def instructions_for(
    appointment: Appointment,
    kind: SessionKind,
    protocol: Protocol,
    *,
    patient: Patient | None = None,
    medications: MedicationRules | None = None,
) -> tuple[Instruction, ...]:
    """What the patient must do around ``appointment``, with local times.

    Fasting and nasal-spray deadlines count back from the start of dosing (the label's
    "before administration"); driving restrictions count from the end of the session; medication
    holds name each scheduled dose to skip and when to resume.
    """
    rules = kind.instructions
    local = zone(appointment.time_zone)
    dosing = (appointment.dosing_start or appointment.start).astimezone(local)
    end = appointment.end.astimezone(local)
    out: list[Instruction] = []
    if rules.fasting_solids_hours is not None:
        at = shift(dosing, hours=-rules.fasting_solids_hours)
        out.append(
            Instruction(
                kind="fasting-solids",
                at=at,
                text=(
                    f"No food after {fmt_time(at)} "
                    f"({rules.fasting_solids_hours:g} h before dosing)."
                ),
                source=rules.source,
            )
        )
    if rules.fasting_liquids_hours is not None:
        at = shift(dosing, hours=-rules.fasting_liquids_hours)
        out.append(
            Instruction(
                kind="fasting-liquids",
                at=at,
                text=(
                    f"No liquids after {fmt_time(at)} "
                    f"({rules.fasting_liquids_hours:g} h before dosing)."
                ),
                source=rules.source,
            )
        )
    if rules.nasal_spray_minutes_before is not None:
        at = shift(dosing, minutes=-rules.nasal_spray_minutes_before)
        out.append(
            Instruction(
                kind="nasal-spray",
                at=at,
                text=(
                    "If you use a nasal corticosteroid or decongestant that day, take it by "
                    f"{fmt_time(at)} "
                    f"(at least {rules.nasal_spray_minutes_before} min before dosing)."
                ),
                source=rules.source,
            )
        )
    if rules.escort_required:
        out.append(
            Instruction(
                kind="escort",
                at=end,
                text=f"Arrange an adult to take you home at about {fmt_time(end)}.",
                source=rules.source,
            )
        )
    if rules.no_driving_until_next_day:
        next_day = end.date() + dt.timedelta(days=1)
        out.append(
            Instruction(
                kind="no-driving",
                at=end,
                text=(
                    f"Do not drive or operate machinery until {fmt_day(next_day)}, after a "
                    "restful sleep."
                ),
                source=rules.source,
            )
        )
    if rules.no_driving_hours is not None:
        until = shift(end, hours=rules.no_driving_hours)
        out.append(
            Instruction(
                kind="no-driving",
                at=end,
                until=until,
                text=f"Do not drive until {fmt_time(until)} ({rules.no_driving_hours} h after).",
                source=rules.source,
            )
        )
    if rules.peer_monitor_required:
        out.append(
            Instruction(
                kind="peer-monitor",
                at=appointment.start.astimezone(local),
                text="Another adult must be with you for the whole session.",
                source=rules.source,
            )
        )
    if kind.is_dosing and patient is not None:
        chosen = medications or medication_rules(protocol)
        for medication in patient.medications:
            for rule in chosen.matching(medication):
                held = hold_instruction(medication, rule, dosing)
                if held is not None:
                    out.append(held)
    return tuple(out)


def tasks_for(
    protocol: Protocol,
    appointments: Sequence[Appointment],
    *,
    clinic: Clinic,
    patient: Patient | None,
    medications: MedicationRules | None = None,
) -> tuple[tuple[Task, ...], tuple[str, ...]]:
    """Staff tasks (forms, requirements to confirm, monitoring) and notes for people."""
    tasks: list[Task] = []
    notes: list[str] = []
    chosen = medications or medication_rules(protocol, clinic)
    if patient is not None:
        tasks += _monitoring_tasks(appointments, patient, chosen)
        notes += _medication_notes(patient, chosen)
    active = [a for a in appointments if a.is_active]
    chain = Chain.of(Course(protocol), appointments)
    for rule in protocol.tasks:
        for appointment in anchors.selected(rule.after, chain, final=True, among=active):
            tasks.append(
                Task(
                    id=form_task_id(rule.id, appointment.id),
                    title=rule.title,
                    due=appointment.local_date + dt.timedelta(days=rule.due_within_days),
                    kind="form",
                    appointment=appointment.id,
                    source=rule.source,
                )
            )
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
    tasks.sort(key=lambda task: (task.due, task.id))
    return tuple(tasks), tuple(notes)


def _monitoring_tasks(
    appointments: Sequence[Appointment], patient: Patient, rules: MedicationRules
) -> list[Task]:
    tasks = []
    for appointment in appointments:
        if not (appointment.is_dose and appointment.status == "planned"):
            continue
        for medication in patient.medications:
            for rule in rules.matching(medication):
                if rule.severity != "monitor":
                    continue
                what = rule.note or f"monitor closely ({rule.medication})"
                tasks.append(
                    Task(
                        id=monitoring_task_id(rule.id, appointment.id),
                        title=f"{what} The patient takes {medication.name} ({rule.medication}).",
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
            notes.append(
                f"unknown medication {medication.name!r}: no rule could be matched; check the "
                "spelling or add it to the clinic's medication_classes"
            )
            continue
        if classes == frozenset({NO_RULE}) or NO_RULE in classes:
            continue
        for rule in rules.matching(medication):
            if rule.severity == "advisory":
                note = f" {rule.note}" if rule.note else ""
                notes.append(f"{medication.name} ({rule.medication}): advisory.{note}")
    return notes
