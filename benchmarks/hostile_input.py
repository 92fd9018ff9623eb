"""Hostile input, by class: each refused (or read) in bounded time and memory.

Issue 14 asks that no input make ketaplan hang or eat memory, measured here rather than in
timed tests. Each row is one hostile input of a class (definition files, plan files, event
files, API calls, free text into every export); its baseline is a well-formed input of the
same kind read in the same process, so the ratio says how much dearer the hostile one is.
Memory is the peak that ``tracemalloc`` sees while the input is handled. Busy calendars have
their own rows (``busy_hostile`` in :mod:`benchmarks.suite`).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from benchmarks.suite import Row, Scale
from ketaplan import Plan, load_protocol, plan, to_ics
from ketaplan.defaults import demo_clinic
from ketaplan.errors import KetaplanError
from ketaplan.loading import load_plan, loads_protocol, read_json_list
from ketaplan.replanning import parse_events

START = dt.date(2026, 12, 1)
MADE = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
#: Text meant to break a calendar or a terminal: control characters, line separators,
#: a literal backslash-N, iCalendar delimiters and a property line.
NASTY = "\x00\x1b[31m\u2028\u2029\\N;,:\r\nX-INJECTED:1\t\x7f" * 60


def _outcome(run: Callable[[], object]) -> str:
    try:
        run()
    except KetaplanError as err:
        return type(err).__name__
    return "read"


def _measured(run: Callable[[], object], *, repeat: int) -> tuple[float, float, str]:
    """The median seconds of ``run``, its peak traced memory in MiB, and what it did."""
    outcome = _outcome(run)
    times = []
    peak = 0
    for _ in range(repeat):
        tracemalloc.start()
        began = tracemalloc.get_traced_memory()[0]
        clock = time.perf_counter()
        _outcome(run)
        times.append(time.perf_counter() - clock)
        peak = max(peak, tracemalloc.get_traced_memory()[1] - began)
        tracemalloc.stop()
    times.sort()
    return times[len(times) // 2], peak / 2**20, outcome


def _definitions(size: int) -> dict[str, str]:
    return {
        "definition: nested 100,000 deep": "a = " + "[" * 100_000 + "]" * 100_000,
        "definition: a 300,000-digit integer": "a = " + "9" * 300_000,
        f"definition: {size:,} unknown fields": "".join(f"field{i} = 1\n" for i in range(size)),
        f"definition: {size:,} bad lines": "x\n" * size,
    }


def _year() -> Plan:
    return plan(load_protocol("iv-ketamine-standard"), start=START, clinic=demo_clinic(),
                until=START + dt.timedelta(days=365), now=MADE, plan_id="hostile")  # fmt: skip


def _plan_files(made: Plan, folder: Path) -> dict[str, Path]:
    data = json.loads(made.model_dump_json())
    repeated = {**data, "appointments": data["appointments"] * 20}
    inverted = {**data, "appointments": [{**a, "end": a["start"], "start": a["end"]}
                                         for a in data["appointments"]]}  # fmt: skip
    scored = {**data, "assessments": [{"on": "2026-12-01", "scale": "phq-9", "score": 1e999}]}
    files = {"plan file: ids repeated 20 times": repeated, "plan file: every end before its start":
             inverted, "plan file: an infinite score": scored}  # fmt: skip
    paths = {}
    for number, (name, content) in enumerate(files.items()):
        path = folder / f"plan-{number}.json"
        path.write_text(json.dumps(content).replace("1e+999", "1e999"))
        paths[name] = path
    return paths


def _rows_for(
    cases: dict[str, Callable[[], object]],
    baseline: Callable[[], object],
    label: str,
    repeat: int,
) -> list[Row]:
    base, _, _ = _measured(baseline, repeat=repeat)
    rows: list[Row] = []
    for name, run in cases.items():
        seconds, peak, outcome = _measured(run, repeat=repeat)
        rows.append(Row("hostile input", f"{name}: {outcome}, peak {peak:.1f} MiB", seconds,
                        "s", label, base))  # fmt: skip
    return rows


def hostile(scale: Scale) -> list[Row]:
    """Every class of hostile input but busy calendars, each against a well-formed baseline."""
    repeat = 1 if scale == "smoke" else 3
    size = 5_000 if scale == "smoke" else 60_000
    good = (resources.files("ketaplan") / "library" / "esketamine-trd.toml").read_text()
    definitions = {
        name: (lambda text=text: loads_protocol(text)) for name, text in _definitions(size).items()
    }
    rows = _rows_for(definitions, lambda: loads_protocol(good), "esketamine-trd.toml", repeat)
    made = _year()
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "plan.json"
        plain.write_text(made.model_dump_json())
        files = _plan_files(made, Path(folder))
        cases = {name: (lambda path=path: load_plan(path)) for name, path in files.items()}
        rows += _rows_for(cases, lambda: load_plan(plain), "a year's plan file", repeat)
        events = Path(folder) / "events.json"
        flood = [{"type": "missed", "appointment": f"induction-{n}"} for n in range(size)]
        events.write_text(json.dumps(flood))
        rows += _rows_for(
            {f"events: {size:,} in one file": lambda: parse_events(read_json_list(events))},
            lambda: parse_events([{"type": "missed", "appointment": "induction-1"}]),
            "one event",
            repeat,
        )
    nasty = made.model_copy(
        update={
            "clinic_name": NASTY[:2000].strip() or "x",
            "appointments": tuple(
                a.model_copy(update={"name": NASTY[:2000], "reason": NASTY * 2})
                for a in made.appointments
            ),
        }
    )
    exports = {
        "free text: control characters in every field, full detail": lambda: to_ics(
            nasty, audience="clinic", detail="full", now=MADE
        ),
    }
    rows += _rows_for(
        exports,
        lambda: to_ics(made, audience="clinic", detail="full", now=MADE),
        "the same plan, plain text",
        repeat,
    )
    return rows
