"""What the command line writes where it is told to, and options it must not drop."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketaplan.loading import load_plan

from .test_cli import ketaplan, run

_PLAN = ("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--plan-id", "p-1")


def test_an_output_file_s_name_implies_its_format(tmp_path: Path) -> None:
    """`-o plan.json` writes JSON, `-o plan.ics` a calendar; before, both got the table."""
    for name, head in (("plan.json", "{"), ("plan.ics", "BEGIN:VCALENDAR"), ("p.html", "<!")):
        assert run(*_PLAN, "-o", str(tmp_path / name))[0] == 0
        assert (tmp_path / name).read_text().startswith(head), name
    assert load_plan(tmp_path / "plan.json").id == "p-1"
    assert run(*_PLAN, "-o", str(tmp_path / "plan.txt"))[0] == 0
    assert (tmp_path / "plan.txt").read_text().startswith("iv-ketamine-mwf (version")
    # export's .json is the FHIR Bundle (its only JSON).
    assert run("export", str(tmp_path / "plan.json"), "-o", str(tmp_path / "b.json"))[0] == 0
    assert '"resourceType": "Bundle"' in (tmp_path / "b.json").read_text()


def test_a_re_plan_written_over_its_plan_file_stays_a_plan(tmp_path: Path) -> None:
    """Hostile review: `replan p.json ... -o p.json` overwrote the plan with the text table,
    losing it and the attendance just recorded."""
    path = tmp_path / "p.json"
    run(*_PLAN, "--format", "json", "-o", str(path))
    code, _ = run("replan", str(path), "--as-of", "2026-12-08T10:00",
                  "--event", "attended:intake-1", "-o", str(path))  # fmt: skip
    assert code == 0
    assert load_plan(path).appointment("intake-1").status == "attended"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "table", "-o", "p.json"), ("--format: must be json or fhir to write p.json; "
         "got 'table'")),
        (("--format", "ics", "-o", "p.html"), "--format: must be html to write p.html; got 'ics'"),
    ],
)  # fmt: skip
def test_a_format_that_contradicts_the_file_s_name_is_refused(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    result = ketaplan(*_PLAN, *args[:-1], str(tmp_path / args[-1]))
    assert result.returncode == 2
    assert result.stderr == f"ketaplan: error: {message.replace('p.', str(tmp_path / 'p.'))}\n"
    assert not list(tmp_path.iterdir())


def test_a_command_refuses_a_file_it_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    run(*_PLAN, "-o", str(path))
    result = ketaplan("replan", str(path), "--as-of", "2026-12-08T10:00", "-o", "p.ics")
    assert result.returncode == 2
    assert result.stderr == (
        "ketaplan: error: --output: must be a name not ending in .ics (this command writes "
        "table or json); got 'p.ics'\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--start", "2026-12-14"), "--start: given twice (2026-12-07, then 2026-12-14)"),
        (("--clinic", "demo", "--clinic", "demo"), "--clinic: given twice (demo, then demo)"),
    ],
)  # fmt: skip
def test_an_option_given_twice_is_refused(args: tuple[str, ...], message: str) -> None:
    """Before, the last one won without a word (`--start` twice planned from the second)."""
    result = ketaplan(*_PLAN, *args)
    assert result.returncode == 2
    assert result.stderr.endswith(f"ketaplan plan: error: {message}; give it once\n")


def test_one_tier_per_phase() -> None:
    tiers = ("--tier", "maintenance=weekly", "--tier", "maintenance=every-2-weeks")
    result = ketaplan("plan", "esketamine-trd", "--start", "2026-12-07", *tiers)
    assert result.returncode == 2
    assert result.stderr == (
        "ketaplan: error: --tier: must be one tier for maintenance (it was weekly); "
        "got 'maintenance=every-2-weeks'\n"
    )


@pytest.mark.parametrize(
    "event",
    [
        "attended:intake-1:84",  # ":" for "=": the dose was dropped
        "missed:intake-1@2026-12-08T08:00",  # a no-show has no time of its own
        "cancelled:intake-1:worsening",  # only a no-show can say worsening
        "moved:intake-1:x@2026-12-09T10:00",
        "moved:intake-1",
        "attended:intake-1@",
        "attended:intake-1=",  # a dose begun and not typed
    ],
)
def test_every_part_of_an_event_is_read_or_refused(event: str, tmp_path: Path) -> None:
    """Hostile review: parts an event's kind has no place for were dropped without a word."""
    path = tmp_path / "p.json"
    run(*_PLAN, "-o", str(path))
    result = ketaplan("replan", str(path), "--as-of", "2026-12-08T10:00", "--event", event)
    assert result.returncode == 2
    kind = event.partition(":")[0]
    assert result.stderr.startswith(f"ketaplan: error: --event[0]: must be {kind}:ID")
    assert result.stderr.endswith(f"; got '{event}'\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--plan-id", "MYID"), ("--plan-id: must be left out with --first-available, which does "
         "not take it; got 'MYID'")),
        (("--until", "2027-02-01"), ("--until: must be left out with --first-available, which "
         "does not take it; got datetime.date(2027, 2, 1)")),
        (("--on-conflict", "shift"), ("--on-conflict: must be left out with --first-available, "
         "which does not take it; got 'shift'")),
        (("--format", "fhir"), ("--format: must be table, json, ics, html or svg with "
         "--first-available; got 'fhir'")),
    ],
)  # fmt: skip
def test_first_available_refuses_what_it_would_drop(args: tuple[str, ...], message: str) -> None:
    """Hostile review: each was dropped (the plan had another id, ran a year, printed a table)."""
    result = ketaplan("plan", "esketamine-trd", "--start", "2026-12-07", "--first-available", *args)
    assert result.returncode == 2
    assert result.stderr == f"ketaplan: error: {message}\n"


def test_a_format_implied_by_the_file_s_name_is_named_as_typed(tmp_path: Path) -> None:
    """Review: the error said --format, which the user never typed."""
    result = ketaplan(*_PLAN, "-o", str(tmp_path / "t.svg"), "--appointment", "intake-1")
    assert result.returncode == 2
    assert result.stderr == (
        f"ketaplan: error: -o {tmp_path / 't.svg'}: must be ics with --appointment; got 'svg'\n"
    )
