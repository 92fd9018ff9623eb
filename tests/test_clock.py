"""The moment of planning: nothing is booked in the past or inside the clinic's notice.

Issue 14: ``ketaplan plan ... --start <today>`` at 14:30 placed a session at 08:00 that day,
inside the clinic's 24-hour minimum notice; ``--now`` only set DTSTAMP, and ``check --now``
said "no violations". The suite runs with ``KETAPLAN_NOW`` set (tests/conftest.py); these
tests set their own.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import ketaplan
from ketaplan import InputError, check, load_protocol
from ketaplan.planner import made_before
from ketaplan.replanning import Moved, replan
from ketaplan.timing import CLOCK_VARIABLE, current_time

from .helpers import clinic
from .test_cli import run

NY = ketaplan.timing.zone("America/New_York")
NOTICE = clinic(minimum_notice_hours=24, booking_horizon_days=60)
PLANNED_AT = dt.datetime(2026, 12, 1, 14, 30, tzinfo=NY)  # a Tuesday afternoon


def test_the_clock_variable_sets_the_current_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLOCK_VARIABLE, "2026-12-01T14:30-05:00")
    assert current_time() == PLANNED_AT
    monkeypatch.delenv(CLOCK_VARIABLE)
    before = dt.datetime.now(dt.UTC)
    assert before <= current_time() <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("text", ["tomorrow", "2026-12-01T14:30", "0001-01-01T00:00+00:00"])
def test_a_wrong_clock_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(CLOCK_VARIABLE, text)
    with pytest.raises(InputError, match="KETAPLAN_NOW: must be a moment with its UTC offset"):
        ketaplan.plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1))


def test_planning_without_now_uses_the_current_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLOCK_VARIABLE, PLANNED_AT.isoformat())
    made = ketaplan.plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1),
                         clinic=NOTICE, preferred_time=dt.time(8))  # fmt: skip
    notice = PLANNED_AT + dt.timedelta(hours=24)
    assert all(a.start >= notice for a in made.appointments)
    assert {a.booked_at for a in made.appointments} == {PLANNED_AT}
    # the first session is the next day at the first slot after the notice, not 08:00 today
    assert made.appointments[0].local_start == dt.datetime(2026, 12, 2, 14, 30, tzinfo=NY)


def test_a_start_on_a_day_already_past_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLOCK_VARIABLE, PLANNED_AT.isoformat())
    with pytest.raises(InputError, match=r"start: must be today or later.*give now="):
        ketaplan.plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30), clinic=NOTICE)
    # as of an earlier moment, the same start is fine
    monday = dt.date(2026, 11, 30)
    earlier = ketaplan.plan(load_protocol("iv-ketamine-mwf"), start=monday, clinic=NOTICE,
                            now=made_before(monday, NOTICE))  # fmt: skip
    assert earlier.appointments[0].local_date == monday


def test_nothing_is_booked_beyond_the_horizon_from_now() -> None:
    made = ketaplan.plan(load_protocol("iv-ketamine-standard"), start=dt.date(2026, 12, 1),
                         clinic=NOTICE, now=PLANNED_AT, until=dt.date(2027, 6, 1))  # fmt: skip
    last = PLANNED_AT.date() + dt.timedelta(days=60)
    assert all(a.local_date <= last for a in made.appointments)
    assert any("60-day booking horizon" in note for note in made.notes)


def test_the_command_line_plans_as_of_now_and_check_reports_a_late_booking(
    tmp_path: Path,
) -> None:
    clinic_file = tmp_path / "clinic.json"
    clinic_file.write_text(NOTICE.model_dump_json())
    code, text = run("plan", "iv-ketamine-mwf", "--start", "2026-12-01", "--time", "08:00",
                     "--clinic", str(clinic_file), "--now", "2026-12-01T14:30",
                     "--format", "json")  # fmt: skip
    assert code == 0, text
    data = json.loads(text)
    first = data["appointments"][0]
    assert dt.datetime.fromisoformat(first["start"]) >= PLANNED_AT + dt.timedelta(hours=24)
    # the session the old planner made: 08:00 the same day, booked at 14:30
    first["start"], first["end"] = "2026-12-01T08:00:00-05:00", "2026-12-01T09:00:00-05:00"
    first.pop("dosing_start", None)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(data))
    code, text = run("check", str(plan_file), "--clinic", str(clinic_file))
    assert code == 1
    assert "booked-in-the-past" in text
    assert "was booked at 14:30 on 01 Dec 2026, after its start" in text


def test_a_move_is_booked_when_it_is_made_and_judged_by_the_notice() -> None:
    made = ketaplan.plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 7),
                         clinic=NOTICE, now=PLANNED_AT, preferred_time=dt.time(9))  # fmt: skip
    third = made.appointment("induction-3")
    as_of = third.start - dt.timedelta(days=2) + dt.timedelta(hours=6)  # 15:00, two days before
    to = third.start - dt.timedelta(days=1)  # 09:00 the next day: 18 h after the re-plan
    after = replan(made, as_of=as_of, clinic=NOTICE, events=[Moved(appointment=third.id, to=to)])
    assert after.appointment(third.id).booked_at == as_of
    assert after.appointment("induction-1").booked_at == PLANNED_AT  # unchanged, kept
    found = check(after, clinic=NOTICE)
    late = [v for v in found if v.code == "before-minimum-notice"]
    assert [v.appointments for v in late] == [(third.id,)]
    assert "less than 24 h before it" in late[0].message
