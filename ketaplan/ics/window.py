"""The span busy times are read for, and the counts that bound reading one file.

A :class:`Window` is the planning span, from the first instant of its first day to the first
instant after its last day, in the clinic's zone. Every busy time is clipped to it, so an event
or a free/busy period from year 1 to 9999 becomes a busy time of the span's length at most; a
value far outside it (more than two days, by date alone) is never converted or added to, so the
ends of Python's calendar cannot overflow.

A :class:`Tally` counts, for one file, each thing a cap bounds and raises
:class:`~ketaplan.errors.LimitError` as soon as a count passes its cap: busy times in the span
(:data:`MAX_OCCURRENCES`), the days they touch (:data:`MAX_BUSY_DAYS`) and the steps recurrence
rules take (:data:`MAX_RULE_STEPS`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ketaplan._model import elapsed_order
from ketaplan.errors import LimitError

__all__ = ["MAX_BUSY_DAYS", "MAX_OCCURRENCES", "MAX_RULE_STEPS", "Tally", "Window"]

#: At most this many busy times are read from one file, counted after clipping to the span and
#: leaving out cancelled and free (transparent) events.
MAX_OCCURRENCES = 200_000
#: The busy times of one file may touch at most this many days in all, each counting every (UTC)
#: day it touches: what the ledger indexes them by, so that many long busy times (each clipped to
#: the span) cannot fill memory either.
MAX_BUSY_DAYS = 2_000_000
#: At most this many steps are taken by the recurrence rules of one file: each repetition a rule
#: generates (in the span, or before it when the rule has a COUNT), and, for a rule that can go
#: many periods without a repetition, those periods, charged before it is expanded (every period
#: of a day for a rule more frequent than daily that is not walked by day), and the times of day
#: dateutil builds as it makes each rule (see :mod:`ketaplan.ics.rules`).
MAX_RULE_STEPS = 500_000

_MARGIN = dt.timedelta(days=2)  # more than any UTC offset: dates beyond it are surely outside
_OUTSIDE = dt.timedelta(days=3)
_INSTANT = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Window:
    """The planning span: ``start`` (included) to ``stop`` (excluded), aware instants."""

    start: dt.datetime
    stop: dt.datetime
    zone: dt.tzinfo
    """The zone of floating times and all-day events (the clinic's)."""

    @classmethod
    def of(cls, first: dt.date, last: dt.date, zone: dt.tzinfo) -> Window:
        """The span of the days ``first`` to ``last`` (included) in ``zone``."""
        start = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
        stop = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        return cls(start, stop, zone)

    @property
    def before(self) -> dt.datetime:
        """An instant surely before the span: what any earlier value becomes."""
        return self.start - _OUTSIDE

    @property
    def beyond(self) -> dt.datetime:
        """An instant surely after the span: what any later value becomes."""
        return self.stop + _OUTSIDE

    def instant(self, value: dt.date | dt.datetime) -> dt.datetime:
        """``value`` as an aware instant (floating and all-day in :attr:`zone`), kept near the span.

        >>> w = Window.of(dt.date(2027, 1, 1), dt.date(2027, 1, 31), dt.UTC)
        >>> w.instant(dt.date(1, 1, 1)) == w.before, w.instant(dt.date(9999, 12, 31)) == w.beyond
        (True, True)
        """
        day = value.date() if isinstance(value, dt.datetime) else value
        if day < self.start.date() - _MARGIN:
            return self.before
        if day > self.stop.date() + _MARGIN:
            return self.beyond
        if isinstance(value, dt.datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=self.zone)
        return dt.datetime.combine(value, dt.time(0), tzinfo=self.zone)

    def later(self, begin: dt.datetime, length: dt.timedelta) -> dt.datetime:
        """``begin`` + ``length``, or :attr:`beyond` when that would end after the span."""
        if length >= self.beyond - begin:
            return self.beyond
        return begin + length

    def clip(self, begin: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        """The part of ``begin``-``end`` inside the span, or None when there is none.

        Compared as instants, so a time in a repeated (fall-back) hour is placed right.
        """
        first, last = max(begin, self.start, key=_utc), min(end, self.stop, key=_utc)
        return (first, last) if elapsed_order(first, last) else None


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


class Tally:
    """What the caps of one file count, with the :class:`LimitError` each raises when passed."""

    def __init__(self, origin: str, window: Window) -> None:
        self.origin = origin
        self.window = window
        self.occurrences = 0
        self.days = 0
        self.steps = 0

    def occurrence(self, begin: dt.datetime, end: dt.datetime) -> None:
        """Count one busy time in the span, from ``begin`` to ``end``, and the days it touches."""
        self.occurrences += 1
        if self.occurrences > MAX_OCCURRENCES:
            raise self._too_many_busy(self.occurrences, "reading stopped at the count given")
        first, last = (_utc(moment).date() for moment in (begin, end - _INSTANT))
        self.days += (last - first).days + 1
        if self.days > MAX_BUSY_DAYS:
            raise LimitError(
                self.origin,
                f"busy times that touch at most {MAX_BUSY_DAYS:,} days in all from "
                f"{self._span()} (each counts every day it touches); reading stopped at the "
                "count given",
                self.days,
            )

    def step_room(self) -> int:
        """How many more steps the file's recurrence rules may take."""
        return MAX_RULE_STEPS - self.steps

    def busy_room(self) -> int:
        """How many more busy times the file may have."""
        return MAX_OCCURRENCES - self.occurrences

    def expect_busy(self, count: int) -> None:
        """Fail now if ``count`` more busy times, sure to come, would pass the cap."""
        if self.occurrences + count > MAX_OCCURRENCES:
            raise self._too_many_busy(
                self.occurrences + count, "a recurring event gives at least the number given"
            )

    def step(self, where: str, count: int = 1) -> None:
        """Count ``count`` steps of the recurrence rule at ``where`` (e.g. ``line 12: RRULE``).

        A step is a repetition the rule generates, or a period it may walk without one (charged
        before the rule is expanded, see :mod:`ketaplan.ics.rules`).
        """
        self.steps += count
        if self.steps > MAX_RULE_STEPS:
            raise self._too_many_steps(where, self.steps, "reading stopped at the count given")

    def expect(self, where: str, count: int) -> None:
        """Fail now if the rule at ``where`` must take ``count`` more steps than the cap allows.

        For a rule that repeats in every period, so the count is known before the walk; nothing
        is added (each step is counted as it is taken).
        """
        if self.steps + count > MAX_RULE_STEPS:
            raise self._too_many_steps(
                where, self.steps + count, "this rule alone needs at least the number given"
            )

    def _too_many_busy(self, count: int, how: str) -> LimitError:
        return LimitError(
            self.origin,
            f"at most {MAX_OCCURRENCES:,} busy times from {self._span()}; {how}",
            count,
        )

    def _too_many_steps(self, where: str, count: int, how: str) -> LimitError:
        return LimitError(
            f"{self.origin}: {where}",
            f"at most {MAX_RULE_STEPS:,} steps (repetitions, or periods without one) for the "
            f"recurrence rules of one file up to the end of the span {self._span()}; {how}",
            count,
        )

    def _span(self) -> str:
        last = (self.window.stop - dt.timedelta(days=1)).date()
        return f"{self.window.start.date()} to {last}"
