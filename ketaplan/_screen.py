"""The day screen: one day's rules and bookings as sets of start instants.

The slot finder's fast path for days with one UTC offset. Instead of probing each candidate
start against the ledger, :class:`DayScreen` turns the day's bookings into the spans of start
instants each rule rules out (every chair taken, monitoring staff at capacity, the patient
already booked, no prescriber on site), once, and assigns runs of sorted starts to the first
rule that rejects them. The reasons are :class:`~ketaplan.rules.calendar.Reasons`, the same the
slot finder's one-start-at-a-time path gives; a property test holds the two paths equal.

:class:`ScreenCache` keeps a day's spans until a booking near it changes
(:meth:`Ledger.changes <ketaplan.ledger.Ledger.changes>`); one cache serves a clinic's ledger
and every fork of it, so planning one patient after another reuses what the last one read.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar

from ketaplan.ledger import Ledger
from ketaplan.protocol import SessionKind
from ketaplan.rules.calendar import Reasons, Threshold
from ketaplan.rules.capacity import Use

if TYPE_CHECKING:
    from ketaplan.slots import SlotFinder

__all__ = ["DayScreen", "Ranking", "ScreenCache", "Spans", "clock_of", "screen_cache"]

T = TypeVar("T")
_CACHE_LIMIT = 65_536


class ScreenCache:
    """Answers about a clinic's days, each kept with the change stamp of the bookings it read."""

    def __init__(self) -> None:
        self._kept: dict[object, tuple[tuple[int, ...], object]] = {}

    def recall(self, key: object, stamp: tuple[int, ...], compute: Callable[[], T]) -> T:
        """``compute()``, remembered under ``key`` while the bookings near it keep ``stamp``.

        ``key`` names everything else the answer depends on. At most 65,536 answers are kept;
        then they are all dropped.
        """
        found = self._kept.get(key)
        if found is not None and found[0] == stamp:
            return found[1]  # type: ignore[return-value]
        value = compute()
        if len(self._kept) >= _CACHE_LIMIT:
            self._kept.clear()
        self._kept[key] = (stamp, value)
        return value


_CACHES: weakref.WeakKeyDictionary[Ledger, ScreenCache] = weakref.WeakKeyDictionary()


def screen_cache(ledger: Ledger) -> ScreenCache:
    """The cache shared by ``ledger`` and every ledger forked from the same clinic ledger."""
    root = ledger.root
    cache = _CACHES.get(root)
    if cache is None:
        cache = _CACHES[root] = ScreenCache()
    return cache


class Ranking:
    """Where starts stand in order of preference, for starts sorted by time.

    Preference is by distance from the wanted time, then the earlier (or just the earlier), so
    the best start of a run of consecutive starts is next to where the wanted time falls.
    """

    def __init__(self, minutes: list[int], want: int | None) -> None:
        self.minutes = minutes
        self.want = want
        self.pivot = 0 if want is None else bisect_left(minutes, want)

    def key(self, minute: int) -> tuple[int, int]:
        """The sort key of :meth:`SlotFinder._starts` for a start."""
        return (minute, minute) if self.want is None else (abs(minute - self.want), minute)

    def first(self, a: int, b: int) -> tuple[tuple[int, int], int]:
        """The most preferred start among ``minutes[a:b]``: its key and index."""
        nearest = min(max(self.pivot, a), b - 1)
        picks = {nearest, max(nearest - 1, a), min(nearest + 1, b - 1)}
        return min((self.key(self.minutes[i]), i) for i in picks)


def clock_of(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def seconds_of(clock: dt.time) -> float:
    return clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6


class Spans:
    """Sorted, disjoint intervals of start instants that a rule rejects or allows.

    Rejected starts are open intervals ``(low, high)`` (a booking ending at a start does not
    meet it); allowed starts are closed ``[low, high]`` (a prescriber from 09:00 allows 09:00).
    """

    def __init__(
        self, intervals: list[tuple[float, float]], *, of: Literal["rejected", "allowed"]
    ) -> None:
        self.of = of
        closed = of == "allowed"
        merged: list[tuple[float, float]] = []
        for low, high in sorted(intervals):
            if merged and (low < merged[-1][1] or (closed and low <= merged[-1][1])):
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            elif low < high or (closed and low == high):
                merged.append((low, high))
        self.pairs = merged


def inside(starts: list[int], low: float, high: float) -> tuple[int, int]:
    """The run of sorted ``starts`` strictly between ``low`` and ``high``."""
    return bisect_right(starts, low), bisect_left(starts, high)


def split(
    runs: list[tuple[int, int]], blocked: list[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """``runs`` (sorted, disjoint) split into the parts inside ``blocked`` and the rest."""
    inside: list[tuple[int, int]] = []
    outside: list[tuple[int, int]] = []
    for a, b in runs:
        at = a
        for first, last in blocked:
            low, high = max(first, at), min(last, b)
            if low >= high:
                continue
            if at < low:
                outside.append((at, low))
            inside.append((low, high))
            at = high
        if at < b:
            outside.append((at, b))
    return inside, outside


def intersection(
    a: list[tuple[float, float]], b: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Where two sorted lists of disjoint open intervals overlap."""
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if low < high:
            out.append((low, high))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def full_spans(intervals: list[tuple[int, int]], capacity: int) -> list[tuple[int, int]]:
    """The half-open spans during which at least ``capacity`` of ``intervals`` overlap."""
    if capacity <= 0:
        return [(-math.inf, math.inf)]  # type: ignore[list-item]
    changes: dict[int, int] = {}
    for a, b in intervals:
        changes[a] = changes.get(a, 0) + 1
        changes[b] = changes.get(b, 0) - 1
    out: list[tuple[int, int]] = []
    load = 0
    began: int | None = None
    for moment in sorted(changes):
        load += changes[moment]
        if load >= capacity and began is None:
            began = moment
        elif load < capacity and began is not None:
            out.append((began, moment))
            began = None
    return out


def all_units_taken(
    ledger: Ledger, resource: str, use: tuple[int, int], window: tuple[int, int]
) -> Spans:
    """The starts in ``window`` at which every unit of ``resource`` is taken.

    A ``use`` from ``offset`` to ``finish`` seconds after the start, plus the cleaning buffer
    either side, meets a booking ``a``-``b`` when the start is strictly between
    ``a - finish - buffer`` and ``b - offset + buffer``.
    """
    (offset, finish), (first, last) = use, window
    buffer = ledger.buffer.get(resource, 0)
    before, after = finish + buffer, offset - buffer
    taken: list[tuple[float, float]] | None = None
    for unit in range(1, ledger.available(resource, first, last) + 1):
        near = ledger.intervals("unit", (resource, unit), first - buffer, last + buffer)
        if not near:
            return Spans([], of="rejected")  # this unit is free all day
        spans = Spans([(a - before, b - after) for a, b in near], of="rejected").pairs
        taken = spans if taken is None else intersection(taken, spans)
        if not taken:
            break  # a start this unit leaves free is free
    return Spans([(-math.inf, math.inf)] if taken is None else taken, of="rejected")


def at_capacity(
    ledger: Ledger, resource: str, use: tuple[int, int], window: tuple[int, int]
) -> Spans:
    """The starts in ``window`` whose ``use`` of a counted resource would exceed it."""
    (offset, finish), (first, last) = use, window
    near = ledger.intervals("counted", resource, first, last)
    full = full_spans(near, ledger.available(resource, first, last))
    return Spans([(a - finish, b - offset) for a, b in full], of="rejected")


class Check(NamedTuple):
    """One rule of a day screen: spans of start instants, and the reason they fail."""

    spans: Spans
    reason: str


def _thresholds(
    finder: SlotFinder,
    kind: SessionKind,
    not_before: dt.datetime | None,
    earliest: Threshold | None,
) -> list[tuple[float, str]]:
    """Instants before which every start fails, with the reason, in the order checked."""
    found = []
    if earliest is not None:
        found.append((earliest.at.timestamp(), earliest.reason))
    if not_before is not None:
        found.append((not_before.timestamp(), Reasons.TOO_EARLY))
    now, notice = finder.rules.now, finder.rules.notice
    if now is not None and notice is not None:
        found.append((now.timestamp(), Reasons.PAST))
        hours = finder.rules.clinic.minimum_notice_hours
        found.append((notice.timestamp(), Reasons.notice(hours)))
        ready = finder.rules.ready_from(kind)
        if ready is not None:
            found.append((ready[0].timestamp(), ready[1]))
    return found


class DayScreen:
    """One day's rules and bookings as sets of start instants, to check each start quickly.

    It asks what :meth:`SlotFinder.slot_problem` asks, in the same order and with the same
    answers, for days with one UTC offset: each resource's bookings become the start instants
    they rule out, read from the ledger once per day (which does not change while one day is
    searched). A start that passes is then checked in full.
    """

    def __init__(
        self,
        finder: SlotFinder,
        kind: SessionKind,
        *,
        day: dt.date,
        midnight: int,
        clocks: list[int],
        not_before: dt.datetime | None,
        earliest: Threshold | None,
        stamp: tuple[int, ...] | None = None,
    ) -> None:
        block = kind.timeline.block_minutes * 60
        self.block = block
        self.midnight = midnight
        self.first = midnight + min(clocks) * 60
        self.last = midnight + max(clocks) * 60 + block
        if stamp is None:  # the bookings near the day, with each unit's cleaning buffer
            margin = max(finder.ledger.buffer.values(), default=0)
            stamp = finder.ledger.changes(self.first - margin, self.last + margin)
        self.thresholds = _thresholds(finder, kind, not_before, earliest)
        near = finder.rules.busy.near(self.first, self.last)
        self.own = [(b.start.timestamp(), b.end.timestamp(), b.label) for b in near]
        self.checks: list[Check] = []
        # Nothing ever booked near the day (every change number 0): a resource the clinic has
        # at least one of rejects no start, so only the others and the prescriber's presence (a
        # rule of the clinic's hours) are checked.
        booked_near = any(stamp)
        ledger = finder.ledger
        booked = (
            ledger.intervals("patient", finder.patient_key, self.first, self.last)
            if finder.patient_key and booked_near
            else []
        )
        if booked:  # a check that rejects nothing can be left out
            spans = Spans([(a - block, b) for a, b in booked], of="rejected")
            self.checks.append(Check(spans, Reasons.PATIENT_BOOKED))
        for use in finder.uses(kind):
            free = ledger.available(use.resource, self.first, self.last) > 0
            if booked_near or not free:
                self.checks.append(self._resource_check(finder, use, day=day, stamp=stamp))

    def _resource_check(
        self, finder: SlotFinder, use: Use, *, day: dt.date, stamp: tuple[int, ...]
    ) -> Check:
        """The starts a resource use rules out (or, for the prescriber, allows)."""
        ledger = finder.ledger
        resource, offset, finish = use.resource, use.offset * 60, use.finish * 60
        window = (self.first, self.last)
        if resource == "prescriber":
            allowed = finder.prescriber_starts(day, self.midnight, offset, finish)
            return Check(allowed, Reasons.NO_PRESCRIBER)
        if resource in ledger.units:
            taken = finder.cache.recall(
                ("taken", resource, offset, finish, *window),
                stamp,
                partial(all_units_taken, ledger, resource, (offset, finish), window),
            )
            return Check(taken, Reasons.no_free(resource))
        full = finder.cache.recall(
            ("full", resource, offset, finish, *window),
            stamp,
            partial(at_capacity, ledger, resource, (offset, finish), window),
        )
        return Check(full, Reasons.STAFF_FULL)

    def verdicts(
        self, starts: list[int]
    ) -> tuple[list[tuple[int, int]], list[tuple[str, list[tuple[int, int]]]]]:
        """:meth:`problem` for many starts at once, as runs of their indices.

        ``starts`` are sorted instants. Returns the runs ``(a, b)`` (``starts[a:b]``) that pass,
        and for each check in order the reason and the runs it is the first to reject.
        """
        n = len(starts)
        free = [(0, n)]
        claimed: list[tuple[str, list[tuple[int, int]]]] = []

        def claim(reason: str, blocked: list[tuple[int, int]]) -> None:
            nonlocal free
            blocked = [(a, b) for a, b in blocked if a < b]
            if not blocked or not free:
                return  # it rejects no start that is still free
            hit, free = split(free, blocked)
            if hit:
                claimed.append((reason, hit))

        for threshold, reason in self.thresholds:
            claim(reason, [(0, bisect_left(starts, threshold))])
        midnight = self.midnight + 86_400 - self.block
        claim(Reasons.AFTER_MIDNIGHT, [(bisect_left(starts, midnight), n)])
        for a, b, label in self.own:
            claim(Reasons.patient_busy(label), [inside(starts, a - self.block, b)])
        for spans, reason in self.checks:
            if spans.of == "rejected":
                runs = [inside(starts, low, high) for low, high in spans.pairs]
            else:  # closed spans of allowed starts: reject the rest
                runs, at = [], 0
                for low, high in spans.pairs:
                    a, b = bisect_left(starts, low), bisect_right(starts, high)
                    runs.append((at, a))
                    at = max(at, b)
                runs.append((at, n))
            claim(reason, runs)
        return free, claimed
