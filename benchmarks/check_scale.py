"""``check()`` against a clinic's bookings, 10^4 to 10^6 of them (issue 18).

The bookings are chair bookings, ten an hour from 08:00 to 16:00 (80 a day) from the plan's
first day on, each with its own patient and label; they are read into a :class:`Ledger` from a
stream (each :class:`Booking` model is dropped once the ledger has its row), which is how a
clinic's bookings reach ``check`` at this size. The floor is the straightforward algorithm:
sort every booking's start and end and sweep once, counting the chairs in use during each of
the plan's sessions. ``check`` reads only the bookings on the plan's own days (the ledger's day
index), so its time stops growing once the plan's days are full; a second plan, on days before
any of these bookings, shows the cost of unrelated bookings alone.
"""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc
from array import array
from collections.abc import Iterator

from ketaplan import Plan, load_protocol, plan
from ketaplan.bookings import Booking
from ketaplan.checking import check
from ketaplan.ledger import Ledger, seconds
from ketaplan.timing import zone

from .suite import SIZES, STAMP, START, YEAR, Row, Scale, big_clinic, timed

BENCHMARK = "check against n bookings"
#: Issue 18's goals: at most this many times the sort-and-sweep floor, and this much memory.
GOAL_RATIO = 3.0
GOAL_MIB = 500
GOAL_N = 1_000_000
_PER_DAY = 80
_CHAIRS = 10


def stream(count: int, *, first: int = 0) -> Iterator[Booking]:
    """Chair bookings ``first`` to ``count``, ten an hour through the clinic's days (no
    validation)."""
    local = zone(big_clinic().time_zone)
    for n in range(first, count):
        day, slot = divmod(n, _PER_DAY)
        start = dt.datetime.combine(
            START + dt.timedelta(days=day), dt.time(8 + slot // _CHAIRS), tzinfo=local
        )
        yield Booking.model_construct(
            start=start, end=start + dt.timedelta(minutes=50), resource="chair",
            unit=slot % _CHAIRS + 1, patient=f"p{n}", label=f"b{n}", appointment=None, plan=None,
        )  # fmt: skip


def sort_and_sweep(starts: array[int], ends: array[int], spans: list[tuple[int, int]]) -> int:
    """The floor: sort every start and end, sweep once; the plan's sessions over capacity.

    During each span of the plan, the most bookings in use at once (a booking ending as
    another begins does not overlap it); a session finding all the chairs taken counts.
    """
    opens, closes = sorted(starts), sorted(ends)
    queries = sorted(spans)
    active: list[list[int]] = []  # [end, most] of the spans the sweep is in
    over = in_use = i = j = q = 0
    total = len(opens)
    while i < total or j < total:
        if j < total and (i == total or closes[j] <= opens[i]):
            moment, step = closes[j], -1
            j += 1
        else:
            moment, step = opens[i], 1
            i += 1
        while q < len(queries) and queries[q][0] < moment:  # events at its start are in
            active.append([queries[q][1], in_use])
            q += 1
        in_use += step
        still = []
        for span in active:
            if span[0] <= moment:
                over += span[1] >= _CHAIRS
            else:
                span[1] = max(span[1], in_use)
                still.append(span)
        active = still
    return over + sum(span[1] >= _CHAIRS for span in active)


def _plans() -> tuple[Plan, Plan]:
    """The plan the bookings crowd, and one on days before any of them (with a second
    patient's identical sessions as its only related bookings)."""
    clinic = big_clinic()
    protocol = load_protocol("esketamine-trd")
    crowded = plan(protocol, start=START, clinic=clinic, until=START + YEAR, now=STAMP)
    earlier = START - YEAR - dt.timedelta(days=30)
    apart = plan(protocol, start=earlier, clinic=clinic, until=earlier + YEAR,
                 now=STAMP - YEAR - YEAR)  # fmt: skip
    return crowded, apart


def check_scale(scale: Scale) -> list[Row]:
    """Check against n bookings in a ledger and (up to a size) in a list; floor: sort and sweep."""
    clinic = big_clinic()
    protocol = load_protocol("esketamine-trd")
    crowded, apart = _plans()
    sizes = SIZES[scale].check
    # Memory first, in a process that has held nothing bigger yet.
    memory = [_memory(sizes[-1], crowded)] if scale == "full" else []
    ledger = Ledger(clinic)
    for booking in apart.model_copy(update={"id": "other", "patient": "other"}).bookings():
        ledger.add(booking)
    starts, ends = array("q"), array("q")
    spans = [(seconds(s.start), seconds(s.end)) for a in crowded.appointments
             for s in a.resources if s.resource == "chair"]  # fmt: skip
    rows: list[Row] = []
    read = 0
    loading = 0.0
    flat = []
    for count in sizes:
        began = time.perf_counter()
        ledger.extend(stream(count, first=read))
        loading += time.perf_counter() - began
        for booking in stream(count, first=read):  # the floor's input, apart (not timed)
            starts.append(seconds(booking.start))
            ends.append(seconds(booking.end))
        read = count
        ours = timed(lambda: check(crowded, protocol=protocol, clinic=clinic, bookings=ledger),
                     repeat=5)  # fmt: skip
        floor = timed(lambda: sort_and_sweep(starts, ends, spans), repeat=1)
        note = f"the stream read into the ledger at {loading * 1e6 / count:.1f} µs a booking"
        rows.append(_row(f"n = {count:,}, in a Ledger", ours, floor, note, goal=count == GOAL_N))
        if count <= SIZES[scale].list_limit:
            listed = list(stream(count))
            ours = timed(lambda b=listed: check(crowded, protocol=protocol, clinic=clinic,
                                                bookings=b), repeat=1)  # fmt: skip
            note = "the list's bookings on the plan's days indexed first"
            rows.append(_row(f"n = {count:,}, as a list of Booking", ours, floor, note))
            del listed
        flat.append(
            timed(lambda: check(apart, protocol=protocol, clinic=clinic, bookings=ledger), repeat=5)
        )
    rows += _unrelated(sizes, flat, len(apart.appointments))
    return rows + memory


def _row(figure: str, ours: float, floor: float, note: str, *, goal: bool = False) -> Row:
    """A row of ``check``'s time against the floor's; the goal is the issue's, at 10^6."""
    if not goal:
        return Row(BENCHMARK, figure, ours * 1000, "ms", "sort and sweep", floor * 1000, note)
    return Row(BENCHMARK, figure, ours * 1000, "ms", "sort and sweep", floor * 1000, note,
               goal=f"ratio ≤ {GOAL_RATIO:g}", met=ours <= GOAL_RATIO * floor)  # fmt: skip


def _unrelated(sizes: tuple[int, ...], times: list[float], appointments: int) -> list[Row]:
    """The plan on days none of the n bookings touch: its check time, flat in n."""
    return [
        Row(
            BENCHMARK,
            f"{appointments} appointments, n = {count:,} unrelated",
            took * 1000,
            "ms",
            note=f"x{took / times[0]:.2f} of n = {sizes[0]:,}",
            goal="flat in n",
            met=took <= 2 * times[0],
        )
        for count, took in zip(sizes, times, strict=True)
    ]


def _memory(count: int, crowded: Plan) -> Row:
    """Peak memory (tracemalloc) of reading ``count`` bookings into a ledger and checking."""
    clinic = big_clinic()
    tracemalloc.start()
    try:
        ledger = Ledger(clinic, stream(count))
        check(crowded, clinic=clinic, bookings=ledger)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    note = "the ledger read from the stream, and check; not the interpreter or the modules"
    return Row(BENCHMARK, f"peak memory, n = {count:,} (tracemalloc)", peak, "MiB", note=note,
               goal=f"≤ {GOAL_MIB} MiB", met=peak <= GOAL_MIB)  # fmt: skip
