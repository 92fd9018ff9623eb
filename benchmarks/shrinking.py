"""Shrinking (issue 18): how long Hypothesis takes to bring a failing plan down to a small one.

A property with a planted failure ("no dose on a Friday", which most plans break) runs on
``strategies.plans()`` of esketamine-trd at the demo clinic, derandomized. The figure is the
time from the first failing example to the end of the run, the shrinking, with the examples it
ran and where it ended; the baseline is one example's time in the same run (generation up to
the first failure, per example), so the ratio says how many examples' worth shrinking costs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import HypothesisWarning

from benchmarks.suite import Row, Scale
from ketaplan import Plan, load_protocol, strategies
from ketaplan.checking import check
from ketaplan.defaults import demo_clinic

_FRIDAY = 4


def shrinking(scale: Scale) -> list[Row]:
    cold = _shrink(scale)  # the first run in the process: it also loads holidays and names
    warm = _shrink(scale)  # derandomized, the same examples again
    if warm is None or cold is None:
        return [Row("shrinking", "a planted failure", 0, "s", note="no example failed")]
    seconds, per_example, after, ended = warm
    return [
        Row("shrinking", "a planted failure (a dose on a Friday), shrunk", seconds, "s",
            "one example before the failure", per_example,
            note=f"{after} examples while shrinking; ended at {ended}; the first run in the "
                 f"process {cold[0]:.2f} s"),
    ]  # fmt: skip


def _shrink(scale: Scale) -> tuple[float, float, int, str] | None:
    """Seconds shrinking, seconds per example before it, examples run shrinking, the end."""
    protocol = load_protocol("esketamine-trd")
    clinic = demo_clinic()
    calls: list[float] = []
    failures: list[tuple[float, Plan]] = []

    @settings(max_examples=20 if scale == "smoke" else 300, database=None, deadline=None,
              derandomize=True, suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategies.plans(protocol=protocol, clinic=clinic))
    def property_test(made: Plan) -> None:
        calls.append(time.perf_counter())
        check(made, protocol=protocol, clinic=clinic)
        if any(a.is_dose and a.local_date.weekday() == _FRIDAY for a in made.appointments):
            failures.append((time.perf_counter(), made))
            raise AssertionError("a dose on a Friday")

    began = time.perf_counter()
    # The falsifying plan's repr is long (Hypothesis warns, and still makes it).
    with warnings.catch_warnings(), contextlib.suppress(AssertionError):
        warnings.simplefilter("ignore", HypothesisWarning)
        property_test()
    ended = time.perf_counter()
    if not failures:
        return None
    first = failures[0][0]
    before = sum(1 for t in calls if t <= first)
    last = failures[-1][1]
    patient = "a patient" if last.patient else "no patient"
    start = min(a.local_date for a in last.appointments)
    end = f"{len(last.appointments)} appointments from {start:%a} {start.isoformat()}, {patient}"
    return ended - first, (first - began) / before, len(calls) - before, end


if __name__ == "__main__":  # pragma: no cover - by hand: python -m benchmarks.shrinking
    for row in shrinking("full"):
        print(row)
    print(dt.datetime.now(dt.UTC))
