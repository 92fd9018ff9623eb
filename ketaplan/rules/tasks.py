"""Staff tasks the rules ask for: their ids, and which requirements are not yet met.

The task builder makes the tasks and ``check`` looks for them by these ids, so the two never
disagree about what a task is called.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, NamedTuple

from ketaplan.clinic import Clinic
from ketaplan.patient import Patient
from ketaplan.plans import Appointment
from ketaplan.protocol import Checkpoint, Protocol, Requirement, SessionKind
from ketaplan.rules.capacity import dosing_start
from ketaplan.timing import shifts, zone

__all__ = [
    "CheckpointTime",
    "checkpoint_minutes",
    "checkpoint_task_id",
    "checkpoint_times",
    "decision_task_id",
    "due_checkpoints",
    "form_task_id",
    "hold_task_id",
    "monitoring_task_id",
    "requirement_task_id",
    "unmet_requirements",
]


def checkpoint_task_id(checkpoint_id: str, appointment_id: str) -> str:
    """The id of the staff task for one checkpoint of one session."""
    return f"checkpoint-{checkpoint_id}-{appointment_id}"


class CheckpointTime(NamedTuple):
    """A checkpoint of one session, with its task id and its local time (or period)."""

    task_id: str
    checkpoint: Checkpoint
    at: dt.datetime
    until: dt.datetime | None
    """The end of a ``during`` checkpoint's period; ``None`` for a moment."""


def due_checkpoints(kind: SessionKind, appointment: Appointment) -> tuple[Checkpoint, ...]:
    """The checkpoints a session has staff tasks for: a planned dose's, none otherwise.

    Sessions that are not planned doses have none: their checks are done or will not be.
    """
    if not (kind.checkpoints and appointment.is_dose and appointment.status == "planned"):
        return ()
    return kind.checkpoints


def checkpoint_minutes(kind: SessionKind) -> tuple[int, ...]:
    """Each checkpoint's start and end, in minutes from the start of dosing, one after another.

    The same for every session of ``kind``: a caller with many gives it to
    :func:`checkpoint_times` (worked out per call, not kept on the model, like
    :meth:`Timeline.span <ketaplan.protocol.Timeline.span>`).
    """
    return tuple(minutes for c in kind.checkpoints for minutes in c.minutes(kind.timeline))


def checkpoint_times(
    kind: SessionKind, appointment: Appointment, *, minutes: tuple[int, ...] | None = None
) -> list[CheckpointTime]:
    """Each checkpoint of a planned dosing session, at its time in the session's own zone.

    Times count in real elapsed minutes (across a DST change too) from the start of dosing,
    which is the appointment's ``dosing_start`` or, without one, the kind's
    (:func:`~ketaplan.rules.capacity.dosing_start`; the session's start when it has no dosing).
    ``minutes``: :func:`checkpoint_minutes` of ``kind``, when the caller has it.
    """
    due = due_checkpoints(kind, appointment)
    if not due:
        return []
    dosing = appointment.dosing_start or dosing_start(kind, appointment.start) or appointment.start
    # Read in the session's own zone (a dosing start may have been given in another).
    dosing = dosing.astimezone(zone(appointment.time_zone))
    moments = shifts(dosing, checkpoint_minutes(kind) if minutes is None else minutes)
    return [
        CheckpointTime(
            task_id=checkpoint_task_id(checkpoint.id, appointment.id),
            checkpoint=checkpoint,
            at=moments[2 * number],
            until=moments[2 * number + 1] if checkpoint.at == "during" else None,
        )
        for number, checkpoint in enumerate(due)
    ]


def decision_task_id(proposal_id: str) -> str:
    """The id of the task asking a clinician to decide a proposal."""
    return f"decide-{proposal_id}"


def form_task_id(rule_id: str, appointment_id: str) -> str:
    """The id of a protocol task (a form) after one session."""
    return f"{rule_id}-{appointment_id}"


def hold_task_id(rule_id: str, medication: str) -> str:
    """The id of the task asking a clinician to confirm a conditional hold for a medication."""
    slug = "-".join("".join(c if c.isalnum() else " " for c in medication.casefold()).split())
    return f"confirm-hold-{rule_id}-{slug}"


def monitoring_task_id(rule_id: str, appointment_id: str) -> str:
    """The id of the monitoring task for one medication rule and one session."""
    return f"monitor-{rule_id}-{appointment_id}"


def requirement_task_id(requirement_id: str) -> str:
    """The id of the task to confirm a requirement before the first dose."""
    return f"requirement-{requirement_id}"


def unmet_requirements(
    protocol: Protocol,
    clinic: Clinic | None,
    patient: Patient | None,
    *,
    unknown: Literal["unmet", "skip"],
) -> list[Requirement]:
    """The protocol's requirements the clinic or the patient does not list.

    ``unknown`` says what a requirement on a holder that is not given is: ``"unmet"`` for the
    task builder (staff confirm it before the first dose), ``"skip"`` for ``check`` (it cannot
    know, and a plan made for an enrolled patient has no task to find).
    """
    unmet = []
    for requirement in protocol.requirements:
        holder = clinic if requirement.holder == "clinic" else patient
        if holder is None:
            if unknown == "unmet":
                unmet.append(requirement)
            continue
        listed = holder.certifications if isinstance(holder, Clinic) else holder.enrollments
        if requirement.credential not in listed:
            unmet.append(requirement)
    return unmet
