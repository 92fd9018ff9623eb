"""A number where a date, a date-time or a time of day is due: refused, never read as seconds.

pydantic's lax mode reads a number as Unix seconds: an events file with ``"made_at": 5`` was read
as 1970-01-01T00:00:05Z, a date of ``0`` as 1970-01-01, a time of day of ``32400`` as 09:00 UTC;
a mistake became data without a word. Every date, date-time and time field of every ketaplan
model refuses a number (a bool, and text of digits only) with ketaplan's error naming the field.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import pkgutil
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import AwareDatetime

import ketaplan
from ketaplan import Booking, load_protocol
from ketaplan._model import Model
from ketaplan.cli import main
from ketaplan.errors import ClinicError, DefinitionError, InputError, PatientError
from ketaplan.hours import DateRange, TimeRange
from ketaplan.loading import loads_clinic, loads_patient
from ketaplan.patient import Medication
from ketaplan.replanning import parse_events

from .helpers import plan

#: What each kind of field says of a number, up to the example.
SAID = {
    "datetime": "must be a date-time written as text, like 2026-12-01T09:00:00+01:00",
    "date": "must be a date written as text, like 2026-12-01",
    "time": "must be a time of day written as text, like 09:00",
}

_MWF = load_protocol("iv-ketamine-mwf")

_TEMPORAL: dict[object, str] = {
    dt.datetime: "datetime",
    AwareDatetime: "datetime",
    dt.date: "date",
    dt.time: "time",
}


def _kind(annotation: object) -> str | None:
    """``datetime``, ``date`` or ``time`` for such a type (inside Annotated), else None."""
    while get_args(annotation) and hasattr(annotation, "__metadata__"):
        annotation = get_args(annotation)[0]
    return _TEMPORAL.get(annotation)


def _leaf(annotation: object) -> tuple[str, bool] | None:
    """The kind of a temporal field and whether it is a tuple of them; None for any other."""
    kind = _kind(annotation)
    if kind is not None:
        return kind, False
    args = [a for a in get_args(annotation) if a is not type(None) and a is not Ellipsis]
    if get_origin(annotation) in (Union, types.UnionType) and len(args) == 1:
        return _leaf(args[0])
    if get_origin(annotation) is tuple and len(args) == 1 and _kind(args[0]) is not None:
        return str(_kind(args[0])), True
    return None


def _every_model() -> list[type[Model]]:
    for found in pkgutil.walk_packages(ketaplan.__path__, "ketaplan."):
        if not found.name.endswith("__main__"):
            importlib.import_module(found.name)
    seen: set[type[Model]] = set()
    stack = list(Model.__subclasses__())
    while stack:
        model = stack.pop()
        if model not in seen:
            seen.add(model)
            stack += model.__subclasses__()
    return sorted(seen, key=lambda m: (m.__module__, m.__qualname__))


def _temporal_fields() -> list[tuple[type[Model], str, str, bool]]:
    fields = []
    for model in _every_model():
        for name, info in model.model_fields.items():
            leaf = _leaf(info.annotation)
            if leaf is not None:
                fields.append((model, name, *leaf))
    return fields


FIELDS = _temporal_fields()


def test_the_fields_are_found() -> None:
    """The walk finds fields of each kind, in inputs and in reports alike."""
    names = {f"{model.__name__}.{name}" for model, name, _, _ in FIELDS}
    assert {"Cancelled.made_at", "Booking.start", "Plan.start", "DateRange.start",
            "TimeRange.start", "QuietHours.end", "Medication.times", "RosterEntry.time",
            "RunSheet.day", "PatientStatus.as_of", "Alternative.start"} <= names  # fmt: skip
    assert {kind for _, _, kind, _ in FIELDS} == {"datetime", "date", "time"}


@pytest.mark.parametrize(
    "value", [0, 5, 1.5, 1796630400, True, "5", "-1.5", b"0", "1.5e9", "+1.7645472E+9"]
)
@pytest.mark.parametrize(
    ("model", "name", "kind", "many"),
    FIELDS,
    ids=[f"{model.__name__}.{name}" for model, name, _, _ in FIELDS],
)
def test_every_date_and_time_field_refuses_a_number(
    model: type[Model], name: str, kind: str, many: bool, value: object
) -> None:
    with pytest.raises(DefinitionError) as raised:
        model.model_validate({name: [value] if many else value})
    path = f"{name}[0]" if many else name
    said = {problem.path: problem for problem in raised.value.problems}
    assert path in said, raised.value
    problem = said[path]
    tail = "" if isinstance(value, bool) else ", not a number"
    assert (problem.message, problem.value) == (SAID[kind] + tail, value)


def test_values_of_their_own_type_and_iso_text_keep_working() -> None:
    moment = dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
    for start in (moment, "2026-12-07T09:00:00+00:00", "2026-12-07T09:00:00Z"):
        end = moment + dt.timedelta(hours=1)
        booking = Booking.model_validate({"start": start, "end": end, "resource": "chair"})
        assert booking.start == moment
    for day in (dt.date(2026, 12, 1), "2026-12-01"):
        assert DateRange.model_validate({"start": day}).start == dt.date(2026, 12, 1)
    for clock in (dt.time(9), "09:00", "09:00:00"):
        ranged = TimeRange.model_validate({"start": clock, "end": "10:00"})
        assert ranged.start == dt.time(9)
        taken = Medication.model_validate({"name": "x", "times": [clock]})
        assert taken.times == (dt.time(9),)


def test_toml_native_dates_and_times_are_read_and_integers_refused() -> None:
    """TOML has dates and times of its own: they are read; an integer is not a date."""
    good = 'id = "p-1"\n[[blackouts]]\nstart = 2026-12-01\n[[medications]]\nname = "x"\n'
    assert loads_patient(good + "times = [09:00:00]\n").medications[0].times == (dt.time(9),)
    with pytest.raises(PatientError) as raised:
        loads_patient(
            'id = "p-1"\n[[blackouts]]\nstart = 0\n[[medications]]\nname = "x"\n'
            "times = [32400]\nstart = 20261201\n",
            origin="who.toml",
        )
    assert [str(problem) for problem in raised.value.problems] == [
        f"who.toml: blackouts[0].start: {SAID['date']}, not a number; got 0",
        f"who.toml: medications[0].times[0]: {SAID['time']}, not a number; got 32400",
        f"who.toml: medications[0].start: {SAID['date']}, not a number; got 20261201",
    ]
    clinic = (
        'id = "c-1"\nname = "C"\ntime_zone = "UTC"\n[opening_hours]\n'
        "mon = [{start = 32400, end = 61200}]\n[[closures]]\nstart = 2026-12-24\n"
    )
    with pytest.raises(ClinicError) as refused:
        loads_clinic(clinic)
    assert [p.path for p in refused.value.problems] == [
        "opening_hours.mon[0].start",
        "opening_hours.mon[0].end",
    ]


def test_an_event_read_from_data_with_a_number_names_it() -> None:
    with pytest.raises(InputError) as raised:
        parse_events([{"type": "cancelled", "appointment": "induction-2", "made_at": 5}])
    assert str(raised.value) == f"events[0].made_at: {SAID['datetime']}, not a number; got 5"


@pytest.mark.parametrize(
    ("event", "said"),
    [
        ({"type": "cancelled", "appointment": "induction-2", "made_at": 5},
         f"made_at: {SAID['datetime']}, not a number; got 5"),
        ({"type": "attended", "appointment": "induction-1", "at": 1796630400},
         f"at: {SAID['datetime']}, not a number; got 1796630400"),
        ({"type": "assessed", "scale": "GAD-7", "score": 3, "on": 0},
         f"on: {SAID['date']}, not a number; got 0"),
        ({"type": "attended", "appointment": "induction-1", "at": True},
         f"at: {SAID['datetime']}; got True"),
    ],
    ids=["made_at", "at", "on", "bool"],
)  # fmt: skip
def test_an_events_file_with_a_number_for_a_time_is_one_line_and_exit_2(
    event: dict[str, Any], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = tmp_path / "plan.json"
    made.write_text(
        plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 7)).model_dump_json()
    )
    events = tmp_path / "events.json"
    events.write_text(json.dumps([event]))
    args = ["replan", str(made), "--as-of", "2026-12-08T10:00", "--events", str(events)]
    assert main(args, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err == f"ketaplan: error: {events}[0].{said}\n"


def test_a_fhir_time_that_is_a_number_is_refused() -> None:
    """The FHIR models read a number as Unix seconds too: a busy time in 1970, without a word."""
    fhir = pytest.importorskip("ketaplan.fhir")
    slot = {"resourceType": "Slot", "schedule": {"reference": "Schedule/1"}, "status": "busy",
            "start": 5, "end": "2026-12-07T10:00:00-05:00"}  # fmt: skip
    with pytest.raises(DefinitionError) as raised:
        fhir.bookings_from_fhir(
            json.dumps(slot),
            start=dt.date(1969, 12, 1),
            end=dt.date(2026, 12, 31),
            resource="chair",
        )
    assert [str(p) for p in raised.value.problems] == [
        f"<string>: entry[0].resource.start: {SAID['datetime']}, not a number; got 5"
    ]
