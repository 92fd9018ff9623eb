"""Properties of ``status()`` (issue 15, section 2): a past session still "planned" is never
silently fine, whatever the protocol, the clinic, the moment and what was recorded."""

from __future__ import annotations

import datetime as dt

from hypothesis import event, given
from hypothesis import strategies as st

from ketaplan.plans import Plan
from ketaplan.standing import URGENCY, status
from ketaplan.strategies import plans, protocols
from ketaplan.timing import zone


def _recorded(made: Plan, as_of: dt.datetime, attended: int) -> Plan:
    """``made`` with its first ``attended`` sessions before ``as_of`` recorded attended."""
    past = [a.id for a in made.appointments if a.start < as_of][:attended]
    return made.model_copy(
        update={
            "appointments": tuple(
                a.model_copy(update={"status": "attended"}) if a.id in past else a
                for a in made.appointments
            )
        }
    )


@given(st.data(), st.integers(-3 * 24, 400 * 24), st.integers(0, 40))
def test_a_past_planned_session_is_never_on_track(
    data: st.DataObject, hours: int, attended: int
) -> None:
    """Every session still planned after its start is listed as not recorded, and the patient
    is then never on track (nor complete)."""
    protocol = data.draw(protocols())
    made = data.draw(plans(protocol=protocol))
    as_of = made.appointments[0].start + dt.timedelta(hours=hours)
    recorded = _recorded(made, as_of, attended)
    standing = status(recorded, as_of=as_of, protocol=protocol)
    past_planned = tuple(
        a.id for a in recorded.appointments if a.status == "planned" and a.start < as_of
    )
    event(standing.status)
    assert standing.status in URGENCY
    assert standing.unrecorded == past_planned
    if past_planned:
        assert standing.status not in {"on-track", "complete"}
    if standing.status == "complete":
        assert all(a.status != "planned" for a in recorded.appointments)
    if standing.status == "overdue":
        assert standing.next is not None
        today = as_of.astimezone(zone(made.time_zone)).date()
        assert standing.days_late == (today - standing.next.latest).days > 0
