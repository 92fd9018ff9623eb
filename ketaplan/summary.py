"""Plain-text summaries of definitions, for people reading a terminal."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence

from ketaplan._text import fmt_day, quantity
from ketaplan.clinic import Clinic
from ketaplan.decisions import Proposal
from ketaplan.medications import medication_rules, medication_rules_everywhere
from ketaplan.plans import Appointment, Plan, Task
from ketaplan.protocol import (
    AfterPrevious,
    Anchor,
    HoldRule,
    InWeek,
    Phase,
    Protocol,
    SessionKind,
    TaskRule,
)
from ketaplan.timing import zone
from ketaplan.violation import Violation

__all__ = ["describe_protocol", "plan_table", "status_word", "violation_table", "written_summary"]

_WIDTH = 96
_TEENS = range(11, 14)


def describe_protocol(protocol: Protocol, /, *, clinic: Clinic | None = None) -> str:
    """A readable summary of a protocol: sessions, phases, doses, rules and sources.

    The medication rules listed are every rule in force for the protocol (at ``clinic``, when
    given): the presets and the clinic's rules whose scope covers it, and its own.

    >>> from ketaplan import load_protocol
    >>> text = describe_protocol(load_protocol("iv-ketamine-pain"))
    >>> print(text.splitlines()[0])
    iv-ketamine-pain: IV ketamine for chronic pain: five 4-hour infusions on five consecutive days
    """
    setting = "in clinic" if protocol.setting == "clinic" else "at home"
    lines = [
        f"{protocol.id}: {protocol.name}",
        (
            f"version {protocol.version} | route {protocol.route} | {setting} | "
            f"evidence {protocol.evidence}"
        ),
        f"indication: {protocol.indication}",
    ]
    if protocol.summary:
        lines += ["", *textwrap.wrap(" ".join(protocol.summary.split()), _WIDTH)]
    lines += ["", "Sessions"]
    for kind in protocol.session_kinds:
        lines += _session_lines(kind)
    lines += ["", "Phases"]
    for number, phase in enumerate(protocol.phases, start=1):
        lines += _phase_lines(protocol, number, phase)
    if protocol.anchored:
        lines += ["", "Anchored sessions"]
        for anchored in protocol.anchored:
            required = "required" if anchored.required else "optional"
            lines.append(
                f"  {anchored.session}: {anchored.offset.describe()} after "
                f"{_anchor(anchored.after)} ({required})"
            )
    if protocol.dosing is not None:
        lines += ["", f"Doses ({protocol.dosing.unit})"]
        steps = protocol.dosing.steps
        for index, step in enumerate(steps):
            last = steps[index + 1].from_dose - 1 if index + 1 < len(steps) else None
            which = _dose_range(step.from_dose, last)
            note = f" ({step.note})" if step.note else ""
            lines.append(f"  {which}: {protocol.dosing.describe(step.from_dose)}{note}")
    lines += ["", "Rules", *(f"  {text}" for text in _rules(protocol))]
    decisions = _decisions(protocol)
    if decisions:
        lines += ["", "Clinician decisions (proposed, then recorded with decided:)"]
        lines += [f"  {text}" for text in decisions]
    lines += ["", *_medication_lines(protocol, clinic)]
    if protocol.tasks:
        lines += ["", "Tasks"]
        lines += [f"  {task.title}: {_due(task)}" for task in protocol.tasks]
    if protocol.requirements:
        lines += ["", "Requirements before the first dose"]
        for requirement in protocol.requirements:
            lines.append(f"  {requirement.holder}: {requirement.description}")
    lines += ["", "Sources"]
    for source in protocol.sources:
        text = f"[{source.evidence}] {source.id}: {source.citation}"
        lines += textwrap.wrap(text, _WIDTH, initial_indent="  ", subsequent_indent="      ")
        if source.url:
            lines.append(f"      {source.url}")
    return "\n".join(lines)


def _session_lines(kind: SessionKind) -> list[str]:
    t = kind.timeline
    steps = [
        (label, minutes)
        for label, minutes in (
            ("check-in", t.check_in_minutes),
            ("dosing", t.dosing_minutes),
            ("monitoring at least", t.monitoring_minutes),
            ("session", t.session_minutes),
        )
        if minutes
    ]
    timeline = ", ".join(f"{label} {minutes} min" for label, minutes in steps)
    lines = [
        f"  {kind.id}: {kind.name} ({kind.category}, {kind.location})",
        f"      {timeline}; block {t.block_minutes} min",
    ]
    if kind.resources:
        uses = ", ".join(
            f"{use.resource} ({'-'.join(use.during) if use.during else 'whole block'})"
            for use in kind.resources
        )
        lines.append(f"      occupies: {uses}")
    patient = _instructions(kind)
    if patient:
        lines.append(f"      patient: {patient}")
    lines += [f"      check: {point.name}, {point.describe()}" for point in kind.checkpoints]
    return lines


def _instructions(kind: SessionKind) -> str:
    i = kind.instructions
    parts = []
    clear = i.liquids_after_food_cutoff == "clear"
    if i.fasting_solids_hours is not None:
        food = "food or milk" if clear else "food"
        parts.append(f"no {food} {i.fasting_solids_hours:g} h before")
    if i.fasting_liquids_hours is not None:
        liquids = "clear liquids only until" if clear else "no liquids"
        parts.append(f"{liquids} {i.fasting_liquids_hours:g} h before")
    if i.nasal_spray_minutes_before is not None:
        parts.append(
            f"nasal steroid/decongestant at least {i.nasal_spray_minutes_before} min before"
        )
    if i.escort_required:
        parts.append("transportation home arranged")
    if i.no_driving_until_next_day:
        parts.append("no driving until the next day")
    if i.no_driving_hours is not None:
        parts.append(f"no driving for {i.no_driving_hours} h")
    if i.peer_monitor_required:
        parts.append("peer monitor present")
    return "; ".join(parts)


def _phase_lines(protocol: Protocol, number: int, phase: Phase) -> list[str]:
    count = f"{phase.count} x {phase.session}"
    if phase.count is None:
        count = f"{phase.session} until the plan's horizon"
    cadence = protocol.cadence(phase)
    how = "" if cadence is None else f", {cadence.describe()}"
    if phase.tier is not None:
        how = f", {protocol.tier(phase.tier).name.lower()}{how and ' (' + how[2:] + ')'}"
    lines = [f"  {number}. {phase.id}: {phase.name}", f"      {count}{how}"]
    if isinstance(phase.start, InWeek):
        lines.append(f"      starts in treatment week {phase.start.week}")
    elif isinstance(phase.start, AfterPrevious):
        gap = "by its cadence" if phase.start.gap is None else phase.start.gap.describe()
        lines.append(f"      starts after the previous session: {gap}")
    if phase.within_days is not None:
        lines.append(f"      all within {quantity(phase.within_days, 'day')}")
    if phase.preferred_weekdays:
        lines.append(f"      preferred days: {', '.join(phase.preferred_weekdays)}")
    if phase.tier_choices:
        names = ", ".join(protocol.tier(choice).name.lower() for choice in phase.tier_choices)
        lines.append(f"      may instead be: {names}")
    if phase.tier is not None and phase.tier_source is not None:
        default = protocol.tier(phase.tier).name.lower()
        lines.append(f"      {default} is the default [{phase.tier_source}]")
    return lines


def _anchor(anchor: Anchor) -> str:
    if isinstance(anchor.which, int):
        which = _ordinal(anchor.which)
    elif anchor.every is not None:
        which = f"every {_ordinal(anchor.every).removeprefix('the ')}"
    else:
        which = {"each": "each", "first": "the first", "last": "the last"}[anchor.which]
    where = f" of {anchor.phase}" if anchor.phase else ""
    return f"{which} {anchor.session}{where}"


def _due(task: TaskRule) -> str:
    """When a task is due, e.g. ``'within 7 days after each esketamine-dose'``."""
    if task.due_within_days == 0:
        return f"on the day of {_anchor(task.after)}"
    return f"within {quantity(task.due_within_days, 'day')} after {_anchor(task.after)}"


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    if number % 100 in _TEENS:
        suffix = "th"
    return f"the {number}{suffix}"


def _dose_range(first: int, last: int | None) -> str:
    if last is None:
        return f"dose {first} on" if first > 1 else "every dose"
    if last == first:
        return f"dose {first}"
    return f"doses {first}-{last}"


def _rules(protocol: Protocol) -> list[str]:
    rules = protocol.rules
    out = []
    if rules.min_interval is not None:
        out.append(
            f"doses at least {quantity(rules.min_interval.hours, 'hour')} apart (elapsed time)"
        )
    if rules.max_per_7_days is not None:
        out.append(f"at most {quantity(rules.max_per_7_days.doses, 'dose')} in any 7 days")
    out.append(
        "consecutive-day dosing allowed"
        if rules.consecutive_days == "allowed"
        else "no dosing on consecutive days"
    )
    if rules.lapse is not None:
        out.append(
            f"after more than {quantity(rules.lapse.after_days, 'day')} without a dose: "
            f"{rules.lapse.requires} ({rules.lapse.session}) first"
        )
    return out


def _decisions(protocol: Protocol) -> list[str]:
    """The rules that ask a clinician, with what the plan does until the decision."""
    out = []
    rules = protocol.rules
    tiered = [phase for phase in protocol.phases[1:] if phase.tier is not None]
    if tiered:
        how = "steps back at once" if rules.worsening == "automatic" else "proposes a step back"
        source = rules.worsening_source or tiered[0].missed_source or tiered[0].source
        out.append(f"a missed session with worsening {how} [{source}]")
    for rule in protocol.response:
        how = "moves the tier at once" if rule.automatic else "proposes a tier change"
        out.append(f"{rule.scale} scores in {rule.phase}: {how} [{rule.source}]")
    lapse = rules.lapse
    if lapse is not None:
        if lapse.requires == "re-induction":
            planned = f"the protocol requires re-induction [{lapse.source}]"
        else:
            source = lapse.during_induction_source or lapse.source
            planned = (
                f"suggested {lapse.during_induction} during induction [{source}], "
                f"otherwise resume [{lapse.source}]; planned as resume, provisional, until decided"
            )
        out.append(f"after a lapse review: resume or re-induce; {planned}")
    out.extend(
        f"{phase.id} for responders only: provisional until start-maintenance is decided "
        f"[{phase.responders_only_source or phase.source}]"
        for phase in protocol.phases
        if phase.responders_only
    )
    out.extend(
        f"{anchored.id}: a warning when under {anchored.attended_share:.0%} of "
        f"{anchored.after.phase} took place [{anchored.attended_share_source}]"
        for anchored in protocol.anchored
        if anchored.attended_share is not None
    )
    return out


def _medication_lines(protocol: Protocol, clinic: Clinic | None) -> list[str]:
    """Every medication rule in force, with its scope and source; then the presets left out."""
    where = f" at {clinic.id}" if clinic is not None else " (built-in presets)"
    in_force = medication_rules(protocol, clinic).rules
    lines = [f"Medication rules in force{where}"]
    for hold in in_force:
        text = f"{hold.id} ({hold.medication}): {_hold(hold)} [for {hold.applies_to.describe()}; "
        text += f"source {hold.source}]"
        lines += textwrap.wrap(text, _WIDTH, initial_indent="  ", subsequent_indent="      ")
    if not in_force:
        lines.append("  none")
    ids = {hold.id for hold in in_force}
    left = [rule for rule in medication_rules_everywhere(clinic) if rule.id not in ids]
    if left:
        lines.append(
            "  not for this protocol: "
            + ", ".join(f"{rule.id} ({rule.applies_to.describe()})" for rule in left)
        )
    return lines


def _hold(hold: HoldRule) -> str:
    parts: list[str] = [hold.severity + (", conditional" if hold.conditional else "")]
    if hold.hold_before_hours is not None:
        parts.append(f"skip doses {hold.hold_before_hours:g} h before")
    if hold.hold_day_of:
        parts.append("skip doses on the session day before the session")
    if hold.resume_after_hours is not None:
        parts.append(f"resume {hold.resume_after_hours:g} h after dosing ends")
    if hold.stop_days_before_start is not None:
        parts.append(
            f"stop {quantity(hold.stop_days_before_start, 'day')} before the first session"
        )
    text = ", ".join(parts)
    return f"{text}. {hold.note}" if hold.note else text


def plan_table(plan: Plan, /) -> str:
    """A plan as a table: one line per appointment, then why, then tasks and notes."""
    who = f" for {plan.patient}" if plan.patient else ""
    heading = (
        f"{plan.protocol} (version {plan.protocol_version}){who} at {plan.clinic_name}, "
        f"times in {plan.time_zone}; plan {plan.id} revision {plan.revision}"
    )
    lines = [heading, ""]
    rows = [("DATE", "TIME", "APPOINTMENT", "KIND", "DOSE", "STATUS")]
    for appointment in plan.appointments:
        start = appointment.local_start
        end = appointment.end.astimezone(start.tzinfo)
        rows.append(
            (
                f"{start:%a} {start.day:>2} {start:%b %Y}",
                f"{start:%H:%M}-{end:%H:%M}",
                appointment.id,
                appointment.kind,
                str(appointment.decided_dose or "") or appointment.dose or "",
                status_word(appointment),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if number:
            appointment = plan.appointments[number - 1]
            lines += textwrap.wrap(
                appointment.reason,
                _WIDTH,
                initial_indent="    why: ",
                subsequent_indent="         ",
            )
            if appointment.shift is not None:
                lines.append(f"    shift: {appointment.shift.text}")
    if plan.tasks:
        zones = {appointment.id: appointment.time_zone for appointment in plan.appointments}
        lines += ["", "Tasks"]
        lines += [_task_line(task, zones.get(task.appointment or "", plan.time_zone))
                  for task in plan.tasks]  # fmt: skip
    if plan.proposals:
        lines += ["", "Decisions"]
        lines += [_proposal_line(proposal) for proposal in plan.proposals]
    if plan.notes:
        lines += ["", "Notes"]
        lines += [f"  {note}" for note in plan.notes]
    if plan.history:
        lines += ["", "History"]
        lines += [f"  {line}" for line in plan.history]
    return "\n".join(lines)


def status_word(appointment: Appointment) -> str:
    """``planned``, ``provisional``, ``attended``, ``missed``, ``cancelled (late)``..."""
    if appointment.provisional:
        return "provisional"
    if appointment.cancellation is not None:
        return f"{appointment.status} ({appointment.cancellation})"
    return appointment.status


def _task_line(task: Task, time_zone: str) -> str:
    """A task with its due date, or the local time (or period) of a task at a moment."""
    when = f"due {task.due}"
    if task.at is not None:
        at = task.at.astimezone(zone(time_zone))
        when = f"at {at:%Y-%m-%d %H:%M}"
        if task.until is not None:
            when += f"-{task.until.astimezone(zone(time_zone)):%H:%M}"
    where = f" ({task.appointment})" if task.appointment else ""
    return f"  {when}: {task.title}{where}"


def _proposal_line(proposal: Proposal) -> str:
    """One proposal: its question, and the decision or what the plan follows until then."""
    decision = proposal.decision
    if decision is not None:
        answer = f"decided {decision.decision} at {decision.at:%Y-%m-%d %H:%M}"
        answer += f" ({decision.note})" if decision.note else ""
    elif proposal.automatic:
        answer = f"automatic: {proposal.planned}"
    else:
        answer = (
            f"open, due {proposal.due}; suggested {proposal.suggested}, planned as "
            f"{proposal.planned}; record decided:{proposal.id}=" + "|".join(proposal.options)
        )
    source = f" [{proposal.source}]" if proposal.source else ""
    return f"  {proposal.id}: {proposal.question} {answer}{source}"


def violation_table(violations: Sequence[Violation], /) -> str:
    """Violations for a terminal: one block each, then a count."""
    if not violations:
        return "no violations"
    lines = []
    for violation in violations:
        where = ", ".join(violation.appointments) or "-"
        lines.append(f"{violation.severity.upper():7} {violation.code}  [{where}]")
        lines += textwrap.wrap(
            violation.message, _WIDTH, initial_indent="    ", subsequent_indent="    "
        )
        cite = f"; source {violation.source} ({violation.evidence})" if violation.source else ""
        lines.append(f"    rule: {violation.rule}{cite}")
    errors = sum(1 for v in violations if v.severity == "error")
    lines.append(f"{quantity(errors, 'error')}, {quantity(len(violations) - errors, 'warning')}")
    return "\n".join(lines)


#: The most notes :func:`written_summary` lists; the rest are counted (the plan holds them all).
_WRITTEN_NOTES = 12


def written_summary(
    plan: Plan, /, *, before: Plan | None = None, now: dt.datetime | None = None
) -> str:
    """What a person should know of a plan just written to a file, in a few lines.

    Its sessions to come (from ``now``, when given), what changed since ``before`` (each
    calendar to update), the
    decisions waiting for a clinician and the plan's notes: a command that writes a plan file
    says more than the file's name, so a relaxed rule or an open question is not missed.
    """
    planned = [
        a for a in plan.appointments if a.status == "planned" and (now is None or a.end > now)
    ]
    if planned:
        first, last = planned[0].local_start.date(), planned[-1].local_start.date()
        lines = [
            f"  {quantity(len(planned), 'session')} to come, {fmt_day(first)} to {fmt_day(last)}"
        ]
    else:
        lines = ["  no session to come"]
    if before is not None:
        old = {a.id: a.revision for a in before.appointments}
        changed = [a.id for a in plan.appointments if old.get(a.id, -1) < a.revision]
        if changed:
            shown = ", ".join(changed[:_WRITTEN_NOTES]) + (
                ", ..." if len(changed) > _WRITTEN_NOTES else ""
            )
            lines.append(f"  {len(changed)} changed (their calendars update): {shown}")
        else:
            lines.append("  no session changed")
    lines += [
        f"  decide by {fmt_day(p.due)}: {p.question} ({p.id})"
        for p in plan.proposals
        if p.decision is None and not p.automatic
    ]
    lines += [f"  note: {note}" for note in plan.notes[:_WRITTEN_NOTES]]
    if len(plan.notes) > _WRITTEN_NOTES:
        lines.append(
            f"  ... and {quantity(len(plan.notes) - _WRITTEN_NOTES, 'more note')} in the plan"
        )
    return "\n".join(lines)
