"""What-if runs (issue 16): the example roster of docs/operations.md for each variant and seed.

Four variants (3 or 4 chairs, 1 or 2 monitoring staff) of the example clinic
(docs/examples/capacity: weekday mornings, 1 room, a nurse watching 2 patients), 20 patients,
each variant placed for several seeds by :func:`ketaplan.whatif`: once one run after another
(the baseline) and once in local processes. The rows give each variant's patients served
(lowest/median/highest over the seeds) and the two times; the results must be equal.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from ketaplan import whatif
from ketaplan.roster import load_roster, roster_clinic

from .suite import Row, Scale

ROSTER = Path(__file__).resolve().parent.parent / "docs" / "examples" / "capacity" / "roster.toml"
#: Seeds per variant: the full run's 10 give the spread; the smoke run's 1 keeps it short.
SEEDS: dict[Scale, int] = {"smoke": 1, "full": 10}
MADE = dt.datetime(2026, 11, 20, 14, tzinfo=dt.UTC)


def whatif_runs(scale: Scale) -> list[Row]:
    """The example roster's variants, serially and in processes."""
    roster, folder = load_roster(ROSTER)
    clinic = roster_clinic(roster, folder)
    seeds = SEEDS[scale]
    results = {}
    seconds = {}
    for executor in ("serial", "processes"):
        began = time.perf_counter()
        results[executor] = whatif(roster, clinic, folder=folder, chairs=[3, 4], staff=[1, 2],
                                   seeds=seeds, now=MADE, executor=executor)  # fmt: skip
        seconds[executor] = time.perf_counter() - began
    if results["serial"] != results["processes"]:
        raise AssertionError("what-if runs gave other results in processes than serially")
    runs = len(results["serial"].runs)
    rows = [
        Row("what-if runs", f"{runs} runs of {len(roster.patients)} patients, in processes",
            seconds["processes"], "s", baseline="one after another",
            baseline_value=seconds["serial"], note="the same results both ways"),
    ]  # fmt: skip
    for variant in results["serial"].variants:
        name = f"{variant.variant.chairs} chairs, {variant.variant.staff} staff: served"
        note = f"lowest/median/highest over {seeds} seed(s): {variant.served}"
        rows.append(Row("what-if runs", name, variant.served.median, "patients", note=note))
    return rows
