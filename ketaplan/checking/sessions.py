"""``check``'s session rules: blocks, anchored sessions, the calendar, requirements, checkpoints."""

from __future__ import annotations

from collections import defaultdict

from ketaplan._text import fmt_time
from ketaplan.checking.context import Context
from ketaplan.instructions import MEDICATION_KINDS, Visits, Words, says, session_words
from ketaplan.plans import Appointment, Instruction
from ketaplan.protocol import AnchoredSession, SessionKind
from ketaplan.rules import anchors
from ketaplan.rules.calendar import DayRules
from ketaplan.rules.course import recorded_early_finding
from ketaplan.rules.decisions import taken_before_decision
from ketaplan.rules.tasks import (
    checkpoint_minutes,
    checkpoint_times,
    requirement_task_id,
    unmet_requirements,
)
from ketaplan.timing import elapsed_hours, same_instant
from ketaplan.violation import Violation

__all__ = [
    "anchored",
    "blocks",
    "calendar",
    "checkpoints",
    "instructions",
    "requirements",
]


def blocks(ctx: Context) -> list[Violation]:
    """Blocks too short for dosing and the minimum monitoring (or the session)."""
    found = []
    for appointment in ctx.active:
        kind = ctx.protocol.session_kind(appointment.session)
        t = kind.timeline
        if kind.is_dosing:
            begin = appointment.dosing_start or appointment.start
            needed = t.dosing_minutes + t.monitoring_minutes
            what = f"dosing and at least {t.monitoring_minutes} min of monitoring"
        else:
            begin = appointment.start
            needed = t.session_minutes
            what = "the session"
        minutes = elapsed_hours(begin, appointment.end) * 60
        if minutes + 1e-9 < needed:
            found.append(
                ctx.violation(
                    "block-too-short",
                    [appointment.id],
                    f"session_kinds[{kind.id}].timeline",
                    f"{appointment.id} leaves {minutes:g} min for {what}; it needs {needed}",
                    source=kind.source,
                )
            )
    return found


def anchored(ctx: Context) -> list[Violation]:
    """Required anchored sessions missing, and anchored sessions outside their window."""
    found = []
    active_ids = {a.id for a in ctx.active}
    stopped = ctx.plan.stopped_on
    # The sessions taking place of each rule after each anchor, in the plan's order.
    placed_after: dict[tuple[str, str | None], list[Appointment]] = defaultdict(list)
    for item in ctx.active:
        if item.anchored is not None:
            placed_after[item.anchored, item.anchor].append(item)
    for rule in ctx.protocol.anchored:
        selected = [
            (anchor, chain)
            for chain in ctx.courses
            for anchor in anchors.selected(rule.after, chain, chain_is="complete")
        ]
        for anchor, chain in selected:
            placed = placed_after.get((rule.id, anchor.id), [])
            few = anchors.attended_finding(rule, anchor, chain)
            if few is not None and placed:
                found.append(ctx.reported(few, placed[0].id))
            if (
                not placed
                and rule.required
                and anchors.due_before(rule, anchor, stopped)
                and not anchors.superseded(rule.after, anchor, chain, ctx.courses)
            ):
                found.append(_milestone_missing(ctx, rule, anchor))
            stand_in = anchors.stands_in(rule.after, anchor, chain)
            for item in placed:
                # late for a reason the plan records: a stand-in, or a miss booked again
                excused = stand_in or anchors.booked_again(item, ctx.plan.appointments)
                outside = anchors.anchored_finding(rule, anchor, item, stand_in=excused)
                if outside is not None:
                    found.append(ctx.reported(outside, item.id))
                late = anchors.before_next_finding(rule, item, chain, stand_in=excused)
                if late is not None:
                    found.append(ctx.reported(late, item.id))
        found.extend(
            ctx.violation(
                "anchored-outside-window",
                [item.id],
                f"anchored[{rule.id}]",
                f"{item.id} is anchored to {item.anchor}, which does not take place",
                source=rule.source,
            )
            for item in ctx.active
            if item.anchored == rule.id and item.anchor not in active_ids
        )
    return found


def _milestone_missing(ctx: Context, rule: AnchoredSession, anchor: Appointment) -> Violation:
    """A required milestone missing; a warning when a person cancelled it (their decision)."""
    missing = f"no {rule.session} {rule.offset.describe()} after {anchor.id}"
    cancelled = [
        a
        for a in ctx.plan.appointments
        if a.anchored == rule.id and a.anchor == anchor.id and a.cancellation is not None
    ]
    if cancelled:
        missing += f": {cancelled[-1].id} was cancelled, and is not booked again"
    return ctx.violation(
        "milestone-missing",
        [anchor.id],
        f"anchored[{rule.id}]",
        missing,
        source=rule.source,
        severity="warning" if cancelled else None,
    )


def calendar(ctx: Context) -> list[Violation]:
    """The calendar rules each planned session breaks (with a clinic only)."""
    if ctx.clinic is None:
        return []
    rules = DayRules(ctx.clinic, ctx.patient, policy=ctx.protocol.calendar, now=ctx.now)
    return [
        ctx.reported(finding, appointment.id)
        for appointment in ctx.active
        if appointment.status == "planned"
        for finding in rules.findings(
            ctx.protocol.session_kind(appointment.session),
            appointment.start,
            appointment.end,
            booked_at=appointment.booked_at,
        )
    ]


def requirements(ctx: Context) -> list[Violation]:
    """Requirements before the first dose that are not met, and no task says so (or it came)."""
    doses = ctx.doses
    if not doses:
        return []
    first = doses[0]
    started = ctx.now is not None and ctx.now >= first.start
    found = []
    for requirement in unmet_requirements(ctx.protocol, ctx.clinic, ctx.patient, unknown="skip"):
        tasked = requirement_task_id(requirement.id) in ctx.tasks
        if tasked and not started:
            continue  # the plan carries the task to confirm it before the first dose
        found.append(
            ctx.violation(
                "requirement-unmet",
                [first.id],
                f"requirements[{requirement.id}]",
                f"{requirement.description}: {requirement.holder} does not list "
                f"{requirement.credential!r}"
                + (" and the first dose has come" if started else " and no task says so"),
                source=requirement.source,
            )
        )
    return found


def checkpoints(ctx: Context) -> list[Violation]:
    """Planned doses with a checkpoint that has no staff task in the plan, or one at another time.

    A task's time is compared with the checkpoint's, worked out from the session's start: an
    edited start left the blood pressure checks at the old times.
    """
    minutes = {kind.id: checkpoint_minutes(kind) for kind in ctx.protocol.session_kinds}
    found = []
    for appointment in ctx.plan.appointments:
        kind = ctx.protocol.session_kind(appointment.session)
        for due_at in checkpoint_times(kind, appointment, minutes=minutes[kind.id]):
            task = ctx.tasks.get(due_at.task_id)
            if (
                task is not None
                and same_instant(task.at, due_at.at)
                and same_instant(task.until, due_at.until)
            ):
                continue
            checkpoint = due_at.checkpoint
            what = f"{checkpoint.name} ({checkpoint.describe()}, {fmt_time(due_at.at)})"
            message = (
                f"has no staff task for its checkpoint {what}"
                if task is None
                else f"has its staff task for the checkpoint {what} at "
                f"{fmt_time(task.at) if task.at else 'no time'}"
            )
            found.append(
                ctx.violation(
                    "checkpoint-task-missing",
                    [appointment.id],
                    f"session_kinds[{kind.id}].checkpoints[{checkpoint.id}]",
                    f"{appointment.id} {message}",
                    source=checkpoint.source,
                )
            )
    return found


def records(ctx: Context) -> list[Violation]:
    """Sessions recorded as what happened too soon: before they began, or before a decision.

    Before they began: with ``now``. Before the decision they waited for:
    :func:`~ketaplan.rules.decisions.taken_before_decision`.
    """
    plan = ctx.plan
    found = [
        ctx.reported(finding, appointment.id, prefix=f"{appointment.id} ")
        for appointment, finding in taken_before_decision(plan.appointments, plan.proposals)
    ]
    if ctx.now is None:
        return found
    return found + [
        ctx.reported(finding, appointment.id, prefix=f"{appointment.id} ")
        for appointment in plan.appointments
        if (finding := recorded_early_finding(appointment, now=ctx.now)) is not None
    ]


def instructions(ctx: Context) -> list[Violation]:
    """Planned sessions whose words no longer fit their times or their visit.

    Fasting, the nasal spray, the ride home and driving follow from the session's start (an
    edited start moves them) and from the visit it is part of (a review moved away leaves the
    ride home earlier): the plan's words are compared with what the instruction builder says
    now. Medication holds are the medication rules' (``medication-hold``). Sessions before
    ``now`` are the record and are left as they were.
    """
    visits = Visits(ctx.plan.appointments)
    found = []
    for appointment in ctx.plan.appointments:
        if appointment.status != "planned" or (ctx.now is not None and appointment.start < ctx.now):
            continue
        kind = ctx.protocol.session_kind(appointment.session)
        due = session_words(appointment, kind, visit=visits)
        told = tuple(i for i in appointment.instructions if i.kind not in MEDICATION_KINDS)
        if says(told, due):  # by instant: a repeated hour read back from a file
            continue
        found.append(_out_of_date(ctx, appointment.id, kind, told=told, due=due))
    return found


def _out_of_date(
    ctx: Context,
    appointment: str,
    kind: SessionKind,
    *,
    told: tuple[Instruction, ...],
    due: tuple[Words, ...],
) -> Violation:
    """The violation for instructions ``told`` where ``due``, naming the first difference."""
    told_texts, due_texts = {i.text for i in told}, {i.text for i in due}
    stale = [i.text for i in told if i.text not in due_texts]
    fresh = [i.text for i in due if i.text not in told_texts]
    more = f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
    if stale and fresh:
        message = f"tells the patient {stale[0]!r}{more} where its times call for {fresh[0]!r}"
    elif stale:
        message = f"tells the patient {stale[0]!r}{more}, which its times no longer call for"
    elif fresh:
        message = f"does not tell the patient {fresh[0]!r}, which its times call for"
    else:
        message = "has its instructions' reminders at other times than its times call for"
    return ctx.violation(
        "instructions-out-of-date",
        [appointment],
        f"session {kind.id}: instructions",
        f"{appointment} {message}",
        source=kind.instructions.source,
    )
