"""The patient's calendar (issue 14, section 1): the clinic's settings for it (quiet hours, the
reminders' lead, the patient-facing name), in clinic files and carried in plan files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ketaplan import ClinicError, Plan, load_protocol, plan
from ketaplan.defaults import demo_clinic
from ketaplan.loading import load_plan, loads_clinic

# -- settings: clinic files and plan files ------------------------------------------------------


CLINIC = (
    'id = "c"\nname = "C"\ntime_zone = "Europe/Berlin"\n[opening_hours]\nmon = ["08:00-18:00"]\n'
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", "21:00-07:00"),
        ('quiet_hours = "22:30-06:00"', "22:30-06:00"),
        ('quiet_hours = "13:00-15:00"', "13:00-15:00"),
        ('quiet_hours = "off"', None),
    ],
)
def test_quiet_hours_in_a_clinic_file(line: str, expected: str | None) -> None:
    found = loads_clinic(line + "\n" + CLINIC, origin="c.toml").quiet_hours
    assert (None if found is None else str(found)) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('quiet_hours = "9pm-7am"', "must look like 'HH:MM-HH:MM' or be 'off'; got '9pm-7am'"),
        ('quiet_hours = "25:00-07:00"', "must use real clock times 00:00-23:59"),
        ('quiet_hours = "07:00-07:00"', "must end at another time than it starts"),
        ("reminder_lead_minutes = 0", "must be at least 1"),
        ('patient_facing_name = "  "', "must not be empty"),
    ],
)
def test_bad_settings_are_clinic_errors(line: str, message: str) -> None:
    with pytest.raises(ClinicError) as raised:
        loads_clinic(line + "\n" + CLINIC, origin="c.toml")
    (problem,) = raised.value.problems
    assert problem.path == line.split(" ", maxsplit=1)[0]
    assert message in str(problem)


def test_a_plan_file_from_before_these_settings_reads_with_their_defaults(tmp_path: Path) -> None:
    """Plans are files read back: one without the new fields gets the defaults (quiet hours
    21:00-07:00, a 60-minute lead, the clinic's name for patients)."""
    made = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 12, 7), clinic=demo_clinic())
    old = json.loads(made.model_dump_json())
    for name in ("clinic_display_name", "quiet_hours", "reminder_lead_minutes"):
        del old[name]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    read = load_plan(path)
    assert read == made
    off = made.model_copy(update={"quiet_hours": None})
    assert Plan.model_validate_json(off.model_dump_json()).quiet_hours is None
