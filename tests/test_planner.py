"""plan(): the clinical acceptance cases, calendars, DST, capacity and errors."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from ketaplan import (
    InputError,
    LimitError,
    LocalTimeError,
    UnsatisfiableError,
    builtin_protocol_ids,
    load_protocol,
    loads_protocol,
)
from ketaplan.bookings import Booking
from ketaplan.checking import check
from ketaplan.defaults import demo_clinic
from ketaplan.ledger import Ledger
from ketaplan.plans import Plan

from .helpers import assert_no_overlap, assert_series_invariants, clinic, local_days, patient, plan

D = dt.date
NY = zoneinfo.ZoneInfo("America/New_York")
MON_THU = {"mon": ["08:00-12:00"], "thu": ["08:00-12:00"]}
END_OF_MARCH = D(2025, 3, 31)


# -- appendix B: the label and the literature ---------------------------------------------------


class TestEsketamineTrdLabelSchedule:
    """Appendix B case 1: first dose Mon 2025-01-06 with Mon/Thu slots.

    The intake (the pre-treatment evaluation) is on Mon 30 Dec 2024, the plan's start; the
    first dose follows it by the gap's target of 7 days.
    """

    protocol = load_protocol("esketamine-trd")
    where = clinic()
    who = patient(availability=MON_THU, enrollments=["spravato-rems"])

    def make(self, until: D = END_OF_MARCH, **options: object) -> Plan:
        return plan(
            self.protocol,
            start=D(2024, 12, 30),
            clinic=self.where,
            patient=self.who,
            until=until,
            preferred_time=dt.time(9),
            **options,
        )

    def test_weeks_1_to_4_twice_weekly(self) -> None:
        doses = self.make().doses
        assert [a.local_date for a in doses[:8]] == [
            D(2025, 1, 6), D(2025, 1, 9), D(2025, 1, 13), D(2025, 1, 16),
            D(2025, 1, 20), D(2025, 1, 23), D(2025, 1, 27), D(2025, 1, 30),
        ]  # fmt: skip
        assert {a.phase for a in doses[:8]} == {"induction"}

    def test_weeks_5_to_8_weekly(self) -> None:
        doses = self.make().doses
        assert [a.local_date for a in doses[8:12]] == [
            D(2025, 2, 3), D(2025, 2, 10), D(2025, 2, 17), D(2025, 2, 24),
        ]  # fmt: skip
        assert {a.phase for a in doses[8:12]} == {"maintenance-weekly"}

    def test_week_9_every_two_weeks_by_default(self) -> None:
        doses = self.make().doses
        # 14 days after the last weekly dose: day 64, in week 10. The label leaves week 9 or
        # 10 open (Appendix B case 1); the protocol documents the choice (maintenance-default).
        assert doses[12].local_date == D(2025, 3, 10)
        assert (doses[12].local_date - doses[0].local_date).days // 7 + 1 == 10
        assert doses[12].phase == "maintenance"
        assert doses[13].local_date == D(2025, 3, 24)

    def test_week_9_weekly_when_chosen(self) -> None:
        doses = self.make(tiers={"maintenance": "weekly"}).doses
        assert [a.local_date for a in doses[12:15]] == [
            D(2025, 3, 3),
            D(2025, 3, 10),
            D(2025, 3, 17),
        ]

    def test_doses_56_then_56_or_84(self) -> None:
        doses = self.make().doses
        assert doses[0].dose == "56 mg"
        assert all(a.dose == "56 mg or 84 mg" for a in doses[1:])

    def test_chair_block_covers_dosing_and_two_hours(self) -> None:
        for appointment in self.make().doses:
            assert appointment.dosing_start is not None
            assert appointment.end - appointment.dosing_start >= dt.timedelta(minutes=15 + 120)
            chair = [s for s in appointment.resources if s.resource == "chair"]
            assert len(chair) == 1
            assert chair[0].start == appointment.start
            assert chair[0].end == appointment.end
            assert any(s.resource == "prescriber" for s in appointment.resources)

    def test_evaluation_at_the_end_of_induction(self) -> None:
        result = self.make()
        (evaluation,) = [a for a in result.appointments if a.anchored == "evaluation"]
        assert evaluation.kind == "consultation"
        assert evaluation.anchor == "induction-8"
        assert evaluation.local_date >= D(2025, 1, 30)
        assert evaluation.start >= result.appointment("induction-8").end

    def test_intake_consent_and_baseline_come_before_the_first_dose(self) -> None:
        # Clinical review section 3: the manufacturer's consultation then intake appointment
        # (item 1), informed consent before dose 1 (item 2), a baseline MADRS (item 5).
        result = self.make()
        intake, first = result.appointments[0], result.doses[0]
        assert (intake.id, intake.kind, intake.local_date) == (
            "intake-1",
            "consultation",
            D(2024, 12, 30),
        )
        assert intake.end <= first.start
        tasks = {t.id: t for t in result.tasks}
        consent = tasks["informed-consent-intake-1"]
        baseline = tasks["baseline-madrs-intake-1"]
        assert (consent.kind, baseline.kind) == ("confirmation", "assessment")
        assert consent.due == baseline.due == intake.local_date
        assert consent.due < first.local_date

    def test_transport_and_kit_are_checked_on_each_dosing_day(self) -> None:
        # A county SPRAVATO policy: verify transportation before treatment (item 4); REMS: a
        # pharmacy-dispensed kit within 14 days of its receipt (E13).
        result = self.make()
        expected = [(dose.id, dose.local_date) for dose in result.doses]
        for rule in ("transport-check", "kit-within-14-days"):
            tasks = [t for t in result.tasks if t.id.startswith(f"{rule}-")]
            assert sorted((t.appointment or "", t.due) for t in tasks) == sorted(expected)

    def test_maintenance_madrs_and_a_reassessment_after_every_6th_dose(self) -> None:
        # SUSTAIN-2's MADRS at each maintenance dose feeds the remission-guided rule; a
        # reassessment after every 6th (ASA's periodic visits; Mindbloom's every 6 sessions).
        result = self.make(until=D(2025, 9, 30))
        maintenance = [a for a in result.doses if a.phase == "maintenance"]
        assert len(maintenance) >= 12
        scored = {t.appointment for t in result.tasks if t.id.startswith("madrs-maintenance-")}
        assert scored == {a.id for a in maintenance}
        reassessments = [a for a in result.appointments if a.anchored == "periodic-reassessment"]
        assert [a.anchor for a in reassessments] == [a.id for a in maintenance[5::6]]
        for review in reassessments:
            assert review.kind == "consultation"
            assert (
                0
                <= (review.local_date - result.appointment(review.anchor or "").local_date).days
                <= 4
            )

    def test_rems_forms_due_within_7_days(self) -> None:
        result = self.make()
        forms = [t for t in result.tasks if t.kind == "form"]
        assert len(forms) == len(result.doses)
        for task in forms:
            assert task.appointment is not None
            session = result.appointment(task.appointment)
            assert task.due == session.local_date + dt.timedelta(days=7)

    def test_instructions_at_exact_local_times(self) -> None:
        first = self.make().doses[0]
        texts = {i.kind: i.text for i in first.instructions}
        # Check-in 09:00, dosing from 09:15: food until 07:15, liquids until 08:45.
        assert (
            texts["fasting-solids"] == "No food after 07:15 on Mon 6 Jan 2025 (2 h before dosing)."
        )
        assert texts["fasting-liquids"].startswith("No liquids after 08:45 on Mon 6 Jan 2025")
        assert texts["nasal-spray"].startswith(
            "If you use a nasal corticosteroid or decongestant that day, take it by 08:15"
        )
        assert texts["no-driving"] == (
            "Do not drive or operate machinery until Tue 7 Jan 2025, after a restful sleep."
        )
        # spravatohcp: "Patients will require transportation from the treatment center"; an
        # adult escort is not asked for (clinical review E5).
        assert texts["escort"].startswith("Arrange your transportation home for about ")
        assert "adult" not in texts["escort"]
        # The label's "avoid liquids for at least 30 minutes" is any liquid: no clear-liquid
        # wording, and the fasting source is the label's administration section.
        fasting = [i for i in first.instructions if i.kind.startswith("fasting")]
        assert {i.source for i in fasting} == {"spravato-pi-administration"}


@pytest.mark.parametrize(
    "protocol_id", ["iv-ketamine-standard", "iv-ketamine-mwf", "iv-ketamine-kap"]
)
def test_iv_fasting_allows_clear_liquids_until_2_hours_and_cites_the_fasting_source(
    protocol_id: str,
) -> None:
    # AMG Ketamine (iv-clinic-fasting): "no solids/milk 6 h; clear liquids until 2 h"; the
    # driver and no driving for 24 h come from the discharge source (clinical review S3, S4).
    result = plan(load_protocol(protocol_id), start=D(2026, 12, 7), clinic=clinic(),
                  until=D(2027, 3, 1))  # fmt: skip
    first = result.doses[0]
    dosing = (first.dosing_start or first.start).astimezone(NY)
    food = dosing - dt.timedelta(hours=6)
    liquids = dosing - dt.timedelta(hours=2)
    day = f"{dosing:%a} {dosing.day} {dosing:%b %Y}"
    by_kind = {i.kind: i for i in first.instructions}
    assert by_kind["fasting-solids"].text == (
        f"No food or milk after {food:%H:%M} on {day} (6 h before dosing)."
    )
    assert by_kind["fasting-liquids"].text == (
        f"Clear liquids only (no milk) until {liquids:%H:%M} on {day}, then nothing to drink "
        "(2 h before dosing)."
    )
    assert "No liquids" not in by_kind["fasting-liquids"].text
    assert by_kind["fasting-solids"].source == by_kind["fasting-liquids"].source
    assert by_kind["fasting-liquids"].source == "iv-clinic-fasting"
    assert by_kind["no-driving"].source == by_kind["escort"].source == "iv-clinic-discharge"


def test_unenrolled_patient_gets_a_requirement_task() -> None:
    result = plan(
        load_protocol("esketamine-trd"),
        start=D(2025, 1, 6),
        clinic=clinic(certifications=["spravato-rems"]),
        patient=patient(),
        until=D(2025, 2, 28),
    )
    (task,) = [t for t in result.tasks if t.kind == "requirement"]
    assert "enrolled in the SPRAVATO REMS" in task.title
    assert task.due == result.doses[0].local_date
    assert any("spravato-rems" in note for note in result.notes)


def test_mdsi_is_8_doses_then_evaluation_and_nothing_more() -> None:
    result = plan(load_protocol("esketamine-mdsi"), start=D(2025, 1, 6), clinic=clinic(),
                  until=D(2026, 1, 6))  # fmt: skip
    assert len(result.doses) == 8
    assert [a.dose for a in result.doses] == ["84 mg"] + ["84 mg or 56 mg"] * 7
    span = (result.doses[-1].local_date - result.doses[0].local_date).days + 1
    assert span <= 28
    last = result.appointments[-1]
    assert last.kind == "consultation"
    assert last.anchor == "induction-8"


def test_mwf_series_of_6_in_12_days_from_a_monday() -> None:
    result = plan(load_protocol("iv-ketamine-mwf"), start=D(2026, 11, 30), clinic=clinic())
    days = local_days(result)[:6]
    assert [d.strftime("%a") for d in days] == ["Mon", "Wed", "Fri", "Mon", "Wed", "Fri"]
    assert (days[-1] - days[0]).days + 1 == 12
    weekly = local_days(result)[6:]
    assert [(b - a).days for a, b in zip([days[-1], *weekly], weekly, strict=False)] == [7] * 4


def test_iv_standard_6_within_21_days_never_consecutive() -> None:
    protocol = load_protocol("iv-ketamine-standard")
    for offset in range(14):
        result = plan(protocol, start=D(2026, 1, 5) + dt.timedelta(days=offset), clinic=clinic())
        days = local_days(result)[:6]
        assert (days[-1] - days[0]).days + 1 <= 21
        assert all((b - a).days >= 2 for a, b in itertools.pairwise(days))
        review = [a for a in result.appointments if a.anchored == "response-review"]
        assert len(review) == 1
        assert review[0].anchor == "induction-3"


def test_pain_protocol_on_five_consecutive_days() -> None:
    result = plan(load_protocol("iv-ketamine-pain"), start=D(2026, 12, 2), clinic=clinic())
    days = local_days(result)
    assert [(b - a).days for a, b in itertools.pairwise(days)] == [1, 1, 1, 1]
    # Starting on a Wednesday would reach the weekend: the series waits for Monday.
    assert days[0] == D(2026, 12, 7)
    assert "series-2 would have no feasible day after it" in result.doses[0].reason


def test_kap_integration_after_each_dose() -> None:
    result = plan(load_protocol("iv-ketamine-kap"), start=D(2026, 3, 2), clinic=clinic())
    assert result.appointments[0].kind == "preparation"
    for dose in result.doses:
        (integration,) = [a for a in result.appointments if a.anchor == dose.id]
        assert 1 <= (integration.local_date - dose.local_date).days <= 3
    assert_no_overlap(result.appointments)


def test_home_protocol_has_a_prescriber_call_and_no_chair() -> None:
    result = plan(load_protocol("home-sublingual"), start=D(2026, 3, 2), clinic=clinic())
    assert all(a.resources == () for a in result.appointments)
    (call,) = [a for a in result.appointments if a.anchored == "prescriber-call"]
    assert call.anchor == "initial-1"
    assert 1 <= (call.local_date - result.doses[0].local_date).days <= 2
    peer = [i for i in result.doses[0].instructions if i.kind == "peer-monitor"]
    assert peer


def test_home_protocol_guide_calls_renewal_consults_and_no_driving() -> None:
    # Mindbloom: a Guide before and after sessions 1 and 2, a renewal consult "every 6
    # sessions"; no driving for 24 hours (derived from the IV clinics' rule; issue 13).
    result = plan(load_protocol("home-sublingual"), start=D(2026, 3, 2), clinic=clinic(),
                  until=D(2026, 12, 31))  # fmt: skip
    doses = result.doses
    guide = [a for a in result.appointments if a.session == "guide-call"]
    assert [a.anchor for a in guide] == [doses[0].id, doses[1].id]
    for call in guide:
        assert call.start >= result.appointment(call.anchor or "").end
        assert call.location == "remote"
    before = [t for t in result.tasks if t.kind == "call"]
    assert [(t.appointment, t.due) for t in before] == [
        (doses[0].id, doses[0].local_date),
        (doses[1].id, doses[1].local_date),
    ]
    renewals = [a for a in result.appointments if a.anchored == "renewal-consult"]
    assert [a.anchor for a in renewals] == [d.id for d in doses[5::6]]
    for renewal in renewals:
        after = doses[[d.id for d in doses].index(renewal.anchor or "") + 1 :]
        assert not after or renewal.end <= after[0].start  # before the next session
    no_driving = next(i for i in doses[0].instructions if i.kind == "no-driving")
    assert no_driving.until == doses[0].end + dt.timedelta(hours=24)
    assert no_driving.source == "home-no-driving"


# -- holidays, closures, availability ------------------------------------------------------------


def test_new_year_moves_a_booster_and_says_why() -> None:
    # The first booster 2 weeks after the series (iv-taper-clinic); Fri 1 Jan 2027 is closed.
    # The intake on Tue 24 Nov, the first infusion a week later, on Tue 1 Dec.
    result = plan(
        load_protocol("iv-ketamine-standard"),
        start=D(2026, 11, 24),
        clinic=demo_clinic(),
        preferred_time=dt.time(9),
        until=D(2027, 2, 1),
    )
    booster = result.appointment("maintenance-1")
    assert booster.local_date == D(2027, 1, 4)
    assert booster.reason == (
        "target Fri 1 Jan 2027 (14 days after induction-6); clinic closed (New Year's Day); "
        "moved to Mon 4 Jan 2027, within the 14-18 day window"
    )
    assert booster.target == D(2027, 1, 1)


def test_explicit_closure_and_holiday_dates() -> None:
    where = clinic(
        closures=[{"start": "2026-03-09", "end": "2026-03-13", "reason": "renovation"}],
        holidays={"dates": [{"start": "2026-03-16", "reason": "Clinic day off"}]},
    )
    result = plan(load_protocol("sc-ketamine-anxiety"), start=D(2026, 3, 2), clinic=where)
    days = local_days(result)
    assert not any(D(2026, 3, 9) <= d <= D(2026, 3, 13) for d in days)
    assert D(2026, 3, 16) not in days
    # Dose 2 has to follow dose 1 within 6-9 days: the closure pushes the whole start back.
    first = result.doses[0]
    assert first.local_date == D(2026, 3, 17)
    assert "escalation-2 would have no feasible day after it" in first.reason
    assert "renovation" in first.reason


def test_a_week_closed_during_induction_keeps_the_first_dose_and_the_weekly_phase_follows() -> None:
    # Spravato PI (spravato-pi-trd): induction twice weekly in weeks 1-4, then once weekly in
    # weeks 5-8. A week's closure pushes the last induction doses into week 5 (Mon/Thu patient:
    # the 8th is Thu 2 Apr, leaving no day of that week after it). Start policy 'earliest'
    # keeps the first dose on Mon 2 Mar; the weekly phase then follows by its cadence, a week
    # after the last induction dose, instead of asking for a day of week 5 that is not left.
    # (It used to move the first dose three weeks later, to Mon 23 Mar.)
    where = clinic(closures=[{"start": "2026-03-16", "end": "2026-03-22", "reason": "repairs"}])
    who = patient(availability=MON_THU, enrollments=["spravato-rems"])
    # The intake on Mon 23 Feb, the first dose a week later.
    result = plan(load_protocol("esketamine-trd"), start=D(2026, 2, 23), clinic=where,
                  patient=who, until=D(2026, 6, 30))  # fmt: skip
    doses = result.doses
    assert doses[0].local_date == D(2026, 3, 2)
    assert doses[7].id == "induction-8"
    assert doses[7].local_date == D(2026, 4, 2)
    weekly = doses[8]
    assert weekly.id == "maintenance-weekly-1"
    assert weekly.local_date == D(2026, 4, 9)
    assert "treatment week 5 had begun by induction-8" in weekly.rule
    found = check(result, clinic=where, patient=who)
    assert [v for v in found if v.severity == "error"] == []
    assert {v.code for v in found} == {"week-count", "phase-deadline"}


def test_public_holidays_by_subdivision() -> None:
    where = clinic("Europe/Berlin", holidays={"country": "DE", "subdivision": "BY"})
    # 6 Jan (Epiphany) is a holiday in Bavaria.
    result = plan(load_protocol("sc-ketamine-anxiety"), start=D(2026, 1, 6), clinic=where)
    assert result.doses[0].local_date == D(2026, 1, 7)
    assert "Epiphany" in result.doses[0].reason or "Heilige" in result.doses[0].reason


def test_patient_availability_and_blackouts() -> None:
    who = patient(
        availability={"tue": ["08:00-12:00"], "thu": ["08:00-12:00"]},
        blackouts=[{"start": "2026-03-16", "end": "2026-03-22", "reason": "surgery"}],
    )
    result = plan(load_protocol("iv-ketamine-standard"), start=D(2026, 3, 2), clinic=clinic(),
                  patient=who, until=D(2026, 6, 1))  # fmt: skip
    for appointment in result.appointments:
        local = appointment.local_start
        assert local.strftime("%a") in {"Tue", "Thu"}
        assert dt.time(8) <= local.time()
        assert appointment.end.astimezone(NY).time() <= dt.time(12)
        assert not D(2026, 3, 16) <= local.date() <= D(2026, 3, 22)
    assert_series_invariants(load_protocol("iv-ketamine-standard"), result)


def test_patient_commitments_are_avoided() -> None:
    busy = dt.datetime(2026, 3, 2, 8, 0, tzinfo=NY)
    who = patient(appointments=[{"start": busy, "end": busy + dt.timedelta(hours=3), "label": "x"}])
    result = plan(load_protocol("sc-ketamine-anxiety"), start=D(2026, 3, 2), clinic=clinic(),
                  patient=who, preferred_time=dt.time(8))  # fmt: skip
    assert result.doses[0].start >= busy + dt.timedelta(hours=3)


# -- DST ------------------------------------------------------------------------------------------

DST_CASES = [
    ("America/New_York", D(2026, 3, 2), D(2026, 3, 8)),
    ("America/New_York", D(2026, 10, 26), D(2026, 11, 1)),
    ("Europe/Berlin", D(2026, 3, 23), D(2026, 3, 29)),
    ("Europe/Berlin", D(2026, 10, 19), D(2026, 10, 25)),
    ("Australia/Sydney", D(2026, 3, 30), D(2026, 4, 5)),
    ("Australia/Sydney", D(2026, 9, 28), D(2026, 10, 4)),
]


@pytest.mark.parametrize(("zone", "start", "change"), DST_CASES)
def test_wall_time_survives_dst(zone: str, start: D, change: D) -> None:
    result = plan(load_protocol("sc-ketamine-anxiety"), start=start, clinic=clinic(zone),
                  preferred_time=dt.time(9))  # fmt: skip
    offsets = set()
    for appointment in result.doses:
        local = appointment.local_start
        assert local.time() == dt.time(9), appointment.id
        offsets.add(local.utcoffset())
    assert len(offsets) == 2, "the plan should span the DST change"
    days = local_days(result)
    assert any(a < change <= b for a, b in itertools.pairwise(days))
    # Calendar-day gaps: 7 days apart even though 167 or 169 hours elapse across the change.
    assert [(b - a).days for a, b in itertools.pairwise(days)] == [7] * 14


def test_minimum_interval_is_real_elapsed_time_across_spring_forward() -> None:
    text = (
        load_protocol("iv-ketamine-pain")
        .model_copy(update={"id": "every-other-day"})
        .model_dump_json()
    )
    protocol = loads_protocol(text, format="json")
    data = protocol.model_dump()
    data["phases"] = data["phases"][1:]  # the series without the intake before it
    data["phases"][0]["start"] = None
    data["tasks"] = []
    data["phases"][0]["cadence"]["steps"][0]["gap"] = {
        "absolute_minimum": 2, "minimum": 2, "target": 2, "maximum": 2,
    }  # fmt: skip
    data["phases"][0]["within_days"] = None
    data["rules"]["min_interval"] = {"hours": 48}
    data["session_kinds"][0]["timeline"] = {"check_in_minutes": 0, "dosing_minutes": 40}
    data["session_kinds"][0]["resources"] = []
    data["session_kinds"][0]["checkpoints"] = []  # some run through the monitoring removed here
    protocol = type(protocol).model_validate(data)
    everyday = clinic("Europe/Berlin", days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    result = plan(protocol, start=D(2026, 3, 28), clinic=everyday, preferred_time=dt.time(9))
    first, second = result.doses[0], result.doses[1]
    assert first.local_start.time() == dt.time(9)
    # Sat 09:00 CET to Mon 09:00 CEST is only 47 hours: the second dose waits until 10:00.
    assert second.local_date == D(2026, 3, 30)
    assert second.local_start.time() == dt.time(10)
    # Subtract in UTC: subtracting two datetimes of the same zone is wall-clock arithmetic.
    utc = dt.UTC
    assert second.start.astimezone(utc) - first.start.astimezone(utc) == dt.timedelta(hours=48)


def test_skipped_and_repeated_local_times_follow_the_policy() -> None:
    night = clinic("America/New_York", days=WEEK, hours="00:00-06:00")
    protocol = load_protocol("sc-ketamine-anxiety")
    result = plan(protocol, start=D(2026, 3, 8), clinic=night, preferred_time=dt.time(2, 30))
    first = result.doses[0]
    # 02:30 does not exist on 8 March 2026 in New York: "later" makes it 03:30 EDT.
    assert first.local_start.isoformat() == "2026-03-08T03:30:00-04:00"
    strict = protocol.model_copy(
        update={"calendar": protocol.calendar.model_copy(update={"skipped_time": "raise"})}
    )
    with pytest.raises(LocalTimeError, match=r"skipped_time: 2026-03-08 02:30 in America/New_York"):
        plan(strict, start=D(2026, 3, 8), clinic=night, preferred_time=dt.time(2, 30))
    later = protocol.model_copy(
        update={"calendar": protocol.calendar.model_copy(update={"repeated_time": "later"})}
    )
    fall = plan(later, start=D(2026, 11, 1), clinic=night, preferred_time=dt.time(1, 30))
    assert fall.doses[0].local_start.isoformat() == "2026-11-01T01:30:00-05:00"


WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# -- capacity across patients ---------------------------------------------------------------------


def test_many_patients_never_exceed_one_chair() -> None:
    one_chair = clinic(resources={"chairs": 1, "rooms": 2, "monitoring_staff": 1,
                                  "patients_per_staff": 1,
                                  "chair_buffer_minutes": 15})  # fmt: skip
    protocol = load_protocol("iv-ketamine-mwf")
    ledger = Ledger(one_chair)
    plans = []
    # Intakes on Mon 23 Feb (two rooms), first infusions from Mon 2 Mar, a week later.
    for number in range(5):
        result = plan(protocol, start=D(2026, 2, 23), clinic=one_chair, bookings=ledger,
                      patient=patient(id=f"p-{number}"), preferred_time=dt.time(9))  # fmt: skip
        for booking in result.bookings():
            ledger.add(booking)
        plans.append(result)
    chair_uses = sorted(
        (span.start, span.end)
        for result in plans
        for appointment in result.appointments
        for span in appointment.resources
        if span.resource == "chair"
    )
    for (_, end), (start, _) in itertools.pairwise(chair_uses):
        assert end + dt.timedelta(minutes=15) <= start
    starts = {p.doses[0].local_start.time() for p in plans}
    assert len(starts) == 5, "each patient gets their own slot"
    # Five patients fill every Mon/Wed/Fri chair slot (85 min + 15 min cleaning in 10 hours);
    # a sixth would need three sessions a week on Tuesdays and Thursdays alone. A protocol that
    # asks for the whole series to fit cannot take a sixth patient.
    whole = protocol.model_copy(update={"start": "whole-series"})
    with pytest.raises(UnsatisfiableError, match="of phase 'induction'"):
        plan(whole, start=D(2026, 2, 23), clinic=one_chair, bookings=ledger,
             patient=patient(id="p-6"), preferred_time=dt.time(9))  # fmt: skip
    # Under the default start policy the sixth starts on the first free day and the plan says
    # which weeks are short and that the series runs past its 14 days.
    sixth = plan(protocol, start=D(2026, 2, 23), clinic=one_chair, bookings=ledger,
                 patient=patient(id="p-6"), preferred_time=dt.time(9))  # fmt: skip
    assert sixth.doses[0].local_date == D(2026, 3, 3)
    note = next(n for n in sixth.notes if "start policy 'earliest'" in n)
    assert "cadence asks at least 3" in note
    assert "phase's deadline" in note
    assert {v.severity for v in check(sixth, clinic=one_chair, bookings=ledger)} <= {"warning"}


def test_monitoring_staff_ratio_is_respected() -> None:
    where = clinic(resources={"chairs": 10, "rooms": 5, "monitoring_staff": 1,
                              "patients_per_staff": 2})  # fmt: skip
    ledger = Ledger(where)
    protocol = load_protocol("sc-ketamine-anxiety")
    for number in range(5):
        result = plan(protocol, start=D(2026, 3, 2), clinic=where, bookings=ledger,
                      patient=patient(id=f"p-{number}"), preferred_time=dt.time(9))  # fmt: skip
        for booking in result.bookings():
            ledger.add(booking)
    spans = [(b.start, b.end) for b in ledger.all_bookings() if b.resource == "monitoring-staff"]
    for start, _ in spans:
        assert sum(1 for s, e in spans if s <= start < e) <= 2


def test_existing_bookings_fill_a_day() -> None:
    where = clinic(resources={"chairs": 1, "rooms": 1, "monitoring_staff": 2,
                              "patients_per_staff": 2})  # fmt: skip
    full = dt.datetime(2026, 3, 2, 8, tzinfo=NY)
    booked = [Booking(start=full, end=full + dt.timedelta(hours=10), resource="chair")]
    result = plan(load_protocol("sc-ketamine-anxiety"), start=D(2026, 3, 2), clinic=where,
                  bookings=booked)  # fmt: skip
    assert result.doses[0].local_date == D(2026, 3, 3)
    assert "no chair free" in result.doses[0].reason


def test_a_ledger_given_to_plan_is_not_changed() -> None:
    where = clinic()
    ledger = Ledger(where)
    plan(load_protocol("sc-ketamine-anxiety"), start=D(2026, 3, 2), clinic=where, bookings=ledger)
    assert ledger.all_bookings() == []


# -- failures, policies, errors -------------------------------------------------------------------


def test_unsatisfiable_names_the_session_window_and_each_day() -> None:
    no_prescriber = clinic(
        resources={"chairs": 2, "rooms": 1, "monitoring_staff": 2, "prescriber_on_site": False}
    )
    with pytest.raises(UnsatisfiableError) as info:
        plan(load_protocol("esketamine-trd"), start=D(2026, 3, 2), clinic=no_prescriber)
    err = info.value
    # The intake (Mon 2 Mar) needs no prescriber; the first dose's window is 1-14 days after.
    assert err.session == "esketamine nasal spray session 1 of phase 'induction'"
    assert err.window == ("Tue 3 Mar 2026", "Mon 16 Mar 2026")
    assert ("Tue 3 Mar 2026", "no prescriber on site") in err.blocked
    assert ("Sat 7 Mar 2026", "clinic closed on Saturdays") in err.blocked
    assert str(err).startswith("cannot place esketamine nasal spray session 1 of phase 'induction'")


def test_on_conflict_shift_records_the_shift() -> None:
    where = clinic(closures=[{"start": "2026-03-09", "end": "2026-03-27", "reason": "repairs"}])
    protocol = load_protocol("sc-ketamine-anxiety")
    with pytest.raises(UnsatisfiableError, match="escalation"):
        plan(protocol, start=D(2026, 3, 2), clinic=where, start_window_days=0)
    result = plan(protocol, start=D(2026, 3, 2), clinic=where, start_window_days=0,
                  on_conflict="shift")  # fmt: skip
    second = result.doses[1]
    assert second.local_date == D(2026, 3, 30)
    assert second.shift is not None
    assert second.shift.days_outside == 19
    assert second.reason.endswith(
        "19 days after its window (Sun 8 Mar 2026 to Wed 11 Mar 2026) closed"
    )


def test_washout_moves_the_start() -> None:
    protocol = load_protocol("sc-ketamine-anxiety")
    data = protocol.model_dump()
    data["holds"] = [{"id": "maoi-washout", "medication": "phenelzine", "severity": "hold",
                      "stop_days_before_start": 14, "source": "glue-2017"}]  # fmt: skip
    protocol = type(protocol).model_validate(data)
    who = patient(medications=[{"name": "Phenelzine", "stop": "2026-03-01"}])
    result = plan(protocol, start=D(2026, 3, 2), clinic=clinic(), patient=who)
    assert result.doses[0].local_date == D(2026, 3, 16)
    assert "washout" in result.doses[0].reason
    still_taking = patient(medications=[{"name": "phenelzine"}])
    with pytest.raises(UnsatisfiableError, match="must be stopped 14 days before"):
        plan(protocol, start=D(2026, 3, 2), clinic=clinic(), patient=still_taking)


def test_lapse_puts_a_review_first() -> None:
    who = patient(history=[{"date": "2025-10-01", "product": "ketamine"}])
    result = plan(
        load_protocol("home-sublingual"), start=D(2026, 3, 2), clinic=clinic(), patient=who
    )
    first = result.appointments[0]
    assert first.kind == "review"
    assert first.end <= result.doses[0].start
    recent = patient(history=[{"date": "2026-02-01", "product": "ketamine"}])
    result = plan(
        load_protocol("home-sublingual"), start=D(2026, 3, 2), clinic=clinic(), patient=recent
    )
    assert result.appointments[0].is_dose


def test_bad_arguments_name_the_field() -> None:
    protocol = load_protocol("sc-ketamine-anxiety")
    with pytest.raises(InputError, match=r"start: must be a date \(datetime.date, not datetime\)"):
        plan(protocol, start=dt.datetime(2026, 3, 2))
    with pytest.raises(InputError, match=r"until: must be on or after start \(2026-03-02\)"):
        plan(protocol, start=D(2026, 3, 2), until=D(2026, 3, 1))
    with pytest.raises(LimitError, match=r"until: must be at most 1830 days after start"):
        plan(protocol, start=D(2026, 3, 2), until=D(2036, 3, 1))
    with pytest.raises(InputError, match=r"tiers\['maintenance'\]: must be one of every-2-weeks"):
        plan(load_protocol("esketamine-trd"), start=D(2026, 3, 2), tiers={"maintenance": "daily"})
    with pytest.raises(InputError, match=r"on_conflict: must be 'raise' or 'shift'; got 'ignore'"):
        plan(protocol, start=D(2026, 3, 2), on_conflict="ignore")
    with pytest.raises(InputError, match=r"now: must be an aware datetime"):
        plan(protocol, start=D(2026, 3, 2), now=dt.datetime(2026, 3, 1))


def test_minimum_notice_and_booking_horizon() -> None:
    where = clinic(minimum_notice_hours=48, booking_horizon_days=30)
    now = dt.datetime(2026, 3, 2, 9, tzinfo=NY)
    result = plan(load_protocol("sc-ketamine-anxiety"), start=D(2026, 3, 2), clinic=where, now=now,
                  preferred_time=dt.time(9))  # fmt: skip
    assert result.doses[0].start >= now + dt.timedelta(hours=48)
    assert all(a.local_date <= D(2026, 4, 1) for a in result.appointments)
    assert len(result.doses) < 15
    assert any("30-day booking horizon" in note for note in result.notes)


# -- every built-in, many start dates -------------------------------------------------------------

STARTS = [D(2026, 11, 30) + dt.timedelta(days=n) for n in range(7)] + [
    D(2026, 1, 31), D(2026, 2, 28), D(2028, 2, 28), D(2026, 12, 23), D(2026, 11, 25),
    D(2027, 5, 28), D(2026, 6, 30),
]  # fmt: skip


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
@pytest.mark.parametrize("start", STARTS, ids=str)
def test_every_builtin_plans_at_the_demo_clinic(protocol_id: str, start: D) -> None:
    protocol = load_protocol(protocol_id)
    result = plan(protocol, start=start, clinic=demo_clinic(), until=start + dt.timedelta(days=200))
    assert result.doses
    assert_series_invariants(protocol, result)
    for appointment in result.appointments:
        assert appointment.local_date >= start
        assert appointment.reason
        if appointment.location == "clinic":
            assert appointment.local_date.weekday() < 5


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
def test_plans_round_trip_through_json_and_are_deterministic(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    first = plan(protocol, start=D(2026, 12, 1), clinic=demo_clinic(), patient=patient())
    again = plan(protocol, start=D(2026, 12, 1), clinic=demo_clinic(), patient=patient())
    assert first == again
    assert first.model_dump_json() == again.model_dump_json()
    assert Plan.model_validate_json(first.model_dump_json()) == first
    # Without a patient, only the identity differs (issue 14: two anonymous plans must never
    # share calendar UIDs); with one given, everything is the same again.
    one = plan(protocol, start=D(2026, 12, 1), clinic=demo_clinic())
    two = plan(protocol, start=D(2026, 12, 1), clinic=demo_clinic())
    assert one.id != two.id
    assert one.model_copy(update={"id": two.id}) == two
    named = plan(protocol, start=D(2026, 12, 1), clinic=demo_clinic(), plan_id="north-17")
    assert named.id == "north-17"


def test_the_ride_home_is_for_the_end_of_the_whole_visit() -> None:
    # Issue 14: the driver was told to come at the end of the dose while the end-of-induction
    # evaluation followed on the same visit (esketamine-trd: the evaluation 0 days after
    # induction-8, spravato-pi-trd). The ride home is for the end of the last appointment.
    made = plan(load_protocol("esketamine-trd"), start=D(2026, 11, 24), clinic=demo_clinic(),
                preferred_time=dt.time(9), until=D(2027, 2, 1))  # fmt: skip
    dose, evaluation = made.appointment("induction-8"), made.appointment("evaluation-induction-8")
    assert dose.local_date == evaluation.local_date
    assert evaluation.start - dose.end <= dt.timedelta(minutes=60)
    (ride,) = [i for i in dose.instructions if i.kind == "escort"]
    assert ride.at == evaluation.end
    assert ride.at != dose.end
    alone = made.appointment("induction-7")  # no session after it that day
    (ride,) = [i for i in alone.instructions if i.kind == "escort"]
    assert ride.at == alone.end
