"""What a session occupies, and how much of each resource a clinic has.

A session kind uses resources over parts of its timeline (a chair for the whole block, a
monitoring place while dosing and monitoring, the prescriber during dosing). :func:`spans`
turns a start into each resource's span; :func:`limits` says how many of each the clinic has:
chairs and rooms are numbered units that keep a cleaning buffer after each use, monitoring
staff are counted (staff times patients per staff), and the prescriber is a presence checked
against the clinic's prescriber hours, not a capacity. The clinic's dated capacity changes
(:class:`~ketaplan.clinic.CapacityChange`: a chair out of service, a staff member absent) are
:class:`Reduction` s of these limits over whole local days; the chairs and rooms out of service
are the highest-numbered. The ledger, the slot finder and ``check`` all take these from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from ketaplan._types import ResourceKind
from ketaplan.clinic import Clinic
from ketaplan.plans import ResourceSpan
from ketaplan.protocol import SessionKind
from ketaplan.timing import shift, shifts

__all__ = [
    "Limits",
    "OnDuty",
    "Reduction",
    "Use",
    "at_once",
    "dosing_start",
    "limits",
    "monitoring_on_duty",
    "peak",
    "same_spans",
    "spans",
    "uses",
]

T = TypeVar("T", int, dt.datetime)
K = TypeVar("K", bound=Hashable)


class Use(NamedTuple):
    """A resource a session kind uses, from ``offset`` to ``finish`` minutes after its start."""

    resource: ResourceKind
    offset: int
    finish: int


def uses(kind: SessionKind) -> tuple[Use, ...]:
    """The kind's resource uses, in the order the protocol lists them."""
    known = _USES.get(id(kind))
    if known is not None and known[0] is kind:
        return known[1]
    found = []
    for use in kind.resources:
        offset, finish = kind.timeline.span(use.during)
        found.append(Use(use.resource, offset, finish))
    if len(_USES) >= _USES_KEPT:
        _USES.clear()
    _USES[id(kind)] = (kind, tuple(found))
    return tuple(found)


#: :func:`uses` of the kinds asked about, by identity (a kind is frozen; the entry holds the
#: kind, so that its id is not reused while the entry is there); at most ``_USES_KEPT``.
_USES: dict[int, tuple[SessionKind, tuple[Use, ...]]] = {}
_USES_KEPT = 1024


def dosing_start(kind: SessionKind, start: dt.datetime) -> dt.datetime | None:
    """When dosing begins in a session of ``kind`` starting at ``start``: after its check-in.

    ``None`` for a session without dosing. Real elapsed minutes, as :func:`spans` counts them.
    The planner, a re-plan's moves and every reader of a plan (``_resolve.timed``) take it
    from here.
    """
    return shift(start, minutes=kind.timeline.check_in_minutes) if kind.is_dosing else None


def spans(
    kind: SessionKind,
    start: dt.datetime,
    *,
    units: Mapping[ResourceKind, int | None] | None = None,
) -> tuple[ResourceSpan, ...]:
    """Each resource's span for a session of ``kind`` starting at ``start``.

    ``units`` keeps the chair or room number each resource had (a moved session keeps its
    chair). Offsets are real elapsed minutes, so a session across a DST change keeps its
    length.
    """
    chosen = units or {}
    kind_uses = uses(kind)
    moments = _moments(kind_uses, start)
    # From a validated kind and an aware start: nothing here to validate again.
    return tuple(
        ResourceSpan.trusted(
            resource=use.resource,
            unit=chosen.get(use.resource),
            start=moments[2 * number],
            end=moments[2 * number + 1],
        )
        for number, use in enumerate(kind_uses)
    )


def same_spans(kind: SessionKind, start: dt.datetime, stored: Sequence[ResourceSpan]) -> bool:
    """Whether ``stored`` are the spans :func:`spans` gives, whatever their units.

    Compared as moments, without making the spans: a reader of a plan asks for every session,
    and most stored spans agree.
    """
    kind_uses = uses(kind)
    if len(stored) != len(kind_uses):
        return False
    moments = _moments(kind_uses, start)
    return all(
        span.resource == use.resource
        and span.start == moments[2 * number]
        and span.end == moments[2 * number + 1]
        for number, (span, use) in enumerate(zip(stored, kind_uses, strict=True))
    )


def _moments(kind_uses: tuple[Use, ...], start: dt.datetime) -> list[dt.datetime]:
    """Where each use begins and ends, in turn, from ``start`` (real elapsed minutes)."""
    return shifts(start, [m for use in kind_uses for m in (use.offset, use.finish)])


class Reduction(NamedTuple):
    """Fewer of some resources from ``start`` to ``end`` (epoch seconds: local midnights)."""

    start: int
    end: int
    fewer: Mapping[str, int]
    """How many fewer of each resource (units, or counted places)."""


@dataclass(frozen=True)
class Limits:
    """How much of each resource a clinic has, and when it has less."""

    units: Mapping[ResourceKind, int]
    """Numbered resources (chairs, rooms): how many."""
    counted: Mapping[ResourceKind, int]
    """Counted resources (monitoring places): how many at once."""
    buffer_minutes: Mapping[ResourceKind, int]
    """After each use a unit stays taken this long (cleaning)."""
    reductions: tuple[Reduction, ...] = ()
    """The clinic's dated capacity changes, as reductions of these limits."""

    def capacity(self, resource: ResourceKind) -> int | None:
        """How many uses of ``resource`` may overlap (``None``: not limited), as usual."""
        if resource in self.units:
            return self.units[resource]
        return self.counted.get(resource)

    def fewer(self, resource: str, start: int, end: int) -> int:
        """How many fewer of ``resource`` there are at the worst moment of ``start``-``end``."""
        near = [
            r for r in self.reductions if r.start < end and start < r.end and r.fewer.get(resource)
        ]
        if not near:
            return 0
        moments = {start, *(r.start for r in near if r.start > start)}
        return max(
            sum(r.fewer[resource] for r in near if r.start <= moment < r.end) for moment in moments
        )

    def capacity_during(self, resource: ResourceKind, start: int, end: int) -> int | None:
        """:meth:`capacity` at the worst moment of ``start``-``end`` (epoch seconds).

        For a chair or room, the units numbered up to it are in service then.
        """
        usual = self.capacity(resource)
        if usual is None or not self.reductions:
            return usual
        return max(0, usual - self.fewer(resource, start, end))

    def changes_between(self, start: int, end: int) -> list[int]:
        """The moments inside ``start``-``end`` at which a reduction begins or ends."""
        return sorted({m for r in self.reductions for m in (r.start, r.end) if start < m < end})


def limits(clinic: Clinic) -> Limits:
    """The clinic's resources as limits, with its dated capacity changes."""
    resources = clinic.resources
    return Limits(
        units={"chair": resources.chairs, "room": resources.rooms},
        counted={"monitoring-staff": resources.monitoring_staff * resources.patients_per_staff},
        buffer_minutes={"chair": resources.chair_buffer_minutes, "room": 0},
        reductions=_reductions(clinic),
    )


class OnDuty(NamedTuple):
    """The monitoring staff on duty over a stretch, and how many patients they may watch."""

    staff: int
    capacity: int


def monitoring_on_duty(clinic: Clinic, start: dt.datetime, end: dt.datetime) -> OnDuty:
    """The monitoring staff at the worst moment of ``start``-``end``, a dated absence counted.

    The capacity is the one the planner and ``check`` hold sessions to
    (:meth:`Limits.capacity_during`); the staff are the clinic's less those absent then.
    """
    found = limits(clinic)
    first, last = int(start.timestamp()), int(end.timestamp())
    capacity = found.capacity_during("monitoring-staff", first, last) or 0
    absent = found.fewer("monitoring-staff", first, last) // clinic.resources.patients_per_staff
    return OnDuty(max(0, clinic.resources.monitoring_staff - absent), capacity)


def _reductions(clinic: Clinic) -> tuple[Reduction, ...]:
    """Each change that takes something out of service, over its whole local days."""
    tz = clinic.zone
    found = []
    per_staff = clinic.resources.patients_per_staff
    for change in clinic.capacity_changes:
        counts = {
            "chair": change.chairs,
            "room": change.rooms,
            "monitoring-staff": change.monitoring_staff * per_staff,
        }
        fewer = {resource: count for resource, count in counts.items() if count}
        if fewer:
            begins = dt.datetime.combine(change.start, dt.time(0), tzinfo=tz)
            ends = dt.datetime.combine(change.last + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
            found.append(Reduction(int(begins.timestamp()), int(ends.timestamp()), fewer))
    return tuple(found)


def at_once(
    uses: Iterable[tuple[T, T, K]], *, checks: Iterable[T] = ()
) -> Iterator[tuple[T, set[K]]]:
    """Each moment a use begins, and each of ``checks``, with the uses in progress then.

    The capacity rule's one notion of "at once", which the ledger (for the planner) and
    ``check`` both count with: a use holds its resource from its start to its end (the caller
    adds a unit's cleaning buffer to the end), and one that ends as another begins does not
    overlap it. ``uses`` are ``(start, end, key)`` with distinct keys; the set yielded is
    updated in place as the sweep goes on. ``checks`` are further moments to look at (where a
    dated capacity change makes the limit change); at equal times ends come first, then
    checks, then starts.
    """
    keys: list[K] = []
    events: list[tuple[T, int, int]] = []
    for number, (start, end, key) in enumerate(uses):
        keys.append(key)
        events.append((start, _BEGINS, number))
        events.append((end, _ENDS, number))
    events += [(moment, _LOOK, -1) for moment in checks]
    events.sort(key=lambda event: (event[0], event[1]))
    current: set[K] = set()
    for moment, what, number in events:
        if what == _ENDS:
            current.discard(keys[number])
            continue
        if what == _BEGINS:
            current.add(keys[number])
        yield moment, current


#: Sweep events in the order they are taken at one moment (see :func:`at_once`).
_ENDS, _LOOK, _BEGINS = 0, 1, 2


def peak(intervals: Iterable[tuple[int, int]], start: int, end: int) -> int:
    """The most ``intervals`` in use at once within ``start``-``end`` (:func:`at_once`)."""
    clipped = (
        (max(a, start), min(b, end), key)
        for key, (a, b) in enumerate(intervals)
        if a < end and start < b
    )
    return max((len(current) for _, current in at_once(clipped)), default=0)
