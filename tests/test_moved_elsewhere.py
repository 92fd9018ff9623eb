"""A plan whose session clinic software moved, writing its ``start`` and ``end`` only.

docs/checking.md allows it: ``check`` derives the dosing start and each resource's span from
the start (``ketaplan._resolve.timed``). Everything else that books a plan did not: it booked the
spans as stored, so the chair and monitoring staff stayed taken at the old time and were free at
the new one, and another patient could be booked into the moved session (found by a review of
``Plan.bookings``). Each test here failed before: what a plan occupies is now derived by the one
rule, in ``plan_bookings``, the CLI's ``--bookings``, ``replan``, ``replan_disruption`` and a
waitlist's ``place``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ketaplan import InputError, Protocol, check, load_protocol, plan, plan_bookings, replan
from ketaplan.bookings import Booking
from ketaplan.clinic import CapacityChange, Clinic
from ketaplan.defaults import demo_clinic
from ketaplan.disruption import replan_disruption
from ketaplan.ledger import Ledger
from ketaplan.plans import Plan
from ketaplan.replanning import Attended
from ketaplan.roster import RosterEntry, place
from ketaplan.rules.capacity import spans

from .test_cli import ketaplan, run

NOW = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
MWF = load_protocol("iv-ketamine-mwf")
#: induction-1 of a plan of MWF from Mon 30 Nov at 09:00 is Mon 7 Dec at 09:00; it is moved to
#: 13:00 the same day.
LATER = dt.timedelta(hours=4)


def clinic(chairs: int) -> Clinic:
    """Weekdays 08:00-18:00, ``chairs`` chairs, one patient under monitoring per chair."""
    return Clinic.model_validate({
        "id": "small", "name": "Small", "time_zone": "America/New_York",
        "opening_hours": {day: ["08:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "resources": {"chairs": chairs, "rooms": 1, "monitoring_staff": chairs,
                      "patients_per_staff": 1, "prescriber_on_site": True},
    })  # fmt: skip


ONE_CHAIR = clinic(1)


def made(
    plan_id: str,
    where: Clinic = ONE_CHAIR,
    *,
    protocol: Protocol = MWF,
    at: dt.time = dt.time(9),
    bookings: list[Booking] | tuple[Booking, ...] | Ledger = (),
) -> Plan:
    """A plan of ``protocol`` from Mon 30 Nov 2026, aiming at ``at``, around ``bookings``."""
    return plan(protocol, start=dt.date(2026, 11, 30), clinic=where, plan_id=plan_id,
                preferred_time=at, now=NOW, bookings=bookings)  # fmt: skip


def moved(original: Plan, appointment: str = "induction-1", by: dt.timedelta = LATER) -> Plan:
    """``original`` with ``appointment`` moved as clinic software moves it: start and end only."""
    old = original.appointment(appointment)
    new = old.model_copy(update={"start": old.start + by, "end": old.end + by})
    return original.model_copy(
        update={
            "appointments": tuple(new if a.id == appointment else a for a in original.appointments)
        }
    )


def chair_times(bookings: tuple[Booking, ...] | list[Booking], appointment: str) -> list[str]:
    return [f"{b.start.astimezone(ONE_CHAIR.zone):%a %H:%M}" for b in bookings
            if b.appointment == appointment and b.resource == "chair"]  # fmt: skip


def capacity_errors(one: Plan, others: list[Booking], where: Clinic = ONE_CHAIR) -> list[str]:
    return [f"{v.code} {v.appointments}" for v in check(one, clinic=where, bookings=others)
            if v.code in {"over-capacity", "chair-buffer"}]  # fmt: skip


def test_plan_bookings_books_a_moved_session_at_its_new_time() -> None:
    edited = moved(made("first"))
    assert chair_times(edited.bookings(), "induction-1") == ["Mon 09:00"]  # as stored
    assert chair_times(plan_bookings(edited), "induction-1") == ["Mon 13:00"]
    staff = [b for b in plan_bookings(edited)
             if b.appointment == "induction-1" and b.resource == "monitoring-staff"]  # fmt: skip
    session = edited.appointment("induction-1")
    assert session.start < staff[0].start < staff[0].end == session.end
    fresh = made("fresh")  # a plan as ketaplan made it books what it stores
    assert plan_bookings(fresh) == fresh.bookings()


def test_a_patient_planned_around_a_moved_session_is_not_booked_into_it() -> None:
    """The review's case: the second patient wanted 13:00, the time the first was moved to."""
    edited = moved(made("first"))
    second = made("second", at=dt.time(13), bookings=plan_bookings(edited))
    assert capacity_errors(second, list(plan_bookings(edited))) == []
    assert capacity_errors(edited, list(plan_bookings(second))) == []
    blind = made("blind", at=dt.time(13), bookings=edited.bookings())
    assert capacity_errors(blind, list(plan_bookings(edited)))  # the stored spans let it in


def test_plan_bookings_needs_the_protocol_of_a_plan_not_built_in() -> None:
    own = MWF.model_copy(update={"id": "our-mwf"})
    edited = moved(made("first", protocol=own))
    with pytest.raises(InputError) as caught:
        plan_bookings(edited)
    assert str(caught.value) == (
        "protocol: must be the plan's protocol 'our-mwf' (it is not built in); got None"
    )
    assert chair_times(plan_bookings(edited, protocol=own), "induction-1") == ["Mon 13:00"]
    with pytest.raises(InputError, match="protocol: must be the plan's protocol 'our-mwf'"):
        plan_bookings(edited, protocol=MWF)


def test_replan_keeps_and_books_a_moved_session_at_its_new_time() -> None:
    edited = moved(made("first"))
    after = replan(edited, as_of=dt.datetime(2026, 12, 7, 18, tzinfo=ONE_CHAIR.zone),
                   events=[Attended(appointment="intake-1"), Attended(appointment="induction-1")],
                   clinic=ONE_CHAIR)  # fmt: skip
    session = after.appointment("induction-1")
    kind = MWF.session_kind(session.session)
    assert session.resources == spans(kind, session.start, units={"chair": 1})
    assert chair_times(after.bookings(), "induction-1") == ["Mon 13:00"]


def test_a_disruption_books_a_moved_session_at_its_new_time() -> None:
    """Two chairs, both patients at 09:00 on Mon 7 Dec; the first moved to 13:00; chair 2 out.

    The second patient's session takes chair 1 at 09:00, free since the move. Before, the
    first's chair stayed taken at 09:00: the second was moved to another day, and two of its
    later sessions left their windows.
    """
    two = clinic(2)
    ledger = Ledger(two)
    first = made("first", two, bookings=ledger)
    for booking in first.bookings():
        ledger.add(booking)
    second = made("second", two, bookings=ledger)
    assert chair_times(second.bookings(), "induction-1") == ["Mon 09:00"]
    day = second.appointment("induction-1").local_date
    result = replan_disruption([moved(first), second], clinic=two,
                               change=CapacityChange(start=day, chairs=1), now=NOW)  # fmt: skip
    assert result.report.not_kept == ()
    kept = result.plans[1].appointment("induction-1")
    assert (f"{kept.local_start:%a %H:%M}", kept.resources[0].unit) == ("Mon 09:00", 1)


def test_a_waitlist_is_not_offered_a_moved_session(tmp_path: Path) -> None:
    edited = moved(made("first"))
    entry = RosterEntry(id="w-1", protocol="iv-ketamine-mwf", start=dt.date(2026, 11, 30),
                        time=dt.time(13))  # fmt: skip
    (offered,) = place([entry], clinic=ONE_CHAIR, folder=tmp_path, plans=[edited], now=NOW)
    assert offered.plan is not None
    assert capacity_errors(offered.plan, list(plan_bookings(edited))) == []


def test_a_waitlist_needs_the_protocol_of_a_plan_not_built_in(tmp_path: Path) -> None:
    own = MWF.model_copy(update={"id": "our-mwf"})
    edited = moved(made("first", protocol=own))
    entry = RosterEntry(id="w-1", protocol="iv-ketamine-mwf", start=dt.date(2026, 11, 30))
    with pytest.raises(InputError) as caught:
        place([entry], clinic=ONE_CHAIR, folder=tmp_path, plans=[edited], now=NOW)
    assert str(caught.value) == (
        "plans[0].protocol: must be the id of a built-in protocol, of an entry's or of one "
        "given in protocols; got 'our-mwf'"
    )
    (offered,) = place([entry], clinic=ONE_CHAIR, folder=tmp_path, plans=[edited],
                       protocols=[own], now=NOW)  # fmt: skip
    assert offered.plan is not None
    assert capacity_errors(offered.plan, list(plan_bookings(edited, protocol=own))) == []


def test_the_waitlist_command_reads_a_plan_with_its_protocol(tmp_path: Path) -> None:
    """`ketaplan waitlist` names the plan's file, and takes its protocol with --protocol."""
    protocol = tmp_path / "our-mwf.json"
    own = MWF.model_copy(update={"id": "our-mwf"})
    protocol.write_text(own.model_dump_json(), encoding="utf-8")
    plan_file = tmp_path / "first.json"
    first = moved(made("first", demo_clinic(), protocol=own))
    plan_file.write_text(first.model_dump_json(), encoding="utf-8")
    waitlist = tmp_path / "waitlist.toml"
    waitlist.write_text('[[patients]]\nid = "w-1"\nprotocol = "iv-ketamine-mwf"\n'
                        'start = 2026-11-30\n', encoding="utf-8")  # fmt: skip
    result = ketaplan("waitlist", str(waitlist), str(plan_file), "--now", "2026-11-20T09:00")
    assert (result.returncode, result.stderr) == (2, (
        f"ketaplan: error: {plan_file}: protocol: must be the id of a built-in protocol, of the "
        "waitlist's or of one given with --protocol FILE; got 'our-mwf'\n"
    ))  # fmt: skip
    code, text = run("waitlist", str(waitlist), str(plan_file), "--protocol", str(protocol),
                     "--now", "2026-11-20T09:00")  # fmt: skip
    assert (code, text.strip()) == (0, "w-1: iv-ketamine-mwf from Mon 30 Nov 2026 08:00")
