"""The order in which the search tries a window's days (issue 18: made without sorting)."""

from __future__ import annotations

import datetime as dt
import itertools

from ketaplan._planning.search import nearest_first

_FIRST = dt.date(2027, 1, 1)


def test_days_come_nearest_the_target_first_and_the_earlier_of_two() -> None:
    # Issue 18: the search listed a window's days and sorted them by (distance, date); it now
    # makes them in that order. Every window of up to 12 days, every target from 15 days before
    # it to 15 after (a target outside the window is nearest its closer end).
    for offset, span, aim in itertools.product(range(3), range(-1, 12), range(-15, 27)):
        earliest = _FIRST + dt.timedelta(days=offset)
        latest = earliest + dt.timedelta(days=span)
        target = earliest + dt.timedelta(days=aim)
        every = [earliest + dt.timedelta(days=n) for n in range(span + 1)]
        expected = sorted(every, key=lambda d: (abs((d - target).days), d))
        assert nearest_first(earliest, target, latest) == expected
