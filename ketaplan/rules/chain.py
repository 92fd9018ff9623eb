"""The chain: a plan's phase sessions so far, in time order, and what they add up to.

Anchored sessions (integration, calls, reviews) are not in the chain; they hang off it. The
planner grows a chain one session at a time; ``check`` walks a finished plan's chain prefix by
prefix; both ask it the same questions, answered here once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from ketaplan.plans import Appointment
from ketaplan.protocol import Phase
from ketaplan.rules.course import Course

__all__ = ["Chain", "Position", "counted", "course_number", "course_prefix"]


def counted(phase: Phase, sessions: Iterable[Appointment]) -> int:
    """How many of a phase's sessions count toward its ``count``.

    A cancelled session is not replaced, so it counts; a missed one is made up (it does not
    count) unless the phase says ``missed = "continue"``.

    >>> from ketaplan import load_protocol
    >>> induction = load_protocol("esketamine-mdsi").phase("induction")
    >>> induction.missed
    'continue'
    """
    if phase.missed == "continue":
        return sum(1 for _ in sessions)
    return sum(1 for a in sessions if a.status != "missed")


class Position(NamedTuple):
    """The phase that still needs sessions, and the sessions it has."""

    number: int
    """The phase's place in the protocol (0-based)."""
    phase: Phase
    sessions: list[Appointment]


@dataclass(frozen=True)
class Chain:
    """A course's phase sessions so far, in time order (a value: adding makes a new one).

    What it derives (the sessions of each phase, the doses, the current phase) it works out
    once: a chain never changes.
    """

    course: Course
    sessions: tuple[Appointment, ...] = ()
    id_prefix: str = ""
    """The course's id prefix: ``""`` for the first course, ``"course-2-"`` for a re-induction,
    which repeats the phases from the induction on (not an intake before it)."""
    _derived: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def plus(self, appointment: Appointment) -> Chain:
        """This chain with ``appointment`` after its sessions."""
        return Chain(self.course, (*self.sessions, appointment), self.id_prefix)

    def without(self, appointment: Appointment) -> Chain:
        """This chain without ``appointment``."""
        kept = tuple(a for a in self.sessions if a is not appointment)
        return Chain(self.course, kept, self.id_prefix)

    def prefix(self, length: int) -> Chain:
        """The first ``length`` sessions."""
        return Chain(self.course, self.sessions[:length], self.id_prefix)

    def in_phase(self, phase_id: str) -> list[Appointment]:
        """The phase's sessions, whatever their status."""
        by_phase = self._derived.get("phases")
        if by_phase is None:
            grouped: dict[str, list[Appointment]] = {}
            for appointment in self.sessions:
                grouped.setdefault(appointment.phase, []).append(appointment)
            by_phase = self._derived["phases"] = grouped
        assert isinstance(by_phase, dict)  # noqa: S101 - set just above
        return list(by_phase.get(phase_id, ()))

    def counted(self, phase: Phase) -> int:
        """:func:`counted` for the phase's sessions in this chain."""
        return counted(phase, self.in_phase(phase.id))

    def complete(self, phase: Phase) -> bool:
        """Whether a phase with a count has all its sessions."""
        return phase.count is not None and self.counted(phase) >= phase.count

    def current(self) -> Position | None:
        """The first phase that still needs sessions, with the sessions it has."""
        if "current" not in self._derived:
            self._derived["current"] = self._find_current()
        found = self._derived["current"]
        assert found is None or isinstance(found, Position)  # noqa: S101 - set just above
        return found

    def _find_current(self) -> Position | None:
        protocol = self.course.protocol
        phases = protocol.phases
        begun = {a.phase for a in self.sessions}
        # A re-induction repeats the induction and what follows, not the intake before it.
        first = phases.index(protocol.induction) if self.id_prefix else 0
        for index, phase in enumerate(phases):
            if index < first or any(p.id in begun for p in phases[index + 1 :]):
                continue  # the series has moved on: a later phase has begun
            in_phase = self.in_phase(phase.id)
            if phase.count is None or counted(phase, in_phase) < phase.count:
                return Position(index, phase, in_phase)
        return None

    def last_active(self, what: Literal["session", "dose"] = "session") -> Appointment | None:
        """The last session (or dose) that takes place (planned or attended)."""
        for appointment in reversed(self.sessions):
            if appointment.is_active and (appointment.is_dose or what == "session"):
                return appointment
        return None

    def doses(self) -> tuple[Appointment, ...]:
        """The doses that take place, in order."""
        found = self._derived.get("doses")
        if found is None:
            found = self._derived["doses"] = tuple(
                a for a in self.sessions if a.is_dose and a.is_active
            )
        assert isinstance(found, tuple)  # noqa: S101 - set just above
        return found

    def first_dose_date(self) -> dt.date | None:
        """The date of the first dose not cancelled (treatment week 1 begins there)."""
        for appointment in self.sessions:
            if appointment.is_dose and appointment.status != "cancelled":
                return appointment.local_date
        return None

    def missed_after(self, previous: Appointment) -> bool:
        """Whether a session after ``previous`` was missed (the next one makes it up)."""
        return any(a.status == "missed" and a.start > previous.start for a in self.sessions)

    def skipped_after(self, previous: Appointment) -> str | None:
        """How a session after ``previous`` did not take place (``missed``, ``cancelled``)."""
        for appointment in self.sessions:
            if appointment.start > previous.start and not appointment.is_active:
                return appointment.status
        return None

    def next_dose_number(self) -> int:
        """The number of the next dose: one after the last dose taking place.

        Doses are numbered as they are planned; a dose that was given keeps its number even
        when an earlier one is reported cancelled later, so the count goes on from it.
        """
        doses = self.doses()
        if not doses:
            return 1
        return (doses[-1].dose_number or len(doses)) + 1

    @staticmethod
    def of(course: Course, appointments: Sequence[Appointment]) -> Chain:
        """The chain of a plan's appointments: those not anchored, by start."""
        ordered = sorted((a for a in appointments if a.anchored is None), key=lambda a: a.start)
        return Chain(course, tuple(ordered), course_prefix(ordered[0].id) if ordered else "")

    @staticmethod
    def courses(course: Course, appointments: Sequence[Appointment]) -> list[Chain]:
        """One chain per course of treatment: a re-induction starts a new one (``course-2-``)."""
        chains: dict[str, list[Appointment]] = {}
        for appointment in sorted(appointments, key=lambda a: a.start):
            if appointment.anchored is None:
                chains.setdefault(course_prefix(appointment.id), []).append(appointment)
        return [Chain(course, tuple(sessions), prefix) for prefix, sessions in chains.items()]


def course_number(prefix: str) -> int:
    """The course a prefix names: 1 for ``""``, N for ``"course-N-"``."""
    return int(prefix[len("course-") : -1]) if prefix else 1


def course_prefix(appointment_id: str) -> str:
    """The id prefix of an appointment's course: ``"course-2-"``, or ``""`` for the first.

    >>> course_prefix("course-2-induction-3"), course_prefix("induction-3")
    ('course-2-', '')
    """
    if appointment_id.startswith("course-"):
        number, _, rest = appointment_id[len("course-") :].partition("-")
        if number.isdigit() and rest:
            return f"course-{number}-"
    return ""
