"""FHIR R4 export and import (issue 17, section 1): ``ketaplan.fhir`` and its command line.

What the issue asks the tests to show: every export parses back through the model package,
busy times round-trip (export, import, the same instants), every ketaplan status has its
Appointment.status, ids stay stable across a re-plan, and the privacy levels of the calendar
export hold (no patient name ever; minimal detail names no medicine). The independent R4
validator runs in ``tests/interop/test_fhir_validator.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from ketaplan import (
    Attended,
    CalendarFileError,
    Cancelled,
    InputError,
    LimitError,
    Missed,
    Moved,
    builtin_protocol_ids,
    builtin_protocols,
    load_protocol,
    replan,
)
from ketaplan.fhir import bookings_from_fhir, export, load_busy, protocol_to_fhir, to_fhir
from ketaplan.fhir.mapping import (
    APPOINTMENT_STATUS,
    APPOINTMENT_SYSTEM,
    appointment_key,
    appointment_status,
    fhir_id,
    task_key,
)
from ketaplan.ics import uid_for
from ketaplan.ics.export import Audience, Detail
from ketaplan.plans import Plan, Shift

from .helpers import clinic, patient, patient_file, plan
from .test_cli import run

NOW = dt.datetime(2026, 11, 21, 14, tzinfo=dt.UTC)
LEVELS: list[tuple[Audience, Detail]] = [
    ("patient", "minimal"),
    ("patient", "full"),
    ("clinic", "minimal"),
    ("clinic", "full"),
]
#: Words that name the treatment: none may appear at minimal detail (issue 17, privacy).
TREATMENT_WORDS = ("ketamine", "spravato", "rems", " mg", "infusion", "dose")


@cache
def planned(protocol_id: str) -> Plan:
    """A built-in protocol at a clinic open 08:00-18:00 (the pain series takes 5 hours)."""
    return plan(load_protocol(protocol_id), start=dt.date(2026, 12, 1), clinic=clinic(),
                patient=patient(), until=dt.date(2027, 6, 30))  # fmt: skip


@cache
def replanned() -> Plan:
    """iv-ketamine-standard after a re-plan: attended, missed, cancelled, moved, provisional."""
    before = planned("iv-ketamine-standard")
    moved_to = before.appointment("induction-4").start + dt.timedelta(days=1)
    return replan(
        before,
        as_of=before.appointment("induction-3").end + dt.timedelta(hours=1),
        events=[
            Attended(appointment="induction-1"),
            Missed(appointment="induction-2"),
            Cancelled(appointment="induction-3"),
            Moved(appointment="induction-4", to=moved_to),
        ],
        clinic=clinic(),
        patient=patient(),
    )


def bundle(data: bytes) -> dict[str, Any]:
    """The export parsed back by the model package (it raises on any invalid field)."""
    Bundle.model_validate_json(data)
    parsed: dict[str, Any] = json.loads(data)
    return parsed


def resources(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


# -- export ----------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
def test_every_export_parses_back_through_the_models(protocol_id: str) -> None:
    """Every built-in protocol, at each audience and detail, in both Bundle types."""
    made = planned(protocol_id)
    for audience, detail in LEVELS:
        for kind in ("collection", "transaction"):
            data = bundle(to_fhir(made, audience=audience, detail=detail, bundle=kind, now=NOW))
            assert data["type"] == kind
            assert len(resources(data, "Appointment")) == len(made.appointments)
            tasks = len(made.tasks) if audience == "clinic" else 0
            assert len(resources(data, "Task")) == tasks
            (care_plan,) = resources(data, "CarePlan")
            assert care_plan["status"] == "active"


def test_appointments_keep_their_times_offsets_and_length() -> None:
    made = planned("esketamine-trd")
    data = bundle(to_fhir(made, audience="clinic", now=NOW))
    written = {a["identifier"][0]["value"]: a for a in resources(data, "Appointment")}
    for appointment in made.appointments:
        found = written[appointment_key(made, appointment)]
        start = dt.datetime.fromisoformat(found["start"])
        assert start == appointment.start
        assert start.utcoffset() == appointment.local_start.utcoffset()  # the clinic's offset
        assert dt.datetime.fromisoformat(found["end"]) == appointment.end
        minutes = (appointment.end - appointment.start).total_seconds() / 60
        assert found["minutesDuration"] == minutes


def test_the_identifier_is_the_calendar_uid_s_key() -> None:
    """One rule for identity (issue 17): the FHIR identifier and the iCalendar UID share it."""
    made = planned("iv-ketamine-pain")
    data = bundle(to_fhir(made, now=NOW))
    entries = {e["resource"]["identifier"][0]["value"]: e for e in data["entry"]}
    for appointment in made.appointments:
        key = appointment_key(made, appointment)
        assert uid_for(made, appointment) == f"{key}@ketaplan"
        entry = entries[key]
        assert entry["resource"]["identifier"][0]["system"] == APPOINTMENT_SYSTEM
        assert entry["resource"]["id"] == fhir_id(key)
        assert entry["fullUrl"] == f"urn:uuid:{fhir_id(key)}"


def test_a_transaction_puts_each_resource_on_its_identifier() -> None:
    data = bundle(to_fhir(planned("esketamine-trd"), bundle="transaction", audience="clinic"))
    for entry in data["entry"]:
        resource = entry["resource"]
        identifier = resource["identifier"][0]
        assert entry["request"] == {
            "method": "PUT",
            "url": f"{resource['resourceType']}?identifier={identifier['system']}|"
            f"{identifier['value']}",
        }
        assert "id" not in resource  # the server keeps its own ids


def test_every_reference_resolves_inside_the_bundle() -> None:
    """CarePlan activities, Task focus and basedOn point at entries; participants at contained."""
    for kind in ("collection", "transaction"):
        data = bundle(to_fhir(replanned(), bundle=kind, audience="clinic", now=NOW))
        urls = {entry["fullUrl"] for entry in data["entry"]}
        for entry in data["entry"]:
            resource = entry["resource"]
            local = {f"#{inner['id']}" for inner in resource.get("contained", [])}
            found = [ref for ref in _references(resource) if ref is not None]
            assert found
            for reference in found:
                assert reference in urls | local, reference
            assert local <= set(found)  # every contained resource is used


def _references(node: object) -> Iterator[str | None]:
    if isinstance(node, dict):
        if "type" in node and ("reference" in node or "identifier" in node):
            yield node.get("reference")
        for key, value in node.items():
            if key != "contained":
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def test_ids_are_stable_across_a_replan() -> None:
    """A re-export after a re-plan updates: the same ids, identifiers and fullUrls."""
    original = planned("iv-ketamine-standard")
    before = bundle(to_fhir(original, audience="clinic", now=NOW))
    after = bundle(to_fhir(replanned(), audience="clinic", now=NOW))

    def ids(data: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
        return {
            e["resource"]["identifier"][0]["value"]: (
                e["fullUrl"],
                e["resource"]["id"],
                e["resource"]["resourceType"],
            )
            for e in data["entry"]
        }

    first, second = ids(before), ids(after)
    appointments = {appointment_key(original, a) for a in original.appointments}
    assert appointments <= set(second)  # every appointment is still there (cancelled or not)
    kept = set(first) & set(second)
    assert len(kept) > len(appointments)  # and the tasks the re-plan keeps
    assert all(first[key] == second[key] for key in kept)
    moved = planned("iv-ketamine-standard").appointment("induction-4")
    key = appointment_key(replanned(), moved)
    (appointment,) = [a for a in resources(after, "Appointment") if a["id"] == fhir_id(key)]
    assert dt.datetime.fromisoformat(appointment["start"]) == moved.start + dt.timedelta(days=1)


def test_every_status_has_its_appointment_status() -> None:
    """planned, attended, missed, cancelled; provisional; shifted (issue 17)."""
    made = replanned()
    data = bundle(to_fhir(made, now=NOW))
    written = {a["id"]: a["status"] for a in resources(data, "Appointment")}

    def status_of(appointment_id: str) -> str:
        return str(written[fhir_id(appointment_key(made, made.appointment(appointment_id)))])

    assert status_of("intake-1") == "booked"
    assert status_of("induction-1") == "fulfilled"
    assert status_of("induction-2") == "noshow"
    assert status_of("induction-3") == "cancelled"
    assert status_of("induction-4") == "booked"
    assert made.appointment("maintenance-1").provisional
    assert status_of("maintenance-1") == "proposed"
    shifted = made.appointment("induction-5").model_copy(
        update={
            "shift": Shift(
                earliest=dt.date(2026, 12, 1),
                latest=dt.date(2026, 12, 2),
                days_outside=2,
                text="2 days after its window closed",
            )
        }
    )
    assert appointment_status(shifted) == "booked"
    assert set(APPOINTMENT_STATUS) == {"planned", "attended", "missed", "cancelled"}


def test_care_plan_status_follows_the_course() -> None:
    made = planned("iv-ketamine-pain")
    done = made.model_copy(
        update={
            "appointments": tuple(
                a.model_copy(update={"status": "attended"}) for a in made.appointments
            )
        }
    )
    (care_plan,) = resources(bundle(to_fhir(done, now=NOW)), "CarePlan")
    assert care_plan["status"] == "completed"


def test_tasks_have_due_dates_focus_and_times() -> None:
    made = planned("esketamine-trd")
    tasks = resources(bundle(to_fhir(made, audience="clinic", now=NOW)), "Task")
    by_key = {t["identifier"][0]["value"]: t for t in tasks}
    forms = [t for t in made.tasks if t.kind == "form"]
    checks = [t for t in made.tasks if t.kind == "checkpoint"]
    assert forms
    assert checks
    for task in made.tasks:
        written = by_key[task_key(made, task)]
        assert written["restriction"]["period"]["end"] == task.due.isoformat()
        assert written["intent"] == "plan"
        if task.appointment is not None:
            appointment = made.appointment(task.appointment)
            assert written["focus"]["reference"] == (
                f"urn:uuid:{fhir_id(appointment_key(made, appointment))}"
            )
        if task.at is not None:
            assert dt.datetime.fromisoformat(written["executionPeriod"]["start"]) == task.at
    assert "REMS" in by_key[task_key(made, forms[0])]["description"]


# -- privacy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
@pytest.mark.parametrize("audience", ["patient", "clinic"])
def test_minimal_detail_names_no_treatment(protocol_id: str, audience: Audience) -> None:
    """As the calendar export: no medicine, dose, protocol or treatment at minimal."""
    made = planned(protocol_id)
    data = bundle(to_fhir(made, audience=audience, detail="minimal", now=NOW))
    text = "\n".join(strings(data)).lower()
    for word in (*TREATMENT_WORDS, made.protocol):
        assert word not in text, (word, protocol_id)
    full = "\n".join(strings(bundle(to_fhir(made, audience=audience, detail="full")))).lower()
    assert made.protocol in full  # the words are there to hide


def test_no_patient_name_ever() -> None:
    """The subject is the caller's reference or an identifier; never a name or display."""
    made = planned("esketamine-trd")
    for audience, detail in LEVELS:
        data = bundle(to_fhir(made, audience=audience, detail=detail, patient="Patient/p-77"))
        assert not resources(data, "Patient")
        subjects = [r.get("subject") or r.get("for") for r in resources(data, "CarePlan")]
        subjects += [task["for"] for task in resources(data, "Task")]
        subjects += [p["actor"] for a in resources(data, "Appointment") for p in a["participant"]
                     if p["actor"].get("type") == "Patient"]  # fmt: skip
        assert len(subjects) > len(made.appointments)
        assert all(s == {"reference": "Patient/p-77", "type": "Patient"} for s in subjects)
        assert "display" not in "\n".join(strings(data))
    default = bundle(to_fhir(made, now=NOW))
    (care_plan,) = resources(default, "CarePlan")
    assert care_plan["subject"] == {
        "type": "Patient",
        "identifier": {"system": "urn:ketaplan:patient", "value": "p-1"},
    }


def test_a_patient_reference_must_be_a_reference() -> None:
    made = planned("iv-ketamine-pain")
    with pytest.raises(InputError, match=r"patient: must be a FHIR reference.*got 'Jane Doe'"):
        to_fhir(made, patient="Jane Doe")
    mapped = bundle(to_fhir(made, patient={made.patient or "": "urn:uuid:" + "0" * 8 + "-0000" * 3
                                           + "-" + "0" * 12}))  # fmt: skip
    (care_plan,) = resources(mapped, "CarePlan")
    assert care_plan["subject"]["reference"].startswith("urn:uuid:")


def test_bad_options_are_input_errors() -> None:
    made = planned("iv-ketamine-pain")
    with pytest.raises(InputError, match="bundle: must be 'collection' or 'transaction'"):
        to_fhir(made, bundle="batch")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="now: must be"):
        to_fhir(made, now=dt.datetime(2026, 12, 1))
    with pytest.raises(InputError, match="plans: must be a Plan or a list of Plans"):
        to_fhir([])
    with pytest.raises(InputError, match="plans: must be plans with distinct identities"):
        to_fhir([made, made])


def test_a_bundle_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The models cost memory, so one Bundle holds at most MAX_RESOURCES (issue 17)."""
    made = planned("esketamine-trd")
    size = 1 + len(made.appointments) + len(made.tasks)
    monkeypatch.setattr(export, "MAX_RESOURCES", size)
    assert bundle(to_fhir(made, audience="clinic"))
    monkeypatch.setattr(export, "MAX_RESOURCES", size - 1)
    with pytest.raises(LimitError, match=f"plans: must be at most {size - 1} resources"):
        to_fhir(made, audience="clinic")
    assert bundle(to_fhir(made, audience="patient"))  # no tasks for patients


# -- protocols -------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", builtin_protocols(), ids=lambda p: p.id)
def test_every_protocol_is_a_plan_definition(protocol: Any) -> None:
    data = bundle(protocol_to_fhir(protocol))
    (definition,) = resources(data, "PlanDefinition")
    activities = resources(data, "ActivityDefinition")
    assert definition["version"] == protocol.version
    assert len(activities) == len(protocol.session_kinds)
    canonicals = {f"{a['url']}|{a['version']}" for a in activities}
    actions = definition["action"]
    assert [a["id"] for a in actions] == [
        *(phase.id for phase in protocol.phases),
        *(anchored.id for anchored in protocol.anchored),
    ]
    assert all(a["definitionCanonical"] in canonicals for a in actions)
    assert len(definition["relatedArtifact"]) == len(protocol.sources)
    ids = {a["id"] for a in actions}
    for action in actions:
        for related in action.get("relatedAction", []):
            assert related["actionId"] in ids


def test_a_gap_window_is_a_period_range_and_its_target_is_in_words() -> None:
    """What FHIR cannot hold stays in the action's text (issue 17)."""
    data = bundle(protocol_to_fhir(load_protocol("esketamine-trd")))
    (definition,) = resources(data, "PlanDefinition")
    maintenance = next(a for a in definition["action"] if a["id"] == "maintenance")
    assert maintenance["timingTiming"]["repeat"] == {"period": 14, "periodMax": 17,
                                                     "periodUnit": "d"}  # fmt: skip
    assert "never before 10" in maintenance["textEquivalent"]
    assert "ketaplan protocol file is the authority" in definition["usage"]


# -- import ----------------------------------------------------------------------------------

DEC_1, DEC_31 = dt.date(2026, 12, 1), dt.date(2026, 12, 31)


def test_busy_times_round_trip() -> None:
    """Export, import as busy times: the same instants as the sessions that take place."""
    for made in (planned("esketamine-trd"), replanned()):
        for kind in ("collection", "transaction"):
            data = to_fhir(made, bundle=kind, audience="clinic", now=NOW)
            busy = bookings_from_fhir(
                data, start=made.start, end=made.until + dt.timedelta(days=400), resource="chair"
            )
            expected = sorted((a.start, a.end) for a in made.appointments if a.is_active)
            assert [(b.start, b.end) for b in busy] == expected
            assert all(b.resource == "chair" and b.label == "busy (<string>)" for b in busy)


def _slot(status: str, start: str, schedule: str = "Schedule/1") -> dict[str, Any]:
    return {"resource": {"resourceType": "Slot", "schedule": {"reference": schedule},
                         "status": status, "start": start,
                         "end": start.replace("T09", "T10")}}  # fmt: skip


def test_slots_appointments_and_schedules() -> None:
    entries = [
        {"fullUrl": "urn:uuid:5c6d8a8e-0000-4000-8000-000000000001",
         "resource": {"resourceType": "Schedule", "active": False,
                      "actor": [{"reference": "Location/7"}]}},
        _slot("busy", "2026-12-07T09:00:00-05:00"),
        _slot("busy-tentative", "2026-12-08T09:00:00-05:00"),
        _slot("free", "2026-12-09T09:00:00-05:00"),
        _slot("busy", "2026-12-10T09:00:00-05:00", "urn:uuid:5c6d8a8e-0000-4000-8000-000000000001"),
        {"resource": {"resourceType": "Appointment", "status": "booked",
                      "start": "2026-12-11T15:00:00Z", "minutesDuration": 45,
                      "participant": [{"status": "accepted"}]}},
        {"resource": {"resourceType": "Appointment", "status": "cancelled",
                      "start": "2026-12-12T15:00:00Z", "end": "2026-12-12T16:00:00Z",
                      "participant": [{"status": "declined"}]}},
        {"resource": {"resourceType": "Appointment", "status": "proposed",
                      "participant": [{"status": "needs-action"}]}},
        _slot("busy", "2027-01-04T09:00:00-05:00"),
        {"resource": {"resourceType": "Patient", "name": [{"family": "Not read"}]}},
    ]  # fmt: skip
    data = json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": entries})
    busy = bookings_from_fhir(
        data, resource="room", time_zone="America/New_York", start=DEC_1, end=DEC_31
    )
    assert [(b.start.isoformat(), b.end.isoformat()) for b in busy] == [
        ("2026-12-07T09:00:00-05:00", "2026-12-07T10:00:00-05:00"),
        ("2026-12-08T09:00:00-05:00", "2026-12-08T10:00:00-05:00"),
        ("2026-12-11T15:00:00+00:00", "2026-12-11T15:45:00+00:00"),
    ]
    assert all(b.resource == "room" and b.patient is None for b in busy)


def test_a_malformed_resource_is_named_never_dropped() -> None:
    broken = {"resourceType": "Slot", "status": "busy", "start": "2026-12-07 nine",
              "end": "2026-12-07T10:00:00-05:00"}  # fmt: skip
    entries = [_slot("busy", "2026-12-07T09:00:00-05:00"), {"resource": broken}]
    data = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})
    with pytest.raises(CalendarFileError) as caught:
        bookings_from_fhir(data, origin="ehr.json", start=DEC_1, end=DEC_31)
    paths = [problem.path for problem in caught.value.problems]
    assert "entry[1].resource.start" in paths
    assert "entry[1].resource.schedule" in paths
    assert all(problem.origin == "ehr.json" for problem in caught.value.problems)
    assert caught.value.omitted == 0


def test_a_flood_of_problems_lists_the_first_50() -> None:
    data = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{}] * 80})
    with pytest.raises(CalendarFileError, match="80 problems") as caught:
        bookings_from_fhir(data, start=DEC_1, end=DEC_31)
    assert len(caught.value.problems) == 50
    assert caught.value.omitted == 30


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("BEGIN:VCALENDAR", "is not JSON"),
        (b"\xff{}", "must be UTF-8 text"),
        ("[1, 2]", "must be a FHIR resource"),
        ("[" * 100_000 + "]" * 100_000, "is nested too deeply"),
        ('{"resourceType": "Bundle", "entry": {"x": 1}}', "entry: must be a list"),
        ('{"resourceType": "Bundle", "entry": [{"fullUrl": "x"}]}', "must hold a resource"),
    ],
)
def test_unreadable_documents_are_calendar_file_errors(data: str | bytes, message: str) -> None:
    with pytest.raises(CalendarFileError, match=message):
        bookings_from_fhir(data, start=DEC_1, end=DEC_31)


def test_reading_is_bounded(tmp_path: Path) -> None:
    with pytest.raises(LimitError, match="end: must be on or after start"):
        bookings_from_fhir("{}", start=dt.date(2026, 12, 2), end=dt.date(2026, 12, 1))
    missing = tmp_path / "missing.json"
    with pytest.raises(CalendarFileError, match="cannot be read"):
        load_busy(missing, start=DEC_1, end=DEC_31)


# -- the optional extra ----------------------------------------------------------------------


def test_the_package_imports_without_the_extra_and_names_it() -> None:
    """The core imports without fhir.resources; using FHIR raises MissingExtraError."""
    code = (
        "import sys; sys.modules['fhir'] = None\n"
        "import ketaplan, ketaplan.fhir\n"
        "from ketaplan.fhir.mapping import appointment_status\n"
        "try:\n"
        "    ketaplan.fhir.to_fhir\n"
        "except ketaplan.MissingExtraError as err:\n"
        "    assert isinstance(err, ImportError)\n"
        "    print(err)\n"
        "from ketaplan.cli import main\n"
        "sys.exit(main(['export-protocol', 'iv-ketamine-mwf']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=60)  # fmt: skip
    assert result.returncode == 2
    hint = "FHIR export and import needs the optional extra 'fhir': pip install 'ketaplan[fhir]'"
    assert result.stdout.strip() == hint
    assert result.stderr.strip() == f"ketaplan: error: {hint}"


# -- the command line ------------------------------------------------------------------------


def test_cli_plan_and_export_as_fhir(tmp_path: Path) -> None:
    out = tmp_path / "plan.fhir.json"
    code, text = run("plan", "esketamine-trd", "--start", "2026-12-01", "--clinic", "demo",
                     "--patient", "demo", "--format", "fhir", "--bundle", "transaction",
                     "--fhir-patient", "Patient/42", "--now", "2026-11-21T09:00",
                     "-o", str(out))  # fmt: skip
    assert code == 0
    assert text.splitlines()[0] == f"wrote {out}"
    data = bundle(out.read_bytes())
    assert data["type"] == "transaction"
    assert data["timestamp"] == "2026-11-21T14:00:00Z"
    plan_file = tmp_path / "plan.json"
    run("plan", "esketamine-trd", "--start", "2026-12-01", "--clinic", "demo", "--patient", "demo",
        "--format", "json", "-o", str(plan_file))  # fmt: skip
    code, text = run("export", str(plan_file), "--format", "fhir", "--audience", "clinic",
                     "--now", "2026-11-21T09:00")  # fmt: skip
    assert code == 0
    exported = bundle(text.encode())
    assert resources(exported, "Task")
    assert "SPRAVATO" in text


def test_cli_export_protocol(tmp_path: Path) -> None:
    code, text = run("export-protocol", "home-sublingual", "--format", "fhir")
    assert code == 0
    (definition,) = resources(bundle(text.encode()), "PlanDefinition")
    assert definition["url"] == "urn:ketaplan:protocol:home-sublingual"


def test_cli_busy_from_a_fhir_bundle(tmp_path: Path) -> None:
    """--busy reads a FHIR Bundle like an .ics file, told apart by its content."""
    busy = tmp_path / "busy.json"
    entries = [
        {"resource": {"resourceType": "Appointment", "status": "booked",
                      "start": f"2026-12-{day:02d}T00:00:00-05:00",
                      "end": f"2026-12-{day + 1:02d}T00:00:00-05:00",
                      "participant": [{"status": "accepted"}]}}
        for day in range(7, 12)
    ]  # fmt: skip
    busy.write_text(json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": entries}))
    args = ("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--clinic", "demo",
            "--patient", str(patient_file(tmp_path)), "--format", "json")  # fmt: skip
    code, text = run(*args)
    assert code == 0
    free = json.loads(text)["appointments"][0]["start"]
    code, text = run(*args, "--busy", str(busy), "--busy-as", "patient")
    assert code == 0
    first = json.loads(text)["appointments"][0]["start"]
    assert free.startswith("2026-12-07")
    assert first.startswith("2026-12-14")  # the patient's busy week is skipped


def test_cli_errors_exit_2_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("plan", "iv-ketamine-pain", "--start", "2026-12-07", "--format", "fhir",
                  "--fhir-patient", "Jane Doe")  # fmt: skip
    assert code == 2
    error = capsys.readouterr().err
    assert "ketaplan: error: --fhir-patient: must be a FHIR reference" in error
    assert "Traceback" not in error
