"""Properties of plan() and check(): planner output always checks clean, and a single edit
produces the violation it should."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from ketaplan import UnsatisfiableError, builtin_protocol_ids, load_protocol
from ketaplan.checking import check
from ketaplan.clinic import Clinic
from ketaplan.patient import Patient
from ketaplan.plans import Plan
from tests.helpers import assert_checks_clean, plan

ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Phoenix"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MEDICATIONS = [
    {"name": "lorazepam", "times": ["07:00", "22:00"]},
    {"name": "clonazepam", "as_needed": True},
    {"name": "methylphenidate", "times": ["08:00"]},
    {"name": "lamotrigine", "times": ["08:00", "20:00"]},
    {"name": "sertraline", "times": ["09:00"]},
    {"name": "phenelzine", "times": ["09:00", "15:00"]},
]


@st.composite
def settings_(draw: st.DrawFn) -> tuple[Clinic, Patient | None, dt.date, str]:
    zone = draw(st.sampled_from(ZONES))
    open_days = draw(st.lists(st.sampled_from(DAYS), min_size=3, max_size=7, unique=True))
    hours = draw(st.sampled_from(["08:00-18:00", "07:00-19:00", "09:00-17:00"]))
    clinic = Clinic.model_validate(
        {
            "id": "prop-clinic",
            "name": "Property Clinic",
            "time_zone": zone,
            "opening_hours": {day: [hours] for day in open_days},
            "holidays": {"country": draw(st.sampled_from(["US", "DE", "AU"]))},
            "resources": {
                "chairs": draw(st.integers(1, 3)),
                "rooms": 2,
                "monitoring_staff": draw(st.integers(1, 2)),
                "patients_per_staff": 2,
                "prescriber_on_site": True,
                "chair_buffer_minutes": draw(st.sampled_from([0, 15])),
            },
            "certifications": ["spravato-rems"],
        }
    )
    patient: Patient | None = None
    if draw(st.booleans()):
        available = draw(st.lists(st.sampled_from(DAYS), min_size=2, max_size=7, unique=True))
        window = draw(st.sampled_from(["07:00-19:00", "08:00-13:00", "12:00-18:00"]))
        patient = Patient.model_validate(
            {
                "id": "prop-patient",
                "availability": {day: [window] for day in available},
                "medications": draw(st.lists(st.sampled_from(MEDICATIONS), max_size=3)),
                "enrollments": ["spravato-rems"],
            }
        )
    start = draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)))
    return clinic, patient, start, draw(st.sampled_from(builtin_protocol_ids()))


def make(clinic: Clinic, patient: Patient | None, start: dt.date, protocol_id: str) -> Plan | None:
    try:
        made = plan(
            load_protocol(protocol_id),
            start=start,
            clinic=clinic,
            patient=patient,
            until=start + dt.timedelta(days=150),
            preferred_time=dt.time(9),
        )
    except UnsatisfiableError as err:
        failure = err
    else:
        event("planned")
        return made
    # An explanation, never a bare failure.
    assert failure.session
    assert failure.window
    event("unsatisfiable")
    return None


@given(settings_())
def test_plan_either_checks_clean_or_explains_why_not(case: Any) -> None:
    clinic, patient, start, protocol_id = case
    result = make(clinic, patient, start, protocol_id)
    if result is not None:
        assert_checks_clean(check(result, clinic=clinic, patient=patient), result)


def replace(result: Plan, appointment_id: str, **changes: Any) -> Plan:
    items = tuple(
        a.model_copy(update=changes) if a.id == appointment_id else a for a in result.appointments
    )
    return result.model_copy(update={"appointments": items})


@given(settings_(), st.sampled_from(["duplicate", "delete", "closed-day", "early", "short"]),
       st.randoms(use_true_random=False))  # fmt: skip
def test_a_single_edit_produces_the_violation_it_should(case: Any, edit: str, rnd: Any) -> None:
    clinic, patient, start, protocol_id = case
    result = make(clinic, patient, start, protocol_id)
    if result is None:
        return
    protocol = load_protocol(protocol_id)
    doses = [a for a in result.doses if a.status == "planned"]
    target = rnd.choice(doses)
    if edit == "duplicate":
        copy = target.model_copy(update={"id": f"{target.id}-copy"})
        edited = result.model_copy(update={"appointments": (*result.appointments, copy)})
        expected = "patient-double-booked"
    elif edit == "delete":
        finite = [d for d in doses if protocol.phase(d.phase).count is not None]
        if not finite:
            return
        target = rnd.choice(finite)
        items = tuple(a for a in result.appointments if a.id != target.id)
        edited = result.model_copy(update={"appointments": items})
        expected = "phase-count"
    elif edit == "closed-day":
        closed = [
            n for n in range(1, 7)
            if not clinic.opening_hours.on(target.local_date + dt.timedelta(days=n))
        ]  # fmt: skip
        if target.location != "clinic" or not closed:
            return
        delta = dt.timedelta(days=closed[0])
        edited = replace(result, target.id, start=target.start + delta, end=target.end + delta)
        expected = "clinic-closed"
    elif edit == "early":
        if target.location != "clinic":
            return
        opens = min(r.start for r in clinic.opening_hours.on(target.local_date))
        local = target.local_start
        early = (local.hour * 60 + local.minute) - (opens.hour * 60 + opens.minute) + 30
        delta = dt.timedelta(minutes=-early)
        edited = replace(result, target.id, start=target.start + delta, end=target.end + delta)
        expected = "outside-opening-hours"
    else:
        edited = replace(result, target.id, end=target.end - dt.timedelta(minutes=10))
        expected = "block-too-short"
    found = {v.code for v in check(edited, clinic=clinic, patient=patient)}
    assert expected in found, (edit, target.id, found)
