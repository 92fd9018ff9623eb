"""Finding a slot for one session on one day, and saying why there is none.

The calendar rules themselves (hours, closures, availability, blackouts, prescriber, notice)
live in :class:`~ketaplan.rules.calendar.DayRules`; this module searches a day's candidate
starts against them and the ledger's capacity. A day with one UTC offset goes through the day
screen (:mod:`ketaplan._screen`); a day whose offset changes goes one aware datetime at a time
(:meth:`SlotFinder.slot_problem`), which is also the reference the screen is tested against.
Both give the reasons of :class:`~ketaplan.rules.calendar.Reasons`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from ketaplan._screen import DayScreen, Ranking, Spans, clock_of, screen_cache, seconds_of
from ketaplan._types import ResourceKind
from ketaplan.clinic import Clinic
from ketaplan.ledger import Ledger
from ketaplan.patient import Patient
from ketaplan.plans import ResourceSpan
from ketaplan.protocol import CalendarPolicy, SessionKind
from ketaplan.rules.calendar import DayRules, Ranges, Reasons, Threshold
from ketaplan.rules.capacity import Use, uses
from ketaplan.timing import resolve, shift, steady_midnight

__all__ = ["Slot", "SlotFinder", "Span", "Threshold"]


class Span(NamedTuple):
    """A resource a slot uses, which unit of it, and when."""

    resource: ResourceKind
    unit: int | None
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Slot:
    """A feasible placement: the block, and each resource's span (and unit)."""

    start: dt.datetime
    end: dt.datetime
    spans: tuple[Span, ...]

    def resources(self) -> tuple[ResourceSpan, ...]:
        """The spans as an appointment records them."""
        return tuple(
            ResourceSpan.trusted(resource=s.resource, unit=s.unit, start=s.start, end=s.end)
            for s in self.spans
        )


class _Grid(NamedTuple):
    """A day's candidate starts, in minutes after midnight."""

    best_first: list[int]
    """In order of preference: nearest the preferred time, then the earlier."""
    in_order: list[int]
    """In order of time."""


class SlotFinder:
    """Answers "where can this session go on this day?" for one clinic and patient.

    It keeps what it learns (each day's hours per session kind, the prescriber's starts, each
    day's best slot until a booking near that day changes); the cache of a day's bookings as
    spans of starts is shared by every finder on forks of the same clinic ledger.
    """

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
        self.rules = DayRules(clinic, patient, policy=policy, now=now)
        self.clinic = clinic
        self.ledger = ledger
        self.policy = policy
        self.preferred_time = preferred_time
        self.patient_key = patient_key
        self.zone = self.rules.zone
        self.cache = screen_cache(ledger)
        # Each day's best slot, with the ledger's change stamp of that day when it was found.
        self._answers: dict[object, tuple[tuple[int, ...], tuple[Slot | None, str]]] = {}
        self._ranges: dict[tuple[object, dt.date], tuple[Ranges, str | None]] = {}
        self._alike: dict[str, tuple[object, ...]] = {}
        self._prescriber: dict[tuple[dt.date, int, int], Spans] = {}
        self._uses: dict[str, tuple[Use, ...]] = {}
        self._grids: dict[tuple[object, ...], _Grid] = {}
        self._margin = max(ledger.buffer.values(), default=0)
        """The longest cleaning buffer: bookings this far from a day can matter to it."""

    def zone_for(self, kind: SessionKind) -> ZoneInfo:
        """The zone a session's local times are in (the patient's, for home sessions)."""
        return self.rules.zone_for(kind)

    def uses(self, kind: SessionKind) -> tuple[Use, ...]:
        """The kind's resource uses (kept by the kind's id: a finder serves one protocol)."""
        found = self._uses.get(kind.id)
        if found is None:
            found = self._uses[kind.id] = uses(kind)
        return found

    def day_ranges(self, kind: SessionKind, day: dt.date) -> tuple[Ranges, str | None]:
        """The local time ranges a session may use on ``day``, or why there are none."""
        # Kinds alike for the day rules (a dose and the review after it, say) share answers.
        alike = self._alike.get(kind.id)
        if alike is None:
            alike = self._alike[kind.id] = self.rules.alike(kind)
        key = (alike, day)
        found = self._ranges.get(key)
        if found is None:  # the answer depends on the finder's fixed inputs and these only
            found = self._ranges[key] = self.rules.day_ranges(kind, day)
        return found

    # -- one start at a time ---------------------------------------------------------------

    def slot_problem(
        self,
        kind: SessionKind,
        start: dt.datetime,
        *,
        not_before: dt.datetime | None = None,
        booked: bool = False,
    ) -> tuple[Slot | None, str | None]:
        """Check one start instant; return the slot, or why it does not work.

        ``booked``: the session is booked at ``start`` already, so the time its instructions
        need before a new booking (:meth:`DayRules.ready_from`) does not apply.
        """
        rules = self.rules
        if not_before is not None and start < not_before:
            return None, Reasons.TOO_EARLY
        if rules.now is not None:
            if start < rules.now:
                return None, Reasons.PAST
            if rules.notice is not None and start < rules.notice:
                return None, Reasons.notice(self.clinic.minimum_notice_hours)
            ready = None if booked else rules.ready_from(kind)
            if ready is not None and start < ready[0]:
                return None, ready[1]
        end = shift(start, minutes=kind.timeline.block_minutes)
        if end.astimezone(start.tzinfo).date() != start.astimezone(start.tzinfo).date():
            return None, Reasons.AFTER_MIDNIGHT
        patient = self._patient_problem(start, end)
        if patient:
            return None, patient
        return self._place(kind, start, end, checks="all")

    def _place(
        self,
        kind: SessionKind,
        start: dt.datetime,
        end: dt.datetime,
        *,
        checks: Literal["all", "units"],
    ) -> tuple[Slot | None, str | None]:
        """The slot at ``start`` with a unit of each chair or room, or why there is none.

        ``checks="units"``: the day screen has checked the prescriber and staff capacity, and
        only the units are chosen.
        """
        screened = checks == "units"
        spans: list[Span] = []
        for resource, offset, finish in self.uses(kind):
            if screened:  # a day with one UTC offset, the block before midnight: wall = real
                span_start = start + dt.timedelta(minutes=offset)
                span_end = start + dt.timedelta(minutes=finish)
            else:
                span_start = shift(start, minutes=offset)
                span_end = shift(start, minutes=finish)
            unit = None
            if resource == "prescriber":
                if not screened and not self.rules.prescriber_present(span_start, span_end):
                    return None, Reasons.NO_PRESCRIBER
            elif resource in self.ledger.units:
                unit = self.ledger.free_unit(resource, span_start, span_end)
                if unit is None:
                    return None, Reasons.no_free(resource)
            elif not screened and not self.ledger.has_room(resource, span_start, span_end):
                return None, Reasons.STAFF_FULL
            spans.append(Span(resource, unit, span_start, span_end))
        return Slot(start, end, tuple(spans)), None

    def _patient_problem(self, start: dt.datetime, end: dt.datetime) -> str | None:
        first, last = start.timestamp(), end.timestamp()
        for busy in self.rules.busy.near(first, last):
            # In real time, as the day screen compares (two times of one zone compare by the
            # wall clock in Python, which the hour repeated in autumn makes ambiguous).
            if busy.start.timestamp() < last and first < busy.end.timestamp():
                return Reasons.patient_busy(busy.label)
        if self.patient_key and self.ledger.patient_busy(self.patient_key, start, end):
            return Reasons.PATIENT_BOOKED
        if self.rules.availability_elsewhere and not self.rules.within_patient_hours(start, end):
            return Reasons.PATIENT_HOURS
        return None

    # -- a day -----------------------------------------------------------------------------

    def starts(self, kind: SessionKind, day: dt.date) -> list[dt.datetime]:
        """Every start on ``day``'s slot grid at which a session of ``kind`` fits, in order.

        Each start is judged one aware datetime at a time (:meth:`slot_problem`: the day's
        hours, the patient, the prescriber, notice and the ledger's capacity), for a model that
        chooses among them (the CP-SAT placement across patients).
        """
        ranges, reason = self.day_ranges(kind, day)
        if reason or not ranges:
            return []
        tz = self.zone_for(kind)
        found = []
        for clock in self._starts(ranges, kind.timeline.block_minutes, None).in_order:
            start = resolve(day, clock_of(clock), tz, skipped=self.policy.skipped_time,
                            repeated=self.policy.repeated_time)  # fmt: skip
            if self.slot_problem(kind, start)[0] is not None:
                found.append(start)
        return found

    def _starts(self, ranges: Ranges, minutes: int, preferred_time: dt.time | None) -> _Grid:
        """Start times (minutes after midnight) on the clinic's slot grid, best first.

        Kept per ranges, length and preferred time (most days have the same hours); callers
        do not change the lists.
        """
        key = (tuple(ranges), minutes, preferred_time)
        found = self._grids.get(key)
        if found is None:
            found = self._grids[key] = self._grid(ranges, minutes, preferred_time)
        return found

    def _grid(self, ranges: Ranges, minutes: int, preferred_time: dt.time | None) -> _Grid:
        step = self.clinic.slot_minutes
        starts: set[int] = set()
        for first, last in ranges:
            begin = first.hour * 60 + first.minute
            begin = -(-begin // step) * step
            end = last.hour * 60 + last.minute
            starts.update(range(begin, end - minutes + 1, step))
        in_order = sorted(starts)
        want = self._wanted(preferred_time)
        if want is None:
            return _Grid(in_order, in_order)
        return _Grid(sorted(starts, key=lambda m: (abs(m - want), m)), in_order)

    def _wanted(self, preferred_time: dt.time | None) -> int | None:
        """The preferred start, in minutes after midnight, if any."""
        preferred = preferred_time or self.preferred_time
        return None if preferred is None else preferred.hour * 60 + preferred.minute

    def best(
        self,
        kind: SessionKind,
        day: dt.date,
        *,
        not_before: dt.datetime | None = None,
        earliest: Threshold | None = None,
        preferred_time: dt.time | None = None,
        booked: dt.datetime | None = None,
    ) -> tuple[Slot | None, str]:
        """The best slot on ``day``, or the main reason there is none.

        A start before ``not_before`` is "too early"; a start before ``earliest``'s instant
        fails with its reason (the protocol's minimum interval, checked first). The reason for
        a day without a slot is the commonest reason among its candidate starts. ``booked``:
        the start the session is booked at already (a re-plan), which stays possible however
        soon it is (:meth:`slot_problem`), when every other rule allows it.
        """
        kept = self._booked_start(kind, day, booked, not_before=not_before, earliest=earliest,
                                  preferred_time=preferred_time)  # fmt: skip
        if kept is not None:
            return kept, ""
        ranges, reason = self.day_ranges(kind, day)
        if reason:
            return None, reason
        if not ranges:
            return None, "no opening long enough"
        grid = self._starts(ranges, kind.timeline.block_minutes, preferred_time)
        clocks = grid.best_first
        if not clocks:
            hours = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges)
            return None, f"no {kind.timeline.block_minutes}-minute span free in {hours}"
        midnight = steady_midnight(day.toordinal(), self.zone_for(kind))
        if midnight is None or self.rules.availability_elsewhere:
            return self._best_slowly(kind, day, clocks, not_before, earliest)
        # A bound before the day begins rejects no start: drop it, so more searches share.
        if not_before is not None and not_before.timestamp() <= midnight:
            not_before = None
        if earliest is not None and earliest.at.timestamp() <= midnight:
            earliest = None
        # The answer depends on this finder, the arguments and the bookings near the day: it is
        # kept until one of those bookings changes (a search revisits days often).
        key = (kind.id, day, not_before, earliest, preferred_time)
        margin = self._margin
        block = kind.timeline.block_minutes * 60
        stamp = self.ledger.changes(
            midnight + min(clocks) * 60 - margin, midnight + max(clocks) * 60 + block + margin
        )
        found = self._answers.get(key)
        if found is not None and found[0] == stamp:
            return found[1]
        screen = DayScreen(
            self,
            kind,
            day=day,
            midnight=midnight,
            clocks=clocks,
            not_before=not_before,
            earliest=earliest,
            stamp=stamp,
        )
        answer = self._best_screened(kind, day, screen, grid.in_order, self._wanted(preferred_time))
        if answer is None:  # pragma: no cover - answer one start at a time instead
            return self._best_slowly(kind, day, clocks, not_before, earliest)
        self._answers[key] = (stamp, answer)
        return answer

    def _booked_start(
        self,
        kind: SessionKind,
        day: dt.date,
        booked: dt.datetime | None,
        *,
        not_before: dt.datetime | None,
        earliest: Threshold | None,
        preferred_time: dt.time | None,
    ) -> Slot | None:
        """The slot at ``booked`` when it is on ``day`` and only its being soon stands in its way.

        Any other start on the day is a new booking, judged by every rule.
        """
        ready = self.rules.ready_from(kind)
        if booked is None or ready is None or booked >= ready[0]:
            return None  # no exception needed: the day's search judges it like any start
        local = booked.astimezone(self.zone_for(kind))
        wanted = preferred_time or self.preferred_time
        if local.date() != day or (wanted is not None and wanted != local.time()):
            return None  # another day, or the session is to move to another time of day
        if earliest is not None and booked < earliest.at:
            return None
        ranges, reason = self.day_ranges(kind, day)
        clock = local.time()
        grid = self._starts(ranges, kind.timeline.block_minutes, None).in_order if ranges else []
        if reason or clock.hour * 60 + clock.minute not in grid or clock.second:
            return None  # only a start the day's grid offers
        return self.slot_problem(kind, booked, not_before=not_before, booked=True)[0]

    def _best_screened(
        self,
        kind: SessionKind,
        day: dt.date,
        screen: DayScreen,
        minutes: list[int],
        want: int | None,
    ) -> tuple[Slot | None, str] | None:
        """:meth:`best` on a day with one UTC offset, through its :class:`DayScreen`.

        ``minutes``: the day's starts in order of time. ``None`` if the screen passed a start
        at which the ledger has no unit free (a bug).
        """
        passing, claimed = screen.verdicts([screen.midnight + m * 60 for m in minutes])
        rank = Ranking(minutes, want)
        if passing:
            clock = minutes[min(rank.first(a, b) for a, b in passing)[1]]
            start = dt.datetime.combine(day, clock_of(clock), tzinfo=self.zone_for(kind))
            end = start + dt.timedelta(minutes=kind.timeline.block_minutes)  # one offset all day
            slot, _ = self._place(kind, start, end, checks="units")
            if slot is not None:
                return slot, ""
            return None  # pragma: no cover - the screen and the ledger disagree (a bug)
        # The commonest reason; between equals, the one met first in order of preference.
        tally: dict[str, tuple[int, tuple[tuple[int, int], int]]] = {}
        for reason, runs in claimed:
            count = sum(b - a for a, b in runs)
            first = min(rank.first(a, b) for a, b in runs)
            before = tally.get(reason)
            if before is not None:
                count, first = count + before[0], min(first, before[1])
            tally[reason] = (count, first)
        return None, min(tally, key=lambda reason: (-tally[reason][0], tally[reason][1]))

    def prescriber_starts(self, day: dt.date, midnight: int, offset: int, finish: int) -> Spans:
        """The starts on ``day`` whose use from ``offset`` to ``finish`` s has a prescriber."""
        key = (day, offset, finish)
        found = self._prescriber.get(key)
        if found is None:
            allowed = [
                (midnight + seconds_of(r.start) - offset, midnight + seconds_of(r.end) - finish)
                for r in self.rules.calendar.prescriber_ranges(day)
            ]
            found = self._prescriber[key] = Spans(allowed, of="allowed")
        return found

    def _best_slowly(
        self,
        kind: SessionKind,
        day: dt.date,
        clocks: list[int],
        not_before: dt.datetime | None,
        earliest: Threshold | None,
    ) -> tuple[Slot | None, str]:
        """:meth:`best` one aware datetime at a time (DST days; the reference for the screen)."""
        tz = self.zone_for(kind)
        problems: Counter[str] = Counter()
        for clock in clocks:
            start = resolve(
                day,
                clock_of(clock),
                tz,
                skipped=self.policy.skipped_time,
                repeated=self.policy.repeated_time,
            )
            if earliest is not None and start < earliest.at:
                problems[earliest.reason] += 1
                continue
            slot, problem = self.slot_problem(kind, start, not_before=not_before)
            if slot is not None:
                return slot, ""
            problems[problem or "unavailable"] += 1
        return None, problems.most_common(1)[0][0]
