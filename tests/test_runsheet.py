"""The day's run sheet (issue 15, section 4): per chair and room, each patient's steps in time
order, checkpoints at the plan's exact times, and the monitoring staff's load against the
clinic's ratio; patients by id only; a table, a printable page and the command.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ketaplan import (
    Cancelled,
    CapacityChange,
    Clinic,
    InputError,
    Ledger,
    Plan,
    RunSheet,
    check,
    load_protocol,
    replan,
    run_sheet,
    run_week,
    runsheet_html,
    runsheet_table,
)
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.patient import Patient
from ketaplan.runsheet import RunSession

from .browser import render, size_of, spread
from .helpers import clinic, plan
from .test_cli import ketaplan, run

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC
DAY = dt.date(2026, 12, 7)  # Mon: induction-1 of series planned from Mon 30 Nov (intake first)
START = dt.date(2026, 11, 30)
ALL_DAY = clinic(days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"), hours="00:00-23:59")


def clinic_day(*specs: tuple[str, str], shared: bool = True) -> list[Plan]:
    """One plan per ``(patient, protocol)`` at the demo clinic, all asking for 09:00.

    ``shared`` plans each around the ones before (one ledger), as a clinic would; without it
    every patient is planned alone, so they collide.
    """
    ledger = Ledger(demo_clinic())
    made = []
    for patient, protocol in specs:
        result = plan(load_protocol(protocol), start=START, clinic=demo_clinic(),
                      patient=Patient(id=patient), preferred_time=dt.time(9),
                      bookings=ledger if shared else (), plan_id=f"plan-{patient}")  # fmt: skip
        for booking in result.bookings():
            ledger.add(booking)
        made.append(result)
    return made


@pytest.fixture(scope="module")
def day_plans() -> list[Plan]:
    return clinic_day(("p-1", "iv-ketamine-mwf"), ("p-2", "esketamine-trd"),
                      ("p-3", "iv-ketamine-mwf"))  # fmt: skip


@pytest.fixture(scope="module")
def sheet(day_plans: list[Plan]) -> RunSheet:
    return run_sheet(day_plans, day=DAY, clinic=demo_clinic())


def in_utc(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(UTC)


# -- the sheet ---------------------------------------------------------------------------------


def test_each_session_sits_in_the_chair_its_plan_gave_it(
    day_plans: list[Plan], sheet: RunSheet
) -> None:
    expected = {}
    for made in day_plans:
        for appointment in made.appointments:
            if appointment.local_date == DAY:
                seat = next(s for s in appointment.resources if s.resource in {"chair", "room"})
                expected[(made.patient, appointment.id)] = f"{seat.resource} {seat.unit}"
    found = {(s.patient, s.appointment): lane.label for lane in sheet.lanes for s in lane.sessions}
    assert found == expected
    assert len(expected) == 3  # one dose each; planned around each other: three chairs
    assert [lane.label for lane in sheet.lanes] == ["chair 1", "chair 2", "chair 3"]
    assert sheet.patients == ("p-1", "p-2", "p-3")


def test_checkpoints_are_the_plans_own_tasks_at_their_exact_times(
    day_plans: list[Plan], sheet: RunSheet
) -> None:
    """Issue 15: "a run sheet whose checkpoints match the plan"."""
    for made in day_plans:
        for session in (s for s in sheet.sessions if s.plan == made.id):
            tasks = {
                (t.id, in_utc(t.at), in_utc(t.until), t.title)
                for t in made.tasks
                if t.kind == "checkpoint" and t.appointment == session.appointment
            }
            steps = {
                (s.task, in_utc(s.at), in_utc(s.until), s.label)
                for s in session.steps
                if s.kind == "checkpoint"
            }
            assert tasks
            assert steps == tasks


def test_steps_follow_the_protocols_timeline_in_time_order(sheet: RunSheet) -> None:
    # Esketamine: check-in 15 min, dosing 15 min, at least 120 min monitoring (label).
    (session,) = [s for s in sheet.sessions if s.patient == "p-2"]
    start = session.start
    timeline = [(s.kind, s.at, s.until) for s in session.steps if s.kind != "checkpoint"]
    minutes = dt.timedelta(minutes=1)
    assert timeline == [
        ("check-in", start, start + 15 * minutes),
        ("dosing", start + 15 * minutes, start + 30 * minutes),
        ("monitoring", start + 30 * minutes, start + 150 * minutes),
        ("discharge", start + 150 * minutes, None),
    ]
    assert session.end == start + 150 * minutes
    moments = [in_utc(step.at) for step in session.steps]
    assert moments == sorted(moments)  # type: ignore[type-var]
    labels = [step.label for step in session.steps]
    assert labels.index("Blood pressure, before dosing") < labels.index("dosing (56 mg)")
    assert labels[-1] == "monitoring ends; earliest discharge"


def test_the_table_lists_each_chair_then_the_staff_load(sheet: RunSheet) -> None:
    text = runsheet_table(sheet)
    lines = text.splitlines()
    assert lines[0] == (
        "Run sheet for Mon 7 Dec 2026 at Demo Clinic (demo-clinic), times in America/New_York"
    )
    assert [line for line in lines if line.startswith("CHAIR")] == ["CHAIR 1", "CHAIR 2", "CHAIR 3"]
    assert "  09:00-11:30  p-2  induction-1: Esketamine nasal spray session, dose 1" in lines
    assert (
        "      09:55        checkpoint: Blood pressure, 40 min after the start of dosing" in lines
    )
    assert "PATIENTS UNDER MONITORING (at most 4 at once: 2 staff x 2)" in lines
    assert "  09:15-10:25  3 patients   1.5 per staff member" in lines
    assert lines[-1] == "never over the ratio"


# -- the staff load ----------------------------------------------------------------------------


@pytest.mark.parametrize(("patients", "over"), [(4, False), (5, True)])
def test_more_patients_under_monitoring_than_the_ratio_are_flagged(
    patients: int, over: bool
) -> None:
    """The demo clinic has 2 monitoring staff, 2 patients each: 4 at once (its file)."""
    alone = clinic_day(*((f"p-{n}", "iv-ketamine-mwf") for n in range(patients)), shared=False)
    found = run_sheet(alone, day=DAY, clinic=demo_clinic())
    (stretch,) = found.load  # everyone from 09:15 to 10:25
    assert (stretch.patients, stretch.capacity, stretch.staff) == (patients, 4, 2)
    assert stretch.per_staff == patients / 2
    assert stretch.over is over
    assert bool(found.over_ratio) is over
    text = runsheet_table(found)
    assert ("OVER the ratio (at most 4)" in text) is over
    page = runsheet_html(found)
    assert ('class="stretch over"' in page) is over
    assert ("Over the monitoring ratio" in page) is over


def test_a_staff_member_absent_that_day_counts_as_check_counts_it() -> None:
    """The sheet used the clinic's usual staff: the day one of two was off, two patients
    monitored at once (one each) read as within the ratio while ``check`` found them over it."""
    usual = demo_clinic()
    alone = clinic_day(("p-0", "iv-ketamine-mwf"), ("p-1", "iv-ketamine-mwf"), shared=False)
    absent = usual.model_copy(
        update={
            "resources": usual.resources.model_copy(update={"patients_per_staff": 1}),
            "capacity_changes": (
                CapacityChange(start=DAY, monitoring_staff=1, reason="staff member off sick"),
            ),
        }
    )
    absent = Clinic.model_validate(absent.model_dump())
    found = run_sheet(alone, day=DAY, clinic=absent)
    (stretch,) = found.load
    assert (stretch.patients, stretch.staff, stretch.capacity, stretch.over) == (2, 1, 1, True)
    assert found.monitoring_staff == 1
    said = check(alone[0], clinic=absent, bookings=alone[1].bookings())
    assert any(v.code == "over-capacity" and "monitoring-staff" in v.message for v in said)
    # the day before, both staff are on duty and the same two patients are within the ratio
    before = run_sheet(alone, day=DAY - dt.timedelta(days=1), clinic=absent)
    assert before.monitoring_staff == 2


def test_stretches_of_equal_load_merge_and_back_to_back_patients_are_not_together() -> None:
    # One staff member, one patient at a time; the second session starts as the first one's
    # monitoring ends (IV: 15 min check-in, 40 min dosing, 30 min monitoring).
    staff = {"monitoring_staff": 1, "patients_per_staff": 1, "prescriber_on_site": True}
    one = clinic(slot_minutes=5, resources={"chairs": 2, "rooms": 2, **staff})
    made = [
        plan(
            load_protocol("iv-ketamine-mwf"),
            start=START,
            clinic=one,
            preferred_time=clock,
            plan_id=name,
        )
        for name, clock in (("early", dt.time(9)), ("late", dt.time(10, 10)))
    ]
    found = run_sheet(made, day=DAY, clinic=one)
    assert [(s.start.time(), s.end.time(), s.patients) for s in found.load] == [
        (dt.time(9, 15), dt.time(11, 35), 1)
    ]
    assert found.over_ratio == ()


def test_without_a_clinic_the_sheet_counts_but_flags_nothing() -> None:
    made = clinic_day(*((f"p-{n}", "iv-ketamine-mwf") for n in range(5)), shared=False)
    elsewhere = [m.model_copy(update={"clinic": "elsewhere"}) for m in made]
    found = run_sheet(elsewhere, day=DAY)
    assert (found.monitoring_staff, found.clinic, found.time_zone) == (
        None,
        "elsewhere",
        made[0].time_zone,
    )
    assert [(s.patients, s.capacity, s.over) for s in found.load] == [(5, None, False)]
    assert "monitoring staff unknown (no clinic given)" in runsheet_table(found)


def test_a_plan_made_at_the_default_clinic_uses_it() -> None:
    made = plan(load_protocol("iv-ketamine-mwf"), start=START, preferred_time=dt.time(9))
    found = run_sheet(made, day=DAY)
    assert (found.clinic, found.monitoring_staff, found.patients_per_staff) == (
        "default-clinic", 500, 1,
    )  # fmt: skip


# -- what is on the sheet and what is not --------------------------------------------------------


def test_cancelled_home_and_remote_sessions_are_left_out(day_plans: list[Plan]) -> None:
    p1 = day_plans[0]
    after = replan(p1, as_of=dt.datetime(2026, 12, 4, 12, tzinfo=NY), patient=Patient(id="p-1"),
                   events=[Cancelled(appointment="induction-1")], clinic=demo_clinic())  # fmt: skip
    assert after.appointment("induction-1").status == "cancelled"
    found = run_sheet([after, *day_plans[1:]], day=DAY, clinic=demo_clinic())
    assert "induction-1" not in {s.appointment for s in found.sessions if s.patient == "p-1"}
    home = plan(load_protocol("home-sublingual"), start=START, clinic=demo_clinic(),
                preferred_time=dt.time(9), plan_id="home")  # fmt: skip
    days = {a.local_date for a in home.appointments}
    assert days
    for day in sorted(days)[:4]:
        assert run_sheet(home, day=day, clinic=demo_clinic()).lanes == ()
    empty = run_sheet(home, day=min(days), clinic=demo_clinic())
    assert "No sessions at the clinic on this day." in runsheet_table(empty)
    assert "No sessions at the clinic on this day." in runsheet_html(empty)


def test_patients_appear_by_id_only() -> None:
    """Issue 15: "Patient ids only; no names". The demo patient takes lorazepam (the plan asks
    staff to confirm a hold for it) and travels in January; the plan's instructions are the
    patient's. None of it belongs on a staff sheet."""
    made = plan(load_protocol("iv-ketamine-standard"), start=START, clinic=demo_clinic(),
                patient=demo_patient(), preferred_time=dt.time(9))  # fmt: skip
    dose = made.doses[0]
    found = run_sheet(made, day=dose.local_date, clinic=demo_clinic())
    assert [s.patient for s in found.sessions] == ["demo-patient"]
    outputs = [runsheet_table(found), runsheet_html(found), found.model_dump_json()]
    private = ["lorazepam", "travel", *(i.text for i in dose.instructions)]
    assert "lorazepam" in made.model_dump_json()
    for output in outputs:
        assert "demo-patient" in output
        for text in private:
            assert text not in output


# -- a day the clocks change -------------------------------------------------------------------


@pytest.fixture(scope="module")
def fall_back() -> RunSheet:
    # Sun 1 Nov 2026, New York: 02:00 EDT becomes 01:00 EST. Check-in 01:15 EDT (05:15 UTC),
    # dosing 01:30 EDT, the 40-minute blood pressure at 06:10 UTC = 01:10 EST: earlier on the
    # wall clock than the start of dosing, 40 real minutes later (test_checkpoints.py).
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 10, 25), clinic=ALL_DAY,
                preferred_time=dt.time(1, 15), until=dt.date(2026, 11, 10),
                plan_id="p-1")  # fmt: skip
    assert made.doses[0].local_date == dt.date(2026, 11, 1)
    return run_sheet(made, day=dt.date(2026, 11, 1), clinic=ALL_DAY)


def test_a_dst_day_lists_steps_in_real_time_order(fall_back: RunSheet) -> None:
    (session,) = fall_back.sessions
    moments = [in_utc(step.at) for step in session.steps]
    assert moments == sorted(moments)  # type: ignore[type-var]
    assert fall_back.offset_changes
    lines = runsheet_table(fall_back).splitlines()
    assert (
        "  01:15 EDT-02:45 EST  p-1  induction-1: Esketamine nasal spray session, dose 1" in lines
    )
    monitoring = lines.index("      01:45 EDT-02:45 EST  monitoring (at least 120 min)")
    forty = lines.index(
        "      01:10 EST            checkpoint: Blood pressure, 40 min after the start of dosing"
    )
    assert monitoring < forty
    assert "  01:30 EDT-02:45 EST  1 patient    0.2 per staff member" in lines


def test_a_dst_day_page_measures_real_time(fall_back: RunSheet) -> None:
    page = runsheet_html(fall_back)
    ticks = re.findall(r'class="tick[^"]*"[^>]*>([^<]+)<', page)
    assert ticks == ["01:00 EDT", "01:00 EST", "02:00 EST", "03:00 EST"]
    # The axis is 3 real hours from 05:00 UTC; the block starts 15 minutes in and lasts 150.
    assert 'class="block" style="left:8.333%;width:83.333%;' in page
    assert "01:10 EST" in page


def test_spring_forward_reads_the_hour_that_exists() -> None:
    # Sun 8 Mar 2026, New York: 02:00 EST becomes 03:00 EDT (test_checkpoints.py).
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 3, 1), clinic=ALL_DAY,
                preferred_time=dt.time(1, 15), until=dt.date(2026, 3, 20))  # fmt: skip
    found = run_sheet(made, day=dt.date(2026, 3, 8), clinic=ALL_DAY)
    text = runsheet_table(found)
    assert (
        "03:10 EDT            checkpoint: Blood pressure, 40 min after the start of dosing" in text
    )
    assert "02:" not in text  # no time in the skipped hour
    assert found.sessions[0].end.astimezone(UTC) == dt.datetime(2026, 3, 8, 8, 45, tzinfo=UTC)


# -- the page: self-contained, escaped, well formed ----------------------------------------------


class Page(HTMLParser):
    """Tags, attributes and nesting of a page, as Python's own parser reads it."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.problems: list[str] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_page_is_well_formed_self_contained_and_escaped(day_plans: list[Plan]) -> None:
    hostile = day_plans[0].model_copy(update={"patient": '<script>alert("x")</script>&'})
    found = run_sheet([hostile, *day_plans[1:]], day=DAY, clinic=demo_clinic())
    page = runsheet_html(found)
    parsed = Page(page)
    assert parsed.problems == []
    assert parsed.open == []
    assert parsed.tags[:2] == ["html", "head"]
    assert "script" not in parsed.tags
    assert not {"link", "img", "iframe", "object", "embed"} & set(parsed.tags)
    assert not {name for name, _ in parsed.attributes} & {"src", "href", "srcset", "action"}
    assert "url(" not in page
    assert "@import" not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page
    assert '<script>alert("x")</script>&' in "".join(parsed.text)  # shown, as text
    assert page.startswith("<!DOCTYPE html>\n")


def test_the_page_has_a_row_per_lane_and_a_list_below(sheet: RunSheet) -> None:
    page = runsheet_html(sheet)
    assert re.findall(r'<div class="name">([^<]+)</div>', page) == [
        "Chair 1", "Chair 2", "Chair 3", "Monitoring",
    ]  # fmt: skip
    assert page.count('class="block"') == len(sheet.sessions)
    assert re.findall(r"<h2>([^<]+)</h2>", page) == [
        "Chair 1", "Chair 2", "Chair 3", "Patients under monitoring",
    ]  # fmt: skip
    checkpoints = sum(s.kind == "checkpoint" for x in sheet.sessions for s in x.steps)
    assert page.count('<td class="kind check">check</td>') == checkpoints


# -- arguments ---------------------------------------------------------------------------------


def _wrong_protocol(made: list[Plan]) -> list[Plan]:
    return [made[0].model_copy(update={"protocol": "our-own"})]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: {"plans": []}, r"plans: must be at least one Plan; got \[\]"),
        (lambda p: {"plans": "plan.json"}, "plans: must be a Plan or a list of Plans"),
        (lambda p: {"plans": [p[0], "x"]}, r"plans\[1\]: must be a Plan; got 'x'"),
        (lambda p: {"plans": [p[0], p[0]]}, r"plans\[1\].id: must be unique among the plans"),
        (lambda p: {"day": dt.datetime(2026, 12, 7, 9)}, "day: must be a date"),
        (lambda p: {"day": dt.date(1066, 10, 14)}, "day: must be a date from 1900-01-01"),
        (lambda p: {"clinic": "demo"}, "clinic: must be a Clinic or None"),
        (lambda p: {"clinic": ALL_DAY}, r"plans\[0\].clinic: must be 'test-clinic'"),
        (lambda p: {"protocols": 3}, "protocols: must be a Protocol, a list of Protocols"),
        (lambda p: {"protocols": [3]}, r"protocols\[0\]: must be a Protocol"),
        (
            lambda p: {"plans": _wrong_protocol(p)},
            (
                r"plans\[0\].protocol: must be a built-in protocol's id, or the id of a protocol "
                "given in protocols; got 'our-own'"
            ),
        ),
    ],
)
def test_bad_arguments_name_the_argument(
    day_plans: list[Plan], change: object, message: str
) -> None:
    arguments: dict[str, object] = {"plans": day_plans, "day": DAY, "clinic": demo_clinic()}
    arguments.update(change(day_plans))  # type: ignore[operator]
    plans = arguments.pop("plans")
    with pytest.raises(InputError, match=message):
        run_sheet(plans, **arguments)  # type: ignore[arg-type]


def test_plans_of_two_clinics_or_zones_are_refused(day_plans: list[Plan]) -> None:
    other = day_plans[1].model_copy(update={"clinic": "elsewhere"})
    with pytest.raises(InputError, match=r"plans\[1\].clinic: must be 'demo-clinic'"):
        run_sheet([day_plans[0], other], day=DAY)
    moved = [m.model_copy(update={"clinic": "x"}) for m in day_plans[:2]]
    moved[1] = moved[1].model_copy(update={"time_zone": "Europe/Berlin"})
    with pytest.raises(InputError, match=r"plans\[1\].time_zone: must be 'America/New_York'"):
        run_sheet(moved, day=DAY)


def test_a_protocol_given_is_used_for_its_plans(day_plans: list[Plan]) -> None:
    own = load_protocol("iv-ketamine-mwf").model_copy(update={"id": "our-own"})
    found = run_sheet(_wrong_protocol(day_plans), day=DAY, clinic=demo_clinic(), protocols=own)
    assert [s.appointment for s in found.sessions] == ["induction-1"]


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def plan_files(tmp_path: Path, day_plans: list[Plan]) -> list[str]:
    paths = []
    for made in day_plans:
        path = tmp_path / f"{made.patient}.json"
        path.write_text(made.model_dump_json(), encoding="utf-8")
        paths.append(str(path))
    return paths


def test_command_prints_the_table(plan_files: list[str], sheet: RunSheet) -> None:
    code, text = run("runsheet", *plan_files, "--date", "2026-12-07")
    assert code == 0
    assert text == runsheet_table(sheet) + "\n"


def test_command_writes_the_page_and_the_json(
    plan_files: list[str], sheet: RunSheet, tmp_path: Path
) -> None:
    page = tmp_path / "sheet.html"
    code, text = run("runsheet", *plan_files, "--date", "2026-12-07", "--format", "html",
                     "--clinic", "demo", "-o", str(page))  # fmt: skip
    assert (code, text) == (0, f"wrote {page}\n")
    assert page.read_text(encoding="utf-8") == runsheet_html(sheet) + "\n"
    code, text = run("runsheet", *plan_files, "--date", "2026-12-07", "--format", "json")
    assert code == 0
    assert RunSheet.model_validate_json(text) == sheet


def test_command_exits_1_over_the_ratio(tmp_path: Path) -> None:
    paths = []
    for made in clinic_day(*((f"p-{n}", "iv-ketamine-mwf") for n in range(5)), shared=False):
        path = tmp_path / f"{made.patient}.json"
        path.write_text(made.model_dump_json(), encoding="utf-8")
        paths.append(str(path))
    code, text = run("runsheet", *paths, "--date", "2026-12-07")
    assert code == 1
    assert "  09:15-10:25  5 patients   2.5 per staff member  OVER the ratio (at most 4)" in text


def test_command_notes_a_ratio_it_could_not_check(tmp_path: Path, day_plans: list[Plan]) -> None:
    path = tmp_path / "elsewhere.json"
    path.write_text(day_plans[0].model_copy(update={"clinic": "elsewhere"}).model_dump_json())
    code, text = run("runsheet", str(path), "--date", "2026-12-07")
    assert code == 0
    assert text.rstrip().endswith("note: the monitoring ratio was not checked; pass --clinic")


def test_command_reads_a_protocol_file(tmp_path: Path) -> None:
    lakeside = Path(__file__).parent.parent / "docs/examples/lakeside"
    path = tmp_path / "lakeside.json"
    series, clinic_file = str(lakeside / "series.toml"), str(lakeside / "clinic.toml")
    code, _ = run("plan", series, "--start", "2026-11-30", "--time", "09:00",
                  "--clinic", clinic_file, "--format", "json", "-o", str(path))  # fmt: skip
    assert code == 0
    first = Plan.model_validate_json(path.read_text()).doses[0].local_date.isoformat()
    result = ketaplan("runsheet", str(path), "--date", first, "--clinic", clinic_file)
    assert result.returncode == 2
    assert result.stderr == (
        "ketaplan: error: --protocol: is required: the plan's protocol 'lakeside-series' is "
        "not built in (give its file)\n"
    )
    code, text = run("runsheet", str(path), "--date", first, "--clinic", clinic_file,
                     "--protocol", series)  # fmt: skip
    assert code == 0
    assert "CHAIR 1" in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--date", "7 Dec"], "argument --date: must be a date YYYY-MM-DD; got '7 Dec'"),
        (["--date", "2026-12-07", "--clinic", "missing.toml"], "missing.toml: cannot be read"),
        (
            ["--date", "2026-12-07", "--clinic", "docs/examples/lakeside/clinic.toml"],
            "p-1.json: clinic: must be 'lakeside'",
        ),
        (["--date", "2026-12-07", "--format", "pdf"], "invalid choice: 'pdf'"),
    ],
)
def test_command_bad_input_exits_2(plan_files: list[str], args: list[str], expected: str) -> None:
    result = ketaplan("runsheet", plan_files[0], *args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_command_refuses_a_plan_twice(plan_files: list[str]) -> None:
    result = ketaplan("runsheet", plan_files[0], plan_files[0], "--date", "2026-12-07")
    assert result.returncode == 2
    assert "p-1.json: id: must be unique among the plans (each plan once); got 'plan-p-1'" in (
        result.stderr
    )


# -- in a real browser -------------------------------------------------------------------------


def test_chromium_draws_the_page(tmp_path: Path) -> None:
    """The page as a person sees it: Chromium builds one block per session and one red
    stretch over the ratio, and takes a screenshot of it."""
    alone = clinic_day(*((f"p-{n}", "iv-ketamine-mwf") for n in range(5)), shared=False)
    found = run_sheet(alone, day=DAY, clinic=demo_clinic())
    page = tmp_path / "sheet.html"
    page.write_text(runsheet_html(found), encoding="utf-8")
    seen = render(page)
    assert seen.dom.count('class="block"') == 5
    assert seen.dom.count('class="stretch over"') == 1
    assert seen.console == []
    assert size_of(seen.shot) == (1400, 900)
    assert spread(seen.shot) > 20  # drawn, not blank


def test_the_model_round_trips_through_json(sheet: RunSheet) -> None:
    again = RunSheet.model_validate_json(sheet.model_dump_json())
    assert again == sheet
    assert isinstance(again.lanes[0].sessions[0], RunSession)
    assert json.loads(sheet.model_dump_json())["day"] == "2026-12-07"


def test_the_days_history_shows_late_cancellations_and_no_shows() -> None:
    """Issue 15, section 5: missed versus late-cancelled, reported in the run sheet's history."""
    from ketaplan import Cancelled, Missed, replan  # noqa: PLC0415

    clinic = demo_clinic()
    made = [plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30), clinic=clinic,
                 preferred_time=dt.time(9), plan_id=f"p-{n}") for n in range(3)]  # fmt: skip
    dose = made[0].appointment("induction-2")
    late = replan(made[0], as_of=dose.start - dt.timedelta(hours=3), clinic=clinic,
                  events=[Cancelled(appointment=dose.id)])  # fmt: skip
    early = replan(made[1], as_of=dose.start - dt.timedelta(days=3), clinic=clinic,
                   events=[Cancelled(appointment=dose.id)])  # fmt: skip
    missed = replan(made[2], as_of=dose.end, clinic=clinic, events=[Missed(appointment=dose.id)])
    sheet = run_sheet([late, early, missed], day=dose.local_date, clinic=clinic)
    assert [(e.patient, e.what) for e in sheet.history] == [
        ("p-0", "late cancellation"), ("p-1", "cancelled"), ("p-2", "no-show")]  # fmt: skip
    text = runsheet_table(sheet)
    assert "p-0  induction-2: late cancellation (cancelled 06:00)" in text
    assert "Not taking place" in runsheet_html(sheet)


# -- a day the clinic is closed ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "closed"),
    [(dt.date(2026, 12, 25), "clinic closed (Christmas Day)"),  # a public holiday
     (dt.date(2026, 12, 31), "clinic closed (closure: staff training)"),  # the clinic's closure
     (dt.date(2026, 12, 13), "clinic closed on Sundays")],  # a weekday it does not open
)  # fmt: skip
def test_a_closed_day_names_its_closure_in_every_format(
    day: dt.date, closed: str, day_plans: list[Plan], tmp_path: Path
) -> None:
    """Found by clinic staff: the sheet of a closed day said "No sessions" without saying the
    clinic was closed, or why. The reason is the clinic calendar's own (closed_reason), on
    the text, the page (a day and days in a row) and the JSON."""
    found = run_sheet(day_plans, day=day, clinic=demo_clinic())
    assert found.closed == closed
    note = f"No sessions: {closed}."
    assert note in runsheet_table(found)
    assert f"<p>{note}</p>" in runsheet_html(found)
    week = run_week(day_plans, start=day - dt.timedelta(days=1), days=3, clinic=demo_clinic())
    assert f"<p>{note}</p>" in runsheet_html(week)
    paths = []
    for made in day_plans:
        path = tmp_path / f"{made.id}.json"
        path.write_text(made.model_dump_json(), encoding="utf-8")
        paths.append(str(path))
    code, text = run("runsheet", *paths, "--date", day.isoformat(), "--clinic", "demo",
                     "--format", "json")  # fmt: skip
    assert code == 0
    assert json.loads(text)["closed"] == closed
    code, text = run("runsheet", *paths, "--date", day.isoformat(), "--clinic", "demo")
    assert note in text


def test_sessions_on_a_day_closed_since_they_were_planned_are_flagged(
    day_plans: list[Plan],
) -> None:
    """A closure entered after the plans were made: the sheet lists the day's sessions and
    says, on the text and the page, that the clinic is closed that day and why."""
    data = demo_clinic().model_dump()
    data["closures"] = [*data["closures"], {"start": DAY, "reason": "burst pipe"}]
    shut = Clinic.model_validate(data)
    found = run_sheet(day_plans, day=DAY, clinic=shut)
    assert found.sessions
    count = len(found.sessions)
    warning = (f"Clinic closed (closure: burst pipe), yet {count} sessions are planned on "
               "this day.")  # fmt: skip
    assert found.closed_note == warning
    assert warning in runsheet_table(found)
    assert f'<p class="alert">{warning}</p>' in runsheet_html(found)
    week = run_week(day_plans, start=DAY, days=2, clinic=shut)
    assert f'<p class="alert">{warning}</p>' in runsheet_html(week)


def test_an_open_day_and_a_sheet_without_a_clinic_name_no_closure(day_plans: list[Plan]) -> None:
    assert run_sheet(day_plans, day=DAY, clinic=demo_clinic()).closed is None
    assert run_sheet(day_plans, day=dt.date(2026, 12, 25)).closed is None  # no clinic known
