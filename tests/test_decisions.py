"""Issue 12: ketaplan plans what the clinician decided; it does not decide.

Each test names the finding of the clinical review it reproduces and the source behind it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ketaplan import builtin_protocol_ids, load_protocol, plan
from ketaplan.checking import check
from ketaplan.defaults import demo_clinic, demo_patient

D = dt.date


# -- Finding 1: first doses are not postponed to make the whole series fit ------------------


@pytest.mark.parametrize(
    ("protocol_id", "start", "first"),
    [
        # Spravato US PI (MDSI): 84 mg twice per week for 4 weeks; no rolling 7-day limit and
        # nothing that asks to wait for a whole series (spravato-pi-mdsi). The clinic is open on
        # Mon 21 Dec and Thu 24 Dec 2026.
        ("esketamine-mdsi", D(2026, 12, 21), D(2026, 12, 21)),
        ("esketamine-mdsi", D(2026, 12, 24), D(2026, 12, 24)),
        # Phillips 2019 / Murrough 2013: thrice weekly over about two weeks; Memorial Day (Mon
        # 25 May 2026) must not hold the first infusion back from Wed 20 May.
        ("iv-ketamine-mwf", D(2026, 5, 20), D(2026, 5, 20)),
    ],
)
def test_the_first_dose_goes_on_the_first_feasible_day(
    protocol_id: str, start: D, first: D
) -> None:
    made = plan(load_protocol(protocol_id), start=start, clinic=demo_clinic(),
                patient=demo_patient(), preferred_time=dt.time(9))  # fmt: skip
    assert made.doses[0].local_date == first
    found = check(made, clinic=demo_clinic(), patient=demo_patient())
    assert [v for v in found if v.severity == "error"] == []
    # What the calendar could not give is said: a warning in check and a note in the plan.
    if found:
        assert {v.code for v in found} <= {"week-count", "phase-deadline"}
        assert any("start policy 'earliest'" in note for note in made.notes)


def test_a_whole_series_protocol_waits_and_says_how_long_and_why() -> None:
    mdsi = load_protocol("esketamine-mdsi").model_copy(update={"start": "whole-series"})
    made = plan(mdsi, start=D(2026, 12, 21), clinic=demo_clinic(), patient=demo_patient())
    first = made.doses[0].local_date
    assert first > D(2026, 12, 21)
    note = next(n for n in made.notes if n.startswith("induction-1 starts on"))
    assert f"{(first - D(2026, 12, 21)).days} day(s) after Mon 21 Dec 2026" in note
    assert "would have no feasible day after it" in note  # the cause
    found = check(made, protocol=mdsi, clinic=demo_clinic(), patient=demo_patient())
    assert [v for v in found if v.severity == "error"] == []


def test_a_first_day_the_clinic_is_closed_is_a_postponement_note() -> None:
    # Fri 25 Dec 2026 is Christmas Day at the demo clinic: the plan starts on Mon 28 Dec and
    # says so, with the cause of each day it could not take.
    made = plan(load_protocol("esketamine-trd"), start=D(2026, 12, 25), clinic=demo_clinic())
    assert made.doses[0].local_date == D(2026, 12, 28)
    note = next(n for n in made.notes if n.startswith("induction-1 starts on"))
    assert "3 day(s) after Fri 25 Dec 2026" in note
    assert "Christmas Day" in note


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
def test_no_builtin_sets_a_rolling_7_day_limit_its_sources_do_not_give(protocol_id: str) -> None:
    # The label's "twice per week" (spravato-pi-trd, spravato-pi-mdsi) and the trials' "thrice
    # weekly" are per-week cadences; none of the built-ins' sources gives a rolling limit.
    protocol = load_protocol(protocol_id)
    assert protocol.rules.max_per_7_days is None
    assert protocol.start == "earliest"
