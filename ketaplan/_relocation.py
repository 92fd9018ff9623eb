"""The search behind disruption re-planning: new places for one plan's displaced sessions.

:class:`Relocation` moves the sessions of one plan that a capacity change displaced, keeping
everything else of the plan and of the clinic where it is. It tries, in order:

1. the displaced sessions alone, then with one, two or three of the plan's other sessions still
   to come, nearest first (knock-on moves, at most :data:`MAX_EXTRA` of the nearest
   four), searched depth first in time order: a session is tried on each day from
   :data:`SEARCH_DAYS` days before to as many after its own (and over its whole window), never
   before ``now`` or the plan's start, nearest first, in the slot the clinic's slot finder
   gives for that day around everyone's bookings, and it keeps its place in the series;
2. the first displaced session moved and the rest of its series placed again by
   :func:`~ketaplan.replanning.replan` (a series that loses a day of a thrice-weekly week);
3. the same with ``on_conflict="shift"``, then the displaced sessions alone up to
   four weeks later: sessions outside their windows, reported "not kept" for a clinician.

``check`` is the judge: an arrangement is accepted when it adds no error to those the plan had
before the change (in step 1, nor a warning that a session left its window: a week short, a
phase past its deadline, which a protocol starting "earliest" only
warns of), and a partial one is abandoned as soon as an error among its settled
sessions appears. Every arrangement judged (and every re-plan) counts against a budget
(:data:`DEFAULT_BUDGET` per plan), so the work is bounded whatever the plans; with it, step 1
finds the fewest moves among the arrangements it tries. The searches meet the same arrangements
again (step 1 within the windows, then allowing warnings): ``check`` runs once for each, and
everyone's bookings are indexed once for all the runs until a plan is settled.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ketaplan._text import quantity
from ketaplan._types import OnConflict, ResourceKind
from ketaplan.bookings import Booking, bookings_of
from ketaplan.checking import check_trial
from ketaplan.clinic import CapacityChange, Clinic
from ketaplan.errors import UnsatisfiableError
from ketaplan.instructions import instructions_for
from ketaplan.ledger import Ledger
from ketaplan.medications import MedicationRules
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Plan, Shift
from ketaplan.protocol import Protocol
from ketaplan.replanning import Moved, moved_times, replan
from ketaplan.slots import Slot, SlotFinder
from ketaplan.violation import Violation

__all__ = [
    "DEFAULT_BUDGET",
    "MAX_EXTRA",
    "SEARCH_DAYS",
    "WINDOW_CODES",
    "Arrangement",
    "Budget",
    "Relocation",
    "Subject",
    "violation_keys",
]

#: Arrangements one plan's search may judge (each by at most one run of ``check``), by default.
DEFAULT_BUDGET = 400
#: At most this many later sessions move with the displaced ones.
MAX_EXTRA = 3
#: The later sessions considered for those moves: the next few after the first displaced one.
_EXTRA_CANDIDATES = 4
#: A session is tried this many days either side of its own day (and over its whole window).
SEARCH_DAYS = 4
#: The first few slots of a displaced session from which the rest of its series is re-planned.
_CASCADE_TRIES = 3
#: Runs of ``check`` the search for the fewest moves leaves to the other searches.
_RESERVE = 2 * _CASCADE_TRIES + 40
#: A session that cannot be kept in its window is tried this many days after it.
_BEYOND_DAYS = 28
#: The rules a session outside its window breaks; only these may remain in a "not kept" answer.
WINDOW_CODES = frozenset(
    {
        "gap-above-maximum",
        "outside-window",
        "week-count",
        "phase-deadline",
        "anchored-outside-window",
        "too-many-in-7-days",
    }
)

Within = Literal["window", "warned", "beyond"]
"""What a search accepts: sessions in their windows; out of them where a rule only warns (a
week short); out of them where a rule forbids it (not kept)."""

Key = tuple[str, tuple[str, ...], str]
"""A violation by code, appointments and severity (its message names dates that move)."""


def violation_keys(found: Sequence[Violation]) -> frozenset[Key]:
    """The keys of ``found``."""
    return frozenset((v.code, v.appointments, v.severity) for v in found)


def _errors(keys: frozenset[Key], *, allowing: frozenset[str] = frozenset()) -> frozenset[Key]:
    """The errors among ``keys``, but those of the codes in ``allowing``."""
    return frozenset(k for k in keys if k[2] == "error" and k[0] not in allowing)


@dataclass
class Budget:
    """How many arrangements a search may still judge (each at most one run of ``check``)."""

    left: int
    used: int = 0
    exhausted: bool = False

    def spend(self) -> bool:
        """Take one run; ``False`` when none is left."""
        if self.left <= 0:
            self.exhausted = True
            return False
        self.left -= 1
        self.used += 1
        return True


@dataclass(frozen=True)
class Subject:
    """One plan to relocate, with what it is judged against."""

    plan: Plan
    protocol: Protocol
    patient: Patient | None
    medications: MedicationRules
    clinic: Clinic
    """The clinic as changed."""
    change: CapacityChange
    now: dt.datetime
    others: list[Booking]
    """Everyone else's bookings, for a re-plan of the rest of a series."""
    checked: Ledger
    """Everyone's bookings (this plan's as it was too, which ``check`` leaves out), for
    ``check``."""
    ledger: Ledger
    """Everyone else's bookings, for the slot finder (this plan's own are added here)."""
    baseline: frozenset[Key]
    """What ``check`` said of the plan before the change."""

    @property
    def key(self) -> str:
        """Whose time the plan's bookings take (its patient, or the plan itself)."""
        return self.plan.patient or f"plan:{self.plan.id}"


@dataclass(frozen=True)
class Arrangement:
    """An answer: the moved sessions, and which of them left their windows."""

    moved: dict[str, Appointment]
    not_kept: frozenset[str] = frozenset()
    """The sessions, moved or not, that ``check`` now finds outside a window."""
    extra: frozenset[str] = frozenset()
    """The later sessions moved to keep a displaced one's chain in its windows."""


@dataclass
class Relocation:
    """The search for one plan (see the module's docstring)."""

    subject: Subject
    displaced: list[Appointment]
    budget: Budget
    finder: SlotFinder = field(init=False)
    ledger: Ledger = field(init=False)
    _held: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        subject = self.subject
        self._displaced_ids = frozenset(a.id for a in self.displaced)
        self._said: dict[tuple[_Trial, ...], frozenset[Key]] = {}
        """What check said of each arrangement judged (the searches meet the same ones)."""
        self.ledger = subject.ledger.fork()
        self.finder = SlotFinder(
            subject.clinic,
            subject.patient,
            self.ledger,
            policy=subject.protocol.calendar,
            now=subject.now,
            patient_key=subject.key,
        )

    def solve(self) -> Arrangement | None:
        """The arrangement that moves the fewest sessions, all kept in their windows.

        Else, of the arrangements that break no rule but leave windows (a week short, a phase
        past its deadline: warnings), the one that moves the fewest; else the displaced
        sessions outside their windows; else ``None``.
        """
        fewest = self._fewest(within="window", share=2)
        if fewest is not None:
            return fewest
        options = [self._fewest(within="warned", share=1), self._cascade(on_conflict="raise")]
        found = [option for option in options if option is not None]
        if found:
            return min(found, key=lambda option: len(option.moved))
        cascade = self._cascade(on_conflict="shift")
        if cascade is not None:
            return cascade
        beyond = self._arrange(self.displaced, within="beyond")
        if beyond is None:
            return None
        outside = self._outside(beyond)
        for appointment_id in outside & set(beyond):
            beyond[appointment_id] = _shifted(beyond[appointment_id])
        return Arrangement(beyond, not_kept=outside)

    def _fewest(self, *, within: Within, share: int) -> Arrangement | None:
        """The displaced sessions with the fewest others (see the module's docstring, step 1).

        It may use ``1/share`` of the budget left, and leaves :data:`_RESERVE` runs of
        ``check`` to the searches after it.
        """
        whole = self.budget
        self.budget = Budget(max(min(whole.left // share, whole.left - _RESERVE), 0))
        try:
            later = self._neighbours()
            for size in range(min(MAX_EXTRA, len(later)) + 1):
                for extra in itertools.combinations(later, size):
                    moving = sorted([*self.displaced, *extra], key=lambda a: (a.start, a.id))
                    found = self._arrange(moving, within=within)
                    if found is not None:
                        ids = frozenset(a.id for a in extra)
                        return Arrangement(found, not_kept=self._outside(found), extra=ids)
                    if self.budget.exhausted:
                        return None
            return None
        finally:
            whole.left -= self.budget.used
            whole.used += self.budget.used
            whole.exhausted = whole.exhausted or self.budget.exhausted
            self.budget = whole

    # -- the whole rest of the series, as a re-plan places it ---------------------------------

    def _cascade(self, *, on_conflict: OnConflict) -> Arrangement | None:
        """The first displaced session moved, and the rest of its series placed again.

        When the displaced sessions cannot move without more than :data:`MAX_EXTRA` later
        ones (a thrice-weekly series that loses a day), :func:`~ketaplan.replanning.replan`
        places the series again after it, as it would after a move by request. Each of the
        first few slots is tried; the answer that moves the fewest sessions is kept. With
        ``on_conflict="shift"``, sessions may land outside their windows (not kept).
        """
        first = min(self.displaced, key=lambda a: (a.start, a.id))
        best: Arrangement | None = None
        self._arrange_ledger(first)
        try:
            slots = self._slots(first, within="beyond" if on_conflict == "shift" else "window")
        finally:
            self._release()
        for slot in slots[:_CASCADE_TRIES]:
            if not self.budget.spend():
                break
            found = self._replanned(first, slot, on_conflict=on_conflict)
            if found is not None and (best is None or len(found.moved) < len(best.moved)):
                best = found
        return best

    def _replanned(
        self, first: Appointment, slot: Slot, *, on_conflict: OnConflict
    ) -> Arrangement | None:
        """The re-plan after moving ``first`` to ``slot``, as moves; ``None`` if it fails."""
        subject = self.subject
        plan = subject.plan
        event = Moved(appointment=first.id, to=slot.start)
        try:
            after = replan(plan, as_of=subject.now, events=[event], protocol=subject.protocol,
                           clinic=subject.clinic, patient=subject.patient,
                           bookings=subject.others, on_conflict=on_conflict)  # fmt: skip
        except UnsatisfiableError:
            return None
        before = {a.id: a for a in plan.appointments}
        again = {a.id: a for a in after.appointments}
        if set(again) != set(before) or any(again[i].status != a.status for i, a in before.items()):
            return None  # the re-plan added or cancelled sessions: not a matter of moves
        what = subject.change.describe()
        placed = {
            i: self._moved(a, again[i].start, _units(again[i]), extra=False)
            if i == first.id
            else again[i].model_copy(update={"booked_at": subject.now, "revision": a.revision,
                "reason": f"moved so its series still holds ({what}): {again[i].reason}"})
            for i, a in before.items()
            if (again[i].start, _units(again[i])) != (a.start, _units(a))
        }  # fmt: skip
        allowing = WINDOW_CODES if on_conflict == "shift" else frozenset()
        if _errors(self._new(placed), allowing=allowing) or first.id not in placed:
            return None
        extra = frozenset(placed) - self._displaced_ids
        return Arrangement(placed, not_kept=self._outside(placed), extra=extra)

    def _neighbours(self) -> list[Appointment]:
        """The plan's sessions that may move with the displaced ones, nearest first.

        A displaced session's own anchored sessions (a review after its dose) come first, then
        the sessions still to come nearest in time to a displaced one, before or after it.
        """
        taken = {a.id for a in self.displaced}
        movable = [
            a
            for a in self.subject.plan.appointments
            if a.status == "planned" and a.start >= self.subject.now and a.id not in taken
        ]
        anchored = [a for a in movable if a.anchor in taken]
        others = [a for a in movable if a not in anchored]
        others.sort(key=lambda a: (min(abs(a.start - d.start) for d in self.displaced), a.id))
        return (anchored + others)[:_EXTRA_CANDIDATES]

    # -- the depth-first search --------------------------------------------------------------

    def _arrange(
        self, moving: list[Appointment], *, within: Within
    ) -> dict[str, Appointment] | None:
        """New places for ``moving`` (in time order), or ``None`` within the budget."""
        self._arrange_ledger(*moving)
        try:
            return self._place(moving, 0, {}, within=within)
        finally:
            self._release()

    def _arrange_ledger(self, *moving: Appointment) -> None:
        """Book the plan's sessions but ``moving``, which hold their places (:meth:`_release`)."""
        ids = {a.id for a in moving}
        self._held = 0
        for appointment in self.subject.plan.appointments:
            if appointment.is_active and appointment.id not in ids:
                self._held += self._book(appointment)

    def _release(self) -> None:
        for _ in range(self._held):
            self.ledger.drop_last()
        self._held = 0

    def _place(
        self,
        moving: list[Appointment],
        depth: int,
        placed: dict[str, Appointment],
        *,
        within: Within,
    ) -> dict[str, Appointment] | None:
        if depth == len(moving):
            return dict(placed)
        session = moving[depth]
        low, high = self._between(session, moving, placed)
        for slot in self._slots(session, within=within):
            if not low < slot.start < high:
                continue  # a session keeps its place in the series
            extra = session.id not in self._displaced_ids
            moved = self._moved(session, slot.start, _slot_units(slot), extra=extra)
            placed[session.id] = moved
            verdict = self._judge(moving, placed, final=depth + 1 == len(moving), within=within)
            if verdict == "good":
                added = self._book(moved)
                found = self._place(moving, depth + 1, placed, within=within)
                for _ in range(added):
                    self.ledger.drop_last()
                if found is not None:
                    return found
            del placed[session.id]
            if verdict == "spent":
                return None
        return None

    def _between(
        self, session: Appointment, moving: list[Appointment], placed: dict[str, Appointment]
    ) -> tuple[dt.datetime, dt.datetime]:
        """The starts of the series sessions before and after ``session``, as they stand.

        A later session that is moving too is not a bound: it is placed after this one.
        """
        never = (dt.datetime.min.replace(tzinfo=dt.UTC), dt.datetime.max.replace(tzinfo=dt.UTC))
        if session.anchored is not None:
            return never  # an anchored session follows its anchor, as check judges it
        series = [a for a in self.subject.plan.appointments
                  if a.anchored is None and (a.is_active or a.id == session.id)]  # fmt: skip
        series.sort(key=lambda a: (a.start, a.id))
        place = next(n for n, a in enumerate(series) if a.id == session.id)
        low, high = never
        if place > 0:
            before = series[place - 1]
            low = placed.get(before.id, before).start
        waiting = {a.id for a in moving}
        if place + 1 < len(series) and series[place + 1].id not in waiting:
            high = series[place + 1].start
        return low, high

    def _slots(self, session: Appointment, *, within: Within) -> list[Slot]:
        """The slots to try for ``session``: one per day, nearest its own day first."""
        today = self.subject.now.astimezone(session.local_start.tzinfo).date()
        day = session.local_date
        first = min(session.earliest or day, day - dt.timedelta(days=SEARCH_DAYS))
        last = max(session.latest or day, day + dt.timedelta(days=SEARCH_DAYS))
        if within == "beyond":
            last += dt.timedelta(days=_BEYOND_DAYS)
        first = max(first, today, self.subject.plan.start)
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        days.sort(key=lambda d: (abs((d - day).days), d))
        kind = self.subject.protocol.session_kind(session.session)
        units = _units(session)
        found = []
        for candidate in days:
            slot, _ = self.finder.best(kind, candidate, preferred_time=session.local_start.time())
            if slot is None:
                continue
            same_place = slot.start == session.start
            if same_place and (session.id not in self._displaced_ids or _slot_units(slot) == units):
                continue  # no change at all, or a later session given another chair for nothing
            found.append(slot)
        return found

    def _judge(
        self, moving: list[Appointment], placed: dict[str, Appointment], *, final: bool,
        within: Within,
    ) -> str:  # fmt: skip
        """``good`` to go on, ``bad`` to try another slot, ``spent`` when the budget is out."""
        if not self.budget.spend():
            return "spent"
        said = self._new(placed)
        if within == "beyond":
            new = _errors(said, allowing=WINDOW_CODES)
        elif within == "warned":
            new = _errors(said)
        else:  # in their windows: no new error, and no window left even where it only warns
            new = _errors(said) | {key for key in said if key[0] in WINDOW_CODES}
        if final:
            return "bad" if new else "good"
        waiting = {a.id for a in moving if a.id not in placed}
        settled = [key for key in new if key[1] and not waiting & set(key[1])]
        return "bad" if settled else "good"

    def _new(self, placed: dict[str, Appointment]) -> frozenset[Key]:
        """What ``check`` says of the plan with ``placed`` that it did not say before.

        An arrangement judged before is answered from :attr:`_said`: ``check`` says the same of
        the same plan (the budget still counts it, so the searches go as far as before).
        """
        key = tuple(sorted(_trial(a) for a in placed.values()))
        said = self._said.get(key)
        if said is not None:
            return said
        subject = self.subject
        items = sorted((placed.get(a.id, a) for a in subject.plan.appointments),
                       key=lambda a: (a.start, a.id))  # fmt: skip
        trial = subject.plan.model_copy(update={"appointments": tuple(items)})
        found = check_trial(  # a trial's words are written once the moves are chosen
            trial,
            protocol=subject.protocol,
            clinic=subject.clinic,
            patient=subject.patient,
            bookings=subject.checked,
            now=subject.now,
        )
        said = self._said[key] = violation_keys(found) - subject.baseline
        return said

    def _book(self, appointment: Appointment) -> int:
        """Add what ``appointment`` occupies to the search's ledger; how many bookings."""
        plan = self.subject.plan
        made = bookings_of(appointment, patient=self.subject.key, plan=plan.id)
        for booking in made:
            self.ledger.add(booking)
        return len(made)

    def _moved(
        self,
        session: Appointment,
        start: dt.datetime,
        units: dict[ResourceKind, int | None],
        *,
        extra: bool,
    ) -> Appointment:
        """``session`` moved to ``start`` (on ``units``): reason, booking moment, instructions."""
        subject = self.subject
        kind = subject.protocol.session_kind(session.session)
        what = subject.change.describe()
        cause = f"moved so its window still holds ({what})" if extra else f"moved ({what})"
        times = moved_times(session, start, kind, units=units, cause=cause)
        moved = session.model_copy(update={**times, "booked_at": subject.now, "shift": None})
        instructions = instructions_for(moved, kind, subject.protocol, patient=subject.patient,
                                        medications=subject.medications)  # fmt: skip
        return moved.model_copy(update={"instructions": instructions})

    def _outside(self, moved: dict[str, Appointment]) -> frozenset[str]:
        """The sessions ``check`` now finds outside a window (an error or a warning).

        Moved or not: a session that stays may lose its week's count when others move. Only
        the session a finding judged (named last, :attr:`Violation.appointments`) is outside
        its window, not the sessions it was judged against.
        """
        self.budget.used += 1
        new = self._new(moved)
        return frozenset(ids[-1] for code, ids, _ in new if code in WINDOW_CODES and ids)


_Trial = tuple[str, float, float, Appointment]


def _trial(appointment: Appointment) -> _Trial:
    """What identifies a moved session in a trial: its id, its instants, all it holds.

    The instants too: two starts in the hour repeated in autumn compare equal as datetimes.
    """
    return appointment.id, appointment.start.timestamp(), appointment.end.timestamp(), appointment


def _units(appointment: Appointment) -> dict[ResourceKind, int | None]:
    return {span.resource: span.unit for span in appointment.resources}


def _slot_units(slot: Slot) -> dict[ResourceKind, int | None]:
    return {span.resource: span.unit for span in slot.spans}


def _shifted(appointment: Appointment) -> Appointment:
    """``appointment`` with a :class:`Shift` record when its day is outside its window."""
    earliest, latest, day = appointment.earliest, appointment.latest, appointment.local_date
    if earliest is None or latest is None or earliest <= day <= latest:
        return appointment
    outside = (day - latest).days if day > latest else (earliest - day).days
    away = quantity(outside, "day")
    text = (f"{appointment.id} on {day}, {away} outside its window {earliest} to "
            f"{latest}: a clinic capacity change left no place inside it")  # fmt: skip
    record = Shift(earliest=earliest, latest=latest, days_outside=outside, text=text)
    return appointment.model_copy(update={"shift": record})
