"""Many patients (issue 15, sections 5 and 6): a roster planned into one clinic, a waitlist.

50 patients into a 4-chair clinic gave 28 plans and 22 UnsatisfiableErrors one ``plan`` at a
time; a roster places each at the first start that fits, in a documented order, moving nobody.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import icalendar
import pytest

from ketaplan import Cancelled, Patient, check, replan
from ketaplan.errors import DefinitionError, InputError
from ketaplan.loading import load_plan
from ketaplan.roster import Roster, load_roster, place, roster_clinic

from .test_cli import ketaplan, run

CLINIC = """id = "two-chairs"
name = "Two Chairs"
time_zone = "America/New_York"
[opening_hours]
mon = ["08:00-12:00"]
tue = ["08:00-12:00"]
wed = ["08:00-12:00"]
thu = ["08:00-12:00"]
fri = ["08:00-12:00"]
[resources]
chairs = 1
rooms = 1
monitoring_staff = 1
patients_per_staff = 1
"""
MADE = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def _roster(folder: Path, count: int, name: str = "roster.toml", prefix: str = "p") -> Path:
    (folder / "clinic.toml").write_text(CLINIC)
    lines = ['clinic = "clinic.toml"']
    for n in reversed(range(count)):  # written out of order: planning order is documented
        lines += ["[[patients]]", f'id = "{prefix}-{n:02d}"', 'protocol = "iv-ketamine-mwf"',
                  f"start = 2026-12-{1 + n % 3:02d}"]  # fmt: skip
    (folder / name).write_text("\n".join(lines) + "\n")
    return folder / name


def test_a_roster_is_planned_in_order_and_nobody_collides(tmp_path: Path) -> None:
    roster, folder = load_roster(_roster(tmp_path, 6))
    clinic = roster_clinic(roster, folder)
    order = [entry.id for entry in roster.ordered()]
    assert order == sorted(order, key=lambda i: (int(i[2:]) % 3, i))  # start, then id
    placed = place(roster.ordered(), clinic=clinic, folder=folder, now=MADE)
    assert [p.patient for p in placed] == order
    plans = [p.plan for p in placed if p.plan is not None]
    assert len(plans) == 6
    for made in plans:
        others = [b for other in plans if other is not made for b in other.bookings()]
        found = check(made, clinic=clinic, bookings=others)
        assert [v for v in found if v.severity == "error"] == []


def test_a_cancellation_lets_a_waiting_patient_start_sooner(tmp_path: Path) -> None:
    roster, folder = load_roster(_roster(tmp_path, 4))
    clinic = roster_clinic(roster, folder)
    plans = [p.plan for p in place(roster.ordered(), clinic=clinic, folder=folder, now=MADE)
             if p.plan is not None]  # fmt: skip
    assert len(plans) == 4
    waiting, _ = load_roster(_roster(tmp_path, 1, "waitlist.toml", "w"))
    (before,) = place(waiting.ordered(), clinic=clinic, folder=folder, plans=plans, now=MADE)
    assert before.plan is not None
    # the first patient stops: every session still to come is cancelled
    first = plans[0]
    cancelled = replan(first, as_of=MADE, clinic=clinic, patient=Patient(id=first.patient or ""),
                       events=[
        Cancelled(appointment=a.id) for a in first.appointments if a.anchored is None])  # fmt: skip
    kept = [cancelled, *plans[1:]]
    (after,) = place(waiting.ordered(), clinic=clinic, folder=folder, plans=kept, now=MADE)
    assert after.plan is not None
    assert after.plan.appointments[0].start < before.plan.appointments[0].start


def test_a_roster_is_checked_like_any_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"patients\[1\]\.id: must be unique"):
        Roster.model_validate({"patients": [
            {"id": "a", "protocol": "iv-ketamine-mwf", "start": "2026-12-01"},
            {"id": "a", "protocol": "iv-ketamine-mwf", "start": "2026-12-02"}]})  # fmt: skip
    (tmp_path / "clinic.toml").write_text(CLINIC)
    (tmp_path / "p.toml").write_text('id = "someone-else"\n')
    (tmp_path / "r.toml").write_text('clinic = "clinic.toml"\n[[patients]]\nid = "p-1"\n'
                                     'protocol = "iv-ketamine-mwf"\nstart = 2026-12-01\n'
                                     'file = "p.toml"\n')  # fmt: skip
    roster, folder = load_roster(tmp_path / "r.toml")
    with pytest.raises(InputError, match="a patient file with id 'p-1'"):
        place(roster.ordered(), clinic=roster_clinic(roster, folder), folder=folder, now=MADE)


def test_the_command_line_writes_each_plan_and_the_clinic_calendar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = _roster(tmp_path, 5)
    out = tmp_path / "out"
    code, text = run("clinic", "plan", str(roster), "-o", str(out), "--now", "2026-11-20T09:00")
    assert code == 0, text
    assert "wrote 5 plans and clinic.ics" in text
    assert "planning" not in capsys.readouterr().err  # no progress bar off a terminal
    plans = sorted(out.glob("p-*.json"))
    assert len(plans) == 5
    assert all(load_plan(path).patient == path.stem for path in plans)
    calendar = icalendar.Calendar.from_ical((out / "clinic.ics").read_bytes())
    assert len(calendar.walk("VEVENT")) == sum(len(load_plan(p).appointments) for p in plans)
    waiting = _roster(tmp_path, 1, "waitlist.toml", "w")
    code, text = run("waitlist", str(waiting), *map(str, plans), "--now", "2026-11-20T09:00",
                     "--format", "json")  # fmt: skip
    assert code == 0
    (offer,) = json.loads(text)
    assert offer["patient"] == "w-00"
    assert offer["plan"]["appointments"]


def test_a_time_limit_is_the_cp_sat_back_end_s(tmp_path: Path) -> None:
    """Hostile review: --time-limit with the default (local) back-end changed nothing."""
    roster = _roster(tmp_path, 2)
    result = ketaplan("clinic", "plan", str(roster), "-o", str(tmp_path / "out"),
                      "--now", "2026-11-20T09:00", "--time-limit", "0.01")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "ketaplan: error: --time-limit: must be used with --backend cp-sat; got 0.01\n"
    )
    assert not (tmp_path / "out").exists()  # refused before the folder is made
