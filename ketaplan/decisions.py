"""Clinician decisions: what ketaplan proposes where a source says "consider", and what was decided.

ketaplan plans what a clinician decided. Where a protocol's source leaves a step to clinical
judgement (return to the previous frequency after worsening, step down after remission, resume
or re-induce after a lapse), re-planning raises a :class:`Proposal`: a question with its options,
the option the source suggests, the option the plan follows until someone decides, and the
source. A staff task asks for the decision. A :class:`Decision` records the answer, with its time
and an optional note; the schedule follows it from the next re-plan on. Both stay in the plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from ketaplan._model import Day, Model, Moment, Ref, Text
from ketaplan.timing import zone

__all__ = [
    "BOOSTER",
    "LAPSE_REVIEW",
    "STOP",
    "Decision",
    "DecisionKind",
    "Proposal",
    "course_stop",
    "declined_phases",
    "start_id",
    "stopped_on",
]

DecisionKind = Literal[
    "resume",
    "re-induce",
    "step-back",
    "step-down",
    "continue",
    "stop",
    "start-maintenance",
    "booster",
]
"""What a clinician may decide: resume or re-induce after a lapse review; step back to the
previous frequency, step down to a less frequent one, or continue as planned; stop the course;
start maintenance after a response review; give a booster."""

#: The decision that ends a course: nothing more is planned.
STOP = "stop"
#: The decision that gives a booster the patient asked for; also the ``phase`` and ``anchored``
#: of its evaluation, and the prefix of its proposal's id (``booster-1``).
BOOSTER: Literal["booster"] = "booster"
#: The prefix of a lapse review's id, and of its proposal's (``lapse-review-1``).
LAPSE_REVIEW = "lapse-review"
_START = "start-"


class Decision(Model):
    """A clinician's recorded decision."""

    decision: DecisionKind
    at: Moment
    """When it was decided (or recorded)."""
    proposal: Ref | None = None
    """The proposal it answers; ``None`` for a decision nobody proposed (stopping)."""
    note: Text | None = None
    by: Literal["clinician", "score"] = "clinician"
    """Who settled it: a clinician, or a qualifying score the protocol names."""


class Proposal(Model):
    """A decision ketaplan asks a clinician for, with what the source suggests."""

    id: Ref
    """Stable across re-plans, e.g. ``lapse-review-1`` or ``step-back-maintenance-3``."""
    question: Text
    """The decision to make, in words: ``"step maintenance back from weekly to twice weekly?"``."""
    options: tuple[DecisionKind, ...]
    suggested: DecisionKind
    """What the source suggests."""
    planned: DecisionKind
    """What the plan follows until a decision is recorded."""
    raised: Moment
    due: Day
    """Decide by this day (the next session it affects)."""
    phase: Ref | None = None
    """The phase it concerns, when it concerns one."""
    tier: Ref | None = None
    """The tier a step back or down would move the phase to."""
    source: Ref | None = None
    automatic: bool = False
    """The protocol makes this step automatic: planned as suggested, and no decision asked."""
    decision: Decision | None = None
    """The answer, once recorded."""

    @property
    def outcome(self) -> DecisionKind:
        """What the plan follows: the decision, or until then :attr:`planned`."""
        return self.decision.decision if self.decision is not None else self.planned

    @property
    def starts_phase(self) -> bool:
        """Whether it asks to start its phase (one for responders only)."""
        return self.phase is not None and self.id == start_id(self.phase)

    @property
    def reviews_lapse(self) -> bool:
        """Whether it is the decision of a lapse review (resume, re-induce or stop)."""
        return self.id.startswith(f"{LAPSE_REVIEW}-")

    @property
    def requests_booster(self) -> bool:
        """Whether it is a booster the patient asked for."""
        return self.id.startswith(f"{BOOSTER}-")


def start_id(phase: str) -> str:
    """The id of the proposal to start ``phase`` (``start-maintenance``)."""
    return f"{_START}{phase}"


def course_stop(decisions: Iterable[Decision]) -> Decision | None:
    """The decision that stopped the whole course, if one did.

    ``stop`` on a phase's start question (``start-maintenance``) only declines that phase: the
    sessions before it go on (:func:`declined_phases`).
    """
    stops = (d for d in decisions if d.decision == STOP)
    return next((d for d in stops if not (d.proposal or "").startswith(_START)), None)


def declined_phases(proposals: Iterable[Proposal]) -> frozenset[str]:
    """The phases a clinician decided not to start (``stop`` on their start question)."""
    return frozenset(p.phase for p in proposals if p.phase and p.starts_phase and p.outcome == STOP)


def stopped_on(decisions: Iterable[Decision], time_zone: str) -> dt.date | None:
    """The local day the course was stopped (:func:`course_stop`), if it was."""
    stop = course_stop(decisions)
    return None if stop is None else stop.at.astimezone(zone(time_zone)).date()
