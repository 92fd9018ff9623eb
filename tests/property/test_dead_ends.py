"""The search remembers dead ends (issue 18): the same plans, found without exponential work.

A depth-first search that fails many sessions after its last real choice used to try every
arrangement of the sessions between, up to its budget of 20,000 candidate days (a patient free
four weekdays with a fortnight's blackout in maintenance: two seconds, then an error about the
wrong session). Remembering the states it found hopeless (``ketaplan._planning.dead_ends``)
must never change a plan: these tests hold every plan and every error equal to the search
without the memory, wherever that search finished within its budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ketaplan import Patient, Plan, Protocol, load_protocol, plan, strategies
from ketaplan._planning import search
from ketaplan._planning.dead_ends import DeadEnds
from ketaplan.defaults import demo_clinic
from ketaplan.errors import UnsatisfiableError
from ketaplan.replanning import Cancelled, Missed, replan

#: A smaller budget for the comparison, so that an input the plain search cannot finish
#: costs little; both searches get the same one.
_BUDGET = 3_000


class _Counted:
    """Candidate days tried, and whether a search ran out of its budget."""

    def __init__(self) -> None:
        self.days = 0
        self.ran_out = False


@contextmanager
def _searching(*, remember: bool, budget: int = search.MAX_EVALUATIONS) -> Iterator[_Counted]:
    counted = _Counted()
    real = search.Search.count_evaluation

    def count(self: search.Search, *args: Any) -> None:
        counted.days += 1
        try:
            real(self, *args)
        except UnsatisfiableError:
            counted.ran_out = True
            raise

    with (
        mock.patch.object(search, "MAX_EVALUATIONS", budget),
        mock.patch.object(search.Search, "count_evaluation", count),
        mock.patch.object(DeadEnds, "add", DeadEnds.add if remember else lambda *_: None),
    ):
        yield counted


def _outcome(protocol: Protocol, **inputs: Any) -> str:
    """The plan as JSON, or the error's message: what a user gets."""
    try:
        made: Plan = plan(protocol, **inputs)
    except UnsatisfiableError as error:
        return f"error: {error}"
    return made.model_dump_json(exclude={"id"})  # a plan without a patient gets a random id


def _compare(inputs: dict[str, Any]) -> tuple[_Counted, _Counted]:
    """The outcomes without and with memory (equal when the first finished), and their days."""
    with _searching(remember=False, budget=_BUDGET) as plain:
        expected = _outcome(**inputs)
    with _searching(remember=True, budget=_BUDGET) as remembering:
        got = _outcome(**inputs)
    if not plain.ran_out:  # the plain search finished: the memory changes nothing but the work
        assert got == expected
        assert not remembering.ran_out
        assert remembering.days <= plain.days
    # Else an attempt that ran out may end otherwise (pause, then resume from a later first
    # day), and the attempts after it need not be the same ones: no comparison holds.
    return plain, remembering


@settings(max_examples=40)
@given(st.data())
def test_plans_and_errors_are_those_of_the_search_without_memory(data: st.DataObject) -> None:
    # Patients free on few weekdays and with blackouts make the search back up; generated
    # protocols bring cadences and rules the built-ins do not have.
    protocol = data.draw(strategies.protocols(), label="protocol")
    clinic = data.draw(strategies.clinics(), label="clinic")
    start = data.draw(strategies.start_dates(), label="start")
    patient = data.draw(
        st.none() | strategies.patients(availability=True, relative_to=start, protocol=protocol),
        label="patient",
    )
    on_conflict = data.draw(st.sampled_from(["raise", "shift"]), label="on_conflict")
    _compare(
        {
            "protocol": protocol,
            "start": start,
            "clinic": clinic,
            "patient": patient,
            "until": start + dt.timedelta(days=data.draw(st.integers(30, 240), label="days")),
            "on_conflict": on_conflict,
            "now": dt.datetime.combine(start, dt.time(), dt.UTC) - dt.timedelta(days=7),
        }
    )


@settings(max_examples=30)
@given(st.data())
def test_re_plans_are_those_of_the_search_without_memory(data: st.DataObject) -> None:
    # A re-plan keeps the past (attended, missed, cancelled sessions, a course before a
    # re-induction) in the chain the search goes on from: the states hold it too.
    protocol = data.draw(strategies.protocols(builtin=True), label="protocol")
    clinic = data.draw(strategies.clinics(), label="clinic")
    start = data.draw(strategies.start_dates(), label="start")
    patient = data.draw(st.none() | strategies.patients(availability=True), label="patient")
    now = dt.datetime.combine(start, dt.time(), dt.UTC) - dt.timedelta(days=7)
    try:
        made = plan(protocol, start=start, clinic=clinic, patient=patient, now=now,
                    until=start + dt.timedelta(days=200), on_conflict="shift")  # fmt: skip
    except UnsatisfiableError:
        assume(False)
    doses = [a for a in made.appointments if a.is_dose]
    assume(len(doses) > 1)
    missed = data.draw(st.sampled_from(doses[1:]), label="missed")
    event_type = data.draw(st.sampled_from([Missed, Cancelled]), label="event")
    as_of = missed.end + dt.timedelta(hours=data.draw(st.integers(1, 24 * 20), label="hours"))

    def again() -> str:
        try:
            return replan(made, as_of=as_of, events=[event_type(appointment=missed.id)],
                          clinic=clinic, patient=patient,
                          on_conflict="shift").model_dump_json(exclude={"id"})  # fmt: skip
        except UnsatisfiableError as error:
            return f"error: {error}"

    with _searching(remember=False, budget=_BUDGET) as plain:
        expected = again()
    with _searching(remember=True, budget=_BUDGET) as remembering:
        got = again()
    if not plain.ran_out:
        assert got == expected
        assert remembering.days <= plain.days


@pytest.mark.parametrize("protocol", ["esketamine-trd", "iv-ketamine-standard", "iv-ketamine-pain"])
@pytest.mark.parametrize("weekdays", [("tue", "wed", "fri"), ("mon", "thu"), ("wed",)])
def test_built_ins_for_patients_free_on_few_days_plan_as_before(
    protocol: str, weekdays: tuple[str, ...]
) -> None:
    patient = _patient(weekdays, blackout=(dt.date(2027, 3, 1), dt.date(2027, 3, 12)))
    start = dt.date(2026, 12, 1)
    plain, remembering = _compare(
        {
            "protocol": load_protocol(protocol),
            "start": start,
            "clinic": demo_clinic(),
            "patient": patient,
            "until": start + dt.timedelta(days=240),
            "now": dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC),
        }
    )
    assert remembering.days < plain.days  # each of these backs up into a state seen before


def test_a_blackout_no_gap_can_bridge_is_found_without_running_out_of_days() -> None:
    # Found by the property-throughput benchmark: a patient free Tuesday to Friday afternoons
    # with 15 days of blackout in esketamine maintenance, whose gap is at most 17 days (and
    # the next Monday is not a day the patient is free). No plan exists. The search without
    # memory ran through its 20,000 candidate days twice (about two seconds) and blamed the
    # session where its budget ended; with it, the search finishes and names the session
    # whose every day the blackout covers.
    patient = _patient(
        ("tue", "wed", "thu", "fri"),
        blackout=(dt.date(2029, 3, 31), dt.date(2029, 4, 14)),
        hours=(dt.time(12), dt.time(19)),
    )
    protocol = load_protocol("esketamine-trd")
    inputs: dict[str, Any] = {
        "start": dt.date(2028, 12, 4),
        "clinic": demo_clinic(),
        "patient": patient,
        "until": dt.date(2029, 6, 2),
        "now": dt.datetime(2028, 12, 4, 5, tzinfo=dt.UTC),
    }
    ran_out = pytest.raises(UnsatisfiableError, match="search stopped after trying")
    with _searching(remember=False) as plain, ran_out:
        plan(protocol, **inputs)
    assert plain.ran_out
    with _searching(remember=True) as remembering, pytest.raises(UnsatisfiableError) as raised:
        plan(protocol, **inputs)
    assert not remembering.ran_out
    assert remembering.days < plain.days / 2
    message = str(raised.value)
    assert "session 5 of phase 'maintenance'" in message
    assert message.count("patient unavailable") == 4  # Tue 10 to Fri 13 April 2029


def _patient(
    weekdays: tuple[str, ...],
    *,
    blackout: tuple[dt.date, dt.date],
    hours: tuple[dt.time, dt.time] = (dt.time(8), dt.time(17)),
) -> Patient:
    opening = [{"start": hours[0].isoformat("minutes"), "end": hours[1].isoformat("minutes")}]
    return Patient.model_validate(
        {
            "id": "few-days",
            "availability": dict.fromkeys(weekdays, opening),
            "blackouts": [{"start": blackout[0], "end": blackout[1]}],
            "enrollments": ["spravato-rems"],
        }
    )
