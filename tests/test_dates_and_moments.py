"""A date and time where a day is due, or a day alone where a moment is due: ketaplan's words.

A roster's ``start = 2026-12-01T09:00:00`` was refused in pydantic's words ("Datetimes provided
to dates should have zero time - e.g. be exact dates"), not ketaplan's (review); a booking's or
a patient's appointment's ``start = 2026-12-08`` said "must have a UTC offset", as if a time
were there; a FHIR busy time's said "Value error, Instant value string does not match spec
regex.". Every date field and every moment field of every model (``_problems``, one place),
and the start and end of a FHIR busy time, now say the field, what is due and the value.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ketaplan._model import Model
from ketaplan.errors import DefinitionError

from .test_cli import ketaplan
from .test_times_as_numbers import FIELDS

NOT_A_MOMENT = "must be a date (YYYY-MM-DD), not a date and time"
NOT_A_DAY = (
    "must be a date and time with a UTC offset, not a date alone, e.g. 2026-12-07T09:00:00-05:00"
)

DAYS = [(model, name, many) for model, name, kind, many in FIELDS if kind == "date"]
#: Results ketaplan writes and never reads from a file, whose moments are plain datetimes.
_WRITTEN_ONLY = {"Alternative", "Change", "DayEvent"}
#: The forms of a date and time at midnight each date field is given (below).
_MIDNIGHT_KINDS = ("toml", "toml-with-offset", "json", "json-utc", "json-space", "bytes")
MOMENTS = [
    (model, name, many)
    for model, name, kind, many in FIELDS
    if kind == "datetime" and model.__name__ not in _WRITTEN_ONLY
]


def _each(fields: list[tuple[type[Model], str, bool]]) -> pytest.MarkDecorator:
    """A test run for each of ``fields`` (a model, a field's name, whether it holds a list)."""
    return pytest.mark.parametrize(
        ("model", "name", "many"), fields, ids=[f"{m.__name__}.{n}" for m, n, _ in fields]
    )


#: A day alone as TOML (a ``datetime.date``) and JSON (ISO text) give it.
_A_DAY_ALONE = pytest.mark.parametrize(
    "value", [dt.date(2026, 12, 1), "2026-12-01"], ids=["toml", "json"]
)


def _problem(model: type[Model], name: str, many: bool, value: object) -> tuple[str, object]:
    with pytest.raises(DefinitionError) as raised:
        model.model_validate({name: [value] if many else value})
    path = f"{name}[0]" if many else name
    said = {problem.path: problem for problem in raised.value.problems}
    assert path in said, raised.value
    return said[path].message, said[path].value


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 1, 9, 30),  # TOML's start = 2026-12-01T09:30:00
        dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
        "2026-12-01T09:30:00",  # JSON's
        # At midnight too: pydantic read these as the day (any other time was refused), so a
        # roster's `start = 2026-12-01T00:00:00` was 1 December where a day was due (review).
        dt.datetime(2026, 12, 1),
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        "2026-12-01T00:00:00",
        "2026-12-01T00:00:00Z",
        "2026-12-01 00:00",
        b"2026-12-01T00:00:00+05:00",
    ],
    ids=["toml", "toml-with-offset", "json", *(f"midnight-{kind}" for kind in _MIDNIGHT_KINDS)],
)
@_each(DAYS)
def test_every_date_field_refuses_a_date_and_time_in_ketaplan_s_words(
    model: type[Model], name: str, many: bool, value: object
) -> None:
    assert _problem(model, name, many, value) == (NOT_A_MOMENT, value)


@_A_DAY_ALONE
@_each(MOMENTS)
def test_every_moment_field_refuses_a_day_alone_in_ketaplan_s_words(
    model: type[Model], name: str, many: bool, value: object
) -> None:
    assert _problem(model, name, many, value) == (NOT_A_DAY, value)


def test_the_fields_are_found() -> None:
    names = {f"{model.__name__}.{name}" for model, name, _ in DAYS + MOMENTS}
    assert {"RosterEntry.start", "DateRange.start", "Plan.start", "Medication.start",
            "Booking.start", "Appointment.start", "Cancelled.made_at"} <= names  # fmt: skip


def test_a_date_and_time_at_midnight_is_refused_too() -> None:
    (model, name, many) = next(item for item in DAYS if item[0].__name__ == "RosterEntry")
    assert _problem(model, name, many, dt.datetime(2026, 12, 1)) == (
        NOT_A_MOMENT,
        dt.datetime(2026, 12, 1),
    )


@_A_DAY_ALONE
@_each(DAYS)
def test_every_date_field_still_reads_a_date(
    model: type[Model], name: str, many: bool, value: object
) -> None:
    """TOML's dates (a ``datetime.date``) and JSON's ISO dates are read as before."""
    path = f"{name}[0]" if many else name
    try:
        model.model_validate({name: [value] if many else value})
    except DefinitionError as err:
        problems = [p for p in err.problems if p.path.startswith(path)]
    else:
        problems = []
    assert problems == []


def test_a_roster_s_start_written_as_a_date_and_time(tmp_path: Path) -> None:
    """The review's case, through `validate` and `clinic plan`: one line, exit 2."""
    roster = tmp_path / "roster.toml"
    roster.write_text(
        'clinic = "demo"\n[[patients]]\nid = "p-1"\nprotocol = "iv-ketamine-mwf"\n'
        "start = 2026-12-01T09:00:00\n",
        encoding="utf-8",
    )
    line = f"{roster}: patients[0].start: {NOT_A_MOMENT}; got datetime.datetime(2026, 12, 1, 9, 0)"
    result = ketaplan("validate", str(roster))
    assert (result.returncode, result.stderr) == (2, line + "\n")
    result = ketaplan("clinic", "plan", str(roster), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr == f"ketaplan: error: invalid definition: 1 problem\n  {line}\n"


def test_a_patient_s_appointment_written_as_a_day(tmp_path: Path) -> None:
    patient = tmp_path / "patient.toml"
    patient.write_text(
        'id = "p-1"\n[[appointments]]\nstart = 2026-12-08\nend = 2026-12-08T11:00:00-05:00\n',
        encoding="utf-8",
    )
    result = ketaplan("validate", str(patient))
    assert result.returncode == 2
    assert result.stderr == (
        f"{patient}: appointments[0].start: {NOT_A_DAY}; got datetime.date(2026, 12, 8)\n"
    )


def test_a_fhir_busy_time_written_as_a_day(tmp_path: Path) -> None:
    pytest.importorskip("ketaplan.fhir.reading")
    busy = tmp_path / "ehr.json"
    appointment = {"resourceType": "Appointment", "status": "booked", "start": "2026-12-08",
                   "end": "2026-12-08T11:00:00-05:00",
                   "participant": [{"status": "accepted"}]}  # fmt: skip
    busy.write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection",
                    "entry": [{"resource": appointment}]}),
        encoding="utf-8",
    )  # fmt: skip
    result = ketaplan("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--busy", str(busy))
    assert result.returncode == 2
    assert result.stderr == (
        "ketaplan: error: invalid calendar file: 1 problem\n"
        f"  {busy}: entry[0].resource.start: must be a date and time with a UTC offset (a FHIR "
        "instant), e.g. 2026-12-07T09:00:00-05:00; got '2026-12-08'\n"
    )
