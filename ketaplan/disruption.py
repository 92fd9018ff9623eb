"""Disruption re-planning: the clinic closes a day, a chair is out, a staff member is absent.

:func:`replan_disruption` takes the clinic's plans and one dated
:class:`~ketaplan.clinic.CapacityChange`, and moves as few sessions as it can so that every plan
keeps every rule under the changed capacity, counting everyone's bookings:

1. A plan with no session on the changed days is kept as it is, and so is a plan whose
   sessions there still fit (``check`` against the changed clinic finds no new error).
2. A session that cannot stay (the day is closed, no prescriber, its chair is out of service,
   more patients than the remaining staff can watch) is *displaced*. Sessions that must move
   whatever the others do (a closed day) go first, earliest first; where only one of several
   sessions must give way (too few staff for all), each candidate plan's move is tried and the
   one that moves fewest sessions is taken.
3. Each plan's displaced sessions get new places by the search of :mod:`ketaplan._relocation`:
   alone first, then with the fewest later sessions their windows need, each change checked
   by ``check``. A session is moved to the same time on another chair when one is free.
4. A session no place inside its window can take is placed at the nearest place outside it,
   recorded as shifted (``Appointment.shift``) and reported as *not kept*, for a clinician to
   decide; one with no place at all stays where it was, reported, and ``check`` still shows
   the problem. Nothing is dropped.

Attended, missed, cancelled and past sessions never move. Every moved session gets a higher
revision, a reason naming the change, and a line of the plan's history.

Work is bounded: at most :data:`~ketaplan._relocation.DEFAULT_BUDGET` runs of ``check`` per
plan (``budget``), and at most :data:`MAX_CHOICES` plans compared when choosing who gives way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal, NamedTuple

from pydantic import Field

from ketaplan._model import AnyMoment, Model, Ref, Text, aware, expect, expect_each
from ketaplan._relocation import (
    DEFAULT_BUDGET,
    Arrangement,
    Budget,
    Key,
    Relocation,
    Subject,
    violation_keys,
)
from ketaplan._resolve import by_id, plan_clinic, plan_protocol
from ketaplan.bookings import Booking
from ketaplan.checking import check_trial
from ketaplan.clinic import CapacityChange, Clinic
from ketaplan.errors import DefinitionError, InputError, LimitError
from ketaplan.instructions import Visits, current_instructions, tasks_for
from ketaplan.ledger import Ledger, booking_list
from ketaplan.medications import medication_rules
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Plan
from ketaplan.protocol import Protocol
from ketaplan.replanning import with_revision

__all__ = [
    "MAX_BUDGET",
    "MAX_CHOICES",
    "MAX_PLANS",
    "Begun",
    "Cause",
    "Disrupted",
    "DisruptionReport",
    "Move",
    "replan_disruption",
]

#: The largest ``budget`` of ``check`` runs per plan.
MAX_BUDGET = 100_000
#: At most this many plans at once.
MAX_PLANS = 10_000
#: Where one of several sessions must give way, at most this many plans are compared.
MAX_CHOICES = 8
#: The rules that judge sessions against each other's resources: one of several may give way.
_SHARED = frozenset({"over-capacity", "chair-buffer"})


Cause = Literal["displaced", "knock-on", "stays"]
"""Why a session is in the report: displaced by the change; moved with a displaced one to keep
its series in its windows; or not moved, but out of its window now that others moved (a week
one session short)."""


class Move(Model):
    """One session a disruption moved (or could not)."""

    plan: Ref
    patient: Ref | None
    appointment: Ref
    before: AnyMoment
    after: AnyMoment | None
    """Its new start; ``None`` when no place was found (it stays, and ``check`` says why)."""
    before_unit: int | None = None
    """Its chair or room before, if it had one."""
    after_unit: int | None = None
    cause: Cause
    kept_in_window: bool
    """Whether it is still inside the window its rule gives."""


class Begun(Model):
    """A session on the changed days that had begun by ``now``: not moved, to be recorded."""

    plan: Ref
    patient: Ref | None
    appointment: Ref
    start: AnyMoment


class DisruptionReport(Model):
    """What a disruption changed: who moved where, and who could not be kept."""

    change: CapacityChange
    moves: tuple[Move, ...] = ()
    plans_affected: Annotated[int, Field(ge=0)] = 0
    """Plans with a session still to come on the changed days."""
    evaluations: Annotated[int, Field(ge=0)] = 0
    """Arrangements the search judged (the measure of its work): each by one run of ``check``,
    or from memory when it was judged before."""
    budget_exhausted: tuple[Text, ...] = ()
    """Plans whose search ran out of budget: their answer may move more than needed."""
    begun: tuple[Begun, ...] = ()
    """Sessions on the changed days that had begun by ``now``, still planned: nothing before
    ``now`` moves, so what happened to each is for a person to record (attended, missed or
    cancelled)."""

    @property
    def not_kept(self) -> tuple[Move, ...]:
        """The sessions that could not be kept in their windows (or placed at all)."""
        return tuple(m for m in self.moves if not m.kept_in_window or m.after is None)


class Disrupted(NamedTuple):
    """The plans after a disruption (in the order given) and the report."""

    plans: tuple[Plan, ...]
    report: DisruptionReport


def replan_disruption(
    plans: Sequence[Plan],
    /,
    *,
    clinic: Clinic,
    change: CapacityChange,
    now: dt.datetime,
    protocols: Iterable[Protocol] = (),
    patients: Iterable[Patient] = (),
    bookings: Iterable[Booking] = (),
    budget: int = DEFAULT_BUDGET,
) -> Disrupted:
    """Re-plan the clinic's plans around ``change``, moving as few sessions as it can.

    Args:
        plans: every plan of the clinic (sessions of plans left out are not seen).
        clinic: the clinic as it was; the result's plans are judged against it with ``change``
            added to its ``capacity_changes``.
        change: the closure, chair or room out of service, or staff absence.
        now: nothing before it moves, and nothing is placed before it.
        protocols: the plans' protocols, when not built in.
        patients: the plans' patients (required for plans that name one).
        bookings: the clinic's other bookings (not of these plans).
        budget: arrangements each plan's search may judge (1 to 100,000), each by one run of
            ``check`` (one judged before is answered from memory).

    See the module's docstring for how sessions are chosen and what is reported.
    """
    now = aware("now", now)
    changed = _changed(clinic, change)
    items = _plans(plans)
    if not isinstance(budget, int) or isinstance(budget, bool) or not 1 <= budget <= MAX_BUDGET:
        raise InputError("budget", f"a whole number from 1 to {MAX_BUDGET}", budget)
    board = _Board(items, clinic=clinic, changed=changed, change=change, now=now,
                   protocols=expect_each("protocols", protocols, Protocol, "a Protocol"),
                   patients=expect_each("patients", patients, Patient, "a Patient"),
                   bookings=booking_list("bookings", bookings, ledger=False))  # fmt: skip
    report = board.run(budget)
    return Disrupted(tuple(board.plans[p.id] for p in items), report)


def _changed(clinic: Clinic, change: CapacityChange) -> Clinic:
    """The clinic with ``change`` among its capacity changes, validated as a clinic is."""
    expect("clinic", clinic, Clinic, "a Clinic")
    expect("change", change, CapacityChange, "a CapacityChange")
    data = clinic.model_dump()
    data["capacity_changes"] = [*data["capacity_changes"], change.model_dump()]
    try:
        return Clinic.model_validate(data)
    except DefinitionError as err:
        problem = err.problems[0]
        field = problem.path.replace(f"capacity_changes[{len(clinic.capacity_changes)}]", "change")
        expected = problem.message.removeprefix("must be ")
        raise InputError(field, expected, problem.value) from err


def _plans(plans: object) -> list[Plan]:
    if isinstance(plans, str | bytes) or not isinstance(plans, Sequence):
        raise InputError("plans", "a list of Plan", plans)
    if len(plans) > MAX_PLANS:
        raise LimitError("plans", f"at most {MAX_PLANS} plans", len(plans))
    for index, item in enumerate(plans):
        expect(f"plans[{index}]", item, Plan, "a Plan")
    ids = [p.id for p in plans]
    if len(set(ids)) != len(ids):
        twice = next(i for i in ids if ids.count(i) > 1)
        raise InputError("plans", "plans with distinct ids", twice)
    return list(plans)


class _Board:
    """The clinic's plans as they stand during a disruption re-plan, and their bookings."""

    def __init__(
        self,
        plans: list[Plan],
        *,
        clinic: Clinic,
        changed: Clinic,
        change: CapacityChange,
        now: dt.datetime,
        protocols: Iterable[Protocol],
        patients: Iterable[Patient],
        bookings: Iterable[Booking],
    ) -> None:
        self.before, self.clinic, self.change, self.now = clinic, changed, change, now
        by_id("plans", plans, lambda p: p.id, each="plan")
        protocols_by_id = by_id(
            "protocols", protocols, lambda p: p.id, each="protocol", copies=True
        )
        people = by_id("patients", patients, lambda p: p.id, each="patient", copies=True)
        self.context: dict[str, tuple[Protocol, Patient | None]] = {}
        self.plans: dict[str, Plan] = {}
        for given in plans:
            plan_clinic(given, clinic, clinic_is="required")
            who = people.get(given.patient) if given.patient else None
            found = protocols_by_id.get(given.protocol)
            # Its times as its protocol gives them from each start (clinic software may have
            # moved a start and end only): what it books and what is judged.
            item, protocol = plan_protocol(given, found, who, patient_is="required")
            self.plans[item.id] = item
            self.context[item.id] = (protocol, who)
        plans = list(self.plans.values())
        self.affected = [p.id for p in plans if self._on_changed_days(p)]
        ids = set(self.plans)
        external = [b for b in bookings if b.plan not in ids]
        fixed = external + [b for p in plans if p.id not in self.affected for b in p.bookings()]
        self.fixed = fixed
        self.ledger = Ledger(changed, fixed)
        self._booked: dict[str, tuple[Plan, tuple[Booking, ...]]] = {}
        self._everyone: dict[bool, Ledger] = {}
        self.baseline = {i: self._said(i, self.before) for i in self.affected}
        self.moves: list[Move] = []
        self.evaluations = 0
        self.exhausted: list[str] = []
        self.done: set[str] = set()

    def _on_changed_days(self, plan: Plan) -> bool:
        first, last = self.change.start, self.change.last
        return any(a.status == "planned" and a.start >= self.now and first <= a.local_date <= last
                   for a in plan.appointments)  # fmt: skip

    def others(self, plan_id: str) -> list[Booking]:
        """Everyone's bookings but ``plan_id``'s, as they stand."""
        moving = [b for i in self.affected if i != plan_id for b in self.bookings(i)]
        return [b for b in self.fixed if b.plan != plan_id] + moving

    def bookings(self, plan_id: str) -> tuple[Booking, ...]:
        """The bookings of ``plan_id`` as it stands (made once for each version of the plan)."""
        plan = self.plans[plan_id]
        kept = self._booked.get(plan_id)
        if kept is None or kept[0] is not plan:
            kept = self._booked[plan_id] = (plan, plan.bookings())
        return kept[1]

    def everyone(self, clinic: Clinic) -> Ledger:
        """Everyone's bookings as they stand, indexed for ``check`` against ``clinic``.

        ``check`` leaves out the bookings of the plan it checks (by plan id), so one ledger
        serves every plan's check until a plan is settled (:meth:`_settle`).
        """
        before = clinic is self.before
        found = self._everyone.get(before)
        if found is None:
            moving = [b for i in self.affected for b in self.bookings(i)]
            found = Ledger(clinic, [*self.fixed, *moving], units="as-given")
            self._everyone[before] = found
        return found

    def _said(self, plan_id: str, clinic: Clinic) -> frozenset[Key]:
        """What ``check`` says of the plan as it stands, against ``clinic``.

        The patient's words are left out: those of moved sessions are written at the end.
        """
        protocol, patient = self.context[plan_id]
        found = check_trial(
            self.plans[plan_id],
            protocol=protocol,
            clinic=clinic,
            patient=patient,
            bookings=self.everyone(clinic),
            now=self.now,
        )
        return violation_keys(found)

    def displaced(self, plan_id: str) -> tuple[list[Appointment], bool]:
        """The sessions of ``plan_id`` that cannot stay, and whether they must move.

        They must when a rule other than a shared resource's is broken (a closed day): then
        they move whatever the other plans do.
        """
        said = self._said(plan_id, self.clinic) - self.baseline[plan_id]
        new = {(code, ids) for code, ids, severity in said if severity == "error"}
        named = {i for _, ids in new for i in ids}
        plan = self.plans[plan_id]
        found = [a for a in plan.appointments
                 if a.id in named and a.status == "planned" and a.start >= self.now]  # fmt: skip
        forced = any(code not in _SHARED for code, _ in new)
        return found, forced

    def run(self, budget: int) -> DisruptionReport:
        """Relocate the displaced sessions, one plan at a time (see the module's docstring)."""
        for _ in range(len(self.affected)):  # each round settles one plan
            pending = [(i, *self.displaced(i)) for i in self.affected if i not in self.done]
            pending = [(i, found, forced) for i, found, forced in pending if found]
            if not pending:
                break
            pending.sort(key=lambda item: (not item[2], min(a.start for a in item[1]), item[0]))
            plan_id, found, forced = pending[0]
            if forced:
                self._settle(plan_id, self._relocate(plan_id, found, budget))
                continue
            tried = [(i, self._relocate(i, d, budget)) for i, d, _ in pending[:MAX_CHOICES]]
            self._settle(*min(tried, key=lambda item: _cost(item[1])))
        return DisruptionReport(change=self.change, moves=tuple(self.moves),
                                plans_affected=len(self.affected), evaluations=self.evaluations,
                                budget_exhausted=tuple(self.exhausted),
                                begun=self._begun())  # fmt: skip

    def _begun(self) -> tuple[Begun, ...]:
        """The planned sessions on the changed days that began before ``now`` (not moved)."""
        first, last = self.change.start, self.change.last
        return tuple(
            Begun(plan=plan.id, patient=plan.patient, appointment=a.id, start=a.start)
            for plan in self.plans.values()
            for a in plan.appointments
            if a.status == "planned" and a.start < self.now and first <= a.local_date <= last
        )

    def _relocate(self, plan_id: str, displaced: list[Appointment], budget: int) -> _Outcome:
        protocol, patient = self.context[plan_id]
        subject = Subject(
            plan=self.plans[plan_id],
            protocol=protocol,
            patient=patient,
            medications=medication_rules(protocol, self.clinic),
            clinic=self.clinic,
            change=self.change,
            now=self.now,
            others=self.others(plan_id),
            checked=self.everyone(self.clinic),
            ledger=self._ledger(plan_id),
            baseline=self.baseline[plan_id],
        )
        spent = Budget(budget)
        found = Relocation(subject, displaced, spent).solve()
        self.evaluations += spent.used
        return _Outcome(subject, displaced, found, spent.exhausted)

    def _ledger(self, plan_id: str) -> Ledger:
        ledger = self.ledger.fork()
        for other in self.affected:
            if other != plan_id:
                for booking in self.bookings(other):
                    ledger.add(booking)
        return ledger

    def _settle(self, plan_id: str, outcome: _Outcome) -> None:
        """Record ``outcome`` in the plan and the report."""
        self.done.add(plan_id)
        self._everyone.clear()  # the plan's bookings change
        if outcome.exhausted:
            self.exhausted.append(plan_id)
        plan = self.plans[plan_id]
        moves = _moves(plan, outcome)
        self.moves += moves
        self.plans[plan_id] = _recorded(plan, outcome, moves, now=self.now)


class _Outcome(NamedTuple):
    subject: Subject
    displaced: list[Appointment]
    found: Arrangement | None
    exhausted: bool


def _cost(outcome: _Outcome) -> tuple[int, int, int]:
    """Fewest sessions not kept, then fewest moved, then the cheaper search."""
    found = outcome.found
    if found is None:
        return (len(outcome.displaced) + 1, 0, 0)
    return (len(found.not_kept), len(found.moved), 0)


def _moves(plan: Plan, outcome: _Outcome) -> list[Move]:
    """What the report says of one plan: each session moved, or not kept where it is."""
    found = outcome.found
    placed = found.moved if found is not None else {}
    outside = found.not_kept if found is not None else frozenset()
    named = {a.id for a in outcome.displaced} | set(placed) | outside
    moves = []
    for before in (a for a in plan.appointments if a.id in named):
        after = placed.get(before.id, before if before.id in outside else None)
        cause: Cause = "displaced"
        if found is not None and before.id in found.extra:
            cause = "knock-on"
        elif before.id not in placed and after is not None:
            cause = "stays"
        moves.append(
            Move(
                plan=plan.id,
                patient=plan.patient,
                appointment=before.id,
                before=before.start,
                after=after.start if after is not None else None,
                before_unit=_unit(before),
                after_unit=_unit(after) if after is not None else None,
                cause=cause,
                kept_in_window=found is not None and before.id not in outside,
            )
        )
    return sorted(moves, key=lambda m: (m.before, m.appointment))


def _unit(appointment: Appointment) -> int | None:
    return next((s.unit for s in appointment.resources if s.unit is not None), None)


def _recorded(plan: Plan, outcome: _Outcome, moves: list[Move], *, now: dt.datetime) -> Plan:
    """The plan with its moves, a higher revision, its tasks again, history and notes."""
    subject = outcome.subject
    what = subject.change.describe()
    stamp = f"{now:%Y-%m-%d %H:%M %Z}"
    placed = outcome.found.moved if outcome.found is not None else {}
    after = [placed.get(a.id, a) for a in plan.appointments]
    visits = Visits(after)  # the ride home waits for the visit as it now is
    appointments = tuple(
        with_revision(
            before,
            current_instructions(later, subject.protocol, patient=subject.patient,
                                 medications=subject.medications, visit=visits, since=now),
        )
        for before, later in zip(plan.appointments, after, strict=True)
    )  # fmt: skip
    appointments = tuple(sorted(appointments, key=lambda a: (a.start, a.id)))
    history, notes = [], []
    for move in moves:
        if move.after is None:
            line = f"{move.appointment} could not be placed after the change ({what})"
            notes.append(f"{line}: it stays on {move.before:%Y-%m-%d}; a clinician should decide")
        elif move.cause == "stays":
            notes.append(f"{move.appointment} stays but could not be kept in its window after "
                         f"the change ({what}); a clinician should decide")  # fmt: skip
            continue
        else:
            line = (
                f"{move.appointment} moved from {move.before.isoformat()} to "
                f"{move.after.isoformat()} ({what})"
            )
            if not move.kept_in_window:
                notes.append(f"{move.appointment} could not be kept in its window after the "
                             f"change ({what}); a clinician should decide")  # fmt: skip
        history.append(f"{stamp}: {line}")
    tasks, _ = tasks_for(subject.protocol, appointments, clinic=subject.clinic,
                         patient=subject.patient, medications=subject.medications,
                         proposals=plan.proposals)  # fmt: skip
    return plan.model_copy(
        update={
            "revision": plan.revision + 1,
            "appointments": appointments,
            "tasks": tasks,
            "history": tuple(dict.fromkeys((*plan.history, *history))),
            "notes": tuple(dict.fromkeys((*plan.notes, *notes))),
        }
    )
