"""What the command line writes where it is told to, and options it must not drop."""

from __future__ import annotations

import argparse
import json
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
        "ketaplan: error: --output: must be a name ending in .txt or .json, or no suffix (this "
        "command writes table or json); got 'p.ics'\n"
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


# -- every output's file name says what it holds ------------------------------------------------
# `export-protocol -o x.xml` wrote JSON, `plan -o plan.toml` a table that `validate` then read as
# TOML, and `plan --format json -o plan` a plan that `load_plan` refuses (no .json): each -o FILE
# is now written only under the suffixes of its format, whatever the command (review).

#: Each command that writes ``-o FILE``: its arguments (the files need not exist: the name is
#: refused before anything is read), and the suffixes its formats are written under.
_WRITERS = {
    ("plan",): (_PLAN, ".txt, .json, .ics, .html, .htm or .svg, or no suffix",
                "table or json or ics or fhir or html or svg"),
    ("replan",): (("replan", "p.json", "--as-of", "2026-12-08T10:00"),
                  ".txt or .json, or no suffix", "table or json"),
    ("export",): (("export", "p.json"), ".ics, .json, .html, .htm or .svg",
                  "ics or fhir or html or svg"),
    ("export-protocol",): (("export-protocol", "esketamine-trd"), ".json", "fhir"),
    ("runsheet",): (("runsheet", "p.json", "--date", "2026-12-07"),
                    ".txt, .html, .htm or .json, or no suffix", "table or html or json"),
    ("clinic", "report"): (("clinic", "report", "r.toml"), ".txt or .json, or no suffix",
                           "table or json"),
    ("clinic", "whatif"): (("clinic", "whatif", "r.toml"), ".txt or .json, or no suffix",
                           "table or json"),
}  # fmt: skip


def _commands_writing_a_file() -> set[tuple[str, ...]]:
    """Every command (and subcommand) of the parser with ``-o FILE`` (not ``-o DIR``)."""
    from ketaplan.cli import _build_parser  # noqa: PLC0415 - the parser, to find every command

    found: set[tuple[str, ...]] = set()

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:  # argparse lists a parser's options nowhere else
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))
            elif "-o" in action.option_strings and action.metavar == "FILE":
                found.add(path)

    walk(_build_parser(), ())
    return found


def test_every_command_writing_a_file_is_covered() -> None:
    assert _commands_writing_a_file() == set(_WRITERS)


@pytest.mark.parametrize("name", ["out.xml", "out.toml", "out.yaml"])
@pytest.mark.parametrize("command", list(_WRITERS), ids=" ".join)
def test_a_name_no_format_of_the_command_is_written_under_is_refused(
    command: tuple[str, ...], name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args, suffixes, formats = _WRITERS[command]
    path = tmp_path / name
    assert run(*args, "-o", str(path))[0] == 2
    assert capsys.readouterr().err == (
        f"ketaplan: error: --output: must be a name ending in {suffixes} (this command writes "
        f"{formats}); got '{path}'\n"
    )
    assert not path.exists()


def test_export_protocol_writes_json_under_a_json_name_only(tmp_path: Path) -> None:
    """The review's case: `-o x.xml` wrote JSON; a FHIR PlanDefinition is written as .json."""
    assert run("export-protocol", "esketamine-trd", "-o", str(tmp_path / "x.json"))[0] == 0
    assert '"resourceType": "Bundle"' in (tmp_path / "x.json").read_text(encoding="utf-8")
    result = ketaplan("export-protocol", "esketamine-trd", "-o", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "--output: must be a name ending in .json (this command writes fhir)" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "json", "-o", "plan"),
         "--output: must be a name ending in .json to write json; got 'plan'"),
        (("--format", "ics", "-o", "plan.txt"),
         "--output: must be a name ending in .ics to write ics; got 'plan.txt'"),
    ],
)  # fmt: skip
def test_data_is_not_written_under_a_text_file_s_name(
    args: tuple[str, ...], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--format json -o plan` wrote a plan that `load_plan` refuses (it reads .json files)."""
    path = tmp_path / args[-1]
    assert run(*_PLAN, *args[:-1], str(path))[0] == 2
    said = message.replace(f"got '{args[-1]}'", f"got '{path}'")
    assert capsys.readouterr().err == f"ketaplan: error: {said}\n"
    assert not path.exists()
    # A table is text for people: a .txt file, or a name without a suffix.
    assert run(*_PLAN, "-o", str(tmp_path / "table"))[0] == 0
    assert (tmp_path / "table").read_text(encoding="utf-8").startswith("iv-ketamine-mwf")


def test_a_list_of_options_is_not_written_as_a_plan_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--first-available --options 2 -o opts.json` wrote a JSON list of plans that no command
    reads back: `--bookings opts.json` misread it as bookings ("bookings[0].start: ...")."""
    offer = ("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--first-available")
    path = tmp_path / "opts.json"
    assert run(*offer, "--options", "2", "-o", str(path))[0] == 2
    assert capsys.readouterr().err == (
        "ketaplan: error: --output: must be left out with --options above 1 in JSON (print the "
        f"list of plans instead); got '{path}'\n"
    )
    assert not path.exists()
    code, text = run(*offer, "--options", "2", "--format", "json")  # printed, it is fine
    assert code == 0
    assert len(json.loads(text)) == 2
    assert run(*offer, "-o", str(path))[0] == 0  # one option: a plan file, read back
    assert load_plan(path).protocol == "iv-ketamine-mwf"
