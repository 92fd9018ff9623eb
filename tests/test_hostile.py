"""Hostile and mistaken input, by class: a clear ketaplan error naming the field, nothing lost.

Issue 14: fixed-offset and legacy zone names were accepted (a June 09:00 session exported an
hour off the clinic's summer time); non-finite scores were written as ``null`` into plans that
could not be read back; plans with repeated ids or inverted times were read without a word.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import icalendar
import pytest
from icalendar.error import GloballyUniqueTZIDGuessed
from pydantic import ValidationError

import ketaplan
from ketaplan import (
    Booking,
    InputError,
    Plan,
    Protocol,
    check,
    first_available,
    load_protocol,
    plan,
)
from ketaplan._model import Model
from ketaplan._types import NUMBERED_KINDS, RESOURCE_KINDS, ResourceKind
from ketaplan.bookings import parse_bookings
from ketaplan.cli import main
from ketaplan.clinic import Clinic
from ketaplan.defaults import demo_clinic
from ketaplan.errors import CalendarFileError, DefinitionError, KetaplanError, PatientError
from ketaplan.fhir import to_fhir
from ketaplan.ics import to_ics, uid_for
from ketaplan.ics.export import resource_name
from ketaplan.ics.reading import bookings_from_ics
from ketaplan.ics.text import CUT
from ketaplan.loading import load_plan, loads_clinic, loads_protocol
from ketaplan.patient import Patient
from ketaplan.placement import MAX_REQUESTS, PlacementRequest, plan_many
from ketaplan.planner import made_before
from ketaplan.replanning import Assessed, Cancelled, parse_events, replan
from ketaplan.standing import status_table
from ketaplan.verify import verify

from .helpers import clinic, patient_file
from .test_cli import ketaplan as ketaplan_process

#: Names that are not a place's zone, with the place usually meant (None: no suggestion).
NOT_PLACES = [("EST", "America/New_York"), ("CET", "Europe/Berlin"), ("MST", "America/Phoenix"),
              ("US/Eastern", "America/New_York"), ("EST5EDT", "America/New_York"),
              ("GMT", "UTC"), ("Etc/GMT+5", None), ("Mars/Olympus", None), ("", None)]  # fmt: skip


@pytest.mark.parametrize(("name", "meant"), NOT_PLACES)
def test_only_zones_of_places_are_accepted_everywhere(name: str, meant: str | None) -> None:
    expected = "must be an IANA time zone of a place"
    with pytest.raises(InputError, match=expected) as caught:
        plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), time_zone=name)
    assert caught.value.field == "time_zone"
    if meant is not None:
        assert f"use {meant!r}" in str(caught.value)
    clinic_text = (
        f'id = "c"\nname = "C"\ntime_zone = "{name}"\n[opening_hours]\nmon = ["08:00-12:00"]\n'
    )
    with pytest.raises(KetaplanError, match="time_zone: " + expected):
        loads_clinic(clinic_text)
    with pytest.raises(ValueError, match=expected):
        Patient.model_validate({"id": "p-1", "time_zone": name})
    out = io.StringIO()
    assert main(["plan", "iv-ketamine-mwf", "--start", "2026-12-01", "--tz", name], out=out) == 2


PLACES = ["UTC", "America/New_York", "America/Argentina/Buenos_Aires", "Australia/Lord_Howe",
          "Asia/Kolkata", "Pacific/Chatham"]  # fmt: skip


@pytest.mark.parametrize("name", PLACES)
def test_zones_of_places_are_accepted(name: str) -> None:
    assert isinstance(clinic(name), Clinic)


def test_a_june_session_keeps_the_clinics_summer_time() -> None:
    # What the fixed-offset name got wrong: 09:00 in New York in June is 13:00 UTC (EDT).
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2027, 6, 1),
                clinic=clinic("America/New_York"), preferred_time=dt.time(9))  # fmt: skip
    assert made.doses[0].start.astimezone(dt.UTC).time() == dt.time(13)


# -- scores: nothing written that cannot be read back -------------------------------------------


@pytest.mark.parametrize("score", [float("nan"), float("inf"), float("-inf"), 1e999])
def test_a_non_finite_score_is_refused(score: float) -> None:
    with pytest.raises(ValueError, match="finite number"):
        Assessed(on=dt.date(2026, 12, 9), scale="MADRS", score=score)


@pytest.mark.parametrize("text", ["nan", "inf", "1e999", "-Infinity"])
def test_the_command_refuses_a_non_finite_score(text: str, tmp_path: Path) -> None:
    made = plan(load_protocol("iv-ketamine-standard"), start=dt.date(2026, 12, 1))
    path = tmp_path / "plan.json"
    path.write_text(made.model_dump_json())
    out = io.StringIO()
    args = ["replan", str(path), "--as-of", "2026-12-09T18:00", "--event", f"assessed:MADRS={text}"]
    assert main(args, out=out) == 2


def test_every_replanned_plan_reads_back() -> None:
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 12, 1))
    event = Assessed(on=dt.date(2026, 12, 9), scale="MADRS", score=1_000_000)  # the largest allowed
    after = replan(made, as_of=dt.datetime(2026, 12, 9, 18, tzinfo=dt.UTC), events=[event])
    assert Plan.model_validate_json(after.model_dump_json()) == after
    # a score no scale gives (it was once written as 1e308 and read back as infinity) is refused
    with pytest.raises(DefinitionError, match=r"score: must be at most 1000000; got 1e\+308"):
        Assessed(on=dt.date(2026, 12, 9), scale="MADRS", score=1e308)


# -- plan files are validated like any other input ----------------------------------------------


def _plan_data() -> dict[str, object]:
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1))
    data: dict[str, object] = json.loads(made.model_dump_json())
    return data


def _broken(change: str) -> dict[str, object]:
    data = _plan_data()
    appointments = data["appointments"]
    assert isinstance(appointments, list)
    if change == "repeated id":
        appointments[1]["id"] = appointments[0]["id"]
    elif change == "end before start":
        appointments[2]["end"] = appointments[2]["start"]
    elif change == "unknown zone":
        data["time_zone"] = "Mars/Olympus"
    elif change == "non-finite score":
        data["assessments"] = [{"on": "2026-12-09", "scale": "MADRS", "score": "NaN"}]
    elif change == "repeated task":
        data["tasks"] = [{"id": "t", "title": "x", "due": "2026-12-09", "kind": "form"}] * 2
    elif change == "year 1":
        appointments[0]["booked_at"] = "0001-01-01T00:00:00+00:00"
    elif change == "year 9999":
        appointments[0]["end"] = "9999-12-31T23:59:59+00:00"
    elif change == "huge unit":
        appointments[1]["resources"][0]["unit"] = 10**20
    elif change == "huge index":
        appointments[1]["index"] = 10**20
    elif change == "empty title":
        data["tasks"] = [{"id": "t", "title": "", "due": "2026-12-09", "kind": "form"}]
    elif change == "unknown session":
        appointments[1]["session"] = "x"
    elif change == "unknown tier":
        data["tiers"] = {"maintenance": "daily"}
    elif change == "unknown anchor":
        appointments[1]["anchor"] = "nonexistent"
    elif change == "task of no appointment":
        data["tasks"] = [{"id": "t", "title": "x", "due": "2026-12-09", "kind": "form",
                          "appointment": "nonexistent"}]  # fmt: skip
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [("repeated id", "appointments[1].id: must be unique within appointments"),
     ("end before start", "appointments[2].end: must be after start"),
     ("unknown zone", "time_zone: must be an IANA time zone"),
     ("non-finite score", "assessments[0].score"),
     ("repeated task", "tasks[1].id: must be unique within tasks"),
     # a hostile tester's edits: each loaded, then crashed check, status, export or replan
     # with an OverflowError, a KeyError or pydantic's own error
     ("year 1", "appointments[0].booked_at: must be a date from 1900-01-01 to 2200-12-31"),
     ("year 9999", "appointments[0].end: must be a date from 1900-01-01 to 2200-12-31"),
     ("huge unit", "appointments[1].resources[0].unit: must be at most 500"),
     ("huge index", "appointments[1].index: must be at most 100000"),
     ("empty title", "tasks[0].title: must not be empty"),
     ("unknown session", ("plan.appointments[1].session: must be a session kind of protocol "
                         "iv-ketamine-mwf (infusion, intake, review); got 'x'")),
     ("unknown tier", "plan.tiers['maintenance']: must be a tiered phase of protocol"),
     # a hostile tester's edits that check accepted without a word (session 12)
     ("unknown anchor", "appointments[1].anchor: must name an appointment of the plan"),
     ("task of no appointment", "tasks[0].appointment: must name an appointment of the plan")],
)  # fmt: skip
def test_a_plan_file_that_does_not_hold_together_is_refused(
    change: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_broken(change)))
    with pytest.raises(KetaplanError) as caught:
        check(load_plan(path))  # read, then read with its protocol
    assert message in str(caught.value)
    commands = [["check", str(path)], ["status", str(path), "--as-of", "2026-12-20T09:00"]]
    if not message.startswith("plan."):  # export reads the file alone, not with its protocol
        commands.append(["export", str(path), "--format", "ics"])
    for command in commands:
        out = io.StringIO()
        assert main(command, out=out) == 2, command


# -- identities: two patients, two identities ----------------------------------------------------


def test_two_anonymous_plans_have_two_identities_in_one_calendar() -> None:
    # Issue 14: two plans made without a patient got one plan id, so a clinic calendar of both
    # held 20 events with 10 distinct UIDs and servers overwrote one patient with the other.
    first = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1))
    second = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1))
    assert first.id != second.id
    data = to_ics([first, second], audience="clinic")
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")]
    assert len(uids) == len(first.appointments) + len(second.appointments) == len(set(uids))


def test_an_export_refuses_two_appointments_with_one_uid() -> None:
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="p-1")
    twin = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 8), plan_id="p-1")
    with pytest.raises(InputError, match=r"^plans: must be plans whose appointments have") as e:
        to_ics([made, twin])
    first = made.appointments[0].id
    assert f"{first} of plan p-1 and {first} of plan p-1" in str(e.value)
    with pytest.raises(InputError, match="plan_id: must be 1-64 letters"):
        plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="a b")


_RESOURCE_EXPECTED = (
    "resource: must be 'chair', 'room', 'monitoring-staff', 'prescriber' or a unit ('chair:2')"
)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"appointments": ["induction-99"]},
         "appointments: must be ids of appointments of plan p-1; got ['induction-99']"),
        ({"appointments": ["intake-1", "induction-1", "nope"]},
         "appointments: must be ids of appointments of plan p-1; got ['nope']"),
        ({"appointments": "induction-1"},  # a bare string: read as its letters before
         "appointments: must be a list of appointment ids; got 'induction-1'"),
        ({"appointments": [1]}, "appointments: must be a list of appointment ids; got [1]"),
        ({"resource": "chiar"}, f"{_RESOURCE_EXPECTED}; got 'chiar'"),
        ({"resource": "chair:0"}, f"{_RESOURCE_EXPECTED}; got 'chair:0'"),
        # staff are counted by ratio and the prescriber is present or not: no numbers
        ({"resource": "monitoring-staff:1"}, f"{_RESOURCE_EXPECTED}; got 'monitoring-staff:1'"),
        ({"resource": "prescriber:1"}, f"{_RESOURCE_EXPECTED}; got 'prescriber:1'"),
    ],
)  # fmt: skip
def test_an_export_refuses_a_filter_that_names_nothing(
    options: dict[str, object], message: str
) -> None:
    """Before, each wrote an empty (or shorter) calendar without a word."""
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="p-1")
    with pytest.raises(InputError) as raised:
        to_ics(made, **options)  # type: ignore[arg-type]
    assert str(raised.value) == message
    twin = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="p-2")
    both = to_ics([made, twin], audience="clinic", appointments=iter(["induction-1"]))
    assert both.count(b"BEGIN:VEVENT") == 2  # any iterable of ids; an id of either plan
    assert to_ics(made, resource="chair:1").count(b"BEGIN:VEVENT") == sum(
        1
        for a in made.appointments
        if any((s.resource, s.unit) == ("chair", 1) for s in a.resources)
    )


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
def test_every_resource_kind_filters_an_export_and_has_a_name(kind: ResourceKind) -> None:
    """The kinds are listed once (``_types``); the export's filter and names follow them."""
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 12, 1), plan_id="p-1",
                clinic=demo_clinic(), now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))  # fmt: skip
    using = [a for a in made.appointments if any(s.resource == kind for s in a.resources)]
    assert using, f"esketamine-trd at the demo clinic uses no {kind}"
    data = to_ics(made, audience="clinic", detail="full", resource=kind)
    assert data.count(b"BEGIN:VEVENT") == len(using)
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert all(resource_name(kind, None) in str(e["RESOURCES"]) for e in events)
    if kind in NUMBERED_KINDS:
        assert to_ics(made, audience="clinic", resource=f"{kind}:1").count(b"BEGIN:VEVENT") > 0


@pytest.mark.parametrize("make", [plan, first_available])
def test_a_time_zone_other_than_the_clinic_s_is_refused(make: Callable[..., object]) -> None:
    """``time_zone`` is the default clinic's zone: with a clinic, another was left unused."""
    with pytest.raises(InputError) as raised:
        make(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 7), clinic=demo_clinic(),
             time_zone="Europe/Berlin", now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))  # fmt: skip
    assert str(raised.value) == (
        "time_zone: must be left out with a clinic, or the clinic's own zone "
        "'America/New_York'; got 'Europe/Berlin'"
    )
    with pytest.raises(InputError, match=r"^time_zone: must be an IANA time zone"):
        make(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 7), time_zone="Mars/Base")


# -- the Python API: every wrong call is ketaplan's own error ------------------------------------

_MWF = load_protocol("iv-ketamine-mwf")
_START = dt.date(2026, 12, 1)
_NOW = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)


def _made() -> Plan:
    return plan(_MWF, start=_START, plan_id="api")


_FAR = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


class _NoOffset(dt.tzinfo):
    """A zone that gives no UTC offset: a datetime in it is naive, though it has a tzinfo."""

    def utcoffset(self, when: dt.datetime | None) -> None:
        return None

    def dst(self, when: dt.datetime | None) -> None:
        return None

    def tzname(self, when: dt.datetime | None) -> None:
        return None


#: A wrong call each, as (what the message must say, the function, its arguments).
WRONG_CALLS: dict[str, tuple[str, Callable[..., object], dict[str, object]]] = {
    "plan(None)": ("protocol: must be a Protocol", plan, {"protocol": None}),
    "plan(clinic='demo')": ("clinic: must be a Clinic", plan, {"clinic": "demo"}),
    "plan(patient='p')": ("patient: must be a Patient", plan, {"patient": "p"}),
    "plan(bookings=5)": ("bookings: must be a Ledger", plan, {"bookings": 5}),
    "plan(bookings=[None])": ("bookings[0]: must be a Booking", plan, {"bookings": [None]}),
    "plan(tiers=5)": ("tiers: must be a mapping", plan, {"tiers": 5}),
    "plan(year 1)": ("start: must be a date from 1900-01-01", plan, {"start": dt.date(1, 1, 1)}),
    "plan(year 9999)": ("start: must be a date from", plan, {"start": dt.date(9999, 12, 31)}),
    "plan(now=9999)": ("now: must be a date from", plan, {"now": _FAR}),
    # Issue 18: the planner trusts ``now`` once checked, so the check must be complete.
    "plan(now=no offset)": (
        "now: must be an aware datetime",
        plan,
        {"now": dt.datetime(2026, 11, 30, tzinfo=_NoOffset())},
    ),
    "plan(time_zone=Mars)": ("time_zone: must be an IANA", plan, {"time_zone": "Mars/Olympus"}),
    "to_ics(None)": ("plans: must be a Plan or a list of Plans", to_ics, {"plans": None}),
    "replan(events=[None])": ("events[0]: must be an event", replan, {"events": [None]}),
    "replan(until=9999)": ("until: must be a date from", replan, {"until": dt.date(9999, 1, 1)}),
    "replan(until=2100)": ("until: must be at most", replan, {"until": dt.date(2100, 1, 1)}),
    "check(clinic=5)": ("clinic: must be a Clinic or None", check, {"clinic": 5}),
    "check(bookings=[1])": ("bookings[0]: must be a Booking", check, {"bookings": [1]}),
    "load_protocol(None)": ("name: must be a file name", load_protocol, {"name": None}),
    # Round 2 of a hostile test: each raised AttributeError or TypeError.
    "runsheet_table(None)": ("sheet: must be a RunSheet", ketaplan.runsheet_table, {"s": None}),
    "runsheet_html(None)": (
        "sheet: must be a RunSheet or a RunWeek",
        ketaplan.runsheet_html,
        {"s": None},
    ),
    "status_table([None])": (
        "statuses[0]: must be a PatientStatus",
        status_table,
        {"statuses": [None]},
    ),
    "verify(None)": ("protocol: must be a Protocol", verify, {"protocol": None}),
}


def _call(function: Callable[..., object], wrong: dict[str, object]) -> object:
    """``function`` with right arguments but for ``wrong`` ones."""
    if function is plan:
        right: dict[str, object] = {"protocol": _MWF, "start": _START}
        args = {**right, **wrong}
        return plan(args.pop("protocol"), **args)  # type: ignore[arg-type]
    if function is replan:
        return replan(_made(), as_of=_NOW, **wrong)  # type: ignore[arg-type]
    if function is check:
        return check(_made(), **wrong)  # type: ignore[arg-type]
    return function(*wrong.values())


@pytest.mark.parametrize("call", sorted(WRONG_CALLS))
def test_a_wrong_call_raises_ketaplans_own_error_naming_the_argument(call: str) -> None:
    # Issue 14: 44 of 63 wrong calls raised a raw TypeError, AttributeError, OverflowError...
    message, function, wrong = WRONG_CALLS[call]
    with pytest.raises(KetaplanError) as caught:
        _call(function, wrong)
    assert message in str(caught.value)


_MADE_AT = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
_CLOSED = ketaplan.CapacityChange(start=dt.date(2026, 12, 11), closed=True)


def _at_demo() -> Plan:
    return plan(_MWF, start=_START, clinic=demo_clinic(), plan_id="demo", now=_MADE_AT)


def _request() -> list[ketaplan.PlacementRequest]:
    who = Patient(id="a-1")
    return [ketaplan.PlacementRequest(patient=who, protocol=_MWF, start=dt.date(2026, 12, 7))]


#: A wrong call each, as (the whole message, the call). Hostile review: each of these raised a
#: raw TypeError or AttributeError, or did nothing with an option it was given.
EXACT_WRONG_CALLS: dict[str, tuple[str, Callable[[], object]]] = {
    "replan(protocol='x')": ("protocol: must be a Protocol or None; got 'x'",
        lambda: replan(_made(), as_of=_NOW, protocol="x")),  # type: ignore[arg-type]
    "replan(preferred_time='09:00')": (
        "preferred_time: must be a local time of day without a zone; got '09:00'",
        lambda: replan(_made(), as_of=_NOW, preferred_time="09:00")),  # type: ignore[arg-type]
    "replan(until=datetime)": (
        ("until: must be a date (datetime.date, not datetime); "
         "got datetime.datetime(2027, 6, 1, 0, 0)"),
        lambda: replan(_made(), as_of=_NOW, until=dt.datetime(2027, 6, 1))),
    "replan(bookings=None)": ("bookings: must be a Ledger or a list of Booking; got None",
        lambda: replan(_made(), as_of=_NOW, bookings=None)),  # type: ignore[arg-type]
    "replan(on_conflict=[])": ("on_conflict: must be 'raise' or 'shift'; got []",
        lambda: replan(_made(), as_of=_NOW, on_conflict=[])),  # type: ignore[arg-type]
    "alternatives(clinic='demo')": (
        "clinic: must be a Clinic or None (demo_clinic() gives one); got 'demo'",
        lambda: ketaplan.alternatives(_made(), "induction-3", as_of=_NOW, clinic="demo")),  # type: ignore[arg-type]
    "alternatives(bookings=None)": ("bookings: must be a list of Booking; got None",
        lambda: ketaplan.alternatives(_made(), "induction-3", as_of=_NOW, bookings=None)),  # type: ignore[arg-type]
    "first_available(clinic='demo')": (
        "clinic: must be a Clinic or None (demo_clinic() gives one); got 'demo'",
        lambda: first_available(_MWF, start=_START, clinic="demo", now=_MADE_AT)),  # type: ignore[arg-type]
    "first_available(start=None)": (
        "start: must be a date (datetime.date, not datetime); got None",
        lambda: first_available(_MWF, start=None, now=_MADE_AT)),  # type: ignore[arg-type]
    "plan(time_zone=0)": (
        ("time_zone: must be an IANA time zone of a place, such as 'America/New_York', or "
         "'UTC'; got 0"), lambda: plan(_MWF, start=_START, time_zone=0)),  # type: ignore[arg-type]
    "plan(on_conflict=[])": ("on_conflict: must be 'raise' or 'shift'; got []",
        lambda: plan(_MWF, start=_START, on_conflict=[])),  # type: ignore[arg-type]
    "plan(hints past the count)": (
        ("hints: must be keyed by ids of appointments of iv-ketamine-mwf, such as 'intake-1'; "
         "got 'induction-99'"), lambda: plan(_MWF, start=_START, hints={"induction-99": _NOW})),
    "plan(hints misspelt)": (
        ("hints: must be keyed by ids of appointments of iv-ketamine-mwf, such as 'intake-1'; "
         "got 'inducton-2'"), lambda: plan(_MWF, start=_START, hints={"inducton-2": _NOW})),
    "made_before(year 1)": (("start: must be a date from 1900-01-01 to 2200-12-31; "
        "got datetime.date(1, 1, 1)"), lambda: made_before(dt.date(1, 1, 1))),
    "clinic_status(protocols=None)": (
        "protocols: must be a list of which each is a Protocol; got None",
        lambda: ketaplan.clinic_status([_made()], as_of=_NOW, protocols=None)),  # type: ignore[arg-type]
    "clinic_status([], as_of='now')": ("as_of: must be an aware datetime (with a zone); got 'now'",
        lambda: ketaplan.clinic_status([], as_of="now")),  # type: ignore[arg-type]
    "replan_disruption(protocols=None)": (
        "protocols: must be a list of which each is a Protocol; got None",
        lambda: ketaplan.replan_disruption([_at_demo()], clinic=demo_clinic(), change=_CLOSED,
                                           now=_NOW, protocols=None)),  # type: ignore[arg-type]
    "replan_disruption(patients=['x'])": ("patients[0]: must be a Patient; got 'x'",
        lambda: ketaplan.replan_disruption([_at_demo()], clinic=demo_clinic(), change=_CLOSED,
                                           now=_NOW, patients=["x"])),  # type: ignore[list-item]
    "replan_disruption(bookings=None)": ("bookings: must be a list of Booking; got None",
        lambda: ketaplan.replan_disruption([_at_demo()], clinic=demo_clinic(), change=_CLOSED,
                                           now=_NOW, bookings=None)),  # type: ignore[arg-type]
    "to_ics(audience=[])": ("audience: must be 'patient' or 'clinic'; got []",
        lambda: to_ics(_made(), audience=[])),  # type: ignore[arg-type]
    "to_ics(detail='')": ("detail: must be 'minimal' or 'full'; got ''",
        lambda: to_ics(_made(), detail="")),  # type: ignore[arg-type]
    "to_ics(method={})": ("method: must be None, 'PUBLISH', 'REQUEST' or 'CANCEL'; got {}",
        lambda: to_ics(_made(), method={})),  # type: ignore[arg-type]
    "to_ics(calendar_name too long)": ("calendar_name: must be at most 4000 characters; got 4001",
        lambda: to_ics(_made(), calendar_name="x" * 4001)),
    "to_fhir(bundle={})": ("bundle: must be 'collection' or 'transaction'; got {}",
        lambda: to_fhir(_made(), bundle={})),  # type: ignore[arg-type]
    "to_fhir(detail=[])": ("detail: must be 'minimal' or 'full'; got []",
        lambda: to_fhir(_made(), detail=[])),  # type: ignore[arg-type]
    "plan_many(backend=[])": ("backend: must be 'local' or 'cp-sat'; got []",
        lambda: ketaplan.plan_many([], demo_clinic(), backend=[])),  # type: ignore[arg-type]
    "plan_many(progress='x')": ("progress: must be None or a function of (done, total); got 'x'",
        lambda: ketaplan.plan_many(_request(), demo_clinic(), progress="x", now=_MADE_AT)),  # type: ignore[arg-type]
    "plan_many(in-order, cp-sat)": (
        "backend: must be 'local' with objective='in-order' (one by one); got 'cp-sat'",
        lambda: ketaplan.plan_many(_request(), demo_clinic(), objective="in-order",
                                   backend="cp-sat")),
    "plan_many(in-order, seed)": (
        "seed: must be used with objective='most-served' (a search); got 1",
        lambda: ketaplan.plan_many(_request(), demo_clinic(), objective="in-order", seed=1)),
    "plan_many(in-order, tries)": (
        "tries: must be used with objective='most-served' (a search); got 3",
        lambda: ketaplan.plan_many(_request(), demo_clinic(), objective="in-order", tries=3)),
    "plan_many(local, time_limit)": ("time_limit: must be used with backend='cp-sat'; got 5",
        lambda: ketaplan.plan_many(_request(), demo_clinic(), time_limit=5)),
    "capacity_report(folder=5)": ("folder: must be a folder (a str or Path); got 5",
        lambda: ketaplan.capacity_report([_at_demo()], demo_clinic(), folder=5)),  # type: ignore[arg-type]
    "capacity_report(folder without requests)": (
        "folder: must be given only with requests (it finds their files); got '.'",
        lambda: ketaplan.capacity_report([_at_demo()], demo_clinic(), folder=".")),
    "capacity_report(placer=None)": (
        "placer: must be a placement function, such as place_all; got None",
        lambda: ketaplan.capacity_report([_at_demo()], demo_clinic(), placer=None)),  # type: ignore[arg-type]
    "Ledger('demo')": ("clinic: must be a Clinic or None (demo_clinic() gives one); got 'demo'",
        lambda: ketaplan.Ledger("demo")),  # type: ignore[arg-type]
    "Ledger(bookings=None)": ("bookings: must be a list of Booking; got None",
        lambda: ketaplan.Ledger(demo_clinic(), None)),  # type: ignore[arg-type]
    "Ledger(units=[])": ("units: must be 'assign' or 'as-given'; got []",
        lambda: ketaplan.Ledger(demo_clinic(), units=[])),  # type: ignore[arg-type]
    "Ledger.add(plan)": (("booking: must be a Booking (ketaplan.plan_bookings gives a plan's, "
                          "as check reads it); got 'Plan'"),
        lambda: ketaplan.Ledger(demo_clinic()).add(_made())),  # type: ignore[arg-type]
    "Ledger.extend([None])": ("bookings[0]: must be a Booking; got None",
        lambda: ketaplan.Ledger(demo_clinic()).extend([None])),  # type: ignore[list-item]
}  # fmt: skip


@pytest.mark.parametrize("call", sorted(EXACT_WRONG_CALLS))
def test_a_wrong_argument_or_an_unused_option_is_refused_in_full_words(call: str) -> None:
    message, function = EXACT_WRONG_CALLS[call]
    with pytest.raises(InputError) as caught:
        function()
    assert str(caught.value) == message


def test_hints_are_refused_only_for_ids_no_appointment_can_have() -> None:
    """A hint for a session past the phase's count was left unused without a word; hints for
    every appointment a plan has (a phase's sessions, the anchored ones) are still taken."""
    kap = load_protocol("iv-ketamine-kap")
    made = plan(kap, start=_START, clinic=demo_clinic(), now=_MADE_AT, plan_id="k")
    hints = {a.id: a.start for a in made.appointments}
    assert any(a.anchored for a in made.appointments)
    with pytest.raises(InputError, match=r"^hints: must be keyed by ids .*; got 'dosing-7'$"):
        plan(kap, start=_START, clinic=demo_clinic(), now=_MADE_AT, plan_id="k",
             hints={**hints, "dosing-7": made.appointments[-1].start})  # fmt: skip
    again = plan(kap, start=_START, clinic=demo_clinic(), now=_MADE_AT, plan_id="k", hints=hints)
    assert [a.start for a in again.appointments] == [a.start for a in made.appointments]


@pytest.mark.parametrize(
    "address",
    ["clinic@example.org\n", "clinic@example.org\r\nATTENDEE:x", "cli\x00nic@example.org",
     "clinic@example.org\x7f", 5],
)  # fmt: skip
def test_an_organizer_with_a_line_break_or_control_character_is_refused(address: object) -> None:
    # Issue 14: an organizer with a trailing newline or control characters reached the file raw.
    made = plan(_MWF, start=_START, plan_id="org")
    with pytest.raises(InputError, match=r"^organizer: must be an e-mail address"):
        to_ics(made, method="PUBLISH", organizer=address)  # type: ignore[arg-type]


def test_the_terminal_never_gets_a_raw_control_character(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 14: text from input files (here a medication name with an ANSI escape that clears
    # the screen, and a right-to-left override) reached tables, warnings and errors raw.
    who = patient_file(tmp_path, "x\x1b[2J\u202ey")
    out = io.StringIO()
    code = main(["plan", "iv-ketamine-mwf", "--start", "2026-12-01", "--clinic", "demo",
                 "--patient", str(who)], out=out)  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    for text in (out.getvalue(), err):
        assert "\x1b" not in text
        assert "\u202e" not in text
    assert "x\\x1b[2J\\u202ey" in err  # shown, escaped


# -- definition and event files that are too deep or hold numbers too long to read --------------

DEEP = 100_000
TOO_LONG = "9" * 5_000  # Python reads integers of at most 4,300 digits


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [("deep.json", "[" * DEEP + "]" * DEEP, "is nested too deeply"),
     ("deep.toml", "a = " + "[" * DEEP + "]" * DEEP, "is nested too deeply"),
     ("long.json", '{"id": "p-1", "x": ' + TOO_LONG + "}", "cannot be read: Exceeds the limit"),
     ("long.toml", 'id = "p-1"\nx = ' + TOO_LONG + "\n", "cannot be read: Exceeds the limit")],
)  # fmt: skip
def test_a_file_too_deep_or_with_a_number_too_long_is_a_clear_error(
    name: str, text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 14: these ended in a RecursionError or ValueError traceback.
    path = tmp_path / name
    path.write_text(text)
    assert main(["validate", str(path)], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert f"{path}: {message}" in err
    assert "Traceback" not in err


def test_an_events_file_too_deep_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = tmp_path / "plan.json"
    made.write_text(_made().model_dump_json())
    events = tmp_path / "events.json"
    events.write_text("[" * DEEP + "]" * DEEP)
    args = ["replan", str(made), "--as-of", "2026-12-02T10:00", "--events", str(events)]
    assert main(args, out=io.StringIO()) == 2
    assert "must be JSON nested at most a few hundred levels" in capsys.readouterr().err


@pytest.mark.parametrize("method", [None, "REQUEST"])
def test_a_literal_backslash_n_never_becomes_a_line_break(method: str | None) -> None:
    # Issue 14: a literal "\N" in a clinic name came back from every reader as a line break
    # (icalendar turns it into one before escaping). It keeps its look, on one line.
    named = clinic(name=r"North \N Clinic", location=r"Road \N 5")
    made = plan(_MWF, start=_START, clinic=named, plan_id="bs")
    people = {"method": "REQUEST", "organizer": "a@example.org", "attendee": "b@example.net",
              "appointments": [made.doses[0].id]} if method else {}  # fmt: skip
    data = to_ics(made, now=_NOW, **people)  # type: ignore[arg-type]
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    for name in ("SUMMARY", "LOCATION"):
        text = str(event[name])
        assert "\n" not in text
        assert "\u2216N" in text


# -- models built by hand: ketaplan's errors, never pydantic's ------------------------------------


def _public_models() -> list[type[Model]]:
    found = {getattr(ketaplan, name) for name in ketaplan.__all__}
    return sorted((m for m in found if isinstance(m, type) and issubclass(m, Model)),
                  key=lambda m: m.__name__)  # fmt: skip


@pytest.mark.parametrize("model", _public_models(), ids=lambda m: m.__name__)
def test_every_public_model_built_wrongly_raises_its_own_error(model: type[Model]) -> None:
    # Issue 14: Patient(id=1) raised pydantic's ValidationError, not ketaplan's.
    builds: list[Callable[[], object]] = [
        lambda: model(bogus=1),
        lambda: model.model_validate({"bogus": 1}),
        lambda: model.model_validate_json('{"bogus": 1}'),
    ]
    for build in builds:
        with pytest.raises(DefinitionError) as caught:
            build()
        assert not isinstance(caught.value, ValidationError)
        assert re.search(
            r"\n  bogus: is not a known field( \(did you mean .*\))?; got 1", str(caught.value)
        )


def test_a_wrong_patient_names_the_field_the_expectation_and_the_value() -> None:
    with pytest.raises(
        PatientError, match=r"invalid patient: 1 problem\n  id: must be text; got 1"
    ):
        Patient(id=1)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match=r"invalid Booking: 1 problem\n  resource: must be"):
        Booking(start=_NOW, end=_NOW + dt.timedelta(hours=1), resource="sofa")  # type: ignore[arg-type]
    nested = {"id": "p-1", "medications": [{"name": ""}], "time_zone": "EST"}
    with pytest.raises(PatientError) as caught:
        Patient.model_validate(nested)
    assert [p.path for p in caught.value.problems] == ["time_zone", "medications[0].name"]


def test_a_flood_of_problems_lists_the_first_hundred_and_counts_the_rest() -> None:
    # Issue 14: floods of bad lines; the cost of an error stays linear and its message short.
    text = "".join(f"field{n} = 1\n" for n in range(500))
    with pytest.raises(DefinitionError) as caught:
        loads_protocol(text)
    required = sum(1 for f in Protocol.model_fields.values() if f.is_required())
    total = 500 + required  # each unknown field, and each required one missing
    assert len(caught.value.problems) == 100
    assert caught.value.omitted == total - 100
    assert str(caught.value).startswith(f"invalid protocol: {total} problems")
    assert str(caught.value).endswith(f"... and {total - 100} more, not listed")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"organizer": "clinic@example.org"},
         ("organizer: must be given only with a method (an iTIP message): a file or feed has "
         "none; got 'clinic@example.org'")),
        ({"attendee": "patient@example.net"},
         ("attendee: must be given only with a method (an iTIP message): a file or feed has "
         "none; got 'patient@example.net'")),
        ({"method": "PUBLISH", "organizer": "clinic@example.org",
          "attendee": "patient@example.net"},
         ("attendee: must be left out of a PUBLISH, which has no attendees; "
         "got 'patient@example.net'")),
    ],
)  # fmt: skip
def test_an_export_refuses_people_it_would_leave_out(
    options: dict[str, object], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, each address was dropped without a word: a feed has no ORGANIZER, a PUBLISH
    no ATTENDEE (RFC 5546, 3.2.1)."""
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="p-1")
    with pytest.raises(InputError) as raised:
        to_ics(made, **options)  # type: ignore[arg-type]
    assert str(raised.value) == message
    path = tmp_path / "plan.json"
    path.write_text(made.model_dump_json())
    capsys.readouterr()
    assert main(["export", str(path), "--organizer", "clinic@example.org"]) == 2
    assert capsys.readouterr().err.startswith("ketaplan: error: --organizer: must be given only")


def test_an_export_refuses_a_named_appointment_it_would_leave_out() -> None:
    """Hostile review: an id named with ``resource=`` or a CANCEL that leaves it out was
    dropped, so the message for it was never sent."""
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="p-1")
    assert made.appointments[0].id == "intake-1"  # in a room, not a chair
    with pytest.raises(InputError) as raised:
        to_ics(made, audience="clinic", resource="chair", appointments=["intake-1"])
    assert str(raised.value) == "appointments: must be appointments that use chair; got 'intake-1'"
    after = replan(made, as_of=dt.datetime(2026, 12, 1, 20, tzinfo=dt.UTC),
                   events=[Cancelled(appointment="induction-1")])  # fmt: skip
    cancel = {"method": "CANCEL", "organizer": "c@example.org", "attendee": "p@example.net"}
    with pytest.raises(InputError) as raised:
        to_ics(after, appointments=["induction-1", "induction-2"], **cancel)  # type: ignore[arg-type]
    assert str(raised.value) == (
        "appointments: must be cancelled or missed appointments, with method 'CANCEL'; "
        "got 'induction-2'"
    )
    sent = to_ics(after, appointments=["induction-1"], **cancel)  # type: ignore[arg-type]
    assert sent.count(b"BEGIN:VEVENT") == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"alarms": "no"}, "alarms: must be True or False; got 'no'"),
        ({"calendar_name": "   "}, ("calendar_name: must be None or a name with a visible "
         "character; got '   '")),
        ({"cache": {}}, "cache: must be None or an EventCache; got 'dict'"),
    ],
)  # fmt: skip
def test_an_export_checks_its_other_options(options: dict[str, object], message: str) -> None:
    """Hostile review: alarms="no" wrote every alarm; a blank name dropped the calendar's name;
    a dict for a cache raised AttributeError."""
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="p-1")
    with pytest.raises(InputError) as raised:
        to_ics(made, **options)  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_an_id_named_for_several_plans_is_written_where_it_passes_the_filter() -> None:
    """Review: ids repeat across plans; induction-1 on chair 1 in one plan and chair 2 in the
    other is written once, not refused."""
    first = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="p-1",
                 clinic=demo_clinic())  # fmt: skip
    second = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="p-2",
                  clinic=demo_clinic(), bookings=first.bookings())  # fmt: skip
    units = {p.id: p.appointment("induction-1").resources[0].unit for p in (first, second)}
    assert units == {"p-1": 1, "p-2": 2}
    data = to_ics([first, second], audience="clinic", resource="chair:1",
                  appointments=["induction-1"])  # fmt: skip
    assert data.count(b"BEGIN:VEVENT") == 1


@pytest.mark.parametrize(
    ("read", "data", "message"),
    [
        (parse_events, [{"type": "missed"}], "events[0].appointment: is required"),
        (parse_events, [{"type": "missed", "appointment": 3}],
         "events[0].appointment: must be text; got 3"),
        (parse_events, [{"type": "attended", "appointment": "a", "dose_mg": "x"}],
         "events[0].dose_mg: is not a known field (did you mean 'dose'?); got 'x'"),
        (parse_events, [{"type": "missed", "appointment": "a", "worsening": "maybe"}],
         "events[0].worsening: must be true or false, not text; got 'maybe'"),
        (parse_events, [5], "events[0]: must be a table (an object) of fields; got 5"),
        (parse_bookings, [{"start": "2026-12-07T09:00:00", "end": "2026-12-07T10:00:00-05:00"}],
         ("bookings[0].start: must have a UTC offset, e.g. 2026-12-07T09:00:00-05:00; "
         "got '2026-12-07T09:00:00'")),
        (parse_bookings, [{"start": "2026-12-07T09:00:00-05:00",
                           "end": "2026-12-07T10:00:00-05:00", "resource": "chiar"}],
         ("bookings[0].resource: must be one of 'chair', 'room', 'monitoring-staff' or "
         "'prescriber'; got 'chiar'")),
        (parse_bookings, {}, "bookings: must be a list; got {}"),
    ],
)  # fmt: skip
def test_lists_read_from_data_say_what_is_wrong_as_models_do(
    read: Callable[[object], object], data: object, message: str
) -> None:
    """Before, pydantic's words came through: ``must be field required``, ``must be input
    should be a valid string``, ``must be extra inputs are not permitted``."""
    with pytest.raises(InputError) as raised:
        read(data)
    assert str(raised.value) == message
    moved = raised.value.at("--events")
    assert str(moved) == "--events" + message[message.index(":") :]
    assert (moved.field, moved.value) == ("--events", raised.value.value)


# -- files that are not files ------------------------------------------------------------------


def _special(tmp_path: Path, kind: str, name: str) -> Path:
    path = tmp_path / name
    if kind == "zero":  # reports 0 bytes and never ends
        path.symlink_to("/dev/zero")
    else:  # a FIFO with no writer: opening it waits for one
        os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["zero", "fifo"])
@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["validate", "{}"], "p.toml"),
        (["show", "{}"], "p.toml"),
        (["plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--busy", "{}"], "busy.ics"),
        (["plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--patient", "{}"], "who.toml"),
        (["check", "{}"], "plan.json"),
        (["status", "{}", "--as-of", "2026-12-20T09:00"], "plan.json"),
        (["replan", "PLAN", "--as-of", "2026-12-20T09:00", "--events", "{}"], "events.json"),
        (["check", "PLAN", "--bookings", "{}"], "bookings.json"),
    ],
)  # fmt: skip
def test_a_device_or_fifo_is_refused_unread(
    tmp_path: Path, kind: str, command: list[str], name: str
) -> None:
    """A hostile tester's find: a size from ``stat`` is 0 for /dev/zero, so the limits let it
    through and the whole stream was read (8.9 GB in 8 s); a FIFO made the command wait for
    ever. Neither is opened now."""
    special = _special(tmp_path, kind, name)
    made = tmp_path / "real.json"
    made.write_text(plan(_MWF, start=_START, now=_NOW - dt.timedelta(days=2)).model_dump_json())
    args = [str(special) if a == "{}" else str(made) if a == "PLAN" else a for a in command]
    result = ketaplan_process(*args)
    assert result.returncode == 2, result.stderr
    assert "must be a regular file (not a device, pipe or FIFO)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", [["plan", "iv-ketamine-mwf", "--start", "2026-12-07",
                                      "--format", "json"], ["protocols"]])  # fmt: skip
def test_an_output_that_cannot_be_written_is_said_in_one_line(command: list[str]) -> None:
    """``> /dev/full`` printed an OSError traceback; it is one line and exit 2."""
    exe = Path(sys.executable).parent / "ketaplan"
    with Path("/dev/full").open("w") as full:
        result = subprocess.run(
            [str(exe), *command], stdout=full, stderr=subprocess.PIPE, text=True, check=False,
            env={**os.environ, "KETAPLAN_NOW": "2026-12-01T09:00:00+00:00"}, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == "ketaplan: error: cannot write the output (No space left on device)\n"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        # Cancelled has made_at, Missed has not: "did you mean 'made_at'?" named the field itself
        ({"type": "missed", "appointment": "a", "made_at": "2026-12-01T10:00:00Z"},
         "events[0].made_at: is not a known field; got '2026-12-01T10:00:00Z'"),
        ({"type": "attended", "appointment": "a", "att": "2026-12-01T10:00:00Z"},
         "events[0].att: is not a known field (did you mean 'at'?); got '2026-12-01T10:00:00Z'"),
    ],
)  # fmt: skip
def test_an_events_typo_is_matched_against_its_own_event(event: object, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_events([event])
    assert str(raised.value) == message


def test_did_you_mean_names_a_field_of_the_model_the_typo_is_in() -> None:
    """A task has no ``name``, but a session kind does: "did you mean 'name'?" sent the author
    in a circle. The suggestion comes from the fields of the model at that place."""
    data = load_protocol("esketamine-trd").model_dump(mode="json", exclude_none=True)
    data["tasks"][0]["name"] = "form"
    data["session_kinds"][0]["timeline"]["check_in_minuts"] = 5
    with pytest.raises(DefinitionError) as raised:
        loads_protocol(json.dumps(data), format="json")
    said = {problem.path: problem.message for problem in raised.value.problems}
    assert said["tasks[0].name"] == "is not a known field"
    assert said["session_kinds[0].timeline.check_in_minuts"] == (
        "is not a known field (did you mean 'check_in_minutes'?)"
    )


@pytest.mark.parametrize(
    ("zone", "day"),
    [("Africa/Monrovia", dt.date(1970, 1, 5)), ("Asia/Kolkata", dt.date(1900, 1, 8))],
)
def test_a_plan_in_local_mean_time_reads_back_to_the_second(zone: str, day: dt.date) -> None:
    """pydantic writes offsets in whole minutes: Monrovia's -00:44:30 (until 1972) was written
    as -00:44, and the plan read back 30 seconds off (check then found its words out of date).
    Such a moment is written in UTC: the same instant."""
    week_before = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=7)
    made = plan(_MWF, start=day, time_zone=zone, now=week_before)
    offset = made.appointments[0].start.utcoffset()
    assert offset is not None
    assert offset % dt.timedelta(minutes=1)  # seconds in it
    again = Plan.model_validate_json(made.model_dump_json())
    assert again == made
    assert [a.start.timestamp() for a in again.appointments] == [
        a.start.timestamp() for a in made.appointments
    ]
    assert check(again) == check(made) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--objective", "in-order", "--seed", "3"],
      "--seed: must be used with --objective most-served (a search); got 3"),
     (["--objective", "in-order", "--backend", "cp-sat"],
      "--backend: must be local with --objective in-order (one by one); got 'cp-sat'")],
)  # fmt: skip
def test_clinic_plan_refuses_an_option_its_objective_does_not_use(
    options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hostile review: --seed with --objective in-order changed nothing, without a word."""
    roster = Path(__file__).parents[1] / "docs/examples/capacity/roster.toml"
    out = tmp_path / "out"
    args = ["clinic", "plan", str(roster), "-o", str(out), "--now", "2026-11-20T09:00", *options]
    assert main(args, out=io.StringIO()) == 2
    assert capsys.readouterr().err == f"ketaplan: error: {message}\n"
    assert not out.exists()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["show", "{plan}"],
         ("{plan}: must be a protocol file; this is a plan file (it has 'protocol_version')")),
        (["plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--patient", "{plan}"],
         ("--patient {plan}: must be a patient file; this is a plan file "
         "(it has 'protocol_version')")),
        (["plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--clinic", "{protocol}"],
         ("--clinic {protocol}: must be a clinic file; this is a protocol "
         "file (it has 'phases')")),
    ],
)  # fmt: skip
def test_a_file_of_another_kind_is_named_as_such(
    command: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``ketaplan show plan.json`` listed 809 problems (every field a protocol has and a plan
    has not): one line says what the file is."""
    made = tmp_path / "plan.json"
    made.write_text(plan(_MWF, start=_START, now=_NOW - dt.timedelta(days=2)).model_dump_json())
    protocol = tmp_path / "protocol.json"
    protocol.write_text(_MWF.model_dump_json())
    names = {"plan": str(made), "protocol": str(protocol)}
    args = [part.format(**names) for part in command]
    assert main(args, out=io.StringIO()) == 2
    assert capsys.readouterr().err == f"ketaplan: error: {message.format(**names)}\n"


def test_a_patient_or_clinic_date_off_ketaplan_s_calendar_is_refused_when_read() -> None:
    """Found by a review: a patient's own appointment on 31 December 9999 loaded, then
    overflowed inside the planner (a traceback at the command line). Patient and clinic dates
    are on ketaplan's calendar as plans' are."""
    own = {"start": "9999-12-31T22:00:00+00:00", "end": "9999-12-31T23:30:00+00:00"}
    with pytest.raises(PatientError, match=r"appointments\[0\]\.start: must be a date from 1900"):
        Patient.model_validate({"id": "p-1", "appointments": [own]})
    data = demo_clinic().model_dump(mode="json")
    data["closures"] = [{"start": "0001-01-01"}]
    with pytest.raises(DefinitionError, match=r"closures\[0\]\.start: must be a date from 1900"):
        Clinic.model_validate(data)


# -- names the file system refuses -----------------------------------------------------------
# A zone name in a busy calendar that is a folder of the zone database (`America`) or too long
# for a file name, and a protocol name too long for one, raised a raw OSError (a traceback at
# the command line) rather than ketaplan's error (found by a hostile test).

LONG = "A" * 300


def _calendar(head: str, start: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *head.split("|"),
             "BEGIN:VEVENT", "UID:1", "DTSTAMP:20261201T000000Z", start,
             "DTEND:20261207T100000Z", "END:VEVENT", "END:VCALENDAR"]  # fmt: skip
    return ("\r\n".join(line for line in lines if line) + "\r\n").encode()


@pytest.mark.parametrize(
    ("head", "start", "where"),
    [
        ("", "DTSTART;TZID=America:20261207T090000", "line 7: DTSTART;TZID"),
        ("", f"DTSTART;TZID={LONG}:20261207T090000", "line 7: DTSTART;TZID"),
        ("", 'DTSTART;TZID="America/":20261207T090000', "line 7: DTSTART;TZID"),
        ("X-WR-TIMEZONE:America", "DTSTART:20261207T090000", "line 4: X-WR-TIMEZONE"),
        (f"X-WR-TIMEZONE:{LONG}", "DTSTART:20261207T090000", "line 4: X-WR-TIMEZONE"),
    ],
    ids=["folder", "too-long", "folder-slash", "x-wr-folder", "x-wr-too-long"],
)
def test_a_zone_name_that_cannot_be_looked_up_is_a_calendar_file_error(
    head: str, start: str, where: str
) -> None:
    with pytest.raises(CalendarFileError, match=re.escape(f"busy.ics: {where}: must name a")):
        bookings_from_ics(_calendar(head, start), start=dt.date(2026, 12, 1),
                          end=dt.date(2026, 12, 31), origin="busy.ics")  # fmt: skip


def test_a_globally_unique_tzid_is_still_read() -> None:
    # RFC 5545 3.2.19: a TZID may be a vendor's globally unique name; without a VTIMEZONE the
    # readers take its IANA tail (old Thunderbird exports).
    with pytest.warns(GloballyUniqueTZIDGuessed):  # icalendar says what it guessed
        found = bookings_from_ics(
            _calendar("", "DTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20261207T040000"),
            start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31), origin="busy.ics",
        )  # fmt: skip
    assert [b.start.astimezone(dt.UTC).hour for b in found] == [9]


def test_a_protocol_name_too_long_for_a_file_is_an_unknown_protocol() -> None:
    with pytest.raises(ketaplan.UnknownProtocolError):
        load_protocol("a" * 300)
    commands = [["show", "a" * 300], ["plan", "a" * 300, "--start", "2026-12-01"],
                ["plan", "iv-ketamine-mwf", "--start", "2026-12-01", "-o", "a" * 300]]  # fmt: skip
    for command in commands:
        assert main(command, out=io.StringIO()) == 2


# -- text no file can hold -----------------------------------------------------------------------
# A lone surrogate read from JSON ("\udfff") in a clinic's address, a blackout's reason or a plan's
# patient was accepted (`validate` said the file was fine), and then every plan, calendar and
# FHIR Bundle made with it failed with a traceback when written (found by a hostile test).
SURROGATE = "x \udfff"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Clinic.model_validate({**demo_clinic().model_dump(), "location": SURROGATE}),
         "location"),
        (lambda: ketaplan.Patient.model_validate({"id": "p-1", "blackouts": [
            {"start": "2026-12-01", "end": "2026-12-02", "reason": SURROGATE}]}),
         "blackouts[0].reason"),
        (lambda: parse_bookings([{"start": "2026-12-08T09:00:00-05:00", "label": SURROGATE,
                                  "end": "2026-12-08T10:00:00-05:00", "resource": "chair"}]),
         "bookings[0].label"),
    ],
    ids=["clinic", "patient", "bookings"],
)  # fmt: skip
def test_a_lone_surrogate_is_refused_when_read(make: Callable[[], object], field: str) -> None:
    with pytest.raises(ketaplan.KetaplanError) as raised:
        make()
    assert f"{field}: must be text that can be written (no lone surrogate" in str(raised.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("patient", SURROGATE, "must be text that can be written"),
        ("clinic_name", "A" * 2001, "must be at most 2000 characters"),
        ("notes", [SURROGATE], "must be text that can be written"),
    ],
    ids=["surrogate", "name-too-long-for-a-calendar", "surrogate-in-a-list"],
)
def test_a_plan_file_with_text_no_calendar_can_hold_is_refused(
    field: str, value: object, message: str, tmp_path: Path
) -> None:
    # A 900,000-character clinic name was read, and cut to 4,000 characters in calendars.
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 7),
                now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))  # fmt: skip
    data = {**json.loads(made.model_dump_json()), field: value}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON escapes the surrogate: "\udfff"
    assert main(["export", str(path), "-o", str(tmp_path / "out.ics")], out=io.StringIO()) == 2
    with pytest.raises(ketaplan.PlanError) as raised:
        ketaplan.loading.load_plan(path)
    assert f"{field}" in str(raised.value)
    assert message in str(raised.value)
    assert not (tmp_path / "out.ics").exists()


def test_a_clinic_in_another_zone_than_its_plan_is_refused() -> None:
    # A plan is made in its clinic's zone; a plan file edited to Europe/London, checked with its
    # New York clinic, was checked against the clinic's hours read in London time, without a word.
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 7), clinic=demo_clinic(),
                now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))  # fmt: skip
    london = made.model_copy(update={"time_zone": "Europe/London"})
    with pytest.raises(InputError, match="clinic: must be the plan's clinic in the plan's zone"):
        check(london, clinic=demo_clinic())


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: ketaplan.loads_clinic(None), "text"),  # type: ignore[arg-type]
        (lambda: ketaplan.loads_protocol([]), "text"),  # type: ignore[arg-type]
        (lambda: ketaplan.loads_patient('id = "p"', format=["toml"]), "format"),  # type: ignore[arg-type]
        (lambda: ketaplan.loads_patient('id = "p"', format="yaml"), "format"),  # type: ignore[arg-type]
        (lambda: ketaplan.loads_patient('id = "p"', origin=1), "origin"),  # type: ignore[arg-type]
    ],
    ids=["none", "list", "format-list", "format-yaml", "origin-number"],
)
def test_the_text_readers_check_their_arguments(call: Callable[[], object], field: str) -> None:
    # They raised TypeError, AttributeError or "unhashable type" (found by a hostile test).
    with pytest.raises(InputError) as raised:
        call()
    assert raised.value.field == field


def test_a_roster_over_the_placement_bound_is_a_limit_error() -> None:
    protocol, start = load_protocol("iv-ketamine-mwf"), dt.date(2026, 12, 1)
    requests = [
        PlacementRequest(patient=ketaplan.Patient(id=f"p-{n}"), protocol=protocol, start=start)
        for n in range(MAX_REQUESTS + 1)
    ]
    with pytest.raises(ketaplan.LimitError, match=f"requests: must be at most {MAX_REQUESTS:,}"):
        plan_many(requests, demo_clinic())


def test_a_long_reason_is_cut_visibly_and_the_instructions_after_it_are_kept() -> None:
    # A closure's 5,000-character reason, carried into a session's reason by a re-plan, filled
    # the clinic calendar's 4,000-character description: the fasting, driving and checkpoint
    # lines after it were cut away without a mark (found by a hostile test, round 2).
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 7), clinic=demo_clinic(),
                now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))  # fmt: skip
    dose = made.doses[0]
    long = dose.model_copy(update={"reason": "R" * 5000})
    edited = made.model_copy(update={"appointments": tuple(
        long if a.id == dose.id else a for a in made.appointments)})  # fmt: skip
    data = ketaplan.to_ics(edited, audience="clinic", detail="full",
                           now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))  # fmt: skip
    uid = uid_for(edited, long)
    event = next(e for e in icalendar.Calendar.from_ical(data).walk("VEVENT") if e["UID"] == uid)
    text = str(event["DESCRIPTION"])
    assert CUT in text
    assert all(i.text in text for i in dose.instructions)
    assert len(text) < 4000


# -- busy files: nothing dropped without a word ----------------------------------------------
# Each of these was skipped without a word, so the patient was booked into the busy time, or
# failed with a Python error (found by a hostile test, round 2).


def test_an_event_that_ends_before_it_starts_is_refused_on_its_line() -> None:
    data = _calendar("", "DTSTART:20261207T140000Z").replace(
        b"DTEND:20261207T100000Z", b"DTEND:20261207T130000Z"
    )
    with pytest.raises(CalendarFileError, match=r"busy\.ics: line 8: DTEND: must be after DTSTART"):
        bookings_from_ics(data, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31),
                          origin="busy.ics")  # fmt: skip


@pytest.mark.parametrize(
    ("appointment", "message"),
    [
        ({"status": "boked"}, "entry[0].resource.status: must be one of arrived, booked"),
        ({"end": None}, "entry[0].resource.end: must be given with start (or minutesDuration)"),
        ({"end": "2026-12-07T13:00:00Z"}, "entry[0].resource.end: must not be before start"),
        ({"start": "2016-12-31T23:59:60Z", "end": None},
         "entry[0].resource.start: must be a date and time with a UTC offset"),
    ],
    ids=["status", "no-end", "backwards", "leap-second"],
)  # fmt: skip
def test_a_fhir_appointment_that_cannot_be_read_as_busy_time_is_refused(
    appointment: dict[str, object], message: str
) -> None:
    fhir = pytest.importorskip("ketaplan.fhir.reading")
    resource: dict[str, object] = {"resourceType": "Appointment", "status": "booked",
                                   "start": "2026-12-07T14:00:00Z", "end": "2026-12-07T15:00:00Z",
                                   "participant": [{"status": "accepted"}]}  # fmt: skip
    resource.update(appointment)
    given = {k: v for k, v in resource.items() if v is not None}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": given}]}
    with pytest.raises(CalendarFileError, match=re.escape(message)):
        fhir.bookings_from_fhir(json.dumps(bundle), start=dt.date(2026, 12, 1),
                                end=dt.date(2026, 12, 31), origin="busy.json")  # fmt: skip


def test_a_fhir_number_too_long_to_read_is_a_calendar_file_error() -> None:
    fhir = pytest.importorskip("ketaplan.fhir.reading")
    text = '{"resourceType": "Appointment", "minutesDuration": ' + "9" * 5000 + "}"
    with pytest.raises(CalendarFileError, match="cannot be read: Exceeds the limit"):
        fhir.bookings_from_fhir(text, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31))
