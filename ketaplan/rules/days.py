"""Which days break a dose rule for the next session: one day, the chain before it.

The rules: a phase's deadline (``within_days``), one dose a day, consecutive days, doses per
rolling 7 days, the per-week counts of a per-week cadence, and the minimum interval in hours
between doses. The planner asks :func:`day_findings` about each candidate day (with
``mode="plan"`` it also looks ahead: a day that leaves too little time for the rest of the
phase, a day before sessions already held); ``check`` asks it about the day a session is on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from ketaplan._text import fmt_day, quantity
from ketaplan._types import OnConflict
from ketaplan.plans import Appointment
from ketaplan.protocol import GapSequence, PerWeek, Phase, Rules
from ketaplan.rules.calendar import Threshold
from ketaplan.rules.chain import Chain
from ketaplan.rules.finding import Finding
from ketaplan.rules.windows import Step
from ketaplan.timing import gap_days, shift
from ketaplan.violation import Severity

__all__ = [
    "DayContext",
    "Earliest",
    "Lookahead",
    "Mode",
    "WeekCounts",
    "day_context",
    "day_findings",
    "earliest_start",
    "interval_finding",
    "kept_short_weeks",
    "limits_hold",
    "min_spacing",
    "series_severity",
    "week_counts",
]

Mode = Literal["plan", "check"]
"""``plan``: judging candidate days for the next session, with look-ahead; ``check``: judging
the day a session is on."""


class Earliest(NamedTuple):
    """The earliest start the minimum interval allows after the previous dose."""

    threshold: Threshold
    """The instant, and the reason a start before it fails."""
    previous: Appointment


class Lookahead(NamedTuple):
    """What the rest of a phase with a deadline needs after the day being judged."""

    first: dt.date | None
    within: int
    remaining: int
    spacing: int


@dataclass(frozen=True)
class WeekCounts:
    """A per-week cadence's sessions so far, by week."""

    cadence: PerWeek
    first: dt.date
    week_of: Callable[[dt.date], int]
    counts: dict[int, int]
    """Sessions that take place, for the maximum."""
    booked: dict[int, int]
    """Every session the week had, for the minimum: one missed, or cancelled and not replaced,
    leaves no gap to fill."""
    judged_from: dt.date | None
    """Weeks that began before this date are not judged for their minimum."""


@dataclass(frozen=True)
class DayContext:
    """What judging a day for a step needs, apart from the day (see :func:`day_context`)."""

    rules: Rules
    held_until: dt.date | None
    dose_dates: tuple[dt.date, ...]
    last_dose_id: str
    weeks: WeekCounts | None
    lookahead: Lookahead | None
    earliest: Earliest | None
    series_soft: bool = False
    """The protocol's start policy is ``earliest``: a phase past its deadline and a week short
    of its count are warnings, not errors (:func:`series_severity`)."""


def day_context(
    step: Step,
    chain: Chain,
    *,
    mode: Mode,
    on_conflict: OnConflict = "raise",
    held_until: dt.date | None = None,
    at: dt.datetime | None = None,
) -> DayContext:
    """What :func:`day_findings` needs that does not depend on the day.

    It depends on the chain so far; the planner keeps one per search frame, for the chain does
    not change while a frame tries its days. ``at`` is when a session being checked takes
    place (the tier in force then applies).
    """
    dosing = step.kind.is_dosing
    doses = chain.doses() if dosing else ()
    phase = step.phase
    cadence = chain.course.cadence(phase, at)
    in_phase = [a for a in chain.in_phase(phase.id) if a.is_active]
    weeks = None
    if isinstance(cadence, PerWeek) and in_phase:
        since = chain.course.in_force_since(phase, at) if at is not None else None
        # Re-planning: a week with days left after the sessions kept can still be filled, so
        # it is judged; only one that ended by then is not (it is the kept history's).
        judged_from = None if held_until is None else held_until - dt.timedelta(days=6)
        if since is not None:
            judged_from = max(judged_from or dt.date.min, since.date())
        weeks = week_counts(chain, phase, cadence, judged_from)
    lookahead = None
    within, count = phase.within_days, phase.count
    if (
        mode == "plan"
        and within is not None
        and count is not None
        and limits_hold(step, mode=mode, on_conflict=on_conflict)
    ):
        lookahead = Lookahead(
            in_phase[0].local_date if in_phase else None,
            within,
            count - chain.counted(phase) - 1,
            min_spacing(chain, phase),
        )
    return DayContext(
        rules=chain.course.protocol.rules,
        held_until=held_until,
        dose_dates=chain.dose_dates() if dosing else (),
        last_dose_id=doses[-1].id if doses else "",
        weeks=weeks,
        lookahead=lookahead,
        earliest=earliest_start(step, chain),
        series_soft=chain.course.protocol.start == "earliest",
    )


def day_findings(
    step: Step,
    day: dt.date,
    context: DayContext,
    *,
    mode: Mode,
    on_conflict: OnConflict = "raise",
) -> list[Finding]:
    """Every dose-level rule ``day`` would break for the step.

    ``context`` comes from :func:`day_context`. The planner takes the first finding;
    ``check`` reports them all.
    """
    found: list[Finding] = []
    strict = limits_hold(step, mode=mode, on_conflict=on_conflict)
    if step.hard_latest is not None and day > step.hard_latest and strict:
        found.append(_deadline(step, context))
    if mode == "plan" and context.held_until is not None and day <= context.held_until:
        found.append(Finding("held", "not after sessions already held"))
    if step.kind.is_dosing:
        found += _dose_days(step, day, context, mode=mode)
    if context.weeks is not None:
        problem = _per_week_problem(context.weeks, day, short_too=strict)
        if problem:
            text, short = problem
            cadence = context.weeks.cadence
            found.append(
                Finding(
                    "week-count",
                    text,
                    f"phases[{step.phase.id}]: {cadence.describe()}",
                    cadence.source or step.phase.source,
                    severity=series_severity(context) if short else None,
                )
            )
    if context.lookahead is not None:
        first, within, remaining, spacing = context.lookahead
        deadline = (first or day) + dt.timedelta(days=within - 1)
        if day + dt.timedelta(days=remaining * spacing) > deadline:
            found.append(
                Finding(
                    "deadline-lookahead",
                    f"leaves too little time for the {remaining} remaining sessions "
                    f"before {fmt_day(deadline)}",
                )
            )
    return found


def limits_hold(step: Step, *, mode: Mode, on_conflict: OnConflict) -> bool:
    """Whether a phase's deadline and a week's minimum rule a day out for ``step``.

    Shifting, they never do; planning a relaxed series (:attr:`Step.series_relaxed`) they do
    not either; judging a day (``check``, or recording what a session relaxed) they do.
    """
    return on_conflict == "raise" and (mode == "check" or not step.series_relaxed)


def series_severity(context: DayContext) -> Severity | None:
    """How ``check`` rates a phase past its deadline or a week short of its count.

    Under the start policy ``earliest`` (the default) the first session is never postponed to
    make the rest of the series fit, so the calendar may leave a week short or push the last
    sessions past the deadline: a warning, for a person to see. Under ``whole-series`` the
    series must fit: an error (the code's own severity).
    """
    return "warning" if context.series_soft else None


def _deadline(step: Step, context: DayContext) -> Finding:
    assert step.hard_latest is not None  # noqa: S101 - called only with a deadline
    return Finding(
        "phase-deadline",
        f"after the phase's deadline ({fmt_day(step.hard_latest)})",
        f"phases[{step.phase.id}].within_days ({step.phase.within_days})",
        step.phase.source,
        severity=series_severity(context),
    )


def _dose_days(step: Step, day: dt.date, context: DayContext, *, mode: Mode) -> list[Finding]:
    """One dose a day, consecutive days, doses in a rolling 7 days."""
    rules = context.rules
    found: list[Finding] = []
    dates = context.dose_dates
    if dates:
        last, last_id = dates[-1], context.last_dose_id
        if day == last:
            found.append(Finding("doses-same-day", f"the same day as {last_id}", "one dose a day"))
        elif day < last and mode == "plan":
            found.append(Finding("held", "not after the previous dose"))
        elif rules.consecutive_days == "avoid" and (day - last).days == 1:
            found.append(
                Finding(
                    "consecutive-days",
                    "the day after a dose (consecutive days are avoided)",
                    "rules.consecutive_days (avoid)",
                    rules.consecutive_days_source,
                )
            )
    limit = rules.max_per_7_days
    if limit is not None:
        window_start = day - dt.timedelta(days=6)
        recent = sum(1 for date in dates if window_start <= date <= day)
        if recent + 1 > limit.doses:
            found.append(
                Finding(
                    "too-many-in-7-days",
                    f"more than {quantity(limit.doses, 'dose')} in 7 days",
                    f"rules.max_per_7_days ({limit.doses})",
                    limit.source,
                )
            )
    return found


def min_spacing(chain: Chain, phase: Phase) -> int:
    """The fewest calendar days between two of the phase's sessions, by its cadence."""
    cadence = chain.course.cadence(phase)
    if isinstance(cadence, PerWeek):
        spacing = cadence.min_gap_days
    elif isinstance(cadence, GapSequence):
        spacing = min(
            gap_days(step.gap.minimum, step.gap.unit, bound="shortest") for step in cadence.steps
        )
    else:
        spacing = 1
    if chain.course.protocol.rules.consecutive_days == "avoid":
        spacing = max(spacing, 2)
    return max(spacing, 1)


def _week_function(cadence: PerWeek, first: dt.date) -> Callable[[dt.date], int]:
    if cadence.week == "treatment":
        return lambda day: (day - first).days // 7
    monday = first - dt.timedelta(days=first.weekday())
    return lambda day: (day - monday).days // 7


def _week_end(cadence: PerWeek, first: dt.date, week: int) -> dt.date:
    if cadence.week == "treatment":
        return first + dt.timedelta(days=7 * week + 6)
    monday = first - dt.timedelta(days=first.weekday())
    return monday + dt.timedelta(days=7 * week + 6)


def week_counts(
    chain: Chain, phase: Phase, cadence: PerWeek, judged_from: dt.date | None
) -> WeekCounts:
    """A per-week phase's sessions in ``chain``, counted by week (from its first session)."""
    every = chain.in_phase(phase.id)
    first = every[0].local_date
    week_of = _week_function(cadence, first)
    counts: dict[int, int] = {}
    booked: dict[int, int] = {}
    for appointment in every:
        week = week_of(appointment.local_date)
        if appointment.is_active:
            counts[week] = counts.get(week, 0) + 1
        booked[week] = booked.get(week, 0) + 1
    return WeekCounts(cadence, first, week_of, counts, booked, judged_from)


def _per_week_problem(
    weeks: WeekCounts, day: dt.date, *, short_too: bool
) -> tuple[str, bool] | None:
    """Too many sessions in the day's week, or too few in a week before it (``True``).

    When shifting, or when the series is relaxed, a week left short is recorded on the session
    that comes late, as a missed deadline is: only the maximum still holds.
    """
    cadence = weeks.cadence
    week = weeks.week_of(day)
    if weeks.counts.get(week, 0) + 1 > cadence.most:
        return f"more than {quantity(cadence.most, 'session')} in that week", False
    if not short_too:
        return None
    # The latest short week: an earlier one was reported on the sessions right after it.
    for begins, booked in reversed(_short_weeks(weeks, before=week)):
        if weeks.judged_from is not None and begins <= weeks.judged_from:
            break  # a week that began before the re-plan or the tier is not judged by it
        return _short_week_text(begins, booked, cadence), True
    return None


def _short_weeks(weeks: WeekCounts, *, before: int) -> list[tuple[dt.date, int]]:
    """The complete weeks before week ``before`` with fewer sessions than the cadence asks."""
    cadence, first, week_of = weeks.cadence, weeks.first, weeks.week_of
    first_week_partial = cadence.week == "calendar" and first.weekday() != 0
    short = []
    for earlier in range(week_of(first), before):
        if first_week_partial and earlier == week_of(first):
            continue
        if weeks.booked.get(earlier, 0) < cadence.fewest:
            begins = _week_end(cadence, first, earlier) - dt.timedelta(days=6)
            short.append((begins, weeks.booked.get(earlier, 0)))
    return short


def _short_week_text(begins: dt.date, booked: int, cadence: PerWeek) -> str:
    return (
        f"the week from {fmt_day(begins)} has {quantity(booked, 'session')}; the cadence asks "
        f"at least {cadence.fewest}"
    )


def kept_short_weeks(chain: Chain, held_until: dt.date) -> list[str]:
    """The weeks up to ``held_until`` that a re-plan keeps short, in words.

    The planner does not fill a week that began before the sessions it keeps (they happened,
    were cancelled, or were moved by request); ``check`` still judges it, so the re-plan says so.
    """
    found = []
    for phase in chain.course.protocol.phases:
        cadence = chain.course.cadence(phase)
        every = chain.in_phase(phase.id)
        if not isinstance(cadence, PerWeek) or not every:
            continue
        weeks = week_counts(chain, phase, cadence, None)
        last = weeks.week_of(max(a.local_date for a in every))
        for begins, booked in _short_weeks(weeks, before=last):
            if begins <= held_until:
                found.append(f"{phase.id}: {_short_week_text(begins, booked, cadence)}")
    return found


def earliest_start(step: Step, chain: Chain) -> Earliest | None:
    """The earliest start the protocol's minimum interval allows for the step."""
    rule = chain.course.protocol.rules.min_interval
    if rule is None or not step.kind.is_dosing:
        return None
    last = chain.last_active("dose")
    if last is None or last.dosing_start is None:
        return None
    # Dosing starts check_in minutes after the start: it may begin rule.hours after the last.
    check_in = step.kind.timeline.check_in_minutes
    earliest = shift(last.dosing_start, hours=rule.hours, minutes=-check_in)
    return Earliest(Threshold(earliest, f"less than {rule.hours:g} h after {last.id}"), last)


def interval_finding(chain: Chain, earliest: Earliest, appointment: Appointment) -> Finding | None:
    """``interval-too-short`` when ``appointment`` starts before the interval allows."""
    rule = chain.course.protocol.rules.min_interval
    if rule is None or appointment.start >= earliest.threshold.at:
        return None
    return Finding(
        "interval-too-short",
        f"{appointment.id}: {earliest.threshold.reason}",
        f"rules.min_interval ({rule.hours:g} h)",
        rule.source,
        involves=(earliest.previous.id,),
    )
