"""The patient: an opaque id and a calendar; no name or diagnosis is needed."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ketaplan._model import Day, Model, Moment, NonEmptyText, Ref, Text, TimeOfDay, elapsed_order
from ketaplan._types import Drug
from ketaplan.errors import DefinitionError, PatientError
from ketaplan.hours import DateRange, WeeklyHours
from ketaplan.protocol.policy import valid_zone

__all__ = ["Busy", "Medication", "PastSession", "Patient"]

#: An opaque reference: letters, digits, ``.``, ``_`` and ``-``. Never a name or record number.
PatientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class Busy(Model):
    """A time someone is not available: an existing appointment or another commitment."""

    start: Moment
    end: Moment
    label: Text | None = None
    treatment: Text | None = None
    """Another treatment it is, e.g. ``"ECT"`` or ``"TMS"``, for same-day exclusions."""

    @model_validator(mode="after")
    def _ordered(self) -> Busy:
        if not elapsed_order(self.start, self.end):
            raise ValueError(f"end: must be after start {self.start}; got {self.end}")
        return self


class Medication(Model):
    """A medication the patient takes, by drug name or class."""

    name: NonEmptyText
    """A drug name (``"lorazepam"``) or a class (``"benzodiazepine"``)."""
    times: tuple[TimeOfDay, ...] = ()
    """Local times of day the patient takes it, if scheduled."""
    as_needed: bool = False
    """Taken as needed rather than at fixed times."""
    start: Day | None = None
    stop: Day | None = None
    indication: NonEmptyText | None = None
    """What it is taken for, in the prescriber's words (``"epilepsy"``): a medicine taken for
    seizures is never held by default, only noted for the clinician."""
    hold: Literal["confirmed", "not-applicable"] | None = None
    """The clinician's answer to a conditional hold (a source that says the clinic "may ask"):
    ``"confirmed"`` applies it, ``"not-applicable"`` does not; unset, a staff task asks."""

    @model_validator(mode="after")
    def _dates(self) -> Medication:
        if self.start is not None and self.stop is not None and self.stop < self.start:
            raise ValueError(f"stop: must not be before start {self.start}; got {self.stop}")
        return self


class PastSession(Model):
    """A ketamine or esketamine session the patient already had (here or elsewhere)."""

    date: Day
    product: Drug
    route: Ref | None = None


class Patient(Model):
    """A patient's availability, commitments, medications and history.

    >>> patient = Patient.model_validate({
    ...     "id": "p-0042",
    ...     "availability": {"tue": ["08:00-12:00"], "thu": ["08:00-12:00"]},
    ...     "medications": [{"name": "lorazepam", "times": ["22:00"]}],
    ... })
    >>> patient.medications[0].times
    (datetime.time(22, 0),)
    """

    error_class: ClassVar[type[DefinitionError]] = PatientError

    id: PatientId
    time_zone: Ref | None = None
    """The patient's zone, if different from the clinic's (used for remote sessions)."""
    availability: WeeklyHours | None = None
    """When the patient can come; omitted, whenever the clinic is open."""
    blackouts: tuple[DateRange, ...] = ()
    """Dates the patient cannot come at all (travel, surgery)."""
    appointments: tuple[Busy, ...] = ()
    """Existing commitments that sessions must not overlap."""
    medications: tuple[Medication, ...] = ()
    history: tuple[PastSession, ...] = ()
    enrollments: tuple[Ref, ...] = ()
    """Programme enrolments protocols may require, e.g. ``"spravato-rems"``."""

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else valid_zone(value)
