"""``check``'s dose rules: each session against the window and day rules the planner used.

The plan's chain is walked prefix by prefix. For each session, :func:`~ketaplan.rules.windows.
next_step` says where the rules put the next session after the sessions before it (with the
tier in force when it took place), and the session is judged against that window, the day
rules and the minimum interval. Then the phase counts, the dose titration and lapses.
"""

from __future__ import annotations

from ketaplan._text import fmt_day
from ketaplan.checking.context import Context
from ketaplan.plans import Appointment
from ketaplan.rules.chain import Chain, counted
from ketaplan.rules.course import lapse_finding, lapses, previous_from_history
from ketaplan.rules.days import day_context, day_findings, interval_finding
from ketaplan.rules.windows import MAX_START_WINDOW_DAYS, Bounds, End, next_step, window_findings
from ketaplan.violation import Violation

__all__ = ["dose_rules", "lapse_rules", "phase_counts"]


def dose_rules(ctx: Context) -> list[Violation]:
    """Windows, day rules, intervals and doses of every session that takes place."""
    plan = ctx.plan
    bounds = Bounds(
        start=plan.start,
        until=plan.until,
        earliest_start=plan.start,
        start_window_days=MAX_START_WINDOW_DAYS,
    )
    phases = {p.id for p in ctx.protocol.phases}
    found: list[Violation] = []
    seen: set[tuple[str, str]] = set()
    for chain in ctx.courses:
        found += _course_dose_rules(ctx, chain, bounds, phases, seen)
    return found


def _course_dose_rules(
    ctx: Context, chain: Chain, bounds: Bounds, phases: set[str], seen: set[tuple[str, str]]
) -> list[Violation]:
    found: list[Violation] = []
    for position, appointment in enumerate(chain.sessions):
        if not appointment.is_active:
            continue
        if appointment.phase not in phases:
            found.append(_unknown_phase(ctx, appointment))
            continue
        before = chain.prefix(position)
        step = next_step(before, bounds, at=appointment.start)
        if isinstance(step, End) or step.phase.id != appointment.phase:
            continue  # one session too many, or out of order: the phase counts report it
        found += [
            ctx.reported(f, appointment.id) for f in window_findings(before, step, appointment)
        ]
        day = appointment.local_date
        context = day_context(step, before, mode="check", at=appointment.start)
        for finding in day_findings(step, day, context, mode="check"):
            key = (finding.code, finding.message)
            if key in seen:
                continue
            if finding.code == "week-count" and finding.message.startswith("the week from"):
                seen.add(key)  # an under-filled week, reported once
            prefix = f"{appointment.id} on {fmt_day(day)}: "
            found.append(ctx.reported(finding, appointment.id, prefix=prefix))
        if context.earliest is not None:
            short = interval_finding(before, context.earliest, appointment)
            if short is not None:
                found.append(ctx.reported(short, appointment.id))
        if appointment.is_dose:
            number = before.next_dose_number()
            if appointment.status == "attended" and appointment.dose_number is not None:
                number = appointment.dose_number  # what was given is judged by its own number
            found += _dose(ctx, appointment, number)
    return found


def _unknown_phase(ctx: Context, appointment: Appointment) -> Violation:
    return ctx.violation(
        "phase-count",
        [appointment.id],
        f"phases of {ctx.protocol.id}",
        f"{appointment.id} is in phase {appointment.phase!r}, which {ctx.protocol.id} does not "
        "have",
    )


def _dose(ctx: Context, appointment: Appointment, number: int) -> list[Violation]:
    dosing = ctx.protocol.dosing
    if dosing is None:
        return []
    expected = dosing.describe(number)
    if appointment.dose == expected:
        return []  # a renumbering alone changes nothing the patient receives
    return [
        ctx.violation(
            "dose-mismatch",
            [appointment.id],
            f"dosing (dose {number})",
            f"{appointment.id} is dose {number}, which the protocol gives as {expected}; "
            f"the plan says {appointment.dose!r} (dose number {appointment.dose_number})",
            source=dosing.source,
        )
    ]


def phase_counts(ctx: Context) -> list[Violation]:
    """Phases with more sessions than the protocol (an error) or fewer (a warning)."""
    return [v for chain in ctx.courses for v in _course_phase_counts(ctx, chain)]


def _course_phase_counts(ctx: Context, chain: Chain) -> list[Violation]:
    found = []
    for phase in ctx.protocol.phases:
        if phase.count is None:
            continue
        in_phase = chain.in_phase(phase.id)
        number = counted(phase, in_phase)
        if number != phase.count and (in_phase or number > phase.count):
            more = number > phase.count
            found.append(
                ctx.violation(
                    "phase-count",
                    [a.id for a in in_phase],
                    f"phases[{phase.id}].count ({phase.count})",
                    f"phase {phase.id} has {number} sessions; the protocol asks for {phase.count}",
                    source=phase.source,
                    severity="error" if more else "warning",
                )
            )
    return found


def lapse_rules(ctx: Context) -> list[Violation]:
    """Doses after a lapse with no review between."""
    rule = ctx.protocol.rules.lapse
    if rule is None:
        return []
    before = previous_from_history(ctx.patient, ctx.protocol)
    return [
        ctx.reported(lapse_finding(rule, found), found.dose.id)
        for found in lapses(rule, ctx.doses, before=before, reviews=ctx.active)
        if not found.reviewed
    ]
