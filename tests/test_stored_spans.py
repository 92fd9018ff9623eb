"""A plan file whose stored spans or dosing start disagree with its starts: every reader agrees.

``check`` reads a plan's dosing starts and resource spans as its protocol gives them from each
start (``ketaplan._resolve.timed``): clinic software may move a session's ``start`` and ``end``
only, and a hand-edited file or one written by an older version may hold other times. Loading a
plan file keeps what the file says (a plan does not know its protocol), so the stored copies
can disagree with the derived ones after loading. The capacity figures
(``capacity.resource_use``), the FHIR export and the iCalendar export read the stored copies,
and gave other answers than ``check`` for one plan (found by a review of who reads them). Each
test here failed before: they read the plan through the same derivation now.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from ketaplan import InputError, check, load_protocol, plan, plan_bookings
from ketaplan._resolve import timed
from ketaplan.capacity import capacity_report, resource_use
from ketaplan.defaults import demo_clinic
from ketaplan.fhir import to_fhir
from ketaplan.ics import to_ics
from ketaplan.ics.export import Audience
from ketaplan.loading import dump_plan, load_plan
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Plan, ResourceSpan
from ketaplan.protocol import HoldRule
from ketaplan.runsheet import run_sheet

from .test_cli import ketaplan, run
from .test_moved_elsewhere import MWF, NOW, ONE_CHAIR, made, moved

#: Both audiences of the exports.
AUDIENCES: tuple[Audience, ...] = ("patient", "clinic")
#: What the exports stamp: fixed, so two exports compare byte for byte.
STAMP = dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC)
#: A clinic's hold on cannabis: 12 hours before dosing until 6 hours after.
CANNABIS_HOLD = HoldRule(
    id="cannabis",
    medication="cannabis",
    severity="hold",
    hold_before_hours=12,
    resume_after_hours=6,
    source="cannabis-clinics",
)
#: The demo clinic, with the hold.
HOLDING = demo_clinic().model_copy(update={"medication_rules": (CANNABIS_HOLD,)})
CANNABIS = Patient.model_validate(
    {"id": "p-hold", "medications": [{"name": "cannabis", "as_needed": True}]}
)


def edited(original: Plan, appointment: str, **changes: Any) -> Plan:
    """``original`` with fields of ``appointment`` changed as a hand edit of its file would."""
    old = original.appointment(appointment)
    new = old.model_copy(update=changes)
    return original.model_copy(
        update={"appointments": tuple(new if a.id == old.id else a for a in original.appointments)}
    )


def stale(
    original: Plan, appointment: str = "induction-1", late: dt.timedelta = dt.timedelta(hours=3)
) -> Plan:
    """``original`` with the stored times of ``appointment`` wrong and its start unchanged.

    Its dosing start and every resource span ``late`` late, through a file, as a hand edit or
    an older version would leave them.
    """
    session = original.appointment(appointment)
    assert session.dosing_start is not None
    spans = tuple(
        s.model_copy(update={"start": s.start + late, "end": s.end + late})
        for s in session.resources
    )
    changed = edited(original, appointment, dosing_start=session.dosing_start + late,
                     resources=spans)  # fmt: skip
    return read_back(changed)


def read_back(made_plan: Plan) -> Plan:
    """``made_plan`` written to a plan file's text and read back as ``load_plan`` reads it."""
    return Plan.model_validate_json(dump_plan(made_plan))


def test_loading_a_plan_file_keeps_stored_times_that_disagree_with_the_start(tmp_path: Any) -> None:
    """The premise: nothing at loading derives or refuses them (a plan does not know its
    protocol), so every reader must derive them itself."""
    original = made("first")
    path = tmp_path / "plan.json"
    path.write_text(dump_plan(moved(original)), encoding="utf-8")
    loaded = load_plan(path)
    session, before = loaded.appointment("induction-1"), original.appointment("induction-1")
    assert session.start == before.start + dt.timedelta(hours=4)
    assert session.resources == before.resources  # the old times, as stored
    assert session.dosing_start == before.dosing_start


# -- capacity ----------------------------------------------------------------------------------


def test_capacity_counts_a_moved_session_where_check_sees_it() -> None:
    """A session moved from 09:00 to 13:00 onto another patient's chair at 13:00: ``check``
    reports the chair over capacity, and the capacity figures now see two at once too (they
    saw one: the chair as stored, at 09:00)."""
    first = read_back(moved(made("first")))
    second = made("second", at=dt.time(13))
    assert second.appointment("induction-1").local_start.hour == 13
    codes = {v.code for v in check(first, clinic=ONE_CHAIR, bookings=plan_bookings(second))}
    assert "over-capacity" in codes
    _, use = resource_use([first, second], ONE_CHAIR)
    chair = next(u for u in use if u.resource == "chair")
    assert chair.peak == 2
    report = capacity_report([first, second], ONE_CHAIR)
    assert next(u for u in report.resources if u.resource == "chair").peak == 2


def test_capacity_figures_of_stale_stored_times_are_those_of_the_plan_as_made() -> None:
    """The last dose's stored spans a day late fell outside the report's days (the plans'
    first to last session), and its hours were not counted."""
    original = made("first")
    last = original.doses[-1].id
    late = stale(original, last, dt.timedelta(days=1))
    assert resource_use([late], ONE_CHAIR) == resource_use([original], ONE_CHAIR)


def test_capacity_needs_the_protocol_of_a_plan_not_built_in() -> None:
    own = MWF.model_copy(update={"id": "our-mwf"})
    mine = made("first", protocol=own)
    with pytest.raises(InputError) as caught:
        resource_use([mine], ONE_CHAIR)
    assert str(caught.value) == (
        "plans[0].protocol: must be a built-in protocol's id, or the id of a protocol given "
        "in protocols; got 'our-mwf'"
    )
    assert resource_use([mine], ONE_CHAIR, protocols=[own]) == resource_use(
        [made("first")], ONE_CHAIR
    )


# -- FHIR --------------------------------------------------------------------------------------


def chair_periods(bundle: bytes, appointment: Appointment) -> list[str]:
    """The chair periods the Bundle gives the appointment that starts when ``appointment`` does."""
    data = json.loads(bundle)
    return [
        person["period"]["start"]
        for entry in data["entry"]
        if (resource := entry["resource"])["resourceType"] == "Appointment"
        and dt.datetime.fromisoformat(resource["start"]) == appointment.start
        for person in resource["participant"]
        if person["actor"].get("reference", "").startswith("#chair")
    ]


def test_fhir_writes_a_moved_session_s_chair_at_the_time_check_books_it() -> None:
    first = read_back(moved(made("first")))
    session = first.appointment("induction-1")
    (booked,) = [b for b in plan_bookings(first)
                 if b.appointment == "induction-1" and b.resource == "chair"]  # fmt: skip
    written = chair_periods(to_fhir(first, audience="clinic", now=STAMP), session)
    assert written == [booked.start.astimezone(ONE_CHAIR.zone).isoformat()]
    assert written == ["2026-12-07T13:00:00-05:00"]


def test_fhir_of_stale_stored_times_is_the_bundle_of_the_plan_as_made() -> None:
    original = made("first")
    for audience in AUDIENCES:
        assert to_fhir(stale(original), audience=audience, now=STAMP) == to_fhir(
            original, audience=audience, now=STAMP
        )


def test_fhir_needs_the_protocol_of_a_plan_not_built_in() -> None:
    own = MWF.model_copy(update={"id": "our-mwf"})
    mine = made("first", protocol=own)
    with pytest.raises(InputError, match=r"^plans\[0\]\.protocol: must be a built-in"):
        to_fhir(mine, now=STAMP)
    assert json.loads(to_fhir(mine, now=STAMP, protocols=[own]))["entry"]


# -- iCalendar ---------------------------------------------------------------------------------


def held() -> Plan:
    """A plan with a cannabis hold before each dose (its resume time in the patient's words)."""
    return plan(load_protocol("iv-ketamine-standard"), start=dt.date(2026, 11, 30),
                clinic=HOLDING, patient=CANNABIS, preferred_time=dt.time(9), now=NOW)  # fmt: skip


def test_ics_resume_wording_reads_the_dosing_start_check_reads() -> None:
    """The neutral hold reminder says when to resume only when the hold ends after dosing
    begins; a stored dosing start three hours late dropped the resume time."""
    original = held()
    dose = original.doses[0].id
    late = stale(original, dose, dt.timedelta(hours=8))  # after the hold ends
    assert check(late, clinic=HOLDING, patient=CANNABIS) == []
    text = to_ics(original, now=STAMP).decode()
    assert "resume after 15:" in text.replace("\r\n ", "")
    for audience in AUDIENCES:
        assert to_ics(late, audience=audience, now=STAMP) == to_ics(
            original, audience=audience, now=STAMP
        )


def test_ics_checkpoint_reminders_read_the_dosing_start_check_reads() -> None:
    """A clinic calendar reminds of each check strictly inside dosing and monitoring; with the
    stored dosing start three hours late, the check 40 minutes into dosing had none."""
    original = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 11, 30),
                    clinic=demo_clinic(), preferred_time=dt.time(9), now=NOW)  # fmt: skip
    late = stale(original)
    assert check(late, clinic=demo_clinic()) == check(original, clinic=demo_clinic()) == []
    assert b"TRIGGER:PT55M" in to_ics(original, audience="clinic", now=STAMP)
    assert to_ics(late, audience="clinic", now=STAMP) == to_ics(
        original, audience="clinic", now=STAMP
    )


def test_ics_needs_the_protocol_of_a_plan_not_built_in() -> None:
    own = MWF.model_copy(update={"id": "our-mwf"})
    mine = made("first", protocol=own)
    with pytest.raises(InputError, match=r"^plans\[0\]\.protocol: must be a built-in"):
        to_ics(mine, now=STAMP)
    assert to_ics(mine, now=STAMP, protocols=[own]).startswith(b"BEGIN:VCALENDAR")


# -- the run sheet -----------------------------------------------------------------------------


def test_the_run_sheet_of_stale_stored_times_is_that_of_the_plan_as_made() -> None:
    """It derived the spans already (with the same rule): kept so, through the one reading."""
    original = made("first")
    day = original.appointment("induction-1").local_date
    assert run_sheet([stale(original)], day=day, clinic=ONE_CHAIR) == run_sheet(
        [original], day=day, clinic=ONE_CHAIR
    )


def test_a_span_in_no_order_of_the_protocol_is_read_in_its_order() -> None:
    """Stored spans in another order, or one missing, are the protocol's spans once read.

    The chair keeps its number; a span left out has none to keep (here the monitoring, which
    has no number).
    """
    original = made("first")
    session = original.appointment("induction-1")
    reordered = stale(original).appointment("induction-1").resources[::-1]
    short: tuple[ResourceSpan, ...] = session.resources[:1]
    assert [s.resource for s in session.resources] == ["chair", "monitoring-staff"]
    for spans in (reordered, short):
        odd = read_back(edited(original, "induction-1", resources=spans))
        assert resource_use([odd], ONE_CHAIR) == resource_use([original], ONE_CHAIR)
        assert to_fhir(odd, audience="clinic", now=STAMP) == to_fhir(
            original, audience="clinic", now=STAMP
        )


# -- the derivation itself -----------------------------------------------------------------------


def test_a_session_that_is_not_a_dose_has_no_dosing_start_once_read() -> None:
    """A stored dosing start on a consultation was kept (``check``'s hold rules look at every
    session with one); the protocol gives a dosing start to doses only."""
    original = made("first")
    intake = original.appointments[0]
    assert intake.kind == "consultation"
    assert intake.dosing_start is None
    odd = read_back(edited(original, intake.id, dosing_start=intake.start))
    assert timed(odd, MWF).appointments[0].dosing_start is None
    assert timed(odd, MWF) == original


def test_a_plan_whose_stored_times_agree_is_read_as_it_is() -> None:
    """What lets every reader derive the times once per plan at little cost: no copy is made."""
    original = made("first")
    assert timed(original, MWF) is original
    assert timed(read_back(original), MWF) == original


# -- the command line --------------------------------------------------------------------------


def test_ketaplan_export_writes_a_moved_session_at_its_new_time(tmp_path: Path) -> None:
    first = moved(made("first"))
    path = tmp_path / "first.json"
    path.write_text(dump_plan(first), encoding="utf-8")
    code, text = run("export", str(path), "--format", "fhir", "--audience", "clinic")
    assert code == 0
    written = chair_periods(text.encode(), first.appointment("induction-1"))
    assert written == ["2026-12-07T13:00:00-05:00"]


def test_ketaplan_export_takes_the_protocol_of_a_plan_not_built_in(tmp_path: Path) -> None:
    """The export reads the plan by its protocol, so one not built in is given with --protocol
    (as ``check`` and ``replan`` take it); the export said nothing of it before."""
    own = MWF.model_copy(update={"id": "our-mwf"})
    protocol = tmp_path / "our-mwf.json"
    protocol.write_text(own.model_dump_json(), encoding="utf-8")
    path = tmp_path / "first.json"
    path.write_text(dump_plan(made("first", protocol=own)), encoding="utf-8")
    result = ketaplan("export", str(path), "--format", "ics")
    assert result.returncode == 2  # a user's error
    assert "our-mwf" in result.stderr
    assert "Traceback" not in result.stderr
    code, text = run("export", str(path), "--format", "ics", "--protocol", str(protocol))
    assert code == 0
    assert text.startswith("BEGIN:VCALENDAR")
    result = ketaplan("export", str(path), "--format", "svg", "--protocol", str(protocol))
    assert (result.returncode, result.stderr) == (
        2,
        "ketaplan: error: --format: must be ics or fhir with --protocol; got 'svg'\n",
    )
