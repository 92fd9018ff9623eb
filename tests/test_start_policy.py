"""The start policy ``earliest``: the first session and the first dose never wait needlessly.

Under ``earliest`` (every built-in's policy, docs/planning.md) the first session keeps its first
feasible day, and so does the first dose after an intake. The search tries a session's days
nearest its target first, so the first feasible day found is not always the earliest: when the
rest of the series did not fit from it, the planner used to move the intake later (with a note
that the series "does not fit from an earlier first day") or relax the induction's deadline,
although an earlier day for the first dose fitted everything. These tests pin the policy down:
an earlier day is tried before anything moves later, and no first session starts later than
the policy that waits for the whole series would start it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ketaplan import Plan, builtin_protocol_ids, load_protocol, plan
from ketaplan.checking import check
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.errors import UnsatisfiableError

D = dt.date
MADE = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def _days(made: Plan) -> list[str]:
    return [f"{a.local_start:%a %d %b}" for a in made.appointments]


def test_a_five_day_series_starts_the_day_before_rather_than_moving_its_intake() -> None:
    # iv-ketamine-pain (source pain-5-day: five infusions on five consecutive days, about a
    # week after the intake). From Tue 1 Dec 2026 the first infusion's target is Tue 8 Dec,
    # whose series would reach Saturday, when the demo clinic is closed. Mon 7 Dec fits: the
    # intake stays on the plan's first day. It used to move to Wed 2 Dec, with a note that the
    # series did not fit from an earlier first day, which was not so.
    made = plan(load_protocol("iv-ketamine-pain"), start=D(2026, 12, 1), clinic=demo_clinic(),
                now=MADE)  # fmt: skip
    assert _days(made) == [
        "Tue 01 Dec", "Mon 07 Dec", "Tue 08 Dec", "Wed 09 Dec", "Thu 10 Dec", "Fri 11 Dec"
    ]  # fmt: skip
    assert made.notes == ()
    assert "series-2 would have no feasible day after it" in made.doses[0].reason
    assert check(made, clinic=demo_clinic()) == []


def test_a_reason_names_the_session_that_had_no_day_not_every_step_to_it() -> None:
    # The same plan: from its target, Tue 8 Dec, the first infusion is refused because the
    # four consecutive infusions after it reach Sat 12 Dec. Each of series-2 to series-4 gives
    # its day up for the same cause; the reason says the cause once (it used to nest one
    # clause a session deep: "series-2 ... (Wed 9 Dec: series-3 ... (Thu 10 Dec: ...)))").
    made = plan(load_protocol("iv-ketamine-pain"), start=D(2026, 12, 1), clinic=demo_clinic(),
                now=MADE)  # fmt: skip
    assert made.doses[0].reason == (
        "target Tue 8 Dec 2026 (7 days after intake-1); series-2 would have no feasible day "
        "after it (the sessions after it would reach series-5 on Sat 12 Dec 2026: clinic "
        "closed on Saturdays); moved to Mon 7 Dec 2026, within the 1-14 day window"
    )


def test_an_induction_that_fits_from_an_earlier_first_dose_is_not_relaxed() -> None:
    # esketamine-trd (label: twice a week for weeks 1-4) for the demo patient from Mon 14 Dec
    # 2026. The first dose's target, Mon 21 Dec, leaves the induction short over the holidays,
    # so the plan used to relax the phase's deadline (check: phase-deadline and week-count
    # warnings). Fri 18 Dec, in the dose's window, lets the whole induction fit.
    made = plan(load_protocol("esketamine-trd"), start=D(2026, 12, 14), clinic=demo_clinic(),
                patient=demo_patient(), now=MADE)  # fmt: skip
    assert made.appointments[0].local_date == D(2026, 12, 14)
    assert made.doses[0].local_date == D(2026, 12, 18)
    assert not any(a.shift for a in made.appointments)
    assert check(made, clinic=demo_clinic(), patient=demo_patient()) == []


def test_the_relaxed_search_keeps_the_first_feasible_day() -> None:
    # When no day fits the series with every rule, the first dose keeps its first feasible
    # day with the deadlines and weekly minimums as targets (as before): an earlier day is
    # tried only with every rule. esketamine-mdsi (label: twice a week for four weeks) for the
    # demo patient from Fri 18 Dec 2026: its first dose, Mon 21 Dec, is the next open day, and
    # the holidays leave a week short whichever day it takes.
    made = plan(load_protocol("esketamine-mdsi"), start=D(2026, 12, 18), clinic=demo_clinic(),
                patient=demo_patient(), now=MADE)  # fmt: skip
    assert made.appointments[0].local_date == D(2026, 12, 18)
    assert made.doses[0].local_date == D(2026, 12, 21)
    assert any("start policy 'earliest' keeps that day" in note for note in made.notes)


@settings(max_examples=40, deadline=None)
@given(
    protocol=st.sampled_from(builtin_protocol_ids()),
    start=st.dates(D(2026, 12, 7), D(2027, 1, 10)),  # the year-end closures and holidays
    with_patient=st.booleans(),
)
def test_the_first_session_never_starts_later_than_a_whole_series_plan(
    protocol: str, start: dt.date, with_patient: bool
) -> None:
    # "whole-series" waits for the first day from which the whole series fits; "earliest"
    # must never be later than that, for the first session or (on the same first day) for
    # the first dose.
    earliest = load_protocol(protocol)
    waiting = earliest.model_copy(update={"start": "whole-series"})
    inputs: dict[str, Any] = {"start": start, "clinic": demo_clinic(), "now": MADE,
              "patient": demo_patient() if with_patient else None}  # fmt: skip
    try:
        whole = plan(waiting, **inputs)
    except UnsatisfiableError:
        return  # nothing to compare with: no first day fits the whole series
    made = plan(earliest, **inputs)
    first, first_whole = made.appointments[0].local_date, whole.appointments[0].local_date
    assert first <= first_whole
    if first == first_whole and made.doses and whole.doses:
        assert made.doses[0].local_date <= whole.doses[0].local_date
