"""Finding a slot for one session on one day, and saying why there is none.

This is where the calendar constraints live: opening hours, closures and holidays, the
patient's availability, blackouts and commitments, resource capacity over each step of the
session, the prescriber's presence, minimum notice and the booking horizon. The planner asks it
for the best slot; ``check`` asks it the same questions about an existing appointment.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import partial

from ketaplan._text import WEEKDAY_PLURAL, fmt_day
from ketaplan.clinic import Clinic
from ketaplan.hours import TimeRange
from ketaplan.ledger import Ledger
from ketaplan.openings import ClinicCalendar
from ketaplan.patient import Patient
from ketaplan.protocol import CalendarPolicy, SessionKind
from ketaplan.timing import resolve, shift, steady_midnight, zone

__all__ = ["Slot", "SlotFinder"]


@dataclass(frozen=True)
class Slot:
    """A feasible placement: the block, and each resource's span (and unit)."""

    start: dt.datetime
    end: dt.datetime
    spans: tuple[tuple[str, int | None, dt.datetime, dt.datetime], ...]


def _intersect(a: tuple[TimeRange, ...], b: tuple[TimeRange, ...]) -> list[tuple[dt.time, dt.time]]:
    out = []
    for x in a:
        for y in b:
            start, end = max(x.start, y.start), min(x.end, y.end)
            if start < end:
                out.append((start, end))
    return sorted(out)


class SlotFinder:
    """Answers "where can this session go on this day?" for one clinic and patient."""

    def __init__(
        self,
        clinic: Clinic,
        patient: Patient | None,
        ledger: Ledger,
        *,
        policy: CalendarPolicy,
        preferred_time: dt.time | None = None,
        now: dt.datetime | None = None,
        patient_key: str = "",
    ) -> None:
        self.clinic = clinic
        self.calendar = ClinicCalendar(clinic)
        self.patient = patient
        self.ledger = ledger
        self.policy = policy
        self.preferred_time = preferred_time
        self.now = now
        self.patient_key = patient_key
        self.zone = zone(clinic.time_zone)
        self.patient_zone = zone(patient.time_zone) if patient and patient.time_zone else self.zone
        # Each day's best slot, with the ledger's stamp of that day when it was found.
        self._answers: dict[object, tuple[tuple[int, ...], tuple[Slot | None, str]]] = {}
        self._ranges: dict[
            tuple[int, dt.date], tuple[list[tuple[dt.time, dt.time]], str | None]
        ] = {}
        self._prescriber: dict[tuple[dt.date, int, int], _Spans] = {}
        self._uses: dict[int, tuple[SessionKind, list[tuple[str, int, int]]]] = {}
        self.notice = shift(now, hours=clinic.minimum_notice_hours) if now is not None else None
        self._busy = [
            (busy.start, busy.end, busy.label or "another appointment")
            for busy in (patient.appointments if patient else ())
        ]

    # -- days ------------------------------------------------------------------------------

    def zone_for(self, kind: SessionKind) -> dt.tzinfo:
        """The zone a session's local times are in (the patient's, for home sessions)."""
        return self.patient_zone if kind.location == "home" else self.zone

    def blackout(self, day: dt.date) -> str | None:
        """The patient's blackout covering ``day``, in words."""
        for blackout in self.patient.blackouts if self.patient else ():
            if day in blackout:
                why = f" ({blackout.reason})" if blackout.reason else ""
                return f"patient unavailable{why}"
        return None

    def excluded_treatment(self, day: dt.date) -> str | None:
        """Another treatment on ``day`` after which the clinic gives no dose that day."""
        excluded = {t.casefold() for t in self.clinic.same_day_exclusions}
        for busy in self.patient.appointments if self.patient else ():
            same_day = busy.start.astimezone(self.zone).date() == day
            if busy.treatment and busy.treatment.casefold() in excluded and same_day:
                return busy.treatment
        return None

    def day_ranges(
        self, kind: SessionKind, day: dt.date
    ) -> tuple[list[tuple[dt.time, dt.time]], str | None]:
        """The local time ranges a session may use on ``day``, or why there are none."""
        self.uses(kind)  # keeps the kind, so its id is its own while the finder lives
        key = (id(kind), day)
        found = self._ranges.get(key)
        if found is None:  # the answer depends on the finder's fixed inputs and these only
            found = self._ranges[key] = self._day_ranges(kind, day)
        return found

    def _day_ranges(
        self, kind: SessionKind, day: dt.date
    ) -> tuple[list[tuple[dt.time, dt.time]], str | None]:
        horizon = self._horizon_reason(day)
        if horizon:
            return [], horizon
        blackout = self.blackout(day)
        if blackout:
            return [], blackout
        if kind.is_dosing:
            excluded = self.excluded_treatment(day)
            if excluded:
                return [], f"{excluded} that day (no dose the same day)"
        availability = self.patient.availability if self.patient else None
        if kind.location == "home":
            base = self.clinic.opening_hours.on(day)
        else:
            closed = self.calendar.closed_reason(day)
            if closed:
                return [], closed
            base = self.calendar.ranges(day)
        if availability is not None and self.patient_zone == self.zone:
            mine = availability.on(day)
            if not mine:
                return [], f"patient not available on {WEEKDAY_PLURAL[day.weekday()]}"
            ranges = _intersect(base, mine)
            if not ranges:
                return [], "patient's hours and the clinic's do not overlap"
        else:
            ranges = [(r.start, r.end) for r in base]
        needs_prescriber = any(use.resource == "prescriber" for use in kind.resources)
        if needs_prescriber and not self.calendar.prescriber_ranges(day):
            return [], "no prescriber on site"
        return ranges, None

    def _horizon_reason(self, day: dt.date) -> str | None:
        if self.now is None:
            return None
        today = self.now.astimezone(self.zone).date()
        if day < today:
            return "in the past"
        if (day - today).days > self.clinic.booking_horizon_days:
            return f"beyond the clinic's {self.clinic.booking_horizon_days}-day booking horizon"
        return None

    def calendar_findings(
        self, kind: SessionKind, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[str, str]]:
        """The calendar rules an existing session breaks, as ``(code, message)``.

        Built on the same primitives the planner's day search uses: the clinic's closures and
        hours, the patient's blackouts and availability, same-day exclusions, the prescriber's
        presence, minimum notice and the booking horizon.
        """
        tz = self.zone_for(kind)
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        day = local_start.date()
        span = f"{local_start:%H:%M}-{local_end:%H:%M} on {fmt_day(day)}"
        found: list[tuple[str, str]] = []
        if self.now is not None and start >= self.now:
            horizon = self._horizon_reason(day)
            if horizon:
                found.append(("beyond-booking-horizon", f"{fmt_day(day)} is {horizon}"))
            notice = shift(self.now, hours=self.clinic.minimum_notice_hours)
            if start < notice:
                found.append(
                    (
                        "before-minimum-notice",
                        f"{span} is less than {self.clinic.minimum_notice_hours} h from now",
                    )
                )
        blackout = self.blackout(day)
        if blackout:
            found.append(("patient-blackout", f"{fmt_day(day)}: {blackout}"))
        if kind.location != "home":
            closed = self.calendar.closed_reason(day)
            if closed:
                found.append(("clinic-closed", f"{fmt_day(day)}: {closed}"))
            elif local_end.date() != day or not any(
                r.contains(local_start.time(), local_end.time()) for r in self.calendar.ranges(day)
            ):
                hours = ", ".join(str(r) for r in self.calendar.ranges(day))
                found.append(
                    ("outside-opening-hours", f"{span} is outside the opening hours ({hours})")
                )
        availability = self.patient.availability if self.patient else None
        if availability is not None:
            mine_start = start.astimezone(self.patient_zone)
            mine_end = end.astimezone(self.patient_zone)
            if mine_end.date() != mine_start.date() or not any(
                r.contains(mine_start.time(), mine_end.time())
                for r in availability.on(mine_start.date())
            ):
                found.append(
                    (
                        "outside-patient-availability",
                        f"{span} is outside the patient's availability",
                    )
                )
        if kind.is_dosing:
            excluded = self.excluded_treatment(day)
            if excluded:
                found.append(
                    ("same-day-exclusion", f"{excluded} on {fmt_day(day)}: no dose the same day")
                )
        for use in kind.resources:
            if use.resource != "prescriber":
                continue
            offset, finish = kind.timeline.span(use.during)
            begin = shift(start, minutes=offset)
            if not self._prescriber_present(begin, shift(start, minutes=finish)):
                found.append(("no-prescriber", f"no prescriber on site during {span}"))
        return found

    # -- slots -----------------------------------------------------------------------------

    def _starts(
        self,
        ranges: list[tuple[dt.time, dt.time]],
        minutes: int,
        preferred_time: dt.time | None = None,
    ) -> list[int]:
        """Start times (minutes after midnight) on the clinic's slot grid, best first."""
        step = self.clinic.slot_minutes
        starts: set[int] = set()
        for first, last in ranges:
            begin = first.hour * 60 + first.minute
            begin = -(-begin // step) * step
            end = last.hour * 60 + last.minute
            starts.update(range(begin, end - minutes + 1, step))
        want = self._wanted(preferred_time)
        if want is None:
            return sorted(starts)
        return sorted(starts, key=lambda m: (abs(m - want), m))

    def _wanted(self, preferred_time: dt.time | None) -> int | None:
        """The preferred start, in minutes after midnight, if any."""
        preferred = preferred_time or self.preferred_time
        return None if preferred is None else preferred.hour * 60 + preferred.minute

    def slot_problem(
        self, kind: SessionKind, start: dt.datetime, *, not_before: dt.datetime | None = None
    ) -> tuple[Slot | None, str | None]:
        """Check one start instant; return the slot, or why it does not work."""
        if not_before is not None and start < not_before:
            return None, "too early"
        if self.now is not None:
            if start < self.now:
                return None, "already past"
            if self.notice is not None and start < self.notice:
                return None, f"less than {self.clinic.minimum_notice_hours} h notice"
        end = shift(start, minutes=kind.timeline.block_minutes)
        local_end = end.astimezone(start.tzinfo)
        local_start = start.astimezone(start.tzinfo)
        if local_end.date() != local_start.date():
            return None, "would end after midnight"
        patient = self._patient_problem(start, end)
        if patient:
            return None, patient
        return self._place(kind, start, end, check=True)

    def _place(
        self, kind: SessionKind, start: dt.datetime, end: dt.datetime, *, check: bool
    ) -> tuple[Slot | None, str | None]:
        """The slot at ``start`` with a unit of each chair or room, or why there is none.

        With ``check``, also the prescriber's presence and staff capacity; without, the caller
        has checked them (the day screen), and only the units are chosen.
        """
        spans: list[tuple[str, int | None, dt.datetime, dt.datetime]] = []
        for resource, offset, finish in self.uses(kind):
            span_start = shift(start, minutes=offset // 60)
            span_end = shift(start, minutes=finish // 60)
            unit = None
            if resource == "prescriber":
                if check and not self._prescriber_present(span_start, span_end):
                    return None, "no prescriber on site then"
            elif resource in self.ledger.units:
                unit = self.ledger.free_unit(resource, span_start, span_end)  # type: ignore[arg-type]
                if unit is None:
                    return None, f"no {resource} free"
            elif check and not self.ledger.has_room(resource, span_start, span_end):  # type: ignore[arg-type]
                return None, "monitoring staff fully booked"
            spans.append((resource, unit, span_start, span_end))
        return Slot(start, end, tuple(spans)), None

    def _patient_problem(self, start: dt.datetime, end: dt.datetime) -> str | None:
        for busy_start, busy_end, label in self._busy:
            if busy_start < end and start < busy_end:
                return f"patient busy ({label})"
        if self.patient_key and self.ledger.patient_busy(self.patient_key, start, end):
            return "patient already booked then"
        if (
            self.patient
            and self.patient.availability is not None
            and self.patient_zone != self.zone
        ):
            local_start = start.astimezone(self.patient_zone)
            local_end = end.astimezone(self.patient_zone)
            if not any(
                r.contains(local_start.time(), local_end.time())
                for r in self.patient.availability.on(local_start.date())
            ):
                return "outside the patient's availability"
        return None

    def _prescriber_present(self, start: dt.datetime, end: dt.datetime) -> bool:
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        return any(
            r.contains(local_start.time(), local_end.time())
            for r in self.calendar.prescriber_ranges(local_start.date())
        )

    def best(
        self,
        kind: SessionKind,
        day: dt.date,
        *,
        not_before: dt.datetime | None = None,
        earliest: tuple[dt.datetime, str] | None = None,
        preferred_time: dt.time | None = None,
    ) -> tuple[Slot | None, str]:
        """The best slot on ``day``, or the main reason there is none.

        A start before ``not_before`` is "too early"; a start before ``earliest``'s instant
        fails with its reason (the protocol's minimum interval, checked first). The reason for
        a day without a slot is the commonest reason among its candidate starts.
        """
        ranges, reason = self.day_ranges(kind, day)
        if reason:
            return None, reason
        if not ranges:
            return None, "no opening long enough"
        clocks = self._starts(ranges, kind.timeline.block_minutes, preferred_time)
        if not clocks:
            hours = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges)
            return None, f"no {kind.timeline.block_minutes}-minute span free in {hours}"
        tz = self.zone_for(kind)
        midnight = steady_midnight(day.toordinal(), tz)
        if midnight is None or self._availability_elsewhere():
            return self._best_slowly(kind, day, clocks, not_before, earliest)
        # A bound before the day begins rejects no start: drop it, so more searches share.
        if not_before is not None and not_before.timestamp() <= midnight:
            not_before = None
        if earliest is not None and earliest[0].timestamp() <= midnight:
            earliest = None
        # The answer depends on this finder, the arguments and the bookings near the day: it is
        # kept until one of those bookings changes (a search revisits days often).
        key = (id(kind), day, not_before, earliest, preferred_time)
        margin = max(self.ledger.buffer.values(), default=0)
        block = kind.timeline.block_minutes * 60
        stamp = self.ledger.stamp(
            midnight + min(clocks) * 60 - margin, midnight + max(clocks) * 60 + block + margin
        )
        found = self._answers.get(key)
        if found is not None and found[0] == stamp:
            return found[1]
        answer = self._best_screened(
            kind,
            day,
            midnight=midnight,
            clocks=clocks,
            not_before=not_before,
            earliest=earliest,
            stamp=stamp,
            want=self._wanted(preferred_time),
        )
        self._answers[key] = (stamp, answer)
        return answer

    def _best_screened(
        self,
        kind: SessionKind,
        day: dt.date,
        *,
        midnight: int,
        clocks: list[int],
        not_before: dt.datetime | None,
        earliest: tuple[dt.datetime, str] | None,
        stamp: tuple[int, ...],
        want: int | None,
    ) -> tuple[Slot | None, str]:
        """:meth:`best` on a day with one UTC offset, through a :class:`_DayScreen`."""
        tz = self.zone_for(kind)
        screen = _DayScreen(
            self,
            kind,
            day=day,
            midnight=midnight,
            clocks=clocks,
            not_before=not_before,
            earliest=earliest,
            stamp=stamp,
        )
        minutes = sorted(clocks)
        passing, claimed = screen.verdicts([midnight + m * 60 for m in minutes])
        rank = _ranking(minutes, want)
        if passing:
            clock = minutes[min((rank.first(a, b) for a, b in passing))[1]]
            start = dt.datetime.combine(day, _clock(clock), tzinfo=tz)
            end = shift(start, minutes=kind.timeline.block_minutes)
            slot, _ = self._place(kind, start, end, check=False)  # the screen checked the rest
            if slot is not None:
                return slot, ""
            # The screen and the ledger disagree (a bug): answer one start at a time instead.
            return self._best_slowly(kind, day, clocks, not_before, earliest)  # pragma: no cover
        # The commonest reason; between equals, the one met first in order of preference.
        tally: dict[str, tuple[int, tuple[tuple[int, int], int]]] = {}
        for reason, spans in claimed:
            count = sum(b - a for a, b in spans)
            first = min(rank.first(a, b) for a, b in spans)
            before = tally.get(reason)
            if before is not None:
                count, first = count + before[0], min(first, before[1])
            tally[reason] = (count, first)
        return None, min(tally, key=lambda reason: (-tally[reason][0], tally[reason][1]))

    def prescriber_starts(self, day: dt.date, midnight: int, offset: int, finish: int) -> _Spans:
        """The starts on ``day`` whose use from ``offset`` to ``finish`` s has a prescriber."""
        key = (day, offset, finish)
        found = self._prescriber.get(key)
        if found is None:
            allowed = [
                (midnight + _seconds_of(r.start) - offset, midnight + _seconds_of(r.end) - finish)
                for r in self.calendar.prescriber_ranges(day)
            ]
            found = self._prescriber[key] = _Spans(allowed, closed=True)
        return found

    def uses(self, kind: SessionKind) -> list[tuple[str, int, int]]:
        """The kind's resource uses: each resource, and its span in seconds from the start."""
        found = self._uses.get(id(kind))
        if found is not None:  # the kind is kept with its entry, so its id is its own
            return found[1]
        spans = []
        for use in kind.resources:
            offset, finish = kind.timeline.span(use.during)
            spans.append((str(use.resource), offset * 60, finish * 60))
        self._uses[id(kind)] = (kind, spans)
        return spans

    def _availability_elsewhere(self) -> bool:
        """Whether the patient's availability is in another zone than the clinic's."""
        patient = self.patient
        return (
            patient is not None
            and patient.availability is not None
            and (self.patient_zone != self.zone)
        )

    def _best_slowly(
        self,
        kind: SessionKind,
        day: dt.date,
        clocks: list[int],
        not_before: dt.datetime | None,
        earliest: tuple[dt.datetime, str] | None,
    ) -> tuple[Slot | None, str]:
        """:meth:`best` one aware datetime at a time (DST days; the reference for the screen)."""
        tz = self.zone_for(kind)
        problems: Counter[str] = Counter()
        for clock in clocks:
            start = resolve(
                day,
                _clock(clock),
                tz,  # type: ignore[arg-type]
                skipped=self.policy.skipped_time,
                repeated=self.policy.repeated_time,
            )
            if earliest is not None and start < earliest[0]:
                problems[earliest[1]] += 1
                continue
            slot, problem = self.slot_problem(kind, start, not_before=not_before)
            if slot is not None:
                return slot, ""
            problems[problem or "unavailable"] += 1
        return None, problems.most_common(1)[0][0]


class _ranking:  # noqa: N801 - a small helper named for what it gives
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


def _clock(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def _seconds_of(clock: dt.time) -> float:
    return clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6


class _Spans:
    """Sorted, disjoint intervals of start instants: open ``(low, high)`` or closed."""

    def __init__(self, intervals: list[tuple[float, float]], *, closed: bool) -> None:
        merged: list[tuple[float, float]] = []
        for low, high in sorted(intervals):
            if merged and (low < merged[-1][1] or (closed and low <= merged[-1][1])):
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            elif low < high or (closed and low == high):
                merged.append((low, high))
        self.pairs = merged


def _inside(starts: list[int], low: float, high: float) -> tuple[int, int]:
    """The run of sorted ``starts`` strictly between ``low`` and ``high``."""
    return bisect_right(starts, low), bisect_left(starts, high)


def _split(
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


def _intersection(
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


def _full(intervals: list[tuple[int, int]], capacity: int) -> list[tuple[int, int]]:
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


def _all_units_taken(
    ledger: Ledger, resource: str, use: tuple[int, int], window: tuple[int, int]
) -> _Spans:
    """The starts in ``window`` at which every unit of ``resource`` is taken.

    A ``use`` from ``offset`` to ``finish`` seconds after the start, plus the cleaning buffer
    either side, meets a booking ``a``-``b`` when the start is strictly between
    ``a - finish - buffer`` and ``b - offset + buffer``.
    """
    (offset, finish), (first, last) = use, window
    buffer = ledger.buffer.get(resource, 0)
    before, after = finish + buffer, offset - buffer
    taken: list[tuple[float, float]] | None = None
    for unit in range(1, ledger.units[resource] + 1):
        near = ledger.intervals("unit", (resource, unit), first - buffer, last + buffer)
        if not near:
            return _Spans([], closed=False)  # this unit is free all day
        spans = _Spans([(a - before, b - after) for a, b in near], closed=False).pairs
        taken = spans if taken is None else _intersection(taken, spans)
        if not taken:
            break  # a start this unit leaves free is free
    return _Spans([(-math.inf, math.inf)] if taken is None else taken, closed=False)


def _at_capacity(
    ledger: Ledger, resource: str, use: tuple[int, int], window: tuple[int, int]
) -> _Spans:
    """The starts in ``window`` whose ``use`` of a counted resource would exceed it."""
    (offset, finish), (first, last) = use, window
    near = ledger.intervals("counted", resource, first, last)
    full = _full(near, ledger.capacity[resource])
    return _Spans([(a - finish, b - offset) for a, b in full], closed=False)


class _DayScreen:
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
        earliest: tuple[dt.datetime, str] | None,
        stamp: tuple[int, ...] | None = None,
    ) -> None:
        ledger = finder.ledger
        block = kind.timeline.block_minutes * 60
        first = midnight + min(clocks) * 60
        last = midnight + max(clocks) * 60 + block
        self.block = block
        self.midnight = midnight
        self.thresholds: list[tuple[float, str]] = []
        if earliest is not None:
            self.thresholds.append((earliest[0].timestamp(), earliest[1]))
        if not_before is not None:
            self.thresholds.append((not_before.timestamp(), "too early"))
        if finder.now is not None and finder.notice is not None:
            notice = finder.notice
            self.thresholds.append((finder.now.timestamp(), "already past"))
            self.thresholds.append(
                (notice.timestamp(), f"less than {finder.clinic.minimum_notice_hours} h notice")
            )
        self.own = [(a.timestamp(), b.timestamp(), label) for a, b, label in finder._busy]
        booked = (
            ledger.intervals("patient", finder.patient_key, first, last)
            if finder.patient_key
            else []
        )
        self.checks: list[tuple[_Spans, bool, str]] = []
        if booked:  # a check that rejects nothing can be left out
            spans = _Spans([(a - block, b) for a, b in booked], closed=False)
            self.checks.append((spans, True, "patient already booked then"))
        margin = max(ledger.buffer.values(), default=0)
        if stamp is None:
            stamp = ledger.stamp(first - margin, last + margin)
        for resource, offset, finish in finder.uses(kind):
            if resource == "prescriber":
                allowed = finder.prescriber_starts(day, midnight, offset, finish)
                self.checks.append((allowed, False, "no prescriber on site then"))
            elif resource in ledger.units:
                key = ("taken", resource, offset, finish, first, last)
                taken = ledger.recall(
                    key,
                    stamp,
                    partial(_all_units_taken, ledger, resource, (offset, finish), (first, last)),
                )
                self.checks.append((taken, True, f"no {resource} free"))
            elif resource in ledger.capacity:
                key = ("full", resource, offset, finish, first, last)
                full = ledger.recall(
                    key,
                    stamp,
                    partial(_at_capacity, ledger, resource, (offset, finish), (first, last)),
                )
                self.checks.append((full, True, "monitoring staff fully booked"))

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
            hit, free = _split(free, blocked)
            if hit:
                claimed.append((reason, hit))

        for threshold, reason in self.thresholds:
            claim(reason, [(0, bisect_left(starts, threshold))])
        midnight = self.midnight + 86_400 - self.block
        claim("would end after midnight", [(bisect_left(starts, midnight), n)])
        for a, b, label in self.own:
            claim(f"patient busy ({label})", [_inside(starts, a - self.block, b)])
        for spans, blocking, reason in self.checks:
            if blocking:  # open spans of rejected starts
                runs = [_inside(starts, low, high) for low, high in spans.pairs]
            else:  # closed spans of allowed starts: reject the rest
                runs, at = [], 0
                for low, high in spans.pairs:
                    a, b = bisect_left(starts, low), bisect_right(starts, high)
                    runs.append((at, a))
                    at = max(at, b)
                runs.append((at, n))
            claim(reason, runs)
        return free, claimed
