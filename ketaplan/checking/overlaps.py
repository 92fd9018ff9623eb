"""``check``'s overlap rules: the patient in two places, and resources over capacity.

The other bookings come from the ledger's day index (:meth:`Ledger.overlapping
<ketaplan.ledger.Ledger.overlapping>`): only those overlapping one of the plan's sessions are
read, so checking a plan against a whole clinic's bookings costs what is booked on the plan's
own days. Both rules are then sweeps over those few intervals. The clinic's capacity, each
unit's cleaning buffer and what "at once" means come from :mod:`ketaplan.rules.capacity`, as
the ledger's do for the planner (:func:`~ketaplan.rules.capacity.at_once`), with the clinic's
dated capacity changes: fewer uses allowed on those days, and a chair or room out of service
then is not to be used at all (``unit-out-of-service``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import NamedTuple

from ketaplan._resolve import other_courses
from ketaplan._text import fmt_day, quantity
from ketaplan._types import ResourceKind
from ketaplan.bookings import Booking
from ketaplan.checking.context import Context
from ketaplan.ledger import seconds
from ketaplan.rules.capacity import Limits, at_once, limits
from ketaplan.timing import shift, zone
from ketaplan.violation import Violation

__all__ = [
    "Interval",
    "another_course",
    "capacity",
    "double_booking",
    "overlapping_pairs",
    "overloads",
]


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


def another_course(ctx: Context) -> list[Violation]:
    """The patient's sessions of another plan during this one's course (``other_courses``)."""
    if ctx.bookings is None:
        return []
    by_plan: dict[str, list[Booking]] = defaultdict(list)
    for booking in other_courses(ctx.bookings, ctx.plan):
        by_plan[booking.plan or ""].append(booking)
    local = zone(ctx.plan.time_zone)
    found = []
    for plan_id, bookings in by_plan.items():
        first, last = min(b.start for b in bookings), max(b.end for b in bookings)
        days = [first.astimezone(local).date(), last.astimezone(local).date()]
        sessions = len({b.appointment or b.label for b in bookings})
        during = [a.id for a in ctx.active if a.end > first and a.start < last]
        found.append(
            ctx.violation(
                "another-course",
                (during or [a.id for a in ctx.active])[:1],
                "one course at a time",
                f"patient {ctx.plan.patient} has {quantity(sessions, 'session')} of plan "
                f"{plan_id} from {fmt_day(days[0])} to {fmt_day(days[-1])}, during this course: "
                "their doses "
                "are not judged together (finish or stop one, or move this one after it)",
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
                    Interval(span.start, _padded(span.end, pad), appointment.id, True, span.unit)
                )
    for resource, mine in list(spans.items()):
        pad = clinic_limits.buffer_minutes.get(resource, 0)
        spans[resource] += [
            Interval(b.start, _padded(b.end, pad), b.label or "a booking", False, b.unit)
            for b in _others(ctx, resource, mine, pad * 60)
        ]
    found = []
    for resource, items in spans.items():
        at = _limit_at(clinic_limits, resource)
        usual = clinic_limits.capacity(resource) or 0
        lowest = max(0, usual - sum(r.fewer.get(resource, 0) for r in clinic_limits.reductions))
        checks = _boundaries(clinic_limits, items)
        for peak, limit, involved in overloads(items, at, checks=checks, lowest=lowest):
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
            found += _out_of_service(ctx, ctx.clinic.id, clinic_limits, resource, items)
    return found


def _limit_at(clinic_limits: Limits, resource: ResourceKind) -> Callable[[dt.datetime], int]:
    """How many uses of ``resource`` the clinic allows at a moment (its dated changes count)."""

    def at(moment: dt.datetime) -> int:
        instant = int(moment.timestamp())
        limit = clinic_limits.capacity_during(resource, instant, instant + 1)
        assert limit is not None  # noqa: S101 - only limited resources are collected
        return limit

    return at


def _boundaries(clinic_limits: Limits, items: list[Interval]) -> list[dt.datetime]:
    """The moments within ``items`` at which a dated capacity change begins or ends."""
    if not clinic_limits.reductions or not items:
        return []
    first = int(min(item.start for item in items).timestamp())
    last = int(max(item.end for item in items).timestamp())
    return [
        dt.datetime.fromtimestamp(m, dt.UTC) for m in clinic_limits.changes_between(first, last)
    ]


def _out_of_service(
    ctx: Context, clinic: str, clinic_limits: Limits, resource: ResourceKind, items: list[Interval]
) -> list[Violation]:
    """The plan's uses of a chair or room that a dated capacity change took out of service."""
    if not clinic_limits.reductions:
        return []
    found = []
    for item in items:
        if not item.mine or item.unit is None:
            continue
        start, end = int(item.start.timestamp()), int(item.end.timestamp())
        in_service = clinic_limits.capacity_during(resource, start, end)
        if in_service is not None and item.unit > in_service:
            found.append(
                ctx.violation(
                    "unit-out-of-service",
                    [item.name],
                    f"clinic {clinic}: {in_service} {resource} in service then",
                    f"{item.name} uses {resource} {item.unit}, out of service on "
                    f"{fmt_day(item.start.date())}",
                )
            )
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


def _padded(end: dt.datetime, minutes: int) -> dt.datetime:
    """A use's end with its unit's cleaning buffer (most units have none)."""
    return shift(end, minutes=minutes) if minutes else end


def overloads(
    intervals: Iterable[Interval],
    limit: Callable[[dt.datetime], int],
    *,
    checks: Iterable[dt.datetime] = (),
    lowest: int = 0,
) -> list[tuple[int, int, list[str]]]:
    """Moments where more than ``limit(moment)`` intervals are in use, one the plan's.

    Each is ``(how many, the limit then, the plan's intervals involved)``. The load is compared
    at each start and at each of ``checks`` (where the limit changes), counted by
    :func:`~ketaplan.rules.capacity.at_once`; ``limit`` is asked only when the load exceeds
    ``lowest``, the least it can be.
    """
    items = list(intervals)
    found: list[tuple[int, int, list[str]]] = []
    reported: set[frozenset[str]] = set()
    uses = ((item.start, item.end, key) for key, item in enumerate(items))
    for moment, current in at_once(uses, checks=checks):
        if len(current) <= lowest:
            continue
        allowed = limit(moment)
        if len(current) > allowed:
            involved = sorted(items[k].name for k in current if items[k].mine)
            episode = frozenset(involved)
            if involved and episode not in reported:
                reported.add(episode)
                found.append((len(current), allowed, involved))
    return found
