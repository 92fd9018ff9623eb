"""The benchmarks: each measures ketaplan and a baseline in the same process, at a scale.

Every benchmark returns :class:`Row` s. A row's ``ratio`` is ketaplan's figure over the
baseline's (for times: how many times slower ketaplan is; below 1 means faster), because
only ratios measured side by side survive a noisy machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import io
import itertools
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple
from unittest import mock
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from dateutil.rrule import WEEKLY, rrule
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaplan import Plan, Protocol, builtin_protocols, load_protocol, plan, strategies
from ketaplan._model import Model
from ketaplan.checking import check
from ketaplan.clinic import Clinic
from ketaplan.defaults import demo_clinic
from ketaplan.errors import KetaplanError, UnsatisfiableError
from ketaplan.ics import EventCache, to_ics
from ketaplan.ics.lines import MAX_COMPONENTS
from ketaplan.ics.reading import bookings_from_ics
from ketaplan.ledger import Ledger
from ketaplan.openings import ClinicCalendar
from ketaplan.patient import Busy, Patient

from .hostile import HOSTILE, SPAN, calendar, event, many_events, many_rdates

Scale = Literal["smoke", "full"]


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark runs."""

    repeat: int
    patients: int
    check: tuple[int, ...]
    list_limit: int
    """Check against bookings in a list, besides a ledger, up to this many."""
    export: int
    events: int
    examples: int
    busy: tuple[int, ...]
    """Sizes of the big busy calendars (events, and RDATEs of one event)."""


#: Sizes per scale: the full run is the issue's; the smoke run keeps the code from rotting.
SIZES: dict[Scale, Sizes] = {
    "smoke": Sizes(repeat=3, patients=40, check=(1_000, 10_000), list_limit=10_000,
                   export=2_000, events=2_000, examples=20, busy=(1_000,)),
    "full": Sizes(repeat=15, patients=2000, check=(10_000, 100_000, 1_000_000),
                  list_limit=100_000, export=100_000, events=50_000, examples=300,
                  busy=(10_000, MAX_COMPONENTS)),
}  # fmt: skip

#: The clinic benchmark's protocols, in turn: the in-clinic built-ins it was first measured
#: with. A fixed list, so that adding a built-in does not change what the figure measures.
CLINIC_MIX = (
    "esketamine-mdsi",
    "esketamine-trd",
    "iv-ketamine-kap",
    "iv-ketamine-mwf",
    "iv-ketamine-pain",
    "iv-ketamine-standard",
    "sc-ketamine-anxiety",
)

START = dt.date(2026, 12, 1)
YEAR = dt.timedelta(days=365)
STAMP = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Row:
    """One figure, its baseline and their ratio."""

    benchmark: str
    figure: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    note: str = ""
    goal: str = ""
    """The issue's goal for this figure, in words (``"ratio ≤ 20"``), when it has one."""
    met: bool | None = None
    """Whether the figure meets :attr:`goal`."""

    @property
    def ratio(self) -> float | None:
        if not self.baseline_value:
            return None
        return self.value / self.baseline_value


def timed(run: Callable[[], object], *, repeat: int) -> float:
    """The median wall time of ``run`` in seconds, after one warm-up call."""
    run()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


# -- 1. one patient --------------------------------------------------------------------------


#: Issue 18's goal for one patient-year's plan: at most this many times its rrule floor.
PLAN_GOAL = 20.0
#: The floor takes microseconds: each of its samples is this many runs in a row.
_FLOOR_BATCH = 20


def side_by_side(
    ours: Callable[[], object],
    floor: Callable[[], object],
    *,
    repeat: int,
    batch: int,
    collect: bool = False,
) -> tuple[float, float]:
    """The median CPU time (s) of ``ours`` and of one run of ``floor``, measured in turn.

    Each sample of ours is followed by a sample of ``batch`` runs of the floor, so both see
    the same load on a shared machine; one warm-up call of each first. ``collect``: a full
    collection before each sample, outside its time, so each starts from the same heap.
    """
    ours()
    floor()
    mine, base = [], []
    for _ in range(repeat):
        if collect:
            gc.collect()
        began = time.process_time()
        ours()
        mine.append(time.process_time() - began)
        if collect:
            gc.collect()
        began = time.process_time()
        for _ in range(batch):
            floor()
        base.append((time.process_time() - began) / batch)
    return statistics.median(mine), statistics.median(base)


def plan_one(scale: Scale) -> list[Row]:
    """Each built-in, one year, the demo clinic; floor: the same number of dates by rrule.

    Both are CPU times (``time.process_time``) in this process, measured in turn
    (:func:`side_by_side`); the plan is made as of :data:`STAMP`, so the figure does not
    depend on the day it runs.
    """
    clinic = demo_clinic()
    repeat = SIZES[scale].repeat
    rows = []
    for protocol in builtin_protocols():
        run = functools.partial(
            plan, protocol, start=START, clinic=clinic, until=START + YEAR, now=STAMP
        )
        count = len(run().appointments)
        first = dt.datetime.combine(START, dt.time(9))

        def floor(count: int = count, first: dt.datetime = first) -> list[dt.datetime]:
            return list(rrule(WEEKLY, dtstart=first, count=count))

        ours, base = side_by_side(run, floor, repeat=repeat, batch=_FLOOR_BATCH)
        ratio = ours / base
        rows.append(
            Row(
                "plan one patient, one year",
                protocol.id,
                ours * 1000,
                "ms",
                f"rrule, {count} dates",
                base * 1000,
                note=f"{ours * 1000 / count:.3f} ms per appointment; CPU time, median",
                goal=f"ratio ≤ {PLAN_GOAL:g}",
                met=ratio <= PLAN_GOAL,
            )
        )
        build, made = objects_of(run())
        alone, base = side_by_side(build, floor, repeat=repeat, batch=_FLOOR_BATCH)
        rows.append(
            Row(
                "plan one patient, one year",
                f"{protocol.id}: its {made:,} objects alone",
                alone * 1000,
                "ms",
                f"rrule, {count} dates",
                base * 1000,
                note=f"{100 * alone / ours:.0f} % of the plan's time; no search, no rules",
            )
        )
    return [*rows, _busy_patient(clinic, repeat=repeat)]


#: A patient's commitments in the busy-patient row: a synced calendar of two years.
BUSY_COMMITMENTS = 10_000


def _busy_patient(clinic: Clinic, *, repeat: int) -> Row:
    """esketamine-trd's year for a patient with many commitments, against one with none.

    The commitments fall early in the morning, before the clinic opens, every day for two
    years: each day's search reads only those near it, so the plan should cost about the same.
    """
    zone = ZoneInfo(clinic.time_zone)
    busy = []
    for n in range(BUSY_COMMITMENTS):
        day = START + dt.timedelta(days=(n * 730) // BUSY_COMMITMENTS)
        begins = dt.datetime.combine(day, dt.time(6 + n % 2), tzinfo=zone)
        busy.append(Busy(start=begins, end=begins + dt.timedelta(minutes=30), label="busy"))
    protocol = load_protocol("esketamine-trd")
    options = {"start": START, "clinic": clinic, "until": START + YEAR, "now": STAMP}
    crowded = Patient(id="busy", appointments=tuple(busy))
    free = Patient(id="free")
    ours, base = side_by_side(
        functools.partial(plan, protocol, patient=crowded, **options),
        functools.partial(plan, protocol, patient=free, **options),
        repeat=max(3, repeat // 3),
        batch=1,
    )
    return Row(
        "plan one patient, one year",
        f"esketamine-trd, a patient with {BUSY_COMMITMENTS:,} commitments",
        ours * 1000,
        "ms",
        "the same, a patient with none",
        base * 1000,
        note="each day reads only the commitments near it",
    )


def objects_of(made: Model) -> tuple[Callable[[], object], int]:
    """A call that builds ``made`` and every model in it from their values, and their number.

    The part of a plan that any engine returning these models pays: each is made with
    ``Model.trusted`` (no validation) from values worked out beforehand.
    """
    count = 0

    def recipe(model: Model) -> Callable[[], Model]:
        nonlocal count
        count += 1
        plain = dict(model.__dict__)
        nested: list[tuple[str, Callable[[], Model] | tuple[Callable[[], Model], ...]]] = []
        for name, value in model.__dict__.items():
            if isinstance(value, Model):
                nested.append((name, recipe(value)))
            elif isinstance(value, tuple) and value and isinstance(value[0], Model):
                nested.append((name, tuple(recipe(item) for item in value)))
        kind = type(model)
        if not nested:
            return functools.partial(kind.trusted, **plain)

        def build() -> Model:
            values = dict(plain)
            for name, part in nested:
                values[name] = part() if callable(part) else tuple(m() for m in part)
            return kind.trusted(**values)

        return build

    return recipe(made), count


# -- 2. a whole clinic -----------------------------------------------------------------------


def big_clinic() -> Clinic:
    """The demo clinic with 10 chairs and 3 monitoring staff (2 patients each)."""
    base = demo_clinic()
    resources = base.resources.model_copy(update={"chairs": 10, "monitoring_staff": 3})
    return base.model_copy(update={"id": "bench-clinic", "resources": resources})


def plan_clinic(scale: Scale) -> list[Row]:
    """Patients starting across a year, planned one after another into one ledger."""
    clinic = big_clinic()
    count = SIZES[scale].patients
    protocols = [load_protocol(protocol_id) for protocol_id in CLINIC_MIX]
    ledger = Ledger(clinic)
    placed = failed = moved = full = 0
    moved_days: list[int] = []
    chair_seconds = 0.0
    began = time.perf_counter()
    for n in range(count):
        protocol = protocols[n % len(protocols)]
        start = START + dt.timedelta(days=(n * 365) // count)
        try:
            made = plan(protocol, start=start, clinic=clinic, bookings=ledger,
                        until=start + dt.timedelta(days=180), now=STAMP)  # fmt: skip
        except UnsatisfiableError as err:
            failed += 1
            full += any("no chair free" in reason for _, reason in err.blocked)
            continue
        for booking in made.bookings():
            ledger.add(booking)
        for appointment in made.appointments:
            placed += 1
            if appointment.target is not None and appointment.local_date != appointment.target:
                moved += 1
                moved_days.append(abs((appointment.local_date - appointment.target).days))
            for span in appointment.resources:
                if span.resource == "chair":
                    chair_seconds += (span.end - span.start).total_seconds()
    elapsed = time.perf_counter() - began
    open_seconds = _open_chair_seconds(clinic, START, START + YEAR + dt.timedelta(days=180))
    mean_moved = statistics.mean(moved_days) if moved_days else 0.0
    label = f"{count} patients, 10 chairs, 3 staff"
    return [
        Row(
            "plan a clinic",
            label,
            elapsed,
            "s",
            note=f"{failed} could not be planned ({full} met days with no chair free)",
        ),
        Row("plan a clinic", "sessions placed", placed, ""),
        Row("plan a clinic", "chair utilisation", 100 * chair_seconds / open_seconds, "%"),
        Row(
            "plan a clinic",
            "sessions off their target date",
            moved,
            "",
            note=f"mean {mean_moved:.1f} days, max {max(moved_days, default=0)}",
        ),
    ]


def _open_chair_seconds(clinic: Clinic, first: dt.date, last: dt.date) -> float:
    calendar = ClinicCalendar(clinic)
    total = 0.0
    day = first
    while day < last:
        for hours in calendar.ranges(day):
            start = dt.datetime.combine(day, hours.start)
            end = dt.datetime.combine(day, hours.end)
            total += (end - start).total_seconds()
        day += dt.timedelta(days=1)
    return total * clinic.resources.chairs


# -- 3. check at scale: benchmarks/check_scale.py -------------------------------------------


def check_scale(scale: Scale) -> list[Row]:
    from benchmarks.check_scale import check_scale as run  # noqa: PLC0415 - it imports this module

    return run(scale)


# -- 4. export -------------------------------------------------------------------------------


def clinic_plans(count: int) -> list[Plan]:
    """Plans with ``count`` appointments in all, by re-using one year's plan per patient."""
    clinic = demo_clinic()
    template = plan(load_protocol("iv-ketamine-standard"), start=START, clinic=clinic,
                    until=START + YEAR, now=STAMP)  # fmt: skip
    plans = []
    total = 0
    for n in itertools.count():
        if total >= count:
            break
        keep = template.appointments[: count - total]
        plans.append(template.model_copy(update={"id": f"plan-{n}", "patient": f"p{n}",
                                                 "appointments": keep}))  # fmt: skip
        total += len(keep)
    return plans


#: Issue 18's goal for a first export: at most this many times the hand-written floor.
EXPORT_GOAL = 1.3


#: How many times the first export and its floor are each timed, in turn.
_EXPORT_ROUNDS = 3


def export(scale: Scale) -> list[Row]:
    """``to_ics`` of a clinic's plans against the same events written by hand.

    The baselines (:mod:`benchmarks.export_baselines`) write the same 14 properties per event
    with ketaplan's own words; the note says how much of their time composing the words takes.
    """
    from benchmarks import export_baselines as by_hand  # noqa: PLC0415 - it imports this module

    count = SIZES[scale].export
    plans = clinic_plans(count)
    # The goal's ratio: ours and the floor in turn, three times, each from a collected heap
    # (one run of each swung from 1.02 to 1.31 with the load and the collector's timing).
    ours, floor = side_by_side(
        lambda: to_ics(plans, audience="clinic", now=STAMP),
        lambda: by_hand.with_fstrings(plans, STAMP),
        repeat=_EXPORT_ROUNDS,
        batch=1,
        collect=True,
    )
    icalendar_ = timed(lambda: by_hand.with_icalendar(plans, STAMP), repeat=1)

    def words() -> None:
        checks = by_hand.checkpoints(plans)
        for made in plans:
            for appointment in made.appointments:
                by_hand.words(made, appointment, checks.get((made.id, appointment.id), ()))

    said = timed(words, repeat=1)
    cache = EventCache()
    to_ics(plans, audience="clinic", now=STAMP, cache=cache)
    later = STAMP + dt.timedelta(hours=1)  # a new DTSTAMP: the nightly feed, re-exported
    warm = timed(lambda: to_ics(plans, audience="clinic", now=later, cache=cache), repeat=1)
    per = 1e6 / count
    note = f"of which the words {said * per:.1f} µs/event"
    first = f"{count:,} appointments, first export"
    return [
        Row("export .ics", first, ours * per, "µs/event",
            "icalendar, the same 14 properties", icalendar_ * per, note),
        Row("export .ics", first, ours * per, "µs/event", "f-strings, the same 14 properties",
            floor * per, note, goal=f"ratio ≤ {EXPORT_GOAL:g}",
            met=ours <= EXPORT_GOAL * floor),
        Row("export .ics", f"{count:,} appointments, again with EventCache", warm * per,
            "µs/event", "icalendar, the same 14 properties", icalendar_ * per),
    ]  # fmt: skip


# -- 5. import -------------------------------------------------------------------------------


def busy_calendar(count: int) -> bytes:
    """A clinic calendar of ``count`` events, one in fifty a weekly recurring one."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    first = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)
    for n in range(count):
        start = first + dt.timedelta(minutes=30 * (n % 500), days=n // 500)
        lines += ["BEGIN:VEVENT", f"UID:e{n}@bench", "DTSTAMP:20261121T000000Z",
                  f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
                  f"DTEND:{start + dt.timedelta(minutes=25):%Y%m%dT%H%M%SZ}",
                  "SUMMARY:busy"]  # fmt: skip
        if n % 50 == 0:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=20")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def import_ics(scale: Scale) -> list[Row]:
    count = SIZES[scale].events
    data = busy_calendar(count)
    end = START + dt.timedelta(days=400)

    def ours() -> int:
        return len(bookings_from_ics(data, start=START, end=end, resource="chair"))

    def baseline() -> int:
        calendar = icalendar.Calendar.from_ical(data)
        return len(list(recurring_ical_events.of(calendar).between(START, end)))

    found = ours()
    return [
        Row(
            "import .ics",
            f"{count:,} events, {found:,} busy times",
            timed(ours, repeat=1),
            "s",
            "icalendar + recurring-ical-events",
            timed(baseline, repeat=1),
        )
    ]


# -- 6. hostile busy calendars ------------------------------------------------------------------


def _read(data: bytes) -> str:
    """Read ``data`` for :data:`SPAN`; what it gave, in words."""
    try:
        found = bookings_from_ics(data, start=SPAN[0], end=SPAN[1], resource="chair")
    except KetaplanError as err:
        return type(err).__name__
    return f"{len(found):,} busy times"


def _peak_mib(run: Callable[[], object]) -> float:
    """The peak of memory allocated by ``run``, in MiB (tracemalloc)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def busy_hostile(scale: Scale) -> list[Row]:
    """Reading big and hostile busy calendars: time, peak memory and what each gives.

    Baseline of a big file: icalendar parsing it alone. Baseline of a hostile file: reading a
    calendar of one plain event. Peak memory (tracemalloc) is measured at full size only, in
    the note; the process's own peak is not reported, as tracemalloc's bookkeeping inflates it.
    """
    full = scale == "full"
    rows = []
    for count in SIZES[scale].busy:
        for kind, data in (("events", many_events(count)), ("RDATEs", many_rdates(count))):
            ours = timed(lambda d=data: _read(d), repeat=1)
            parse = timed(lambda d=data: icalendar.Calendar.from_ical(d), repeat=1)
            peak = ""
            if full:
                ours_peak = _peak_mib(lambda d=data: _read(d))
                parse_peak = _peak_mib(lambda d=data: icalendar.Calendar.from_ical(d))
                peak = f"peak {ours_peak:,.0f} MiB (parse alone {parse_peak:,.0f}); "
            rows.append(Row("busy calendars", f"{count:,} {kind}, per 10,000", ours * 1e4 / count,
                            "s", "icalendar parse alone", parse * 1e4 / count,
                            peak + _read(data)))  # fmt: skip
    plain = calendar(event())
    floor = timed(lambda: _read(plain), repeat=SIZES[scale].repeat) * 1000
    for name, data in HOSTILE.items():
        ours = timed(lambda d=data: _read(d), repeat=1) * 1000
        peak = f"peak {_peak_mib(lambda d=data: _read(d)):,.1f} MiB; " if full else ""
        rows.append(Row("busy calendars", f"hostile: {name} ({len(data):,} bytes)", ours, "ms",
                        "one plain event", floor, peak + _read(data)))  # fmt: skip
    return rows


# -- 7. property throughput --------------------------------------------------------------------
# -- 5b. FHIR --------------------------------------------------------------------------------


def fhir(scale: Scale) -> list[Row]:
    """FHIR export against the calendar export, and the busy import against the models alone."""
    from fhir.resources.R4B.bundle import Bundle  # noqa: PLC0415 - an optional extra

    from ketaplan.fhir import bookings_from_fhir, to_fhir  # noqa: PLC0415 - an optional extra

    # With their tasks, about 12 KB an appointment in a transaction Bundle: 4,000 keep it
    # within the bound a Bundle is read under (MAX_FHIR_BYTES, 50 MiB); 5,000 no longer did.
    count = SIZES[scale].export // 25
    plans = clinic_plans(count)
    ours = timed(lambda: to_fhir(plans, audience="clinic", now=STAMP), repeat=1)
    calendar = timed(lambda: to_ics(plans, audience="clinic", now=STAMP), repeat=1)
    data = to_fhir(plans, audience="clinic", bundle="transaction", now=STAMP)
    end = START + dt.timedelta(days=400)
    read = timed(lambda: bookings_from_fhir(data, start=START, end=end, resource="chair"), repeat=1)
    models = timed(lambda: Bundle.model_validate_json(data), repeat=1)
    per = 1e6 / count
    return [
        Row("FHIR", f"{count:,} appointments, export (clinic, full)", ours * per,
            "µs/appointment", "to_ics, the same plans", calendar * per),
        Row("FHIR", f"{count:,} appointments, import as busy times", read * per,
            "µs/appointment", "fhir.resources parsing the Bundle", models * per),
    ]  # fmt: skip


# -- 6. property throughput --------------------------------------------------------------------


#: Issue 18's goals for property tests: examples a second, and the share rejected at most.
THROUGHPUT_GOAL = 200
REJECTED_GOAL = 0.02


def throughput(scale: Scale) -> list[Row]:
    """``@given(strategies.plans(...))`` running ``check``: examples a second, and rejected.

    esketamine-trd at the demo clinic, from drawn start dates, for 180 days; with a patient
    drawn or none (``patient`` not given), and with no patient (``patient=st.none()``). A
    warm-up run first (ketaplan loads its drug names on the first medication it reads).
    Baseline: plan + check of one fixed input.
    """
    examples = SIZES[scale].examples
    protocol = load_protocol("esketamine-trd")
    clinic = demo_clinic()
    rows = []
    one = timed(lambda: check(plan(protocol, start=START, clinic=clinic, now=STAMP,
                                   until=START + dt.timedelta(days=180)),
                              protocol=protocol, clinic=clinic), repeat=5)  # fmt: skip
    for label, patients in (("patient drawn or none", None), ("no patient", st.none())):
        found = _examples(protocol, clinic, patients, examples)
        rate, made, unsatisfiable = found.rate, found.made, found.unsatisfiable
        rejected = unsatisfiable / max(1, made + unsatisfiable)
        rows += [
            Row("property throughput", f"strategies.plans + check, {label}", rate,
                "examples/s", "plan + check, fixed input", 1 / one, note=_spent(found),
                goal=f"≥ {THROUGHPUT_GOAL}", met=rate >= THROUGHPUT_GOAL),
            Row("property throughput", f"rejected as unsatisfiable, {label}", 100 * rejected,
                "%", note=f"{unsatisfiable} of {made + unsatisfiable} inputs",
                goal=f"< {REJECTED_GOAL:.0%}", met=rejected < REJECTED_GOAL),
        ]  # fmt: skip
    return rows + _throughput_by_protocol(clinic, examples // 2)


def _throughput_by_protocol(clinic: Clinic, examples: int) -> list[Row]:
    """Every built-in's examples a second (no patient), for the protocol authors who test theirs.

    A protocol's rate follows what its plan holds (sessions, instructions, checkpoints) and how
    much its search backtracks; esketamine-trd, the row above, holds the most.
    """
    rows = []
    for protocol in builtin_protocols():
        found = _examples(protocol, clinic, st.none(), examples)
        rows.append(
            Row("property throughput", f"strategies.plans + check, {protocol.id}, no patient",
                found.rate, "examples/s", note=f"{found.unsatisfiable} rejected as unsatisfiable",
                goal=f"≥ {THROUGHPUT_GOAL}", met=found.rate >= THROUGHPUT_GOAL)
        )  # fmt: skip
    return rows


def _examples(
    protocol: Protocol, clinic: Clinic, patients: st.SearchStrategy[None] | None, examples: int
) -> Examples:
    """Examples a second of a property test, the inputs planned and found unsatisfiable, and
    the seconds spent planning (those inputs apart) and checking."""
    attempts = {"made": 0, "unsatisfiable": 0}
    spent = {"plan": 0.0, "unsatisfiable": 0.0, "check": 0.0}
    real = strategies.plan

    def counted(*args: Any, **options: Any) -> Plan:
        began = time.perf_counter()
        try:
            made = real(*args, **options)
        except UnsatisfiableError:
            attempts["unsatisfiable"] += 1
            spent["unsatisfiable"] += time.perf_counter() - began
            raise
        attempts["made"] += 1
        spent["plan"] += time.perf_counter() - began
        return made

    @settings(max_examples=examples, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategies.plans(protocol=protocol, clinic=clinic, patient=patients))
    def property_test(made: Plan) -> None:
        began = time.perf_counter()
        check(made, protocol=protocol, clinic=clinic)
        spent["check"] += time.perf_counter() - began

    property_test()  # the warm-up
    spent.update(plan=0.0, check=0.0)
    with mock.patch.object(strategies, "plan", counted), collecting() as collected:
        began = time.perf_counter()
        property_test()
        seconds = time.perf_counter() - began
    shares = {name: value / seconds for name, value in spent.items()}
    return Examples(examples / seconds, attempts["made"], attempts["unsatisfiable"],
                    collected[0] / seconds, shares["plan"], shares["unsatisfiable"],
                    shares["check"])  # fmt: skip


def _spent(found: Examples) -> str:
    """Where a property run's time went, as a row's note."""
    rest = 1 - found.planning - found.unplannable - found.checking
    return (f"plan {found.planning:.0%}, inputs that cannot be planned {found.unplannable:.0%}, "
            f"check {found.checking:.0%}, drawing and Hypothesis {rest:.0%}; "
            f"the cycle collector {found.collecting:.0%} of the run")  # fmt: skip


class Examples(NamedTuple):
    """What a property run measured: examples a second, inputs planned and rejected."""

    rate: float
    made: int
    unsatisfiable: int
    collecting: float
    """The share of the run the cycle collector took (all generations)."""
    planning: float
    """The share of the run in ``plan()`` for the inputs it planned."""
    unplannable: float
    """The share of the run in ``plan()`` for the inputs it found unsatisfiable."""
    checking: float
    """The share of the run in ``check()``."""


@contextlib.contextmanager
def collecting() -> Iterator[list[float]]:
    """The seconds the cycle collector runs inside the block, in a one-item list."""
    spent = [0.0]
    began = [0.0]

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - began[0]

    gc.callbacks.append(timer)
    try:
        yield spent
    finally:
        gc.callbacks.remove(timer)


def pictures(scale: Scale) -> list[Row]:
    """A long plan's timeline and a clinic's week (:mod:`benchmarks.pictures`)."""
    from benchmarks.pictures import pictures as drawn  # noqa: PLC0415 - it imports this module

    return drawn(scale)


def hostile_input(scale: Scale) -> list[Row]:
    """Every class of hostile input but busy calendars (:mod:`benchmarks.hostile_input`)."""
    from benchmarks.hostile_input import hostile  # noqa: PLC0415 - it imports this module

    return hostile(scale)


def _shrinking(scale: Scale) -> list[Row]:
    """How long a failing property takes to shrink (benchmarks/shrinking.py)."""
    from .shrinking import shrinking  # noqa: PLC0415 - it imports this module's Row

    return shrinking(scale)


def _placement(scale: Scale) -> list[Row]:
    """Placement across patients against CP-SAT (benchmarks/placement.py)."""
    from .placement import placement  # noqa: PLC0415 - it imports this module's Row

    return placement(scale)


def _placement_clinic(scale: Scale) -> list[Row]:
    """The benchmark clinic placed across patients (benchmarks/placement_clinic.py)."""
    from .placement_clinic import placement_clinic  # noqa: PLC0415 - it imports this module

    return placement_clinic(scale)


def _whatif(scale: Scale) -> list[Row]:
    """What-if runs of the example roster (benchmarks/whatif_runs.py)."""
    from .whatif_runs import whatif_runs  # noqa: PLC0415 - it imports this module's Row

    return whatif_runs(scale)


def _disruption(scale: Scale) -> list[Row]:
    """A closed day re-planned around (benchmarks/disruption.py)."""
    from .disruption import disruption  # noqa: PLC0415 - it imports this module's Row

    return disruption(scale)


BENCHMARKS: dict[str, Callable[[Scale], list[Row]]] = {
    "plan_one": plan_one,
    "hostile": hostile_input,
    "plan_clinic": plan_clinic,
    "check": check_scale,
    "export": export,
    "import": import_ics,
    "busy_hostile": busy_hostile,
    "fhir": fhir,
    "throughput": throughput,
    "shrinking": _shrinking,
    "pictures": pictures,
    "placement": _placement,
    "placement_clinic": _placement_clinic,
    "whatif": _whatif,
    "disruption": _disruption,
}

#: Benchmarks whose peak memory the table reports (each runs in its own process).
MEMORY = ("plan_clinic", "check", "export", "import", "fhir", "hostile")


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    out = io.StringIO()
    out.write("| benchmark | figure | value | baseline | baseline value | ratio | goal | note |\n")
    out.write("| --- | --- | ---: | --- | ---: | ---: | --- | --- |\n")
    for row in rows:
        base = "" if row.baseline_value is None else f"{_number(row.baseline_value)} {row.unit}"
        ratio = "" if row.ratio is None else f"{row.ratio:,.2f}"
        goal = row.goal
        if goal and row.met is not None:
            goal += " (met)" if row.met else " (not met)"
        out.write(f"| {row.benchmark} | {row.figure} | {_number(row.value)} {row.unit} | "
                  f"{row.baseline} | {base} | {ratio} | {goal} | {row.note} |\n")  # fmt: skip
    return out.getvalue()


def _number(value: float) -> str:
    """Three significant figures, without exponents: 0.0421, 7.24, 138, 5,110."""
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"
