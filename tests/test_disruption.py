"""Disruption re-planning (issue 16, "Disruption re-planning"; issue 14 section 2: nothing lost).

When the clinic closes a day, a chair is out of service or a staff member is absent,
``replan_disruption`` moves the fewest sessions that keep every rule, never an attended, missed or
past one, and reports who moved where and who could not be kept in their window.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ketaplan import _relocation as relocation
from ketaplan import checking, load_protocol
from ketaplan.checking import check
from ketaplan.cli import main
from ketaplan.clinic import CapacityChange, Clinic
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.disruption import Disrupted, DisruptionReport, replan_disruption
from ketaplan.errors import ClinicError, InputError
from ketaplan.ledger import Ledger
from ketaplan.loading import load_plan, loads_clinic
from ketaplan.openings import ClinicCalendar
from ketaplan.plans import Appointment, Plan
from ketaplan.protocol import Protocol
from ketaplan.replanning import Attended, Missed, replan

from .helpers import WEEKDAYS, clinic, plan

D = dt.date
START = D(2027, 3, 1)  # a Monday
NOW = dt.datetime(2027, 2, 20, 9, tzinfo=dt.UTC)


def series(count: int, *, minimum: int, target: int, maximum: int) -> Protocol:
    """Infusions ``minimum`` to ``maximum`` days apart (aiming at ``target``), no intake."""
    data = load_protocol("iv-ketamine-standard").model_dump()
    gap = {"absolute_minimum": minimum, "minimum": minimum, "target": target, "maximum": maximum}
    induction = next(p for p in data["phases"] if p["id"] == "induction")
    induction.update(count=count, within_days=None, start=None, preferred_weekdays=[],
                     cadence={"type": "gap-sequence", "steps": [{"repeat": count - 1,
                                                                 "gap": gap}]})  # fmt: skip
    data.update(phases=[induction], anchored=[], boosters_on_request=None, tasks=[])
    data["rules"].update(consecutive_days="allowed", min_interval=None)
    return Protocol.model_validate(data)


def one_slot_clinic(**changes: Any) -> Clinic:
    """Open every day with room for exactly one 85-minute infusion start (09:00)."""
    return clinic(days=WEEKDAYS, hours="09:00-10:25", **changes)


def planned(protocol: Protocol, where: Clinic, count: int, **options: Any) -> list[Plan]:
    """``count`` patients planned one after another into ``where``'s shared ledger."""
    ledger = Ledger(where)
    made = []
    for number in range(count):
        options.setdefault("start", START)
        one = plan(protocol, clinic=where, bookings=ledger, plan_id=f"p{number}",
                   preferred_time=dt.time(9), now=NOW, **options)  # fmt: skip
        for booking in one.bookings():
            ledger.add(booking)
        made.append(one)
    return made


def changed(where: Clinic, change: CapacityChange) -> Clinic:
    return where.model_copy(update={"capacity_changes": (*where.capacity_changes, change)})


def errors_against_each_other(
    result: Disrupted, where: Clinic, protocol: Protocol, now: dt.datetime = NOW
) -> list[str]:
    """Every error ``check`` finds in each plan against all the others (issue 16's bar)."""
    found = []
    for one in result.plans:
        others = [b for other in result.plans if other.id != one.id for b in other.bookings()]
        found += [f"{one.id} {v.code} {v.appointments}"
                  for v in check(one, protocol=protocol, clinic=where, bookings=others, now=now)
                  if v.severity == "error"]  # fmt: skip
    return found


def moved_ids(before: list[Plan], after: tuple[Plan, ...]) -> set[tuple[str, str]]:
    """(plan, appointment) of every session whose time or chair changed."""
    out = set()
    for old, new in zip(before, after, strict=True):
        for a in old.appointments:
            b = new.appointment(a.id)
            if (a.start, a.resources) != (b.start, b.resources):
                out.add((old.id, a.id))
    return out


WEEKLY = series(4, minimum=5, target=7, maximum=9)


def test_a_closed_day_with_three_patients_moves_exactly_their_sessions() -> None:
    where = clinic(days=WEEKDAYS)
    plans = planned(WEEKLY, where, 3)
    day = plans[0].appointment("induction-2").local_date
    on_day = {(p.id, a.id) for p in plans for a in p.appointments if a.local_date == day}
    assert len(on_day) == 3
    change = CapacityChange(start=day, closed=True, reason="snow")
    result = replan_disruption(plans, clinic=where, change=change, now=NOW, protocols=[WEEKLY])
    assert moved_ids(plans, result.plans) == on_day
    report = result.report
    assert {(m.plan, m.appointment) for m in report.moves} == on_day
    assert all(m.kept_in_window and m.cause == "displaced" for m in report.moves)
    assert report.not_kept == ()
    assert report.plans_affected == 3
    assert errors_against_each_other(result, changed(where, change), WEEKLY) == []


def test_a_session_begun_on_the_closed_day_is_named_for_a_person_to_record() -> None:
    # A clinic-staff walk-through: snow closed a Monday at 11:00; the 09:00 session that had
    # begun was not moved (nothing before now moves) and the report did not name it.
    where = clinic(days=WEEKDAYS)
    plans = planned(WEEKLY, where, 3)
    session = plans[0].appointment("induction-2")
    change = CapacityChange(start=session.local_date, closed=True, reason="snow")
    now = session.start + dt.timedelta(minutes=30)
    result = replan_disruption(plans, clinic=where, change=change, now=now, protocols=[WEEKLY])
    begun = [(b.plan, b.appointment) for b in result.report.begun]
    assert (plans[0].id, "induction-2") in begun
    assert all(plans[0].id != m.plan or m.appointment != "induction-2" for m in result.report.moves)


def test_moved_sessions_are_recorded_never_lost() -> None:
    """Each move raises the revision, names the change and is a line of history (issue 14)."""
    where = clinic(days=WEEKDAYS)
    (before,) = planned(WEEKLY, where, 1)
    day = before.appointment("induction-2").local_date
    change = CapacityChange(start=day, closed=True, reason="snow")
    (after,) = replan_disruption([before], clinic=where, change=change, now=NOW,
                                 protocols=[WEEKLY]).plans  # fmt: skip
    old, new = before.appointment("induction-2"), after.appointment("induction-2")
    assert new.revision == old.revision + 1
    assert after.revision == before.revision + 1
    assert new.reason.startswith(f"moved (clinic closed on {day} (snow)) to ")
    assert new.booked_at == NOW
    assert [a.id for a in after.appointments] == [a.id for a in before.appointments]
    (line,) = [h for h in after.history if "induction-2 moved from" in h]
    assert old.start.isoformat() in line
    assert new.start.isoformat() in line


def test_a_chair_out_with_spare_chairs_moves_nobody() -> None:
    where = clinic(days=WEEKDAYS)  # 4 chairs
    plans = planned(WEEKLY, where, 2)
    day = plans[0].appointment("induction-2").local_date
    change = CapacityChange(start=day, chairs=2)
    result = replan_disruption(plans, clinic=where, change=change, now=NOW, protocols=[WEEKLY])
    assert result.report.moves == ()
    assert result.plans == tuple(plans)


def test_a_session_on_a_chair_out_of_service_moves_to_another_chair_at_its_time() -> None:
    """Four patients at 09:00 on chairs 1-4; chair 4 out and chair 1 free again at 11:00: the
    session on chair 4 keeps its time only if a chair is free then, else it moves."""
    where = clinic(days=WEEKDAYS, resources={"chairs": 4, "monitoring_staff": 4,
                                             "patients_per_staff": 2})  # fmt: skip
    plans = planned(WEEKLY, where, 4)
    day = plans[0].appointment("induction-2").local_date
    on_four = [p for p in plans if any(s.unit == 4 for a in p.appointments if a.local_date == day
                                       for s in a.resources)]  # fmt: skip
    assert len(on_four) == 1
    change = CapacityChange(start=day, chairs=1)
    result = replan_disruption(plans, clinic=where, change=change, now=NOW, protocols=[WEEKLY])
    (move,) = result.report.moves
    assert (move.plan, move.appointment, move.before_unit) == (on_four[0].id, "induction-2", 4)
    assert move.after_unit != 4
    assert move.kept_in_window
    assert errors_against_each_other(result, changed(where, change), WEEKLY) == []


def test_a_staff_member_absent_moves_one_of_two_patients_watched_together() -> None:
    """Two patients monitored at once by 2 staff; one absent: one session must move (and one
    is the known minimum: no session moving leaves the clinic over capacity)."""
    resources = {"chairs": 2, "monitoring_staff": 2, "patients_per_staff": 1}
    where = one_slot_clinic(resources=resources)
    plans = planned(WEEKLY, where, 2)
    day = plans[0].appointment("induction-2").local_date
    change = CapacityChange(start=day, monitoring_staff=1)
    result = replan_disruption(plans, clinic=where, change=change, now=NOW, protocols=[WEEKLY])
    assert len(moved_ids(plans, result.plans)) == 1
    assert errors_against_each_other(result, changed(where, change), WEEKLY) == []


def test_the_report_names_who_could_not_be_kept_in_their_window() -> None:
    """A thrice-weekly series losing its Wednesday cannot keep its weeks (Mon, Wed, Fri with
    two days between doses): the sessions that leave their windows, moved or not, are named,
    each with a plan note, and nothing breaks a rule ``check`` calls an error."""
    where = clinic()  # Mon-Fri
    protocol = load_protocol("iv-ketamine-mwf")
    plans = planned(protocol, where, 1, start=D(2027, 2, 22))
    second = plans[0].appointment("induction-2")
    change = CapacityChange(start=second.local_date, closed=True, reason="snow")
    result = replan_disruption(plans, clinic=where, change=change, now=NOW)
    report = result.report
    assert report.not_kept, report
    assert "induction-2" in {m.appointment for m in report.moves}
    (after,) = result.plans
    for move in report.not_kept:
        assert any(move.appointment in note and "could not be kept" in note
                   for note in after.notes)  # fmt: skip
    assert errors_against_each_other(result, changed(where, change), protocol) == []


def test_an_arrangement_judged_before_is_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The searches for fewest moves (in windows, then with warnings) meet the same
    arrangements: ``check`` runs once for each, and the answer is the one that running it every
    time gives, with the same count of arrangements judged."""
    where = clinic()  # Mon-Fri
    protocol = load_protocol("iv-ketamine-mwf")
    plans = planned(protocol, where, 1, start=D(2027, 2, 22))
    change = CapacityChange(start=plans[0].appointment("induction-2").local_date, closed=True,
                            reason="snow")  # fmt: skip
    runs = 0
    real = checking.check_trial

    def counted(*args: Any, **options: Any) -> Any:
        nonlocal runs
        runs += 1
        return real(*args, **options)

    monkeypatch.setattr(relocation, "check_trial", counted)
    remembered = replan_disruption(plans, clinic=where, change=change, now=NOW)
    with_memory = runs
    fresh = itertools.count()  # every arrangement new: check runs for each one judged
    monkeypatch.setattr(relocation, "_trial", lambda a: (a.id, next(fresh)))
    runs = 0
    every_time = replan_disruption(plans, clinic=where, change=change, now=NOW)
    assert remembered == every_time
    assert remembered.report.evaluations == every_time.report.evaluations
    assert with_memory < runs, (with_memory, runs)


# -- the minimum, where it is known ------------------------------------------------------------


def fewest_by_brute_force(one: Plan, protocol: Protocol, where: Clinic, day_range: int) -> int:
    """The fewest sessions of ``one`` that must change day for ``check`` to find no error.

    Tries every order-keeping assignment of the plan's future sessions to the clinic's one slot
    a day over ``day_range`` days from the plan's start (nothing goes before it), independently
    of the search under test.
    """
    future = [a for a in one.appointments if a.start > NOW]
    days = [one.start + dt.timedelta(days=n) for n in range(day_range)]
    best = len(future) + 1
    for chosen in itertools.combinations(days, len(future)):
        moved = sum(a.local_date != d for a, d in zip(future, chosen, strict=True))
        if moved >= best:
            continue
        items = [_on(a, d) for a, d in zip(future, chosen, strict=True)]
        trial = one.model_copy(update={"appointments": tuple(items)})
        # a trial moves times only; its words are written when a move is recorded
        if not [v for v in check(trial, protocol=protocol, clinic=where, now=NOW)
                if v.severity == "error" and v.code != "instructions-out-of-date"]:  # fmt: skip
            best = moved
    return best


def _on(appointment: Appointment, day: dt.date) -> Appointment:
    delta = dt.timedelta(days=(day - appointment.local_date).days)
    spans = tuple(s.model_copy(update={"start": s.start + delta, "end": s.end + delta})
                  for s in appointment.resources)  # fmt: skip
    return appointment.model_copy(update={
        "start": appointment.start + delta, "end": appointment.end + delta,
        "dosing_start": appointment.dosing_start + delta if appointment.dosing_start else None,
        "resources": spans, "booked_at": NOW})  # fmt: skip


@pytest.mark.parametrize(
    ("gaps", "closed", "fewest"),
    [
        ((2, 3, 4), "induction-2", 1),  # a day earlier keeps both gaps
        ((2, 3, 4), "induction-3", 1),
        ((2, 2, 3), "induction-2", 3),  # the next gaps are already the shortest: all follow
        ((2, 3, 3), "induction-2", 2),  # the one before moves a day later instead
        ((2, 2, 2), "induction-3", 4),  # exact gaps: the whole series moves
        ((3, 3, 5), "induction-1", 4),  # the first cannot go before the plan's start
    ],
)
def test_never_moves_more_sessions_than_needed(
    gaps: tuple[int, int, int], closed: str, fewest: int
) -> None:
    """On a clinic with one slot a day, the number of sessions moved is the minimum a brute
    force over every arrangement finds (issue 16's "where the minimum is known")."""
    minimum, target, maximum = gaps
    protocol = series(4, minimum=minimum, target=target, maximum=maximum)
    where = one_slot_clinic()
    (one,) = planned(protocol, where, 1)
    change = CapacityChange(start=one.appointment(closed).local_date, closed=True)
    closed_clinic = changed(where, change)
    assert fewest_by_brute_force(one, protocol, closed_clinic, day_range=20) == fewest
    result = replan_disruption([one], clinic=where, change=change, now=NOW, protocols=[protocol])
    assert len(moved_ids([one], result.plans)) == fewest
    assert all(m.kept_in_window for m in result.report.moves)
    assert errors_against_each_other(result, closed_clinic, protocol) == []


# -- never an attended, missed or past session -------------------------------------------------


@settings(max_examples=12)
# Found by a random run: a knock-on move's gap finding also names the session before it (a
# missed one, in the past), which the report listed as a session that "stays" outside its
# window; only the session a finding is about is outside.
@example(offset=5, kind="closed", days_done=5, missed=True)
@given(
    offset=st.integers(0, 24),
    kind=st.sampled_from(["closed", "chairs", "staff"]),
    days_done=st.integers(0, 10),
    missed=st.booleans(),
)
def test_never_moves_an_attended_missed_or_past_session(
    offset: int, kind: str, days_done: int, missed: bool
) -> None:
    """Random disruptions of four patients part-way through their series: whatever happened
    before ``now`` (attended, missed, past) stays exactly as it was, and nothing is lost."""
    resources = {"chairs": 2, "monitoring_staff": 1, "patients_per_staff": 2}
    where = clinic(days=WEEKDAYS, resources=resources)
    protocol = series(5, minimum=2, target=3, maximum=5)
    plans = planned(protocol, where, 4)
    now = dt.datetime.combine(START + dt.timedelta(days=days_done), dt.time(12), tzinfo=dt.UTC)
    plans = [_history(one, protocol, where, now, missed=missed) for one in plans]
    change = CapacityChange.model_validate(
        {"start": START + dt.timedelta(days=offset), "closed": kind == "closed",
         "chairs": int(kind == "chairs"), "monitoring_staff": int(kind == "staff")}
    )  # fmt: skip
    result = replan_disruption(plans, clinic=where, change=change, now=now, protocols=[protocol])
    for before, after in zip(plans, result.plans, strict=True):
        assert [a.id for a in after.appointments] == [a.id for a in before.appointments]
        for old in before.appointments:
            new = after.appointment(old.id)
            if old.status != "planned" or old.start < now:
                assert new == old, old.id
            assert new.status == old.status
    for move in result.report.moves:
        assert move.before >= now
        assert move.after is None or move.after >= now


def _history(one: Plan, protocol: Protocol, where: Clinic, now: dt.datetime, *,
             missed: bool) -> Plan:  # fmt: skip
    """``one`` with its sessions before ``now`` attended (the last one missed, if ``missed``)."""
    done = [a for a in one.appointments if a.end < now]
    if not done:
        return one
    events: list[Attended | Missed] = [Attended(appointment=a.id) for a in done]
    if missed:
        events[-1] = Missed(appointment=done[-1].id)
    return replan(one, as_of=now, events=events, protocol=protocol, clinic=where)


# -- wrong calls -------------------------------------------------------------------------------


def test_wrong_calls_raise_ketaplans_own_errors() -> None:
    where = clinic(days=WEEKDAYS)
    plans = planned(WEEKLY, where, 1)
    change = CapacityChange(start=START, chairs=1)
    with pytest.raises(InputError, match=r"change.chairs: must be at most the clinic's 4 chairs"):
        replan_disruption(plans, clinic=where, change=CapacityChange(start=START, chairs=9),
                          now=NOW, protocols=[WEEKLY])  # fmt: skip
    with pytest.raises(InputError, match=r"now: must be an aware datetime"):
        replan_disruption(plans, clinic=where, change=change, now=dt.datetime(2027, 1, 1))
    with pytest.raises(InputError, match=r"plans: must be a list of Plan"):
        replan_disruption("p.json", clinic=where, change=change, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"budget: must be a whole number from 1 to 100000"):
        replan_disruption(plans, clinic=where, change=change, now=NOW, budget=0)
    with pytest.raises(InputError, match=r"plans: must be plans with distinct ids"):
        replan_disruption(plans * 2, clinic=where, change=change, now=NOW, protocols=[WEEKLY])


def test_a_change_must_change_something() -> None:
    with pytest.raises(ValueError, match=r"must close the clinic or take something out"):
        CapacityChange(start=START)
    with pytest.raises(ValueError, match=r"closed: a closed day needs no other change"):
        CapacityChange(start=START, closed=True, chairs=1)
    assert CapacityChange(start=START, end=D(2027, 3, 3), monitoring_staff=1,
                          prescriber_absent=True).describe() == (
        "1 monitoring staff absent, no prescriber on site 2027-03-01 to 2027-03-03"
    )  # fmt: skip


# -- the command -------------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_the_command_writes_the_plans_and_reports_the_moves(tmp_path: Path) -> None:
    """``ketaplan clinic disrupt``: the plans re-planned into a folder, a table or JSON report,
    and exit 1 when a session could not be kept in its window (as ``replan`` with errors)."""
    where = demo_clinic()
    files = []
    for number, one in enumerate(planned(load_protocol("iv-ketamine-mwf"), where, 2)):
        files.append(tmp_path / f"patient-{number}.json")
        files[-1].write_text(one.model_dump_json())
    day = load_plan(files[0]).appointment("induction-2").local_date
    common = [*map(str, files), "--clinic", "demo", "--now", "2027-02-20T09:00"]
    code, text = _run("clinic", "disrupt", *common, "--from", str(day), "--chairs-out", "1",
                      "-o", str(tmp_path / "out"))  # fmt: skip
    assert code == 0
    assert f"1 chair out of service on {day}: 2 plans with sessions then\nnobody moves" in text
    code, text = _run("clinic", "disrupt", *common, "--close", str(day), "--reason", "snow",
                      "--format", "json", "-o", str(tmp_path / "closed"))  # fmt: skip
    data = json.loads(text.split("\nwrote")[0])
    named = data.pop("not_kept")
    report = DisruptionReport.model_validate(data)
    assert named == [[m.plan, m.appointment] for m in report.not_kept]
    assert code == (1 if report.not_kept else 0)
    assert {m.plan for m in report.moves} == {"p0", "p1"}
    after = load_plan(tmp_path / "closed" / "patient-0.json")
    assert after.appointment("induction-2").local_date != day
    assert after.revision == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--chairs-out", "1"], "--from: must be the first day of the change"),
        (["--from", "2027-03-01"], "the change: must be --close DATE, or --from DATE with"),
        (["--close", "2027-03-01", "--staff-out", "1"], "--close: must be used alone"),
        (["--from", "2027-03-01", "--chairs-out", "9"], "change.chairs: must be at most the cl"),
    ],
)
def test_the_command_refuses_a_change_it_cannot_read(
    tmp_path: Path, options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (one,) = planned(WEEKLY, demo_clinic(), 1)
    path = tmp_path / "p.json"
    path.write_text(one.model_dump_json())
    code, _ = _run("clinic", "disrupt", str(path), "--clinic", "demo", "--now",
                   "2027-02-20T09:00", "-o", str(tmp_path / "out"), *options)  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_clinic_file_lists_its_capacity_changes() -> None:
    """``capacity_changes`` in a clinic file: a closed day is closed, like a closure, and a
    chair out counts on its days only (issue 16)."""
    where = loads_clinic(
        'id = "c"\nname = "C"\ntime_zone = "America/New_York"\n'
        'opening_hours = { mon = ["08:00-18:00"], tue = ["08:00-18:00"] }\n'
        "resources = { chairs = 2 }\n"
        '[[capacity_changes]]\nstart = 2027-03-01\nclosed = true\nreason = "snow"\n'
        "[[capacity_changes]]\nstart = 2027-03-02\nend = 2027-03-09\nchairs = 1\n"
    )
    calendar = ClinicCalendar(where)
    assert calendar.closed_reason(D(2027, 3, 1)) == "clinic closed (closure: snow)"
    assert calendar.closed_reason(D(2027, 3, 2)) is None
    ledger = Ledger(where)
    for day, chairs in ((D(2027, 3, 2), 1), (D(2027, 3, 9), 1), (D(2027, 3, 10), 2)):
        noon = int(dt.datetime.combine(day, dt.time(12), tzinfo=where.zone).timestamp())
        assert ledger.available("chair", noon, noon + 3600) == chairs
    with pytest.raises(ClinicError, match=r"capacity_changes\[0\].chairs: must be at most"):
        loads_clinic(
            'id = "c"\nname = "C"\ntime_zone = "UTC"\nopening_hours = { mon = ["08:00-18:00"] }\n'
            "[[capacity_changes]]\nstart = 2027-03-01\nchairs = 1\n"
        )


def test_moved_sessions_are_told_the_ride_home_for_their_visit() -> None:
    """Found by a review: a closed day moved the last esketamine dose and its evaluation right
    after it to Monday, and the dose said "about 11:30", the evaluation then running to 12:00
    (the words of a moved session were written without its visit)."""
    where = demo_clinic()
    who = demo_patient()
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 11, 24), clinic=where,
                patient=who, preferred_time=dt.time(9), until=dt.date(2027, 3, 1),
                now=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))  # fmt: skip
    day = made.appointment("induction-8").local_date
    change = CapacityChange(start=day, closed=True, reason="snow")
    now = dt.datetime.combine(day - dt.timedelta(days=4), dt.time(9), tzinfo=where.zone)
    (after,) = replan_disruption([made], clinic=where, change=change, now=now, patients=[who]).plans
    dose, review = after.appointment("induction-8"), after.appointment("evaluation-induction-8")
    assert dose.local_date != day
    assert review.start == dose.end
    (home,) = [i.text for i in dose.instructions if i.kind == "escort"]
    assert f"about {review.end.astimezone(where.zone):%H:%M} on" in home
    found = check(after, clinic=where, patient=who, now=now)
    assert "instructions-out-of-date" not in {v.code for v in found}
