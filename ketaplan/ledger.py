"""The ledger: a clinic's bookings, indexed to answer capacity questions quickly.

The :class:`Ledger` indexes :class:`~ketaplan.bookings.Booking` s by resource, unit and day, so
the planner can ask "is a chair free from 09:00 to 11:30?" without scanning the whole clinic.
Chairs and rooms are numbered units (a patient keeps one chair for the whole block, plus the
cleaning buffer); monitoring staff are counted by the clinic's patients-per-staff ratio (both
from :func:`ketaplan.rules.capacity.limits`). Each day of the index has a change number, so a
cache of answers about a day can tell whether that day's bookings changed (:meth:`changes`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

from ketaplan._types import ResourceKind
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError
from ketaplan.rules.capacity import limits

__all__ = ["Ledger"]

_DAY = 86_400
_CHANGES = itertools.count(1)  # every change of any ledger gets a new number
#: How many of the latest bookings' earlier change numbers a ledger keeps, to give them back
#: if the booking is removed (a search backing up); older ones get new numbers instead.
_REMEMBERED = 4096
IndexKind = Literal["unit", "counted", "patient"]
"""Which index: numbered units by ``(resource, unit)``, counted resources, or patients."""

Interval = tuple[int, int]


def seconds(moment: dt.datetime) -> int:
    """Whole seconds since the epoch, for fast interval arithmetic."""
    return int(moment.timestamp())


def _days(start: int, end: int) -> range:
    return range(start // _DAY, (end - 1) // _DAY + 1)


class _Index:
    """Intervals by key and UTC day."""

    def __init__(self) -> None:
        self.by_key: dict[object, dict[int, list[Interval]]] = defaultdict(
            lambda: defaultdict(list)
        )

    def add(self, key: object, interval: Interval) -> None:
        days = self.by_key[key]
        for day in _days(*interval):
            days[day].append(interval)

    def remove(self, key: object, interval: Interval) -> None:
        days = self.by_key[key]
        for day in _days(*interval):
            days[day].remove(interval)

    def near(self, key: object, start: int, end: int) -> Iterable[Interval]:
        days = self.by_key.get(key)
        if not days:
            return ()
        query = _days(start, end)
        if len(query) == 1:  # the common case: one day, where nothing can be listed twice
            return days.get(query.start, ())
        # An interval spanning several days is listed under each: keep it once, on the first
        # of its days that the query covers. Equal intervals of different bookings all stay.
        return [
            interval
            for day in query
            for interval in days.get(day, ())
            if max(interval[0] // _DAY, query.start) == day
        ]


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
    """

    def __init__(
        self, clinic: Clinic, bookings: Iterable[Booking] = (), *, base: Ledger | None = None
    ) -> None:
        self.clinic = clinic
        self.limits = limits(clinic)
        self.units: dict[str, int] = {str(r): n for r, n in self.limits.units.items()}
        self.capacity: dict[str, int] = {str(r): n for r, n in self.limits.counted.items()}
        self.buffer: dict[str, int] = {r: m * 60 for r, m in self.limits.buffer_minutes.items()}
        """Each unit's cleaning buffer, in seconds."""
        self.base = base
        self._units = _Index()
        self._counted = _Index()
        self._patients = _Index()
        self._indexes: dict[IndexKind, _Index] = {
            "unit": self._units,
            "counted": self._counted,
            "patient": self._patients,
        }
        self.bookings: list[Booking] = []
        self._changed: dict[int, int] = {}  # UTC day -> number of its latest change
        self._before: dict[int, tuple[tuple[int, int], ...]] = {}
        """For the latest bookings added after the ledger was made (by place in ``bookings``):
        the change number each of its days had before, restored when it is removed."""
        for booking in bookings:
            self._add(booking, undone="renumber")

    @property
    def root(self) -> Ledger:
        """The ledger this one was forked from, and so on: the clinic's own."""
        ledger = self
        while ledger.base is not None:
            ledger = ledger.base
        return ledger

    def fork(self) -> Ledger:
        """A new ledger that sees these bookings and keeps its own additions apart."""
        return Ledger(self.clinic, base=self)

    def without_plan(self, plan_id: str) -> Ledger:
        """A new ledger of every booking except plan ``plan_id``'s, to re-plan it among the rest.

        A plan's own bookings must not block its own sessions. This copies the other bookings
        (linear in their number).
        """
        return Ledger(self.clinic, [b for b in self.all_bookings() if b.plan != plan_id])

    def all_bookings(self) -> list[Booking]:
        """Every booking, the base's first."""
        inherited = self.base.all_bookings() if self.base is not None else []
        return inherited + self.bookings

    # -- queries ---------------------------------------------------------------------------

    def intervals(self, kind: IndexKind, key: object, start: int, end: int) -> list[Interval]:
        """The intervals (in seconds) filed under ``key`` near ``start``-``end``, base included.

        ``kind`` says which index: a ``(resource, unit)`` key, a counted resource, or a
        patient. Every interval that overlaps the span is in the list (others may be too).
        """
        return self._near(kind, key, start, end)

    def _near(self, index: IndexKind, key: object, start: int, end: int) -> list[Interval]:
        own = self._indexes[index]
        found = list(own.near(key, start, end))
        if self.base is not None:
            found += self.base._near(index, key, start, end)
        return found

    def _occupied(self, resource: str, unit: int, start: int, end: int) -> bool:
        # Each use holds its unit until its end plus the cleaning buffer.
        buffer = self.buffer.get(resource, 0)
        low, high = start - buffer, end + buffer
        key = (resource, unit)
        day = low // _DAY
        one_day = day == (high - 1) // _DAY  # the common case: look up that day's list only
        ledger: Ledger | None = self
        while ledger is not None:  # this ledger, then the ones it was forked from
            if one_day:
                days = ledger._units.by_key.get(key)
                near: Iterable[Interval] = days.get(day, ()) if days else ()
            else:
                near = ledger._units.near(key, low, high)
            for s, e in near:
                if s < high and low < e:
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
        return self.peak(self._near("counted", resource, seconds(start), seconds(end)), start, end)

    @staticmethod
    def peak(intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime) -> int:
        """The most intervals overlapping at any moment within ``start``-``end``."""
        s, e = seconds(start), seconds(end)
        events: list[tuple[int, int]] = []
        for a, b in intervals:
            if a < e and s < b:
                events.append((max(a, s), 1))
                events.append((min(b, e), -1))
        events.sort()
        current = best = 0
        for _, step in events:
            current += step
            best = max(best, current)
        return best

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
        return any(a < e and s < b for a, b in self._near("patient", patient, s, e))

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
        return self._add(booking, undone="restore")

    def _add(self, booking: Booking, *, undone: Literal["restore", "renumber"]) -> Booking:
        """:meth:`add`, and what :meth:`remove_last` will do to the change numbers of its days.

        ``undone``: restore them, or give new ones (for the bookings a ledger is made with,
        rarely removed: a record of each would cost memory).
        """
        resource = booking.resource
        if resource in self.units and booking.unit is None:
            unit = self.free_unit(resource, booking.start, booking.end)
            booking = booking.model_copy(update={"unit": unit})
        interval = (seconds(booking.start), seconds(booking.end))
        if resource in self.units and booking.unit is not None:
            self._units.add((resource, booking.unit), interval)
        elif resource in self.capacity:
            self._counted.add(resource, interval)
        if booking.patient is not None:
            self._patients.add(booking.patient, interval)
        changed, days = self._changed, _days(*interval)
        if undone == "restore":
            before = self._before
            before[len(self.bookings)] = tuple([(day, changed.get(day, 0)) for day in days])
            if len(before) > _REMEMBERED:  # the oldest goes: its booking is renumbered if removed
                del before[next(iter(before))]
        change = next(_CHANGES)  # what _touch does, for the days just listed
        for day in days:
            changed[day] = change
        self.bookings.append(booking)
        return booking

    def remove_last(self) -> Booking:
        """Undo the most recent :meth:`add` of this ledger (not of its base)."""
        booking = self.bookings.pop()
        interval = (seconds(booking.start), seconds(booking.end))
        if booking.resource in self.units and booking.unit is not None:
            self._units.remove((booking.resource, booking.unit), interval)
        elif booking.resource in self.capacity:
            self._counted.remove(booking.resource, interval)
        if booking.patient is not None:
            self._patients.remove(booking.patient, interval)
        self._restore(interval, self._before.pop(len(self.bookings), None))
        return booking


def bookings_argument(name: str, value: object, clinic: Clinic) -> Ledger:
    """A ledger of ``value``: a :class:`Ledger` (forked) or an iterable of bookings.

    :class:`InputError` names ``name`` and the first item that is not a booking.
    """
    if isinstance(value, Ledger):
        return value.fork()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InputError(name, "a Ledger or a list of Booking", value)
    items = list(value)
    for index, item in enumerate(items):
        if not isinstance(item, Booking):
            raise InputError(f"{name}[{index}]", "a Booking", item)
    return Ledger(clinic, items)
