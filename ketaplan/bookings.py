"""Bookings: time taken on a clinic resource or in a patient's calendar, and what a plan takes.

A :class:`Booking` is anything that occupies a clinic resource or a patient's time: another
patient's session, a staff meeting, a patient's dentist appointment. :func:`bookings_of` is the
one place that says what an appointment occupies: the patient's time for the whole block, and
each chair, room or monitoring place for its span (the prescriber's presence is a condition of
the clinic's hours, not a booking).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

from pydantic import Field, TypeAdapter, model_validator

from ketaplan._model import Model, Moment, Ref, Text, elapsed_order, validate_as
from ketaplan._types import MAX_UNITS, ResourceKind

if TYPE_CHECKING:
    from ketaplan.plans import Appointment

__all__ = ["Booking", "Occupied", "bookings_of", "occupied", "parse_bookings"]


class Booking(Model):
    """Time taken on a clinic resource, or in a patient's calendar, or both."""

    start: Moment
    end: Moment
    resource: ResourceKind | None = None
    """The resource it occupies; ``None`` for a patient's own commitment."""
    unit: Annotated[int, Field(ge=1, le=MAX_UNITS)] | None = None
    """Which chair or room (1-based), if known."""
    patient: Ref | None = None
    """The patient it belongs to, if any (an opaque id)."""
    label: Text | None = None
    appointment: Ref | None = None
    """The ketaplan appointment it comes from, if any."""
    plan: Ref | None = None
    """The ketaplan plan it comes from, if any (so ``check`` does not count it twice)."""

    @model_validator(mode="after")
    def _ordered(self) -> Booking:
        if not elapsed_order(self.start, self.end):
            raise ValueError(f"end: must be after start {self.start}; got {self.end}")
        return self


_BOOKINGS: TypeAdapter[list[Booking]] = TypeAdapter(list[Booking])


def parse_bookings(data: object, /) -> list[Booking]:
    """Bookings from JSON-like data (a list of objects), or :class:`InputError`.

    >>> parse_bookings([{"start": "2026-12-07T09:00:00-05:00", "end": "2026-12-07T10:00:00-05:00",
    ...                  "resource": "chair"}])[0].resource
    'chair'
    """
    return validate_as(_BOOKINGS, data, field="bookings", item=Booking)


def bookings_of(
    appointment: Appointment,
    /,
    *,
    patient: str | None,
    label: str | None = None,
    plan: str | None = None,
) -> list[Booking]:
    """What ``appointment`` occupies: the patient's time, then each resource's span.

    The bookings of :func:`occupied`, which the planner books directly as it places a
    session; used by :meth:`Plan.bookings <ketaplan.plans.Plan.bookings>` for planning other
    patients around a plan and by re-planning for the sessions kept, so all book the same
    things. The prescriber is left out: presence is checked against the clinic's hours. The
    bookings are validated (the appointment may come from a file).
    """
    # Only the fields given: validating an explicit None costs as much as a value.
    common: dict[str, object] = {"appointment": appointment.id}
    if label is not None:
        common["label"] = label
    if plan is not None:
        common["plan"] = plan
    out = []
    for start, end, resource, unit in occupied(appointment):
        if resource is None:
            out.append(_validated(start=start, end=end, patient=patient, **common))
        else:
            out.append(_validated(start=start, end=end, resource=resource, unit=unit, **common))
    return out


class Occupied(NamedTuple):
    """One thing an appointment occupies: the patient's time (no resource), or a resource's."""

    start: dt.datetime
    end: dt.datetime
    resource: ResourceKind | None
    unit: int | None


def occupied(appointment: Appointment, /) -> list[Occupied]:
    """What ``appointment`` occupies, as :func:`bookings_of` books it, without the models.

    The patient's time for the whole block first, then each resource span but the
    prescriber's; the planner books these into its ledger directly.
    """
    return [
        Occupied(appointment.start, appointment.end, None, None),
        *(
            Occupied(span.start, span.end, span.resource, span.unit)
            for span in appointment.resources
            if span.resource != "prescriber"
        ),
    ]


def _validated(**fields: Any) -> Booking:
    return Booking.model_validate(fields)
