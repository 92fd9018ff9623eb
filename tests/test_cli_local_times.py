"""A local time typed at the command line is read by its protocol's calendar policy.

A protocol's ``calendar.skipped_time`` and ``repeated_time`` say how the planner reads a wall time
the clocks skip or repeat (``"raise"``: refuse it). A time typed without an offset (``--now``,
``--as-of``, ``moved:ID@TIME``...) was read by RFC 5545 whatever the protocol said, so a clinic
whose protocol says ``"raise"`` had a move to 02:30 on a spring-forward night silently booked at
03:30 (review). ``plan``, ``replan``, ``check`` and ``alternatives``, which work with one
protocol, now read it by that protocol's policy (``timing.resolve``, the planner's one rule);
commands over many plans keep RFC 5545 (see docs/planning.md, Time).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketaplan import load_protocol

from .test_cli import ketaplan, run

SKIPPED = "2026-03-08T02:30"  # the clocks go from 02:00 to 03:00 in New York
REPEATED = "2026-11-01T01:30"  # 01:00 to 02:00 happens twice in New York


def _protocol(folder: Path, name: str, *, skipped: str, repeated: str) -> Path:
    """``iv-ketamine-mwf`` as ``mwf-NAME``, with these calendar policies, as a file."""
    base = load_protocol("iv-ketamine-mwf")
    policy = base.calendar.model_copy(update={"skipped_time": skipped, "repeated_time": repeated})
    path = folder / f"{name}.json"
    own = base.model_copy(update={"id": f"mwf-{name}", "calendar": policy})
    path.write_text(own.model_dump_json(), encoding="utf-8")
    return path


@pytest.fixture
def strict(tmp_path: Path) -> Path:
    return _protocol(tmp_path, "strict", skipped="raise", repeated="raise")


def _raised(field: str, typed: str, problem: str, policy: str) -> str:
    day, _, clock = typed.partition("T")
    return (
        f"ketaplan: error: {field}: must be a time with its UTC offset, or a local time that "
        f"exists once in America/New_York: {day} {clock} {problem} and protocol mwf-strict's "
        f"{policy} is 'raise'; got '{typed}'\n"
    )


GONE = ("does not exist (clocks go forward)", "skipped_time")
TWICE = ("happens twice (clocks go back)", "repeated_time")


def test_plan_reads_now_by_its_protocol(strict: Path, tmp_path: Path) -> None:
    result = ketaplan("plan", str(strict), "--start", "2026-03-09", "--clinic", "demo",
                      "--now", SKIPPED)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == _raised("--now", SKIPPED, *GONE)
    result = ketaplan("plan", str(strict), "--start", "2026-11-02", "--clinic", "demo",
                      "--now", REPEATED)  # fmt: skip
    assert result.stderr == _raised("--now", REPEATED, *TWICE)
    # With its offset, the time is exact: nothing to resolve.
    path = tmp_path / "made.json"
    code, text = run("plan", str(strict), "--start", "2026-03-09", "--clinic", "demo",
                     "--now", "2026-03-08T03:30-04:00", "-o", str(path))  # fmt: skip
    assert code == 0, text


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["replan", "PLAN", "--as-of", SKIPPED], _raised("--as-of", SKIPPED, *GONE)),
        (["replan", "PLAN", "--as-of", "2026-03-09T12:00", "--event",
          f"moved:induction-2@{REPEATED}"], _raised("--event[0]", REPEATED, *TWICE)),
        (["replan", "PLAN", "--as-of", "2026-03-09T12:00", "--event",
          f"attended:intake-1@{SKIPPED}"], _raised("--event[0]", SKIPPED, *GONE)),
        (["check", "PLAN", "--now", SKIPPED], _raised("--now", SKIPPED, *GONE)),
        (["alternatives", "PLAN", "induction-2", "--as-of", SKIPPED],
         _raised("--as-of", SKIPPED, *GONE)),
    ],
    ids=["replan-as-of", "replan-moved", "replan-attended", "check-now", "alternatives"],
)  # fmt: skip
def test_a_plan_s_commands_read_typed_times_by_its_protocol(
    command: list[str], said: str, strict: Path, tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    code, text = run("plan", str(strict), "--start", "2026-03-02", "--time", "09:00",
                     "--clinic", "demo", "--now", "2026-02-20T09:00", "-o", str(path))  # fmt: skip
    assert code == 0, text
    typed_command = [str(path) if word == "PLAN" else word for word in command]
    result = ketaplan(*typed_command, "--protocol", str(strict), "--clinic", "demo")
    assert (result.returncode, result.stderr) == (2, said)


@pytest.mark.parametrize(
    ("protocol", "typed", "booked_at"),
    [
        ("iv-ketamine-mwf", SKIPPED, "2026-03-08T03:30:00-04:00"),  # RFC 5545: on by the gap
        ("TURNED", SKIPPED, "2026-03-08T01:30:00-05:00"),  # skipped_time = "earlier"
        ("iv-ketamine-mwf", REPEATED, "2026-11-01T01:30:00-04:00"),  # RFC 5545: the first
        ("TURNED", REPEATED, "2026-11-01T01:30:00-05:00"),  # repeated_time = "later"
    ],
)
def test_the_other_policies_are_read_as_the_protocol_says(
    protocol: str, typed: str, booked_at: str, tmp_path: Path
) -> None:
    """The plan is made at ``--now``: each session is booked at that moment."""
    turned = _protocol(tmp_path, "turned", skipped="earlier", repeated="later")
    path = tmp_path / "made.json"
    start = "2026-03-09" if typed == SKIPPED else "2026-11-02"
    code, text = run("plan", str(turned) if protocol == "TURNED" else protocol, "--start", start,
                     "--clinic", "demo", "--now", typed, "-o", str(path))  # fmt: skip
    assert code == 0, text
    made = json.loads(path.read_text(encoding="utf-8"))
    assert {a["booked_at"] for a in made["appointments"]} == {booked_at}
