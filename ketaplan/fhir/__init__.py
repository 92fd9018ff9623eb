"""FHIR R4: plans as Bundles, protocols as PlanDefinitions, busy times from Bundles.

Needs the optional extra ``ketaplan[fhir]`` (the ``fhir.resources`` models). This package
imports without it: the names below load their modules when first used, and raise
:class:`~ketaplan.errors.MissingExtraError`, naming the extra, when it is not installed.
:mod:`ketaplan.fhir.mapping` (statuses, identifier systems) needs nothing extra.

- :func:`to_fhir`: plans as a Bundle of a CarePlan, Appointments and Tasks
  (:mod:`ketaplan.fhir.export`);
- :func:`protocol_to_fhir`: a protocol as a PlanDefinition with ActivityDefinitions
  (:mod:`ketaplan.fhir.protocol`);
- :func:`bookings_from_fhir` and :func:`load_busy`: busy times from a Bundle of Appointments,
  Slots and Schedules (:mod:`ketaplan.fhir.reading`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ketaplan.fhir.mapping import APPOINTMENT_STATUS, appointment_status

if TYPE_CHECKING:
    from ketaplan.fhir.export import to_fhir
    from ketaplan.fhir.protocol import protocol_to_fhir
    from ketaplan.fhir.reading import bookings_from_fhir, load_busy

__all__ = [
    "APPOINTMENT_STATUS",
    "appointment_status",
    "bookings_from_fhir",
    "load_busy",
    "protocol_to_fhir",
    "to_fhir",
]

#: Where each name that needs the FHIR models lives.
_LAZY = {
    "to_fhir": "ketaplan.fhir.export",
    "protocol_to_fhir": "ketaplan.fhir.protocol",
    "bookings_from_fhir": "ketaplan.fhir.reading",
    "load_busy": "ketaplan.fhir.reading",
}


def __getattr__(name: str) -> object:
    """Load a name's module on first use (it imports the FHIR models)."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
