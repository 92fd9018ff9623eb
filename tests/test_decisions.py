"""Issue 12: ketaplan plans what the clinician decided; it does not decide.

Each test names the finding of the clinical review it reproduces and the source behind it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ketaplan import InputError, Plan, builtin_protocol_ids, load_protocol
from ketaplan._text import quantity
from ketaplan.checking import check
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.ics import to_ics
from ketaplan.plans import DecidedDose
from ketaplan.replanning import Assessed, Attended, Decided, Event, Missed, Requested, replan

from .helpers import plan

D = dt.date
NOW = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)


# -- Finding 1: first doses are not postponed to make the whole series fit ------------------


@pytest.mark.parametrize(
    ("protocol_id", "start", "first"),
    [
        # Spravato US PI (MDSI): 84 mg twice per week for 4 weeks; no rolling 7-day limit and
        # nothing that asks to wait for a whole series (spravato-pi-mdsi). The clinic is open on
        # Mon 21 Dec and Thu 24 Dec 2026. The intake is on the plan's start; the first dose
        # the day after it (Fri 18 Dec: the next open day is Mon 21 Dec).
        ("esketamine-mdsi", D(2026, 12, 18), D(2026, 12, 21)),
        ("esketamine-mdsi", D(2026, 12, 23), D(2026, 12, 24)),
        # Phillips 2019 / Murrough 2013: thrice weekly over about two weeks; Memorial Day (Mon
        # 25 May 2026) must not hold the first infusion back past Wed 20 May (its target, a
        # week after the intake). From Wed 20 May the six infusions miss their two weeks, so
        # the first goes earlier in its window (1-14 days after the intake, a tolerance with
        # no clinical source), on Fri 15 May, and the induction keeps every sourced rule.
        ("iv-ketamine-mwf", D(2026, 5, 13), D(2026, 5, 15)),
    ],
)
def test_the_first_dose_goes_on_the_first_feasible_day(
    protocol_id: str, start: D, first: D
) -> None:
    made = plan(load_protocol(protocol_id), start=start, clinic=demo_clinic(),
                patient=demo_patient(), preferred_time=dt.time(9))  # fmt: skip
    assert made.appointments[0].id == "intake-1"
    assert made.appointments[0].local_date == start
    assert made.doses[0].local_date == first
    found = check(made, clinic=demo_clinic(), patient=demo_patient())
    assert [v for v in found if v.severity == "error"] == []
    # What the calendar could not give is said: a warning in check and a note in the plan.
    if found:
        assert {v.code for v in found} <= {"week-count", "phase-deadline"}
        assert any("start policy 'earliest'" in note for note in made.notes)


def test_a_whole_series_protocol_waits_and_says_how_long_and_why() -> None:
    mdsi = load_protocol("esketamine-mdsi").model_copy(update={"start": "whole-series"})
    made = plan(mdsi, start=D(2026, 12, 21), clinic=demo_clinic(), patient=demo_patient())
    # The intake on Mon 21 Dec; the first dose's target the day after it.
    first = made.doses[0].local_date
    assert first > D(2026, 12, 22)
    note = next(n for n in made.notes if n.startswith("induction-1 starts on"))
    assert f"{quantity((first - D(2026, 12, 22)).days, 'day')} after Tue 22 Dec 2026" in note
    assert "would have no feasible day after it" in note  # the cause
    found = check(made, protocol=mdsi, clinic=demo_clinic(), patient=demo_patient())
    assert [v for v in found if v.severity == "error"] == []


def test_a_first_day_the_clinic_is_closed_is_a_postponement_note() -> None:
    # Fri 25 Dec 2026 is Christmas Day at the demo clinic: the plan starts (with the intake)
    # on Mon 28 Dec and says so, with the cause of each day it could not take.
    made = plan(load_protocol("esketamine-trd"), start=D(2026, 12, 25), clinic=demo_clinic())
    assert made.appointments[0].local_date == D(2026, 12, 28)
    note = next(n for n in made.notes if n.startswith("intake-1 starts on"))
    assert "3 days after Fri 25 Dec 2026" in note
    assert "Christmas Day" in note


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
def test_no_builtin_sets_a_rolling_7_day_limit_its_sources_do_not_give(protocol_id: str) -> None:
    # The label's "twice per week" (spravato-pi-trd, spravato-pi-mdsi) and the trials' "thrice
    # weekly" are per-week cadences; none of the built-ins' sources gives a rolling limit.
    protocol = load_protocol(protocol_id)
    assert protocol.rules.max_per_7_days is None
    assert protocol.start == "earliest"


# -- Finding 2: the end-of-induction evaluation cannot vanish -------------------------------


def _mdsi_with_missed(missed: set[int], *, days_after_last: float) -> tuple[Plan, Plan]:
    """An MDSI plan, and its re-plan with the given induction doses missed, the rest attended."""
    clinic = demo_clinic()
    base = plan(load_protocol("esketamine-mdsi"), start=D(2027, 3, 1), clinic=clinic,
                preferred_time=dt.time(9))  # fmt: skip
    events: list[Event] = [
        Missed(appointment=f"induction-{n}")
        if n in missed
        else Attended(appointment=f"induction-{n}")
        for n in range(1, 9)
    ]
    as_of = base.appointment("induction-8").end + dt.timedelta(days=days_after_last)
    return base, replan(base, as_of=as_of, events=events, clinic=clinic)


@pytest.mark.parametrize("days_after_last", [1 / 24, 6])
def test_the_evaluation_follows_the_last_dose_that_took_place(days_after_last: float) -> None:
    # Spravato PI (MDSI): evaluate after 4 weeks of treatment; TRD: at the end of induction.
    # Dose 8 missed: the evaluation moves after dose 7; when its 0-4 day window has passed by
    # the re-plan, it goes as soon as possible and records why.
    _, after = _mdsi_with_missed({8}, days_after_last=days_after_last)
    evaluation = after.appointment("evaluation-induction-7")
    assert evaluation.status == "planned"
    assert after.appointment("evaluation-induction-8").status == "cancelled"
    found = check(after, clinic=demo_clinic())
    assert [v for v in found if v.severity == "error"] == []
    if days_after_last > 4:
        assert evaluation.shift is not None
        assert "stands in for a session that did not take place" in evaluation.shift.text
        assert "anchored-outside-window" in {v.code for v in found}


def test_check_still_requires_the_evaluation_after_a_missed_last_dose() -> None:
    _, after = _mdsi_with_missed({8}, days_after_last=1)
    without = after.model_copy(
        update={"appointments": tuple(a for a in after.appointments if a.anchored is None)}
    )
    found = check(without, clinic=demo_clinic())
    assert ("milestone-missing", ("induction-7",)) in {(v.code, v.appointments) for v in found}


# -- Finding 9: an evaluation after many missed doses says so --------------------------------


def test_an_evaluation_after_missed_doses_is_flagged_for_the_clinician() -> None:
    # 4 of 8 MDSI doses missed (the label's "continue" keeps the schedule): the evaluation
    # stands only if a clinician says so (attended_share, a ketaplan tolerance).
    _, after = _mdsi_with_missed({2, 4, 6, 8}, days_after_last=1 / 24)
    found = [
        v for v in check(after, clinic=demo_clinic()) if v.code == "milestone-after-few-sessions"
    ]
    assert len(found) == 1
    assert found[0].severity == "warning"
    assert "4 of the 8 induction sessions took place" in found[0].message
    assert any("4 of the 8 induction sessions took place" in note for note in after.notes)
    _, fine = _mdsi_with_missed(set(), days_after_last=1 / 24)
    assert "milestone-after-few-sessions" not in {v.code for v in check(fine, clinic=demo_clinic())}


# -- Finding 3: a lapse during induction; finding 5: decisions recorded ---------------------


def _trd_lapse_during_induction() -> tuple[Plan, Plan, dt.datetime]:
    """esketamine-trd, doses 1-3 attended, then 43 days without a session (clinical review X4)."""
    clinic = demo_clinic()
    base = plan(load_protocol("esketamine-trd"), start=D(2027, 3, 1), clinic=clinic,
                preferred_time=dt.time(9), until=D(2027, 9, 1))  # fmt: skip
    third = base.appointment("induction-3")
    as_of = third.end + dt.timedelta(days=43)
    events: list[Event] = [Attended(appointment=f"induction-{n}") for n in (1, 2, 3)]
    events += [
        Missed(appointment=a.id)
        for a in base.appointments
        if a.anchored is None and third.end < a.start < as_of
    ]
    return base, replan(base, as_of=as_of, events=events, clinic=clinic), as_of


def test_a_lapse_during_induction_suggests_re_induction_and_waits_for_the_decision() -> None:
    # Janssen medical information (spravato-missed-dose): patients who relapsed were
    # re-initiated with a second 4-week twice-weekly induction; the >28-day data (SUSTAIN-3)
    # concern patients already in maintenance. Re-initiating is the clinician's judgement, so
    # the plan resumes the course as it stands until the review's decision, every session
    # after the review provisional (a replan audit found the second induction booked, and the
    # old sessions cancelled, before anyone decided).
    base, after, _ = _trd_lapse_during_induction()
    proposal = next(p for p in after.proposals if p.id == "lapse-review-1")
    assert proposal.options == ("resume", "re-induce", "stop")
    assert (proposal.suggested, proposal.planned) == ("re-induce", "resume")
    assert proposal.source == "spravato-missed-dose"
    assert "decide-lapse-review-1" in {t.id for t in after.tasks}
    assert not any(a.id.startswith("course-2-") for a in after.appointments)
    review = after.appointment("lapse-review-1")
    later = [a for a in after.appointments if a.start > review.start and a.status == "planned"]
    assert later
    assert all(a.provisional for a in later)
    assert not review.provisional  # the review itself is to happen, whatever it decides
    # Nothing the plan had is cancelled for a decision not taken.
    kept = {a.id for a in base.appointments if a.start > review.start}
    assert {a.id for a in later} >= kept - {
        a.id for a in after.appointments if a.status != "planned"
    }
    assert not any(a.status == "cancelled" for a in after.appointments if a.id in kept)
    assert any(line.endswith("(the source suggests 're-induce')") for line in after.history)
    found = check(after, clinic=demo_clinic())
    assert [v for v in found if v.severity == "error"] == []


def test_the_review_decision_chooses_resume_or_re_induction() -> None:
    _, after, as_of = _trd_lapse_during_induction()
    clinic = demo_clinic()
    resumed = replan(after, as_of=as_of, clinic=clinic,
                     events=[Decided(proposal="lapse-review-1", decision="resume")])  # fmt: skip
    assert not any(a.id.startswith("course-2-") and a.is_active for a in resumed.appointments)
    assert resumed.proposals[0].decision is not None
    assert "decide-lapse-review-1" not in {t.id for t in resumed.tasks}
    # A decision stands: deciding the same proposal again is refused, naming it.
    with pytest.raises(InputError, match=r"events\[0\]\.proposal: must be an open proposal"):
        replan(resumed, as_of=as_of, clinic=clinic,
               events=[Decided(proposal="lapse-review-1", decision="re-induce")])  # fmt: skip
    again = replan(after, as_of=as_of, clinic=clinic,
                   events=[Decided(proposal="lapse-review-1", decision="re-induce",
                                   note="relapsed; second induction")])  # fmt: skip
    second = [a for a in again.appointments if a.id.startswith("course-2-induction-")]
    assert len(second) == 8  # the whole induction again, not maintenance every 2 weeks
    # The induction again, not the intake: the lapse review is the evaluation before it.
    assert not any(a.id.startswith("course-2-intake") for a in again.appointments)
    assert second[0].start >= again.appointment("lapse-review-1").end
    assert again.appointment("evaluation-course-2-induction-8").status == "planned"
    assert not any(a.provisional for a in again.appointments)  # decided: nothing waits
    assert [d.decision for d in again.decisions] == ["re-induce"]
    for made in (resumed, again):
        assert [v for v in check(made, clinic=clinic) if v.severity == "error"] == []


# -- Finding 6: the decided dose --------------------------------------------------------------


def test_a_decided_dose_the_menu_allows_is_recorded_and_checks_clean() -> None:
    # Spravato PI (TRD): day 1 56 mg, then 56 mg or 84 mg by efficacy and tolerability.
    clinic = demo_clinic()
    base = plan(load_protocol("esketamine-trd"), start=D(2027, 3, 1), clinic=clinic)
    second = base.appointment("induction-2")
    after = replan(base, as_of=second.end, clinic=clinic,
                   events=[Attended(appointment="induction-1", dose=56),
                           Attended(appointment="induction-2", dose=84)])  # fmt: skip
    given = after.appointment("induction-2")
    assert str(given.decided_dose) == "84 mg"
    assert given.dose == "56 mg or 84 mg"  # the menu stays beside the decision
    assert "dose-mismatch" not in {v.code for v in check(after, clinic=clinic)}
    # Clinic software that writes the dose given into the text is judged the same way.
    written = after.model_copy(update={"appointments": tuple(
        a.model_copy(update={"dose": "84 mg", "decided_dose": None}) if a.id == "induction-2" else a
        for a in after.appointments
    )})  # fmt: skip
    assert "dose-mismatch" not in {v.code for v in check(written, clinic=clinic)}


def test_a_dose_outside_the_menu_is_refused_and_reported() -> None:
    clinic = demo_clinic()
    base = plan(load_protocol("esketamine-trd"), start=D(2027, 3, 1), clinic=clinic)
    first = base.appointment("induction-1")
    with pytest.raises(InputError, match=r"events\[0\]\.dose: must be one of 56 mg"):
        replan(base, as_of=first.end, clinic=clinic,
               events=[Attended(appointment="induction-1", dose=84)])  # fmt: skip
    recorded = base.model_copy(update={"appointments": tuple(
        a.model_copy(update={"decided_dose": DecidedDose(amount=84, unit="mg")})
        if a.id == "induction-1" else a
        for a in base.appointments
    )})  # fmt: skip
    found = [v for v in check(recorded, clinic=clinic) if v.code == "dose-mismatch"]
    assert [v.appointments for v in found] == [("induction-1",)]
    assert "the decided dose is 84 mg" in found[0].message


# -- Findings 7 and 8: maintenance for responders, boosters, the response review --------------


@pytest.mark.parametrize(
    ("protocol_id", "last_induction"),
    [
        # Phillips 2019: responders (judged 24 h after infusion 6) got 4 weekly infusions.
        ("iv-ketamine-mwf", "induction-6"),
        # Glue 2018: responders received maintenance.
        ("sc-ketamine-anxiety", "escalation-3"),
    ],
)
def test_maintenance_for_responders_is_provisional_until_decided(
    protocol_id: str, last_induction: str
) -> None:
    clinic = demo_clinic()
    made = plan(load_protocol(protocol_id), start=D(2027, 3, 1), clinic=clinic,
                preferred_time=dt.time(9))  # fmt: skip
    maintenance = [a for a in made.appointments if a.phase == "maintenance"]
    assert maintenance
    assert all(a.provisional for a in maintenance)
    assert not any(a.provisional for a in made.appointments if a.phase != "maintenance")
    (proposal,) = made.proposals
    assert proposal.id == "start-maintenance"
    assert proposal.due == maintenance[0].local_date
    assert "decide-start-maintenance" in {t.id for t in made.tasks}
    # The response assessment: at least a day after the last induction session, before the
    # first maintenance session.
    review = made.appointment(f"response-review-{last_induction}")
    assert review.local_date > made.appointment(last_induction).local_date
    assert review.end <= maintenance[0].start
    assert "STATUS:TENTATIVE" in to_ics(made, now=NOW).decode()
    assert [v for v in check(made, clinic=clinic) if v.severity == "error"] == []
    # A responder: maintenance confirmed (a new revision, so calendars update the events).
    start = Decided(proposal="start-maintenance", decision="start-maintenance")
    go = replan(made, as_of=review.end, clinic=clinic, events=[start])
    confirmed = [a for a in go.appointments if a.phase == "maintenance" and a.is_active]
    assert confirmed
    assert not any(a.provisional for a in confirmed)
    assert all(a.revision >= 1 for a in confirmed)
    # Not a responder: the course stops, the past stays.
    stop = replan(made, as_of=review.end, clinic=clinic,
                  events=[Decided(proposal="start-maintenance", decision="stop")])  # fmt: skip
    assert not any(a.is_active for a in stop.appointments if a.phase == "maintenance")


def test_iv_boosters_follow_the_cited_clinic_and_are_offered_by_response() -> None:
    # iv-taper-clinic (Bionuu): the first booster 2 weeks after the series, the next 3 weeks
    # later, then about monthly; Oliver 2022: maintenance offered by clinical response.
    made = plan(load_protocol("iv-ketamine-standard"), start=D(2027, 3, 1), clinic=demo_clinic(),
                until=D(2027, 9, 1))  # fmt: skip
    sixth = made.appointment("induction-6")
    boosters = [a for a in made.appointments if a.phase == "maintenance"]
    assert [b.target for b in boosters[:3]] == [
        sixth.local_date + dt.timedelta(days=14),
        boosters[0].local_date + dt.timedelta(days=21),
        boosters[1].local_date + dt.timedelta(days=28),
    ]
    assert all(b.provisional for b in boosters)


def test_the_response_review_is_a_day_after_infusion_3_and_before_infusion_4() -> None:
    # Phillips 2019 judged response 24 h after an infusion; APA: few respond after three
    # infusions without one before, so the decision comes before infusion 4.
    clinic = demo_clinic()
    made = plan(load_protocol("iv-ketamine-standard"), start=D(2027, 3, 1), clinic=clinic)
    third, fourth = made.appointment("induction-3"), made.appointment("induction-4")
    review = made.appointment("response-review-induction-3")
    assert review.start - third.end >= dt.timedelta(hours=20)
    assert review.local_date > third.local_date
    assert review.end <= fourth.start
    late = fourth.start - review.start + dt.timedelta(hours=1)
    later = review.model_copy(update={"start": review.start + late, "end": review.end + late})
    moved = made.model_copy(update={"appointments": tuple(
        later if a.id == review.id else a for a in made.appointments
    )})  # fmt: skip
    found = [v for v in check(moved, clinic=clinic) if v.code == "anchored-outside-window"]
    assert any("must come before it" in v.message for v in found)


# -- Patient-requested boosters ---------------------------------------------------------------


def _iv_after_first_booster() -> tuple[Plan, dt.datetime]:
    """iv-ketamine-standard, the series and the first booster attended, maintenance decided."""
    clinic = demo_clinic()
    base = plan(load_protocol("iv-ketamine-standard"), start=D(2027, 3, 1), clinic=clinic,
                preferred_time=dt.time(9), until=D(2027, 9, 1))  # fmt: skip
    first = base.appointment("maintenance-1")
    events: list[Event] = [
        Attended(appointment=a.id) for a in base.appointments if a.start <= first.end
    ]
    events.append(Decided(proposal="start-maintenance", decision="start-maintenance"))
    return replan(
        base, as_of=first.end + dt.timedelta(days=5), events=events, clinic=clinic
    ), first.end


def test_a_requested_booster_plans_an_evaluation_then_the_booster() -> None:
    # Clinic practice (iv-booster-on-request: NY Ketamine, Principium): a booster when symptoms
    # return; the clinician decides at the evaluation, so the booster is provisional until then.
    clinic = demo_clinic()
    made, after_first = _iv_after_first_booster()
    as_of = after_first + dt.timedelta(days=6)
    asked = replan(made, as_of=as_of, clinic=clinic,
                   events=[Requested(note="symptoms back since Monday")])  # fmt: skip
    evaluation = asked.appointment("booster-1-evaluation")
    booster = next(a for a in asked.appointments if a.on_request)
    assert evaluation.start >= as_of
    assert evaluation.end <= booster.start
    assert (booster.local_date - evaluation.local_date).days <= 7
    assert booster.provisional
    (proposal,) = [p for p in asked.proposals if p.id == "booster-1"]
    assert proposal.options == ("booster", "continue")
    assert proposal.source == "iv-booster-on-request"
    assert [v for v in check(asked, clinic=clinic) if v.severity == "error"] == []
    # The clinician gives it: confirmed. Or not: the boosters return to their schedule.
    given = replan(asked, as_of=as_of, clinic=clinic,
                   events=[Decided(proposal="booster-1", decision="booster")])  # fmt: skip
    assert not next(a for a in given.appointments if a.on_request).provisional
    declined = replan(asked, as_of=as_of, clinic=clinic,
                      events=[Decided(proposal="booster-1", decision="continue")])  # fmt: skip
    assert not any(a.on_request and a.is_active for a in declined.appointments)
    for result in (given, declined):
        assert [v for v in check(result, clinic=clinic) if v.severity == "error"] == []


def test_a_booster_request_needs_a_protocol_that_allows_it() -> None:
    clinic = demo_clinic()
    made = plan(load_protocol("esketamine-trd"), start=D(2027, 3, 1), clinic=clinic)
    with pytest.raises(InputError, match=r"events\[0\]: must be a protocol that allows boosters"):
        replan(made, as_of=made.doses[0].end, clinic=clinic, events=[Requested()])


def test_a_qualifying_score_confirms_maintenance_for_a_responder() -> None:
    # Phillips 2019: response is a MADRS at least 50% below baseline; the responders went on.
    clinic = demo_clinic()
    made = plan(load_protocol("iv-ketamine-mwf"), start=D(2027, 3, 1), clinic=clinic)
    sixth = made.appointment("induction-6")
    baseline = Assessed(on=D(2027, 3, 1), scale="MADRS", score=30)
    lower = Assessed(on=sixth.local_date, scale="MADRS", score=18)
    not_yet = replan(made, as_of=sixth.end, clinic=clinic, events=[baseline, lower])
    assert not_yet.proposals[0].decision is None  # 40% lower: not a response
    responder = replan(not_yet, as_of=sixth.end + dt.timedelta(days=1), clinic=clinic,
                       events=[Assessed(on=sixth.local_date, scale="MADRS", score=14)])  # fmt: skip
    decision = responder.proposals[0].decision
    assert decision is not None
    assert (decision.decision, decision.by) == ("start-maintenance", "score")
    assert "53% below the baseline 30" in (decision.note or "")
    assert not any(a.provisional for a in responder.appointments)


# -- Found by an independent review of the decisions ------------------------------------------


def _trd_in_maintenance(tier: str = "every-2-weeks") -> tuple[Plan, dt.datetime]:
    clinic = demo_clinic()
    # The intake on Mon 23 Feb, the first dose a week later, on Mon 2 Mar.
    made = plan(load_protocol("esketamine-trd"), start=D(2026, 2, 23), clinic=clinic,
                preferred_time=dt.time(9), until=D(2026, 9, 1),
                tiers={"maintenance": tier})  # fmt: skip
    first = made.appointment("maintenance-1")
    held: list[Event] = [
        Attended(appointment=a.id) for a in made.appointments if a.end < first.start
    ]
    return replan(
        made, as_of=first.start - dt.timedelta(hours=1), events=held, clinic=clinic
    ), first.end


def test_two_step_backs_for_one_worsening_move_one_tier() -> None:
    clinic = demo_clinic()
    made, after_first = _trd_in_maintenance()
    raised = replan(made, as_of=after_first, clinic=clinic, events=[
        Missed(appointment="maintenance-1", worsening=True),
        Assessed(on=after_first.date(), scale="MADRS", score=20),
    ])  # fmt: skip
    assert {p.tier for p in raised.proposals} == {"weekly"}
    both = replan(raised, as_of=after_first, clinic=clinic, events=[
        Decided(proposal=p.id, decision="step-back") for p in raised.proposals
    ])  # fmt: skip
    assert both.tiers["maintenance"] == "weekly"  # not twice weekly


def test_a_second_score_on_the_same_day_gets_its_own_proposal() -> None:
    clinic = demo_clinic()
    made, after_first = _trd_in_maintenance("weekly")
    day = after_first.date()
    high = replan(made, as_of=after_first, clinic=clinic,
                  events=[Assessed(on=day, scale="MADRS", score=20)])  # fmt: skip
    decided = replan(high, as_of=after_first, clinic=clinic, events=[
        Decided(proposal=high.proposals[0].id, decision="continue")
    ])  # fmt: skip
    low = replan(decided, as_of=after_first, clinic=clinic,
                 events=[Assessed(on=day, scale="MADRS", score=8)])  # fmt: skip
    assert len(low.proposals) == 2
    assert low.proposals[1].id == f"{low.proposals[0].id}-2"
    assert low.proposals[1].options[0] == "step-down"


def test_a_stopped_course_takes_no_more_decisions_or_requests() -> None:
    clinic = demo_clinic()
    made, _ = _iv_after_first_booster()
    as_of = made.appointment("maintenance-1").end + dt.timedelta(days=7)
    stopped = replan(made, as_of=as_of, clinic=clinic, events=[Decided(decision="stop")])
    assert not any(a.provisional for a in stopped.appointments if a.status == "cancelled")
    for event in (Decided(decision="stop"), Requested()):
        with pytest.raises(InputError, match=r"events\[0\]: must be a course still going"):
            replan(stopped, as_of=as_of, clinic=clinic, events=[event])


def test_booster_requests_one_at_a_time_and_not_in_the_future() -> None:
    clinic = demo_clinic()
    made, after_first = _iv_after_first_booster()
    as_of = after_first + dt.timedelta(days=6)
    with pytest.raises(InputError, match=r"events\[1\]: must be no booster request still open"):
        replan(made, as_of=as_of, clinic=clinic, events=[Requested(), Requested()])
    tomorrow = as_of.date() + dt.timedelta(days=1)
    with pytest.raises(InputError, match=r"events\[0\]\.on: must be a day on or before"):
        replan(made, as_of=as_of, clinic=clinic, events=[Requested(on=tomorrow)])


def test_check_excuses_a_booster_gap_only_after_its_evaluation() -> None:
    clinic = demo_clinic()
    made, after_first = _iv_after_first_booster()
    asked = replan(made, as_of=after_first + dt.timedelta(days=6), clinic=clinic,
                   events=[Requested()])  # fmt: skip
    assert [v for v in check(asked, clinic=clinic) if v.severity == "error"] == []
    # The same early session without its evaluation is judged by its gap like any other.
    bare = asked.model_copy(update={"appointments": tuple(
        a for a in asked.appointments if a.id != "booster-1-evaluation"
    )})  # fmt: skip
    booster = next(a for a in bare.appointments if a.on_request)
    codes = {v.code for v in check(bare, clinic=clinic) if booster.id in v.appointments}
    assert "gap-below-absolute-minimum" in codes


def test_no_maintenance_for_a_non_responder_keeps_the_series() -> None:
    # Declining maintenance (stop on its start question) during the series ends the course
    # after the series, not at once: the induction is finished (review finding 13).
    clinic = demo_clinic()
    made = plan(load_protocol("iv-ketamine-mwf"), start=D(2027, 3, 1), clinic=clinic)
    second = made.appointment("induction-2")
    after = replan(made, as_of=second.end, clinic=clinic, events=[
        Attended(appointment="intake-1"),
        Attended(appointment="induction-1"), Attended(appointment="induction-2"),
        Decided(proposal="start-maintenance", decision="stop"),
    ])  # fmt: skip
    planned = [a.id for a in after.appointments if a.status == "planned" and a.anchored is None]
    assert planned == ["induction-3", "induction-4", "induction-5", "induction-6"]
    assert all(a.status == "cancelled" for a in after.appointments if a.phase == "maintenance")
    assert after.stopped_on is None
    assert [v for v in check(after, clinic=clinic) if v.severity == "error"] == []


def test_a_review_after_the_third_infusion_follows_the_third_that_took_place() -> None:
    # The APA consensus reviews response after three infusions: with infusion 3 missed and
    # reported later, the review follows the third infusion given, late if its window passed.
    clinic = demo_clinic()
    made = plan(load_protocol("iv-ketamine-standard"), start=D(2027, 3, 1), clinic=clinic,
                preferred_time=dt.time(9))  # fmt: skip
    fifth = made.appointment("induction-5")
    events: list[Event] = [Attended(appointment="induction-1"), Attended(appointment="induction-2"),
                           Missed(appointment="induction-3"), Attended(appointment="induction-4"),
                           Attended(appointment="induction-5")]  # fmt: skip
    as_of = fifth.end + dt.timedelta(days=3)  # as induction-6 ends
    after = replan(made, as_of=as_of, events=events, clinic=clinic)
    review = after.appointment("response-review-induction-4")
    assert review.status == "planned"
    assert review.shift is not None
    # induction-6, under way at as_of, keeps its words: what was said before now is the record
    assert [v for v in check(after, clinic=clinic, now=as_of) if v.severity == "error"] == []


def test_an_error_names_the_event_by_its_place_among_all_events() -> None:
    clinic = demo_clinic()
    made = plan(load_protocol("esketamine-trd"), start=D(2027, 3, 1), clinic=clinic)
    events: list[Event] = [Decided(decision="stop"), Missed(appointment="induction-99")]
    with pytest.raises(InputError, match=r"events\[1\]\.appointment"):
        replan(made, as_of=made.doses[0].end, clinic=clinic, events=events)
