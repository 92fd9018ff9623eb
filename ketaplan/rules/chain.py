"""The chain: a plan's phase sessions so far, in time order, and what they add up to.

Anchored sessions (integration, calls, reviews) are not in the chain; they hang off it. The
planner grows a chain one session at a time; ``check`` walks a finished plan's chain prefix by
prefix; both ask it the same questions, answered here once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from ketaplan.plans import Appointment
from ketaplan.protocol import Phase
from ketaplan.rules.course import Course

__all__ = ["Chain", "Position", "counted", "course_number", "course_prefix", "live", "numbered"]


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


class _Facts(NamedTuple):
    """What a chain's sessions add up to; :meth:`Chain.plus` extends it, session by session."""

    phases: dict[str, tuple[Appointment, ...]]
    """Each phase's sessions, whatever their status."""
    doses: tuple[Appointment, ...]
    """The doses that take place."""
    missed: tuple[Appointment, ...]
    """The sessions missed."""

    @staticmethod
    def of(sessions: Iterable[Appointment]) -> _Facts:
        facts = _Facts({}, (), ())
        for appointment in sessions:
            facts = facts.plus(appointment)
        return facts

    def plus(self, appointment: Appointment) -> _Facts:
        phases = dict(self.phases)
        phases[appointment.phase] = (*phases.get(appointment.phase, ()), appointment)
        doses, missed = self.doses, self.missed
        if appointment.is_dose and appointment.is_active:
            doses = (*doses, appointment)
        if appointment.status == "missed":
            missed = (*missed, appointment)
        return _Facts(phases, doses, missed)


@dataclass
class _Memo:
    """A chain's derived facts, worked out once (a chain never changes)."""

    facts: _Facts | None = None
    current: tuple[Position | None] | None = None
    """The current position, in a box (``(None,)``: no phase needs sessions)."""
    kept: dict[Hashable, tuple[Callable[[Appointment], bool], tuple[Appointment, ...]]] = field(
        default_factory=dict
    )
    """What :meth:`Chain.kept` found, by key, with the test it kept them by."""
    dose_dates: tuple[dt.date, ...] | None = None


@dataclass(frozen=True)
class Chain:
    """A course's phase sessions so far, in time order (a value: adding makes a new one).

    What it derives (the sessions of each phase, the doses, the current phase) it works out
    once: a chain never changes. A chain made by :meth:`plus` extends its parent's facts by
    the one session instead of going over every session again.
    """

    course: Course
    sessions: tuple[Appointment, ...] = ()
    id_prefix: str = ""
    """The course's id prefix: ``""`` for the first course, ``"course-2-"`` for a re-induction,
    which repeats the phases from the induction on (not an intake before it)."""
    _memo: _Memo = field(default_factory=_Memo, init=False, repr=False, compare=False)

    def plus(self, appointment: Appointment) -> Chain:
        """This chain with ``appointment`` after its sessions."""
        chain = Chain(self.course, (*self.sessions, appointment), self.id_prefix)
        memo = self._memo
        if memo.facts is not None:
            chain._memo.facts = memo.facts.plus(appointment)
        if memo.dose_dates is not None:
            taking_place = appointment.is_dose and appointment.is_active
            added = (appointment.local_date,) if taking_place else ()
            chain._memo.dose_dates = (*memo.dose_dates, *added)
        for key, (keep, found) in memo.kept.items():
            chain._memo.kept[key] = (keep, (*found, appointment) if keep(appointment) else found)
        return chain

    def without(self, appointment: Appointment) -> Chain:
        """This chain without ``appointment``."""
        kept = tuple(a for a in self.sessions if a is not appointment)
        return Chain(self.course, kept, self.id_prefix)

    def prefix(self, length: int) -> Chain:
        """The first ``length`` sessions."""
        return Chain(self.course, self.sessions[:length], self.id_prefix)

    def _facts(self) -> _Facts:
        facts = self._memo.facts
        if facts is None:
            facts = self._memo.facts = _Facts.of(self.sessions)
        return facts

    def kept(self, key: Hashable, keep: Callable[[Appointment], bool]) -> tuple[Appointment, ...]:
        """The sessions ``keep`` holds for, in order.

        For a rule asked again and again as the chain grows (which sessions an anchor
        counts): worked out once under ``key``, which must stand for the same test each time,
        and extended by :meth:`plus` one session at a time.
        """
        found = self._memo.kept.get(key)
        if found is None:
            found = self._memo.kept[key] = (keep, tuple(a for a in self.sessions if keep(a)))
        return found[1]

    def in_phase(self, phase_id: str) -> list[Appointment]:
        """The phase's sessions, whatever their status."""
        return list(self._facts().phases.get(phase_id, ()))

    def counted(self, phase: Phase) -> int:
        """:func:`counted` for the phase's sessions in this chain."""
        return counted(phase, self._facts().phases.get(phase.id, ()))

    def complete(self, phase: Phase) -> bool:
        """Whether a phase with a count has all its sessions."""
        return phase.count is not None and self.counted(phase) >= phase.count

    def current(self) -> Position | None:
        """The first phase that still needs sessions, with the sessions it has."""
        if self._memo.current is None:
            self._memo.current = (self._find_current(),)
        return self._memo.current[0]

    def _find_current(self) -> Position | None:
        protocol = self.course.protocol
        phases = protocol.phases
        begun = self._facts().phases.keys()
        # A re-induction repeats the induction and what follows, not the intake before it.
        first = phases.index(protocol.induction) if self.id_prefix else 0
        # The series has moved on past every phase before the last one begun.
        last_begun = max((n for n, p in enumerate(phases) if p.id in begun), default=0)
        for index, phase in enumerate(phases):
            if index < first or index < last_begun:
                continue
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
        return self._facts().doses

    def dose_dates(self) -> tuple[dt.date, ...]:
        """The local dates of :meth:`doses`."""
        if self._memo.dose_dates is None:
            self._memo.dose_dates = tuple(a.local_date for a in self.doses())
        return self._memo.dose_dates

    def first_dose_date(self) -> dt.date | None:
        """The date of the first dose not cancelled (treatment week 1 begins there)."""
        for appointment in self.sessions:
            if appointment.is_dose and appointment.status != "cancelled":
                return appointment.local_date
        return None

    def missed_after(self, previous: Appointment) -> tuple[Appointment, bool] | None:
        """The first session missed after ``previous``, and whether the next one makes it up.

        Only a phase with ``missed = "make-up"`` makes up a miss; in one that says
        ``"continue"`` the schedule goes on without it (the esketamine label, weeks 1-4).
        """
        for appointment in self._facts().missed:
            if appointment.start > previous.start:
                phase = self.course.protocol.phase(appointment.phase)
                return appointment, phase.missed == "make-up"
        return None

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


def live(appointments: Iterable[Appointment], *, named: Collection[str] = ()) -> list[Appointment]:
    """The appointments but those a re-plan cancelled as no longer needed, in the same order.

    Such a session never was to take place (a missed or cancelled one did, or was to): it is
    no part of the series that ``check``, ``status`` and the re-planner read, past or future.
    ``named``: the ids an event of the re-plan under way names (a stop, a report); those are
    kept as the event left them.
    """
    return [a for a in appointments if not a.no_longer_needed or a.id in named]


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


def numbered(chain: Chain, *, status: str) -> Chain:
    """The chain with each dose of ``status`` numbered (and dosed) as the rules number it now.

    The next dose of what took place before it (:meth:`Chain.next_dose_number`), with the dose
    its protocol gives that number: a planned dose kept after earlier ones were missed, or an
    attended one after an earlier one a report now says was missed, is not the number it had.
    """
    dosing = chain.course.protocol.dosing
    renumbered = Chain(chain.course, id_prefix=chain.id_prefix)
    for session in chain.sessions:
        kept = session
        if session.is_dose and session.status == status:
            number = renumbered.next_dose_number()
            if number != session.dose_number:
                dose = dosing.describe(number) if dosing is not None else session.dose
                kept = session.model_copy(update={"dose_number": number, "dose": dose})
        renumbered = renumbered.plus(kept)
    return renumbered
