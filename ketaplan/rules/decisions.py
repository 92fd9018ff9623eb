"""The rules a clinician decides: stepping a tier back or down, and what to do after a lapse.

A protocol's source says "consider" for these: after a missed session with worsening, return to
the previous frequency (the esketamine label, via the manufacturer's medical information); after
scores in remission, the lowest frequency that keeps it (SUSTAIN-2); after a lapse, resume or
re-initiate. Each function here says what the rule proposes (a
:class:`~ketaplan.decisions.Proposal`), and how a tier moves once a decision is taken
(:func:`step_back`, :func:`step_down`), so re-planning, and anything else that asks, uses one
meaning of each.

Tiers make sense both ways:

- stepping back moves a phase to the tier before its current one for the rest of that phase,
  and no later phase is left less often treated than the patient was before the worsening;
- a phase can step down from any tier it can reach: the protocol's tiers from the most
  frequent down to the least frequent one the phase lists (its tier and ``tier_choices``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from ketaplan._text import fmt_day, quantity
from ketaplan.decisions import DecisionKind, Proposal, start_id
from ketaplan.plans import Appointment, Assessment
from ketaplan.protocol import Lapse, Phase, Protocol, ResponseRule
from ketaplan.rules.finding import Finding

__all__ = [
    "Response",
    "awaiting",
    "gate_proposals",
    "lapse_proposal",
    "mark_provisional",
    "proposed_note",
    "qualifying_score",
    "reachable_tiers",
    "response",
    "response_proposal",
    "step_back",
    "step_down",
    "taken_before_decision",
    "worsening_proposal",
]


def reachable_tiers(protocol: Protocol, phase: Phase) -> list[str]:
    """The tiers ``phase`` can be in, most frequent first.

    Every tier of the protocol down to the least frequent the phase lists: a step back can
    reach a more frequent tier than the phase's own, and a step down must be able to leave it.
    """
    order = [tier.id for tier in protocol.tiers]
    listed = [order.index(t) for t in (phase.tier, *phase.tier_choices) if t in order]
    return order[: max(listed) + 1] if listed else []


def step_back(
    protocol: Protocol, tiers: dict[str, str], phase_id: str, *, to: str | None = None
) -> str | None:
    """Move ``phase_id`` one tier more frequent, or to ``to`` (the tier a proposal named).

    A note, or ``None`` when it is there already or cannot. Later tiered phases less frequent
    than the tier before the step are brought up to it, so the patient is never treated less
    often than before the worsening.
    """
    phase = protocol.phase(phase_id)
    order = reachable_tiers(protocol, phase)
    current = tiers.get(phase.id, phase.tier)
    if current not in order or order.index(current) == 0:
        return None
    target = to if to in order else order[order.index(current) - 1]
    if order.index(target) >= order.index(current):
        return None  # decided twice, or already as frequent
    tiers[phase.id] = target
    raised = []
    later = protocol.phases[protocol.phases.index(phase) + 1 :]
    everything = [tier.id for tier in protocol.tiers]
    for other in later:
        tier = tiers.get(other.id, other.tier)
        if tier is not None and everything.index(tier) > everything.index(current):
            tiers[other.id] = current
            raised.append(f"{other.id} from {tier} to {current}")
    note = f"{phase.id} steps back from {current} to {tiers[phase.id]}"
    if raised:
        note += "; not less often than before: " + ", ".join(raised)
    return note


def step_down(
    protocol: Protocol, tiers: dict[str, str], phase_id: str, *, to: str | None = None
) -> str | None:
    """Move ``phase_id`` one tier less frequent (or to ``to``), within the tiers it can reach."""
    phase = protocol.phase(phase_id)
    order = reachable_tiers(protocol, phase)
    current = tiers.get(phase.id, phase.tier)
    if current not in order or order.index(current) == len(order) - 1:
        return None
    target = to if to in order else order[order.index(current) + 1]
    if order.index(target) <= order.index(current):
        return None
    tiers[phase.id] = target
    return f"{phase.id} steps down from {current} to {tiers[phase.id]}"


def worsening_proposal(
    protocol: Protocol,
    tiers: dict[str, str],
    missed: Appointment,
    *,
    at: dt.datetime,
    due: dt.date,
) -> Proposal | None:
    """A missed session with worsening in a tiered phase after the first: propose a step back.

    ``None`` when the phase has no tier to step back to.
    """
    phases = {phase.id: phase for phase in protocol.phases}
    phase = phases.get(missed.phase)
    if phase is None or phase.id not in tiers or protocol.phases.index(phase) == 0:
        return None
    order = reachable_tiers(protocol, phase)
    current = tiers[phase.id]
    if current not in order or order.index(current) == 0:
        return None
    rules = protocol.rules
    target = order[order.index(current) - 1]
    # What the decision would do, as step_back does it: later phases it brings up too.
    after = dict(tiers)
    step_back(protocol, after, phase.id, to=target)
    also = [
        f"{other} from {tiers.get(other)} to {tier}"
        for other, tier in after.items()
        if other != phase.id and tiers.get(other) != tier
    ]
    question = (
        f"{missed.id} missed with worsening: step {phase.id} back from {current} to {target}?"
    )
    if also:
        question += (
            f" This also moves {', '.join(also)}, so that no later phase is less often than "
            "before the worsening."
        )
    return Proposal(
        id=f"step-back-{missed.id}",
        question=question,
        options=("step-back", "continue"),
        suggested="step-back",
        planned="step-back" if rules.worsening == "automatic" else "continue",
        raised=at,
        due=due,
        phase=phase.id,
        tier=target,
        source=rules.worsening_source or phase.missed_source or phase.source,
        automatic=rules.worsening == "automatic",
    )


class Response(NamedTuple):
    """What a response rule makes of the scores: a direction, and why."""

    rule: ResponseRule
    direction: DecisionKind
    """``step-down`` (scores low enough) or ``step-back`` (the latest score too high)."""
    why: str
    on: dt.date
    to: str
    """The tier it would move the phase to."""


def response(
    protocol: Protocol,
    tiers: dict[str, str],
    assessments: Sequence[Assessment],
    *,
    new: Sequence[Assessment],
) -> list[Response]:
    """What each response rule says of the scores, when this re-plan records a new one.

    A rule acts only on a new score on its scale: scores already acted on do not move the tier
    again at every later re-plan.
    """
    found = []
    for rule in protocol.response:
        phase = protocol.phase(rule.phase)
        allowed = reachable_tiers(protocol, phase)
        current = tiers.get(phase.id, phase.tier)
        scale = rule.scale.casefold()
        if current not in allowed or not any(a.scale.casefold() == scale for a in new):
            continue
        scores = sorted((a for a in assessments if a.scale.casefold() == scale), key=lambda a: a.on)
        position = allowed.index(current)
        latest, recent = scores[-1], scores[-rule.after_consecutive :]
        if latest.score > rule.step_up_above and position > 0:
            why = f"{rule.scale} {latest.score:g} on {latest.on} is above {rule.step_up_above:g}"
            found.append(Response(rule, "step-back", why, latest.on, allowed[position - 1]))
        elif (
            len(recent) == rule.after_consecutive
            and all(a.score <= rule.step_down_at_or_below for a in recent)
            and position < len(allowed) - 1
        ):
            why = (
                f"{rule.scale} at or below {rule.step_down_at_or_below:g} "
                f"{quantity(rule.after_consecutive, 'time')} in a row"
            )
            found.append(Response(rule, "step-down", why, latest.on, allowed[position + 1]))
    return found


def response_proposal(
    found: Response, tiers: dict[str, str], *, at: dt.datetime, due: dt.date
) -> Proposal:
    """The proposal a response rule raises (planned as decided when the rule is automatic)."""
    rule = found.rule
    verb = "step down" if found.direction == "step-down" else "step back"
    return Proposal(
        id=f"{rule.id}-{found.on.isoformat()}",
        question=f"{found.why}: {verb} {rule.phase} from {tiers.get(rule.phase)} to {found.to}?",
        options=(found.direction, "continue", "stop"),
        suggested=found.direction,
        planned=found.direction if rule.automatic else "continue",
        raised=at,
        due=due,
        phase=rule.phase,
        tier=found.to,
        source=rule.source,
        automatic=rule.automatic,
    )


def lapse_proposal(
    rule: Lapse, review: Appointment, *, in_induction: bool, why: str, at: dt.datetime
) -> Proposal:
    """After a lapse: the review decides to resume or re-induce (or stop).

    The suggestion is the protocol's: ``requires = "re-induction"``, or ``during_induction``
    for a lapse before the first phase of doses was complete; otherwise resume. Until the
    decision is recorded the plan resumes the course as it stands (its sessions provisional,
    :func:`mark_provisional`): a source that suggests re-induction leaves it to the clinician
    (the label's "per clinical judgement"), so only a protocol that requires re-induction is
    planned so at once.
    """
    suggested: DecisionKind = "resume"
    planned: DecisionKind = "resume"
    source = rule.source
    if rule.requires == "re-induction":
        suggested = planned = "re-induce"
    elif in_induction:
        suggested = rule.during_induction
        source = rule.during_induction_source or source
    return Proposal(
        id=review.id,
        question=f"after the lapse ({why.removesuffix(': review first')}), resume the course "
        "or re-induce?",
        options=("resume", "re-induce", "stop"),
        suggested=suggested,
        planned=planned,
        raised=at,
        due=review.local_date,
        source=source,
    )


def proposed_note(proposal: Proposal) -> str:
    """The note (and line of history) that records a proposal when it is raised."""
    if proposal.automatic:
        follows = f"the protocol makes it automatic: {proposal.planned}"
    else:
        follows = f"the plan follows '{proposal.planned}' until a decision is recorded"
        if proposal.suggested != proposal.planned:
            follows += f" (the source suggests '{proposal.suggested}')"
    return f"proposed ({proposal.id}): {proposal.question} {follows}"


def gate_proposals(
    protocol: Protocol, appointments: Sequence[Appointment], *, at: dt.datetime
) -> list[Proposal]:
    """For each ``responders_only`` phase with sessions planned: start it, or stop?

    The plan follows ``start-maintenance`` until the decision, its sessions marked provisional
    (:func:`mark_provisional`); the decision is due on the day of its first session.
    """
    found = []
    for phase in protocol.phases:
        planned = [a for a in appointments if a.phase == phase.id and a.anchored is None]
        if not phase.responders_only or not planned:
            continue
        found.append(
            Proposal(
                id=start_id(phase.id),
                question=f"is the patient a responder: start {phase.name.lower()}?",
                options=("start-maintenance", "stop"),
                suggested="start-maintenance",
                planned="start-maintenance",
                raised=at,
                due=min(a.local_date for a in planned),
                phase=phase.id,
                source=phase.responders_only_source or phase.source,
            )
        )
    return found


def awaiting(
    appointments: Sequence[Appointment], proposals: Sequence[Proposal]
) -> dict[str, Proposal]:
    """Each session that waits for an open decision, by id, with the proposal it waits for.

    The sessions of a phase waiting for its start decision, a booster the patient asked for
    until the clinician decides on it, and everything after a lapse review until its decision
    (resume, re-induce or stop) is recorded. Whatever the session's status: a planned one is
    provisional (:func:`mark_provisional`); one that took place did so before the decision
    (:func:`taken_before_decision`). Only a session from the moment the proposal was raised
    waits for it: a booster given under an earlier request did not wait for a later one.
    """
    starts = {p.phase: p for p in proposals if p.starts_phase and p.decision is None}
    booster = next((p for p in proposals if p.requests_booster and p.decision is None), None)
    reviews = {p.id: p for p in proposals if p.reviews_lapse and p.decision is None}
    review = min((a for a in appointments if a.id in reviews), key=lambda a: a.start, default=None)
    found: dict[str, Proposal] = {}
    for a in appointments:
        if review is not None and a.start >= review.start and a.id not in reviews:
            proposal = reviews[review.id]
        elif a.phase in starts:
            proposal = starts[a.phase]
        elif booster is not None and a.on_request:
            proposal = booster
        else:
            continue
        if a.start >= proposal.raised:  # one before the question was asked did not wait for it
            found[a.id] = proposal
    return found


def mark_provisional(
    appointments: Sequence[Appointment], proposals: Sequence[Proposal]
) -> tuple[Appointment, ...]:
    """The appointments, provisional while a decision they wait for is open (:func:`awaiting`).

    Only a planned session is provisional; one that took place, or did not, is a fact.
    """
    waiting = awaiting(appointments, proposals)

    def provisional(a: Appointment) -> bool:
        return a.status == "planned" and a.id in waiting

    return tuple(
        a
        if a.provisional == provisional(a)
        else a.model_copy(update={"provisional": not a.provisional})
        for a in appointments
    )


def taken_before_decision(
    appointments: Sequence[Appointment], proposals: Sequence[Proposal]
) -> list[tuple[Appointment, Finding]]:
    """Sessions attended while the decision they wait for is still open (``check`` warns).

    The session took place and stays on record; the decision it waited for (to start a phase
    for responders, a booster the patient asked for, what to do after a lapse) is still to be
    recorded, so the plan's record does not say that a clinician decided to go on.
    """
    waiting = awaiting(appointments, proposals)
    found = []
    for appointment in appointments:
        proposal = waiting.get(appointment.id)
        if proposal is None or appointment.status != "attended":
            continue
        finding = Finding(
            "taken-before-decision",
            f"took place on {fmt_day(appointment.local_date)} while proposal {proposal.id} "
            f"({proposal.question}) was still undecided: record the decision "
            f"({' or '.join(proposal.options)})",
            "a session that waits for a decision takes place once it is recorded",
            proposal.source,
        )
        found.append((appointment, finding))
    return found


def qualifying_score(phase: Phase, assessments: Sequence[Assessment]) -> str | None:
    """Why the recorded scores make the patient a responder for ``phase``, or ``None``."""
    rule = phase.responder
    if rule is None:
        return None
    scale = rule.scale.casefold()
    scores = sorted((a for a in assessments if a.scale.casefold() == scale), key=lambda a: a.on)
    if not scores:
        return None
    baseline, latest = scores[0], scores[-1]
    source = f" [{rule.source}]" if rule.source else ""
    if rule.at_or_below is not None and latest.score <= rule.at_or_below:
        limit = f"{rule.at_or_below:g}"
        return f"{rule.scale} {latest.score:g} on {latest.on} is at or below {limit}{source}"
    share = rule.reduction_at_least
    if share is not None and len(scores) > 1 and baseline.score > 0:
        drop = (baseline.score - latest.score) / baseline.score
        if drop >= share:
            return (
                f"{rule.scale} {latest.score:g} on {latest.on} is {drop:.0%} below the baseline "
                f"{baseline.score:g} (at least {share:.0%}){source}"
            )
    return None
