"""Missed versus late-cancelled (issue 15, section 5): a cancellation carries when it was made,
and the clinic's cancellation window classes it in time or late; a no-show is a miss."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ketaplan import (
    Attended,
    Cancelled,
    Clinic,
    DefinitionError,
    InputError,
    Missed,
    Plan,
    load_protocol,
    replan,
)
from ketaplan.defaults import demo_clinic
from ketaplan.summary import plan_table
from tests.helpers import plan

from .test_cli import run

CLINIC = demo_clinic()
NY = CLINIC.zone


def at(day: str, time: str = "09:00") -> dt.datetime:
    """A moment in New York, the demo clinic's zone."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=NY)


@pytest.fixture(scope="module")
def mwf() -> Plan:
    """iv-ketamine-mwf: the intake Mon 1 Mar 2027, induction-1 09:00 Mon 8 Mar, the intake held."""
    made = plan(
        load_protocol("iv-ketamine-mwf"),
        start=dt.date(2027, 3, 1),
        clinic=CLINIC,
        preferred_time=dt.time(9),
    )
    assert made.appointment("induction-1").start == at("2027-03-08")
    return replan(
        made,
        as_of=at("2027-03-01", "12:00"),
        clinic=CLINIC,
        events=[Attended(appointment="intake-1")],
    )


def cancel(
    made: Plan, made_at: dt.datetime | None, *, as_of: dt.datetime, clinic: Clinic = CLINIC
) -> Plan:
    event = Cancelled(appointment="induction-1", made_at=made_at)
    return replan(made, as_of=as_of, clinic=clinic, events=[event])


def test_the_clinics_window_classes_a_cancellation() -> None:
    """In time when made at least the window's hours (real elapsed time) before the start."""
    start = at("2027-03-08")
    assert CLINIC.cancellation_window_hours == 24  # the operational default
    notice = CLINIC.cancellation_notice
    assert notice(start, made_at=start - dt.timedelta(hours=24)) == "in-time"
    assert notice(start, made_at=start - dt.timedelta(hours=23, minutes=59)) == "late"
    assert notice(start, made_at=start + dt.timedelta(minutes=5)) == "late"  # after it began
    never = CLINIC.model_copy(update={"cancellation_window_hours": 0})
    assert never.cancellation_notice(start, made_at=start) == "in-time"


def test_a_late_cancellation_is_recorded_on_the_appointment(mwf: Plan) -> None:
    late = cancel(mwf, at("2027-03-07", "20:00"), as_of=at("2027-03-07", "21:00"))
    cancelled = late.appointment("induction-1")
    assert (cancelled.status, cancelled.cancellation) == ("cancelled", "late")
    assert cancelled.cancelled_at == at("2027-03-07", "20:00")
    assert late.history[-1].endswith(
        "induction-1 cancelled late (made 2027-03-07T20:00:00-05:00, 13 h before it; the "
        "clinic's cancellation window is 24 h)"
    )
    assert "cancelled (late)" in plan_table(late)


def test_an_early_cancellation_is_in_time(mwf: Plan) -> None:
    early = cancel(mwf, at("2027-03-05"), as_of=at("2027-03-07", "21:00"))
    assert early.appointment("induction-1").cancellation == "in-time"
    assert "cancelled (in-time)" in plan_table(early)


def test_made_at_defaults_to_when_the_cancellation_is_recorded(mwf: Plan) -> None:
    recorded = cancel(mwf, None, as_of=at("2027-03-07", "10:00"))
    cancelled = recorded.appointment("induction-1")
    assert (cancelled.cancellation, cancelled.cancelled_at) == ("late", at("2027-03-07", "10:00"))


def test_the_window_is_the_clinics_policy(mwf: Plan) -> None:
    strict = CLINIC.model_copy(update={"cancellation_window_hours": 72})
    recorded = cancel(mwf, None, as_of=at("2027-03-06"), clinic=strict)  # 48 h before it
    assert recorded.appointment("induction-1").cancellation == "late"


def test_a_no_show_is_missed_not_cancelled(mwf: Plan) -> None:
    recorded = replan(
        mwf,
        as_of=at("2027-03-08", "12:00"),
        clinic=CLINIC,
        events=[Missed(appointment="induction-1")],
    )
    missed = recorded.appointment("induction-1")
    assert (missed.status, missed.cancellation, missed.cancelled_at) == ("missed", None, None)


def test_a_cancellation_cannot_be_made_after_it_is_recorded(mwf: Plan) -> None:
    with pytest.raises(InputError, match=r"events\[0\]\.made_at: must be a moment on or before"):
        cancel(mwf, at("2027-03-07"), as_of=at("2027-03-06"))
    with pytest.raises(DefinitionError, match="made_at: must have a UTC offset"):
        Cancelled(appointment="induction-1", made_at=dt.datetime(2027, 3, 5, 9))


def test_older_files_read_with_the_defaults(mwf: Plan) -> None:
    """Plans and clinics written before the cancellation fields still load."""
    data = json.loads(mwf.model_dump_json())
    for appointment in data["appointments"]:
        del appointment["cancellation"], appointment["cancelled_at"]
    assert Plan.model_validate(data) == mwf
    clinic = json.loads(CLINIC.model_dump_json())
    del clinic["cancellation_window_hours"]
    assert Clinic.model_validate(clinic).cancellation_window_hours == 24


def test_the_command_line_takes_when_it_was_made(mwf: Plan, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(mwf.model_dump_json())
    code, text = run(
        "replan",
        str(path),
        "--as-of",
        "2027-03-07T21:00",
        "--clinic",
        "demo",
        "--event",
        "cancelled:induction-1@2027-03-07T20:00",
        "--format",
        "json",
    )
    assert code == 0
    cancelled = Plan.model_validate_json(text).appointment("induction-1")
    assert (cancelled.cancellation, cancelled.cancelled_at) == ("late", at("2027-03-07", "20:00"))
    code, _ = run(
        "replan",
        str(path),
        "--as-of",
        "2027-03-07T21:00",
        "--clinic",
        "demo",
        "--event",
        "cancelled:induction-1@2027-03-07",
    )
    assert code == 2
