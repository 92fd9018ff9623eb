"""Placing many patients into one clinic: as many as fit within their start windows.

:func:`plan_many` takes :class:`PlacementRequest` s (a patient, a protocol, a requested start and a
start window) and returns one :class:`Placement` per request: a plan, or why there is none.
Every plan is made by :func:`~ketaplan.planner.plan` into a ledger holding the given bookings
and every other plan returned, so each keeps every rule a single plan keeps and ``check``
accepts it against all the others.

The objective (``objective=``):

- ``"most-served"`` (the default): serve as many patients as possible within their start
  windows; then start them early, each session near its target (the planner's own order).
- ``"in-order"``: first come, first served. Each patient, in the order given, takes the first
  start at which the whole series fits around everyone before it
  (:func:`~ketaplan.intake.first_available`), and a later patient never displaces an earlier
  one. This is one-by-one placement, and the baseline ``"most-served"`` improves on.

The back-ends (``backend=``):

- ``"local"`` (the default, pure Python): one-by-one placement in the order given; then, while
  anyone is left waiting, passes in which each later session aims for the least busy open day
  its window allows (a hint to the planner, which keeps every rule), in the order given, the
  most constrained first (the earliest end of the start window) and a shuffled order
  (``seed``), keeping the best; then a repair that lets each patient not served in by taking
  out one, two, then four served patients whose plans lie nearest its window, placing it, and
  placing them again, kept when all fit. It never serves fewer patients than one-by-one
  placement on the same input. Its work is bounded: at most three passes of one placement
  per patient, then ``tries`` repair placements; each placement is a
  :func:`~ketaplan.intake.earliest_starts` search (itself bounded) and at most one plan aimed
  at the least busy days. Within a pass, and within a repair attempt, the ledger only gains
  bookings, so a first day on which a series did not fit is not planned again for a request
  alike.
- ``"cp-sat"``: an exact model solved by OR-Tools CP-SAT (the optional extra
  ``ketaplan[solver]``), for the protocols it supports, started from the local search's
  placement and bounded by ``time_limit``; see :mod:`ketaplan._cpsat` and :func:`solved`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Literal, NamedTuple

from pydantic import Field

from ketaplan._model import AnyDay, Model, Ref, Text, TimeOfDay, aware, choice, expect
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError, LimitError, UnsatisfiableError
from ketaplan.intake import NoStartError, earliest_starts
from ketaplan.ledger import Ledger, bookings_argument
from ketaplan.openings import ClinicCalendar
from ketaplan.patient import Patient
from ketaplan.planner import plan
from ketaplan.plans import Plan
from ketaplan.protocol import Protocol
from ketaplan.rules.windows import MAX_START_WINDOW_DAYS
from ketaplan.timing import current_time

if TYPE_CHECKING:
    from ketaplan._cpsat import SolverAnswer

__all__ = [
    "DEFAULT_TRIES",
    "MAX_REQUESTS",
    "MAX_TRIES",
    "Backend",
    "Objective",
    "Placement",
    "PlacementRequest",
    "plan_many",
]

Backend = Literal["local", "cp-sat"]
"""How :func:`plan_many` searches: pure Python (``local``) or OR-Tools CP-SAT (``cp-sat``)."""
Objective = Literal["most-served", "in-order"]
"""What :func:`plan_many` aims for: the most patients served, or first come, first served."""

#: At most this many requests at once: 2,000 patients take about 35 s on a 2-CPU machine
#: (``benchmarks``, ``plan_clinic``), and the time grows with the number placed.
MAX_REQUESTS = 2_000
#: The local search's default budget of repair placements (after its passes).
DEFAULT_TRIES = 60
#: The largest budget ``tries`` may give.
MAX_TRIES = 100_000
#: The solver's time limit in seconds unless ``time_limit`` gives one.
_DEFAULT_TIME_LIMIT = 10.0
#: How many other patients the repair takes out at once to let a patient in, in turn.
_GROUPS = (1, 2, 4)


class PlacementRequest(Model):
    """One patient to place: who, what, from when, and how long the first session may wait."""

    patient: Patient
    protocol: Protocol
    start: AnyDay
    """The first day the series may start."""
    start_window_days: Annotated[int, Field(ge=0, le=MAX_START_WINDOW_DAYS)] | None = None
    """The first session falls at most this many days after ``start``; omitted, any day up
    to the clinic's booking horizon."""
    time: TimeOfDay | None = None
    """The preferred local time of day."""

    @property
    def last_start(self) -> dt.date | None:
        """The last day the first session may fall on (``None``: the booking horizon)."""
        if self.start_window_days is None:
            return None
        return self.start + dt.timedelta(days=self.start_window_days)


class Placement(Model):
    """What became of one request: a plan, or why there is none."""

    patient: Ref
    plan: Plan | None = None
    reason: Text | None = None
    blocked: dict[Ref, int] = Field(default_factory=dict)
    """Without a plan: each reason that blocked candidate first days, with how many
    (:attr:`NoStartError.reasons <ketaplan.intake.NoStartError.reasons>`)."""


class Refusal(NamedTuple):
    """Why a request has no plan: the first line of the error, and what blocked its days."""

    reason: str
    blocked: dict[str, int]


@dataclasses.dataclass(frozen=True)
class _Setup:
    """What every placement of one :func:`plan_many` call shares."""

    requests: tuple[PlacementRequest, ...]
    clinic: Clinic
    base: tuple[Booking, ...]
    now: dt.datetime
    alike: tuple[str, ...]
    """By request: what makes requests alike for :func:`place_one`'s memo (the protocol, the
    patient but for the id unless the bookings given hold the patient's, the preferred time)."""


@dataclasses.dataclass
class _Outcome:
    """A placement of every request: plans (with their bookings) and reasons, by index."""

    plans: dict[int, tuple[Plan, tuple[Booking, ...]]] = dataclasses.field(default_factory=dict)
    reasons: dict[int, Refusal] = dataclasses.field(default_factory=dict)

    def score(self, setup: _Setup) -> tuple[int, int]:
        """Patients served, then (negated) the days their first sessions wait."""
        waited = sum(
            (made.appointments[0].local_date - setup.requests[index].start).days
            for index, (made, _) in self.plans.items()
        )
        return len(self.plans), -waited

    def load(self, *, leaving: Sequence[int] = ()) -> Counter[dt.date]:
        """How many sessions each day has, but ``leaving``'s."""
        return Counter(
            a.local_date
            for index, (made, _) in self.plans.items()
            if index not in leaving
            for a in made.appointments
        )

    def bookings(self, setup: _Setup, *, leaving: Sequence[int] = ()) -> list[Booking]:
        """The given bookings and every plan's, but ``leaving``'s."""
        found = list(setup.base)
        for index, (_, booked) in self.plans.items():
            if index not in leaving:
                found.extend(booked)
        return found


def plan_many(
    requests: Iterable[PlacementRequest],
    clinic: Clinic,
    /,
    *,
    bookings: Iterable[Booking] | Ledger = (),
    objective: Objective = "most-served",
    backend: Backend = "local",
    seed: int | None = None,
    tries: int | None = None,
    time_limit: float | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Placement]:
    """Place every request into ``clinic``: one :class:`Placement` per request, in order.

    Args:
        requests: the patients to place (patient ids must differ); the order is the order of
            one-by-one placement (first come, first served).
        clinic: the clinic they are placed into.
        bookings: the clinic's other bookings (plans already made): never moved.
        objective: ``"most-served"`` (default) or ``"in-order"``; see the module.
        backend: ``"local"`` (default) or ``"cp-sat"`` (needs ``ketaplan[solver]``), for
            ``"most-served"``: ``"in-order"`` places one by one, with no search.
        seed: the seed of the local search's shuffled orders and of the solver (default 0);
            not for ``"in-order"``.
        tries: the local search's budget of repair placements after its passes (0 to
            :data:`MAX_TRIES`, default :data:`DEFAULT_TRIES`; with ``cp-sat``, of the local
            search it starts from); not for ``"in-order"``.
        time_limit: the solver's time limit in seconds (default 10; ``cp-sat`` only).
        now: the moment of planning, as for ``plan``.
        progress: called with (done, total) as the first pass places each patient.

    Raises:
        InputError: a request that is not a :class:`PlacementRequest`, two requests for one patient,
            an option out of range, or an option the objective or back-end does not use
            (``time_limit`` without ``cp-sat``; ``seed``, ``tries`` or ``cp-sat`` with
            ``"in-order"``): it would change nothing.
        MissingExtraError: ``backend="cp-sat"`` without the extra ``ketaplan[solver]``.
    """
    setup = prepare(requests, clinic, bookings, now)
    _check_options(objective=objective, backend=backend, seed=seed, tries=tries,
                   time_limit=time_limit, progress=progress)  # fmt: skip
    seed = seed if seed is not None else 0
    tries = tries if tries is not None else DEFAULT_TRIES
    order = list(range(len(setup.requests)))
    if backend == "cp-sat":
        limit = time_limit if time_limit is not None else _DEFAULT_TIME_LIMIT
        outcome, _ = solved(setup, seed=seed, time_limit=limit, tries=tries, progress=progress)
    else:
        outcome = _one_by_one(setup, order, progress=progress)
        if objective == "most-served":
            outcome = _improved(setup, outcome, seed=seed, tries=tries)
    return _placements(setup, outcome)


def prepare(
    requests: Iterable[PlacementRequest], clinic: Clinic, bookings: object, now: dt.datetime | None
) -> _Setup:
    """The inputs of :func:`plan_many` checked, for its back-ends (and the benchmark)."""
    expect("clinic", clinic, Clinic, "a Clinic (load_clinic(FILE) or demo_clinic() gives one)")
    if isinstance(requests, str | bytes) or not isinstance(requests, Iterable):
        raise InputError("requests", "a list of PlacementRequest", requests)
    chosen = tuple(requests)
    if len(chosen) > MAX_REQUESTS:
        raise LimitError("requests", f"at most {MAX_REQUESTS:,} requests", len(chosen))
    seen: set[str] = set()
    for index, request in enumerate(chosen):
        expect(f"requests[{index}]", request, PlacementRequest, "a PlacementRequest")
        if request.patient.id in seen:
            raise InputError(f"requests[{index}].patient.id", "a patient not requested before",
                             request.patient.id)  # fmt: skip
        seen.add(request.patient.id)
    base = tuple(bookings_argument("bookings", bookings, clinic).all_bookings())
    moment = aware("now", now) if now is not None else current_time()
    return _Setup(chosen, clinic, base, moment, _alike(chosen, base))


def _alike(requests: Sequence[PlacementRequest], base: Sequence[Booking]) -> tuple[str, ...]:
    """A key per request, equal for requests whose first days fit alike."""
    protocols: dict[int, str] = {}
    booked = {b.patient for b in base}
    keys = []
    for request in requests:
        protocol = protocols.setdefault(id(request.protocol), request.protocol.model_dump_json())
        exclude = None if request.patient.id in booked else {"id"}
        patient = request.patient.model_dump_json(exclude=exclude)
        keys.append(f"{protocol}|{patient}|{request.time}")
    return tuple(keys)


def _check_options(
    *,
    objective: object,
    backend: object,
    seed: object,
    tries: object,
    time_limit: object,
    progress: object,
) -> None:
    """Each option of its type and range, and only with the objective and back-end using it."""
    choice("objective", objective, ("most-served", "in-order"), "'most-served' or 'in-order'")
    choice("backend", backend, ("local", "cp-sat"), "'local' or 'cp-sat'")
    if seed is not None and (
        not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31
    ):
        raise InputError("seed", "a whole number from 0 to 2**31 - 1", seed)
    if tries is not None and (
        not isinstance(tries, int) or isinstance(tries, bool) or not 0 <= tries <= MAX_TRIES
    ):
        raise InputError("tries", f"a whole number from 0 to {MAX_TRIES}", tries)
    if time_limit is not None and (
        not isinstance(time_limit, int | float)
        or isinstance(time_limit, bool)
        or not 0 < time_limit <= 3600  # noqa: PLR2004 - an hour: the documented limit
    ):
        raise InputError("time_limit", "seconds, more than 0 and at most 3600", time_limit)
    if progress is not None and not callable(progress):
        raise InputError("progress", "None or a function of (done, total)", progress)
    if time_limit is not None and backend != "cp-sat":
        raise InputError("time_limit", "used with backend='cp-sat'", time_limit)
    if objective == "in-order":
        if backend != "local":
            raise InputError("backend", "'local' with objective='in-order' (one by one)", backend)
        for name, value in (("seed", seed), ("tries", tries)):
            if value is not None:
                raise InputError(name, "used with objective='most-served' (a search)", value)


# -- placing one patient ------------------------------------------------------------------------


#: First days found not to fit in one pass, by the requests' likeness (see :func:`place_one`).
_Failed = dict[str, dict[dt.date, tuple[str, ...]]]


def place_one(
    setup: _Setup, index: int, ledger: Ledger, failed: _Failed | None = None
) -> Plan | Refusal:
    """Request ``index`` at its first feasible start in its window, or why there is none.

    ``failed``: the first days found not to fit so far in a pass whose ledger only gains
    bookings, by :attr:`_Setup.alike`: a later request alike does not plan them again
    (:func:`~ketaplan.intake.earliest_starts`).
    """
    request = setup.requests[index]
    known = None if failed is None else failed.setdefault(setup.alike[index], {})
    try:
        (made,) = earliest_starts(
            request.protocol,
            start=request.start,
            latest=request.last_start,
            clinic=setup.clinic,
            patient=request.patient,
            ledger=ledger,
            preferred_time=request.time,
            now=setup.now,
            failed=known,
        )
    except UnsatisfiableError as err:
        blocked = err.reasons if isinstance(err, NoStartError) else {}
        return Refusal(str(err).splitlines()[0], blocked)
    return made


def _one_by_one(
    setup: _Setup,
    order: Sequence[int],
    *,
    progress: Callable[[int, int], None] | None = None,
    balanced: bool = False,
) -> _Outcome:
    """Each request in ``order`` at its first feasible start, around everyone before it.

    ``balanced``: each later session aims for the least busy day its window allows (nearest
    its target among equals), so that the days left free can still take a whole series.
    """
    ledger = Ledger(setup.clinic, setup.base)
    outcome = _Outcome()
    load: Counter[dt.date] = Counter()
    failed: _Failed = {}
    for done, index in enumerate(order, start=1):
        found = place_one(setup, index, ledger, failed)
        if balanced and isinstance(found, Plan):
            found = _balanced(setup, index, found, ledger, load)
        if isinstance(found, Plan):
            load.update(a.local_date for a in found.appointments)
            booked = tuple(ledger.add(b) for b in found.bookings())
            outcome.plans[index] = (found, booked)
        else:
            outcome.reasons[index] = found
        if progress is not None:
            progress(done, len(order))
    return outcome


def _balanced(
    setup: _Setup, index: int, made: Plan, ledger: Ledger, load: Counter[dt.date]
) -> Plan:
    """``made`` again from its first day, each later session aiming for a less busy day.

    Each session's window is the one the planner gave it, moved with the session before it;
    the planner keeps every rule (a hint outside a window is ignored), and ``made`` stays
    when the hinted plan does not fit.
    """
    hints: dict[str, dt.datetime] = {}
    calendar = ClinicCalendar(setup.clinic)
    shift = dt.timedelta()
    previous: dt.date | None = None
    for appointment in made.appointments:
        if appointment.anchored is not None or appointment.earliest is None:
            continue
        day = appointment.local_date
        if previous is not None and appointment.latest is not None:
            first, last = appointment.earliest + shift, appointment.latest + shift
            target = (appointment.target or day) + shift
            span = range((last - first).days + 1)
            options = [first + dt.timedelta(days=n) for n in span]
            options = [d for d in options if calendar.closed_reason(d) is None] or [day + shift]
            chosen = min(options, key=lambda d: (load[d], abs((d - target).days), d))
            shift = chosen - day
            day = chosen
        previous = day
        local = appointment.local_start
        hints[appointment.id] = local + dt.timedelta(days=(day - local.date()).days)
    if all(hints[a.id] == a.local_start for a in made.appointments if a.id in hints):
        return made  # each session is on the day it would aim for: nothing to plan again
    request = setup.requests[index]
    try:
        return plan(
            request.protocol.model_copy(update={"start": "whole-series"}),
            start=made.appointments[0].local_date,
            start_window_days=0,
            clinic=setup.clinic,
            patient=request.patient,
            bookings=ledger,
            preferred_time=request.time,
            now=setup.now,
            hints=hints,
        )
    except UnsatisfiableError:
        return made


# -- the local search ---------------------------------------------------------------------------


def _improved(setup: _Setup, first: _Outcome, *, seed: int, tries: int) -> _Outcome:
    """``first`` improved while anyone is left waiting: passes, then repair placements."""
    best = first
    for order in _orders(setup, seed):
        if not best.reasons:
            break
        other = _one_by_one(setup, order, balanced=True)
        if other.score(setup) > best.score(setup):
            best = other
    return _repaired(setup, best, tries=tries)


def _orders(setup: _Setup, seed: int) -> list[list[int]]:
    """Other orders to try: most constrained first (the earliest end of the start window)."""
    given = list(range(len(setup.requests)))
    horizon = dt.date.max

    def window_end(index: int) -> tuple[dt.date, dt.date, int]:
        request = setup.requests[index]
        return request.last_start or horizon, request.start, index

    constrained = sorted(given, key=window_end)
    shuffled = list(given)
    random.Random(seed).shuffle(shuffled)  # noqa: S311 - an order to try, not a secret
    shuffled.sort(key=lambda index: window_end(index)[0])  # stable: shuffled among equals
    return [given, *(order for order in (constrained, shuffled) if order != given)]


def _repaired(setup: _Setup, outcome: _Outcome, *, tries: int) -> _Outcome:
    """Each patient not served let in by re-placing others, while ``tries`` last.

    A few served patients whose plans lie nearest the waiting one's start window are taken
    out (one, then two, then four); the waiting patient is placed (balanced, as in
    :func:`_one_by_one`), then they are placed again, in order. Kept when all fit: one more
    patient served.
    """
    left = tries
    for waiting in sorted(outcome.reasons):
        nearest = _blockers(setup, outcome, waiting)
        for size in _GROUPS:
            group = nearest[:size]
            if left < len(group) + 1 or not group:
                return outcome
            left -= len(group) + 1
            ledger = Ledger(setup.clinic, outcome.bookings(setup, leaving=group))
            load = outcome.load(leaving=group)
            placed: dict[int, tuple[Plan, tuple[Booking, ...]]] = {}
            failed: _Failed = {}
            for index in (waiting, *group):
                found = _placed(setup, index, ledger, load, failed)
                if found is None:
                    break
                placed[index] = found
            else:
                outcome.plans.update(placed)
                del outcome.reasons[waiting]
                break
    return outcome


def _placed(
    setup: _Setup, index: int, ledger: Ledger, load: Counter[dt.date], failed: _Failed
) -> tuple[Plan, tuple[Booking, ...]] | None:
    """Request ``index`` placed balanced and booked in ``ledger`` (and ``load``), if it fits."""
    found = place_one(setup, index, ledger, failed)
    if not isinstance(found, Plan):
        return None
    found = _balanced(setup, index, found, ledger, load)
    load.update(a.local_date for a in found.appointments)
    return found, tuple(ledger.add(b) for b in found.bookings())


def _blockers(setup: _Setup, outcome: _Outcome, waiting: int) -> list[int]:
    """The served patients whose sessions lie nearest the waiting one's start window."""
    request = setup.requests[waiting]
    first, last = request.start, request.last_start or request.start

    def distance(index: int) -> int:
        day = outcome.plans[index][0].appointments[0].local_date
        return 0 if first <= day <= last else min(abs((day - first).days), abs((day - last).days))

    return sorted(outcome.plans, key=lambda index: (distance(index), index))[: max(_GROUPS)]


def solved(
    setup: _Setup,
    *,
    seed: int,
    time_limit: float,
    warm: bool = True,
    tries: int = DEFAULT_TRIES,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[_Outcome, SolverAnswer]:
    """The CP-SAT back-end: the solver's answer, made into plans by the planner.

    ``warm`` (the back-end's way): the solver starts from the local search's placement (a
    hint), so it begins with at least as many patients served. Each patient it serves, in
    the order of its first session, is planned with the solver's days and times as hints into
    a ledger of everyone planned before; one whose hinted plan does not fit is placed at its
    first feasible start instead, and so is each patient the solver left out, in the order
    given. So every plan is the planner's own; and when that serves fewer than the local
    search, the local search's placement is returned. Not ``warm`` (to measure the local
    search against the solver): the solver starts from nothing, and its answer is returned
    as the planner makes it. ``tries`` and ``progress``: the local search's, as for
    :func:`plan_many`.
    """
    from ketaplan._cpsat import solve  # noqa: PLC0415 - the optional extra, loaded on use

    local = _Outcome()
    start_from: dict[int, dict[str, dt.datetime]] = {}
    if warm:
        first = _one_by_one(setup, range(len(setup.requests)), progress=progress)
        local = _improved(setup, first, seed=seed, tries=tries)
        start_from = {index: {a.id: a.start for a in made.appointments}
                      for index, (made, _) in local.plans.items()}  # fmt: skip
    answer = solve(setup.requests, setup.clinic, setup.base, now=setup.now, seed=seed,
                   time_limit=time_limit, start_from=start_from)  # fmt: skip
    ledger = Ledger(setup.clinic, setup.base)
    outcome = _Outcome()
    chosen = sorted(answer.starts, key=lambda index: min(answer.starts[index].values()))
    rest = [index for index in range(len(setup.requests)) if index not in answer.starts]
    for index in [*chosen, *rest]:
        found = _hinted(setup, index, ledger, answer.starts.get(index))
        if isinstance(found, Plan):
            outcome.plans[index] = (found, tuple(ledger.add(b) for b in found.bookings()))
        else:
            outcome.reasons[index] = found
    if local.score(setup) > outcome.score(setup):
        return local, answer
    return outcome, answer


def _hinted(
    setup: _Setup, index: int, ledger: Ledger, hints: dict[str, dt.datetime] | None
) -> Plan | Refusal:
    """Request ``index`` planned from its hinted first day, else at its first feasible start."""
    request = setup.requests[index]
    if hints:
        first = min(hints.values()).astimezone(setup.clinic.zone).date()
        try:
            return plan(request.protocol.model_copy(update={"start": "whole-series"}),
                        start=first, start_window_days=0, clinic=setup.clinic,
                        patient=request.patient, bookings=ledger, preferred_time=request.time,
                        now=setup.now, hints=hints)  # fmt: skip
        except UnsatisfiableError:
            pass
    return place_one(setup, index, ledger)


def _placements(setup: _Setup, outcome: _Outcome) -> list[Placement]:
    placed = []
    for index, request in enumerate(setup.requests):
        found = outcome.plans.get(index)
        if found is not None:
            placed.append(Placement(patient=request.patient.id, plan=found[0]))
        else:
            refusal = outcome.reasons.get(index, Refusal("not placed", {}))
            placed.append(Placement(patient=request.patient.id, reason=refusal.reason,
                                    blocked=refusal.blocked))  # fmt: skip
    return placed
