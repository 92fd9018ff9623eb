"""What a re-plan does with what was recorded: it keeps it, and changes it only when told.

Found by an audit of re-planning (a clinician's decisions and the recorded past) and by a
clinic-staff walk-through of a week at the command line (2 December 2026):

- a recorded attendance, no-show, cancellation or dose was replaced by a later event without a
  trace (an infusion given became "missed" and a make-up infusion was booked);
- events listed out of order judged a recorded dose against a stale dose number (an 84 mg
  esketamine dose recorded as the first dose given; the label gives 56 mg on day 1);
- a session moved at the patient's request went back to its old day at the next re-plan;
- a lapse during induction booked a second induction before the review decided it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ketaplan import (
    Attended,
    Cancelled,
    Decided,
    InputError,
    Missed,
    Moved,
    Patient,
    PlacementRequest,
    Plan,
    first_available,
    load_protocol,
    plan_many,
    replan,
)
from ketaplan import plan as ketaplan_plan
from ketaplan.checking import check
from ketaplan.cli import main
from ketaplan.defaults import demo_clinic

from .helpers import clinic, patient, plan

D = dt.date
CLINIC = demo_clinic()
TRD = load_protocol("esketamine-trd")
IV = load_protocol("iv-ketamine-standard")


def _trd() -> Plan:
    return plan(TRD, start=D(2027, 3, 1), clinic=CLINIC, until=D(2027, 9, 1))


def _after(made: Plan, session: str, *events: Attended | Missed | Cancelled | Moved) -> Plan:
    """``made`` re-planned just after ``session`` ended, with ``events``."""
    return replan(made, as_of=made.appointment(session).end, clinic=CLINIC, events=list(events))


# -- a recorded outcome is replaced only by a correction ------------------------------------


@pytest.mark.parametrize(
    ("first", "then", "record"),
    [
        (Attended(appointment="induction-2", dose=84), Missed(appointment="induction-2"),
         "attended (84 mg)"),
        (Attended(appointment="induction-2", dose=84), Cancelled(appointment="induction-2"),
         "attended (84 mg)"),
        (Attended(appointment="induction-2", dose=56),
         Attended(appointment="induction-2", dose=84), "attended (56 mg)"),
        (Missed(appointment="induction-2"), Attended(appointment="induction-2"), "missed"),
    ],
)  # fmt: skip
def test_a_recorded_outcome_is_not_replaced_silently(
    first: Attended | Missed, then: Attended | Missed | Cancelled, record: str
) -> None:
    recorded = _after(_trd(), "induction-2", Attended(appointment="induction-1"), first)
    with pytest.raises(InputError) as raised:
        _after(recorded, "induction-2", then)
    assert raised.value.field == "events[0].correction"
    assert f"induction-2 is recorded {record}; the event says {then.type}" in str(raised.value)
    # The same two events in one re-plan: the second would replace the first.
    with pytest.raises(InputError, match=r"events\[2\]\.correction"):
        _after(_trd(), "induction-2", Attended(appointment="induction-1"), first, then)


def test_recording_the_same_outcome_again_changes_nothing() -> None:
    recorded = _after(_trd(), "induction-2", Attended(appointment="induction-1"),
                      Attended(appointment="induction-2", dose=84))  # fmt: skip
    again = _after(recorded, "induction-2", Attended(appointment="induction-2", dose=84),
                   Attended(appointment="induction-1"))  # fmt: skip
    assert again.appointments == recorded.appointments
    assert again.revision == recorded.revision
    assert again.history == recorded.history


def test_a_correction_replaces_the_record_and_history_keeps_the_old_one() -> None:
    recorded = _after(_trd(), "induction-2", Attended(appointment="induction-1"),
                      Attended(appointment="induction-2", dose=84))  # fmt: skip
    corrected = _after(recorded, "induction-2", Missed(appointment="induction-2", correction=True))
    second = corrected.appointment("induction-2")
    assert (second.status, second.decided_dose) == ("missed", None)
    assert corrected.history[-1].endswith(
        "induction-2 corrected: was recorded attended (84 mg), now missed"
    )
    assert recorded.appointment("induction-1") == corrected.appointment("induction-1")


def test_the_command_line_corrects_with_correct_prefix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = tmp_path / "plan.json"
    assert main(["plan", "iv-ketamine-standard", "--start", "2026-12-08", "--time", "09:00",
                 "--clinic", "demo", "--now", "2026-12-07T09:00",
                 "-o", str(made)]) == 0  # fmt: skip
    attended, fixed = tmp_path / "attended.json", tmp_path / "fixed.json"
    as_of = ["--as-of", "2026-12-15T12:00"]
    assert main(["replan", str(made), *as_of, "--event", "attended:induction-1",
                 "-o", str(attended)]) == 0  # fmt: skip
    assert main(["replan", str(attended), *as_of, "--event", "missed:induction-1",
                 "-o", str(fixed)]) == 2  # fmt: skip
    error = capsys.readouterr().err
    assert "--event[0].correction" in error
    assert "correct:EVENT" in error
    assert "Traceback" not in error
    assert not fixed.exists()
    assert main(["replan", str(attended), *as_of, "--event", "correct:missed:induction-1",
                 "-o", str(fixed)]) == 0  # fmt: skip
    # The front desk is told what changed (each calendar to update) and what it records.
    said = capsys.readouterr().out
    assert "changed (their calendars update): induction-1" in said
    assert "note: induction-1 corrected: was recorded attended, now missed" in said
    assert main(["replan", str(attended), *as_of, "--event",
                 "correct:moved:induction-3@2026-12-30T10:00", "-o", str(fixed)]) == 2  # fmt: skip
    assert "correct:attended:..." in capsys.readouterr().err


# -- doses are numbered by what took place, whatever the order of the events ------------------


@pytest.mark.parametrize("reverse", [False, True])
def test_a_dose_recorded_with_an_earlier_miss_is_judged_by_its_real_number(reverse: bool) -> None:
    # Spravato label (TRD induction): day 1 56 mg; 56 mg or 84 mg from the second dose.
    # With induction-1 missed, induction-2 is the first dose given: 84 mg is refused.
    events: list[Attended | Missed] = [
        Attended(appointment="intake-1"),
        Missed(appointment="induction-1"),
        Attended(appointment="induction-2", dose=84),
    ]
    events = events[::-1] if reverse else events
    with pytest.raises(InputError, match=r"dose: must be one of 56 mg for induction-2"):
        _after(_trd(), "induction-2", *events)
    events = [e if not isinstance(e, Attended) or e.dose is None
              else Attended(appointment="induction-2", dose=56) for e in events]  # fmt: skip
    first = _after(_trd(), "induction-2", *events).appointment("induction-2")
    assert (first.dose_number, first.dose, str(first.decided_dose)) == (1, "56 mg", "56 mg")


def test_a_miss_recorded_later_renumbers_the_doses_and_check_reports_the_dose() -> None:
    given = _after(_trd(), "induction-3", Attended(appointment="intake-1"),
                   Attended(appointment="induction-2", dose=84),
                   Attended(appointment="induction-3", dose=84))  # fmt: skip
    assert given.appointment("induction-2").dose_number == 2
    later = _after(given, "induction-3", Missed(appointment="induction-1"))
    assert later.appointment("induction-1").status == "missed"
    numbers = [a.dose_number for a in later.doses if a.phase == "induction"]
    assert numbers == [1, 2, 3, 4, 5, 6, 7]  # every dose given or to come, none stale
    found = [v for v in check(later, clinic=CLINIC) if v.code == "dose-mismatch"]
    assert [(v.appointments, v.severity) for v in found] == [(("induction-2",), "error")]
    assert "induction-2 is dose 1, for which the protocol allows 56 mg" in found[0].message


# -- a session a person moved stays where they moved it ---------------------------------------


def test_a_session_moved_by_request_stays_at_later_re_plans() -> None:
    made = plan(IV, start=D(2026, 12, 8), clinic=CLINIC, preferred_time=dt.time(9))
    first = made.appointment("induction-1")
    to = dt.datetime(2026, 12, 21, 14, tzinfo=CLINIC.zone)
    moved = replan(made, as_of=first.start - dt.timedelta(days=1), clinic=CLINIC,
                   events=[Moved(appointment="induction-2", to=to)])  # fmt: skip
    assert moved.appointment("induction-2").start == to
    quiet = replan(moved, as_of=first.start - dt.timedelta(hours=20), clinic=CLINIC)
    held = replan(moved, as_of=first.end, clinic=CLINIC,
                  events=[Attended(appointment="induction-1")])  # fmt: skip
    for later in (quiet, held):
        assert later.appointment("induction-2").start == to
        assert (
            later.appointment("induction-2").revision == moved.appointment("induction-2").revision
        )
    assert quiet.revision == moved.revision  # nothing changed, nothing to send


# -- a lapse review waits for its decision -----------------------------------------------------


def test_a_lapse_before_the_plan_proposes_and_the_plan_keeps_the_proposal() -> None:
    # home-sublingual: a lapse after 84 days asks for a review (mindbloom-return). A first plan
    # that starts after one records the review's question, with its task, like a re-plan.
    who = patient(history=[{"date": "2025-10-01", "product": "ketamine"}])
    made = plan(load_protocol("home-sublingual"), start=D(2026, 3, 2), clinic=clinic(), patient=who)
    (proposal,) = made.proposals
    assert (proposal.id, proposal.planned, proposal.decision) == ("lapse-review-1", "resume", None)
    assert "decide-lapse-review-1" in {t.id for t in made.tasks}
    assert all(a.provisional for a in made.appointments if a.id != "lapse-review-1")
    decided = replan(made, as_of=made.appointments[0].start - dt.timedelta(days=1),
                     clinic=clinic(), patient=who,
                     events=[Decided(proposal="lapse-review-1", decision="resume")])  # fmt: skip
    assert not any(a.provisional for a in decided.appointments)


# -- a session is never booked too late for its own instructions -------------------------------


def test_a_new_booking_leaves_time_for_its_instructions_and_a_kept_one_stays() -> None:
    # A replan audit: a step back decided at 11:30 placed the next dose at 11:30 that day with
    # "No food after 09:45", already past when it was booked (minimum_notice_hours defaults to
    # 0). A session booked before keeps its start however soon the re-plan runs: the patient
    # has followed its instructions since it was booked.
    made = ketaplan_plan(TRD, start=D(2027, 3, 1), clinic=CLINIC, until=D(2027, 9, 1),
                         now=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))  # fmt: skip
    weekly = made.appointment("maintenance-weekly-2")
    held = [Attended(appointment=a.id) for a in made.appointments
            if a.end <= weekly.start and a.status == "planned"]  # fmt: skip
    worse = replan(made, as_of=weekly.end, clinic=CLINIC,
                   events=[*held, Missed(appointment=weekly.id, worsening=True)])  # fmt: skip
    as_of = weekly.end + dt.timedelta(days=2, hours=1)  # Wed 14 Apr 2027 11:30
    back = replan(worse, as_of=as_of, clinic=CLINIC,
                  events=[Decided(proposal="step-back-maintenance-weekly-2",
                                  decision="step-back")])  # fmt: skip
    placed = back.appointment("maintenance-weekly-3")
    assert (placed.local_date, placed.booked_at) == (as_of.date(), as_of)  # placed that day
    fasting = [i.at for i in placed.instructions if i.kind.startswith("fasting") and i.at]
    assert fasting
    assert min(fasting) >= as_of  # no instruction already past when it was booked
    first = made.appointment("induction-1")
    early = replan(made, as_of=first.start - dt.timedelta(hours=1), clinic=CLINIC,
                   events=[Attended(appointment="intake-1")])  # fmt: skip
    assert early.appointment("induction-1") == first  # kept as booked: no new instructions


def test_a_session_cancelled_with_its_anchor_says_so() -> None:
    # A replan audit: an integration session whose dose was missed was set to cancelled with
    # its old reason, no cancellation class and no history: it read as a person's cancellation.
    kap = load_protocol("iv-ketamine-kap")
    made = plan(kap, start=D(2027, 3, 1), clinic=CLINIC)
    dose = made.appointment("dosing-1")
    held = [Attended(appointment=a.id) for a in made.appointments if a.end <= dose.start]
    after = replan(made, as_of=dose.end, clinic=CLINIC, events=[*held, Missed(appointment=dose.id)])
    integration = after.appointment("integration-dosing-1")
    assert integration.status == "cancelled"
    assert integration.cancellation is None  # nobody gave notice: it was not a person's
    assert integration.reason.startswith("cancelled with dosing-1, which was missed; was: ")
    assert after.history[-1].endswith(
        "integration-dosing-1 cancelled with dosing-1, which was missed"
    )


def test_a_lapse_review_whose_lapse_no_longer_stands_is_withdrawn() -> None:
    # A replan audit: with the doses after maintenance-1 unrecorded for 45 days, a re-plan
    # raised lapse-review-1 (sustain-3-lapse: more than 28 days without a dose); the doses
    # were then recorded attended, yet the review, its open proposal and its decide- task
    # stayed, and a decision to re-induce on it was accepted.
    made = _trd()
    first = made.appointment("maintenance-1")
    held = [Attended(appointment=a.id) for a in made.appointments
            if a.end <= first.end and a.status == "planned"]  # fmt: skip
    attended = replan(made, as_of=first.end, clinic=CLINIC, events=held)
    as_of = first.start + dt.timedelta(days=45)
    lapsed = replan(attended, as_of=as_of, clinic=CLINIC)
    assert "lapse-review-1" in {p.id for p in lapsed.proposals}
    past = [Attended(appointment=a.id) for a in lapsed.appointments
            if a.status == "planned" and a.start < as_of]  # fmt: skip
    recorded = replan(lapsed, as_of=as_of, clinic=CLINIC, events=past)
    review = recorded.appointment("lapse-review-1")
    assert review.status == "cancelled"
    assert review.reason.startswith("no longer needed: the lapse it was to review no longer stands")
    assert "lapse-review-1" not in {p.id for p in recorded.proposals}
    assert not any(t.id.startswith("decide-lapse-review") for t in recorded.tasks)
    assert any("lapse-review-1 withdrawn" in line for line in recorded.history)
    with pytest.raises(InputError, match=r"events\[0\]\.proposal"):
        replan(recorded, as_of=as_of, clinic=CLINIC,
               events=[Decided(proposal="lapse-review-1", decision="re-induce")])  # fmt: skip


def test_a_step_back_says_every_phase_it_moves_before_it_is_decided() -> None:
    # A replan audit: "step maintenance-weekly back from weekly to twice-weekly?" was asked, and
    # deciding it also moved week-9+ maintenance from every 2 weeks to weekly (by design: no
    # later phase less often than before the worsening), which the question never said and the
    # tier change's reason did not explain.
    made = _trd()
    weekly = made.appointment("maintenance-weekly-2")
    held = [Attended(appointment=a.id) for a in made.appointments
            if a.end <= weekly.start and a.status == "planned"]  # fmt: skip
    worse = replan(made, as_of=weekly.end, clinic=CLINIC,
                   events=[*held, Missed(appointment=weekly.id, worsening=True)])  # fmt: skip
    (proposal,) = worse.proposals
    assert proposal.question.endswith(
        "This also moves maintenance from every-2-weeks to weekly, so that no later phase is "
        "less often than before the worsening."
    )
    back = replan(worse, as_of=weekly.end, clinic=CLINIC,
                  events=[Decided(proposal=proposal.id, decision="step-back")])  # fmt: skip
    changes = {c.phase: c for c in back.tier_changes}
    assert (changes["maintenance"].before, changes["maintenance"].after) == (
        "every-2-weeks",
        "weekly",
    )
    assert "maintenance from every-2-weeks to weekly" in changes["maintenance"].reason


# -- found by a review of these changes --------------------------------------------------------

WHO = Patient(id="p1")
MADE = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def _mk(protocol: str = "esketamine-trd") -> Plan:
    return ketaplan_plan(load_protocol(protocol), start=D(2026, 11, 24), clinic=CLINIC,
                         patient=WHO, preferred_time=dt.time(9), now=MADE)  # fmt: skip


def _rp(made: Plan, at: dt.datetime, events: list[Any], **options: Any) -> Plan:
    return replan(made, as_of=at, events=events, clinic=CLINIC,
                  patient=options.pop("patient", WHO), **options)  # fmt: skip


def test_a_recorded_re_induction_is_applied_when_a_later_session_was_moved() -> None:
    made = _mk()
    as_of = made.appointment("induction-2").end + dt.timedelta(days=35)
    events: list[Any] = [Attended(appointment="induction-1"), Attended(appointment="induction-2")]
    events += [Missed(appointment=a.id) for a in made.doses
               if a.start < as_of and a.id not in ("induction-1", "induction-2")]  # fmt: skip
    lapsed = _rp(made, as_of, events)
    later = lapsed.appointment("maintenance-weekly-4")
    moved = _rp(lapsed, as_of, [Moved(appointment=later.id,
                                      to=later.start + dt.timedelta(days=1, hours=1))])  # fmt: skip
    decided = _rp(moved, as_of, [Decided(proposal="lapse-review-1", decision="re-induce")])
    assert any(a.id.startswith("course-2-induction-") for a in decided.appointments)


def test_an_anchored_session_moved_by_request_still_follows_its_anchor() -> None:
    made = _mk("iv-ketamine-kap")
    as_of = made.appointment("dosing-1").end + dt.timedelta(hours=1)
    second = made.appointment("integration-dosing-2")
    moved = _rp(made, as_of, [Attended(appointment="dosing-1"),
                              Moved(appointment=second.id,
                                    to=second.start + dt.timedelta(days=1, hours=2))])  # fmt: skip
    dose = moved.appointment("dosing-2")
    later = _rp(moved, as_of, [Moved(appointment="dosing-2",
                                     to=dose.start + dt.timedelta(days=3))])  # fmt: skip
    assert later.appointment(second.id).start > later.appointment("dosing-2").end
    assert "anchored-outside-window" not in {v.code for v in check(later, clinic=CLINIC)}


def test_a_review_booked_ahead_of_a_lapse_still_to_come_stays() -> None:
    made = _mk()
    first = made.appointment("maintenance-1")
    as_of = dt.datetime.combine(first.local_date + dt.timedelta(days=1), dt.time(7), CLINIC.zone)
    held = _rp(made, as_of, [Attended(appointment=a.id) for a in made.doses if a.start < as_of])
    away = first.local_date + dt.timedelta(days=2)  # a five-week holiday
    holiday = Patient.model_validate({"id": "p1", "blackouts": [
        {"start": str(away), "end": str(away + dt.timedelta(days=32))}]})  # fmt: skip
    ahead = _rp(held, as_of, [], patient=holiday, on_conflict="shift")
    assert "lapse-review-1" in {p.id for p in ahead.proposals}
    later = as_of + dt.timedelta(minutes=30)
    again = _rp(ahead, later, [], patient=holiday, on_conflict="shift")
    assert again.appointment("lapse-review-1").status == "planned"
    decided = _rp(ahead, later, [Decided(proposal="lapse-review-1", decision="resume")],
                  patient=holiday, on_conflict="shift")  # fmt: skip
    assert [d.decision for d in decided.decisions] == ["resume"]


def test_one_course_at_a_time_lets_first_available_and_plan_many_go_on() -> None:
    other = _mk("iv-ketamine-mwf")
    pain = load_protocol("iv-ketamine-pain")
    found = first_available(pain, start=D(2026, 12, 1), clinic=CLINIC, patient=WHO,
                            bookings=other.bookings(), now=MADE)  # fmt: skip
    assert found[0].doses[0].start > max(a.end for a in other.appointments if a.is_active)
    requests = [
        PlacementRequest(patient=WHO, protocol=pain, start=D(2026, 12, 1)),
        PlacementRequest(patient=Patient(id="p2"), protocol=pain, start=D(2026, 12, 1)),
    ]
    placed = plan_many(requests, CLINIC, bookings=other.bookings(), objective="in-order", now=MADE)
    assert placed[1].plan is not None  # the other patient is placed  # fmt: skip


def test_a_session_kept_at_its_start_keeps_the_moment_it_was_booked() -> None:
    made = _mk()
    second = made.appointment("induction-2")
    after = _rp(made, second.start - dt.timedelta(minutes=90), [Missed(appointment="induction-1")])
    kept = after.appointment("induction-2")
    assert (kept.start, kept.booked_at) == (second.start, second.booked_at)
    assert "instructions-before-booking" not in {v.code for v in check(after, clinic=CLINIC)}


def test_a_correction_to_attended_books_again_what_the_miss_cancelled() -> None:
    made = _mk("iv-ketamine-kap")
    as_of = made.appointment("dosing-1").end + dt.timedelta(hours=1)
    missed = _rp(made, as_of, [Missed(appointment="dosing-1")])
    assert missed.appointment("integration-dosing-1").status == "cancelled"
    fixed = _rp(missed, as_of, [Attended(appointment="dosing-1", correction=True)])
    assert fixed.appointment("integration-dosing-1").status == "planned"
    assert "milestone-missing" not in {v.code for v in check(fixed, clinic=CLINIC)}
    # A correction replayed (a cumulative events file) changes nothing more.
    again = _rp(fixed, as_of, [Attended(appointment="dosing-1", correction=True)])
    assert again.history == fixed.history


def test_a_cumulative_events_file_with_a_correction_replays() -> None:
    # A review of these changes: a file holding attended:induction-1 and, later, its
    # correction to missed worked once, then every later re-plan with the grown file refused
    # the first event (it contradicts the corrected record).
    made = _mk()
    second = made.appointment("induction-2")
    events: list[Any] = [Attended(appointment="induction-1"), Attended(appointment="induction-2"),
                         Missed(appointment="induction-1", correction=True)]  # fmt: skip
    first = _rp(made, second.end, events)
    assert first.appointment("induction-1").status == "missed"
    third = first.appointment("induction-3")
    again = _rp(first, third.end, [*events, Attended(appointment="induction-3")])
    assert again.appointment("induction-1").status == "missed"
    assert again.appointment("induction-3").status == "attended"
    assert [h for h in again.history if "corrected" in h] == [
        h for h in first.history if "corrected" in h
    ]
