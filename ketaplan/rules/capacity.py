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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ketaplan._types import ResourceKind
from ketaplan.clinic import Clinic
from ketaplan.plans import ResourceSpan
from ketaplan.protocol import SessionKind
from ketaplan.timing import shift

__all__ = ["Limits", "Use", "limits", "spans", "uses"]


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
    # From a validated kind and an aware start: nothing here to validate again.
    return tuple(
        ResourceSpan.trusted(
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
