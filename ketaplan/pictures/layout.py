"""Where a plan's timeline puts things: strips of months, a lane for each session, the marks.

Nothing here is worked out afresh from the protocol: each session's window is the one the plan
recorded when it placed it (``Appointment.earliest`` to ``latest``, around its ``target``),
whether it moved is :attr:`~ketaplan.plans.Appointment.moved`, holds are the plan's
``medication-hold`` instructions and tasks its staff tasks.

The drawing is bounded by construction: only months that hold a session, a task or a hold are
shown (with at most one empty month between two, so a short pause does not break a strip), at
most :data:`MONTHS_PER_STRIP` months to a strip, so its width is bounded and a long course
wraps. The size of the drawing grows with what the plan holds, never with the days between.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import heapq
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ketaplan.plans import Appointment, Plan, Task
from ketaplan.timing import zone

__all__ = [
    "MONTHS_PER_STRIP",
    "Band",
    "Hold",
    "Layout",
    "Placed",
    "Session",
    "Strip",
    "TaskDay",
    "layout",
    "month_start",
]

#: The most months one strip shows: its width stays printable, and a long course wraps.
MONTHS_PER_STRIP = 3

#: Empty months a strip still bridges, so a short pause in a course does not break it.
_BRIDGE = 1


class Session(NamedTuple):
    """An appointment of the plan, where it is drawn from."""

    appointment: Appointment
    number: int
    """1-based position in the plan's appointments (ids in the drawing are made from it)."""
    day: dt.date
    """The local day it starts."""
    window: tuple[dt.date, dt.date] | None
    """The days it had to land in (earliest, latest), as the plan recorded them."""
    moved: int | None
    """Its number in the list of moved sessions, when it moved."""


class Placed(NamedTuple):
    """A session on a strip, in one of its lanes (0 at the top)."""

    session: Session
    lane: int


class Band(NamedTuple):
    """A phase: from its first session's day to its last's (both included)."""

    phase: str
    first: dt.date
    last: dt.date
    sessions: int


class Hold(NamedTuple):
    """A medication hold around a session: from ``start`` to ``end`` (local times)."""

    appointment: str
    text: str
    start: dt.datetime
    end: dt.datetime


class TaskDay(NamedTuple):
    """The staff tasks due on one day."""

    day: dt.date
    tasks: tuple[Task, ...]


class Strip(NamedTuple):
    """Whole months in a row, with what falls in them."""

    first: dt.date
    """The first day shown: the 1st of a month."""
    days: int
    placed: tuple[Placed, ...]
    lanes: int
    bands: tuple[Band, ...]
    holds: tuple[Hold, ...]
    tasks: tuple[TaskDay, ...]
    skipped: tuple[dt.date, dt.date] | None
    """The months left out just before this strip (first and last day), if any."""

    @property
    def last(self) -> dt.date:
        """The last day shown."""
        return self.first + dt.timedelta(days=self.days - 1)

    def offset(self, day: dt.date) -> int:
        """How many days ``day`` is after the strip's first."""
        return day.toordinal() - self.first.toordinal()

    def shows(self, day: dt.date) -> bool:
        """Whether ``day`` is on this strip."""
        return 0 <= self.offset(day) < self.days


class Layout(NamedTuple):
    """The whole picture: every session in the plan's order, and the strips."""

    sessions: tuple[Session, ...]
    strips: tuple[Strip, ...]
    holds: tuple[Hold, ...]
    tasks: tuple[Task, ...]
    """The staff tasks drawn (checkpoints, at a moment during a session, are the run sheet's)."""
    checkpoints: int
    today: dt.date | None
    """The day the today line marks, when it falls on a strip."""

    @property
    def moved(self) -> tuple[Session, ...]:
        """The sessions that moved, in the order of their numbers."""
        return tuple(s for s in self.sessions if s.moved is not None)


def month_start(index: int) -> dt.date:
    """The first day of month ``index`` (``year * 12 + month - 1``)."""
    return dt.date(index // 12, index % 12 + 1, 1)


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_days(index: int) -> int:
    return calendar.monthrange(index // 12, index % 12 + 1)[1]


def layout(plan: Plan, /, *, today: dt.date | None = None) -> Layout:
    """Where everything of ``plan`` goes (``today``: the day to mark, if any)."""
    local = zone(plan.time_zone)
    sessions = _sessions(plan.appointments)
    holds = tuple(
        Hold(a.id, i.text, i.at.astimezone(local), i.until.astimezone(local))
        for a in plan.appointments
        for i in a.instructions
        if i.kind == "medication-hold" and i.at is not None and i.until is not None
    )
    tasks = tuple(task for task in plan.tasks if task.kind != "checkpoint")
    shown = {_month(s.day) for s in sessions} | {_month(t.due) for t in tasks}
    shown |= {_month(h.start.date()) for h in holds} | {_month(h.end.date()) for h in holds}
    if today is not None and shown and min(shown) - 1 <= _month(today) <= max(shown) + 1:
        shown.add(_month(today))
    runs = _runs(sorted(shown))
    strips = tuple(_strips(runs, sessions, holds, tasks))
    marked = today if today is not None and any(s.shows(today) for s in strips) else None
    checkpoints = len(plan.tasks) - len(tasks)
    return Layout(sessions, strips, holds, tasks, checkpoints, marked)


def _sessions(appointments: Sequence[Appointment]) -> tuple[Session, ...]:
    found = []
    moved = 0
    for number, appointment in enumerate(appointments, start=1):
        window = None
        if appointment.earliest is not None and appointment.latest is not None:
            window = (appointment.earliest, max(appointment.earliest, appointment.latest))
        mark = None
        if appointment.moved:
            moved += 1
            mark = moved
        found.append(Session(appointment, number, appointment.local_date, window, mark))
    return tuple(found)


def _runs(months: list[int]) -> list[list[int]]:
    """The months shown, as runs of consecutive months (short gaps bridged)."""
    runs: list[list[int]] = []
    for month in months:
        if runs and month - runs[-1][-1] <= _BRIDGE + 1:
            runs[-1] += range(runs[-1][-1] + 1, month + 1)
        else:
            runs.append([month])
    return runs


def _strips(
    runs: list[list[int]],
    sessions: Sequence[Session],
    holds: Sequence[Hold],
    tasks: Sequence[Task],
) -> Iterable[Strip]:
    """The strips of each run of months.

    Each item is looked up by its month, so the work grows with the items and the months
    shown, not with their product.
    """
    by_month: dict[int, list[Session]] = defaultdict(list)
    for session in sessions:
        by_month[_month(session.day)].append(session)
    due: dict[int, dict[dt.date, list[Task]]] = defaultdict(lambda: defaultdict(list))
    for task in tasks:
        due[_month(task.due)][task.due].append(task)
    held: dict[int, list[Hold]] = defaultdict(list)
    for hold in holds:
        for month in {_month(hold.start.date()), _month(hold.end.date())}:
            held[month].append(hold)
    bands = _bands(sessions)
    starts, ends = [band.first for band in bands], [band.last for band in bands]
    previous: int | None = None
    for run in runs:
        for at in range(0, len(run), MONTHS_PER_STRIP):
            months = run[at : at + MONTHS_PER_STRIP]
            first = month_start(months[0])
            days = sum(_month_days(m) for m in months)
            skipped = None
            if previous is not None and months[0] - previous > 1:
                skipped = (month_start(previous + 1), first - dt.timedelta(days=1))
            previous = months[-1]
            strip = Strip(first, days, (), 0, (), (), (), skipped)
            placed = _lanes(strip, [s for m in months for s in by_month[m]])
            on = bands[bisect.bisect_left(ends, first) : bisect.bisect_right(starts, strip.last)]
            yield strip._replace(
                placed=placed,
                lanes=1 + max((p.lane for p in placed), default=0),
                bands=tuple(on),
                holds=tuple(dict.fromkeys(h for m in months for h in held[m])),
                tasks=tuple(
                    TaskDay(day, tuple(found))
                    for m in months
                    for day, found in sorted(due[m].items(), key=lambda item: item[0])
                ),
            )


def _bands(sessions: Sequence[Session]) -> list[Band]:
    """Each phase from its first session to its last, in the order the phases begin.

    A band ends where the next begins (phases follow one another; an interleaved one is cut
    short, or left out when nothing is left), so bands never overlap and each strip finds its
    own by bisection.
    """
    spans: dict[str, list[dt.date]] = {}
    for session in sessions:
        spans.setdefault(session.appointment.phase, []).append(session.day)
    found = sorted(
        (Band(phase, min(days), max(days), len(days)) for phase, days in spans.items()),
        key=lambda band: (band.first, band.last),
    )
    cut = [
        band._replace(last=min(band.last, following.first - dt.timedelta(days=1)))
        for band, following in itertools.pairwise(found)
    ]
    return [band for band in [*cut, *found[-1:]] if band.last >= band.first]


def _lanes(strip: Strip, sessions: Sequence[Session]) -> tuple[Placed, ...]:
    """Each session in the first lane free for its window (or its day), one day apart.

    Greedy interval partitioning with a heap: sessions sorted by where their span begins, each
    given the lowest lane whose last span ended at least a day before; O(n log n).
    """

    def span(session: Session) -> tuple[int, int]:
        day = strip.offset(session.day)
        if session.window is None:
            return day, day
        first = max(0, min(day, strip.offset(session.window[0])))
        last = min(strip.days - 1, max(day, strip.offset(session.window[1])))
        return first, last

    spans = sorted((span(s), s.number, s) for s in sessions)
    busy: list[tuple[int, int]] = []  # (last day, lane)
    free: list[int] = []
    placed = []
    for (first, last), _, session in spans:
        while busy and busy[0][0] + 1 < first:
            heapq.heappush(free, heapq.heappop(busy)[1])
        lane = heapq.heappop(free) if free else len(busy) + len(free)
        heapq.heappush(busy, (last, lane))
        placed.append(Placed(session, lane))
    return tuple(sorted(placed, key=lambda p: p.session.number))
