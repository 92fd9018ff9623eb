"""``check``'s medication rules: holds told to the patient, monitoring tasks, washout, switch."""

from __future__ import annotations

from ketaplan.checking.context import Context
from ketaplan.holds import hold_window, skipped_doses
from ketaplan.patient import Medication
from ketaplan.plans import Appointment
from ketaplan.protocol import HoldRule
from ketaplan.rules.course import switch_findings, washout_findings, washouts
from ketaplan.rules.tasks import monitoring_task_id
from ketaplan.violation import Violation

__all__ = ["medications"]


def medications(ctx: Context) -> list[Violation]:
    """Every medication rule in force for the patient, against the plan."""
    patient = ctx.patient
    if patient is None:
        return []
    found = []
    task_ids = {task.id for task in ctx.plan.tasks}
    doses = ctx.doses
    for medication in patient.medications:
        if ctx.rules.classes_of(medication.name) is None:
            found.append(
                ctx.violation(
                    "unknown-medication",
                    [],
                    "medication classes",
                    f"{medication.name!r} is not a drug or class ketaplan knows: check the "
                    "spelling or add it to the clinic's medication_classes",
                )
            )
        rules = ctx.rules.matching(medication)
        for appointment in doses:
            if appointment.status != "planned" or appointment.dosing_start is None:
                continue
            for rule in rules:
                found += _around(ctx, medication, rule, appointment, task_ids)
        if doses:
            items = washouts(patient, [(medication, rule) for rule in rules])
            found += [ctx.reported(f, doses[0].id) for f in washout_findings(items, doses[0])]
    if doses:
        found += [
            ctx.reported(f, doses[0].id)
            for f in switch_findings(ctx.clinic, patient, ctx.protocol, doses[0])
        ]
    return found


def _around(
    ctx: Context,
    medication: Medication,
    rule: HoldRule,
    appointment: Appointment,
    task_ids: set[str],
) -> list[Violation]:
    """A hold the patient is not told about, or monitoring with no task, at one session."""
    assert appointment.dosing_start is not None  # noqa: S101 - the caller checks
    dosing = appointment.local_start + (appointment.dosing_start - appointment.start)
    if rule.severity == "hold" and hold_window(rule, dosing) is not None:
        due = skipped_doses(medication, rule, dosing) or medication.as_needed
        told = any(
            i.kind == "medication-hold" and medication.name in i.text
            for i in appointment.instructions
        )
        if due and not told:
            return [
                ctx.violation(
                    "medication-hold",
                    [appointment.id],
                    f"{rule.id} hold",
                    f"{medication.name} ({rule.medication}) falls in the hold around "
                    f"{appointment.id} and the plan does not tell the patient to skip it",
                    source=rule.source,
                )
            ]
    if rule.severity == "monitor" and monitoring_task_id(rule.id, appointment.id) not in task_ids:
        return [
            ctx.violation(
                "monitoring-task-missing",
                [appointment.id],
                f"{rule.id} monitoring",
                f"{medication.name} ({rule.medication}) needs monitoring at {appointment.id}: "
                f"{rule.note or 'monitor closely'}",
                source=rule.source,
            )
        ]
    return []
