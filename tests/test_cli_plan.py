"""``ketaplan plan`` and ``ketaplan replan``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ketaplan import builtin_protocol_ids

from .test_cli import ketaplan, run


def plan_json(*args: str) -> dict[str, object]:
    code, text = run("plan", *args, "--format", "json")
    assert code == 0, text
    data: dict[str, object] = json.loads(text)
    return data


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
def test_plan_json_has_the_documented_fields(protocol_id: str) -> None:
    data = plan_json(protocol_id, "--start", "2026-12-01", "--tz", "America/New_York")
    appointments = data["appointments"]
    assert isinstance(appointments, list)
    assert appointments
    for appointment in appointments:
        for key in ("id", "kind", "phase", "index", "start", "end", "resources", "reason"):
            assert key in appointment, key
        start = dt.datetime.fromisoformat(appointment["start"])
        end = dt.datetime.fromisoformat(appointment["end"])
        assert start.utcoffset() is not None
        assert end > start
    assert any(a["kind"] == "dosing" for a in appointments)


def test_default_clinic_is_weekdays_8_to_18_in_the_given_zone() -> None:
    data = plan_json("sc-ketamine-anxiety", "--start", "2026-12-05", "--tz", "Europe/Berlin")
    first = data["appointments"][0]  # type: ignore[index]
    start = dt.datetime.fromisoformat(first["start"])
    assert start.date() == dt.date(2026, 12, 7)  # Saturday start waits for Monday
    assert start.strftime("%H:%M%z") == "08:00+0100"


def test_plan_table_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "plan.txt"
    # The intake on Tue 24 Nov, the series from Tue 1 Dec.
    code, text = run("plan", "iv-ketamine-standard", "--start", "2026-11-24", "--time", "09:00",
                     "--clinic", "demo", "--patient", "demo", "-o", str(out))  # fmt: skip
    assert code == 0
    # What a person should know of the plan written: its sessions and the decision it waits for.
    assert text.splitlines()[:2] == [
        f"wrote {out}",
        "  22 sessions to come, Tue 24 Nov 2026 to Wed 3 Nov 2027",
    ]
    assert "  decide by Mon 4 Jan 2027: is the patient a responder" in text
    table = out.read_text()
    assert "maintenance-1" in table
    assert "clinic closed (New Year's Day)" in table  # the first booster, 2 weeks on
    assert "provisional" in table  # boosters for responders, until decided


def test_tier_option() -> None:
    data = plan_json("esketamine-trd", "--start", "2025-01-06", "--tier", "maintenance=weekly",
                     "--until", "2025-04-01", "--now", "2025-01-01T09:00")  # fmt: skip
    assert data["tiers"] == {
        "induction": "twice-weekly",
        "maintenance-weekly": "weekly",
        "maintenance": "weekly",
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--start", "2026-13-01"], "--start: must be a date YYYY-MM-DD; got '2026-13-01'"),
        (["--start", "2026-12-01", "--time", "9am"], "--time: must be a local time HH:MM"),
        (["--start", "2026-12-01", "--tz", "Mars/Base"], "--tz: must be an IANA time zone"),
        (["--start", "2026-12-01", "--until", "2026-11-01"], "until: must be on or after start"),
        (["--start", "2026-12-01", "--tier", "weekly"], "--tier: must be PHASE=TIER"),
        (["--start", "2026-12-01", "--clinic", "nope.toml"], "nope.toml: cannot be read"),
    ],
)
def test_plan_input_errors_exit_2_without_traceback(args: list[str], expected: str) -> None:
    result = ketaplan("plan", "sc-ketamine-anxiety", *args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_replan_names_an_event_of_the_file_by_its_place_in_the_file(tmp_path: Path) -> None:
    """Before, the file's first event was ``events[1]`` after one --event, and read by pydantic:
    ``must be field required``, ``must be input tag 'missd' found using 'type'``."""
    plan_file = tmp_path / "plan.json"
    run("plan", "sc-ketamine-anxiety", "--start", "2026-12-01", "--format", "json",
        "-o", str(plan_file))  # fmt: skip
    events = tmp_path / "events.json"
    cases = [
        ([{"type": "missed", "appointment": "nope"}],
         f"{events}[0].appointment: must be an appointment of plan"),
        ([{"type": "missed"}], f"{events}[0].appointment: is required\n"),
        ([{"type": "missd", "appointment": "induction-1"}],
         f"{events}[0]: type: must be one of 'attended', 'missed',"),
        ([{"type": "attended", "appointment": "induction-1", "dose_mg": 5}],
         f"{events}[0].dose_mg: is not a known field (did you mean 'dose'?); got 5"),
    ]  # fmt: skip
    for given, expected in cases:
        events.write_text(json.dumps(given))
        result = ketaplan("replan", str(plan_file), "--as-of", "2026-12-09T18:00+00:00",
                          "--event", "assessed:GAD-7=12", "--events", str(events))  # fmt: skip
        assert result.returncode == 2
        assert expected in result.stderr


def test_unsatisfiable_plan_is_explained(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'id = "small"\nname = "Small"\ntime_zone = "UTC"\n'
        '[opening_hours]\nmon = ["08:00-10:00"]\n'
        "[resources]\nchairs = 1\nrooms = 1\nmonitoring_staff = 1\n"
    )
    result = ketaplan("plan", "iv-ketamine-pain", "--start", "2026-12-01", "--clinic", str(clinic))
    assert result.returncode == 2
    assert "cannot place iv ketamine infusion for pain 1" in result.stderr
    assert "no 315-minute span free in 08:00-10:00" in result.stderr
    assert "Traceback" not in result.stderr


def test_replan_round_trip(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    code, _ = run("plan", "iv-ketamine-standard", "--start", "2026-12-01", "--time", "09:00",
                  "--clinic", "demo", "--patient", "demo", "--format", "json",
                  "-o", str(plan_file))  # fmt: skip
    assert code == 0
    events = tmp_path / "events.json"
    events.write_text(json.dumps([{"type": "attended", "appointment": "induction-2"}]))
    code, text = run("replan", str(plan_file), "--as-of", "2026-12-15T18:00",  # induction-3 began
                     "--event", "attended:induction-1", "--event", "missed:induction-3",
                     "--events", str(events), "--format", "json")  # fmt: skip
    assert code == 0, text
    data = json.loads(text)
    status = {a["id"]: a["status"] for a in data["appointments"]}
    assert status["induction-1"] == "attended"
    assert status["induction-2"] == "attended"
    assert status["induction-3"] == "missed"
    assert "induction-7" in status
    assert data["revision"] == 1


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("teleported:induction-1", "--event[0]: must be attended:ID[=DOSE][@TIME]"),
        ("missed:nope", "--event[0].appointment: must be an appointment of plan"),
        ("moved:induction-2@tomorrow", "--event[0]: must be a date and time"),
        # a date alone used to put the session at midnight (issue 14)
        ("moved:escalation-2@2026-12-09", "(a date alone is not a time); got '2026-12-09'"),
        ("assessed:PHQ-9=lots", "--event[0]: must be assessed:SCALE=SCORE"),
        ("decided:start-maintenance=sideways", "--event[0]: must be decided:PROPOSAL=DECISION"),
        ("decided:nothing=stop", "--event[0].proposal: must be a proposal of plan"),
        ("decided:start-maintenance=resume", "--event[0].decision: must be one of"),
        ("attended:escalation-1=9", "--event[0].dose: must be one of 0.25 mg/kg"),
        ("attended:escalation-1=lots", "--event[0]: must be attended:ID[=DOSE][@TIME]"),
        ("requested:hugs", "--event[0]: must be requested:booster"),
        ("requested:booster", "--event[0]: must be a protocol that allows boosters on request"),
    ],
)
def test_replan_bad_events(tmp_path: Path, event: str, expected: str) -> None:
    plan_file = tmp_path / "plan.json"
    run("plan", "sc-ketamine-anxiety", "--start", "2026-12-01", "--format", "json",
        "-o", str(plan_file))  # fmt: skip
    result = ketaplan("replan", str(plan_file), "--as-of", "2026-12-09T18:00+00:00",
                      "--event", event)  # fmt: skip
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_move_that_breaks_a_rule_is_refused_unless_forced(tmp_path: Path) -> None:
    # Issue 14: moves onto a closed Saturday were accepted with a note. Now the command names
    # what the move breaks, writes nothing and exits 1; --force records it.
    plan_file, after = tmp_path / "plan.json", tmp_path / "after.json"
    run("plan", "iv-ketamine-standard", "--start", "2026-12-01", "--clinic", "demo",
        "--format", "json", "-o", str(plan_file))  # fmt: skip
    saturday = ["--as-of", "2026-11-30T18:00", "--event", "moved:induction-2@2026-12-05T09:00",
                "--format", "json", "-o", str(after)]  # fmt: skip
    refused = ketaplan("replan", str(plan_file), *saturday)
    assert refused.returncode == 1
    assert "ketaplan: error: induction-2: Sat 5 Dec 2026: clinic closed on Saturdays" in (
        refused.stderr
    )
    assert "nothing was written" in refused.stderr
    assert not after.exists()
    forced = ketaplan("replan", str(plan_file), *saturday, "--force")
    assert forced.returncode == 0
    moved = next(a for a in json.loads(after.read_text())["appointments"]
                 if a["id"] == "induction-2")  # fmt: skip
    assert moved["start"].startswith("2026-12-05T09:00")
    weekday = ketaplan("replan", str(plan_file), "--as-of", "2026-11-30T18:00",
                       "--event", "moved:induction-2@2026-12-04T10:00")  # fmt: skip
    assert weekday.returncode == 0, weekday.stderr


def test_replan_rejects_a_broken_plan_file(tmp_path: Path) -> None:
    broken = tmp_path / "plan.json"
    broken.write_text('{"id": "x"}')
    result = ketaplan("replan", str(broken), "--as-of", "2026-12-09T18:00+00:00")
    assert result.returncode == 2
    assert "plan.json: protocol: is required" in result.stderr


def test_replan_records_decisions_doses_and_booster_requests(tmp_path: Path) -> None:
    plan_file, after = tmp_path / "plan.json", tmp_path / "after.json"
    run("plan", "iv-ketamine-standard", "--start", "2027-03-01", "--time", "09:00", "--until",
        "2027-08-01", "--clinic", "demo", "--format", "json", "-o", str(plan_file))  # fmt: skip
    made = json.loads(plan_file.read_text())
    given = [a["id"] for a in made["appointments"] if a["start"] < "2027-04-02"]
    events = [f"--event=attended:{a}" for a in given]
    code, text = run("replan", str(plan_file), "--as-of", "2027-04-07T08:00", *events,
                     "--event", "decided:start-maintenance=start-maintenance#responder",
                     "--event", "requested:booster#symptoms back", "--format", "json",
                     "-o", str(after))  # fmt: skip
    assert code == 0, text
    data = json.loads(after.read_text())
    decided = {p["id"]: p["decision"] for p in data["proposals"]}
    assert decided["start-maintenance"]["note"] == "responder"
    assert decided["booster-1"] is None
    assert any(a["on_request"] and a["provisional"] for a in data["appointments"])
    code, text = run("replan", str(after), "--as-of", "2027-04-07T08:00")
    assert code == 0
    assert "booster-1:" in text  # the Decisions section
    assert "decided:booster-1=booster|continue" in text
