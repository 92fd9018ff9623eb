"""When a clinic is open: weekly hours, closures, holidays and extra openings, per date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cached_property, lru_cache
from typing import Literal

import holidays

from ketaplan._types import WEEKDAYS
from ketaplan.clinic import Clinic
from ketaplan.hours import TimeRange
from ketaplan.timing import elapsed_hours, resolve, zone

__all__ = ["ClinicCalendar"]

_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@lru_cache(maxsize=1024)
def _public_holidays(country: str, subdivision: str | None, year: int) -> Mapping[dt.date, str]:
    """One year's public holidays; cached, as building them costs about a millisecond."""
    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year).items())


class ClinicCalendar:
    """A clinic's opening hours resolved per date.

    >>> from ketaplan.defaults import demo_clinic
    >>> calendar = ClinicCalendar(demo_clinic())
    >>> calendar.closed_reason(dt.date(2026, 12, 25))
    'clinic closed (Christmas Day)'
    >>> [str(r) for r in calendar.ranges(dt.date(2026, 12, 28))]
    ['08:00-18:00']
    """

    def __init__(self, clinic: Clinic) -> None:
        self.clinic = clinic
        self._holiday_years: set[int] = set()
        self._library: dict[dt.date, str] = {}
        self._extra = {opening.date: opening for opening in clinic.extra_openings}
        # Each day's answers, worked out once (the clinic never changes): the slot finder asks
        # about a day several times (its hours, then the prescriber's).
        self._closed: dict[dt.date, str | None] = {}
        self._ranges: dict[dt.date, tuple[TimeRange, ...]] = {}

    @cached_property
    def _explicit(self) -> dict[dt.date, str]:
        closed: dict[dt.date, str] = {}
        shut = tuple(change for change in self.clinic.capacity_changes if change.closed)
        for ranges, label in (
            (self.clinic.holidays.dates, "holiday"),
            (self.clinic.closures, "closure"),
            (shut, "closure"),
        ):
            for item in ranges:
                day = item.start
                while day <= item.last:
                    closed.setdefault(day, f"{label}: {item.reason}" if item.reason else label)
                    day += dt.timedelta(days=1)
        return closed

    def _public_holiday(self, day: dt.date) -> str | None:
        settings = self.clinic.holidays
        if settings.country is None:
            return None
        if day.year not in self._holiday_years:
            self._library.update(_public_holidays(settings.country, settings.subdivision, day.year))
            self._holiday_years.add(day.year)
        return self._library.get(day)

    def closed_reason(self, day: dt.date) -> str | None:
        """Why the clinic is closed on ``day``, or ``None`` when it is open."""
        if day in self._closed:
            return self._closed[day]
        found = self._closed[day] = self._closed_reason(day)
        return found

    def _closed_reason(self, day: dt.date) -> str | None:
        if day in self._extra:
            return None
        explicit = self._explicit.get(day)
        if explicit is not None:
            return f"clinic closed ({explicit})"
        holiday = self._public_holiday(day)
        if holiday is not None:
            return f"clinic closed ({holiday})"
        if not self.clinic.opening_hours.on(day):
            return f"clinic closed on {_DAY_NAMES[day.weekday()]}"
        return None

    def ranges(self, day: dt.date) -> tuple[TimeRange, ...]:
        """The opening ranges on ``day``; empty when closed."""
        found = self._ranges.get(day)
        if found is None:
            found = self._ranges[day] = self._open_ranges(day)
        return found

    def _open_ranges(self, day: dt.date) -> tuple[TimeRange, ...]:
        extra = self._extra.get(day)
        if extra is not None:
            return extra.hours
        if self.closed_reason(day) is not None:
            return ()
        return self.clinic.opening_hours.on(day)

    @cached_property
    def _prescriber_absent(self) -> tuple[tuple[dt.date, dt.date], ...]:
        """The spans of days a capacity change says no prescriber is on site."""
        return tuple(
            (change.start, change.last)
            for change in self.clinic.capacity_changes
            if change.prescriber_absent
        )

    def prescriber_ranges(self, day: dt.date) -> tuple[TimeRange, ...]:
        """When a prescriber is on site on ``day``; empty when none is."""
        resources = self.clinic.resources
        if not resources.prescriber_on_site:
            return ()
        if any(first <= day <= last for first, last in self._prescriber_absent):
            return ()
        open_ranges = self.ranges(day)
        if resources.prescriber_hours is None or not open_ranges:
            return open_ranges
        return resources.prescriber_hours.day(WEEKDAYS[day.weekday()])

    def hours(self, day: dt.date, *, of: Literal["clinic", "prescriber"] = "clinic") -> float:
        """Real elapsed hours the clinic (or its prescriber) is open on ``day``.

        Each range's ends are the clinic's wall times made instants by
        :func:`~ketaplan.timing.resolve` (a time the clocks skip moves later, a repeated one is
        its first), so a day on which the clocks change counts the hours that really pass.

        >>> from ketaplan.defaults import demo_clinic
        >>> calendar = ClinicCalendar(demo_clinic())
        >>> calendar.hours(dt.date(2026, 12, 28)), calendar.hours(dt.date(2026, 12, 25))
        (10.0, 0.0)
        """
        ranges = self.ranges(day) if of == "clinic" else self.prescriber_ranges(day)
        tz = zone(self.clinic.time_zone)
        return sum(
            (elapsed_hours(resolve(day, r.start, tz), resolve(day, r.end, tz)) for r in ranges),
            0.0,
        )
