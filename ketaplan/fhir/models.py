"""The FHIR resource models: the one module that imports ``fhir.resources``.

``fhir.resources`` (the optional extra ``ketaplan[fhir]``) has pydantic models of every FHIR
resource; ketaplan builds and reads resources only through them, so what it writes parses back
and what it reads is checked field by field. Its releases carry R5, R4B and STU3 models; ketaplan
uses R4B (4.3.0), whose resources ketaplan writes (Appointment, CarePlan, Task, PlanDefinition,
ActivityDefinition, Location, PractitionerRole) are those of R4 (4.0.1): the test suite checks
every export with an independent R4 validator. Without the extra, importing this module raises
:class:`~ketaplan.errors.MissingExtraError`, which names it.
"""

from __future__ import annotations

from ketaplan.errors import MissingExtraError

try:
    from fhir.resources.R4B.activitydefinition import (
        ActivityDefinition,
        ActivityDefinitionParticipant,
    )
    from fhir.resources.R4B.address import Address
    from fhir.resources.R4B.appointment import Appointment, AppointmentParticipant
    from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryRequest
    from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
    from fhir.resources.R4B.codeableconcept import CodeableConcept
    from fhir.resources.R4B.coding import Coding
    from fhir.resources.R4B.dosage import Dosage
    from fhir.resources.R4B.duration import Duration
    from fhir.resources.R4B.identifier import Identifier
    from fhir.resources.R4B.location import Location
    from fhir.resources.R4B.period import Period
    from fhir.resources.R4B.plandefinition import (
        PlanDefinition,
        PlanDefinitionAction,
        PlanDefinitionActionRelatedAction,
    )
    from fhir.resources.R4B.practitionerrole import PractitionerRole
    from fhir.resources.R4B.quantity import Quantity
    from fhir.resources.R4B.range import Range
    from fhir.resources.R4B.reference import Reference
    from fhir.resources.R4B.relatedartifact import RelatedArtifact
    from fhir.resources.R4B.resource import Resource
    from fhir.resources.R4B.schedule import Schedule
    from fhir.resources.R4B.slot import Slot
    from fhir.resources.R4B.task import Task, TaskRestriction
    from fhir.resources.R4B.timing import Timing, TimingRepeat
except ImportError as err:  # pragma: no cover - exercised in a subprocess test
    raise MissingExtraError("fhir", "FHIR export and import") from err

__all__ = [
    "ActivityDefinition",
    "ActivityDefinitionParticipant",
    "Address",
    "Appointment",
    "AppointmentParticipant",
    "Bundle",
    "BundleEntry",
    "BundleEntryRequest",
    "CarePlan",
    "CarePlanActivity",
    "CarePlanActivityDetail",
    "CodeableConcept",
    "Coding",
    "Dosage",
    "Duration",
    "Identifier",
    "Location",
    "Period",
    "PlanDefinition",
    "PlanDefinitionAction",
    "PlanDefinitionActionRelatedAction",
    "PractitionerRole",
    "Quantity",
    "Range",
    "Reference",
    "RelatedArtifact",
    "Resource",
    "Schedule",
    "Slot",
    "Task",
    "TaskRestriction",
    "Timing",
    "TimingRepeat",
]
