"""A finished chain judged session by session: the dose rules each session breaks.

For each session that takes place, :func:`~ketaplan.rules.windows.next_step` says where the
rules put it after the sessions before it (with the tier in force when it took place); the
session is judged against that window, the day rules and the minimum interval. ``check`` reports
what this finds; the re-planner notes what it finds among the sessions it keeps as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple

from ketaplan._text import fmt_day
from ketaplan.plans import Appointment
from ketaplan.rules.chain import Chain
from ketaplan.rules.days import day_context, day_findings, interval_finding
from ketaplan.rules.finding import Finding
from ketaplan.rules.windows import (
    MAX_START_WINDOW_DAYS,
    Bounds,
    End,
    next_step,
    window_findings,
)

__all__ = ["Judged", "judge", "plan_bounds"]


class Judged(NamedTuple):
    """One session of a chain, the chain before it, and the dose rules it breaks."""

    appointment: Appointment
    before: Chain
    findings: list[Finding]
    """Each message already names the session (``induction-3 on Tue 8 Dec 2026: ...``)."""


def plan_bounds(start: dt.date, until: dt.date) -> Bounds:
    """The bounds a finished plan is judged within: its start and horizon, any start window."""
    return Bounds(
        start=start, until=until, earliest_start=start, start_window_days=MAX_START_WINDOW_DAYS
    )


def judge(
    chain: Chain, bounds: Bounds, *, phases: set[str], evaluated: frozenset[str] = frozenset()
) -> Iterator[Judged]:
    """Each session of ``chain`` that takes place, in a phase of ``phases``, with its findings.

    A session the rules would not put next (one too many, out of order) is left to the phase
    counts.
    """
    # Each session's chain before it grows by one session at a time, so that what it derives
    # is extended rather than worked out again from the first session.
    before = chain.prefix(0)
    for appointment in chain.sessions:
        if appointment.is_active and appointment.phase in phases:
            judged = _judge_one(appointment, before, bounds, evaluated=evaluated)
            if judged is not None:
                yield judged
        before = before.plus(appointment)


def _judge_one(
    appointment: Appointment, before: Chain, bounds: Bounds, *, evaluated: frozenset[str]
) -> Judged | None:
    """One session judged after the chain before it (None: the rules would not put it next)."""
    step = next_step(before, bounds, at=appointment.start)
    if isinstance(step, End) or step.phase.id != appointment.phase:
        return None
    # A booster the patient asked for comes before its gap by design (after an evaluation).
    # (``evaluated``: :func:`~ketaplan.rules.anchors.evaluated_boosters`).
    found = [] if appointment.id in evaluated else window_findings(before, step, appointment)
    day = appointment.local_date
    context = day_context(step, before, mode="check", at=appointment.start)
    prefix = f"{appointment.id} on {fmt_day(day)}: "
    found += [
        finding._replace(message=prefix + finding.message)
        for finding in day_findings(step, day, context, mode="check")
    ]
    if context.earliest is not None:
        short = interval_finding(before, context.earliest, appointment)
        if short is not None:
            found.append(short)
    return Judged(appointment, before, found)
