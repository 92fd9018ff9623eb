"""The benchmark clinic placed across patients (issue 16): plan_many against one by one.

The clinic and patients of the ``plan_clinic`` benchmark (benchmarks/suite.py: the demo clinic
with 10 chairs and 3 monitoring staff watching 2 patients each; the in-clinic built-ins in
turn, starts spread over a year), each patient with a 14-day start window. Placed one by one
(``objective="in-order"``) and by the default local search: patients served, the days their
first sessions waited (median, 90th percentile), each resource's utilisation over the plans'
days (:func:`ketaplan.capacity.resource_use`, the capacity report's one place), and the time.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from ketaplan import Patient, PlacementRequest, load_protocol, plan_many
from ketaplan.capacity import resource_use
from ketaplan.clinic import Clinic
from ketaplan.placement import Objective, Placement

from .suite import CLINIC_MIX, SIZES, STAMP, START, YEAR, Row, Scale, big_clinic

#: How many days each patient's first session may wait.
WINDOW_DAYS = 14
#: Patients per scale: the benchmark clinic's 2,000 (smoke: 40).
PATIENTS: dict[Scale, int] = {"smoke": 40, "full": SIZES["full"].patients}


def clinic_requests(count: int) -> list[PlacementRequest]:
    """The ``plan_clinic`` benchmark's patients, each with a 14-day start window."""
    protocols = [load_protocol(protocol_id) for protocol_id in CLINIC_MIX]
    return [
        PlacementRequest(
            patient=Patient(id=f"p-{n:04d}"),
            protocol=protocols[n % len(protocols)],
            start=START + dt.timedelta(days=(n * YEAR.days) // count),
            start_window_days=WINDOW_DAYS,
        )
        for n in range(count)
    ]


def placement_clinic(scale: Scale) -> list[Row]:
    """The benchmark clinic's patients placed one by one and by the default."""
    clinic = big_clinic()
    count = PATIENTS[scale]
    wanted = clinic_requests(count)
    rows: list[Row] = []
    baseline: int | None = None
    runs: tuple[tuple[Objective, str], ...] = (
        ("in-order", "one by one"),
        ("most-served", "the default"),
    )
    for objective, label in runs:
        began = time.perf_counter()
        placed = plan_many(wanted, clinic, objective=objective, now=STAMP)
        seconds = time.perf_counter() - began
        name = f"{count} patients, 10 chairs, 3 staff, {label}"
        served = sum(p.plan is not None for p in placed)
        rows.append(Row("placement clinic", f"{name}: served", served, "",
                        "one by one" if baseline is not None else "", baseline,
                        note=f"{seconds:.1f} s"))  # fmt: skip
        baseline = served if baseline is None else baseline
        rows += _figures(name, wanted, placed, clinic)
    return rows


def _figures(
    name: str, wanted: list[PlacementRequest], placed: list[Placement], clinic: Clinic
) -> list[Row]:
    """The first sessions' waits and each resource's utilisation."""
    plans = [p.plan for p in placed if p.plan is not None]
    waits = sorted(
        (made.appointments[0].local_date - request.start).days
        for request, made in zip(wanted, (p.plan for p in placed), strict=True)
        if made is not None
    )
    rows = []
    if waits:
        p90 = waits[min(len(waits) - 1, (9 * len(waits)) // 10)]
        note = f"90th percentile {p90} days"
        rows.append(Row("placement clinic", f"{name}: first session's wait",
                        statistics.median(waits), "days", note=note))  # fmt: skip
    _, uses = resource_use(plans, clinic)
    rows += [
        Row(
            "placement clinic",
            f"{name}: {use.label} used",
            100 * use.utilisation,
            "%",
            note=f"peak {use.peak} of {use.at_once}",
        )
        for use in uses
        if use.utilisation is not None and use.at_once is not None
    ]
    return rows
