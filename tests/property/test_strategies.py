"""ketaplan.strategies: valid values, the edge cases that break schedulers, Hypothesis style."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, find, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from ketaplan import Clinic, Patient, Plan, Protocol
from ketaplan._types import Weekday
from ketaplan.defaults import demo_clinic
from ketaplan.errors import LimitError
from ketaplan.patient import Medication
from ketaplan.protocol import GapWindow, Phase
from ketaplan.strategies import (
    _plannable_patients,
    bookings,
    clinics,
    gaps,
    made_before,
    medications,
    patients,
    phases,
    plans,
    protocols,
    start_dates,
)

FIND = settings(max_examples=2000, database=None)


@given(st.tuples(protocols(), clinics(), patients(), medications(), gaps(), phases()))
def test_every_strategy_generates_valid_models(
    models: tuple[Protocol, Clinic, Patient, Medication, GapWindow, Phase],
) -> None:
    for model in models:
        assert type(model).model_validate_json(model.model_dump_json()) == model


@given(start_dates())
def test_start_dates_are_in_range(start: dt.date) -> None:
    assert dt.date(2026, 1, 1) <= start <= dt.date(2029, 12, 31)


@settings(max_examples=10)
@given(bookings(clinic=clinics()))
def test_bookings_are_valid(found: list[object]) -> None:
    for booking in found:
        assert booking.end > booking.start  # type: ignore[attr-defined]


@settings(max_examples=10)
@given(plans())
def test_plans(made: Plan) -> None:
    assert made.doses


WEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@settings(max_examples=60)
@given(st.data())
def test_patients_plans_draws_are_available_on_three_open_days(data: st.DataObject) -> None:
    """Issue 18: ``plans()`` with ``patient`` not given draws no patient, or one whose
    availability, when restricted, covers at least three of the clinic's open days (a single
    weekday made 14 % of inputs unsatisfiable)."""
    clinic = data.draw(clinics())
    drawn = data.draw(_plannable_patients(clinic))
    if drawn is None or drawn.availability is None:
        return
    open_days = {day for day in WEEK if clinic.opening_hours.day(day)}
    available = {day for day in WEEK if drawn.availability.day(day)}
    assert len(available & open_days) >= min(3, len(open_days))


@given(st.from_type(Protocol), st.from_type(Clinic), st.from_type(Patient), st.from_type(GapWindow))
def test_registered_for_from_type(protocol: Protocol, clinic: Clinic, patient: Patient,
                                  gap: GapWindow) -> None:  # fmt: skip
    assert isinstance(protocol, Protocol)
    assert isinstance(clinic, Clinic)
    assert isinstance(patient, Patient)
    assert isinstance(gap, GapWindow)


def test_the_edge_cases_are_generated() -> None:
    leap = find(start_dates(), lambda d: (d.month, d.day) == (2, 29), settings=FIND)
    assert leap.year % 4 == 0
    spring = find(start_dates(), lambda d: d == dt.date(2026, 3, 8), settings=FIND)
    assert spring == dt.date(2026, 3, 8)  # New York springs forward
    month_end = find(start_dates(), lambda d: (d + dt.timedelta(days=1)).day == 1, settings=FIND)
    assert month_end.day >= 28
    one_chair = find(clinics(), lambda c: c.resources.chairs == 1, settings=FIND)
    assert one_chair.resources.chairs == 1

    def long_closure(clinic: Clinic) -> bool:
        return (
            bool(clinic.closures)
            and (clinic.closures[0].last - clinic.closures[0].start).days >= 13
        )

    closure = find(clinics(), long_closure, settings=FIND)
    assert closure.closures
    one_day = find(patients(), lambda p: p.availability is not None
                   and sum(1 for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                           if p.availability.day(day)) == 1, settings=FIND)  # fmt: skip
    assert one_day.availability is not None
    dst_zone = find(clinics(), lambda c: c.time_zone == "Australia/Sydney", settings=FIND)
    assert dst_zone.time_zone == "Australia/Sydney"


def test_shrink_targets() -> None:
    assert find(start_dates(), lambda d: True, settings=FIND) == dt.date(2026, 1, 1)
    simplest = find(phases(), lambda p: True, settings=FIND)
    assert simplest.count == 1
    clinic = find(clinics(), lambda c: True, settings=FIND)
    assert clinic.resources.chairs == 1
    assert clinic.time_zone == "America/New_York"
    assert find(patients(), lambda p: True, settings=FIND).availability is None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: start_dates(min_value=dt.date(2027, 1, 1), max_value=dt.date(2026, 1, 1)),
         "max_value=datetime.date(2026, 1, 1): must be on or after min_value=2027-01-01"),
        (lambda: gaps(min_days=0), "min_days=0: must be an int >= 1"),
        (lambda: gaps(max_days=999), "max_days=999: must be an int from min_days=1 to 400"),
        (lambda: phases(max_count=0), "max_count=0: must be an int from min_count=1 to 200"),
        (lambda: phases(per_week="yes"),  # type: ignore[arg-type]
         "per_week='yes': must be None, True or False"),
        (lambda: protocols(max_phases=9), "max_phases=9: must be an int from 1 to 5"),
        (lambda: clinics(chairs=0), "chairs=0: must be 1 to 500"),
        (lambda: clinics(time_zone="Mars/Base"),
         "time_zone='Mars/Base': must be an IANA time zone of a place"),
        (lambda: patients(max_medications=-1), "max_medications=-1: must be an int from 0 to 10"),
        (lambda: medications(names=[]), "names=[]: must be a non-empty list of drug names"),
        (lambda: bookings(clinic=clinics(), days=0), "days=0: must be 1 to 1098"),
        (lambda: plans(protocol="nope"), "protocol='nope': must be a built-in id"),
        (lambda: plans(until_days=0), "until_days=0: must be 1 to 1830"),
    ],
)  # fmt: skip
def test_bad_arguments_name_argument_and_value(build: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        build()  # type: ignore[operator]


_DAYS_EXPECTED = "must be a date (not a datetime) from 1900-01-01 to 2200-12-31"
_ONCE = settings(max_examples=1, database=None)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: bookings(clinic=None),  # type: ignore[arg-type]
         "clinic=None: must be a Clinic or a strategy of clinics"),
        (lambda: bookings(clinic=demo_clinic(), start=dt.date(9999, 12, 1)),
         f"start=datetime.date(9999, 12, 1): {_DAYS_EXPECTED}"),
        (lambda: find(bookings(clinic=demo_clinic(), start=st.just(dt.date(9999, 12, 1))),
                      lambda found: True, settings=_ONCE),
         f"start=datetime.date(9999, 12, 1): {_DAYS_EXPECTED}"),
        (lambda: find(bookings(clinic=st.just("demo")), lambda found: True,  # type: ignore[arg-type]
                      settings=_ONCE),
         "clinic='demo': must be a strategy of clinics"),
        (lambda: plans(start=dt.date(9999, 12, 1)),
         f"start=datetime.date(9999, 12, 1): {_DAYS_EXPECTED}"),
        (lambda: find(plans(protocol="iv-ketamine-mwf", start=st.just(dt.date(1, 1, 1))),
                      lambda found: True, settings=_ONCE),
         f"start=datetime.date(1, 1, 1): {_DAYS_EXPECTED}"),
        (lambda: plans(clinic="demo"),  # type: ignore[arg-type]
         "clinic='demo': must be a Clinic or a strategy of clinics"),
        (lambda: plans(patient=5),  # type: ignore[arg-type]
         "patient=5: must be a Patient or a strategy of patients"),
        (lambda: patients(relative_to=dt.date(1, 1, 1), protocol="iv-ketamine-mwf"),
         f"relative_to=datetime.date(1, 1, 1): {_DAYS_EXPECTED}"),
        (lambda: find(patients(relative_to=st.just(dt.date(1, 1, 1)), protocol="iv-ketamine-mwf"),
                      lambda found: True, settings=_ONCE),
         f"relative_to=datetime.date(1, 1, 1): {_DAYS_EXPECTED}"),
        (lambda: patients(clinic="demo"),  # type: ignore[arg-type]
         "clinic='demo': must be a Clinic or a strategy of clinics"),
        (lambda: start_dates(min_value=dt.date(1, 1, 1)),
         f"min_value=datetime.date(1, 1, 1): {_DAYS_EXPECTED}"),
    ],
)  # fmt: skip
def test_an_option_of_a_wrong_kind_or_a_date_too_far_is_an_invalid_argument(
    build: object, message: str
) -> None:
    """Hostile review: these raised AttributeError (a clinic of None) or OverflowError (a date
    near the end of Python's calendar), given or drawn; made_before too."""
    with pytest.raises(InvalidArgument) as caught:
        build()  # type: ignore[operator]
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "strategy",
    [
        plans(),
        patients(relative_to=start_dates(), protocol=protocols(),
                 clinic=clinics(switch_gap=True, washouts=True)),
        bookings(clinic=clinics()),
    ],
    ids=["plans, everything drawn", "patients on the rules' boundaries", "bookings"],
)  # fmt: skip
def test_drawing_the_same_examples_again_makes_no_strategy(strategy: SearchStrategy[Any]) -> None:
    """Drawing cost more than the draws: phases(), gaps(), medications(), start_dates() and
    lists offered by sampled_from() were made inside draws, a new strategy at every draw, which
    Hypothesis validates when it is first drawn (and whose source it reads, for a composite);
    a generated protocol took about 10 ms to draw, most of it making strategies. What a draw
    uses is now made once, so drawing the same examples again makes none."""

    @seed(18)
    @settings(max_examples=10, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def draw(_: object) -> None:
        pass

    draw()  # makes what the draws use
    made: list[str] = []
    original = SearchStrategy.__init__

    def counted(self: SearchStrategy[Any], *args: Any, **kwargs: Any) -> None:
        made.append(type(self).__name__)
        original(self, *args, **kwargs)

    with mock.patch.object(SearchStrategy, "__init__", counted):
        draw()
    assert made == []


def test_made_before_refuses_a_date_ketaplan_does_not_plan_in() -> None:
    expected = "start: must be a date from 1900-01-01 to 2200-12-31; got datetime.date(1, 1, 1)"
    with pytest.raises(LimitError) as caught:
        made_before(dt.date(1, 1, 1))
    assert str(caught.value) == expected
    with pytest.raises(LimitError):
        made_before(dt.date(9999, 12, 31), demo_clinic())


def test_install_hint_without_hypothesis() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n    import ketaplan.strategies\n"
        "except ImportError as err:\n    print(err)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)  # fmt: skip
    assert "pip install 'ketaplan[hypothesis]'" in result.stdout
