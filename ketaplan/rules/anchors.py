"""Which sessions an anchor selects, and where a session anchored to one may go.

An anchor (``after = { session = ..., which = ..., phase = ... }``) counts the sessions of one
kind that take place (planned or attended), in order, optionally within one phase:

- ``each``: every one of them; with ``every = n``, the n-th, the 2n-th, ... of them (a
  renewal consult after every 6th session);
- ``first`` / ``n``: the first, or the n-th, of them;
- ``last``: the last of them, once the series has reached it: when the anchor names a phase
  with a ``count``, once that phase has all its sessions (a missed session counts where the
  phase continues after a miss, as :func:`~ketaplan.rules.chain.counted` says); otherwise
  once the plan is complete (the last such session of the plan).

The planner places anchored sessions as it places their anchors (:func:`due_after`) and
completes the plan with those whose anchor is only known at the end; ``check`` and the task
builder ask :func:`selected` of a finished plan. One meaning for all three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Literal, NamedTuple

from ketaplan._text import quantity
from ketaplan.decisions import BOOSTER
from ketaplan.plans import Appointment
from ketaplan.protocol import Anchor, AnchoredSession, Protocol
from ketaplan.rules.chain import Chain, course_number
from ketaplan.rules.finding import Finding

__all__ = [
    "OffsetWindow",
    "anchored_finding",
    "attended_finding",
    "before_next_finding",
    "booked_again",
    "counts",
    "due_after",
    "due_before",
    "evaluated_boosters",
    "known_while_growing",
    "late_window",
    "next_not_before",
    "offset_window",
    "pool",
    "selected",
    "stands_in",
]


def pool(anchor: Anchor, appointments: Iterable[Appointment]) -> list[Appointment]:
    """The sessions ``anchor`` counts among ``appointments`` (in order): those taking place."""
    return [a for a in appointments if counts(anchor, a)]


def counts(anchor: Anchor, appointment: Appointment) -> bool:
    """Whether ``anchor`` counts ``appointment``: its kind, taking place, in its phase if named."""
    return (
        appointment.session == anchor.session
        and appointment.is_active
        and (anchor.phase is None or appointment.phase == anchor.phase)
    )


def _chain_pool(anchor: Anchor, chain: Chain) -> Sequence[Appointment]:
    """:func:`pool` of the chain's sessions, which the chain keeps as it grows."""
    return chain.kept(("anchor-pool", anchor.session, anchor.phase), partial(counts, anchor))


def selected(
    anchor: Anchor,
    chain: Chain,
    *,
    chain_is: Literal["growing", "complete"],
    among: Sequence[Appointment] | None = None,
) -> list[Appointment]:
    """The sessions ``anchor`` selects.

    ``chain_is``: ``"complete"`` for a finished plan (a ``last`` without a finite phase then
    selects its last session), ``"growing"`` while the planner adds to it. ``among``: the
    sessions to count, in order (default: the chain's).
    """
    counted = _chain_pool(anchor, chain) if among is None else pool(anchor, among)
    which = anchor.which
    if which == "each":
        every = anchor.every
        return list(counted if every is None else counted[every - 1 :: every])
    if which == "first":
        return list(counted[:1])
    if isinstance(which, int):
        return list(counted[which - 1 : which])
    return list(counted[-1:]) if _last_reached(anchor, chain, chain_is) else []


def known_while_growing(anchor: Anchor, protocol: Protocol) -> bool:
    """Whether the sessions ``anchor`` selects are known as the chain grows.

    All are but a ``last`` without a finite phase, known only once the plan is complete.
    """
    if anchor.which != "last":
        return True
    return anchor.phase is not None and protocol.phase(anchor.phase).count is not None


def _last_reached(anchor: Anchor, chain: Chain, chain_is: Literal["growing", "complete"]) -> bool:
    if anchor.phase is not None:
        phase = chain.course.protocol.phase(anchor.phase)
        if phase.count is not None:
            return chain.complete(phase)
    return chain_is == "complete"


def due_after(
    rules: Iterable[AnchoredSession], session: Appointment, chain: Chain
) -> list[AnchoredSession]:
    """The anchored sessions ``session``, just added at the end of ``chain``, anchors now."""
    due = []
    for rule in rules:
        anchor = rule.after
        if anchor.session != session.session:
            continue
        if anchor.phase is not None and anchor.phase != session.phase:
            continue
        chosen = selected(anchor, chain, chain_is="growing")
        if chosen and chosen[-1] is session:
            due.append(rule)
    return due


class OffsetWindow(NamedTuple):
    """The days an anchored session may take after its anchor's day."""

    earliest: dt.date
    target: dt.date
    latest: dt.date


def offset_window(rule: AnchoredSession, anchor: Appointment) -> OffsetWindow:
    """Where ``rule``'s session may go after ``anchor`` (on its day: after it ends)."""
    base = anchor.local_date
    offset = rule.offset
    return OffsetWindow(
        base + dt.timedelta(days=offset.minimum),
        base + dt.timedelta(days=offset.target),
        base + dt.timedelta(days=offset.maximum),
    )


def booked_again(item: Appointment, sessions: Iterable[Appointment]) -> bool:
    """Whether ``item`` books again a milestone the patient missed.

    One of the same rule and anchor was missed before it: it comes late for that reason, as a
    stand-in's milestone does (``check`` rates the lateness a warning).
    """
    return any(
        a.anchored == item.anchored
        and a.anchor == item.anchor
        and a.status == "missed"
        and a.start < item.start
        for a in sessions
    )


def stands_in(anchor: Anchor, chosen: Appointment, chain: Chain) -> bool:
    """Whether ``chosen`` stands in for a session that did not take place.

    A ``last`` anchor after the phase's last dose was missed or cancelled, or an n-th anchor
    after an earlier one was (the n-th that took place comes later than the n-th planned): its
    milestone then follows ``chosen``, late if it must.
    """
    if anchor.which != "last" and not isinstance(anchor.which, int):
        return False
    position = next((n for n, a in enumerate(chain.sessions) if a is chosen), None)
    if position is None:
        return False
    others = chain.sessions[position + 1 :] if anchor.which == "last" else chain.sessions[:position]
    return any(
        a.session == anchor.session
        and a.status in ("missed", "cancelled")
        and (anchor.phase is None or a.phase == anchor.phase)
        for a in others
    )


def superseded(anchor: Anchor, chosen: Appointment, chain: Chain, courses: Sequence[Chain]) -> bool:
    """Whether a milestone after ``chosen`` belongs to a course a re-induction replaced.

    A course that a lapse interrupted (its last sessions did not take place, so ``chosen``
    stands in for them) and a later course re-induced has no end of its own to evaluate: the
    new course has its milestones, and the lapse review heard the patient.
    """
    later = any(course_number(c.id_prefix) > course_number(chain.id_prefix) for c in courses)
    return later and stands_in(anchor, chosen, chain)


def late_window(today: dt.date, *, within_days: int) -> OffsetWindow:
    """Where a required milestone goes when its window passed before ``today``.

    As soon as possible, within ``within_days`` (the search's start window, as for a chain
    session resuming after its window passed).
    """
    return OffsetWindow(today, today, today + dt.timedelta(days=within_days))


def attended_finding(rule: AnchoredSession, anchor: Appointment, chain: Chain) -> Finding | None:
    """``milestone-after-few-sessions`` when too few of the anchor's phase took place.

    The share is the protocol's ``attended_share``; the count is of the phase's sessions up to
    ``anchor`` that took place (planned or attended) against the phase's ``count``.
    """
    share, phase_id = rule.attended_share, rule.after.phase
    if share is None or phase_id is None:
        return None
    count = chain.course.protocol.phase(phase_id).count
    if count is None:
        return None
    up_to = chain.sessions[: chain.sessions.index(anchor) + 1] if anchor in chain.sessions else []
    held = sum(1 for a in up_to if a.phase == phase_id and a.is_active)
    if held >= share * count:
        return None
    return Finding(
        "milestone-after-few-sessions",
        f"{held} of the {quantity(count, f'{phase_id} session')} took place before {rule.id} after "
        f"{anchor.id}; the protocol asks at least {share:.0%}: a clinician decides whether "
        "it stands",
        f"anchored[{rule.id}].attended_share ({share:g})",
        rule.attended_share_source or rule.source,
        involves=(anchor.id,),
    )


def due_before(rule: AnchoredSession, anchor: Appointment, stopped: dt.date | None) -> bool:
    """Whether ``rule``'s session after ``anchor`` was due by ``stopped``.

    ``stopped`` is the day a decision stopped the course (``None``: it was not): a stopped
    course needs no milestone that was due only after it.
    """
    return stopped is None or offset_window(rule, anchor).earliest <= stopped


def evaluated_boosters(appointments: Iterable[Appointment]) -> frozenset[str]:
    """The boosters brought forward on request that have their evaluation right before them.

    Only these may come before their gap: a session marked ``on_request`` without an
    evaluation between the session before it and itself is judged by its gap like any other.
    """
    items = sorted(appointments, key=lambda a: a.start)
    found = set()
    previous_end = None
    for item in items:
        if item.anchored is None and item.is_active:
            if item.on_request and any(
                e.anchored == BOOSTER
                and e.is_active
                and e.end <= item.start
                and (previous_end is None or e.start >= previous_end)
                for e in items
            ):
                found.add(item.id)
            previous_end = item.end
    return frozenset(found)


def next_not_before(
    rules: Iterable[AnchoredSession], previous: Appointment | None, placed: Iterable[Appointment]
) -> dt.datetime | None:
    """When the chain's next session may start, after ``previous``.

    After every ``before_next`` session anchored to ``previous`` (a response review that
    decides on the next infusion).
    """
    if previous is None:
        return None
    waiting = {rule.id for rule in rules if rule.before_next}
    ends = [
        a.end for a in placed if a.anchor == previous.id and a.anchored in waiting and a.is_active
    ]
    return max(ends, default=None)


def before_next_finding(
    rule: AnchoredSession, item: Appointment, chain: Chain, *, stand_in: bool = False
) -> Finding | None:
    """``anchored-outside-window`` when a ``before_next`` session ends after the next starts.

    ``stand_in``: its anchor stands in for a session that did not take place (:func:`stands_in`),
    so the milestone came late, after the next session had been held: a warning.
    """
    if not rule.before_next:
        return None
    anchor = next((a for a in chain.sessions if a.id == item.anchor), None)
    after = [a for a in chain.sessions if anchor and a.is_active and a.start > anchor.start]
    if not after:
        return None
    following = min(after, key=lambda a: a.start)
    if following.start >= item.end:
        return None
    return Finding(
        "anchored-outside-window",
        f"{item.id} ends after {following.id} starts; it must come before it",
        f"anchored[{rule.id}].before_next",
        rule.source,
        severity="warning" if stand_in else None,
        involves=(following.id,),
    )


def anchored_finding(
    rule: AnchoredSession, anchor: Appointment, item: Appointment, *, stand_in: bool = False
) -> Finding | None:
    """``anchored-outside-window`` when ``item`` is not where ``rule`` puts it after ``anchor``.

    ``stand_in``: the anchor stands in for a session that did not take place
    (:func:`stands_in`), so a milestone after the window is a warning: it could not be sooner.
    """
    window = offset_window(rule, anchor)
    day = item.local_date
    early = day == anchor.local_date and item.start < anchor.end
    if window.earliest <= day <= window.latest and not early:
        return None
    days = (day - anchor.local_date).days
    return Finding(
        "anchored-outside-window",
        f"{item.id} is {quantity(days, 'day')} after {anchor.id}"
        + (" and starts before it ends" if early else "")
        + f"; it must be {rule.offset.describe()} after",
        f"anchored[{rule.id}]",
        rule.source,
        severity="warning" if stand_in and day > window.latest else None,
        involves=(anchor.id,),
    )
