"""The CP-SAT back-end of :func:`~ketaplan.placement.plan_many`: the one module importing OR-Tools.

Needs the optional extra ``ketaplan[solver]`` (``ortools``); without it, :func:`solve` raises
:class:`~ketaplan.errors.MissingExtraError`, naming the extra.

The model, for each request: a bool *served*; for each session of the series an integer start
(local minutes from the first day's midnight) whose values are the candidate starts ketaplan's
own slot finder accepts on each day the session could fall on (:meth:`~ketaplan.slots.
SlotFinder.starts`: opening hours, closures, holidays, the patient's availability, the
prescriber, notice, the bookings given); its day; and, for each resource the session uses
(:func:`~ketaplan.rules.capacity.uses`), an optional interval present when the patient is
served, in a Cumulative (NoOverlap for one unit) per resource up to the clinic's limits
(:func:`~ketaplan.rules.capacity.limits`: chairs and rooms with their cleaning buffer,
monitoring staff times patients per staff), with the bookings given as fixed intervals. When
served, the first session falls in the start window; each next session's day follows the
previous by the protocol's gap (``minimum`` to ``maximum`` days), never on the next day when
the protocol avoids consecutive days, at least ``min_interval`` hours later, and within the
phase's ``within_days``. The objective: the most patients served, then the fewest days waited
for the first session and off each gap's target.

The model states those rules as constraints; it is a model, not the rules. Its answer is
therefore not returned as it is: each served patient is planned again by the planner with the
solver's days and times as hints (``plan(hints=...)``), which keeps every rule, and a patient
whose hinted plan does not fit is placed the ordinary way or reported.

Supported: protocols whose phases all have a count, whose sessions follow each other by gaps
(a ``gap-sequence`` cadence, a phase start ``after-previous`` with a gap), without anchored
sessions, decisions (``responders_only``) or a weekly dose limit (``max_per_7_days``), every
session in the clinic. Any other protocol gets an :class:`~ketaplan.errors.InputError` naming
what the back-end does not support.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError, MissingExtraError
from ketaplan.ledger import Ledger
from ketaplan.protocol import GapSequence, GapWindow, Protocol, SessionKind
from ketaplan.protocol.gap import AfterPrevious
from ketaplan.rules.capacity import limits, uses
from ketaplan.slots import SlotFinder
from ketaplan.timing import gap_days

if TYPE_CHECKING:
    from ketaplan.placement import PlacementRequest

__all__ = ["SolverAnswer", "Step", "solve", "steps"]

_DAY = 1440
#: The weight of one patient served against the days waited and off target (which it exceeds).
_SERVED = 1_000_000


@dataclasses.dataclass(frozen=True)
class Step:
    """One session of a supported series: its id, kind, and the gap before it (days)."""

    id: str
    kind: SessionKind
    gap: tuple[int, int, int] | None
    """Minimum, target and maximum days after the session before (``None``: the first)."""
    phase: str
    within_days: int | None


@dataclasses.dataclass(frozen=True)
class SolverAnswer:
    """What the solver found: each served request's session starts, and how good that is."""

    starts: dict[int, dict[str, dt.datetime]]
    """By request index, each session's start (by appointment id)."""
    served: int
    bound: int
    """No answer can serve more than this many."""
    optimal: bool
    seconds: float


def steps(protocol: Protocol, where: str) -> list[Step]:
    """The series as the model sees it; :class:`InputError` for what it does not support."""

    def unsupported(what: str) -> InputError:
        return InputError(where, f"a protocol the cp-sat back-end supports (not {what})",
                          protocol.id)  # fmt: skip

    if protocol.anchored:
        raise unsupported("anchored sessions")
    if protocol.rules.max_per_7_days is not None:
        raise unsupported("max_per_7_days")
    found: list[Step] = []
    for phase in protocol.phases:
        kind = protocol.session_kind(phase.session)
        if phase.count is None or phase.responders_only or kind.location != "clinic":
            raise unsupported(f"phase {phase.id!r}: open-ended, for responders or not in clinic")
        cadence = protocol.cadence(phase)
        for index in range(1, phase.count + 1):
            if index == 1:
                entry = phase.start
                if found and not (isinstance(entry, AfterPrevious) and entry.gap is not None):
                    raise unsupported(f"phase {phase.id!r}: a start other than a gap")
                window = entry.gap if isinstance(entry, AfterPrevious) and found else None
            elif isinstance(cadence, GapSequence):
                window = cadence.gap(index - 2)
            else:
                raise unsupported(f"phase {phase.id!r}: a cadence other than gap-sequence")
            gap = None if window is None else _days(window)
            found.append(Step(f"{phase.id}-{index}", kind, gap, phase.id, phase.within_days))
    return found


def _days(window: GapWindow) -> tuple[int, int, int]:
    """The gap's minimum, target and maximum in days (the planner's bounds)."""
    unit = window.unit
    return (
        gap_days(window.minimum, unit, bound="shortest"),
        gap_days(window.target, unit, bound="shortest"),
        gap_days(window.maximum, unit, bound="longest"),
    )


def _ortools() -> Any:
    try:
        from ortools.sat.python import cp_model  # noqa: PLC0415 - the optional extra
    except ImportError as err:  # pragma: no cover - exercised without the extra
        raise MissingExtraError("solver", "The cp-sat placement back-end") from err
    return cp_model


def solve(
    requests: Sequence[PlacementRequest],
    clinic: Clinic,
    base: Sequence[Booking],
    *,
    now: dt.datetime | None,
    seed: int,
    time_limit: float,
    workers: int = 2,
    start_from: dict[int, dict[str, dt.datetime]] | None = None,
) -> SolverAnswer:
    """The solver's best placement of ``requests`` within ``time_limit`` seconds.

    ``start_from``: a placement to start the search from (a hint, by request index, each
    session's start by id), such as the local search's: the solver begins at least there.
    """
    cp_model = _ortools()
    series = {r.protocol.id: steps(r.protocol, f"requests[{i}].protocol")
              for i, r in enumerate(requests)}  # fmt: skip
    began = time.perf_counter()
    model = _Model(cp_model, clinic, base, now=now, first=_first_day(requests, now, clinic))
    reach = max((r.start + dt.timedelta(days=_reach(r)) for r in requests), default=model.first)
    model.until = min(model.last, reach)
    for index, request in enumerate(requests):
        model.add_request(index, request, series[request.protocol.id])
    model.add_capacity()
    model.hint(start_from or {})
    model.model.maximize(sum(model.objective))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return SolverAnswer({}, 0, len(requests), False, time.perf_counter() - began)
    starts = {
        index: {step_id: model.moment(solver.value(var)) for step_id, var in sessions}
        for index, (served, sessions) in model.requests.items()
        if solver.value(served)
    }
    slack = sum(model.secondary_limits)
    bound = min(len(requests), int((solver.best_objective_bound + slack) // _SERVED))
    return SolverAnswer(
        starts, len(starts), bound, status == cp_model.OPTIMAL, time.perf_counter() - began
    )


def _first_day(
    requests: Sequence[PlacementRequest], now: dt.datetime | None, clinic: Clinic
) -> dt.date:
    days = [r.start for r in requests]
    if now is not None:
        days.append(now.astimezone(clinic.zone).date())
    return min(days, default=dt.date(2000, 1, 1))


class _Model:
    """The CP-SAT model being built: variables per request, intervals per resource."""

    def __init__(
        self,
        cp_model: Any,
        clinic: Clinic,
        base: Sequence[Booking],
        *,
        now: dt.datetime | None,
        first: dt.date,
    ) -> None:
        self.cp = cp_model
        self.model = cp_model.CpModel()
        self.clinic = clinic
        self.ledger = Ledger(clinic, base)
        self.now = now
        self.first = first
        self.limits = limits(clinic)
        horizon = now.astimezone(clinic.zone).date() if now else first
        self.last = horizon + dt.timedelta(days=clinic.booking_horizon_days)
        self.until = self.last
        """The last day any request's session may fall on."""
        self.intervals: dict[str, list[Any]] = {}
        self.objective: list[Any] = []
        self.secondary_limits: list[int] = []
        self.requests: dict[int, tuple[Any, list[tuple[str, Any]]]] = {}
        self._candidates: dict[tuple[str, str], dict[dt.date, list[int]]] = {}
        for booking in base:
            self._add_fixed(booking)

    # -- time ------------------------------------------------------------------------------

    def minute(self, moment: dt.datetime) -> int:
        """Local wall minutes from the first day's midnight."""
        local = moment.astimezone(self.clinic.zone)
        days = (local.date() - self.first).days
        return days * _DAY + local.hour * 60 + local.minute

    def moment(self, minute: int) -> dt.datetime:
        """The aware local moment of a model minute."""
        day = self.first + dt.timedelta(days=minute // _DAY)
        clock = dt.time(minute % _DAY // 60, minute % 60)
        return dt.datetime.combine(day, clock, tzinfo=self.clinic.zone)

    # -- candidates ------------------------------------------------------------------------

    def candidates(self, request: PlacementRequest, kind: SessionKind) -> dict[dt.date, list[int]]:
        """Each day's feasible starts (model minutes) for ``kind``, from the slot finder.

        Kept per protocol and patient (all but the id): patients alike share them.
        """
        patient = request.patient.model_dump_json(exclude={"id"})
        key = (f"{request.protocol.id}|{kind.id}|{request.time}", patient)
        found = self._candidates.get(key)
        if found is None:
            finder = SlotFinder(self.clinic, request.patient, self.ledger,
                                policy=request.protocol.calendar, now=self.now,
                                patient_key=request.patient.id)  # fmt: skip
            found = {}
            day = self.first
            while day <= self.until:
                found[day] = [self.minute(s) for s in finder.starts(kind, day)]
                day += dt.timedelta(days=1)
            self._candidates[key] = found
        reach = request.start + dt.timedelta(days=_reach(request))
        return {day: starts for day, starts in found.items() if request.start <= day <= reach}

    # -- a request -------------------------------------------------------------------------

    def add_request(self, index: int, request: PlacementRequest, series: list[Step]) -> None:
        """The request's variables, its rules and its share of the objective."""
        m = self.model
        served = m.new_bool_var(f"served{index}")
        last_start = request.last_start or self.last
        sessions: list[tuple[str, Any]] = []
        previous: tuple[Any, Any, Step] | None = None
        firsts: dict[str, Any] = {}
        penalty_limit = (last_start - request.start).days
        for step in series:
            by_day = self.candidates(request, step.kind)
            values = [v for day, found in by_day.items() for v in found
                      if previous is not None or request.start <= day <= last_start]  # fmt: skip
            if not values:
                m.add(served == 0)
                self.requests[index] = (served, [])
                return
            start = m.new_int_var_from_domain(self.cp.Domain.from_values(values), step.id)
            day = m.new_int_var(min(values) // _DAY, max(values) // _DAY, f"{step.id}d")
            m.add_division_equality(day, start, _DAY)
            if previous is None:
                wait = day - (request.start - self.first).days
                self.objective.append(-wait)
            else:
                penalty_limit += self._follow(request, served, (start, day, step), previous)
            first = firsts.setdefault(step.phase, day)
            if step.within_days is not None:
                m.add(day - first <= step.within_days - 1).only_enforce_if(served)
            self._uses(index, step, start, served)
            sessions.append((step.id, start))
            previous = (start, day, step)
        self.objective.append(_SERVED * served)
        self.secondary_limits.append(penalty_limit)
        self.requests[index] = (served, sessions)

    def _follow(
        self,
        request: PlacementRequest,
        served: Any,
        now: tuple[Any, Any, Step],
        before: tuple[Any, ...],
    ) -> int:
        """The gap rules from the session before; the most days it can be off its target."""
        m = self.model
        start, day, step = now
        start0, day0, step0 = before
        low, target, high = step.gap or (0, 0, 0)
        rules = request.protocol.rules
        if rules.consecutive_days == "avoid" and step.kind.is_dosing and step0.kind.is_dosing:
            low = max(low, 2)
        m.add(day - day0 >= low).only_enforce_if(served)
        m.add(day - day0 <= high).only_enforce_if(served)
        m.add(start >= start0 + step0.kind.timeline.block_minutes).only_enforce_if(served)
        if rules.min_interval is not None and step.kind.is_dosing and step0.kind.is_dosing:
            hours = int(rules.min_interval.hours * 60 + 59) // 60 * 60
            m.add(start - start0 >= hours).only_enforce_if(served)
        off = m.new_int_var(0, max(target - low, high - target), f"{step.id}off")
        m.add(off >= day - day0 - target)
        m.add(off >= target - (day - day0))
        self.objective.append(-off)
        return max(target - low, high - target)

    def _uses(self, index: int, step: Step, start: Any, served: Any) -> None:
        for use in uses(step.kind):
            if use.resource not in self.limits.units and use.resource not in self.limits.counted:
                continue  # the prescriber: a presence the candidates already keep
            size = use.finish - use.offset + self.limits.buffer_minutes.get(use.resource, 0)
            interval = self.model.new_optional_fixed_size_interval_var(
                start + use.offset, size, served, f"{step.id}-{use.resource}-{index}"
            )
            self.intervals.setdefault(use.resource, []).append(interval)

    def hint(self, placed: dict[int, dict[str, dt.datetime]]) -> None:
        """Start the search from ``placed``: who is served, and each session's start."""
        for index, (served, sessions) in self.requests.items():
            starts = placed.get(index)
            self.model.add_hint(served, starts is not None and len(starts) == len(sessions))
            for step_id, var in sessions if starts else ():
                if step_id in starts:  # type: ignore[operator]
                    self.model.add_hint(var, self.minute(starts[step_id]))  # type: ignore[index]

    # -- capacity --------------------------------------------------------------------------

    def _add_fixed(self, booking: Booking) -> None:
        resource = booking.resource
        if resource is None:
            return
        if resource not in self.limits.units and resource not in self.limits.counted:
            return
        begin, end = self.minute(booking.start), self.minute(booking.end)
        if end < 0:
            return
        size = end - begin + self.limits.buffer_minutes.get(resource, 0)
        interval = self.model.new_fixed_size_interval_var(begin, max(size, 1), "booked")
        self.intervals.setdefault(resource, []).append(interval)

    def add_capacity(self) -> None:
        """Each resource's intervals within its limit."""
        for resource, intervals in self.intervals.items():
            capacity = self.limits.capacity(resource) or 0  # type: ignore[arg-type]
            if capacity == 1:
                self.model.add_no_overlap(intervals)
            else:
                self.model.add_cumulative(intervals, [1] * len(intervals), capacity)


def _reach(request: PlacementRequest) -> int:
    """How many days after its requested start a request's sessions may fall (at most)."""
    window = request.start_window_days if request.start_window_days is not None else 366
    return window + sum(
        (step.gap or (0, 0, 0))[2] for step in steps(request.protocol, "requests.protocol")
    )
