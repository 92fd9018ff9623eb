"""The ledger: a clinic's bookings, indexed to answer capacity questions quickly.

The :class:`Ledger` keeps :class:`~ketaplan.bookings.Booking` s in columns
(:class:`~ketaplan._rows.Rows`: times as whole seconds, resources as small ints, about 60 bytes
a booking besides its strings) and indexes them by resource, unit and UTC day, so the planner
can ask "is a chair free from 09:00 to 11:30?" and ``check`` can ask "what is booked on this
plan's days?" without scanning the whole clinic. Chairs and rooms are numbered units (a patient
keeps one chair for the whole block, plus the cleaning buffer); monitoring staff are counted by
the clinic's patients-per-staff ratio (both from :func:`ketaplan.rules.capacity.limits`). Each
day of the index has a change number, so a cache of answers about a day can tell whether that
day's bookings changed (:meth:`changes`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, overload

from ketaplan._rows import RESOURCES, Rows, seconds
from ketaplan._types import ResourceKind
from ketaplan.bookings import Booking, Occupied
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError
from ketaplan.rules.capacity import Limits, limits, peak

__all__ = ["Ledger", "seconds"]

_DAY = 86_400
_CHANGES = itertools.count(1)  # every change of any ledger gets a new number
#: How many of the latest bookings' earlier change numbers a ledger keeps, to give them back
#: if the booking is removed (a search backing up); older ones get new numbers instead.
_REMEMBERED = 4096
_NO_LIMITS = Limits(units={}, counted={}, buffer_minutes={})
IndexKind = Literal["unit", "counted", "patient"]
"""Which index: numbered units by ``(resource, unit)``, counted resources, or patients."""
Units = Literal["assign", "as-given"]
"""What a ledger does with a chair or room booking without a unit: give it the lowest free
one (the planner's clinic), or keep it without one (``check`` reading bookings as they are)."""

Interval = tuple[int, int]


def _days(start: int, end: int) -> range:
    return range(start // _DAY, (end - 1) // _DAY + 1)


class _Index:
    """Row numbers by key and UTC day; a row spanning several days is filed under each."""

    def __init__(self) -> None:
        self.by_key: dict[object, dict[int, array[int]]] = {}

    def add(self, key: object, row: int, start: int, end: int) -> None:
        days = self.by_key.get(key)
        if days is None:
            days = self.by_key[key] = {}
        for day in range(start // _DAY, (end - 1) // _DAY + 1):
            leaf = days.get(day)
            if leaf is None:
                days[day] = array("i", (row,))
            else:
                leaf.append(row)

    def remove(self, key: object, row: int, start: int, end: int) -> None:
        days = self.by_key[key]
        for day in _days(start, end):
            days[day].remove(row)

    def near(self, key: object, start: int, end: int, starts: array[int]) -> Iterable[int]:
        """The rows filed under ``key`` on the days ``start``-``end`` touches, each once."""
        days = self.by_key.get(key)
        if not days:
            return ()
        query = _days(start, end)
        if len(query) == 1:  # the common case: one day, where nothing can be listed twice
            return days.get(query.start, ())
        # A row spanning several days is listed under each: keep it once, on the first of its
        # days that the query covers.
        return [
            row
            for day in query
            for row in days.get(day, ())
            if max(starts[row] // _DAY, query.start) == day
        ]


class _Bookings(Sequence[Booking]):
    """A ledger's own bookings, made from its rows when read."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Booking: ...
    @overload
    def __getitem__(self, index: slice) -> list[Booking]: ...
    def __getitem__(self, index: int | slice) -> Booking | list[Booking]:
        if isinstance(index, slice):
            return [self._rows.booking(row) for row in range(len(self._rows))[index]]
        return self._rows.booking(range(len(self._rows))[index])


class Ledger:
    """Bookings indexed for capacity questions; :meth:`fork` makes a cheap overlay.

    >>> from ketaplan.defaults import demo_clinic
    >>> from zoneinfo import ZoneInfo
    >>> ledger = Ledger(demo_clinic())
    >>> at = dt.datetime(2026, 12, 7, 9, tzinfo=ZoneInfo("America/New_York"))
    >>> booking = ledger.add(Booking(start=at, end=at + dt.timedelta(hours=2), resource="chair"))
    >>> booking.unit
    1
    >>> ledger.free_unit("chair", at, at + dt.timedelta(hours=1))
    2

    ``clinic=None`` gives a ledger of patients' bookings only: no resource is limited.
    ``units="as-given"`` keeps a chair or room booking made without a unit without one
    (``units="assign"``, the default, gives it the lowest free unit).
    """

    def __init__(
        self,
        clinic: Clinic | None,
        bookings: Iterable[Booking] = (),
        *,
        base: Ledger | None = None,
        units: Units = "assign",
    ) -> None:
        if not isinstance(clinic, Clinic | None):
            raise InputError("clinic", "a Clinic or None (demo_clinic() gives one)", clinic)
        if not isinstance(base, Ledger | None):
            raise InputError("base", "a Ledger or None", base)
        if not isinstance(units, str) or units not in ("assign", "as-given"):
            raise InputError("units", "'assign' or 'as-given'", units)
        if isinstance(bookings, str | bytes) or not isinstance(bookings, Iterable):
            raise InputError("bookings", "a list of Booking", bookings)
        self.clinic = clinic
        self.limits = limits(clinic) if clinic is not None else _NO_LIMITS
        self.units: dict[str, int] = {str(r): n for r, n in self.limits.units.items()}
        self.capacity: dict[str, int] = {str(r): n for r, n in self.limits.counted.items()}
        self.buffer: dict[str, int] = {r: m * 60 for r, m in self.limits.buffer_minutes.items()}
        """Each unit's cleaning buffer, in seconds."""
        self.base = base
        self._assign = units == "assign"
        self._rows = Rows()
        self._units = _Index()
        self._counted = _Index()
        self._loose = _Index()
        """Bookings of a numbered resource without a unit, by resource."""
        self._patients = _Index()
        """Bookings with a patient, all under one key: a clinic's patients mostly book once a
        day, so a day's list is short and an index per patient would cost more than it saves."""
        self._courses = _Index()
        """Bookings that belong to a plan (a course of treatment), by patient: few per patient,
        so a patient's other courses are found without reading the clinic's other bookings."""
        self._indexes: dict[IndexKind, _Index] = {
            "unit": self._units,
            "counted": self._counted,
            "patient": self._patients,
        }
        self._changed: dict[int, int] = {}  # UTC day -> number of its latest change
        self._before: dict[int, tuple[tuple[int, int], ...]] = {}
        """For the latest bookings added after the ledger was made (by row): the change number
        each of its days had before, restored when it is removed."""
        self.extend(bookings)

    @property
    def root(self) -> Ledger:
        """The ledger this one was forked from, and so on: the clinic's own."""
        ledger = self
        while ledger.base is not None:
            ledger = ledger.base
        return ledger

    @property
    def bookings(self) -> Sequence[Booking]:
        """This ledger's own bookings (not its base's), in the order added."""
        return _Bookings(self._rows)

    def fork(self) -> Ledger:
        """A new ledger that sees these bookings and keeps its own additions apart."""
        return Ledger(self.clinic, base=self, units="assign" if self._assign else "as-given")

    def without_plan(self, plan_id: str) -> Ledger:
        """A new ledger of every booking except plan ``plan_id``'s, to re-plan it among the rest.

        A plan's own bookings must not block its own sessions. This copies the other bookings'
        rows (linear in their number).
        """
        copy = Ledger(self.clinic, units="assign" if self._assign else "as-given")
        for ledger in self._chain()[::-1]:  # the base's first, as all_bookings lists them
            rows = ledger._rows
            for row in range(len(rows)):
                if rows.plan[row] != plan_id:
                    copy._index(copy._rows.copy_row(rows, row), undone="renumber")
        return copy

    def all_bookings(self) -> list[Booking]:
        """Every booking, the base's first (made from the rows: linear in their number)."""
        return [
            ledger._rows.booking(row)
            for ledger in self._chain()[::-1]
            for row in range(len(ledger._rows))
        ]

    def _chain(self) -> list[Ledger]:
        """This ledger, then the one it was forked from, and so on."""
        found: list[Ledger] = []
        ledger: Ledger | None = self
        while ledger is not None:
            found.append(ledger)
            ledger = ledger.base
        return found

    # -- queries ---------------------------------------------------------------------------

    def intervals(self, kind: IndexKind, key: object, start: int, end: int) -> list[Interval]:
        """The intervals (in seconds) filed under ``key`` near ``start``-``end``, base included.

        ``kind`` says which index: a ``(resource, unit)`` key, a counted resource, or a
        patient. Every interval that overlaps the span is in the list (others may be too).
        """
        found: list[Interval] = []
        for ledger in self._chain():
            rows = ledger._rows
            starts, ends = rows.start, rows.end
            if kind == "patient":
                near = ledger._patients.near(None, start, end, starts)
                who = rows.patient
                found += [(starts[r], ends[r]) for r in near if who[r] == key]
            else:
                near = ledger._indexes[kind].near(key, start, end, starts)
                found += [(starts[r], ends[r]) for r in near]
        return found

    def overlapping(
        self,
        spans: Iterable[Interval],
        *,
        resource: ResourceKind | None = None,
        patient: str | None = None,
    ) -> list[Booking]:
        """The bookings of ``resource``, or of ``patient``, that overlap one of ``spans``.

        Spans are in seconds; each booking is listed once, the base's first, in the order they
        were added. Of a resource: every unit's, those without a unit and the counted ones.
        Only the days the spans touch are read, so the cost is that of the bookings on those
        days, however many the ledger holds.
        """
        wanted = list(spans)
        found: list[Booking] = []
        for ledger in self._chain()[::-1]:
            rows = ledger._rows
            starts, ends, who = rows.start, rows.end, rows.patient
            near: set[int] = set()
            for key, index in ledger._keys(resource, patient):
                for start, end in wanted:
                    near.update(
                        row
                        for row in index.near(key, start, end, starts)
                        if starts[row] < end and start < ends[row]
                    )
            found += [
                rows.booking(row) for row in sorted(near) if patient is None or who[row] == patient
            ]
        return found

    def course_bookings(self, patient: str, start: int, end: int) -> list[Booking]:
        """The bookings of ``patient`` that belong to a plan and overlap ``start``-``end`` (s).

        Read from the index of plans' bookings by patient: the cost is the patient's own, however
        many bookings the clinic holds. The base's first, in the order they were added.
        """
        found: list[Booking] = []
        for ledger in self._chain()[::-1]:
            rows = ledger._rows
            starts, ends = rows.start, rows.end
            near = set(ledger._courses.near(patient, start, end, starts))
            found += [
                rows.booking(row) for row in sorted(near) if starts[row] < end and start < ends[row]
            ]
        return found

    def _keys(
        self, resource: ResourceKind | None, patient: str | None
    ) -> list[tuple[object, _Index]]:
        """Where :meth:`overlapping` looks: the keys of ``resource``, or the patients' index."""
        if patient is not None:
            return [(None, self._patients)]
        units = [(key, self._units) for key in self._units.by_key if key[0] == resource]  # type: ignore[index]
        return [*units, (resource, self._loose), (resource, self._counted)]

    def _occupied(self, resource: str, unit: int, start: int, end: int) -> bool:
        # Each use holds its unit until its end plus the cleaning buffer.
        buffer = self.buffer.get(resource, 0)
        low, high = start - buffer, end + buffer
        key = (resource, unit)
        day = low // _DAY
        one_day = day == (high - 1) // _DAY  # the common case: look up that day's list only
        ledger: Ledger | None = self
        while ledger is not None:  # this ledger, then the ones it was forked from
            rows = ledger._rows
            starts, ends = rows.start, rows.end
            if one_day:
                days = ledger._units.by_key.get(key)
                near: Iterable[int] = days.get(day, ()) if days else ()
            else:
                near = ledger._units.near(key, low, high, starts)
            for row in near:
                if starts[row] < high and low < ends[row]:
                    return True
            ledger = ledger.base
        return False

    def available(self, resource: str, start: int, end: int) -> int:
        """How many of ``resource`` the clinic has over ``start``-``end`` (seconds), at worst.

        Chairs and rooms: the units numbered up to it are in service. Counted resources: the
        places. The clinic's dated capacity changes count (:func:`~ketaplan.rules.capacity.limits`).
        """
        usual = self.units[resource] if resource in self.units else self.capacity.get(resource, 0)
        if not self.limits.reductions:
            return usual
        return max(0, usual - self.limits.fewer(resource, start, end))

    def free_unit(self, resource: ResourceKind, start: dt.datetime, end: dt.datetime) -> int | None:
        """The lowest-numbered free chair or room in service over ``start``-``end``.

        A unit is free when no use of it, with its cleaning buffer, overlaps the span.
        """
        s, e = seconds(start), seconds(end)
        for unit in range(1, self.available(resource, s, e) + 1):
            if not self._occupied(resource, unit, s, e):
                return unit
        return None

    def load(self, resource: ResourceKind, start: dt.datetime, end: dt.datetime) -> int:
        """The most bookings of a counted resource at any moment in ``start``-``end``."""
        s, e = seconds(start), seconds(end)
        return peak(self.intervals("counted", resource, s, e), s, e)

    @staticmethod
    def peak(intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime) -> int:
        """The most intervals overlapping at any moment within ``start``-``end``."""
        return peak(intervals, seconds(start), seconds(end))

    def has_room(self, resource: ResourceKind, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether one more booking of ``resource`` fits over ``start``-``end``."""
        if resource in self.units:
            return self.free_unit(resource, start, end) is not None
        if resource in self.capacity:
            room = self.available(resource, seconds(start), seconds(end))
            return self.load(resource, start, end) < room
        return True

    def patient_busy(self, patient: str, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether the patient has a booking overlapping ``start``-``end``."""
        s, e = seconds(start), seconds(end)
        return any(a < e and s < b for a, b in self.intervals("patient", patient, s, e))

    def changes(self, start: int, end: int) -> tuple[int, ...]:
        """What has changed near ``start``-``end`` (seconds): equal answers, same bookings there.

        For caches of answers that depend only on the bookings near a span (a day's busy
        chairs, say): an answer kept with this stamp is still right while the stamp is equal.
        """
        days = _days(start, end)
        stamp: list[int] = []
        ledger: Ledger | None = self
        while ledger is not None:
            stamp.extend(ledger._changed.get(day, 0) for day in days)
            ledger = ledger.base
        return tuple(stamp)

    def _touch(self, interval: Interval) -> None:
        change = next(_CHANGES)
        for day in _days(*interval):
            self._changed[day] = change

    def _restore(self, interval: Interval, before: tuple[tuple[int, int], ...] | None) -> None:
        """After the last booking was removed: its days' change numbers as they were before it.

        The bookings there are as they were then, so answers kept with those numbers hold again
        (a search that undoes a placement finds its days' answers still good). Without a record
        (a booking the ledger was made with), the days get a new number.
        """
        if before is None:
            self._touch(interval)
            return
        for day, change in before:
            if change:
                self._changed[day] = change
            else:
                self._changed.pop(day, None)

    # -- changes ---------------------------------------------------------------------------

    def add(self, booking: Booking) -> Booking:
        """Record a booking; a chair or room without a unit gets the lowest free one."""
        if not isinstance(booking, Booking):
            expected = "a Booking (ketaplan.plan_bookings gives a plan's, as check reads it)"
            raise InputError("booking", expected, type(booking).__name__)
        return self._add(booking, undone="restore")

    def add_occupied(self, at: Sequence[Occupied], /, *, patient: str, appointment: str) -> None:
        """Record what an appointment occupies (``at``: :func:`~ketaplan.bookings.occupied`).

        The same rows as adding its :func:`~ketaplan.bookings.bookings_of` bookings with
        :meth:`add`, without making them (the planner books each placement this way).
        """
        rows = self._rows
        for start, end, resource, given in at:
            if resource is None:
                row = rows.append_values(
                    start, end, None, None, patient=patient, appointment=appointment
                )
            else:
                chosen = given is None and self._chooses_unit(resource)
                unit = self.free_unit(resource, start, end) if chosen else given
                row = rows.append_values(
                    start, end, resource, unit, patient=None, appointment=appointment
                )
            self._index(row, undone="restore")

    def extend(self, bookings: Iterable[Booking], /) -> None:
        """Record many bookings (a clinic's bookings read in), each as :meth:`add` would.

        They may be a stream: the ledger keeps a row of each, not the booking. If one is
        removed again (:meth:`remove_last`), its days get new change numbers: no record of
        the numbers before it is kept, which for many bookings would cost memory.
        """
        if isinstance(bookings, str | bytes) or not isinstance(bookings, Iterable):
            raise InputError("bookings", "a list of Booking", bookings)
        for index, booking in enumerate(bookings):
            if not isinstance(booking, Booking):
                raise InputError(f"bookings[{index}]", "a Booking", booking)
            self._add(booking, undone="renumber")

    def _add(self, booking: Booking, *, undone: Literal["restore", "renumber"]) -> Booking:
        """:meth:`add`, and what :meth:`remove_last` will do to the change numbers of its days.

        ``undone``: restore them, or give new ones (for the bookings a ledger is made with,
        rarely removed: a record of each would cost memory).
        """
        resource = booking.resource
        if booking.unit is None and resource is not None and self._chooses_unit(resource):
            unit = self.free_unit(resource, booking.start, booking.end)
            booking = booking.model_copy(update={"unit": unit})
        self._index(self._rows.append(booking), undone=undone)
        return booking

    def _chooses_unit(self, resource: ResourceKind) -> bool:
        """Whether a booking of ``resource`` without a unit gets the lowest free one here.

        Chairs and rooms do, unless the ledger keeps units as given.
        """
        return self._assign and resource in self.units

    def _filed(self, row: int) -> Iterator[tuple[_Index, object]]:
        """The indexes row ``row`` is filed in, with its key in each."""
        rows = self._rows
        resource = RESOURCES[rows.resource[row]]
        if resource in self.units:
            unit = rows.unit[row]
            yield (self._units, (resource, unit)) if unit else (self._loose, resource)
        elif resource in self.capacity:
            yield self._counted, resource
        elif resource is not None:
            yield self._loose, resource  # a resource this clinic does not limit
        if rows.patient[row] is not None:
            yield self._patients, None
            if rows.plan[row] is not None:
                yield self._courses, rows.patient[row]

    def _index(self, row: int, *, undone: Literal["restore", "renumber"]) -> None:
        start, end = self._rows.start[row], self._rows.end[row]
        for index, key in self._filed(row):
            index.add(key, row, start, end)
        changed, days = self._changed, _days(start, end)
        if undone == "restore":
            before = self._before
            before[row] = tuple([(day, changed.get(day, 0)) for day in days])
            if len(before) > _REMEMBERED:  # the oldest goes: its booking is renumbered if removed
                del before[next(iter(before))]
        change = next(_CHANGES)  # what _touch does, for the days just listed
        for day in days:
            changed[day] = change

    def remove_last(self) -> Booking:
        """Undo the most recent :meth:`add` of this ledger (not of its base); the booking."""
        booking = self._rows.booking(len(self._rows) - 1)
        self.drop_last()
        return booking

    def drop_last(self) -> None:
        """:meth:`remove_last`, without making the booking again (a search backing up)."""
        rows = self._rows
        row = len(rows) - 1
        interval = (rows.start[row], rows.end[row])
        for index, key in self._filed(row):
            index.remove(key, row, *interval)
        rows.pop()
        self._restore(interval, self._before.pop(row, None))


def bookings_argument(name: str, value: object, clinic: Clinic) -> Ledger:
    """A ledger of ``value``: a :class:`Ledger` (forked) or an iterable of bookings.

    :class:`InputError` names ``name`` and the first item that is not a booking.
    """
    if isinstance(value, Ledger):
        return value.fork()
    return Ledger(clinic, booking_list(name, value))


def booking_list(name: str, value: object, *, ledger: bool = True) -> list[Booking]:
    """``value``'s bookings as a list; :class:`InputError` names ``name`` or the first wrong item.

    ``ledger``: whether the argument may be a :class:`Ledger` instead (the message says so).
    """
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InputError(name, "a Ledger or a list of Booking" if ledger else "a list of Booking",
                         value)  # fmt: skip
    items = list(value)
    for index, item in enumerate(items):
        if not isinstance(item, Booking):
            raise InputError(f"{name}[{index}]", "a Booking", item)
    return items
