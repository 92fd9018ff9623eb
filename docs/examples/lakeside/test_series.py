"""Lakeside's property tests for its own IV series: run with pytest, in the clinic's CI."""

import datetime as dt
import itertools
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ketaplan import Patient, Plan, UnsatisfiableError, check, load_clinic, load_protocol, plan
from ketaplan import strategies as kst

HERE = Path(__file__).parent
SERIES = load_protocol(HERE / "series.toml")
CLINIC = load_clinic(HERE / "clinic.toml")


@given(start=kst.start_dates(), patient=kst.patients(history=False))
def test_every_plan_is_clean_or_explained(start: dt.date, patient: Patient) -> None:
    try:
        made = plan(SERIES, start=start, clinic=CLINIC, patient=patient,
                    until=start + dt.timedelta(days=120),
                    now=kst.made_before(start, CLINIC))  # planned as of the start  # fmt: skip
    except UnsatisfiableError as err:
        assert err.blocked, "the planner says which days it tried and why each failed"
        return
    errors = [v for v in check(made, protocol=SERIES, clinic=CLINIC, patient=patient)
              if v.severity == "error"]  # fmt: skip
    assert errors == []


@given(made=kst.plans(protocol=SERIES, clinic=CLINIC, patient=st.none()))
def test_induction_is_six_infusions_at_most_a_week_apart(made: Plan) -> None:
    induction = [a for a in made.appointments if a.phase == "induction"]
    assert len(induction) == 6
    gaps = [(b.local_date - a.local_date).days for a, b in itertools.pairwise(induction)]
    assert all(2 <= gap <= 7 for gap in gaps)
    assert all(a.local_date.weekday() != 6 for a in made.appointments)  # closed on Sundays
