"""The ``ketaplan`` command: output, exit codes, and no traceback for user errors."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ketaplan import builtin_protocol_ids
from ketaplan.cli import main
from ketaplan.loading import load_plan

BROKEN = {
    "wrong-type.toml": "phases[0].count: must be a whole number, not text; got 'six'",
    "negative-window.toml": "phases[0].cadence.steps[0].gap.absolute_minimum: must be at least 0",
    "inverted-window.toml": "phases[0].cadence.steps[0].gap: must satisfy absolute_minimum",
    "unknown-key.toml": "colour: is not a known field; got 'blue'",
    "missing-field.toml": "indication: is required",
    "unknown-time-zone.toml": "calendar.time_zone: must be an IANA time zone",
    "absurd-count.toml": "phases[0].count: must be at most 200; got 1000000",
    "not-toml.toml": "is not valid TOML",
}


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def ketaplan(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, in a real process."""
    exe = shutil.which("ketaplan", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "ketaplan"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, check=False, timeout=60
    )


def test_protocols_json_lists_every_builtin() -> None:
    code, text = run("protocols", "--format", "json")
    assert code == 0
    rows = json.loads(text)
    assert [row["id"] for row in rows] == list(builtin_protocol_ids())
    for row in rows:
        assert {"id", "name", "route", "evidence"} <= row.keys()


def test_protocols_table() -> None:
    code, text = run("protocols")
    assert code == 0
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["ID", "ROUTE", "SETTING", "EVIDENCE"]
    assert len(lines) == 1 + len(builtin_protocol_ids())


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
def test_show_every_builtin(protocol_id: str) -> None:
    code, text = run("show", protocol_id)
    assert code == 0
    assert text.startswith(f"{protocol_id}: ")
    assert "Sources" in text


def test_show_a_file(data: Path) -> None:
    code, text = run("show", str(data / "valid-own.toml"))
    assert code == 0
    assert "6 x infusion" in text


def test_validate_ok(data: Path) -> None:
    code, text = run("validate", str(data / "valid-own.toml"))
    assert code == 0
    assert text.strip().endswith("ok (protocol clinic-own)")


@pytest.mark.parametrize(("name", "expected"), sorted(BROKEN.items()))
def test_validate_broken_file_exits_2_naming_the_field(
    data: Path, name: str, expected: str
) -> None:
    result = ketaplan("validate", str(data / "broken" / name))
    assert result.returncode == 2
    assert expected in result.stderr
    assert name in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_validate_reports_every_file(data: Path) -> None:
    files = [str(data / "broken" / name) for name in sorted(BROKEN)]
    result = ketaplan("validate", str(data / "valid-own.toml"), *files)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == len(BROKEN)
    assert "ok (protocol clinic-own)" in result.stdout


def test_unknown_protocol_is_a_user_error() -> None:
    result = ketaplan("show", "ketamine-please")
    assert result.returncode == 2
    assert result.stderr.startswith("ketaplan: error: protocol: must be a built-in id")
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    assert ketaplan().returncode == 2
    assert ketaplan("frobnicate").returncode == 2
    result = ketaplan("protocols", "--format", "yaml")
    assert result.returncode == 2
    assert "invalid choice: 'yaml'" in result.stderr


@pytest.mark.parametrize("kind", ["protocol", "clinic", "patient"])
def test_schema(kind: str) -> None:
    code, text = run("schema", kind)
    assert code == 0
    schema = json.loads(text)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


def test_version() -> None:
    result = ketaplan("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("ketaplan ")


# -- an output never replaces an input -----------------------------------------------------------
# `export plan.json -o plan.json` wrote a FHIR Bundle over the plan (the .json name implies FHIR)
# and `runsheet plan.json -o plan.json` a run sheet: the plan was lost (found by a hostile test).


def _plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    code, _ = run("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--clinic", "demo",
                  "--now", "2026-11-20T09:00", "-o", str(path))  # fmt: skip
    assert code == 0
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["export", "PLAN", "-o", "PLAN"],
        ["export", "PLAN", "--format", "fhir", "-o", "PLAN"],
        ["runsheet", "PLAN", "--date", "2026-12-09", "-o", "PLAN"],
        ["replan", "PLAN", "--as-of", "2026-12-09T18:00", "--events", "EVENTS", "-o", "EVENTS"],
        ["export", "LINK", "-o", "PLAN"],
    ],
    ids=["export", "fhir", "runsheet", "replan-over-its-events", "through-a-link"],
)
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "link.json").symlink_to(_plan_file(tmp_path))
    (tmp_path / "events.json").write_text('[{"type": "attended", "appointment": "intake-1"}]')
    names = {name: str(tmp_path / f"{name.lower()}.json") for name in ("PLAN", "LINK", "EVENTS")}
    path = Path(names[command[-1]])
    before = path.read_bytes()
    capsys.readouterr()
    code, _ = run(*[names.get(a, a) for a in command])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("ketaplan: error: --output: must be a file the command does not read")
    assert "would be overwritten and lost" in err
    assert path.read_bytes() == before


def test_a_replan_may_write_its_new_revision_over_its_plan(tmp_path: Path) -> None:
    path = _plan_file(tmp_path)
    code, _ = run("replan", str(path), "--as-of", "2026-12-07T18:00",
                  "--event", "attended:intake-1", "-o", str(path))  # fmt: skip
    assert code == 0
    again = load_plan(path)
    assert again.revision == 1
    assert again.appointments[0].status == "attended"


def test_an_output_that_is_a_file_the_roster_names_is_refused(tmp_path: Path) -> None:
    # `clinic report roster.toml -o clinic.toml` replaced the roster's clinic file with the
    # report, and `clinic plan roster.toml -o out` a patient file the roster names in out/
    # (found by a hostile test): the files a roster names are inputs too.
    (tmp_path / "out").mkdir()
    clinic = tmp_path / "clinic.toml"
    clinic.write_text((Path(__file__).parents[1] / "ketaplan/examples/demo-clinic.toml")
                      .read_text(encoding="utf-8"), encoding="utf-8")  # fmt: skip
    patient = tmp_path / "out" / "p-1.json"
    patient.write_text('{"id": "p-1"}', encoding="utf-8")
    roster = tmp_path / "roster.toml"
    roster.write_text('clinic = "clinic.toml"\n[[patients]]\nid = "p-1"\n'
                      'protocol = "iv-ketamine-mwf"\nstart = 2026-12-07\nfile = "out/p-1.json"\n',
                      encoding="utf-8")  # fmt: skip
    before = {path: path.read_bytes() for path in (clinic, patient)}
    for command in (["clinic", "report", str(roster), "-o", str(clinic)],
                    ["clinic", "plan", str(roster), "-o", str(tmp_path / "out")]):  # fmt: skip
        code, _ = run(*command, "--now", "2026-11-20T09:00")
        assert code == 2, command
    assert {path: path.read_bytes() for path in before} == before


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("2026-03-08T02:30", "2026-03-08T03:30-04:00"),  # skipped in New York: RFC 5545, later
        ("2026-11-01T01:30", "2026-11-01T01:30-04:00"),  # repeated: the first, as RFC 5545
        ("2026-12-08T09:00", "2026-12-08T09:00-05:00"),
    ],
)
def test_a_typed_local_time_is_read_as_the_planner_reads_wall_times(
    typed: str, read: str, tmp_path: Path
) -> None:
    # `--as-of 2026-03-08T02:30` was kept as 02:30-05:00, a time that does not exist in New York,
    # and a move typed so was shown an hour off in calendars (found by a hostile test, round 2).
    code, text = run("status", str(_plan_file(tmp_path)), "--as-of", typed)
    assert code == 0
    assert text.startswith(f"As of {read}:")


@pytest.mark.parametrize("typed", ["1_0", "\uff13", "3,1_0", " ", "9" * 5000])
def test_a_number_typed_with_python_only_spellings_is_refused(typed: str, tmp_path: Path) -> None:
    # int() reads "1_0" as 10 and a full-width digit as 3: `--chairs 1_0` ran with ten chairs
    # (found by a hostile test, round 2).
    roster = tmp_path / "roster.toml"
    roster.write_text('[[patients]]\nid = "p-1"\nprotocol = "iv-ketamine-mwf"\n'
                      "start = 2026-12-07\n", encoding="utf-8")  # fmt: skip
    code, _ = run("clinic", "whatif", str(roster), "--chairs", typed, "--seeds", "1")
    assert code == 2
    code, _ = run("clinic", "whatif", str(roster), "--seeds", typed)
    assert code == 2


def test_validate_reads_a_plan_and_a_roster_as_what_they_are(tmp_path: Path) -> None:
    # A roster was read as a patient ("patients: ... did you mean 'appointments'?") and a plan
    # refused as "must be a patient file" (found by a hostile test, round 2).
    made = _plan_file(tmp_path)
    roster = tmp_path / "roster.toml"
    roster.write_text('[[patients]]\nid = "p-1"\nprotocol = "iv-ketamine-mwf"\n'
                      "start = 2026-12-07\n", encoding="utf-8")  # fmt: skip
    code, text = run("validate", str(made), str(roster))
    assert code == 0
    assert f"{made}: ok (plan plan-" in text
    assert f"{roster}: ok (roster of 1 patient)" in text
    roster.write_text('[[patients]]\nid = "p-1"\n', encoding="utf-8")
    code, _ = run("validate", str(roster))
    assert code == 2


def test_validate_reads_events_and_bookings_files_as_the_commands_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clinic-staff find: an events or bookings list given to validate read "must be a
    table (an object) of fields; got 'list'", though replan --events and --bookings read it."""
    events = tmp_path / "events.json"
    events.write_text('[{"type": "attended", "appointment": "induction-1"}]', encoding="utf-8")
    bookings = tmp_path / "bookings.json"
    bookings.write_text('[{"start": "2026-12-01T09:00:00-05:00", '
                        '"end": "2026-12-01T10:00:00-05:00"}]', encoding="utf-8")  # fmt: skip
    code, text = run("validate", str(events), str(bookings))
    assert code == 0
    assert text.splitlines() == [
        f"{events}: ok (events file of 1 event)",
        f"{bookings}: ok (bookings file of 1 booking)",
    ]
    # A wrong one names the file and the event's field, and the next file is still read.
    wrong = tmp_path / "wrong.json"
    wrong.write_text('[{"type": "missed", "appointment": "x", "worsening": "no"}]', "utf-8")
    capsys.readouterr()
    code, text = run("validate", str(wrong), str(events))
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{wrong}: events[0].worsening: must be true or false, not text; got 'no'"
    ]
    assert text == f"{events}: ok (events file of 1 event)\n"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("[]", "ok (an empty list: an events or bookings file of nothing)"),
        ('[{"type": "attended", "appointment": "intake-1"}, {"typ": "missed"}]',
         "events[1]: needs a 'type' field"),
        (('[{"start": "2026-12-01T09:00:00-05:00", "end": "2026-12-01T10:00:00-05:00"}, '
         '{"start": "2026-12-01T09:00:00-05:00", "ending": "x"}]'),
         "bookings[1].end: is required"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": []}',
         ("must be a file validate reads (protocol, clinic, patient, plan, roster, events or "
         "bookings); this is a FHIR resource (its resourceType is 'Bundle')")),
    ],
)  # fmt: skip
def test_validate_reads_any_list_as_the_commands_would(
    content: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An independent read's find: an empty list, or a list with one wrong item, was read as
    a patient file ("must be a table"); replan --events and --bookings say what is wrong."""
    path = tmp_path / "list.json"
    path.write_text(content, encoding="utf-8")
    capsys.readouterr()
    code, text = run("validate", str(path))
    assert f"{path}: {said}" in (text + capsys.readouterr().err).splitlines()
    assert code == (0 if said.startswith("ok") else 2)


@pytest.mark.parametrize(
    "command",
    [
        ["export", "PLAN", "--format", "ics"],
        ["export", "PLAN", "--format", "fhir"],
        ["check", "PLAN"],
        ["replan", "PLAN", "--as-of", "2026-12-08T12:00"],
        ["status", "PLAN", "--as-of", "2026-12-08T12:00"],
        ["runsheet", "PLAN", "--date", "2026-12-08"],
    ],
)
def test_a_plan_of_a_protocol_not_built_in_asks_for_its_file(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An independent read's find: `export` of a plan of the clinic's own protocol (which
    wrote the file before exports read times by the protocol) said "protocol: must be a
    built-in id (...) or a .toml/.json file", never naming --protocol. Every command that reads
    a plan's protocol says the same one line."""
    library = Path(__file__).parent.parent / "ketaplan" / "library"
    text = (library / "iv-ketamine-standard.toml").read_text("utf-8")
    own = tmp_path / "our-iv.toml"
    own.write_text(text.replace('id = "iv-ketamine-standard"', 'id = "our-iv"', 1), "utf-8")
    made = tmp_path / "plan.json"
    code, _ = run("plan", str(own), "--start", "2026-12-07", "--time", "09:00",
                  "--clinic", "demo", "--format", "json", "-o", str(made))  # fmt: skip
    assert code == 0
    capsys.readouterr()
    code, _ = run(*[str(made) if part == "PLAN" else part for part in command])
    assert code == 2
    assert capsys.readouterr().err == (
        "ketaplan: error: --protocol: is required: the plan's protocol 'our-iv' is not built "
        "in (give its file)\n"
    )
    code, _ = run(*[str(made) if part == "PLAN" else part for part in command],
                  "--protocol", str(own))  # fmt: skip
    assert code in (0, 1), capsys.readouterr().err  # read with it (check: 1 for violations)
