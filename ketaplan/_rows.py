"""Bookings as columns: what the ledger keeps of each booking, in a few dozen bytes.

A :class:`~ketaplan.bookings.Booking` is a validated model of about 1.3 KB (its datetimes,
time zones and strings). The ledger needs only what the capacity and double-booking rules read:
the times as whole seconds since the epoch (as :func:`seconds` gives them), the resource as a
small int, the unit, and the references a report names (patient, label, plan, appointment).
:class:`Rows` keeps those in typed arrays and lists, about 60 bytes a booking plus its strings,
and gives a booking back on demand (:meth:`Rows.booking`): equal to the one added, with its
time zones and any fraction of a second.
"""

from __future__ import annotations

import datetime as dt
from array import array

from ketaplan._types import RESOURCE_KINDS, ResourceKind
from ketaplan.bookings import Booking

__all__ = ["RESOURCES", "Rows", "seconds"]

#: The resource of each code (0: none, a patient's own commitment).
RESOURCES: tuple[ResourceKind | None, ...] = (None, *RESOURCE_KINDS)
_CODES: dict[ResourceKind | None, int] = {kind: code for code, kind in enumerate(RESOURCES)}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)


def seconds(moment: dt.datetime) -> int:
    """Whole seconds since the epoch (toward zero), for fast interval arithmetic."""
    return int(moment.timestamp())


def _micros(moment: dt.datetime) -> int:
    """Microseconds since the epoch, exactly."""
    return (moment - _EPOCH) // _MICRO


class Rows:
    """Bookings in columns, numbered from 0 in the order added; only the last is removed."""

    __slots__ = ("_exact", "_zone_codes", "_zones", "appointment", "end", "end_zone", "label",
                 "patient", "plan", "resource", "start", "start_zone", "unit")  # fmt: skip

    def __init__(self) -> None:
        self.start = array("q")
        """Seconds since the epoch, as :func:`seconds` gives them."""
        self.end = array("q")
        self.resource = array("b")
        self.unit = array("i")
        """The unit, 0 for none."""
        self.start_zone = array("I")
        self.end_zone = array("I")
        self.patient: list[str | None] = []
        self.label: list[str | None] = []
        self.plan: list[str | None] = []
        self.appointment: list[str | None] = []
        self._zones: list[dt.tzinfo] = []
        self._zone_codes: dict[int, int] = {}
        """Each zone's code by the zone's identity (a dateutil zone is not hashable); the zone
        is kept in ``_zones``, so its identity is not given to another while the rows last."""
        self._exact: dict[int, tuple[int, int]] = {}
        """Rows whose times are not whole seconds: their microseconds since the epoch."""

    def __len__(self) -> int:
        return len(self.start)

    def append(self, booking: Booking) -> int:
        """Add ``booking`` as the last row; its number."""
        return self.append_values(
            booking.start,
            booking.end,
            booking.resource,
            booking.unit,
            patient=booking.patient,
            label=booking.label,
            plan=booking.plan,
            appointment=booking.appointment,
        )

    def append_values(
        self,
        start: dt.datetime,
        end: dt.datetime,
        resource: ResourceKind | None,
        unit: int | None,
        *,
        patient: str | None,
        label: str | None = None,
        plan: str | None = None,
        appointment: str | None,
    ) -> int:
        """Add the booking these fields make as the last row (a valid one); its number."""
        row = len(self.start)
        first, last = start.timestamp(), end.timestamp()
        self.start.append(int(first))
        self.end.append(int(last))
        self.resource.append(_CODES[resource])
        self.unit.append(unit or 0)
        self.start_zone.append(self._zone(start.tzinfo))
        self.end_zone.append(self._zone(end.tzinfo))
        self.patient.append(patient)
        self.label.append(label)
        self.plan.append(plan)
        self.appointment.append(appointment)
        if start.microsecond or end.microsecond or first != int(first) or last != int(last):
            # a fraction of a second: kept exactly (the columns hold whole seconds)
            self._exact[row] = (_micros(start), _micros(end))
        return row

    def copy_row(self, other: Rows, row: int) -> int:
        """Add row ``row`` of ``other`` as the last row; its number."""
        mine = len(self.start)
        self.start.append(other.start[row])
        self.end.append(other.end[row])
        self.resource.append(other.resource[row])
        self.unit.append(other.unit[row])
        self.start_zone.append(self._zone(other._zones[other.start_zone[row]]))
        self.end_zone.append(self._zone(other._zones[other.end_zone[row]]))
        for column in ("patient", "label", "plan", "appointment"):
            getattr(self, column).append(getattr(other, column)[row])
        if row in other._exact:
            self._exact[mine] = other._exact[row]
        return mine

    def pop(self) -> None:
        """Remove the last row."""
        for column in (self.start, self.end, self.resource, self.unit, self.start_zone,
                       self.end_zone, self.patient, self.label, self.plan,
                       self.appointment):  # fmt: skip
            column.pop()
        self._exact.pop(len(self.start), None)

    def set_unit(self, row: int, unit: int | None) -> None:
        self.unit[row] = unit or 0

    def _zone(self, zone: dt.tzinfo | None) -> int:
        assert zone is not None  # noqa: S101 - a Booking's times are aware
        code = self._zone_codes.get(id(zone))
        if code is None:
            code = self._zone_codes[id(zone)] = len(self._zones)
            self._zones.append(zone)
        return code

    def booking(self, row: int) -> Booking:
        """Row ``row`` as the booking it was added as (equal to it)."""
        exact = self._exact.get(row)
        start_zone = self._zones[self.start_zone[row]]
        end_zone = self._zones[self.end_zone[row]]
        if exact is None:
            start = dt.datetime.fromtimestamp(self.start[row], start_zone)
            end = dt.datetime.fromtimestamp(self.end[row], end_zone)
        else:
            start = (_EPOCH + exact[0] * _MICRO).astimezone(start_zone)
            end = (_EPOCH + exact[1] * _MICRO).astimezone(end_zone)
        fields = {
            "start": start,
            "end": end,
            "resource": RESOURCES[self.resource[row]],
            "unit": self.unit[row] or None,
            "patient": self.patient[row],
            "label": self.label[row],
            "appointment": self.appointment[row],
            "plan": self.plan[row],
        }
        return Booking.trusted(**{k: v for k, v in fields.items() if v is not None})
