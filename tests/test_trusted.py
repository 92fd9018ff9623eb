"""The planner builds its own results without validating them again (issue 18).

``Model.trusted`` skips pydantic's validation for values the engine computed itself: the
appointments, resource spans, instructions, bookings and tasks of a plan. These tests hold the
shortcut to what the validating constructor would make, so skipping the validation never lets a
wrong value through.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest

from ketaplan import Plan, builtin_protocols
from ketaplan._model import Model
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.errors import UnsatisfiableError
from ketaplan.plans import Appointment, Instruction, ResourceSpan
from tests.helpers import plan

_START = dt.date(2026, 12, 1)


def _plans() -> list[Plan]:
    clinic, patient = demo_clinic(), demo_patient()
    made = []
    for protocol in builtin_protocols():
        made.append(plan(protocol, start=_START, clinic=clinic, until=_START + dt.timedelta(365)))
        with contextlib.suppress(UnsatisfiableError):  # the demo patient travels in January
            made.append(plan(protocol, start=_START, clinic=clinic, patient=patient))
    return made


def _models(made: Plan) -> list[Model]:
    found: list[Model] = [*made.appointments, *made.tasks, *made.bookings()]
    for appointment in made.appointments:
        found += [*appointment.resources, *appointment.instructions]
    return found


@pytest.mark.parametrize("made", _plans(), ids=lambda p: f"{p.protocol}-{p.patient or 'none'}")
def test_every_model_the_planner_builds_is_what_validation_would_build(made: Plan) -> None:
    # Issue 18: appointments, spans, instructions, bookings and tasks are built with
    # Model.trusted; validated afresh, each is equal, with the same fields set and the same JSON.
    for model in _models(made):
        given = {name: getattr(model, name) for name in model.model_fields_set}
        validated = type(model)(**given)
        assert validated == model
        assert validated.model_fields_set == model.model_fields_set
        assert validated.model_dump_json() == model.model_dump_json()
    assert Plan.model_validate_json(made.model_dump_json()) == made


def test_trusted_fills_defaults_as_the_constructor_does() -> None:
    at = dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
    text = "Arrange your ride home."
    trusted = Instruction.trusted(kind="escort", text=text, at=at)
    validated = Instruction(kind="escort", text=text, at=at)
    assert trusted == validated
    assert trusted.until is None
    assert trusted.model_fields_set == validated.model_fields_set == {"kind", "text", "at"}


def test_trusted_refuses_a_field_the_model_does_not_have_or_lacks() -> None:
    # Issue 18: a typo in the engine must not make a model silently missing a field.
    at = dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
    with pytest.raises(TypeError, match=r"unknown \['colour'\]"):
        ResourceSpan.trusted(resource="chair", start=at, end=at, colour="red")
    with pytest.raises(TypeError, match=r"missing \['end'\]"):
        ResourceSpan.trusted(resource="chair", start=at)


def test_a_user_built_appointment_is_still_validated() -> None:
    # Issue 18: only the planner's own values skip validation; the public constructor checks.
    with pytest.raises(ValueError, match="index"):
        Appointment(
            id="x",
            kind="dosing",
            session="s",
            name="S",
            phase="p",
            index=0,
            start=dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC),
            end=dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC),
            time_zone="UTC",
            location="clinic",
            rule="r",
            reason="r",
        )
