"""Reading definitions from files and strings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketaplan import ProtocolError, UnknownProtocolError, load_protocol, loads_protocol
from ketaplan.clinic import Clinic
from ketaplan.errors import ClinicError, PatientError
from ketaplan.loading import (
    MAX_FILE_BYTES,
    load_clinic,
    load_definition,
    load_patient,
    loads_clinic,
    loads_patient,
)
from ketaplan.patient import Patient


def test_load_from_toml_and_json_files(data: Path, tmp_path: Path) -> None:
    from_toml = load_protocol(data / "valid-own.toml")
    path = tmp_path / "own.json"
    path.write_text(from_toml.model_dump_json(), encoding="utf-8")
    assert load_protocol(path) == from_toml
    assert load_protocol(str(path)) == from_toml


def test_unknown_builtin_id_lists_the_known_ones() -> None:
    with pytest.raises(UnknownProtocolError, match=r"must be a built-in id \(esketamine-mdsi, "):
        load_protocol("esketamine")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"gone\.toml: cannot be read \(No such file"):
        load_protocol(tmp_path / "gone.toml")


def test_wrong_suffix(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_text("id: x\n")
    with pytest.raises(ProtocolError, match=r"must be a \.toml or \.json file"):
        load_protocol(path)


def test_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text("# " + "x" * MAX_FILE_BYTES)
    with pytest.raises(ProtocolError, match=r"must be at most 1048576 bytes"):
        load_protocol(path)


def test_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(ProtocolError, match=r"mine\.toml: is not valid TOML: .*line 2"):
        loads_protocol('id = "x"\nname = "unterminated\n', origin="mine.toml")


def test_json_syntax_error_names_the_line() -> None:
    with pytest.raises(ProtocolError, match=r"is not valid JSON: .*\(at line 2, column 1\)"):
        loads_protocol('{"id": "x",\n}', format="json")


def test_top_level_must_be_a_table() -> None:
    with pytest.raises(ProtocolError, match=r"must be a table \(an object\) of fields; got 'list'"):
        loads_protocol("[1, 2]", format="json")


def test_deeply_nested_json_is_a_clear_error() -> None:
    with pytest.raises(ProtocolError, match="nested too deeply"):
        loads_protocol("[" * 100_000 + "]" * 100_000, format="json")


def test_problems_carry_structure(data: Path) -> None:
    with pytest.raises(ProtocolError) as info:
        load_protocol(data / "broken" / "inverted-window.toml")
    (problem,) = info.value.problems
    assert problem.origin is not None
    assert problem.origin.endswith("inverted-window.toml")
    assert problem.path == "phases[0].cadence.steps[0].gap"
    assert "absolute_minimum <= minimum <= target <= maximum" in problem.message


CLINIC = """
id = "demo"
name = "Demo Clinic"
time_zone = "America/New_York"
closures = [{ start = 2026-12-24, end = 2026-12-26, reason = "Holidays" }]
[opening_hours]
mon = ["08:00-12:00", "13:00-18:00"]
tue = ["08:00-18:00"]
[resources]
chairs = 4
monitoring_staff = 2
patients_per_staff = 2
"""


def test_clinic_from_text_and_file(tmp_path: Path) -> None:
    clinic = loads_clinic(CLINIC)
    assert isinstance(clinic, Clinic)
    assert [str(r) for r in clinic.opening_hours.mon] == ["08:00-12:00", "13:00-18:00"]
    path = tmp_path / "clinic.toml"
    path.write_text(CLINIC)
    assert load_clinic(path) == clinic
    assert load_definition(path) == clinic


def test_clinic_errors() -> None:
    text = CLINIC.replace("America/New_York", "Eastern").replace("13:00-18:00", "18:00-13:00")
    with pytest.raises(ClinicError) as info:
        loads_clinic(text, origin="clinic.toml")
    assert [str(p) for p in info.value.problems] == [
        (
            "clinic.toml: time_zone: must be an IANA time zone of a place, such as "
            "'America/New_York', or 'UTC'; got 'Eastern'"
        ),
        "clinic.toml: opening_hours.mon[1]: end: must be after start; got 18:00-13:00",
    ]


def test_overlapping_hours() -> None:
    text = CLINIC.replace('"13:00-18:00"', '"11:00-18:00"')
    with pytest.raises(ClinicError, match=r"opening_hours\.mon: must not overlap; got"):
        loads_clinic(text)


def test_patient_from_json(tmp_path: Path) -> None:
    raw = {
        "id": "p-0042",
        "availability": {"tue": ["08:00-12:00"]},
        "blackouts": [{"start": "2026-12-20", "end": "2027-01-03", "reason": "travel"}],
        "appointments": [
            {"start": "2026-12-08T10:00:00-05:00", "end": "2026-12-08T11:00:00-05:00"}
        ],
        "medications": [{"name": "lorazepam", "times": ["22:00"]}],
        "history": [{"date": "2026-09-01", "product": "ketamine"}],
    }
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(raw))
    patient = load_patient(path)
    assert isinstance(patient, Patient)
    assert loads_patient(json.dumps(raw), format="json") == patient
    assert Patient.model_validate_json(patient.model_dump_json()) == patient


def test_patient_errors() -> None:
    text = """
id = "Jane Doe"
appointments = [{ start = 2026-12-08T10:00:00, end = 2026-12-08T11:00:00 }]
"""
    with pytest.raises(PatientError) as info:
        loads_patient(text, origin="p.toml")
    found = [str(p) for p in info.value.problems]
    assert found[0].startswith("p.toml: id: must be an opaque reference")
    assert found[0].endswith("got 'Jane Doe'")
    assert found[1].startswith("p.toml: appointments[0].start: must have a UTC offset")
