"""``status()`` and ``ketaplan status``: where every patient stands as of a moment (issue 15,
section 2), and late cancellations against no-shows (issue 15, section 5).

Each status is reached with a real plan, re-planned with the events that lead to it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ketaplan import (
    Attended,
    Cancelled,
    Decided,
    Event,
    InputError,
    Missed,
    PatientStatus,
    Plan,
    check,
    clinic_status,
    load_protocol,
    replan,
    status,
)
from ketaplan.defaults import demo_clinic
from ketaplan.standing import URGENCY, status_table
from tests.helpers import plan

from .test_cli import ketaplan, run

NY = demo_clinic().zone
CLINIC = demo_clinic()


def at(day: str, time: str = "09:00") -> dt.datetime:
    """A moment in New York, the demo clinic's zone."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=NY)


@pytest.fixture(scope="module")
def trd() -> Plan:
    """esketamine-trd from Mon 1 Mar 2027: intake 1 Mar, induction twice a week from 8 Mar."""
    return plan(
        load_protocol("esketamine-trd"),
        start=dt.date(2027, 3, 1),
        clinic=CLINIC,
        until=dt.date(2027, 9, 1),
    )


def attended_before(made: Plan, moment: dt.datetime) -> list[Attended]:
    return [Attended(appointment=a.id) for a in made.appointments if a.start < moment]


@pytest.fixture(scope="module")
def two_doses(trd: Plan) -> Plan:
    """The intake and induction 1-2 (Mon 8, Thu 11 Mar) recorded attended on Fri 12 Mar."""
    now = at("2027-03-12")
    return replan(trd, as_of=now, clinic=CLINIC, events=attended_before(trd, now))


# -- each status, with a real plan ---------------------------------------------------------------


def test_on_track_before_the_next_window_opens(two_doses: Plan) -> None:
    """induction-3 (Mon 15 Mar) may come from Sat 13 Mar: on Fri 12 Mar nothing is due yet."""
    standing = status(two_doses, as_of=at("2027-03-12", "12:00"))
    assert standing.status == "on-track"
    assert standing.phase == "induction"
    assert standing.next is not None
    assert standing.next.appointment == "induction-3"
    assert (standing.next.earliest, standing.next.latest) == (
        dt.date(2027, 3, 13),
        dt.date(2027, 3, 24),
    )
    assert standing.next.inside is True
    assert (standing.attended, standing.missed, standing.unrecorded) == (3, 0, ())
    assert "its window opens Sat 13 Mar 2027" in standing.why


def test_due_once_the_window_is_open(two_doses: Plan) -> None:
    standing = status(two_doses, as_of=at("2027-03-14"))
    assert standing.status == "due"
    assert "its window is open until Wed 24 Mar 2027" in standing.why


def test_a_past_session_still_planned_is_unrecorded_not_fine(two_doses: Plan) -> None:
    """The issue: a session still "planned" after its start is not recorded, never fine."""
    standing = status(two_doses, as_of=at("2027-03-15", "08:30"))  # induction-3 began 08:00
    assert standing.unrecorded == ("induction-3",)
    assert standing.status == "due"
    assert standing.next is not None
    assert standing.next.appointment == "induction-3"
    assert "induction-3 (08:00 on Mon 15 Mar 2027) is not recorded" in standing.why
    [session] = [s for s in standing.sessions if s.appointment == "induction-3"]
    assert (session.outcome, session.counted) == ("unrecorded", False)


def test_march_sessions_still_planned_in_late_april_are_overdue() -> None:
    """The issue's example: ``check(now=...)`` says nothing of a plan whose March sessions are
    still "planned" in late April; ``status`` says the patient is overdue, and which sessions
    nobody recorded (iv-ketamine-mwf has no lapse rule)."""
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2027, 3, 1), clinic=CLINIC)
    now = at("2027-04-26")
    assert check(made, clinic=CLINIC, now=now) == []
    standing = status(made, as_of=now)
    assert standing.status == "overdue"
    assert standing.days_late == 28  # intake-1's window ended Mon 29 Mar
    assert standing.unrecorded == tuple(a.id for a in made.appointments if a.start < now)
    assert "its window ended Mon 29 Mar 2027, 28 days ago" in standing.why


def test_lapsed_after_the_protocols_lapse_rule(trd: Plan) -> None:
    """esketamine-trd's rules.lapse: more than 28 days since the last dose recorded attended,
    with no evaluation between, is a lapse (SUSTAIN-3)."""
    first = trd.appointment("maintenance-1")  # Mon 10 May
    recorded = replan(trd, as_of=first.end, clinic=CLINIC, events=attended_before(trd, first.end))
    now = at("2027-06-20")  # 41 days later; maintenance-2 and -3 not recorded
    standing = status(recorded, as_of=now)
    assert standing.status == "lapsed"
    assert standing.lapse is not None
    assert (standing.lapse.last_dose, standing.lapse.days) == ("maintenance-1", 41)
    assert standing.lapse.lapsed
    assert not standing.lapse.reviewed
    assert "more than the protocol's 28 (rules.lapse)" in standing.why
    # 28 days after it is not yet a lapse ("more than"): the session is overdue.
    assert status(recorded, as_of=at("2027-06-07")).status == "overdue"
    # Recording the misses and re-planning places the review: the patient is no longer lapsed.
    missed = [Missed(appointment=s) for s in standing.unrecorded]
    replanned = replan(recorded, as_of=now, clinic=CLINIC, events=missed)
    after = status(replanned, as_of=now)
    assert after.status != "lapsed"
    assert after.lapse is not None
    assert after.lapse.reviewed
    assert after.next is not None
    assert after.next.appointment == "lapse-review-1"


@pytest.fixture(scope="module")
def worse(trd: Plan) -> Plan:
    """maintenance-weekly-2 (Mon 12 Apr) missed with worsening: a step back is proposed, due
    at the next session of the phase (Mon 19 Apr)."""
    weekly = trd.appointment("maintenance-weekly-2")
    events: list[Event] = [*attended_before(trd, weekly.start)]
    events.append(Missed(appointment=weekly.id, worsening=True))
    return replan(trd, as_of=weekly.end, clinic=CLINIC, events=events)


def test_awaiting_a_clinician_decision_once_it_is_due(worse: Plan) -> None:
    [proposal] = worse.proposals
    assert proposal.due == dt.date(2027, 4, 19)
    before = status(worse, as_of=at("2027-04-13"))
    assert before.status == "due"  # raised, but not due yet: listed, not the status
    assert [p.id for p in before.decisions] == [proposal.id]
    standing = status(worse, as_of=at("2027-04-19", "07:00"))
    assert standing.status == "awaiting-decision"
    assert standing.why.startswith(f"decision {proposal.id} was due Mon 19 Apr 2027")
    assert standing.missed == 1
    decided = replan(
        worse,
        as_of=at("2027-04-19", "07:00"),
        clinic=CLINIC,
        events=[Decided(proposal=proposal.id, decision="continue")],
    )
    assert status(decided, as_of=at("2027-04-19", "07:00")).status == "due"


def test_overdue_comes_before_a_decision(worse: Plan) -> None:
    """Precedence: the next session's window ended (Sun 2 May) and the decision is due too."""
    standing = status(worse, as_of=at("2027-05-03"))
    assert standing.status == "overdue"
    assert standing.decisions


def test_complete_when_every_session_is_recorded() -> None:
    made = plan(load_protocol("esketamine-mdsi"), start=dt.date(2027, 3, 1), clinic=CLINIC)
    end = made.appointments[-1].end
    done = replan(
        made,
        as_of=end,
        clinic=CLINIC,
        events=[Attended(appointment=a.id) for a in made.appointments],
    )
    standing = status(done, as_of=end + dt.timedelta(days=3))
    assert standing.status == "complete"
    assert standing.next is None
    assert standing.attended == len(made.appointments)
    # Until the last session is recorded, the patient is not complete.
    assert status(made, as_of=end + dt.timedelta(days=3)).status != "complete"


def test_complete_when_the_course_was_stopped(two_doses: Plan) -> None:
    """A stop cancels what is planned; the evaluation the induction still needs comes first."""
    stopped = replan(
        two_doses, as_of=at("2027-03-12", "10:00"), clinic=CLINIC, events=[Decided(decision="stop")]
    )
    before = status(stopped, as_of=at("2027-03-12", "10:00"))
    assert before.next is not None
    assert before.next.appointment == "evaluation-induction-2"
    assert before.cancelled == 0  # sessions a re-plan no longer needs are not cancellations
    evaluation = stopped.appointment("evaluation-induction-2")
    assert status(stopped, as_of=evaluation.end).status == "due"  # not recorded yet
    done = replan(
        stopped, as_of=evaluation.end, clinic=CLINIC, events=[Attended(appointment=evaluation.id)]
    )
    standing = status(done, as_of=at("2027-04-26"))
    assert standing.status == "complete"
    assert standing.why == "the course was stopped on Fri 12 Mar 2027"


def test_an_unbooked_session_is_worked_out_by_the_rules(two_doses: Plan) -> None:
    """A plan whose later sessions were removed by other software: the rules say what comes
    next after what was recorded, and that it is not booked."""
    kept = tuple(a for a in two_doses.appointments if a.status == "attended")
    edited = two_doses.model_copy(update={"appointments": kept, "proposals": ()})
    standing = status(edited, as_of=at("2027-03-26"))
    assert standing.status == "overdue"
    assert standing.next is not None
    assert (standing.next.appointment, standing.next.start) == (None, None)
    assert (standing.next.phase, standing.next.latest) == ("induction", dt.date(2027, 3, 24))
    assert "the next esketamine-dose (induction) is not booked" in standing.why


# -- past doses: whether each counted ------------------------------------------------------------


def test_a_dose_outside_its_window_did_not_count(trd: Plan) -> None:
    """induction-2 given the day after induction-1: the cadence asks 2 days apart, the label
    48 h; it took place but did not count, and the status says why (check's own judgement)."""
    first = trd.appointment("induction-1")
    events = [
        Attended(appointment="intake-1"),
        Attended(appointment="induction-1"),
        Attended(appointment="induction-2", at=first.start + dt.timedelta(days=1)),
    ]
    moved = replan(trd, as_of=first.end + dt.timedelta(days=1), clinic=CLINIC, events=events)
    standing = status(moved, as_of=first.end + dt.timedelta(days=2))
    counted = {s.appointment: s.counted for s in standing.sessions}
    assert counted == {"intake-1": None, "induction-1": True, "induction-2": False}
    [second] = [s for s in standing.sessions if s.appointment == "induction-2"]
    assert any("less than 48 h after induction-1" in why for why in second.why)
    assert {v.message for v in check(moved, clinic=CLINIC) if "induction-2" in v.appointments} >= {
        why for why in second.why if "48 h" in why
    }


# -- cancellations: reported in the status (tests/test_cancellations.py classes them) ------------


def test_late_cancellations_and_no_shows_are_reported(two_doses: Plan) -> None:
    """induction-3 (08:00 Mon 15 Mar) cancelled at 20:00 the evening before: late."""
    late = replan(
        two_doses,
        as_of=at("2027-03-14", "21:00"),
        clinic=CLINIC,
        events=[Cancelled(appointment="induction-3", made_at=at("2027-03-14", "20:00"))],
    )
    standing = status(late, as_of=at("2027-03-16"))
    assert (standing.cancelled, standing.late_cancellations, standing.missed) == (1, 1, 0)
    [session] = [s for s in standing.sessions if s.appointment == "induction-3"]
    assert (session.outcome, session.cancellation, session.counted) == ("cancelled", "late", False)
    assert "attended 3, missed 0, cancelled 1 (1 late)" in status_table([standing])
    no_show = replan(
        two_doses,
        as_of=at("2027-03-15", "12:00"),
        clinic=CLINIC,
        events=[Missed(appointment="induction-3")],
    )
    standing = status(no_show, as_of=at("2027-03-16"))
    assert (standing.cancelled, standing.late_cancellations, standing.missed) == (0, 0, 1)


# -- many plans ----------------------------------------------------------------------------------


def test_a_clinic_list_is_sorted_by_urgency(trd: Plan, two_doses: Plan, worse: Plan) -> None:
    """two_doses: 39 days since induction-2 (the evaluation between was not recorded); trd:
    nothing recorded, no dose yet, so no lapse."""
    now = at("2027-04-19", "07:00")
    mdsi = plan(load_protocol("esketamine-mdsi"), start=dt.date(2027, 3, 1), clinic=CLINIC)
    done = replan(
        mdsi,
        as_of=now,
        clinic=CLINIC,
        events=[Attended(appointment=a.id) for a in mdsi.appointments],
    )
    later = plan(
        load_protocol("esketamine-trd"), start=dt.date(2027, 5, 3), clinic=CLINIC, plan_id="later"
    )
    # worse and two_doses are re-plans of trd: here they stand for three patients' plans.
    worse = worse.model_copy(update={"id": "worse"})
    two_doses = two_doses.model_copy(update={"id": "two-doses"})
    found = clinic_status([later, done, worse, two_doses, trd], as_of=now)
    assert [s.status for s in found] == [
        "lapsed",
        "overdue",
        "awaiting-decision",
        "on-track",
        "complete",
    ]
    assert [s.plan for s in found] == [two_doses.id, trd.id, worse.id, "later", done.id]
    assert [URGENCY.index(s.status) for s in found] == sorted(
        URGENCY.index(s.status) for s in found
    )


def test_ties_go_to_the_longest_late() -> None:
    mwf = load_protocol("iv-ketamine-mwf")
    early = plan(mwf, start=dt.date(2027, 3, 1), clinic=CLINIC, plan_id="early")
    late = plan(mwf, start=dt.date(2027, 3, 15), clinic=CLINIC, plan_id="late")
    found = clinic_status([late, early], as_of=at("2027-05-03"))
    assert [(s.plan, s.status) for s in found] == [("early", "overdue"), ("late", "overdue")]
    assert found[0].days_late > found[1].days_late


# -- bad input -----------------------------------------------------------------------------------


def test_bad_arguments_raise_input_errors(trd: Plan) -> None:
    with pytest.raises(InputError, match="as_of: must be an aware datetime"):
        status(trd, as_of=dt.datetime(2027, 3, 1, 9))
    with pytest.raises(InputError, match="plan: must be a Plan"):
        status("plan.json", as_of=at("2027-03-01"))  # type: ignore[arg-type]
    other = CLINIC.model_copy(update={"id": "elsewhere"})
    with pytest.raises(InputError, match="clinic: must be the plan's clinic"):
        status(trd, as_of=at("2027-03-01"), clinic=other)
    with pytest.raises(InputError, match="plans: must be a list of Plan"):
        clinic_status(trd, as_of=at("2027-03-01"))  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"plans\[1\]: must be a Plan"):
        clinic_status([trd, "x"], as_of=at("2027-03-01"))  # type: ignore[list-item]


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def plan_files(tmp_path: Path, two_doses: Plan) -> list[Path]:
    first = tmp_path / "trd.json"
    first.write_text(two_doses.model_dump_json())
    second = tmp_path / "mwf.json"
    code, _ = run(
        "plan",
        "iv-ketamine-mwf",
        "--start",
        "2027-03-01",
        "--clinic",
        "demo",
        "--now",
        "2027-02-22T09:00",
        "--plan-id",
        "mwf",
        "--format",
        "json",
        "-o",
        str(second),
    )
    assert code == 0
    return [first, second]


def test_the_command_prints_a_table_most_urgent_first(plan_files: list[Path]) -> None:
    code, text = run("status", *map(str, plan_files), "--as-of", "2027-03-30T09:00")
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "As of 2027-03-30T09:00-04:00: 2 plans (2 overdue)"
    assert lines[2].split() == ["STATUS", "PATIENT", "PHASE", "NEXT", "WINDOW"]
    # induction-3's window ended Wed 24 Mar (6 days); the mwf intake's on Mon 29 Mar (1 day).
    assert lines[3].split()[1:4] == [two_doses_patient(plan_files[0]), "induction", "induction-3"]
    rows = [line.split() for line in lines if line.startswith("overdue")]
    assert [row[1] for row in rows][1:] == ["mwf"]
    assert "its window ended Wed 24 Mar 2027, 6 days ago" in " ".join(text.split())
    assert max(map(len, lines)) <= 80


def two_doses_patient(path: Path) -> str:
    made = Plan.model_validate_json(path.read_text())
    return made.patient or made.id


def test_the_command_prints_json(plan_files: list[Path]) -> None:
    code, text = run(
        "status",
        *map(str, plan_files),
        "--as-of",
        "2027-03-14T09:00",
        "--clinic",
        "demo",
        "--format",
        "json",
    )
    assert code == 0
    rows = [PatientStatus.model_validate(row) for row in json.loads(text)]
    assert [(row.plan, row.status) for row in rows] == [("mwf", "due"), (rows[1].plan, "due")]
    assert rows[1].next is not None
    assert rows[1].next.appointment == "induction-3"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2027-03-14"], "--as-of: must be a date and time YYYY-MM-DDTHH:MM"),
        (["--as-of", "2027-03-14T09:00", "--clinic", "nowhere.toml"], "nowhere.toml"),
    ],
)
def test_user_errors_exit_2_without_a_traceback(
    plan_files: list[Path], args: list[str], message: str
) -> None:
    done = ketaplan("status", str(plan_files[0]), *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_an_empty_list_says_so() -> None:
    assert status_table([]) == "no plans"


def test_a_past_review_not_recorded_does_not_count_for_the_planner_either(trd: Plan) -> None:
    """One rule for status and replan (rules.course.taken): a review still "planned" after its
    start may not have happened, so a re-plan places another, as status reports the lapse."""
    first = trd.appointment("maintenance-1")
    recorded = replan(trd, as_of=first.end, clinic=CLINIC, events=attended_before(trd, first.end))
    now = at("2027-06-20")
    missed = [Missed(appointment=s) for s in status(recorded, as_of=now).unrecorded]
    reviewed = replan(recorded, as_of=now, clinic=CLINIC, events=missed)
    review = reviewed.appointment("lapse-review-1")
    later = review.end + dt.timedelta(days=2)  # the review's time has passed, nothing recorded
    assert status(reviewed, as_of=later).status == "lapsed"
    again = replan(reviewed, as_of=later, clinic=CLINIC)
    reviews = [
        a
        for a in again.appointments
        if a.anchored is not None and a.id.startswith("lapse-review") and a.start >= later
    ]
    assert reviews  # a new review before the next dose, not the unrecorded one  # fmt: skip
    assert status(again, as_of=later).status != "lapsed"


def test_each_plan_and_protocol_is_given_once(tmp_path: Path) -> None:
    """Hostile review: `status p.json p.json` counted one plan twice, and a --protocol no plan
    uses (or two protocols with one id: the last won) changed nothing without a word."""
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2027, 3, 1), plan_id="p-1")
    as_of = dt.datetime(2027, 3, 3, 9, tzinfo=dt.UTC)
    with pytest.raises(InputError) as raised:
        clinic_status([made, made], as_of=as_of)
    assert str(raised.value) == (
        "plans[1].id: must be unique among the plans (each plan once); got 'p-1'"
    )
    path = tmp_path / "p.json"
    path.write_text(made.model_dump_json())
    twice = ketaplan("status", str(path), str(path), "--as-of", "2027-03-03T09:00")
    assert twice.returncode == 2
    assert twice.stderr == (  # the file is named, not its place in a list
        f"ketaplan: error: {path}: id: must be unique among the plans (each plan once); got 'p-1'\n"
    )
    result = ketaplan("status", str(path), "--as-of", "2027-03-03T09:00",
                      "--protocol", "iv-ketamine-standard")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "ketaplan: error: --protocol: must be one that a plan uses (iv-ketamine-mwf); "
        "got 'iv-ketamine-standard'\n"
    )


def test_an_equal_copy_of_a_protocol_is_no_second_protocol() -> None:
    """Review: loading the protocol once for each plan is natural; equal copies are not two
    protocols with one id (plans still are never given twice)."""
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2027, 3, 1), plan_id="p-1")
    other = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2027, 3, 1), plan_id="p-2")
    as_of = dt.datetime(2027, 3, 3, 9, tzinfo=dt.UTC)
    found = clinic_status([made, other], as_of=as_of,
                          protocols=[load_protocol(p.protocol) for p in (made, other)])  # fmt: skip
    assert len(found) == 2
    changed = load_protocol("iv-ketamine-mwf").model_copy(update={"name": "Another"})
    with pytest.raises(InputError, match=r"^protocols\[1\]\.id: must be unique"):
        clinic_status([made], as_of=as_of, protocols=[load_protocol("iv-ketamine-mwf"), changed])
