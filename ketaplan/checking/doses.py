"""``check``'s dose rules: each session against the window and day rules the planner used.

The plan's chain is walked prefix by prefix. For each session, :func:`~ketaplan.rules.windows.
next_step` says where the rules put the next session after the sessions before it (with the
tier in force when it took place), and the session is judged against that window, the day
rules and the minimum interval. Then the phase counts, the dose titration, lapses and the
bounds of an IV induction.
"""

from __future__ import annotations

from ketaplan._text import quantity
from ketaplan.checking.context import Context
from ketaplan.plans import Appointment
from ketaplan.rules import anchors
from ketaplan.rules.chain import Chain, counted
from ketaplan.rules.course import lapse_finding, lapses, previous_from_history
from ketaplan.rules.induction import MCINNES_2022, induction_finding
from ketaplan.rules.walk import judge, plan_bounds
from ketaplan.violation import Violation

__all__ = ["dose_rules", "induction_bounds", "lapse_rules", "phase_counts"]


def dose_rules(ctx: Context) -> list[Violation]:
    """Windows, day rules, intervals and doses of every session that takes place."""
    bounds = plan_bounds(ctx.plan.start, ctx.plan.until)
    phases = {p.id for p in ctx.protocol.phases}
    found = [
        _unknown_phase(ctx, a) for a in ctx.chain.sessions if a.is_active and a.phase not in phases
    ]
    seen: set[tuple[str, str]] = set()
    evaluated = anchors.evaluated_boosters(ctx.plan.appointments)
    for chain in ctx.courses:
        for judged in judge(chain, bounds, phases=phases, evaluated=evaluated):
            appointment = judged.appointment
            for finding in judged.findings:
                week = finding.message.partition(": ")[2]
                if finding.code == "week-count" and week.startswith("the week from"):
                    if (finding.code, week) in seen:
                        continue
                    seen.add((finding.code, week))  # an under-filled week, reported once
                found.append(ctx.reported(finding, appointment.id))
            if appointment.is_dose:
                number = judged.before.next_dose_number()
                if appointment.status == "attended" and appointment.dose_number is not None:
                    number = appointment.dose_number  # what was given keeps its own number
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
    decided = appointment.decided_dose
    if decided is not None and not dosing.allows(number, decided.amount, decided.unit):
        return [
            ctx.violation(
                "dose-mismatch",
                [appointment.id],
                f"dosing (dose {number})",
                f"{appointment.id} is dose {number}, for which the protocol allows {expected}; "
                f"the decided dose is {decided}",
                source=dosing.source,
            )
        ]
    if appointment.dose == expected:
        return []  # a renumbering alone changes nothing the patient receives
    written = dosing.read(appointment.dose or "")
    if written is not None and dosing.allows(number, *written):
        return []  # one dose of the menu, recorded as the dose given
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
                    f"phase {phase.id} has {quantity(number, 'session')}; "
                    f"the protocol asks for {phase.count}",
                    source=phase.source,
                    severity="error" if more else "warning",
                )
            )
    return found


def induction_bounds(ctx: Context) -> list[Violation]:
    """Each course's IV induction outside McInnes's 4-8 infusions over 7-28 days (a warning)."""
    found = []
    for chain in ctx.courses:
        finding = induction_finding(ctx.protocol, chain)
        if finding is not None:
            violation = ctx.reported(finding, None)
            # The bounds are the rule layer's, not the protocol's: their source says how strong.
            found.append(violation.model_copy(update={"evidence": MCINNES_2022.evidence}))
    return found


def lapse_rules(ctx: Context) -> list[Violation]:
    """Doses after a lapse with no review between."""
    rule = ctx.protocol.rules.lapse
    if rule is None:
        return []
    before = previous_from_history(ctx.patient, ctx.protocol)
    return [
        ctx.reported(lapse_finding(rule, found), found.dose.id)
        for found in lapses(rule, ctx.doses, before=before, reviews=ctx.active, now=ctx.now)
        if not found.reviewed
    ]
