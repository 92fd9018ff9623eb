"""A file of one kind given where ketaplan reads another: one line says what it is.

Found by clinic staff: ``--clinic patient.toml`` listed seven field errors (every field a clinic
has and a patient has not) instead of saying it was a patient file. The class: every option
or argument that reads a file of one kind (clinic, patient, protocol, plan, roster, events,
bookings, busy calendar), given a file of another kind ketaplan can tell.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest

from ketaplan import load_protocol
from ketaplan.cli import main
from ketaplan.errors import ClinicError, InputError, PatientError
from ketaplan.ics import to_ics
from ketaplan.loading import (
    detect_kind,
    file_kind,
    load_clinic,
    load_patient,
    load_plan_or_bookings,
    read_json_list,
    recognise,
)
from tests.helpers import plan

_EXAMPLES = Path(__file__).parents[1] / "ketaplan/examples"
_START = dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One file of each kind ketaplan reads, by kind."""
    folder = tmp_path_factory.mktemp("kinds")
    made = plan(load_protocol("iv-ketamine-mwf"), start=_START)
    shutil.copy(_EXAMPLES / "demo-clinic.toml", folder / "clinic.toml")
    shutil.copy(_EXAMPLES / "demo-patient.toml", folder / "patient.toml")
    (folder / "plan.json").write_text(made.model_dump_json(), encoding="utf-8")
    (folder / "plan.ics").write_bytes(to_ics(made))
    (folder / "protocol.json").write_text(
        load_protocol("iv-ketamine-mwf").model_dump_json(), encoding="utf-8"
    )
    (folder / "roster.toml").write_text(
        '[[patients]]\nid = "p-1"\nprotocol = "iv-ketamine-mwf"\nstart = 2026-12-07\n',
        encoding="utf-8",
    )
    (folder / "events.json").write_text(
        json.dumps([{"type": "missed", "appointment": "induction-1"}]), encoding="utf-8"
    )
    span = {"start": "2026-12-08T09:00:00-05:00", "end": "2026-12-08T10:00:00-05:00"}
    (folder / "bookings.json").write_text(json.dumps([span]), encoding="utf-8")
    (folder / "bundle.json").write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection", "entry": []}),
        encoding="utf-8",
    )
    return {path.stem if path.suffix != ".ics" else "ics": str(path) for path in folder.iterdir()}


_PLAN = ["plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--now", "2026-12-01T09:00"]
_REPLAN = ["replan", "{plan}", "--as-of", "2026-12-08T09:00"]

#: Each way a file of one kind is read, given a file of another: the command, and the
#: option, the kind expected and the kind found that the one line names.
CASES = [
    ([*_PLAN, "--clinic", "{patient}"], ("--clinic {patient}: must be a clinic file; "
     "this is a patient file (it has 'availability')")),
    ([*_PLAN, "--clinic", "{ics}"], ("--clinic {ics}: must be a clinic file; "
     "this is an iCalendar file (it begins with BEGIN:VCALENDAR)")),
    ([*_PLAN, "--clinic", "{roster}"], ("--clinic {roster}: must be a clinic file; "
     "this is a roster file (it has 'patients')")),
    ([*_PLAN, "--clinic", "{bundle}"], ("--clinic {bundle}: must be a clinic file; "
     "this is a FHIR resource (its resourceType is 'Bundle')")),
    ([*_PLAN, "--patient", "{clinic}"], ("--patient {clinic}: must be a patient file; "
     "this is a clinic file (it has 'opening_hours')")),
    ([*_PLAN, "--patient", "{events}"], ("--patient {events}: must be a patient file; "
     "this is an events file (a JSON list, each item with a 'type')")),
    (["plan", "{patient}", "--start", "2026-12-07"], ("{patient}: must be a protocol file; "
     "this is a patient file (it has 'availability')")),
    ([*_REPLAN, "--protocol", "{clinic}"], ("--protocol {clinic}: must be a protocol file; "
     "this is a clinic file (it has 'opening_hours')")),
    ([*_REPLAN, "--events", "{bookings}"], ("--events {bookings}: must be an events file; "
     "this is a bookings file (a JSON list, each item with a 'start' and an 'end')")),
    ([*_REPLAN, "--events", "{plan}"], ("--events {plan}: must be an events file; "
     "this is a plan file (it has 'protocol_version')")),
    ([*_PLAN, "--bookings", "{events}"], ("--bookings {events}: must be a plan file or a "
     "bookings file; this is an events file (a JSON list, each item with a 'type')")),
    ([*_PLAN, "--bookings", "{clinic}"], ("--bookings {clinic}: must be a plan file or a "
     "bookings file; this is a clinic file (it has 'opening_hours')")),
    ([*_PLAN, "--busy", "{clinic}"], ("--busy {clinic}: must be an iCalendar file or a FHIR "
     "resource; this is a clinic file (it has 'opening_hours')")),
    (["check", "{clinic}"], ("{clinic}: must be a plan file; "
     "this is a clinic file (it has 'opening_hours')")),
    (["export", "{ics}"], ("{ics}: must be a plan file; "
     "this is an iCalendar file (it begins with BEGIN:VCALENDAR)")),
    (["runsheet", "{patient}", "--date", "2026-12-07"], ("{patient}: must be a plan file; "
     "this is a patient file (it has 'availability')")),
    (["status", "{plan}", "{protocol}", "--as-of", "2026-12-08T09:00"],
     "{protocol}: must be a plan file; this is a protocol file (it has 'phases')"),
    (["clinic", "plan", "{clinic}", "-o", "{clinic}.out"], ("{clinic}: must be a roster file; "
     "this is a clinic file (it has 'opening_hours')")),
    (["waitlist", "{plan}"], ("{plan}: must be a roster file; "
     "this is a plan file (it has 'protocol_version')")),
]  # fmt: skip


@pytest.mark.parametrize(("command", "message"), CASES)
def test_a_file_of_another_kind_is_named_with_the_option(
    command: list[str],
    message: str,
    files: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Exit 2 and one line: the option (or the argument's file), the kind asked for and the
    kind the file is; no list of the fields one kind has and the other has not."""
    args = [part.format(**files) for part in command]
    assert main(args, out=io.StringIO()) == 2
    assert capsys.readouterr().err == f"ketaplan: error: {message.format(**files)}\n"


def test_a_file_of_the_kind_asked_for_keeps_its_own_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clinic with a patient's field by mistake is still a clinic: its problem is listed."""
    broken = tmp_path / "clinic.toml"
    text = (_EXAMPLES / "demo-clinic.toml").read_text(encoding="utf-8")
    text = text.replace("slot_minutes = 15", "slot_minutes = 15\nmedications = []")
    broken.write_text(text, encoding="utf-8")
    args = [*_PLAN, "--clinic", str(broken)]
    assert main(args, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "medications: is not a known field (did you mean 'medication_rules'?)" in err
    assert "patient file" not in err


def test_the_loaders_say_what_a_file_is(files: dict[str, str]) -> None:
    """The library's loaders word the same kinds: a patient read as a clinic, a clinic as a
    patient (a patient had no fields of its own to tell it by), a plan as events, events as
    bookings."""
    with pytest.raises(ClinicError, match=r"must be a clinic file; this is a patient file"):
        load_clinic(files["patient"])
    with pytest.raises(PatientError, match=r"must be a patient file; this is a clinic file"):
        load_patient(files["clinic"])
    with pytest.raises(InputError, match=r"must be a JSON list; this is a plan file"):
        read_json_list(files["plan"])
    with pytest.raises(InputError, match=r"or a bookings file; this is an events file"):
        load_plan_or_bookings(files["events"])


def test_recognise_tells_each_kind_by_its_own_fields(files: dict[str, str]) -> None:
    kinds = {name: getattr(file_kind(path), "kind", None) for name, path in files.items()}
    assert kinds == {
        "clinic": "clinic",
        "patient": "patient",
        "plan": "plan",
        "protocol": "protocol",
        "roster": "roster",
        "events": "events",
        "bookings": "bookings",
        "bundle": "fhir",
        "ics": "ics",
    }
    assert recognise({"id": "x"}) is None  # nothing to tell it by
    assert recognise([]) is None
    assert detect_kind({"id": "p-1", "medications": []}) == "patient"
    # A file with fields of its own kind and a stray one of another is its own kind.
    found = recognise({"opening_hours": {}, "medications": []}, expected=("clinic",))
    assert found is not None
    assert found.kind == "clinic"
