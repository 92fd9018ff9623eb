"""``verify()``: search for a case in which a protocol cannot be planned or breaks its rules.

Hypothesis searches start dates, an extra clinic closure, the patient's availability and a
missed session; the first failing case is shrunk to the simplest one and described in plain
words, with the seed that reproduces it. The search is deterministic for a seed and bounded by
``max_examples`` and ``max_seconds``.

Needs Hypothesis (``pip install 'ketaplan[hypothesis]'``).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from random import Random

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from ketaplan._model import expect, start_in_range
from ketaplan._text import fmt_day, quantity
from ketaplan._types import WEEKDAYS
from ketaplan.checking import check
from ketaplan.clinic import Clinic
from ketaplan.defaults import VERIFY_CLOSURE_DAYS, VERIFY_FROM, demo_clinic
from ketaplan.errors import InputError, UnsatisfiableError
from ketaplan.hours import DateRange
from ketaplan.patient import Patient
from ketaplan.planner import made_before, plan
from ketaplan.protocol import Protocol
from ketaplan.replanning import Missed, replan
from ketaplan.strategies import start_dates
from ketaplan.violation import Violation

__all__ = ["Counterexample", "Scenario", "Verification", "verify"]

_WINDOWS = (None, "08:00-13:00", "12:00-18:00")
_HORIZON = dt.timedelta(days=180)


@dataclass(frozen=True)
class Scenario:
    """One case the search tries."""

    start: dt.date
    closure: tuple[dt.date, int] | None = None
    """An extra clinic closure: its first day and its length in days."""
    days: tuple[str, ...] | None = None
    """The weekdays the patient can come (``None``: whenever the clinic is open)."""
    window: str | None = None
    """The hours the patient can come on those days (``None``: all day)."""
    missed: int | None = None
    """The dose the patient misses (1-based), then the plan is re-planned."""

    def describe(self) -> str:
        """The case in words."""
        parts = [f"starting on {fmt_day(self.start)}"]
        if self.closure is not None:
            first, length = self.closure
            last = first + dt.timedelta(days=length - 1)
            span = fmt_day(first) if length == 1 else f"{fmt_day(first)} to {fmt_day(last)}"
            parts.append(f"with the clinic also closed {span} ({quantity(length, 'day')})")
        if self.days is not None:
            when = ", ".join(day.title() for day in self.days)
            hours = f" {self.window}" if self.window else ""
            parts.append(f"with the patient available only {when}{hours}")
        if self.missed is not None:
            parts.append(f"after dose {self.missed} is missed")
        return ", ".join(parts)


@dataclass(frozen=True)
class Counterexample:
    """The simplest failing case found and what went wrong in it."""

    scenario: Scenario
    problem: str

    def __str__(self) -> str:
        return f"{self.scenario.describe()}: {self.problem}"


@dataclass(frozen=True)
class Verification:
    """What a search found: a counterexample, or none within its bounds."""

    protocol: str
    counterexample: Counterexample | None
    examples: int
    """How many cases were tried, shrinking included."""
    seed: int
    complete: bool
    """``False`` when ``max_seconds`` ran out first: fewer cases were tried, or the
    counterexample is not shrunk as far as it could be."""

    @property
    def ok(self) -> bool:
        """``True`` when no counterexample was found."""
        return self.counterexample is None


#: Start dates are drawn from this many days after ``first_start`` (two years).
START_SPAN_DAYS = 730


def _check_arguments(
    protocol: object, clinic: object, patient: object, first_start: object
) -> None:
    """Raise :class:`InputError` for the first of ``verify``'s arguments that is not right."""
    expect("protocol", protocol, Protocol, "a Protocol (load_protocol gives one)")
    expect("clinic", clinic, (Clinic, type(None)), "a Clinic or None")
    expect("patient", patient, (Patient, type(None)), "a Patient or None")
    if not isinstance(first_start, dt.date) or isinstance(first_start, dt.datetime):
        raise InputError("first_start", "a date", first_start)
    # Starts are drawn from the two years after it: each must be a start a plan may have.
    start_in_range("first_start", first_start)
    start_in_range("first_start (plus the two years starts are drawn from)",
                   first_start + dt.timedelta(days=START_SPAN_DAYS))  # fmt: skip


def verify(
    protocol: Protocol,
    /,
    *,
    clinic: Clinic | None = None,
    patient: Patient | None = None,
    max_examples: int = 200,
    seed: int = 0,
    max_seconds: float = 60.0,
    max_closure_days: int = VERIFY_CLOSURE_DAYS,
    first_start: dt.date = VERIFY_FROM,
) -> Verification:
    """Search for a case in which ``protocol`` cannot be planned or breaks its own rules.

    Start dates are drawn from the two years after ``first_start``. Without ``clinic`` the
    demo clinic is used. With ``patient`` that patient's availability is kept; without one,
    availability is searched too: whole or half days on at least three of the clinic's open
    weekdays (fewer when it opens on fewer). The same arguments always give the same result,
    unless ``max_seconds`` cuts the search short (then ``complete`` is ``False``).
    """
    _check_arguments(protocol, clinic, patient, first_start)
    for name, number in [("max_examples", max_examples), ("max_seconds", max_seconds),
                         ("max_closure_days", max_closure_days)]:  # fmt: skip
        if isinstance(number, bool):  # Python counts True as 1
            raise InputError(name, "a number, not true or false", number)
    if not isinstance(max_examples, int) or not 1 <= max_examples <= 100_000:  # noqa: PLR2004
        raise InputError("max_examples", "a whole number from 1 to 100000", max_examples)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError("seed", "a whole number >= 0", seed)
    if not isinstance(max_seconds, int | float) or not 0 < max_seconds <= 3600:  # noqa: PLR2004
        raise InputError("max_seconds", "a number of seconds from 0 to 3600", max_seconds)
    if not isinstance(max_closure_days, int) or not 0 <= max_closure_days <= 60:  # noqa: PLR2004
        raise InputError("max_closure_days", "whole days from 0 to 60", max_closure_days)
    where = clinic or demo_clinic()
    deadline = time.monotonic() + max_seconds
    failures: list[tuple[Scenario, str]] = []
    tried = 0

    def fails(scenario: Scenario) -> bool:
        nonlocal tried
        if time.monotonic() > deadline:
            raise _OutOfTime
        tried += 1
        problem = _try(protocol, where, patient, scenario)
        if problem is not None:
            failures.append((scenario, problem))  # each one simpler than the one before
        return problem is not None

    try:
        find(
            _scenarios(where, patient, first_start, max_closure_days),
            fails,
            settings=settings(
                max_examples=max_examples,
                database=None,
                deadline=None,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            ),
            random=Random(seed),  # noqa: S311 - a reproducible search, not secrets
        )
        complete = True
    except NoSuchExample:
        complete = True
    except _OutOfTime:
        complete = False
    found = Counterexample(*failures[-1]) if failures else None
    return Verification(protocol.id, found, tried, seed, complete=complete)


class _OutOfTime(BaseException):
    """Ends the search at ``max_seconds``; a BaseException so Hypothesis does not shrink it."""


def _scenarios(
    clinic: Clinic, patient: Patient | None, first: dt.date, longest: int
) -> st.SearchStrategy[Scenario]:
    open_days = [d for d in WEEKDAYS if clinic.opening_hours.day(d)]
    fewest = min(3, len(open_days))

    @st.composite
    def draw(draw_: st.DrawFn) -> Scenario:
        start = draw_(
            start_dates(min_value=first, max_value=first + dt.timedelta(days=START_SPAN_DAYS))
        )
        closure = None
        if longest and draw_(st.booleans()):
            offset = draw_(st.integers(0, 60))
            closure = (start + dt.timedelta(days=offset), draw_(st.integers(1, longest)))
        days = window = None
        if patient is None and draw_(st.booleans()):
            chosen = draw_(st.lists(st.sampled_from(open_days), min_size=fewest,
                                    max_size=len(open_days), unique=True))  # fmt: skip
            days = tuple(d for d in WEEKDAYS if d in chosen)
            window = draw_(st.sampled_from(_WINDOWS))
        missed = draw_(st.one_of(st.none(), st.integers(1, 12)))
        return Scenario(start, closure, days, window, missed)

    return draw()


def _try(
    protocol: Protocol, clinic: Clinic, patient: Patient | None, scenario: Scenario
) -> str | None:
    """What goes wrong in ``scenario``, in words, or ``None`` when nothing does."""
    where = clinic
    if scenario.closure is not None:
        first, length = scenario.closure
        extra = DateRange(start=first, end=first + dt.timedelta(days=length - 1), reason="closure")
        where = clinic.model_copy(update={"closures": (*clinic.closures, extra)})
    who = patient
    if scenario.days is not None:
        hours = [scenario.window or "00:00-23:59"]
        who = Patient.model_validate(
            {"id": "verify-patient", "availability": dict.fromkeys(scenario.days, hours),
             "enrollments": ["spravato-rems"]}
        )  # fmt: skip
    try:
        made = plan(protocol, start=scenario.start, clinic=where, patient=who,
                    until=scenario.start + _HORIZON, preferred_time=dt.time(9),
                    now=made_before(scenario.start, where))  # fmt: skip
    except UnsatisfiableError as err:
        return _unsatisfiable(err)
    except Exception as err:  # anything else is a finding, not a crash
        return f"planning raised {type(err).__name__}: {err}"
    broken = _errors(check(made, protocol=protocol, clinic=where, patient=who))
    if broken:
        return _violations(broken)
    if scenario.missed is None:
        return None
    doses = list(made.doses)
    if scenario.missed > len(doses):
        return None
    missed = doses[scenario.missed - 1]
    try:
        after = replan(made, as_of=missed.end + dt.timedelta(hours=1), protocol=protocol,
                       clinic=where, patient=who,
                       events=[Missed(appointment=missed.id)])  # fmt: skip
    except UnsatisfiableError as err:
        return _unsatisfiable(err)
    except Exception as err:  # anything else is a finding, not a crash
        return f"re-planning after the miss raised {type(err).__name__}: {err}"
    broken = _errors(check(after, protocol=protocol, clinic=where, patient=who))
    return _violations(broken) if broken else None


def _unsatisfiable(err: UnsatisfiableError) -> str:
    reasons = list(dict.fromkeys(reason for _, reason in err.blocked))
    # The calendar's closed days are seldom the point; the protocol's own rules come first.
    reasons = sorted(reasons, key=lambda reason: reason.startswith("clinic closed"))[:6]
    detail = f": {'; '.join(reasons)}" if reasons else ""
    return f"{err.session} cannot be placed between {err.window[0]} and {err.window[1]}{detail}"


def _errors(found: list[Violation]) -> list[Violation]:
    return [v for v in found if v.severity == "error"]


def _violations(found: list[Violation]) -> str:
    items = found[:3]
    return "the plan breaks its own rules: " + "; ".join(f"[{v.code}] {v.message}" for v in items)
