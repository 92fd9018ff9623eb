"""Where the next session of a chain may go: its window, its target and the rule behind them.

:func:`next_step` is the one computation of a session's window. The planner asks it for the
next session to place; ``check`` asks it, for each prefix of a plan's chain, where the next
session should have gone, and :func:`window_findings` compares that with where it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ketaplan._text import fmt_day, quantity
from ketaplan._types import MonthEnd
from ketaplan.plans import Appointment
from ketaplan.protocol import (
    AfterPrevious,
    GapSequence,
    GapWindow,
    InWeek,
    PerWeek,
    Phase,
    SessionKind,
)
from ketaplan.rules.chain import Chain
from ketaplan.rules.finding import Code, Finding
from ketaplan.timing import add_gap

__all__ = [
    "DEFAULT_START_WINDOW_DAYS",
    "MAX_START_WINDOW_DAYS",
    "Bounds",
    "End",
    "GapBounds",
    "Step",
    "Window",
    "gap_bounds",
    "next_step",
    "preferred_day",
    "window_findings",
]

#: How long the first (or a resumed) session may wait after its earliest day, by default.
DEFAULT_START_WINDOW_DAYS = 28
#: The longest a first (or resumed) session may wait; ``check`` allows this much.
MAX_START_WINDOW_DAYS = 366
_WEEK = 7
_WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class GapBounds(NamedTuple):
    """The dates a gap allows after a day: never before ``floor``; ideally ``target``."""

    floor: dt.date
    lowest: dt.date
    target: dt.date
    highest: dt.date


def gap_bounds(day: dt.date, gap: GapWindow, *, month_end: MonthEnd) -> GapBounds:
    """The dates ``gap`` allows after ``day`` (absolute minimum, minimum, target, maximum)."""
    return GapBounds(
        add_gap(day, gap.absolute_minimum, gap.unit, month_end=month_end),
        add_gap(day, gap.minimum, gap.unit, month_end=month_end),
        add_gap(day, gap.target, gap.unit, month_end=month_end),
        add_gap(day, gap.maximum, gap.unit, month_end=month_end),
    )


class Window(NamedTuple):
    """A session's acceptable dates, its target and the rule that set them."""

    earliest: dt.date
    target: dt.date
    latest: dt.date
    rule: str
    words: str
    """The window in words, for reasons: ``"within the 6-10 day window"``."""
    gap: GapWindow | None = None
    """The gap window that set the dates, when a gap did."""


@dataclass(frozen=True)
class Bounds:
    """What a plan as a whole allows, apart from the protocol's rules."""

    start: dt.date
    until: dt.date
    earliest_start: dt.date
    """The plan start, or later after a washout, a switch or a lapse review."""
    start_window_days: int
    held_until: dt.date | None = None
    """Re-planning: the last date of the sessions kept; nothing new goes on or before it."""
    booking_limit: dt.date | None = None
    """The last date the clinic books (from now and its booking horizon)."""
    booking_horizon_days: int = 0
    kept: Mapping[str, dt.date] = field(default_factory=dict)
    """Re-planning: the date each session had, kept as its target where it still fits."""
    aims: Mapping[str, dt.date] = field(default_factory=dict)
    """Placement hints: a day to try first where it fits (:attr:`Step.aim`)."""
    series_relaxed: bool = False
    """Phase deadlines and weekly minimums are targets, not limits (see :attr:`Step.
    series_relaxed`)."""
    declined: frozenset[str] = frozenset()
    """Phases a clinician decided not to start (maintenance for a non-responder)."""
    booster: tuple[str, dt.date, int] | None = None
    """A booster the patient asked for: the phase, the day from which its next session comes
    (after the evaluation) instead of its gap, and within how many days."""
    id_prefix: str = ""
    """Re-induction: the prefix of the new course's ids (``course-2-``)."""


@dataclass(frozen=True)
class Step:
    """The next session of a chain, and where it may go."""

    phase_index: int
    phase: Phase
    kind: SessionKind
    index: int
    dose_number: int | None
    earliest: dt.date
    latest: dt.date
    target: dt.date
    rule: str
    window_text: str
    previous: Appointment | None
    hard_latest: dt.date | None = None
    """A date no candidate may pass even when shifting (a phase deadline)."""
    gap: GapWindow | None = None
    """The gap window that set the dates, when a gap did."""
    passed: Window | None = None
    """Re-planning: the rules' own window, when it had passed and the session resumes after it."""
    series_relaxed: bool = False
    """The phase's deadline and weekly minimum are targets, not limits, for this step (start
    policy ``earliest``, once the series did not fit from the first feasible day)."""
    on_request: bool = False
    """A booster the patient asked for (:attr:`Bounds.booster`): its gap does not apply."""
    aim: dt.date | None = None
    """A day inside the window to try first (a placement hint); ``target`` stays the rules'."""

    @property
    def id(self) -> str:
        """The id the session gets (without a re-induction prefix)."""
        return f"{self.phase.id}-{self.index}"

    @property
    def label(self) -> str:
        """The session in words, for errors."""
        return f"{self.kind.name.lower()} {self.index} of phase {self.phase.id!r}"


class End(NamedTuple):
    """The chain is done (for now); ``note`` says why, when a person should know."""

    note: str | None = None


def next_step(chain: Chain, bounds: Bounds, *, at: dt.datetime | None = None) -> Step | End:
    """The next session of ``chain`` and its window, or :class:`End` when none is due.

    ``at`` is when the session takes place, for judging one that exists: the tiers in force
    then apply (without it, today's).
    """
    current = chain.current()
    if current is None or current.phase.id in bounds.declined:  # a phase decided against
        return End()
    protocol = chain.course.protocol
    phase_index, phase, in_phase = current
    kind = protocol.session_kind(phase.session)
    index = max((a.index for a in in_phase), default=0) + 1
    dose_number = chain.next_dose_number() if kind.is_dosing else None
    previous = chain.last_active()
    if previous is None:
        window = _first_window(bounds)
    elif not in_phase:
        window = _entry_window(chain, phase, previous, bounds, at)
    else:
        window = _next_in_phase_window(chain, phase, in_phase, index, previous, at=at)
    on_request = _requested(bounds, phase, previous)
    resumed = _resumed(chain, on_request or window, previous, bounds)
    earliest, target, latest, rule, words, gap = resumed
    passed = (
        window if resumed.latest != window.latest and window.latest < resumed.earliest else None
    )
    if not in_phase and phase.preferred_weekdays:
        target = preferred_day(phase, target)
    key = f"{bounds.id_prefix}{phase.id}-{index}"
    # Re-planning: keep the date the session already had, if it still fits.
    target = _inside(bounds.kept.get(key), earliest, latest) or target
    hard_latest = None
    if phase.within_days is not None and in_phase:
        hard_latest = in_phase[0].local_date + dt.timedelta(days=phase.within_days - 1)
        if not bounds.series_relaxed:
            latest = min(latest, hard_latest)
    earliest = max(earliest, bounds.start, bounds.earliest_start)
    if phase.count is None and target > bounds.until:
        return End()
    if bounds.booking_limit is not None and earliest > bounds.booking_limit:
        return End(
            f"sessions from {phase.id}-{index} on lie beyond the clinic's "
            f"{bounds.booking_horizon_days}-day booking horizon: re-plan later to book them"
        )
    latest = max(latest, earliest)
    return Step(
        phase_index=phase_index,
        phase=phase,
        kind=kind,
        index=index,
        dose_number=dose_number,
        earliest=earliest,
        latest=latest,
        target=min(max(target, earliest), latest),
        aim=_inside(bounds.aims.get(key), earliest, latest),
        rule=rule,
        window_text=words,
        previous=previous,
        hard_latest=hard_latest,
        gap=gap,
        passed=passed,
        series_relaxed=bounds.series_relaxed,
        on_request=on_request is not None,
    )


def _inside(day: dt.date | None, earliest: dt.date, latest: dt.date) -> dt.date | None:
    """``day`` when it is given and from ``earliest`` to ``latest``."""
    return day if day is not None and earliest <= day <= latest else None


def _requested(bounds: Bounds, phase: Phase, previous: Appointment | None) -> Window | None:
    """The window of a booster the patient asked for: from the day after its evaluation."""
    if bounds.booster is None or previous is None:
        return None
    phase_id, day, within = bounds.booster
    if phase.id != phase_id or previous.local_date >= day:
        return None
    return Window(
        day,
        day,
        day + dt.timedelta(days=within),
        "a booster the patient asked for, after its evaluation",
        f"within {quantity(within, 'day')} of the evaluation",
    )


def _resumed(chain: Chain, window: Window, previous: Appointment | None, bounds: Bounds) -> Window:
    """The window after a missed session, or after a break whose window has passed."""
    earliest, target, latest, rule, words, gap = window
    held = bounds.held_until
    resume = bounds.start if held is None else max(bounds.start, held + dt.timedelta(days=1))
    missed = chain.missed_after(previous) if previous is not None else None
    if missed is not None:
        # After a miss the window runs from ``previous``, the last session that took place:
        # it may end before the re-plan, so it reaches past its end (as soon as possible for
        # a make-up; a phase that continues keeps its target, the session's place in it).
        earliest = max(earliest, resume)
        latest = max(latest, resume + dt.timedelta(days=bounds.start_window_days))
        session, made_up = missed
        rule = (
            f"making up {session.id}, which was missed"
            if made_up
            else f"{rule}; the schedule goes on without {session.id}, which was missed"
        )
    if latest < resume:
        # The whole window lies before the re-plan or on days already held (after a lapse
        # or a missed session): resume as soon as possible, keeping the other rules.
        earliest = target = resume
        latest = resume + dt.timedelta(days=bounds.start_window_days)
        rule = f"resuming after {previous.id if previous else 'a break'}, whose window has passed"
        words = f"within {quantity(bounds.start_window_days, 'day')} of resuming"
    return Window(earliest, target, latest, rule, words, gap)


def _first_window(bounds: Bounds) -> Window:
    """The first session of the plan: on or after the start (and any washout)."""
    earliest = bounds.earliest_start
    latest = earliest + dt.timedelta(days=bounds.start_window_days)
    rule = "first session, on or after the plan start"
    if earliest > bounds.start:
        rule += f" and after the washout (from {fmt_day(earliest)})"
    return Window(
        earliest,
        earliest,
        latest,
        rule,
        f"within {quantity(bounds.start_window_days, 'day')} of it",
    )


def _entry_window(
    chain: Chain, phase: Phase, previous: Appointment, bounds: Bounds, at: dt.datetime | None
) -> Window:
    """The first session of a later phase, by the phase's ``start``."""
    start = phase.start
    prev_day = previous.local_date
    if isinstance(start, InWeek):
        first_dose = chain.first_dose_date() or prev_day
        week_start = first_dose + dt.timedelta(days=7 * (start.week - 1))
        if prev_day < week_start:
            return Window(
                week_start,
                week_start,
                week_start + dt.timedelta(days=6),
                f"treatment week {start.week} (week 1 began {fmt_day(first_dose)})",
                f"within treatment week {start.week}",
            )
        # The sessions before ran into that week or past it (a series kept going past its
        # deadline, a re-plan): the week's own days would leave no room, so the phase enters
        # as its cadence says after the last of them.
        late = _cadence_entry(chain, phase, previous, bounds, at)
        return late._replace(
            rule=f"{late.rule} (treatment week {start.week} had begun by {previous.id})"
        )
    return _cadence_entry(chain, phase, previous, bounds, at)


def _cadence_entry(
    chain: Chain, phase: Phase, previous: Appointment, bounds: Bounds, at: dt.datetime | None
) -> Window:
    """The first session of a later phase by its entry gap or its cadence after ``previous``."""
    start = phase.start
    prev_day = previous.local_date
    cadence = chain.course.cadence(phase, at)
    gap = start.gap if isinstance(start, AfterPrevious) else None
    if gap is None and isinstance(cadence, GapSequence):
        gap = cadence.gap(0)
    if gap is not None:
        return _gap_window(chain, previous, gap)
    if isinstance(cadence, PerWeek):
        earliest = prev_day + dt.timedelta(days=cadence.min_gap_days)
        return Window(
            earliest,
            max(earliest, prev_day + dt.timedelta(days=_WEEK // cadence.sessions)),
            prev_day + dt.timedelta(days=_WEEK),
            f"{cadence.describe()}, after {previous.id}",
            f"at least {quantity(cadence.min_gap_days, 'day')} and at most a week after it",
        )
    # A single-session phase that names no gap: from the next day on.
    earliest = prev_day + dt.timedelta(days=1)
    latest = prev_day + dt.timedelta(days=bounds.start_window_days)
    return Window(
        earliest,
        earliest,
        latest,
        f"after {previous.id}",
        f"within {quantity(bounds.start_window_days, 'day')}",
    )


def _next_in_phase_window(
    chain: Chain,
    phase: Phase,
    /,
    in_phase: list[Appointment],
    index: int,
    previous: Appointment,
    *,
    at: dt.datetime | None,
) -> Window:
    """A later session of a phase, by the phase's cadence."""
    prev_day = previous.local_date
    cadence = chain.course.cadence(phase, at)
    if isinstance(cadence, PerWeek):
        earliest = prev_day + dt.timedelta(days=cadence.min_gap_days)
        first = in_phase[0].local_date
        return Window(
            earliest,
            _per_week_target(phase, cadence, first, index, earliest),
            # Beyond two weeks a complete week would have no session at all.
            prev_day + dt.timedelta(days=2 * _WEEK - 1),
            f"{cadence.describe()}, after {previous.id}",
            f"at least {quantity(cadence.min_gap_days, 'day')} after {previous.id}",
        )
    # Every phase with more than one session has a cadence (the protocol validates it).
    assert isinstance(cadence, GapSequence)  # noqa: S101
    # An entry that borrowed the cadence's first gap moves the rest along by one.
    borrowed = isinstance(phase.start, AfterPrevious) and phase.start.gap is None
    return _gap_window(chain, previous, cadence.gap(index - 2 + (1 if borrowed else 0)))


def _gap_window(chain: Chain, previous: Appointment, gap: GapWindow) -> Window:
    """The window ``gap`` opens after ``previous``, with its rule in words."""
    month_end = chain.course.protocol.calendar.month_end
    bounds = gap_bounds(previous.local_date, gap, month_end=month_end)
    unit = gap.unit if gap.target != 1 else gap.unit.rstrip("s")
    rule = f"{gap.target} {unit} after {previous.id}"
    if gap.minimum == gap.maximum:
        words = f"exactly {gap.minimum} {gap.unit} after it"
    else:
        words = f"within the {gap.minimum}-{gap.maximum} {gap.unit.rstrip('s')} window"
    return Window(bounds.lowest, bounds.target, bounds.highest, rule, words, gap)


def preferred_day(phase: Phase, earliest: dt.date) -> dt.date:
    """The first of the phase's preferred weekdays on or after ``earliest``."""
    wanted = {_WEEKDAY_INDEX[day] for day in phase.preferred_weekdays}
    for offset in range(7):
        day = earliest + dt.timedelta(days=offset)
        if day.weekday() in wanted:
            return day
    return earliest


def _per_week_target(
    phase: Phase, cadence: PerWeek, first: dt.date, index: int, earliest: dt.date
) -> dt.date:
    if phase.preferred_weekdays:
        return preferred_day(phase, earliest)
    grid = first + dt.timedelta(days=((index - 1) * 7) // cadence.sessions)
    return max(grid, earliest)


def window_findings(chain: Chain, step: Step, appointment: Appointment) -> list[Finding]:
    """How ``appointment``, placed as ``step``, lies outside the window the rules give it."""
    previous = step.previous
    if previous is None:
        return []
    day = appointment.local_date
    involves = (previous.id,)
    gap = step.gap
    if gap is not None:
        month_end = chain.course.protocol.calendar.month_end
        bounds = gap_bounds(previous.local_date, gap, month_end=month_end)
        rule = f"gap after {previous.id}: {gap.describe()}"
        code: Code
        if day < bounds.floor:
            code, what = "gap-below-absolute-minimum", f"never before {fmt_day(bounds.floor)}"
        elif day < bounds.lowest:
            code, what = "gap-below-minimum", f"the window starts {fmt_day(bounds.lowest)}"
        elif day > bounds.highest:
            code, what = "gap-above-maximum", f"the window ends {fmt_day(bounds.highest)}"
        else:
            return []
        days = (day - previous.local_date).days
        message = f"{appointment.id} is {quantity(days, 'day')} after {previous.id}; {what}"
        skipped = chain.skipped_after(previous)
        if code == "gap-above-maximum" and skipped is not None:
            # A session between them was missed (and is made up) or cancelled by a clinician
            # (and not replaced): the long gap is that event, recorded as such.
            message += f" (a session between them was {skipped})"
            return [Finding(code, message, rule, gap.source, "warning", involves)]
        return [Finding(code, message, rule, gap.source, None, involves)]
    if isinstance(step.phase.start, InWeek) and step.index == 1:
        if step.earliest <= day <= step.latest:
            return []
        message = (
            f"{appointment.id} on {fmt_day(day)} is outside {step.rule}: "
            f"{fmt_day(step.earliest)} to {fmt_day(step.latest)}"
        )
    elif day < step.earliest:
        days = (day - previous.local_date).days
        message = (
            f"{appointment.id} is {quantity(days, 'day')} after {previous.id}; "
            f"the cadence asks {step.rule}"
        )
    else:
        return []
    rule = f"phase {step.phase.id}"
    return [Finding("outside-window", message, rule, step.phase.source, None, involves)]
