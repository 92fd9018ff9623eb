"""Like for like across engines (issue 11): plan, check and export of one set of protocol files.

Run it under callgrind with each engine on ``PYTHONPATH``; a ``time.sleep(0)`` before and after
each batch marks where callgrind dumps its counts::

    git worktree add /tmp/before ec503f2
    PYTHONHASHSEED=0 PYTHONPATH=/tmp/before valgrind --tool=callgrind \\
        --dump-before=time_sleep --callgrind-out-file=before.%p \\
        python benchmarks/like_for_like.py /tmp/before/ketaplan/library 5
    (the same with PYTHONPATH=. for this engine)

Each protocol file is read with its checkpoints left out and ``start = "whole-series"``
where the engine knows the field (how the engine before the rule layer placed a first
session), planned for a year from 1 December 2026 at the demo clinic, then planned, checked
and exported (clinic audience) ``REPS`` more times, each batch between two marks. The dumps
come in order: the start-up, then for each protocol (sorted by id) plan, a mark, check, a
mark, export, and the next protocol's first run.
"""

from __future__ import annotations

import datetime as dt
import inspect
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ketaplan import plan
from ketaplan.clinic import Clinic
from ketaplan.defaults import demo_clinic
from ketaplan.ics import to_ics
from ketaplan.protocol import Protocol

try:
    from ketaplan.checking import check
except ImportError:  # the engine before the rule layer
    from ketaplan.check import check  # type: ignore[no-redef]

START = dt.date(2026, 12, 1)
MADE = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)


def main(library: Path, reps: int, only: list[str]) -> None:
    clinic = demo_clinic()
    for name in only or sorted(path.stem for path in library.glob("*.toml")):
        _batches(library / f"{name}.toml", reps, clinic)
    time.sleep(0)


def _batches(path: Path, reps: int, clinic: Clinic) -> None:
    data = tomllib.loads(path.read_text())
    for kind in data.get("session_kinds", []):
        kind.pop("checkpoints", None)
    if "start" in Protocol.model_fields:
        data["start"] = "whole-series"
    protocol = Protocol.model_validate(data)
    takes = inspect.signature(plan).parameters
    options: dict[str, Any] = {"start": START, "clinic": clinic,
                               "until": START + dt.timedelta(days=365)}  # fmt: skip
    if "plan_id" in takes:
        options["plan_id"] = "like"
    if "now" in takes:
        options["now"] = MADE
    made = plan(protocol, **options)
    check(made, protocol=protocol, clinic=clinic)
    to_ics(made, audience="clinic", now=MADE)
    runs: list[Callable[[], object]] = [
        lambda: plan(protocol, **options),
        lambda: check(made, protocol=protocol, clinic=clinic),
        lambda: to_ics(made, audience="clinic", now=MADE),
    ]
    for run in runs:
        time.sleep(0)  # callgrind dumps here: the batch begins
        for _ in range(reps):
            run()
        time.sleep(0)  # and here: it ends


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
