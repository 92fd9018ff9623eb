"""What a session occupies, and how much of each resource a clinic has.

A session kind uses resources over parts of its timeline (a chair for the whole block, a
monitoring place while dosing and monitoring, the prescriber during dosing). :func:`spans`
turns a start into each resource's span; :func:`limits` says how many of each the clinic has:
chairs and rooms are numbered units that keep a cleaning buffer after each use, monitoring
staff are counted (staff times patients per staff), and the prescriber is a presence checked
against the clinic's prescriber hours, not a capacity. The ledger, the slot finder and
``check`` all take these from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from ketaplan._types import ResourceKind
from ketaplan.clinic import Clinic
from ketaplan.plans import ResourceSpan
from ketaplan.protocol import SessionKind
from ketaplan.timing import shift

__all__ = ["Limits", "Use", "at_once", "limits", "peak", "spans", "uses"]

T = TypeVar("T", int, dt.datetime)
K = TypeVar("K", bound=Hashable)


class Use(NamedTuple):
    """A resource a session kind uses, from ``offset`` to ``finish`` minutes after its start."""

    resource: ResourceKind
    offset: int
    finish: int


def uses(kind: SessionKind) -> tuple[Use, ...]:
    """The kind's resource uses, in the order the protocol lists them."""
    found = []
    for use in kind.resources:
        offset, finish = kind.timeline.span(use.during)
        found.append(Use(use.resource, offset, finish))
    return tuple(found)


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
    return tuple(
        ResourceSpan(
            resource=use.resource,
            unit=chosen.get(use.resource),
            start=shift(start, minutes=use.offset),
            end=shift(start, minutes=use.finish),
        )
        for use in uses(kind)
    )


@dataclass(frozen=True)
class Limits:
    """How much of each resource a clinic has."""

    units: Mapping[ResourceKind, int]
    """Numbered resources (chairs, rooms): how many."""
    counted: Mapping[ResourceKind, int]
    """Counted resources (monitoring places): how many at once."""
    buffer_minutes: Mapping[ResourceKind, int]
    """After each use a unit stays taken this long (cleaning)."""

    def capacity(self, resource: ResourceKind) -> int | None:
        """How many uses of ``resource`` may overlap (``None``: not limited)."""
        if resource in self.units:
            return self.units[resource]
        return self.counted.get(resource)


def limits(clinic: Clinic) -> Limits:
    """The clinic's resources as limits."""
    resources = clinic.resources
    return Limits(
        units={"chair": resources.chairs, "room": resources.rooms},
        counted={"monitoring-staff": resources.monitoring_staff * resources.patients_per_staff},
        buffer_minutes={"chair": resources.chair_buffer_minutes, "room": 0},
    )


def at_once(uses: Iterable[tuple[T, T, K]]) -> Iterator[tuple[T, set[K]]]:
    """Each moment a use begins, with the uses in progress then (itself included).

    The capacity rule's one notion of "at once", which the ledger (for the planner) and
    ``check`` both count with: a use holds its resource from its start to its end (the caller
    adds a unit's cleaning buffer to the end), and one that ends as another begins does not
    overlap it. ``uses`` are ``(start, end, key)`` with distinct keys; the set yielded is
    updated in place as the sweep goes on.
    """
    events = []
    for start, end, key in uses:
        events.append((start, 1, key))
        events.append((end, 0, key))  # at equal times 0 sorts first: ends before starts
    events.sort(key=lambda event: (event[0], event[1]))
    current: set[K] = set()
    for moment, begins, key in events:
        if begins:
            current.add(key)
            yield moment, current
        else:
            current.discard(key)


def peak(intervals: Iterable[tuple[int, int]], start: int, end: int) -> int:
    """The most ``intervals`` in use at once within ``start``-``end`` (:func:`at_once`)."""
    clipped = (
        (max(a, start), min(b, end), key)
        for key, (a, b) in enumerate(intervals)
        if a < end and start < b
    )
    return max((len(current) for _, current in at_once(clipped)), default=0)
