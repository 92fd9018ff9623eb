"""What a re-plan hands the search: the sessions kept, and what the plan already said."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from ketaplan.decisions import Proposal
from ketaplan.plans import Appointment

__all__ = ["Continuity"]


@dataclass(frozen=True)
class Continuity:
    """A re-plan's input to the search (empty for a first plan).

    The search never changes a kept session; it plans what comes after them, keeping each
    later session's time of day (and, in a phase that continues after a miss, its date) where
    the rules still allow it.
    """

    fixed: tuple[Appointment, ...] = ()
    """The sessions kept as they are: held, missed, cancelled, or named by an event."""
    times: Mapping[str, dt.time] = field(default_factory=dict)
    """The local time each appointment had, by id, to keep where possible."""
    days: Mapping[str, dt.date] = field(default_factory=dict)
    """The date each appointment had, by id, to keep where its rules still allow it: in phases
    that continue after a miss, and for a session a re-plan moved (``Appointment.relocated``)."""
    booked: Mapping[str, dt.datetime] = field(default_factory=dict)
    """The start each planned appointment is booked at, by id: placed there again, it is no
    new booking (its instructions were given when it was booked), so the time its
    instructions need before a new booking does not apply to that start."""
    aims: Mapping[str, dt.date] = field(default_factory=dict)
    """A day to try first, by id (``plan(hints=...)``): the target stays the rules' own."""
    series_time: dt.time | None = None
    """The time of day the series uses (its last planned dose), for new sessions."""
    plan_start: dt.date | None = None
    """The plan's own start, to judge the sessions kept by the rules (re-planning)."""
    declined: frozenset[str] = frozenset()
    """Phases a clinician decided not to start: the chain ends before them."""
    stopped_on: dt.date | None = None
    """The day a decision stopped the course: no milestone due after it is placed."""
    proposals: Mapping[str, Proposal] = field(default_factory=dict)
    """The plan's proposals by id, with any decision recorded (a lapse review's outcome)."""

    @property
    def held_until(self) -> dt.date | None:
        """The last date of the chain sessions kept: nothing new goes on or before it."""
        held = [a.local_date for a in self.fixed if a.anchored is None]
        return max(held) if held else None
