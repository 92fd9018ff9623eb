"""The ledger: capacity questions over bookings."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator

from dateutil import tz as tzutil

from ketaplan import load_protocol, plan
from ketaplan.bookings import Booking
from ketaplan.checking import check
from ketaplan.defaults import demo_clinic
from ketaplan.ledger import _REMEMBERED, Ledger

from .helpers import clinic

NY = zoneinfo.ZoneInfo("America/New_York")
AT = dt.datetime(2026, 3, 2, 9, tzinfo=NY)
HOUR = dt.timedelta(hours=1)


def test_equal_intervals_of_different_bookings_all_count() -> None:
    ledger = Ledger(clinic(resources={"monitoring_staff": 1, "patients_per_staff": 3}))
    for _ in range(3):
        assert ledger.has_room("monitoring-staff", AT, AT + HOUR)
        ledger.add(Booking(start=AT, end=AT + HOUR, resource="monitoring-staff"))
    assert ledger.load("monitoring-staff", AT, AT + HOUR) == 3
    assert not ledger.has_room("monitoring-staff", AT, AT + HOUR)


def test_a_booking_across_midnight_counts_once() -> None:
    ledger = Ledger(clinic(resources={"monitoring_staff": 1, "patients_per_staff": 2}))
    late = dt.datetime(2026, 3, 2, 23, tzinfo=dt.UTC)
    ledger.add(Booking(start=late, end=late + 2 * HOUR, resource="monitoring-staff"))
    assert ledger.load("monitoring-staff", late, late + 2 * HOUR) == 1
    assert ledger.load("monitoring-staff", late + HOUR, late + 2 * HOUR) == 1


def test_chairs_are_units_with_a_cleaning_buffer() -> None:
    ledger = Ledger(clinic(resources={"chairs": 2, "chair_buffer_minutes": 15}))
    first = ledger.add(Booking(start=AT, end=AT + HOUR, resource="chair"))
    second = ledger.add(Booking(start=AT, end=AT + HOUR, resource="chair"))
    assert (first.unit, second.unit) == (1, 2)
    assert ledger.free_unit("chair", AT + HOUR, AT + 2 * HOUR) is None  # still cleaning
    after = AT + HOUR + dt.timedelta(minutes=15)
    assert ledger.free_unit("chair", after, after + HOUR) == 1


def test_fork_sees_the_base_and_keeps_its_own_apart() -> None:
    base = Ledger(clinic(resources={"chairs": 1}))
    base.add(Booking(start=AT, end=AT + HOUR, resource="chair"))
    fork = base.fork()
    assert fork.free_unit("chair", AT, AT + HOUR) is None
    fork.add(Booking(start=AT + 2 * HOUR, end=AT + 3 * HOUR, resource="chair"))
    assert base.free_unit("chair", AT + 2 * HOUR, AT + 3 * HOUR) == 1
    fork.remove_last()
    assert fork.free_unit("chair", AT + 2 * HOUR, AT + 3 * HOUR) == 1


def test_patient_bookings() -> None:
    ledger = Ledger(clinic())
    ledger.add(Booking(start=AT, end=AT + HOUR, patient="p-1"))
    assert ledger.patient_busy("p-1", AT + HOUR / 2, AT + 2 * HOUR)
    assert not ledger.patient_busy("p-1", AT + HOUR, AT + 2 * HOUR)
    assert not ledger.patient_busy("p-2", AT, AT + HOUR)


def test_a_removed_booking_gives_its_days_their_change_numbers_back() -> None:
    # Issue 18: a search that undoes a placement finds the answers it kept for those days still
    # good (the bookings there are as they were), so its change numbers come back.
    base = Ledger(clinic(resources={"chairs": 1}))
    fork = base.fork()
    day = (int(AT.timestamp()), int((AT + HOUR).timestamp()))
    untouched = fork.changes(*day)
    fork.add(Booking(start=AT, end=AT + HOUR, resource="chair"))
    added = fork.changes(*day)
    fork.add(Booking(start=AT + 2 * HOUR, end=AT + 3 * HOUR, resource="chair"))
    assert fork.changes(*day) != added
    fork.remove_last()
    assert fork.changes(*day) == added
    fork.remove_last()
    assert fork.changes(*day) == untouched
    fork.add(Booking(start=AT, end=AT + HOUR, resource="chair"))
    assert fork.changes(*day) not in {untouched, added}  # a new state, a new number


def test_a_booking_the_ledger_was_made_with_gets_a_new_number_when_removed() -> None:
    ledger = Ledger(clinic(), [Booking(start=AT, end=AT + HOUR, resource="chair")])
    day = (int(AT.timestamp()), int((AT + HOUR).timestamp()))
    made = ledger.changes(*day)
    ledger.remove_last()
    assert ledger.changes(*day) not in {made, (0,)}


def test_a_ledger_remembers_the_numbers_of_its_latest_bookings_only() -> None:
    # Issue 18: the record that gives numbers back is bounded; an older booking removed gets a
    # new number, which is always right (only a cache is missed).
    ledger = Ledger(clinic())
    first = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    for n in range(_REMEMBERED + 2):
        start = first + dt.timedelta(days=n)
        ledger.add(Booking(start=start, end=start + HOUR, patient="p"))
    assert len(ledger._before) == _REMEMBERED
    while ledger.bookings:
        ledger.remove_last()
    assert not ledger._before
    assert not ledger.patient_busy("p", first, first + HOUR)


def test_dated_capacity_changes_reduce_units_and_places_on_their_days_only() -> None:
    """A chair out of service and a staff member absent on one day (issue 16): the ledger gives
    out the in-service chairs only (the highest-numbered go first) and counts fewer places."""
    changes = [{"start": "2026-03-02", "chairs": 1, "monitoring_staff": 1}]
    where = clinic(resources={"chairs": 2, "monitoring_staff": 2, "patients_per_staff": 1},
                   capacity_changes=changes)  # fmt: skip
    ledger = Ledger(where)
    ledger.add(Booking(start=AT, end=AT + HOUR, resource="chair", unit=1))
    ledger.add(Booking(start=AT, end=AT + HOUR, resource="monitoring-staff"))
    assert ledger.free_unit("chair", AT, AT + HOUR) is None  # chair 2 is out that day
    assert not ledger.has_room("monitoring-staff", AT, AT + HOUR)
    next_day = AT + 24 * HOUR
    ledger.add(Booking(start=next_day, end=next_day + HOUR, resource="chair", unit=1))
    ledger.add(Booking(start=next_day, end=next_day + HOUR, resource="monitoring-staff"))
    assert ledger.free_unit("chair", next_day, next_day + HOUR) == 2
    assert ledger.has_room("monitoring-staff", next_day, next_day + HOUR)
    midnight = int(dt.datetime(2026, 3, 3, tzinfo=NY).timestamp())
    assert ledger.available("chair", midnight - 60, midnight + 60) == 1  # the worst moment
    assert ledger.available("chair", midnight, midnight + 60) == 2


def test_a_ledger_gives_back_the_bookings_it_was_given() -> None:
    # Issue 18: the ledger keeps rows (times as seconds, resources as small ints), not the
    # models; what it gives back equals what it was given, zones and fractions of a second too.
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    given = [
        Booking(start=AT, end=AT + HOUR, resource="chair", unit=2, patient="p-1", label="x"),
        Booking(start=AT.astimezone(berlin), end=AT + HOUR, resource="monitoring-staff"),
        Booking(
            start=AT + dt.timedelta(microseconds=250),
            end=AT + 2 * HOUR,
            patient="p-2",
            plan="plan-1",
            appointment="dose-1",
        ),
        Booking(
            start=dt.datetime(1969, 12, 31, 23, 59, 58, 500_000, tzinfo=dt.UTC),
            end=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
            resource="room",
            unit=1,
        ),
    ]
    ledger = Ledger(clinic(), given)
    assert ledger.all_bookings() == given
    assert [b.start.tzinfo for b in ledger.all_bookings()] == [b.start.tzinfo for b in given]
    assert ledger.bookings[-1] == given[-1]
    assert ledger.remove_last() == given[-1]
    assert len(ledger.bookings) == 3
    # The search backs up with drop_last: the same undo, without making the booking again.
    other = Ledger(clinic(), given)
    other.drop_last()
    assert other.all_bookings() == ledger.all_bookings()
    for booking in given:
        for kind in ("chair", "room"):
            assert other.load(kind, booking.start, booking.end) == ledger.load(
                kind, booking.start, booking.end
            )


def test_a_ledger_reads_a_stream() -> None:
    # Issue 18: bookings read in one at a time, none of the models kept.
    def stream() -> Iterator[Booking]:
        for n in range(50):
            start = AT + n * HOUR
            yield Booking(start=start, end=start + HOUR, resource="chair", patient=f"p-{n}")

    ledger = Ledger(clinic(resources={"chairs": 1}))
    ledger.extend(stream())
    assert len(ledger.bookings) == 50
    assert ledger.free_unit("chair", AT + 10 * HOUR, AT + 11 * HOUR) is None
    assert ledger.patient_busy("p-10", AT + 10 * HOUR, AT + 11 * HOUR)
    assert not ledger.patient_busy("p-10", AT + 11 * HOUR, AT + 12 * HOUR)


def test_overlapping_lists_each_booking_once_and_only_those_that_overlap() -> None:
    late = dt.datetime(2026, 3, 2, 23, tzinfo=dt.UTC)
    across = Booking(start=late, end=late + 3 * HOUR, resource="chair", unit=1)
    loose = Booking(start=late, end=late + HOUR, resource="chair")
    staff = Booking(start=late + HOUR, end=late + 2 * HOUR, resource="monitoring-staff")
    mine = Booking(start=late, end=late + HOUR, patient="p-1")
    apart = Booking(start=late + 5 * HOUR, end=late + 6 * HOUR, resource="chair", unit=2)
    ledger = Ledger(clinic(), [across, loose, staff, mine, apart], units="as-given")
    spans = [(int(late.timestamp()), int((late + 2 * HOUR).timestamp()))] * 2
    assert ledger.overlapping(spans, resource="chair") == [across, loose]
    assert ledger.overlapping(spans, resource="monitoring-staff") == [staff]
    assert ledger.overlapping(spans, patient="p-1") == [mine]
    assert ledger.overlapping(spans, patient="p-2") == []
    fork = ledger.fork()
    fork.add(apart.model_copy(update={"start": late + HOUR}))
    assert len(fork.overlapping(spans, resource="chair")) == 3


def test_without_plan_copies_the_other_rows() -> None:
    ledger = Ledger(clinic())
    ledger.add(Booking(start=AT, end=AT + HOUR, resource="chair", plan="a"))
    ledger.add(Booking(start=AT, end=AT + HOUR, resource="chair", plan="b"))
    others = ledger.without_plan("a")
    assert [(b.plan, b.unit) for b in others.all_bookings()] == [("b", 2)]


def test_the_planner_books_what_bookings_of_books() -> None:
    """``add_occupied`` (the planner's way) and ``add`` of ``bookings_of`` keep the same rows.

    Every built-in's appointments, one of them with its chair's unit left to the ledger: the
    bookings read back, the free units and the staff load agree.
    """
    from ketaplan import builtin_protocols, plan  # noqa: PLC0415 - only this test plans
    from ketaplan.bookings import bookings_of, occupied  # noqa: PLC0415

    now = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    for protocol in builtin_protocols():
        made = plan(protocol, start=dt.date(2027, 3, 1), clinic=clinic(), now=now)
        direct, through = Ledger(clinic()), Ledger(clinic())
        for n, appointment in enumerate(made.appointments):
            at = occupied(appointment)
            chosen = n == 1  # a chair whose unit the ledger chooses, both ways
            if chosen:
                at = [o._replace(unit=None) if o.resource == "chair" else o for o in at]
            direct.add_occupied(at, patient="p-1", appointment=appointment.id)
            for booking in bookings_of(appointment, patient="p-1"):
                unchosen = booking.model_copy(update={"unit": None})
                through.add(unchosen if chosen and booking.resource == "chair" else booking)
        assert list(direct.bookings) == list(through.bookings), protocol.id
        for appointment in made.appointments:
            start, end = appointment.start, appointment.end
            for resource in ("chair", "room"):
                assert direct.free_unit(resource, start, end) == through.free_unit(
                    resource, start, end
                )
            assert direct.load("monitoring-staff", start, end) == through.load(
                "monitoring-staff", start, end
            )
            assert direct.patient_busy("p-1", start, end)
            assert through.patient_busy("p-1", start, end)


def test_a_booking_in_a_dateutil_zone_is_kept_and_read_back() -> None:
    """dateutil's zones (what arrow and some pandas give) are not hashable: the ledger's table
    of zones raised TypeError, and plan() and check() with such a booking with it (found by an
    independent review). The booking is read back equal, in its own zone."""
    eastern = tzutil.gettz("America/New_York")
    busy = Booking(start=dt.datetime(2026, 12, 2, 9, tzinfo=eastern),
                   end=dt.datetime(2026, 12, 2, 16, tzinfo=tzutil.tzutc()), resource="chair",
                   unit=1)  # fmt: skip
    ledger = Ledger(demo_clinic(), [busy])
    (back,) = ledger.bookings
    assert back == busy
    assert back.start.tzinfo is eastern
    assert back.end.tzinfo is busy.end.tzinfo
    protocol = load_protocol("esketamine-trd")
    now = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    made = plan(protocol, start=dt.date(2026, 12, 1), clinic=demo_clinic(), bookings=[busy],
                now=now, until=dt.date(2027, 1, 1))  # fmt: skip
    assert check(made, protocol=protocol, clinic=demo_clinic(), bookings=[busy]) == []
