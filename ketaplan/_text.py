"""Dates and times in words, as ketaplan writes them in reasons, instructions and errors.

One format everywhere: ``Fri 25 Dec 2026`` for a day, ``09:00 on Fri 25 Dec 2026`` for a
moment in its own zone. Patient text, the export and error messages all use these, so the
same day never reads two ways.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

__all__ = ["WEEKDAY_PLURAL", "fmt_clock", "fmt_day", "fmt_time", "quantity"]

#: Weekday names for "on Mondays", indexed by ``date.weekday()``.
WEEKDAY_PLURAL = (
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
)


def fmt_day(day: dt.date) -> str:
    """``'Fri 25 Dec 2026'``.

    >>> fmt_day(dt.date(2026, 12, 25))
    'Fri 25 Dec 2026'
    """
    return _fmt_date(day.toordinal())


@lru_cache(maxsize=4096)
def _fmt_date(ordinal: int) -> str:  # by ordinal, so a datetime never shares a date's entry
    day = dt.date.fromordinal(ordinal)
    return f"{day:%a} {day.day} {day:%b %Y}"


def fmt_time(moment: dt.datetime) -> str:
    """``'09:00 on Fri 25 Dec 2026'`` in the moment's own zone.

    >>> fmt_time(dt.datetime(2026, 12, 25, 9, 0))
    '09:00 on Fri 25 Dec 2026'
    """
    return f"{moment.hour:02d}:{moment.minute:02d} on {_fmt_date(moment.toordinal())}"


def fmt_clock(moment: dt.datetime, /, *, seen_on: dt.date) -> str:
    """``'09:00'`` on the day ``seen_on``, else with its day: ``'09:00 on Fri 25 Dec 2026'``.

    For text read on a known day (an event's description, a reminder when it fires): a time
    on another day always names its day.

    >>> fmt_clock(dt.datetime(2026, 12, 25, 9, 0), seen_on=dt.date(2026, 12, 25))
    '09:00'
    >>> fmt_clock(dt.datetime(2026, 12, 26, 3, 15), seen_on=dt.date(2026, 12, 25))
    '03:15 on Sat 26 Dec 2026'
    """
    if moment.toordinal() == seen_on.toordinal():
        return f"{moment.hour:02d}:{moment.minute:02d}"  # strftime is several times slower
    return fmt_time(moment)


def quantity(number: float, unit: str) -> str:
    """``number`` and ``unit``, the unit plural unless the number is 1; whole numbers as such.

    >>> quantity(1, "hour"), quantity(48, "hour"), quantity(1.5, "hour"), quantity(0, "day")
    ('1 hour', '48 hours', '1.5 hours', '0 days')
    >>> quantity(24.0, "hour"), quantity(1.0, "dose")
    ('24 hours', '1 dose')
    """
    whole = not isinstance(number, float) or number.is_integer()
    written = str(int(number)) if whole else f"{number:g}"
    return f"{written} {unit}" if number == 1 else f"{written} {unit}s"
