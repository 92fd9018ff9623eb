"""What-if runs: the roster placed again for each variant of the clinic's resources and seed.

A clinic asks what a chair or a nurse is worth. :func:`whatif` takes a roster and the values to
try (``chairs=[3, 4, 5], staff=[1, 2]``: every combination is a variant), and for each variant
and each seed places the roster with :func:`~ketaplan.capacity.place_all` (seed 0: the roster's
own order; any other: an order shuffled by it). Each run reports the patients served, their
waits (days from the requested start to the first session: median and 90th percentile by
nearest rank) and each resource's utilisation (:func:`~ketaplan.capacity.resource_use`, over
the run's own plans); each variant reports the spread of those over its seeds (lowest, median,
highest).

Runs are independent, so they run in parallel: in processes on the local cores
(:class:`concurrent.futures.ProcessPoolExecutor`, started by forkserver or spawn, never forked
from a process that may run threads; a script needs the ``if __name__ == "__main__":`` guard)
by default, or through any
:class:`concurrent.futures.Executor`, such as a Dask cluster's (:func:`dask_executor`, the extra
``ketaplan[cluster]``). The results are keyed by variant and seed and sorted, so they are the
same whichever ran them. A cluster's workers read the roster's files at the same paths (built-in
protocols need none). At most :data:`MAX_RUNS` runs.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import itertools
import math
import multiprocessing
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, NamedTuple

from ketaplan._model import Model, Name, Ref, aware, expect
from ketaplan._text import quantity
from ketaplan.capacity import RESOURCES, Placer, check_placer, place_all, resource_use
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError, LimitError, MissingExtraError
from ketaplan.roster import Roster, RosterEntry, protocols_of, roster_clinic
from ketaplan.timing import current_time, zone

__all__ = [
    "MAX_RUNS",
    "MAX_SEEDS",
    "MAX_VALUES",
    "Run",
    "Spread",
    "Variant",
    "VariantResult",
    "WhatIf",
    "dask_executor",
    "whatif",
    "whatif_table",
]

#: At most this many runs (variants times seeds) at once.
MAX_RUNS = 1000
#: At most this many seeds per variant.
MAX_SEEDS = 200
#: At most this many values of one resource.
MAX_VALUES = 20
_MOST = 500  # the most of a resource a clinic may have (Resources)

ExecutorChoice = concurrent.futures.Executor | Literal["processes", "serial"]


class Variant(Model):
    """The clinic's resources in one what-if: chairs, rooms and monitoring staff."""

    chairs: int
    rooms: int
    staff: int
    """Monitoring staff (each watches the clinic's ``patients_per_staff``)."""


class Run(Model):
    """One placement: a variant and a seed, and what came of it."""

    variant: Variant
    seed: int
    patients: int
    served: int
    wait_median: float | None
    """Median days from the requested start to the first session; ``None`` if none served."""
    wait_p90: float | None
    """90th percentile (nearest rank) of the same."""
    utilisation: dict[Ref, float | None]
    """Each resource's hours used over its hours open (:func:`~ketaplan.capacity.resource_use`)."""


class Spread(Model):
    """A figure over the seeds of one variant: lowest, median, highest."""

    low: float
    median: float
    high: float

    def __str__(self) -> str:
        return "/".join(f"{value:g}" for value in (self.low, self.median, self.high))


class VariantResult(Model):
    """One variant's figures, spread over its seeds."""

    variant: Variant
    runs: int
    served: Spread
    wait_median: Spread | None
    """Over the seeds with a patient served."""
    wait_p90: Spread | None
    utilisation: dict[Ref, Spread]


class WhatIf(Model):
    """Every variant's spread, and every run, sorted by variant and seed."""

    clinic: Ref
    clinic_name: Name
    patients: int
    seeds: int
    variants: tuple[VariantResult, ...]
    runs: tuple[Run, ...]


class _Job(NamedTuple):
    """One run's inputs: all it needs, so it can run in another process or on a cluster."""

    entries: tuple[RosterEntry, ...]
    clinic: Clinic
    variant: Variant
    folder: Path
    now: dt.datetime
    seed: int
    placer: Placer


def whatif(
    roster: Roster,
    clinic: Clinic | None = None,
    /,
    *,
    folder: str | Path = ".",
    chairs: Sequence[int] | None = None,
    staff: Sequence[int] | None = None,
    rooms: Sequence[int] | None = None,
    seeds: int = 20,
    now: dt.datetime | None = None,
    executor: ExecutorChoice = "processes",
    workers: int | None = None,
    placer: Placer = place_all,
) -> WhatIf:
    """Place ``roster`` for each variant of the resources and each seed.

    Args:
        roster: the patients.
        clinic: their clinic (default: the roster's, from ``folder``).
        folder: where the roster's relative file names start.
        chairs: the numbers of chairs to try (default: the clinic's).
        staff: the numbers of monitoring staff to try (default: the clinic's).
        rooms: the numbers of rooms to try (default: the clinic's).
        seeds: runs per variant, seeds 0 to ``seeds - 1`` (1 to :data:`MAX_SEEDS`).
        now: the moment of planning, the same for every run (default: now).
        executor: ``"processes"`` (local cores), ``"serial"`` (this process, one after
            another), or a :class:`concurrent.futures.Executor` (kept open: the caller's).
        workers: processes for ``"processes"`` (default: one per core).
        placer: the placement to run.

    Raises:
        InputError: a value is not a whole number in range, or a list is empty.
        LimitError: more than :data:`MAX_RUNS` runs.
    """
    expect("roster", roster, Roster, "a Roster (load_roster(PATH) gives one)")
    expect("folder", folder, (str, Path), "a folder (text or a path)")
    check_placer(placer)
    where = Path(folder)
    clinic = roster_clinic(roster, where) if clinic is None else clinic
    expect("clinic", clinic, Clinic, "a Clinic")
    own = clinic.resources
    variants = [
        Variant(chairs=c, rooms=r, staff=s)
        for c, r, s in itertools.product(
            _values("chairs", chairs, own.chairs),
            _values("rooms", rooms, own.rooms),
            _values("staff", staff, own.monitoring_staff),
        )
    ]
    _whole("seeds", seeds, 1, MAX_SEEDS)
    if len(variants) * seeds > MAX_RUNS:
        asked = f"{quantity(len(variants), 'variant')} x {quantity(seeds, 'seed')}"
        raise LimitError("runs", f"at most {MAX_RUNS} (variants x seeds)", asked)
    moment = aware("now", now) if now is not None else current_time()
    entries = tuple(roster.patients)
    jobs = [
        _Job(entries, _clinic_of(clinic, v), v, where, moment, seed, placer)
        for v in variants
        for seed in range(seeds)
    ]
    runs = sorted(_execute(jobs, executor, workers), key=_key)
    return WhatIf(
        clinic=clinic.id,
        clinic_name=clinic.name,
        patients=len(entries),
        seeds=seeds,
        variants=tuple(_spread(v, [r for r in runs if r.variant == v]) for v in variants),
        runs=tuple(runs),
    )


def _key(run: Run) -> tuple[int, int, int, int]:
    return run.variant.chairs, run.variant.rooms, run.variant.staff, run.seed


def _whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(name, f"a whole number from {low} to {high}", value)
    return value


def _values(name: str, values: Sequence[int] | None, default: int) -> list[int]:
    """The values to try of one resource: the clinic's own when none are given."""
    if values is None:
        return [default]
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise InputError(name, "a non-empty list of whole numbers", values)
    if len(values) > MAX_VALUES:
        raise LimitError(name, f"at most {MAX_VALUES} values", len(values))
    found = [_whole(f"{name}[{index}]", v, 0, _MOST) for index, v in enumerate(values)]
    if len(set(found)) != len(found):
        raise InputError(name, "values that differ from each other", list(values))
    return found


def _clinic_of(clinic: Clinic, variant: Variant) -> Clinic:
    resources = clinic.resources.model_copy(
        update={"chairs": variant.chairs, "rooms": variant.rooms, "monitoring_staff": variant.staff}
    )
    return clinic.model_copy(update={"resources": resources})


def _execute(jobs: list[_Job], executor: object, workers: int | None) -> list[Run]:
    if executor == "serial":
        return [_run(job) for job in jobs]
    if executor == "processes":
        if workers is not None:
            _whole("workers", workers, 1, 256)
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=_fresh()
        ) as pool:
            return list(pool.map(_run, jobs))
    if not isinstance(executor, concurrent.futures.Executor):
        raise InputError(
            "executor", "'processes', 'serial' or a concurrent.futures.Executor", executor
        )
    futures = [executor.submit(_run, job) for job in jobs]
    return [future.result() for future in futures]


def _fresh() -> multiprocessing.context.BaseContext:
    """Worker processes started fresh, not forked from this one (which may run threads)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _run(job: _Job) -> Run:
    """One placement, and its figures: what runs in a worker."""
    placed = job.placer(job.entries, clinic=job.clinic, folder=job.folder, now=job.now,
                        seed=job.seed)  # fmt: skip
    requested = {entry.id: entry.start for entry in job.entries}
    plans = [p.plan for p in placed if p.plan is not None]
    tz = zone(job.clinic.time_zone)
    waits = sorted(
        (min(a.start for a in made.appointments if a.is_active).astimezone(tz).date()
         - requested[p.patient]).days
        for p in placed
        if (made := p.plan) is not None and any(a.is_active for a in made.appointments)
    )  # fmt: skip
    protocols = protocols_of(job.entries, folder=job.folder)  # the plans' own
    _, use = resource_use(plans, job.clinic, protocols=protocols)
    found = {u.resource: u.utilisation for u in use}
    return Run(
        variant=job.variant,
        seed=job.seed,
        patients=len(job.entries),
        served=len(plans),
        wait_median=float(statistics.median(waits)) if waits else None,
        wait_p90=float(waits[math.ceil(0.9 * len(waits)) - 1]) if waits else None,
        utilisation={r: found[r] for r in RESOURCES if r in found},
    )


def _spread_of(values: list[float]) -> Spread | None:
    if not values:
        return None
    return Spread(low=min(values), median=float(statistics.median(values)), high=max(values))


def _spread(variant: Variant, runs: list[Run]) -> VariantResult:
    served = _spread_of([float(r.served) for r in runs])
    assert served is not None  # noqa: S101 - every variant has at least one seed
    used: dict[str, Spread] = {}
    for resource in RESOURCES:
        values = [u for r in runs if (u := r.utilisation.get(resource)) is not None]
        spread = _spread_of(values)
        if spread is not None:
            used[resource] = spread
    return VariantResult(
        variant=variant,
        runs=len(runs),
        served=served,
        wait_median=_spread_of([r.wait_median for r in runs if r.wait_median is not None]),
        wait_p90=_spread_of([r.wait_p90 for r in runs if r.wait_p90 is not None]),
        utilisation=used,
    )


@contextmanager
def dask_executor(address: str, /, *, timeout: float = 10) -> Iterator[concurrent.futures.Executor]:
    """A Dask cluster's executor: its scheduler at ``address`` (``tcp://host:8786``).

    Needs the extra ``ketaplan[cluster]`` (Dask distributed); without it,
    :class:`~ketaplan.errors.MissingExtraError`. A scheduler that does not answer within
    ``timeout`` seconds is an :class:`~ketaplan.errors.InputError`.
    """
    try:
        from distributed import Client  # noqa: PLC0415 - an optional extra, imported when used
    except ImportError as err:
        raise MissingExtraError("cluster", "What-if runs on a Dask cluster") from err
    try:
        client = Client(address, timeout=timeout)  # type: ignore[no-untyped-call]
    except (OSError, ValueError, TypeError) as err:
        raise InputError("scheduler", "the address of a running Dask scheduler", address) from err
    with client:
        yield client.get_executor()  # type: ignore[no-untyped-call]


# -- as text -----------------------------------------------------------------------------------

_SHORT = {"chair": "CHAIRS", "room": "ROOMS", "monitoring-staff": "STAFF", "prescriber": "PRESC."}


def whatif_table(result: WhatIf, /) -> str:
    """The variants as text: each figure as lowest/median/highest over the seeds."""
    expect("result", result, WhatIf, "a WhatIf")
    shown = [r for r in RESOURCES if any(r in v.utilisation for v in result.variants)]
    head = (f"{'CHAIRS':>6} {'ROOMS':>5} {'STAFF':>5}  {'SERVED':<12}{'WAIT MEDIAN':<14}"
            f"{'WAIT P90':<14}" + "".join(f"{_SHORT[r] + ' USED':<19}" for r in shown))  # fmt: skip
    lines = [
        (
            f"What if at {result.clinic_name} ({result.clinic}): "
            f"{quantity(result.patients, 'patient')}, "
            f"{quantity(result.seeds, 'seed')} per variant"
        ),
        "each figure: lowest/median/highest over the seeds; waits in days from the requested start",
        "",
        head.rstrip(),
    ]
    for item in result.variants:
        v = item.variant
        row = (f"{v.chairs:>6} {v.rooms:>5} {v.staff:>5}  {item.served!s:<12}"
               f"{_text(item.wait_median):<14}{_text(item.wait_p90):<14}")  # fmt: skip
        for resource in shown:
            spread = item.utilisation.get(resource)
            row += f"{_percent(spread):<19}"
        lines.append(row.rstrip())
    return "\n".join(lines)


def _text(spread: Spread | None) -> str:
    return "-" if spread is None else str(spread)


def _percent(spread: Spread | None) -> str:
    if spread is None:
        return "-"
    return "/".join(f"{value:.0%}" for value in (spread.low, spread.median, spread.high))
