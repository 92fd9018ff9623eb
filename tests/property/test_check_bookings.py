"""``check`` against other bookings reads the ledger's day index and loses nothing (issue 18).

Before issue 18, ``check`` swept every booking of the clinic; now it reads only the bookings on
the plan's own days (:meth:`Ledger.overlapping <ketaplan.ledger.Ledger.overlapping>`). These
tests hold the two equal: the capacity and double-booking violations ``check`` reports, given
bookings as a list or as a ledger, are those of the sweep over every booking.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ketaplan import load_protocol
from ketaplan import strategies as kst
from ketaplan._rows import Rows
from ketaplan.bookings import Booking
from ketaplan.checking import check
from ketaplan.checking.context import Context
from ketaplan.checking.overlaps import Interval, overlapping_pairs, overloads
from ketaplan.clinic import Clinic
from ketaplan.defaults import demo_clinic
from ketaplan.errors import UnsatisfiableError
from ketaplan.ledger import Ledger
from ketaplan.patient import Patient
from ketaplan.plans import Plan
from ketaplan.rules.capacity import limits
from ketaplan.timing import shift
from ketaplan.violation import Violation
from tests.helpers import plan

START = dt.date(2027, 3, 1)
CODES = {"over-capacity", "chair-buffer", "patient-double-booked"}
Seen = set[tuple[str, tuple[str, ...], str]]
#: What the generated bookings become: a unit, the plan's patient (a commitment of theirs).
CHANGES: list[dict[str, Any]] = [
    {}, {"unit": 1}, {"unit": 1}, {"unit": 2}, {"patient": "me"},
    {"patient": "me", "label": "dentist"},
]  # fmt: skip


def every_booking(made: Plan, clinic: Clinic, bookings: list[Booking]) -> Seen:
    """The sweep over every booking, as ``check`` did before issue 18."""
    ctx = Context(made, load_protocol(made.protocol), clinic, None, None, None)
    found: list[Violation] = []
    own = [Interval(a.start, a.end, a.id, True) for a in ctx.active]
    theirs = [
        Interval(b.start, b.end, b.label or "another booking", False)
        for b in bookings
        if b.patient == made.patient and b.plan != made.id
    ]
    for first, second in overlapping_pairs(own + theirs):
        ids = [i.name for i in (first, second) if i.mine]
        found.append(ctx.violation("patient-double-booked", ids, "", f"{first.name} {second.name}"))
    clinic_limits = limits(clinic)
    for resource in ("chair", "room", "monitoring-staff"):
        pad = clinic_limits.buffer_minutes.get(resource, 0)
        items = [
            Interval(s.start, shift(s.end, minutes=pad), a.id, True, s.unit)
            for a in ctx.active
            for s in a.resources
            if s.resource == resource
        ]
        items += [
            Interval(b.start, shift(b.end, minutes=pad), b.label or "a booking", False, b.unit)
            for b in bookings
            if b.resource == resource and b.plan != made.id
        ]
        limit = clinic_limits.capacity(resource)
        assert limit is not None
        for peak, _, involved in overloads(items, functools.partial(_constant, limit)):
            found.append(ctx.violation("over-capacity", involved, "", f"{peak}"))
        for unit in {i.unit for i in items if i.unit is not None}:
            same = [i for i in items if i.unit == unit]
            for first, second in overlapping_pairs(same):
                ids = [i.name for i in (first, second) if i.mine]
                found.append(ctx.violation("chair-buffer", ids, "", f"{second.name} {first.name}"))
    return {(v.code, v.appointments, v.message) for v in found}


def _constant(limit: int, _moment: dt.datetime) -> int:
    return limit


def seen(found: list[Violation]) -> Seen:
    """What the reference can compare: the code, the appointments and the figures named."""
    out: Seen = set()
    for v in found:
        if v.code == "over-capacity":
            out.add((v.code, v.appointments, v.message.split(" ")[0]))
        elif v.code == "chair-buffer":
            names = v.message.split(": ", 1)[1].split(" starts before ")
            out.add((v.code, v.appointments, f"{names[0]} {names[1].split(' and its ')[0]}"))
        elif v.code == "patient-double-booked":
            first, second = v.message.split(" overlaps ")
            out.add((v.code, v.appointments, f"{first.split(' (')[0]} {second.split(' (')[0]}"))
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[Plan, Clinic, list[Booking]]:
    clinic = draw(kst.clinics(time_zone="America/New_York", chairs=st.integers(1, 2),
                              closures=False))  # fmt: skip
    protocol = load_protocol(draw(st.sampled_from(["iv-ketamine-mwf", "esketamine-trd"])))
    try:
        made = plan(protocol, start=START, clinic=clinic, patient=Patient(id="me"),
                    until=START + dt.timedelta(days=40), preferred_time=dt.time(9))  # fmt: skip
    except UnsatisfiableError:
        made = None
    if made is None:
        return draw(cases())
    others = draw(kst.bookings(clinic=clinic, start=START, days=20, max_size=60))
    marked = []
    for booking in others:
        change = draw(st.sampled_from([*CHANGES, {"plan": made.id}]))
        marked.append(booking.model_copy(update=change))
    anchor = made.appointments[0]
    long = Booking(start=anchor.start - dt.timedelta(days=2), end=anchor.end + dt.timedelta(days=1),
                   resource="chair", unit=1, patient="me")  # fmt: skip
    marked.append(long)  # across several days
    return made, clinic, marked


@settings(max_examples=60, deadline=None)
@given(cases())
def test_check_reads_only_its_days_and_finds_what_a_sweep_of_every_booking_finds(
    case: tuple[Plan, Clinic, list[Booking]],
) -> None:
    made, clinic, bookings = case
    expected = every_booking(made, clinic, bookings)
    for code in sorted({code for code, _, _ in expected}):
        event(code)
    listed = [v for v in check(made, clinic=clinic, bookings=bookings) if v.code in CODES]
    assert seen(listed) == expected
    ledger = Ledger(clinic, bookings, units="as-given")
    indexed = [v for v in check(made, clinic=clinic, bookings=ledger) if v.code in CODES]
    assert seen(indexed) == expected


def test_check_against_a_ledger_reads_no_booking_on_other_days(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 18: a plan's check touches only the bookings on its own days."""
    where = demo_clinic()
    made = plan(load_protocol("iv-ketamine-mwf"), start=START, clinic=where,
                patient=Patient(id="me"))  # fmt: skip
    later = made.appointments[-1].end + dt.timedelta(days=30)
    hour = dt.timedelta(hours=1)
    ledger = Ledger(where)
    ledger.extend(
        Booking(start=later + n * hour, end=later + (n + 1) * hour, resource="chair", patient="me")
        for n in range(2000)
    )
    read: list[int] = []
    original = Rows.booking

    def booking(self: Rows, row: int) -> Booking:
        read.append(row)
        return original(self, row)

    monkeypatch.setattr(Rows, "booking", booking)
    assert check(made, clinic=where, bookings=ledger) == []
    assert read == []
    ledger.add(Booking(start=made.doses[0].start, end=made.doses[0].end, patient="me"))
    assert {v.code for v in check(made, clinic=where, bookings=ledger)} == {"patient-double-booked"}
    assert read == [2000]
