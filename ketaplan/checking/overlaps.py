"""``check``'s overlap rules: the patient in two places, and resources over capacity.

The other bookings come from the ledger's day index (:meth:`Ledger.overlapping
<ketaplan.ledger.Ledger.overlapping>`): only those overlapping one of the plan's sessions are
read, so checking a plan against a whole clinic's bookings costs what is booked on the plan's
own days. Both rules are then sweeps over those few intervals. The clinic's capacity, each
unit's cleaning buffer and what "at once" means come from :mod:`ketaplan.rules.capacity`, as
the ledger's do for the planner (:func:`~ketaplan.rules.capacity.at_once`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from ketaplan._text import fmt_day
from ketaplan._types import ResourceKind
from ketaplan.bookings import Booking
from ketaplan.checking.context import Context
from ketaplan.ledger import seconds
from ketaplan.rules.capacity import at_once, limits
from ketaplan.timing import shift
from ketaplan.violation import Violation

__all__ = ["Interval", "capacity", "double_booking", "overlapping_pairs", "overloads"]


class Interval(NamedTuple):
    """A span of time taken, by whom, and whether it is the checked plan's own."""

    start: dt.datetime
    end: dt.datetime
    name: str
    mine: bool
    unit: int | None = None


def double_booking(ctx: Context) -> list[Violation]:
    """The patient's appointments overlapping each other or their other commitments."""
    intervals = [Interval(a.start, a.end, a.id, True) for a in ctx.active]
    if ctx.patient is not None:
        intervals += [
            Interval(b.start, b.end, b.label or "another appointment", False)
            for b in ctx.patient.appointments
        ]
    who = ctx.plan.patient
    if who is not None and ctx.bookings is not None:
        spans = [(seconds(a.start), seconds(a.end)) for a in ctx.active]
        intervals += [
            Interval(b.start, b.end, b.label or "another booking", False)
            for b in ctx.bookings.overlapping(spans, patient=who)
            if b.plan != ctx.plan.id
        ]
    found = []
    for first, second in overlapping_pairs(intervals):
        ids = _mine(first, second)
        found.append(
            ctx.violation(
                "patient-double-booked",
                ids,
                "one patient, one place at a time",
                f"{first.name} ({first.start:%H:%M}-{first.end:%H:%M}) overlaps {second.name} "
                f"({second.start:%H:%M}-{second.end:%H:%M}) on {fmt_day(first.start.date())}",
            )
        )
    return found


def capacity(ctx: Context) -> list[Violation]:
    """Moments with more uses of a resource than the clinic has, and units reused too soon."""
    if ctx.clinic is None:
        return []
    clinic_limits = limits(ctx.clinic)
    spans: dict[ResourceKind, list[Interval]] = defaultdict(list)
    for appointment in ctx.active:
        for span in appointment.resources:
            if clinic_limits.capacity(span.resource) is not None:
                pad = clinic_limits.buffer_minutes.get(span.resource, 0)
                spans[span.resource].append(
                    Interval(
                        span.start, shift(span.end, minutes=pad), appointment.id, True, span.unit
                    )
                )
    for resource, mine in list(spans.items()):
        pad = clinic_limits.buffer_minutes.get(resource, 0)
        spans[resource] += [
            Interval(b.start, shift(b.end, minutes=pad), b.label or "a booking", False, b.unit)
            for b in _others(ctx, resource, mine, pad * 60)
        ]
    found = []
    for resource, items in spans.items():
        limit = clinic_limits.capacity(resource)
        assert limit is not None  # noqa: S101 - only limited resources are collected
        for peak, involved in overloads(items, limit):
            found.append(
                ctx.violation(
                    "over-capacity",
                    involved,
                    f"clinic {ctx.clinic.id}: {limit} {resource}",
                    f"{peak} uses of {resource} at once (the clinic has {limit}) "
                    f"involving {', '.join(involved)}",
                )
            )
        if resource in clinic_limits.units:
            found += _unit_conflicts(ctx, resource, items)
    return found


def _others(ctx: Context, resource: ResourceKind, mine: list[Interval], pad: int) -> list[Booking]:
    """The other bookings of ``resource`` whose uses overlap one of the plan's (``mine``).

    Both with the cleaning buffer of ``pad`` seconds: only these can make a moment of the
    plan's over capacity or share its unit too soon.
    """
    if ctx.bookings is None:
        return []
    spans = [(seconds(item.start) - pad, seconds(item.end)) for item in mine]
    found = ctx.bookings.overlapping(spans, resource=resource)
    return [b for b in found if b.plan != ctx.plan.id]


def _unit_conflicts(ctx: Context, resource: str, items: list[Interval]) -> list[Violation]:
    by_unit: dict[int, list[Interval]] = defaultdict(list)
    for item in items:
        if item.unit is not None:
            by_unit[item.unit].append(item)
    found = []
    for unit, uses in by_unit.items():
        for first, second in overlapping_pairs(uses):
            ids = _mine(first, second)
            found.append(
                ctx.violation(
                    "chair-buffer",
                    ids,
                    f"{resource} {unit} with its cleaning buffer",
                    f"{resource} {unit}: {second.name} starts before {first.name} and its "
                    "cleaning buffer end",
                )
            )
    return found


def _mine(*items: Interval) -> list[str]:
    """The checked plan's appointments among ``items``."""
    return [item.name for item in items if item.mine]


def overlapping_pairs(intervals: Iterable[Interval]) -> list[tuple[Interval, Interval]]:
    """Pairs of overlapping intervals where at least one is the plan's (sweep, O(n log n + k))."""
    ordered = sorted(intervals, key=lambda item: (item.start, item.end))
    open_: list[Interval] = []
    pairs = []
    for item in ordered:
        open_ = [other for other in open_ if other.end > item.start]
        pairs += [(other, item) for other in open_ if other.mine or item.mine]
        open_.append(item)
    return pairs


def overloads(intervals: Iterable[Interval], limit: int) -> list[tuple[int, list[str]]]:
    """Moments where more than ``limit`` intervals are in use at once and one is the plan's."""
    items = list(intervals)
    found: list[tuple[int, list[str]]] = []
    reported: set[frozenset[str]] = set()
    uses = ((item.start, item.end, key) for key, item in enumerate(items))
    for _, current in at_once(uses):
        if len(current) > limit:
            involved = sorted(items[k].name for k in current if items[k].mine)
            episode = frozenset(involved)
            if involved and episode not in reported:
                reported.add(episode)
                found.append((len(current), involved))
    return found
