"""Dead ends: states from which the rest of a chain has no placement, remembered in a search.

A depth-first search that fails late backs up and tries an earlier session's other days, and
for each it places the sessions after it again. Most of those arrangements bring a later
session back to a state it already failed from: the same window after the same previous
session, the same recent doses and bookings, the same counts, only with something different
weeks before. Without remembering, a chain whose failure lies many sessions after its last
real choice (a patient free on few weekdays, a blackout no gap can bridge) costs a number of
candidate days exponential in the sessions between, up to the search's budget (20,000 days,
seconds of work) before it says why it cannot be planned.

A state holds everything the rest of the chain can depend on:

- the step: its phase, index, dose number, window, target, aim, deadline and previous session;
- every session and anchored session from ``lookback`` days before the step's first day on,
  with its times, status and units (its spans follow from its start and kind): a day's
  bookings (the patient's own, the chairs) are that day's, and doses counted in a rolling 7
  days look back 7 days; the other dose rules (one a day, consecutive days, the minimum
  interval, a lapse) look at the last dose;
- the last dose, the sessions missed, each phase's count of sessions, each anchored rule's
  count of sessions, and the anchored sessions waiting on the previous session;
- while a phase that enters in a treatment week is still to come after the step's, the first
  dose (treatment week 1 begins there);
- the first session of the step's phase when the phase has a deadline (``within_days``) or
  counts sessions by week, and then how many sessions each of its weeks has (only the weeks
  from the step's first day on, when a week's minimum does not rule a day out);
- when shifting, how many sessions are past their windows (the shift budget).

Two frames in the same state have the same subtree, so the second is rejected for the reason
the first failed with, and the plans are the same as without remembering (a property test
holds them equal). Only the count of candidate days differs, and with it what a search that
ran out of its budget found.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ketaplan._types import OnConflict
from ketaplan.plans import Appointment
from ketaplan.protocol import InWeek, PerWeek, Phase
from ketaplan.rules.chain import Chain
from ketaplan.rules.course import Course
from ketaplan.rules.days import limits_hold, week_counts
from ketaplan.rules.windows import Step

__all__ = ["DeadEnds", "Where"]

#: The look-back of doses counted in a rolling 7 days.
_WEEK_DAYS = 7
#: Days more, for a session that runs past midnight and the zone's offset.
_MARGIN_DAYS = 2


class DeadEnds:
    """The states one search attempt found hopeless, with the reason each gave."""

    def __init__(self, course: Course) -> None:
        protocol = course.protocol
        # The other dose rules (one a day, consecutive days, the minimum interval, a lapse)
        # look at the last dose, which the state holds.
        days = _WEEK_DAYS if protocol.rules.max_per_7_days is not None else 0
        self.lookback = dt.timedelta(days=days + _MARGIN_DAYS)
        self._weekly = {p.id: _per_week(course, p) for p in protocol.phases}
        """A phase's cadence when it counts sessions by week (as the course chose its tier)."""
        self._weeks_ahead = [
            any(isinstance(p.start, InWeek) for p in protocol.phases[n + 1 :])
            for n in range(len(protocol.phases))
        ]
        """By phase index: whether a later phase enters in a treatment week (the step's own
        window is in the state)."""
        self._known: dict[Hashable, _Known] = {}
        """By step (its window and previous session: cheap to key), the states found hopeless."""

    def __bool__(self) -> bool:
        return bool(self._known)

    def clear(self) -> None:
        """Forget every state (a new attempt, with other settings)."""
        self._known.clear()

    def add(self, where: Where, reason: str) -> None:
        """Remember that the search had no placement from ``where``, and why."""
        kept = where._replace(extras=tuple(where.extras))  # the search's list changes
        self._known.setdefault(_step(where.step), _Known()).pending.append((kept, reason))

    def reason(self, where: Where) -> str | None:
        """Why the search had no placement from ``where`` before, if it had none.

        The rest of a state is worked out only for a step met before: most searches that back
        up never meet one, and pay for the step's key alone.
        """
        known = self._known.get(_step(where.step))
        if known is None:
            return None
        for before, why in known.pending:
            known.reasons.setdefault(self._rest(before), why)
        known.pending.clear()
        return known.reasons.get(self._rest(where))

    def _rest(self, where: Where) -> Hashable:
        """The state but for the step (see the module's docstring)."""
        step, chain, extras = where.step, where.chain, where.extras
        horizon = step.earliest - self.lookback
        recent: list[Hashable] = []
        for appointment in reversed(chain.sessions):  # in time order: stop at the horizon
            if appointment.local_date < horizon:
                break
            recent.append(_session(appointment))
        previous = step.previous
        waiting = tuple(
            _session(a)
            for a in extras
            if a.local_date >= horizon or (previous is not None and a.anchor == previous.id)
        )
        doses = chain.doses()
        phase = step.phase
        cadence = self._weekly[phase.id]
        in_phase = chain.in_phase(phase.id) if phase.within_days or cadence else []
        phases = chain.course.protocol.phases
        on_conflict = where.on_conflict
        return (
            tuple(recent),
            waiting,
            _session(doses[-1]) if doses else None,
            chain.first_dose_date() if self._weeks_ahead[step.phase_index] else None,
            tuple(_session(a) for a in chain.sessions if a.status == "missed"),
            tuple((p.id, len(chain.in_phase(p.id)), chain.counted(p)) for p in phases),
            frozenset(Counter(a.anchored for a in extras).items()),
            _session(in_phase[0]) if in_phase else None,
            _weeks(chain, step, cadence, on_conflict=on_conflict) if cadence and in_phase else None,
            where.shifted,
        )


@dataclass
class _Known:
    """The states found hopeless for one step: worked out, and as they were met."""

    reasons: dict[Hashable, str] = field(default_factory=dict)
    pending: list[tuple[Where, str]] = field(default_factory=list)


class Where(NamedTuple):
    """Where a search stands before placing ``step``: what its state is made of."""

    step: Step
    chain: Chain
    extras: Sequence[Appointment]
    on_conflict: OnConflict
    shifted: int | None
    """When shifting, how many sessions are past their windows (else ``None``)."""


def _per_week(course: Course, phase: Phase) -> PerWeek | None:
    cadence = course.cadence(phase)
    return cadence if isinstance(cadence, PerWeek) else None


def _weeks(chain: Chain, step: Step, cadence: PerWeek, *, on_conflict: OnConflict) -> Hashable:
    """A per-week phase's sessions as its rules see them: how many each week has.

    When a week's minimum does not rule a day out (:func:`~ketaplan.rules.days.limits_hold`),
    only the weeks a candidate day can fall in count: their maximum.
    """
    weeks = week_counts(chain, step.phase, cadence, None)
    since = 0
    if not limits_hold(step, mode="plan", on_conflict=on_conflict):
        since = weeks.week_of(step.earliest)
    counts = tuple(sorted((w, n) for w, n in weeks.counts.items() if w >= since))
    booked = tuple(sorted((w, n) for w, n in weeks.booked.items() if w >= since))
    return weeks.first, counts, booked


def _step(step: Step) -> Hashable:
    previous = step.previous
    return (
        step.phase_index,
        step.phase.id,
        step.kind.id,
        step.index,
        step.dose_number,
        step.earliest,
        step.latest,
        step.target,
        step.aim,
        step.hard_latest,
        step.series_relaxed,
        step.on_request,
        step.passed,
        None if previous is None else _session(previous),
    )


def _session(appointment: Appointment) -> Hashable:
    return (
        appointment.id,
        appointment.start,
        appointment.end,
        appointment.dosing_start,
        appointment.status,
        appointment.anchored,
        appointment.anchor,
        tuple((span.resource, span.unit) for span in appointment.resources),
    )
