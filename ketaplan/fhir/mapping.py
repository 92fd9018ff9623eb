"""What ketaplan's terms are in FHIR: statuses, identifier systems and ids.

Plain tables and functions, without the FHIR models, so they can be read (and documented) with
or without the ``ketaplan[fhir]`` extra.
"""

from __future__ import annotations

import re
import uuid
from typing import Literal

from ketaplan.errors import InputError
from ketaplan.plans import Appointment, AppointmentStatus, Plan, Task, opaque_key

__all__ = [
    "APPOINTMENT_STATUS",
    "APPOINTMENT_SYSTEM",
    "BUSY_APPOINTMENT_STATUSES",
    "BUSY_SLOT_STATUSES",
    "PATIENT_SYSTEM",
    "PLAN_SYSTEM",
    "PROTOCOL_URL",
    "TASK_SYSTEM",
    "BundleType",
    "appointment_key",
    "appointment_status",
    "fhir_id",
    "patient_reference",
    "plan_key",
    "task_key",
]

BundleType = Literal["collection", "transaction"]

#: The identifier systems of what ketaplan exports; each value is an :func:`opaque_key`.
PLAN_SYSTEM = "urn:ketaplan:plan"
APPOINTMENT_SYSTEM = "urn:ketaplan:appointment"
TASK_SYSTEM = "urn:ketaplan:task"
#: The system of the patient identifier written when the caller gives no Patient reference.
PATIENT_SYSTEM = "urn:ketaplan:patient"
#: The canonical URL of a protocol's PlanDefinition is this followed by the protocol's id.
PROTOCOL_URL = "urn:ketaplan:protocol:"

#: Appointment.status for each ketaplan status (a provisional planned session is "proposed").
APPOINTMENT_STATUS: dict[AppointmentStatus, str] = {
    "planned": "booked",
    "attended": "fulfilled",
    "missed": "noshow",
    "cancelled": "cancelled",
}

#: The Appointment statuses read as busy time (the others did not or will not take place).
BUSY_APPOINTMENT_STATUSES = frozenset(
    {"proposed", "pending", "booked", "arrived", "fulfilled", "checked-in"}
)
#: The Slot statuses read as busy time.
BUSY_SLOT_STATUSES = frozenset({"busy", "busy-unavailable", "busy-tentative"})

_REFERENCE = re.compile(
    r"(?:https?://[^\s|]+/)?Patient/[A-Za-z0-9.-]{1,64}|urn:uuid:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}"
)


def appointment_status(appointment: Appointment, /) -> str:
    """The FHIR Appointment.status of ``appointment``.

    A planned session is ``booked``, or ``proposed`` when it is provisional (it takes place
    only if a decision still to be taken goes one way); a shifted one is booked like any other
    (its shift is in the comment at full detail).

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> made = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 12, 7),
    ...             now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    >>> appointment_status(made.doses[0])
    'booked'
    """
    if appointment.status == "planned" and appointment.provisional:
        return "proposed"
    return APPOINTMENT_STATUS[appointment.status]


def plan_key(plan: Plan, /) -> str:
    """The CarePlan's identifier value: the plan's opaque key."""
    return opaque_key(plan.id)


def appointment_key(plan: Plan, appointment: Appointment, /) -> str:
    """The Appointment's identifier value; its iCalendar UID is this followed by ``@ketaplan``."""
    return opaque_key(plan.id, appointment.id)


def task_key(plan: Plan, task: Task, /) -> str:
    """The Task's identifier value."""
    return opaque_key(plan.id, "task", task.id)


def fhir_id(key: str, /) -> str:
    """The resource id (and ``urn:uuid:`` of the entry) for an opaque key: its digits as a UUID.

    >>> fhir_id("c396dbdc9c165fe1e1980827d3cfb5fb")
    'c396dbdc-9c16-5fe1-e198-0827d3cfb5fb'
    """
    return str(uuid.UUID(hex=key))


def patient_reference(value: object, /) -> str:
    """``value`` checked as a reference to a FHIR Patient, or :class:`InputError`.

    ``Patient/ID``, a URL ending in ``Patient/ID``, or ``urn:uuid:...``: a reference the
    caller's FHIR server knows, never a name.
    """
    if not isinstance(value, str) or not _REFERENCE.fullmatch(value):
        raise InputError(
            "patient",
            "a FHIR reference to a Patient: Patient/ID, a URL ending in Patient/ID, or "
            "urn:uuid:...",
            value,
        )
    return value
