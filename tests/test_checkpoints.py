"""Checkpoints reach the people who do them (issue 13, section 1).

Each checkpoint of a planned dose becomes a staff task at its exact local time, in the plan's
JSON and table and in the clinic calendar at full detail; the built-in protocols carry the
checks their sources give. ``check``'s side is in ``test_check.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from ketaplan import (
    Attended,
    Cancelled,
    Plan,
    ProtocolError,
    load_protocol,
    loads_protocol,
    replan,
)
from ketaplan.defaults import demo_clinic
from ketaplan.ics import to_ics
from ketaplan.loading import load_plan
from ketaplan.plans import Task
from ketaplan.protocol import Checkpoint, Timeline
from ketaplan.rules.tasks import checkpoint_task_id
from ketaplan.summary import describe_protocol, plan_table

from .helpers import clinic, plan
from .test_cli import run

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 21, 9, tzinfo=UTC)
ALL_DAY = clinic(days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"), hours="00:00-23:59")
IV = ("iv-ketamine-standard", "iv-ketamine-mwf", "iv-ketamine-kap")
BUILT_INS = ("esketamine-trd", "esketamine-mdsi", *IV, "iv-ketamine-pain", "sc-ketamine-anxiety",
             "home-sublingual")  # fmt: skip


def checks_of(made: Plan, appointment_id: str) -> dict[str, Task]:
    """The appointment's checkpoint tasks, by checkpoint id."""
    prefix, suffix = "checkpoint-", f"-{appointment_id}"
    return {
        task.id.removeprefix(prefix).removesuffix(suffix): task
        for task in made.tasks
        if task.kind == "checkpoint" and task.appointment == appointment_id
    }


def checkpoints(protocol_id: str) -> dict[str, Checkpoint]:
    protocol = load_protocol(protocol_id)
    (kind,) = [kind for kind in protocol.session_kinds if kind.is_dosing]
    return {checkpoint.id: checkpoint for checkpoint in kind.checkpoints}


# -- the data: every dosing protocol has the checks its sources give -------------------------------


@pytest.mark.parametrize("protocol_id", ["esketamine-trd", "esketamine-mdsi"])
def test_esketamine_blood_pressure_and_respiratory_status(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    found = checkpoints(protocol_id)
    # Label: "Blood pressure should be monitored prior to and 40 minutes after administration"
    # (spravatohcp dosing page); REMS Patient Monitoring Form: BP prior to administration, at 40
    # minutes and prior to session completion.
    assert (found["bp-before-dosing"].at, found["bp-40-min"].minutes_after_dosing) == (
        "before-dosing",
        40,
    )
    assert found["bp-before-discharge"].at == "before-discharge"
    assert protocol.source(found["bp-before-discharge"].source or "").evidence == "rems"
    # Label: "Monitor patients for changes in respiratory status (including pulse oximetry) at
    # each treatment session" - through dosing and the monitoring after it.
    respiratory = found["respiratory-status"]
    assert "pulse oximetry" in respiratory.name
    assert (respiratory.at, respiratory.during) == ("during", ("dosing", "monitoring"))
    assert protocol.source(respiratory.source or "").evidence == "label"


@pytest.mark.parametrize("protocol_id", IV)
def test_iv_vital_signs_before_during_and_after_the_infusion(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    found = checkpoints(protocol_id)
    # Emory, 684 infusions (domain 2.5): blood pressure every 10 min during the infusion and
    # every 15 min after it.
    during, after = found["bp-during-infusion"], found["bp-after-infusion"]
    assert (during.during, during.every_minutes) == (("dosing",), 10)
    assert (after.during, after.every_minutes) == (("monitoring",), 15)
    assert protocol.source(during.source or "").evidence == "trial"
    # IV EHR requirements (domain 6.3): baseline vital signs before; discharge criteria after.
    assert found["vitals-before-dosing"].at == "before-dosing"
    assert found["discharge-criteria"].at == "before-discharge"


def test_sc_anxiety_vital_signs_and_blood_pressure_at_30_minutes() -> None:
    protocol = load_protocol("sc-ketamine-anxiety")
    found = checkpoints("sc-ketamine-anxiety")
    # Glue 2018: blood pressure rose about 10 mmHg at 30 min; vital signs were monitored.
    assert found["bp-30-min"].minutes_after_dosing == 30
    assert {c.at for c in found.values()} == {"before-dosing", "after-dosing", "before-discharge"}
    assert {c.source for c in found.values()} == {"glue-2018-vitals"}
    assert protocol.source("glue-2018-vitals").evidence == "trial"


def test_pain_vital_signs_throughout() -> None:
    protocol = load_protocol("iv-ketamine-pain")
    during = checkpoints("iv-ketamine-pain")["vitals-during"]
    # ASKP3: vital signs are monitored (no interval given, so throughout).
    assert (during.during, during.every_minutes) == (("dosing", "monitoring"), None)
    assert protocol.source(during.source or "").evidence == "guideline"


def test_home_blood_pressure_before_the_session() -> None:
    protocol = load_protocol("home-sublingual")
    (only,) = checkpoints("home-sublingual").values()
    # Mindbloom: the guide takes blood-pressure readings just before the first session; the kit
    # includes a blood-pressure monitor.
    assert (only.at, only.source) == ("before-dosing", "mindbloom-bp")
    assert protocol.source("mindbloom-bp").evidence == "clinic"


@pytest.mark.parametrize("protocol_id", BUILT_INS)
def test_every_dosing_session_has_sourced_checkpoints(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    for kind in protocol.session_kinds:
        if kind.is_dosing:
            assert kind.checkpoints, kind.id
            for checkpoint in kind.checkpoints:
                assert checkpoint.source is not None, checkpoint.id
                assert protocol.source(checkpoint.source).citation


# -- the model ------------------------------------------------------------------------------------


def test_minutes_count_from_the_start_of_dosing() -> None:
    timeline = Timeline(check_in_minutes=15, dosing_minutes=40, monitoring_minutes=30)
    made = [
        Checkpoint(id="a", name="x", at="before-dosing"),
        Checkpoint(id="b", name="x", at="after-dosing", minutes_after_dosing=25),
        Checkpoint(id="c", name="x", at="during", during=("dosing",), every_minutes=10),
        Checkpoint(id="d", name="x", at="during", during=("monitoring",)),
        Checkpoint(id="e", name="x", at="before-discharge"),
    ]
    assert [c.minutes(timeline) for c in made] == [(0, 0), (25, 25), (0, 40), (40, 70), (70, 70)]
    assert [c.describe() for c in made] == [
        "before dosing",
        "25 min after the start of dosing",
        "every 10 min during dosing",
        "throughout monitoring",
        "before discharge",
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"at": "during"}, "during: must list steps exactly when at is 'during'"),
        ({"at": "before-dosing", "during": ["dosing"]}, "during: must list steps exactly when"),
        ({"at": "before-dosing", "every_minutes": 5}, "every_minutes: must be given only when"),
        ({"at": "after-dosing"}, "minutes_after_dosing: must be given exactly when"),
        ({"at": "during", "during": ["check-in", "monitoring"]}, "must list consecutive steps"),
    ],
)
def test_checkpoint_fields_are_coherent(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Checkpoint.model_validate({"id": "x", "name": "x", **fields})


def _with_checkpoints(protocol_id: str, kind_id: str, checkpoints: list[dict[str, Any]]) -> Any:
    data = load_protocol(protocol_id).model_dump(mode="json", exclude_none=True)
    for kind in data["session_kinds"]:
        if kind["id"] == kind_id:
            kind["checkpoints"] = checkpoints
    return loads_protocol(json.dumps(data), format="json")


@pytest.mark.parametrize(
    ("kind_id", "checks", "message"),
    [
        ("evaluation", [{"id": "bp", "name": "bp", "at": "before-dosing"}],
         r"session_kinds\[\d\]\.checkpoints: must be empty for a consultation session"),
        ("esketamine-dose", [{"id": "bp", "name": "bp", "at": "after-dosing",
                              "minutes_after_dosing": 136}],
         r"minutes_after_dosing: must be at most 135 \(dosing plus the minimum monitoring\)"),
        ("esketamine-dose", [{"id": "bp", "name": "bp", "at": "before-dosing"}] * 2,
         r"checkpoints\[1\]\.id: must be unique within checkpoints"),
    ],
)  # fmt: skip
def test_checkpoints_must_fit_their_session(
    kind_id: str, checks: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ProtocolError, match=message):
        _with_checkpoints("esketamine-trd", kind_id, checks)


# -- tasks at exact local times -------------------------------------------------------------------


def test_each_checkpoint_of_each_planned_dose_is_a_task() -> None:
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 11, 30), clinic=demo_clinic(),
                preferred_time=dt.time(9))  # fmt: skip
    for dose in made.doses:
        found = checks_of(made, dose.id)
        assert set(found) == {"bp-before-dosing", "bp-40-min", "respiratory-status",
                              "bp-before-discharge"}  # fmt: skip
        assert dose.dosing_start is not None
        # Label: BP before dosing and 40 minutes after; REMS: before the session's completion.
        assert found["bp-before-dosing"].at == dose.dosing_start
        assert found["bp-40-min"].at == dose.dosing_start + dt.timedelta(minutes=40)
        assert found["bp-before-discharge"].at == dose.end
        assert (found["respiratory-status"].at, found["respiratory-status"].until) == (
            dose.dosing_start,
            dose.end,
        )
        assert {task.due for task in found.values()} == {dose.local_date}
        assert found["bp-40-min"].id == checkpoint_task_id("bp-40-min", dose.id)
        assert found["bp-40-min"].source == "spravato-pi-monitoring"


def test_times_count_real_minutes_across_spring_forward() -> None:
    # Sun 8 Mar 2026, New York: clocks jump from 02:00 EST to 03:00 EDT. Check-in 01:15 EST,
    # dosing 01:30 EST (06:30 UTC); label +40 min = 07:10 UTC = 03:10 EDT (a wall clock would
    # say 02:10, a time that does not exist); discharge after 15 + 120 min = 08:45 UTC = 04:45 EDT.
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 3, 1), clinic=ALL_DAY,
                preferred_time=dt.time(1, 15), until=dt.date(2026, 3, 20))  # fmt: skip
    first = made.doses[0]
    assert first.local_start == dt.datetime(2026, 3, 8, 1, 15, tzinfo=NY)
    found = checks_of(made, first.id)
    assert found["bp-40-min"].at == dt.datetime(2026, 3, 8, 7, 10, tzinfo=UTC)
    assert found["bp-40-min"].at.astimezone(NY).strftime("%H:%M %Z") == "03:10 EDT"
    assert found["bp-before-discharge"].at == dt.datetime(2026, 3, 8, 8, 45, tzinfo=UTC)
    assert found["respiratory-status"].until == dt.datetime(2026, 3, 8, 8, 45, tzinfo=UTC)


def test_times_count_real_minutes_across_fall_back() -> None:
    # Sun 1 Nov 2026, New York: 02:00 EDT becomes 01:00 EST. Check-in 01:15 EDT, dosing 01:30
    # EDT (05:30 UTC); +40 min = 06:10 UTC, which is 01:10 EST: earlier on the wall clock than
    # the start of dosing, 40 real minutes later.
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 10, 25), clinic=ALL_DAY,
                preferred_time=dt.time(1, 15), until=dt.date(2026, 11, 10))  # fmt: skip
    first = made.doses[0]
    # Compared in UTC: Python never calls a time in a repeated hour equal to one in another zone.
    assert first.start.astimezone(UTC) == dt.datetime(2026, 11, 1, 5, 15, tzinfo=UTC)
    forty = checks_of(made, first.id)["bp-40-min"].at
    assert forty is not None
    assert forty.astimezone(UTC) == dt.datetime(2026, 11, 1, 6, 10, tzinfo=UTC)
    assert forty.astimezone(NY).strftime("%H:%M %Z") == "01:10 EST"


def test_only_planned_doses_have_checkpoint_tasks() -> None:
    made = plan(load_protocol("iv-ketamine-standard"), start=dt.date(2026, 11, 30),
                clinic=demo_clinic(), preferred_time=dt.time(9))  # fmt: skip
    after = replan(
        made,
        as_of=dt.datetime(2026, 12, 9, 18, tzinfo=NY),
        events=[Attended(appointment="induction-1"), Cancelled(appointment="induction-2")],
        clinic=demo_clinic(),
    )
    assert checks_of(after, "induction-1") == {}  # done: nothing left to prompt
    assert "induction-2" not in {t.appointment for t in after.tasks if t.kind == "checkpoint"}
    assert all(checks_of(after, dose.id) for dose in after.doses if dose.status == "planned")
    review = [a for a in after.appointments if not a.is_dose]
    assert review
    assert all(checks_of(after, a.id) == {} for a in review)


def test_checkpoint_tasks_round_trip_through_json() -> None:
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 3, 1), clinic=ALL_DAY,
                preferred_time=dt.time(1, 15), until=dt.date(2026, 4, 1))  # fmt: skip
    text = made.model_dump_json()
    back = Plan.model_validate_json(text)
    assert back == made
    assert back.model_dump_json() == text
    timed = [task for task in back.tasks if task.at is not None]
    assert timed
    originals = [task for task in made.tasks if task.at is not None]
    for task, original in zip(timed, originals, strict=True):
        assert task.at is not None
        assert original.at is not None
        assert task.at.astimezone(UTC) == original.at.astimezone(UTC)
        assert task.until == original.until


def test_a_task_period_cannot_end_before_it_starts() -> None:
    at = dt.datetime(2026, 12, 7, 9, tzinfo=NY)
    with pytest.raises(ValueError, match="until: must come with at and not before it"):
        Task(id="t", title="t", due=at.date(), kind="checkpoint", at=at,
             until=at - dt.timedelta(minutes=1))  # fmt: skip
    with pytest.raises(ValueError, match="until: must come with at"):
        Task(id="t", title="t", due=at.date(), kind="checkpoint", until=at)


# -- the table and the calendars ------------------------------------------------------------------


def test_the_plan_table_shows_each_checkpoint_at_its_local_time() -> None:
    made = plan(load_protocol("iv-ketamine-standard"), start=dt.date(2026, 11, 30),
                clinic=demo_clinic(), preferred_time=dt.time(9))  # fmt: skip
    table = plan_table(made)
    # 09:00 check-in, 15 min, then a 40-min infusion and 30 min of recovery.
    assert "  at 2026-12-07 09:15: Baseline vital signs, before dosing (induction-1)" in table
    assert "  at 2026-12-07 09:15-09:55: Blood pressure, every 10 min during dosing" in table
    assert "  at 2026-12-07 09:55-10:25: Blood pressure, every 15 min during monitoring" in table
    described = describe_protocol(load_protocol("esketamine-trd"))
    assert "check: blood pressure, 40 min after the start of dosing" in described


def _events(data: bytes) -> dict[str, Any]:
    calendar = Calendar.from_ical(data)
    return {
        str(event.get("X-KETAPLAN-APPOINTMENT") or event.get("SUMMARY")): event
        for event in calendar.walk("VEVENT")
    }


def test_the_clinic_calendar_lists_each_checkpoint_with_its_time() -> None:
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 11, 30), clinic=demo_clinic(),
                preferred_time=dt.time(9))  # fmt: skip
    event = _events(to_ics(made, audience="clinic", now=NOW))["induction-1"]
    lines = str(event.get("DESCRIPTION")).splitlines()
    # 09:00 check-in + 15 min: dosing 09:15; label +40 min: 09:55; discharge 09:15 + 15 + 120.
    assert "Check 09:15: Blood pressure, before dosing" in lines
    forty = "Check 09:55: Blood pressure, 40 min after the start of dosing"
    assert forty in lines
    assert ("Check 09:15-11:30: Respiratory status, including pulse oximetry, throughout dosing "
            "and monitoring") in lines  # fmt: skip
    assert "Check 11:30: Blood pressure and clinical stability, before discharge" in lines
    # One reminder, for the check inside the session: 55 min after the 09:00 start.
    (alarm,) = event.walk("VALARM")
    assert alarm.get("TRIGGER").dt == dt.timedelta(minutes=55)
    assert str(alarm.get("DESCRIPTION")) == forty
    quiet = _events(to_ics(made, audience="clinic", now=NOW, alarms=False))
    assert not quiet["induction-1"].walk("VALARM")


@pytest.mark.parametrize(
    "options",
    [{"audience": "patient"}, {"audience": "patient", "detail": "full"},
     {"audience": "clinic", "detail": "minimal"}],
)  # fmt: skip
def test_other_calendars_carry_no_staff_checkpoints(options: dict[str, Any]) -> None:
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 11, 30), clinic=demo_clinic(),
                preferred_time=dt.time(9))  # fmt: skip
    data = to_ics(made, now=NOW, **options)
    assert b"Check " not in data
    assert b"pulse oximetry" not in data
    assert b"Blood pressure" not in data


def test_the_command_line_writes_checkpoint_tasks_it_reads_back(tmp_path: Path) -> None:
    written = tmp_path / "plan.json"
    code, text = run("plan", "esketamine-trd", "--start", "2026-11-30", "--time", "09:00",
                     "--clinic", "demo", "--format", "json", "-o", str(written))  # fmt: skip
    assert code == 0, text
    made = load_plan(written)
    found = checks_of(made, "induction-1")
    assert found["bp-40-min"].at == dt.datetime(2026, 12, 7, 9, 55, tzinfo=NY)  # label +40 min
    assert run("check", str(written), "--clinic", "demo") == (0, "no violations\n")
    code, text = run("plan", "esketamine-trd", "--start", "2026-11-30", "--time", "09:00",
                     "--clinic", "demo")  # fmt: skip
    line = "  at 2026-12-07 09:55: Blood pressure, 40 min after the start of dosing (induction-1)"
    assert line in text.splitlines()
