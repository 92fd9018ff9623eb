"""``check``'s medication rules: holds told to the patient, monitoring tasks, washout, switch."""

from __future__ import annotations

from ketaplan.checking.context import Context
from ketaplan.holds import DosingSpan, dosing_span, hold_instruction, hold_state, hold_window
from ketaplan.patient import Medication
from ketaplan.plans import Appointment
from ketaplan.protocol import HoldRule
from ketaplan.rules.course import switch_findings, washout_findings, washouts
from ketaplan.rules.tasks import hold_task_id, monitoring_task_id
from ketaplan.violation import Violation

__all__ = ["medications"]


def medications(ctx: Context) -> list[Violation]:
    """Every medication rule in force for the patient, against the plan."""
    patient = ctx.patient
    if patient is None:
        return []
    found = []
    doses = ctx.doses
    for medication in patient.medications:
        unknown = ctx.rules.unknown(medication)
        if unknown is not None:
            found.append(ctx.violation("unknown-medication", [], "medication classes", unknown))
        rules = ctx.rules.matching(medication)
        for appointment in doses:
            if appointment.status != "planned" or appointment.dosing_start is None:
                continue
            for rule in rules:
                found += _around(ctx, medication, rule, appointment)
        found += _unconfirmed(ctx, medication, rules)
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
) -> list[Violation]:
    """What is wrong with one medication rule at one session.

    A hold the patient is not told about, one they are told about that does not apply, or
    monitoring with no task. Instructions are compared word for word with what the hold would
    say, so two entries of one medicine (a scheduled and an as-needed lorazepam) are told apart.
    """
    dosing = dosing_span(appointment, ctx.protocol.session_kind(appointment.session))
    if dosing is None:
        return []
    if rule.severity == "hold" and hold_window(rule, dosing) is not None:
        state = hold_state(medication, rule, ctx.rules)
        said = hold_instruction(medication, rule, dosing)
        texts = {i.text for i in appointment.instructions if i.kind == "medication-hold"}
        told = said is not None and said.text in texts
        if state == "hold" and said is not None and not told:
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
        if state != "hold" and told and said is not None and not _also_held(ctx, said.text, dosing):
            return [
                ctx.violation(
                    "medication-hold-not-applicable",
                    [appointment.id],
                    f"{rule.id} hold",
                    f"the plan tells the patient to skip {medication.name} around "
                    f"{appointment.id}, but the {rule.medication} hold does not apply to it "
                    f"({_why_not(state)})",
                    source=rule.source,
                )
            ]
    if rule.severity == "monitor" and monitoring_task_id(rule.id, appointment.id) not in ctx.tasks:
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


def _also_held(ctx: Context, text: str, dosing: DosingSpan) -> bool:
    """Whether another of the patient's medicines, whose hold does apply, is told ``text``."""
    assert ctx.patient is not None  # noqa: S101 - only asked about a patient's medicines
    return any(
        (said := hold_instruction(other, rule, dosing)) is not None and said.text == text
        for other in ctx.patient.medications
        for rule in ctx.rules.matching(other)
        if rule.severity == "hold" and hold_state(other, rule, ctx.rules) == "hold"
    )


def _why_not(state: str) -> str:
    return {
        "exempt": "a seizure medicine, never held by default",
        "to-confirm": "a conditional hold no clinician has confirmed for this patient",
        "not-applicable": "the clinician recorded that it does not apply",
    }[state]


def _unconfirmed(ctx: Context, medication: Medication, rules: list[HoldRule]) -> list[Violation]:
    """A conditional hold waiting for a clinician, with no task asking for the decision."""
    planned = [a for a in ctx.doses if a.status == "planned"]
    if not planned:
        return []
    return [
        ctx.violation(
            "hold-unconfirmed",
            [planned[0].id],
            f"{rule.id} hold",
            f"the {rule.medication} hold on {medication.name} is conditional and no clinician "
            "has confirmed it or said it does not apply, and the plan has no task asking",
            source=rule.source,
        )
        for rule in rules
        if rule.severity == "hold"
        and hold_state(medication, rule, ctx.rules) == "to-confirm"
        and hold_task_id(rule.id, medication.name) not in ctx.tasks
    ]
