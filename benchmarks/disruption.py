"""A snow day (issue 18: speed where users feel it): the clinic closes its busiest day.

Patients on esketamine-trd at the demo clinic, starting on consecutive days and planned one
after another into one ledger (``plan a clinic``'s way), then
:func:`ketaplan.replan_disruption` around the closure of the day with the most sessions. Most
of the displaced doses sit at the shortest gap before the next one, so their series follow them
and the search for the fewest moves fails before a re-plan of the rest settles each plan: the
hard case. The baseline is the same search running ``check`` for every arrangement it judges,
as it did before it remembered what ``check`` said of each (with the one index of everyone's
bookings that both use; a test holds both answers equal).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import itertools
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

from ketaplan import Ledger, Plan, load_protocol, plan, replan_disruption
from ketaplan import _relocation as relocation
from ketaplan.checking import check_trial
from ketaplan.clinic import CapacityChange
from ketaplan.defaults import demo_clinic
from ketaplan.disruption import Disrupted

from .suite import STAMP, START, Row, Scale

#: Patients and the days each plan runs, per scale.
SIZES: dict[Scale, tuple[int, int]] = {"smoke": (2, 60), "full": (6, 365)}


def snow_day(patients: int, days: int) -> tuple[list[Plan], CapacityChange]:
    """The plans, and the closure of the day on which most of their sessions fall."""
    clinic = demo_clinic()
    protocol = load_protocol("esketamine-trd")
    ledger = Ledger(clinic)
    plans = []
    for number in range(patients):
        first = START + dt.timedelta(days=number % 5)
        made = plan(protocol, start=first, clinic=clinic, bookings=ledger, now=STAMP,
                    until=first + dt.timedelta(days=days), plan_id=f"p{number}")  # fmt: skip
        for booking in made.bookings():
            ledger.add(booking)
        plans.append(made)
    busiest = collections.Counter(a.local_date for p in plans for a in p.appointments)
    day = busiest.most_common(1)[0][0]
    return plans, CapacityChange(start=day, closed=True, reason="snow")


@contextlib.contextmanager
def every_arrangement_checked() -> Iterator[None]:
    """Each arrangement new to the search's memory: ``check`` runs for every one judged."""
    fresh = itertools.count()
    with mock.patch.object(relocation, "_trial", lambda a: (a.id, next(fresh))):
        yield


def disruption(scale: Scale) -> list[Row]:
    patients, days = SIZES[scale]
    plans, change = snow_day(patients, days)
    runs: dict[str, tuple[Disrupted, float, int]] = {}
    for label in ("remembered", "every time"):
        counter = _Counter()
        with contextlib.ExitStack() as stack:
            stack.enter_context(mock.patch.object(relocation, "check_trial", counter))
            if label == "every time":
                stack.enter_context(every_arrangement_checked())
            began = time.perf_counter()
            result = replan_disruption(plans, clinic=demo_clinic(), change=change, now=STAMP)
            runs[label] = (result, time.perf_counter() - began, counter.runs)
    (ours, seconds, checks), (theirs, baseline, every) = runs["remembered"], runs["every time"]
    if ours != theirs:
        raise AssertionError("the remembered search gave another answer")
    report = ours.report
    label = f"{patients} patients, {days} days each, {change.start}: closed"
    return [
        Row("disruption", label, seconds, "s", "check run for every arrangement", baseline,
            note=f"{len(report.moves)} sessions moved in {report.plans_affected} plans; "
                 f"{report.evaluations} arrangements judged, {checks} runs of check "
                 f"(else {every})"),
    ]  # fmt: skip


class _Counter:
    """``check_trial``, counting its runs."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, *args: Any, **options: Any) -> Any:
        self.runs += 1
        return check_trial(*args, **options)
