"""Weekly hours and date ranges: the building blocks of clinic and patient calendars."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema, model_serializer, model_validator

from ketaplan._model import Day, Loc, Model, Text, TimeOfDay, fail
from ketaplan._types import WEEKDAYS, Weekday

__all__ = [
    "DEFAULT_QUIET_HOURS",
    "DateRange",
    "QuietHours",
    "QuietSetting",
    "Ranges",
    "TimeRange",
    "WeeklyHours",
]

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _parse_range(value: Any) -> Any:
    """Accept ``"08:00-12:30"`` as well as ``{"start": ..., "end": ...}``."""
    if isinstance(value, str):
        match = _RANGE.match(value)
        if not match:
            raise ValueError(f"must look like 'HH:MM-HH:MM'; got {value!r}")
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        try:
            return {"start": dt.time(h1, m1), "end": dt.time(h2, m2)}
        except ValueError:
            raise ValueError(f"must use real clock times 00:00-23:59; got {value!r}") from None
    return value


class TimeRange(Model):
    """A range of local wall-clock time within one day, e.g. ``"08:00-12:30"``."""

    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError(f"end: must be after start; got {self.start:%H:%M}-{self.end:%H:%M}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("must be local wall-clock times without a UTC offset")
        return self

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, start: dt.time, end: dt.time) -> bool:
        """Whether ``start``-``end`` lies within this range."""
        return self.start <= start and end <= self.end


Ranges = Annotated[
    tuple[Annotated[TimeRange, BeforeValidator(_parse_range)], ...], Field(max_length=12)
]


class WeeklyHours(Model):
    """Ranges of local time for each weekday; a day that is not given has none.

    >>> hours = WeeklyHours.model_validate({"tue": ["09:00-12:00"], "thu": ["09:00-12:00"]})
    >>> [str(r) for r in hours.on(dt.date(2026, 12, 1))]
    ['09:00-12:00']
    >>> hours.on(dt.date(2026, 12, 2))
    ()
    """

    mon: Ranges = ()
    tue: Ranges = ()
    wed: Ranges = ()
    thu: Ranges = ()
    fri: Ranges = ()
    sat: Ranges = ()
    sun: Ranges = ()

    def day(self, weekday: Weekday) -> tuple[TimeRange, ...]:
        """The ranges of one weekday."""
        ranges: tuple[TimeRange, ...] = getattr(self, weekday)
        return ranges

    def on(self, date: dt.date) -> tuple[TimeRange, ...]:
        """The ranges on a date."""
        return self.day(WEEKDAYS[date.weekday()])

    @property
    def is_empty(self) -> bool:
        """Whether no day has any range."""
        return not any(self.day(day) for day in WEEKDAYS)

    @model_validator(mode="after")
    def _disjoint(self) -> WeeklyHours:
        found: list[tuple[Loc, str, object]] = []
        for day in WEEKDAYS:
            ranges = sorted(self.day(day), key=lambda r: r.start)
            found.extend(
                ((day,), "must not overlap", f"{before} and {after}")
                for before, after in itertools.pairwise(ranges)
                if after.start < before.end
            )
        fail(found)
        return self


class DateRange(Model):
    """Dates from ``start`` to ``end``, both included, with an optional reason.

    ``end`` may be omitted for a single day.
    """

    start: Day
    end: Day | None = None
    reason: Text | None = None

    @property
    def last(self) -> dt.date:
        """The last date of the range."""
        return self.start if self.end is None else self.end

    def __contains__(self, date: object) -> bool:
        return isinstance(date, dt.date) and self.start <= date <= self.last

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end: must not be before start {self.start}; got {self.end}")
        if (self.last - self.start).days > 3 * 366:
            raise ValueError(
                f"end: must be at most 3 years after start {self.start}; got {self.end}"
            )
        return self


class QuietHours(Model):
    """Hours of the night in which no reminder fires, e.g. ``"21:00-07:00"`` (past midnight).

    The two ends are not quiet: with ``21:00-07:00`` a reminder may fire at 21:00 and at 07:00,
    not in between. A usability setting, not a clinical one.

    >>> quiet = QuietHours.model_validate("21:00-07:00")
    >>> dt.time(3, 15) in quiet, dt.time(21, 0) in quiet, dt.time(12, 0) in quiet
    (True, False, False)
    >>> quiet.began(dt.datetime(2026, 12, 2, 3, 15))  # the evening before
    datetime.date(2026, 12, 1)
    """

    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = _RANGE.match(value)
            if not match:
                raise ValueError(f"must look like 'HH:MM-HH:MM' or be 'off'; got {value!r}")
            return _parse_range(value)
        return value

    @model_validator(mode="after")
    def _apart(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError(f"must end at another time than it starts (or be 'off'); got {self}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("must be local wall-clock times without a UTC offset")
        return self

    @model_serializer
    def _written(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def __contains__(self, clock: object) -> bool:
        """Whether a local clock time is strictly inside the quiet hours."""
        if not isinstance(clock, dt.time):
            return False
        clock = clock.replace(tzinfo=None)
        if self.start < self.end:
            return self.start < clock < self.end
        return clock > self.start or clock < self.end

    def began(self, moment: dt.datetime) -> dt.date:
        """The day on which the quiet hours that hold the local ``moment`` began."""
        if self.start > self.end and moment.time() < self.end:
            return moment.date() - dt.timedelta(days=1)
        return moment.date()


#: The quiet hours of a clinic that sets none: 21:00 to 07:00.
DEFAULT_QUIET_HOURS = QuietHours(start=dt.time(21), end=dt.time(7))


def _quiet_or_off(value: Any) -> Any:
    """``"off"`` (or ``None``) turns quiet hours off."""
    return None if value is None or value == "off" else value


#: A clinic's (and a plan's) quiet hours: ``"21:00-07:00"``, or ``"off"`` for none.
QuietSetting = Annotated[
    QuietHours | None,
    BeforeValidator(_quiet_or_off),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(off|\d{1,2}:\d{2}-\d{1,2}:\d{2})$",
            "description": "'HH:MM-HH:MM' (it may run past midnight), or 'off'",
        }
    ),
]
