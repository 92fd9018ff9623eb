"""Which sessions an anchor selects, and where a session anchored to one may go.

An anchor (``after = { session = ..., which = ..., phase = ... }``) counts the sessions of one
kind that take place (planned or attended), in order, optionally within one phase:

- ``each``: every one of them;
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
from typing import Literal, NamedTuple

from ketaplan.plans import Appointment
from ketaplan.protocol import Anchor, AnchoredSession, Protocol
from ketaplan.rules.chain import Chain
from ketaplan.rules.finding import Finding

__all__ = [
    "OffsetWindow",
    "anchored_finding",
    "due_after",
    "known_while_growing",
    "offset_window",
    "pool",
    "selected",
]


def pool(anchor: Anchor, appointments: Iterable[Appointment]) -> list[Appointment]:
    """The sessions ``anchor`` counts among ``appointments`` (in order): those taking place."""
    return [
        a
        for a in appointments
        if a.session == anchor.session
        and a.is_active
        and (anchor.phase is None or a.phase == anchor.phase)
    ]


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
    counted = pool(anchor, chain.sessions if among is None else among)
    which = anchor.which
    if which == "each":
        return counted
    if which == "first":
        return counted[:1]
    if isinstance(which, int):
        return counted[which - 1 : which]
    return counted[-1:] if _last_reached(anchor, chain, chain_is) else []


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


def anchored_finding(
    rule: AnchoredSession, anchor: Appointment, item: Appointment
) -> Finding | None:
    """``anchored-outside-window`` when ``item`` is not where ``rule`` puts it after ``anchor``."""
    window = offset_window(rule, anchor)
    day = item.local_date
    early = day == anchor.local_date and item.start < anchor.end
    if window.earliest <= day <= window.latest and not early:
        return None
    days = (day - anchor.local_date).days
    return Finding(
        "anchored-outside-window",
        f"{item.id} is {days} days after {anchor.id}"
        + (" and starts before it ends" if early else "")
        + f"; it must be {rule.offset.describe()} after",
        f"anchored[{rule.id}]",
        rule.source,
        involves=(anchor.id,),
    )
