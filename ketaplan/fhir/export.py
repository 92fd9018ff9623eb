"""``to_fhir()``: plans as a FHIR R4 Bundle that an EHR can load, and update on a re-export.

What a Bundle holds, for each plan:

- a ``CarePlan`` for the course: its status, period and subject, an activity referencing each
  appointment (and, for staff, each task), and the patient's instructions as activity details
  with their times;
- one ``Appointment`` per session: the status mapped from ketaplan's
  (:data:`~ketaplan.fhir.mapping.APPOINTMENT_STATUS`), start and end with the local UTC
  offset, ``minutesDuration``, the patient and, for staff, each resource as a participant
  (chairs and rooms as contained ``Location`` resources, monitoring staff and the prescriber
  as contained ``PractitionerRole`` resources, each with the period it is used);
- for staff (``audience="clinic"``), one ``Task`` per staff task (a REMS form with its due date,
  each checkpoint at its time, each decision to make), its focus the appointment.

Identity: every resource has an identifier whose value is an opaque key of the plan's and the
item's ids (:func:`ketaplan.plans.opaque_key`), the same key as the appointment's calendar UID,
and its id (and the entry's ``urn:uuid:``) is that key as a UUID. Re-planning keeps both, so a
``transaction`` Bundle of conditional ``PUT`` requests on the identifier updates what a server holds
instead of adding a copy.

Privacy: the same levels as the calendar export, with the calendar's words
(:func:`ketaplan.ics.export.event_text`): at ``detail="minimal"`` nothing names the treatment,
the medicine, a dose or the protocol. No patient name is ever written: the subject is the
Patient reference the caller passes, or an identifier with the plan's patient id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from ketaplan._model import aware, choice
from ketaplan._resolve import timed_plans
from ketaplan._types import NUMBERED_KINDS
from ketaplan.errors import InputError, LimitError
from ketaplan.fhir.mapping import (
    APPOINTMENT_SYSTEM,
    PATIENT_SYSTEM,
    PLAN_SYSTEM,
    PROTOCOL_URL,
    TASK_SYSTEM,
    BundleType,
    appointment_key,
    appointment_status,
    fhir_id,
    patient_reference,
    plan_key,
    task_key,
)
from ketaplan.fhir.models import (
    Address,
    Appointment,
    AppointmentParticipant,
    Bundle,
    BundleEntry,
    BundleEntryRequest,
    CarePlan,
    CarePlanActivity,
    CarePlanActivityDetail,
    CodeableConcept,
    Identifier,
    Location,
    Period,
    PractitionerRole,
    Reference,
    Resource,
    Task,
    TaskRestriction,
)
from ketaplan.ics.export import Audience, Detail, event_text, instruction_text, resource_name
from ketaplan.ics.text import clean_line
from ketaplan.plans import Appointment as Session
from ketaplan.plans import Instruction, Plan
from ketaplan.plans import Task as StaffTask
from ketaplan.protocol import Protocol
from ketaplan.timing import current_time, zone

__all__ = ["MAX_RESOURCES", "TASK_WORDS", "to_fhir"]

#: The most resources one Bundle may hold. The models cost memory (about 28 kB a resource while
#: the Bundle is built and written): export a clinic's plans in batches.
MAX_RESOURCES = 50_000

Written = CarePlan | Appointment | Task

#: What a staff task is, in words that name no treatment (a task's title at ``minimal``).
TASK_WORDS: dict[str, str] = {
    "form": "Form to complete",
    "requirement": "Requirement to confirm",
    "monitoring": "Monitoring",
    "assessment": "Assessment",
    "decision": "Decision to make",
    "medication": "Medication task",
    "checkpoint": "Check during the session",
    "confirmation": "Confirmation",
    "call": "Call",
}

#: A CarePlan activity's status for the status of the appointment an instruction belongs to.
_DETAIL_STATUS = {
    "planned": "scheduled",
    "attended": "completed",
    "missed": "cancelled",
    "cancelled": "cancelled",
}


class _Entry(NamedTuple):
    """A resource for the Bundle, with its type, identifier system and key."""

    kind: str
    system: str
    key: str
    resource: Written


def to_fhir(
    plans: Plan | Sequence[Plan],
    /,
    *,
    bundle: BundleType = "collection",
    audience: Audience = "patient",
    detail: Detail | None = None,
    patient: str | Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    protocols: Iterable[Protocol] = (),
) -> bytes:
    """Plans as a FHIR R4 Bundle (JSON, UTF-8).

    Args:
        plans: one plan or several (a clinic's).
        bundle: ``"collection"`` (a document to read) or ``"transaction"`` (for a server: each
            entry a conditional ``PUT`` on its identifier, so a re-export updates).
        audience: ``"patient"`` (default) or ``"clinic"`` (staff: resources and tasks).
        detail: ``"minimal"`` (default for patients: nothing that reveals the treatment) or
            ``"full"`` (default for clinics: session, protocol, dose, instructions word for word).
        patient: the Patient reference to write as the subject (``"Patient/123"``), or a mapping
            from ketaplan patient ids (or plan ids) to references; without one, the subject is
            an identifier (system ``urn:ketaplan:patient``) with the plan's patient id.
        now: the Bundle's timestamp (default: the current time); pass it for identical output.
        protocols: the plans' protocols that are not built in. Each session's resources are
            written for the times its protocol gives from its start, as ``check`` reads them
            (:func:`~ketaplan._resolve.timed`), not the times a plan file stores.

    >>> import datetime as dt, json
    >>> from ketaplan import load_protocol, plan
    >>> from ketaplan.defaults import demo_clinic
    >>> made = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 12, 7),
    ...             clinic=demo_clinic(), now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    >>> data = json.loads(to_fhir(made, patient="Patient/123", now=made.appointments[0].booked_at))
    >>> [entry["resource"]["resourceType"] for entry in data["entry"]][:3]
    ['CarePlan', 'Appointment', 'Appointment']
    >>> first = data["entry"][2]["resource"]
    >>> first["status"], first["start"], first["minutesDuration"], first["description"]
    ('booked', '2026-12-14T08:00:00-05:00', 315, 'Appointment \u2013 Demo Clinic')
    """
    chosen = _plans(plans)
    detail = detail if detail is not None else ("minimal" if audience == "patient" else "full")
    _check(bundle=bundle, audience=audience, detail=detail, now=now)
    chosen = timed_plans(chosen, protocols)
    size = sum(
        1 + len(made.appointments) + (len(made.tasks) if audience == "clinic" else 0)
        for made in chosen
    )
    if size > MAX_RESOURCES:
        raise LimitError(
            "plans", f"at most {MAX_RESOURCES} resources in one Bundle (export fewer plans)", size
        )
    subjects = _subjects(chosen, patient)
    transaction = bundle == "transaction"
    entries: list[BundleEntry] = []
    seen: dict[tuple[str, str], int] = {}
    for number, plan in enumerate(chosen):
        writer = _Writer(plan, audience, detail, subjects[plan.id], keep_ids=not transaction)
        for entry in writer.entries():
            if seen.setdefault((entry.kind, entry.key), number) != number:
                raise InputError(
                    "plans",
                    "plans with distinct identities (one plan each, or different plan_id)",
                    f"plan {plan.id} twice",
                )
            entries.append(_bundle_entry(entry, transaction=transaction))
    stamp = (now or current_time()).astimezone(dt.UTC).replace(microsecond=0)
    made = Bundle(type=bundle, timestamp=stamp, entry=entries or None)
    return made.model_dump_json(indent=2).encode("utf-8")


def _plans(plans: object) -> list[Plan]:
    if isinstance(plans, Plan):
        return [plans]
    if isinstance(plans, Sequence) and not isinstance(plans, str | bytes):
        chosen = list(plans)
        if chosen and all(isinstance(plan, Plan) for plan in chosen):
            return chosen
    raise InputError("plans", "a Plan or a list of Plans", plans)


def _check(*, bundle: object, audience: object, detail: object, now: object) -> None:
    choice("bundle", bundle, ("collection", "transaction"), "'collection' or 'transaction'")
    choice("audience", audience, ("patient", "clinic"), "'patient' or 'clinic'")
    choice("detail", detail, ("minimal", "full"), "'minimal' or 'full'")
    if now is not None:
        aware("now", now)


def _subjects(plans: list[Plan], patient: str | Mapping[str, str] | None) -> dict[str, Reference]:
    """The subject of each plan: the caller's Patient reference, or an identifier."""
    if patient is not None and not isinstance(patient, str | Mapping):
        raise InputError("patient", "a Patient reference or a mapping of them", patient)
    found: dict[str, Reference] = {}
    for plan in plans:
        given: object = patient
        if isinstance(patient, Mapping):
            given = patient.get(plan.patient or "", patient.get(plan.id))
        if given is not None:
            found[plan.id] = Reference(reference=patient_reference(given), type="Patient")
        else:
            value = clean_line(plan.patient or "") or plan_key(plan)
            identifier = Identifier(system=PATIENT_SYSTEM, value=value)
            found[plan.id] = Reference(identifier=identifier, type="Patient")
    return found


def _bundle_entry(entry: _Entry, *, transaction: bool) -> BundleEntry:
    url = "urn:uuid:" + fhir_id(entry.key)
    if not transaction:
        return BundleEntry(fullUrl=url, resource=entry.resource)
    request = BundleEntryRequest(
        method="PUT", url=f"{entry.kind}?identifier={entry.system}|{entry.key}"
    )
    return BundleEntry(fullUrl=url, resource=entry.resource, request=request)


def _local(moment: dt.datetime, time_zone: str) -> dt.datetime:
    """An instant written with the UTC offset it has in ``time_zone``."""
    return moment.astimezone(zone(time_zone))


def _reference(kind: str, key: str) -> Reference:
    return Reference(reference="urn:uuid:" + fhir_id(key), type=kind)


@dataclass(frozen=True)
class _Writer:
    """Writes one plan's resources at an audience and detail."""

    plan: Plan
    audience: Audience
    detail: Detail
    subject: Reference
    keep_ids: bool
    """Write each resource's id (a collection); a transaction leaves ids to the server."""

    @cached_property
    def sessions(self) -> dict[str, Session]:
        """The plan's appointments by id, for the tasks' focus."""
        return {appointment.id: appointment for appointment in self.plan.appointments}

    @property
    def full(self) -> bool:
        return self.detail == "full"

    @property
    def staff(self) -> bool:
        return self.audience == "clinic"

    def _id(self, key: str) -> str | None:
        return fhir_id(key) if self.keep_ids else None

    def entries(self) -> Iterator[_Entry]:
        """The CarePlan, then each appointment, then each staff task (for staff)."""
        plan = self.plan
        yield _Entry("CarePlan", PLAN_SYSTEM, plan_key(plan), self.care_plan())
        for appointment in plan.appointments:
            key = appointment_key(plan, appointment)
            yield _Entry("Appointment", APPOINTMENT_SYSTEM, key, self.appointment(appointment))
        if self.staff:
            for task in plan.tasks:
                yield _Entry("Task", TASK_SYSTEM, task_key(plan, task), self.task(task))

    def care_plan(self) -> CarePlan:
        plan = self.plan
        activities: list[CarePlanActivity] = []
        for appointment in plan.appointments:
            key = appointment_key(plan, appointment)
            activities.append(CarePlanActivity(reference=_reference("Appointment", key)))
            activities += [
                self.instruction(instruction, appointment)
                for instruction in appointment.instructions
                if instruction_text(instruction, appointment, detail=self.detail)
            ]
        if self.staff:
            activities += [
                CarePlanActivity(reference=_reference("Task", task_key(plan, task)))
                for task in plan.tasks
            ]
        return CarePlan(
            id=self._id(plan_key(plan)),
            identifier=[Identifier(system=PLAN_SYSTEM, value=plan_key(plan))],
            instantiatesCanonical=(
                [f"{PROTOCOL_URL}{plan.protocol}|{plan.protocol_version}"] if self.full else None
            ),
            status=_care_plan_status(plan),
            intent="plan",
            title=self._title(),
            subject=self.subject,
            period=_period(plan),
            activity=activities or None,
        )

    def _title(self) -> str:
        plan = self.plan
        if self.full:
            return clean_line(f"{plan.protocol} (version {plan.protocol_version})")
        name = plan.display_name if self.audience == "patient" else plan.clinic_name
        return clean_line(f"Appointments \u2013 {name}")

    def instruction(self, instruction: Instruction, appointment: Session) -> CarePlanActivity:
        """An instruction as an activity's detail: its words and when it applies."""
        zone_name = appointment.time_zone
        when = None
        if instruction.at is not None:
            end = instruction.until
            when = Period(
                start=_local(instruction.at, zone_name),
                end=_local(end, zone_name) if end is not None else None,
            )
        status = _DETAIL_STATUS[appointment.status]
        if appointment.status == "planned" and appointment.provisional:
            status = "not-started"
        detail = CarePlanActivityDetail(
            code=CodeableConcept(text=instruction.kind),
            status=status,
            scheduledPeriod=when,
            description=instruction_text(instruction, appointment, detail=self.detail),
        )
        return CarePlanActivity(detail=detail)

    def appointment(self, appointment: Session) -> Appointment:
        plan = self.plan
        title, text = event_text(plan, appointment, audience=self.audience, detail=self.detail)
        contained, participants = self.participants(appointment)
        elapsed = appointment.end.astimezone(dt.UTC) - appointment.start.astimezone(dt.UTC)
        reason = None
        if self.full:
            reason = [CodeableConcept(text=clean_line(f"{appointment.name} ({plan.protocol})"))]
        booked = appointment.booked_at
        return Appointment(
            id=self._id(appointment_key(plan, appointment)),
            contained=contained or None,
            identifier=[
                Identifier(system=APPOINTMENT_SYSTEM, value=appointment_key(plan, appointment))
            ],
            status=appointment_status(appointment),
            reasonCode=reason,
            description=title or None,
            start=_local(appointment.start, appointment.time_zone),
            end=_local(appointment.end, appointment.time_zone),
            minutesDuration=int(elapsed.total_seconds() // 60),
            created=_local(booked, appointment.time_zone) if booked is not None else None,
            comment=text or None,
            participant=participants,
        )

    def participants(
        self, appointment: Session
    ) -> tuple[list[Resource], list[AppointmentParticipant]]:
        """The patient, the clinic (for a visit) and, for staff, each resource used."""
        status = "tentative" if appointment.provisional else "accepted"
        people = [AppointmentParticipant(actor=self.subject, required="required", status=status)]
        contained: dict[str, Resource] = {}
        if appointment.location == "clinic":
            contained["clinic"] = self._clinic()
            actor = Reference(reference="#clinic", type="Location")
            people.append(AppointmentParticipant(actor=actor, required="required", status=status))
        if not self.staff:
            return list(contained.values()), people
        for span in appointment.resources:
            name = resource_name(span.resource, span.unit)
            local = span.resource + (f"-{span.unit}" if span.unit is not None else "")
            if span.resource in NUMBERED_KINDS:
                kind = "Location"
                contained.setdefault(local, Location(id=local, name=name, mode="instance"))
            else:
                kind = "PractitionerRole"
                role = PractitionerRole(id=local, code=[CodeableConcept(text=name)])
                contained.setdefault(local, role)
            period = Period(
                start=_local(span.start, appointment.time_zone),
                end=_local(span.end, appointment.time_zone),
            )
            actor = Reference(reference=f"#{local}", type=kind)
            people.append(
                AppointmentParticipant(
                    actor=actor, required="required", status=status, period=period
                )
            )
        return list(contained.values()), people

    def _clinic(self) -> Location:
        plan = self.plan
        name = plan.display_name if self.audience == "patient" else plan.clinic_name
        address = clean_line(plan.clinic_location or "")
        return Location(
            id="clinic",
            name=clean_line(name) or None,
            address=Address(text=address) if address else None,
        )

    def task(self, task: StaffTask) -> Task:
        plan = self.plan
        focus = None
        status = "requested"
        appointment = self.sessions.get(task.appointment or "")
        if appointment is not None:
            focus = _reference("Appointment", appointment_key(plan, appointment))
            if not appointment.is_active:
                status = "cancelled"
        when = None
        if task.at is not None:
            end = _local(task.until, plan.time_zone) if task.until is not None else None
            when = Period(start=_local(task.at, plan.time_zone), end=end)
        return Task(
            id=self._id(task_key(plan, task)),
            identifier=[Identifier(system=TASK_SYSTEM, value=task_key(plan, task))],
            basedOn=[_reference("CarePlan", plan_key(plan))],
            status=status,
            intent="plan",
            code=CodeableConcept(text=task.kind),
            description=clean_line(task.title) if self.full else TASK_WORDS[task.kind],
            focus=focus,
            for_fhir=self.subject,
            executionPeriod=when,
            restriction=TaskRestriction(
                period=Period.model_validate({"end": task.due.isoformat()})
            ),
        )


def _care_plan_status(plan: Plan) -> str:
    """``revoked`` when a decision stopped the course, ``active`` while a session is planned."""
    if plan.stopped_on is not None:
        return "revoked"
    if any(appointment.status == "planned" for appointment in plan.appointments):
        return "active"
    return "completed"


def _period(plan: Plan) -> Period:
    """The course: from the first appointment's start to the last one's end (else its dates)."""
    if not plan.appointments:
        return Period.model_validate(
            {"start": plan.start.isoformat(), "end": plan.until.isoformat()}
        )
    first = min(plan.appointments, key=lambda appointment: appointment.start)
    last = max(plan.appointments, key=lambda appointment: appointment.end)
    return Period(start=_local(first.start, first.time_zone), end=_local(last.end, last.time_zone))
