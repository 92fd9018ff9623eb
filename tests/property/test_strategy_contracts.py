"""ketaplan.strategies keeps its word: options are checked given or drawn, the edge dates are
real, the documented shrink targets hold, and an input that cannot be planned says why.

Each test names the fault it pins (found by a protocol author) and failed on the code before
the fix, unless its docstring says it pins what already held.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, NoSuchExample, Unsatisfiable
from hypothesis.strategies import SearchStrategy

from ketaplan import Patient, Protocol, builtin_protocol_ids, load_protocol
from ketaplan import strategies as kst
from ketaplan.defaults import demo_clinic
from ketaplan.protocol import GapSequence, PerWeek
from ketaplan.strategies import (
    ZONES,
    _edge_dates,
    bookings,
    clinics,
    gaps,
    medications,
    patients,
    phases,
    plans,
    protocols,
    start_dates,
)

#: Settings for a search that must end the same way on every machine.
FIND = settings(max_examples=500, database=None, derandomize=True)
ONCE = settings(max_examples=1, database=None)


def first(strategy: SearchStrategy[Any]) -> Any:
    """The first value ``strategy`` draws (so a drawn option is checked)."""
    return find(strategy, lambda _: True, settings=ONCE)


def simplest(strategy: SearchStrategy[Any]) -> Any:
    """The value ``strategy`` shrinks to."""
    return find(strategy, lambda _: True, settings=FIND)


# -- every option is checked, given or drawn, against the same bounds --------------------------

_ZONE = (
    "must be an IANA time zone of a place, such as 'America/New_York', or 'UTC' "
    "('EST' is a legacy or fixed-offset name: use 'America/New_York')"
)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        # a drawn value of the wrong kind: a raw AttributeError at the planner before
        (lambda: first(plans(protocol="iv-ketamine-standard", clinic=st.just("demo"))),  # type: ignore[arg-type]
         "clinic='demo': must be a strategy of clinics"),
        (lambda: first(plans(protocol=st.just("esketamine-trd"), clinic=demo_clinic())),  # type: ignore[arg-type]
         "protocol='esketamine-trd': must be a strategy of protocols"),
        (lambda: first(plans(protocol="iv-ketamine-mwf", clinic=demo_clinic(),
                             patient=st.just("p-1"))),  # type: ignore[arg-type]
         "patient='p-1': must be a strategy of patients (or of None)"),
        (lambda: first(patients(relative_to=dt.date(2026, 3, 2), protocol="esketamine-trd",
                                clinic=st.just("demo"))),  # type: ignore[arg-type]
         "clinic='demo': must be a strategy of clinics (or of None)"),
        # a drawn value out of the bounds a given one must meet
        (lambda: first(clinics(chairs=st.just(0))), "chairs=0: must be 1 to 500"),
        (lambda: first(clinics(time_zone=st.just("EST"))), f"time_zone='EST': {_ZONE}"),
        # a value that passed the option check and then failed every draw
        (lambda: clinics(time_zone="EST"), f"time_zone='EST': {_ZONE}"),
        (lambda: phases(session="Dose kind"),
         "session='Dose kind': must be a session kind id (lower-case letters, digits and '-')"),
        (lambda: medications(names=["lorazepam", "  "]),
         "names=['lorazepam', '  ']: must be a non-empty list of drug names"),
        # a plain value of the wrong type
        (lambda: medications(names="lorazepam"),
         "names='lorazepam': must be a non-empty list of drug names (a string is not a list)"),
        (lambda: clinics(time_zone=5),  # type: ignore[arg-type]
         "time_zone=5: must be an IANA zone name or a strategy of them"),
        (lambda: clinics(chairs="2"), "chairs='2': must be 1 to 500"),  # type: ignore[arg-type]
        (lambda: clinics(chairs=True), "chairs=True: must be 1 to 500"),
        (lambda: gaps(min_days=True), "min_days=True: must be an int >= 1"),
        (lambda: phases(per_week=1),  # type: ignore[arg-type]
         "per_week=1: must be None, True or False"),
        (lambda: phases(open_ended=0),  # type: ignore[arg-type]
         "open_ended=0: must be None, True or False"),
        (lambda: protocols(builtin=1),  # type: ignore[arg-type]
         "builtin=1: must be None, True or False"),
        (lambda: patients(availability=0),  # type: ignore[arg-type]
         "availability=0: must be None, True or False"),
        (lambda: patients(max_medications=True), "max_medications=True: must be an int from 0"),
        (lambda: bookings(clinic=demo_clinic(), days=True), "days=True: must be 1 to 1098"),
        (lambda: plans(until_days=True), "until_days=True: must be 1 to 1830"),
    ],
)  # fmt: skip
def test_every_option_is_checked_given_or_drawn(build: Callable[[], object], message: str) -> None:
    """Fault 1: a drawn value was not checked (an AttributeError, or clinics with no chair), a
    plain value of the wrong type was used (``names="lorazepam"`` drew 'l', 'o', ...), and a
    zone the option check let through failed every draw with ClinicError."""
    with pytest.raises(InvalidArgument) as caught:
        build()
    assert str(caught.value).startswith(message)


_SAME_BOUNDS: list[tuple[Callable[[Any], SearchStrategy[Any]], list[object]]] = [
    (lambda chairs: clinics(chairs=chairs), [0, -1, 501, True, "2", 1.0]),
    (lambda zone: clinics(time_zone=zone), ["EST", "Mars/Base", "US/Eastern", "", 5]),
    (lambda day: bookings(clinic=demo_clinic(), start=day), [dt.date(1, 1, 1), "2026-01-05"]),
    (lambda day: plans(protocol="iv-ketamine-mwf", start=day), [dt.date(9999, 12, 1)]),
    (lambda day: patients(relative_to=day, protocol="iv-ketamine-mwf"), [dt.datetime(2026, 1, 5)]),
]


@pytest.mark.parametrize(("build", "bad"), _SAME_BOUNDS)
def test_a_drawn_option_meets_the_bounds_of_a_given_one(
    build: Callable[[Any], SearchStrategy[Any]], bad: list[object]
) -> None:
    """Fault 1: ``clinics(chairs=st.just(0))`` drew clinics with no chair while ``chairs=0``
    was refused. A value refused when given is refused when drawn, in the same words (the
    wrong type is said as 'a ... or a strategy of them' when given). The date options already
    held; the chairs and time_zone rows failed."""
    for value in bad:
        with pytest.raises(InvalidArgument) as given_:
            first(build(value))
        with pytest.raises(InvalidArgument) as drawn:
            first(build(st.just(value)))
        assert str(drawn.value).split(": must be ")[0] == str(given_.value).split(": must be ")[0]
        if "strategy" not in str(given_.value):
            assert str(drawn.value) == str(given_.value)


# -- start dates: the real offset changes of every zone and year --------------------------------


def _changes(zone: str, year: int) -> set[dt.date]:
    """The local days on which ``zone``'s UTC offset changes in ``year``: an hourly scan."""
    tz = zoneinfo.ZoneInfo(zone)
    moment = dt.datetime(year, 1, 1, tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=1)
    found = set()
    while moment < end:
        later = moment + dt.timedelta(hours=1)
        if moment.astimezone(tz).utcoffset() != later.astimezone(tz).utcoffset():
            found.add(later.astimezone(tz).date())
        moment = later
    return {day for day in found if day.year == year}


YEARS = range(2026, 2036)
FIRST, LAST = dt.date(YEARS[0], 1, 1), dt.date(YEARS[-1], 12, 31)


def _month_end_or_christmas_eve(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1 or (day.month, day.day) == (12, 24)


def test_every_edge_date_is_within_a_day_of_a_real_offset_change() -> None:
    """Fault 2: the DST edges were 2026's change days reused every year, so from 2027 on none
    was a change day. Each edge date that is not a month end or Christmas Eve is within a day
    of an offset change in one of ZONES, and every change of every year has its three days."""
    edges = set(_edge_dates(FIRST, LAST))
    near: set[dt.date] = set()
    for zone in ZONES:
        for year in YEARS:
            for change in _changes(zone, year):
                days = {change + dt.timedelta(days=k) for k in (-1, 0, 1)}
                assert days <= edges, (zone, change)
                near |= days
    assert not {d for d in edges if not _month_end_or_christmas_eve(d)} - near
    assert dt.date(2027, 3, 14) in edges  # New York springs forward
    assert dt.date(2029, 10, 7) in edges  # Sydney springs forward
    assert dt.date(2027, 3, 8) not in edges  # 2026's day, a Monday in 2027


def test_about_half_the_dates_are_edge_dates_when_the_test_draws_more() -> None:
    """Fault 2: each date is an edge date or any date with equal chance. This already held: the
    fault was the docs' "half", which did not say that Hypothesis, running no case twice, runs
    out of edge dates in a test that draws nothing else (10 % of 2,000 such dates)."""
    edges = set(_edge_dates(dt.date(2026, 1, 1), dt.date(2029, 12, 31)))
    seen: list[dt.date] = []

    @settings(max_examples=600, database=None, derandomize=True)
    @given(start_dates(), st.integers(0, 10**9))
    def record(day: dt.date, _: int) -> None:
        seen.append(day)

    record()
    share = sum(day in edges for day in seen) / len(seen)
    assert 0.4 <= share <= 0.7, share


# -- the documented shrink targets ---------------------------------------------------------------


def test_gaps_shrink_to_a_window_of_exactly_min_days() -> None:
    """Fault 3: ``gaps(min_days=3)`` shrank to an absolute minimum of 2."""
    for low in (1, 3, 7):
        gap = simplest(gaps(min_days=low))
        assert (gap.absolute_minimum, gap.minimum, gap.target, gap.maximum) == (low,) * 4


@settings(max_examples=200, database=None, derandomize=True)
@given(st.data())
def test_every_bound_of_a_gap_is_from_min_days_to_max_days(data: st.DataObject) -> None:
    """Fault 3: the absolute minimum could be drawn below ``min_days``."""
    low = data.draw(st.integers(1, 30))
    high = data.draw(st.integers(low, 60))
    gap = data.draw(gaps(min_days=low, max_days=high))
    assert low <= gap.absolute_minimum <= gap.minimum <= gap.target <= gap.maximum <= high


def test_phases_shrink_to_min_count_sessions_with_a_gap_sequence() -> None:
    """Fault 3: phases shrank to a per-week cadence (fewer choices than a gap sequence), and
    with ``open_ended=None`` to an open-ended phase (no deadline to draw)."""
    for options in ({}, {"open_ended": None}, {"min_count": 3}, {"per_week": False}):
        phase = simplest(phases(**options))
        assert phase.count == options.get("min_count", 1), options
        assert isinstance(phase.cadence, GapSequence), options
        assert phase.within_days is None
    weekly = simplest(phases(per_week=True))
    assert isinstance(weekly.cadence, PerWeek)
    assert weekly.cadence.sessions == 1
    assert simplest(phases(open_ended=True)).count is None


def test_protocols_shrink_to_the_first_built_in_or_one_simple_phase() -> None:
    """Fault 3: generated protocols shrank to an open-ended per-week phase."""
    assert simplest(protocols()).id == builtin_protocol_ids()[0]
    generated: Protocol = simplest(protocols(builtin=False))
    assert [(p.count, type(p.cadence)) for p in generated.phases] == [(1, GapSequence)]
    assert not generated.anchored


def test_medications_shrink_to_the_first_name_at_8() -> None:
    """Fault 3: medications shrank to the first name taken as needed."""
    medication = simplest(medications())
    assert medication.name == "lorazepam"
    assert medication.times == (dt.time(8),)
    assert not medication.as_needed
    assert (medication.indication, medication.hold) == (None, None)
    assert simplest(medications(names=["sertraline", "lorazepam"])).name == "sertraline"


def test_the_other_documented_shrink_targets() -> None:
    """These already held; pinned so that they keep holding (plans() takes a minute to shrink,
    so its target is left to the docs)."""
    assert simplest(start_dates(min_value=dt.date(2027, 5, 5))) == dt.date(2027, 5, 5)
    clinic = simplest(clinics(switch_gap=True, washouts=True))
    assert (clinic.time_zone, clinic.resources.chairs) == ("America/New_York", 1)
    assert [day for day in ("mon", "sat", "sun") if clinic.opening_hours.day(day)] == ["mon"]
    assert clinic.switch_gap_days == 14
    assert [rule.stop_days_before_start for rule in clinic.medication_rules] == [14]
    patient: Patient = simplest(patients())
    assert patient.availability is None
    assert (patient.blackouts, patient.medications, patient.history) == ((), (), ())
    assert simplest(bookings(clinic=demo_clinic())) == []


# -- an input that cannot be planned ------------------------------------------------------------


def _unplannable() -> Protocol:
    """iv-ketamine-standard with 15 hours of monitoring: longer than any opening of a day."""
    data = load_protocol("iv-ketamine-standard").model_dump()
    for kind in data["session_kinds"]:
        if kind["category"] == "dosing":
            kind["timeline"]["monitoring_minutes"] = 900
    return Protocol.model_validate(data)


def test_fixed_inputs_that_cannot_be_planned_say_why() -> None:
    """Fault 4: the planner's reason was dropped for Hypothesis's "filtering out a lot of
    inputs" (or, as here, no example at all). Given as values, every draw is the same input."""
    fixed = plans(protocol=_unplannable(), clinic=demo_clinic(), patient=Patient(id="p-1"),
                  start=dt.date(2026, 12, 1))  # fmt: skip
    with pytest.raises(InvalidArgument) as caught:
        first(fixed)
    text = str(caught.value)
    assert text.startswith(
        "protocol='iv-ketamine-standard', clinic='demo-clinic', patient='p-1', "
        "start=datetime.date(2026, 12, 1): must be an input that can be planned; the planner "
        "says: cannot place iv ketamine infusion 1 of phase 'induction'"
    )
    assert "Wed 2 Dec 2026: no 955-minute span free in 08:00-18:00" in text


def test_drawn_inputs_that_cannot_be_planned_are_events_with_the_reason() -> None:
    """Fault 4: with drawn inputs each is rejected, with an event giving the planner's most
    frequent reason (``--hypothesis-show-statistics`` lists them)."""
    events: list[str] = []
    drawn = plans(protocol=_unplannable(), clinic=demo_clinic(), patient=st.none())
    quiet = settings(max_examples=5, database=None, derandomize=True,
                     suppress_health_check=list(HealthCheck))  # fmt: skip
    with (
        mock.patch.object(kst, "event", events.append),
        pytest.raises((NoSuchExample, Unsatisfiable)),
    ):
        find(drawn, lambda _: True, settings=quiet)
    assert events
    assert set(events) == {"plans(): cannot be planned: no 955-minute span free in 08:00-18:00"}
