"""The pictures (issue 17): a long plan's timeline, and a busy clinic's week as a page.

A plan's timeline is drawn per session: its cost is compared with the plan's text table
(``plan_table``), the cheapest other output of the same plan. The week is compared with the
run sheets it is made of, computed without drawing them.
"""

from __future__ import annotations

import datetime as dt

from benchmarks.suite import STAMP, START, Row, Scale, clinic_plans, timed
from ketaplan import Plan, load_protocol, plan, run_week, runsheet_html, timeline_svg
from ketaplan.defaults import demo_clinic
from ketaplan.summary import plan_table

#: Sessions in the long plan, and plans in the clinic's week, by scale.
_SIZES = {"smoke": (200, 400), "full": (2_000, 4_000)}


def long_plan(count: int) -> Plan:
    """A plan of ``count`` sessions, one every three days: a real plan's dose, repeated."""
    made = plan(load_protocol("iv-ketamine-standard"), start=START, clinic=demo_clinic(),
                until=START + dt.timedelta(days=120), now=STAMP)  # fmt: skip
    dose = made.doses[0]
    every = dt.timedelta(days=3)
    copies = tuple(
        dose.model_copy(update={
            "id": f"dose-{n}", "start": dose.start + n * every, "end": dose.end + n * every,
            "target": dose.local_date + n * every, "earliest": dose.local_date + n * every,
            "latest": dose.local_date + n * every + dt.timedelta(days=2),
        })
        for n in range(count)
    )  # fmt: skip
    return made.model_copy(update={"appointments": copies})


def pictures(scale: Scale) -> list[Row]:
    sessions, appointments = _SIZES[scale]
    long = long_plan(sessions)
    drawn = timed(lambda: timeline_svg(long), repeat=3)
    table = timed(lambda: plan_table(long), repeat=3)
    plans = clinic_plans(appointments)
    week = START + dt.timedelta(days=7)
    page = timed(lambda: runsheet_html(run_week(plans, start=week, clinic=demo_clinic())), repeat=1)
    sheets = timed(lambda: run_week(plans, start=week, clinic=demo_clinic()), repeat=1)
    per = 1e6 / sessions
    return [
        Row("pictures", f"timeline_svg, a plan of {sessions:,} sessions", drawn * per,
            "µs/session", "plan_table, the same plan", table * per),
        Row("pictures", f"a week's run sheet page, {len(plans):,} plans", page, "s",
            "run_week alone (no drawing)", sheets),
    ]  # fmt: skip
