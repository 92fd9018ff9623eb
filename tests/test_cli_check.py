"""``ketaplan check``: exit 0 clean, 1 with violations, 2 for bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .test_cli import ketaplan, run


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    # The intake on Mon 23 Nov; the series from Mon 30 Nov, a week later.
    code, _ = run("plan", "iv-ketamine-mwf", "--start", "2026-11-23", "--time", "09:00",
                  "--clinic", "demo", "--format", "json", "-o", str(path))  # fmt: skip
    assert code == 0
    return path


def move(path: Path, appointment_id: str, old: str, new: str) -> Path:
    data = json.loads(path.read_text())
    for appointment in data["appointments"]:
        if appointment["id"] == appointment_id:
            # Clinic software may change start and end only: check derives the rest.
            appointment["start"] = appointment["start"].replace(old, new)
            appointment["end"] = appointment["end"].replace(old, new)
    edited = path.with_name("edited.json")
    edited.write_text(json.dumps(data))
    return edited


def test_clean_plan_exits_0(plan_file: Path) -> None:
    code, text = run("check", str(plan_file))
    assert code == 0
    assert text.strip() == "no violations"


def test_violations_exit_1_with_codes(plan_file: Path) -> None:
    edited = move(plan_file, "induction-4", "2026-12-07T", "2026-12-05T")  # Monday to Saturday
    code, text = run("check", str(edited))
    assert code == 1
    assert "ERROR   clinic-closed  [induction-4]" in text
    assert "Sat 5 Dec 2026: clinic closed on Saturdays" in text
    assert re.fullmatch(r"[0-9]+ errors?, [0-9]+ warnings?", text.strip().splitlines()[-1])


def test_json_form(plan_file: Path) -> None:
    edited = move(plan_file, "induction-4", "2026-12-07T", "2026-12-05T")
    code, text = run("check", str(edited), "--format", "json")
    assert code == 1
    rows = json.loads(text)
    for row in rows:
        assert {"code", "severity", "message", "appointments"} <= row.keys()
    assert "clinic-closed" in {row["code"] for row in rows}


def test_patient_and_bookings_files(plan_file: Path, tmp_path: Path) -> None:
    patient = tmp_path / "patient.toml"
    patient.write_text('id = "p-1"\nmedications = [{ name = "lorazpam", times = ["22:00"] }]\n')
    data = json.loads(plan_file.read_text())
    first = next(a for a in data["appointments"] if a["kind"] == "dosing")
    bookings = tmp_path / "bookings.json"
    bookings.write_text(json.dumps([
        {"start": first["start"], "end": first["end"], "resource": "chair", "label": f"other {n}"}
        for n in range(4)
    ]))  # fmt: skip
    code, text = run("check", str(plan_file), "--patient", str(patient), "--bookings",
                     str(bookings), "--format", "json")  # fmt: skip
    assert code == 1
    found = {row["code"] for row in json.loads(text)}
    assert found == {"unknown-medication", "over-capacity"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--now", "yesterday"], "--now: must be a date and time"),
        (
            ["--protocol", "esketamine-trd"],
            "protocol: must be the plan's protocol 'iv-ketamine-mwf'",
        ),
        (["--clinic", "missing.toml"], "missing.toml: cannot be read"),
    ],
)
def test_bad_input_exits_2(plan_file: Path, args: list[str], expected: str) -> None:
    result = ketaplan("check", str(plan_file), *args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_bookings_file(plan_file: Path, tmp_path: Path) -> None:
    bookings = tmp_path / "bookings.json"
    bookings.write_text(json.dumps([{"start": "2026-12-01T09:00:00", "end": "x"}]))
    result = ketaplan("check", str(plan_file), "--bookings", str(bookings))
    assert result.returncode == 2
    assert "bookings[0].start" in result.stderr
