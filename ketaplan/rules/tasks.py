"""Staff tasks the rules ask for: their ids, and which requirements are not yet met.

The task builder makes the tasks and ``check`` looks for them by these ids, so the two never
disagree about what a task is called.
"""

from __future__ import annotations

from typing import Literal

from ketaplan.clinic import Clinic
from ketaplan.patient import Patient
from ketaplan.protocol import Protocol, Requirement

__all__ = [
    "decision_task_id",
    "form_task_id",
    "hold_task_id",
    "monitoring_task_id",
    "requirement_task_id",
    "unmet_requirements",
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
