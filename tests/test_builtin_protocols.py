"""The built-in protocols, pinned fact by fact against ../shared/reference/domain.md."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from dateutil.relativedelta import relativedelta

from ketaplan import Plan, builtin_protocol_ids, builtin_protocols, check, load_protocol
from ketaplan.defaults import demo_clinic
from ketaplan.protocol import (
    AfterPrevious,
    GapSequence,
    GapWindow,
    InWeek,
    PerWeek,
    Protocol,
)

from .helpers import assert_checks_clean, assert_series_invariants, plan

D = dt.date

IDS = [
    "esketamine-mdsi",
    "esketamine-trd",
    "home-intranasal",
    "home-sublingual",
    "im-ketamine-depression",
    "iv-ketamine-kap",
    "iv-ketamine-mwf",
    "iv-ketamine-pain",
    "iv-ketamine-standard",
    "sc-ketamine-anxiety",
]


def window(gap: GapWindow) -> tuple[int, int, int, int]:
    return (gap.absolute_minimum, gap.minimum, gap.target, gap.maximum)


def test_exactly_the_documented_ids_ship() -> None:
    assert list(builtin_protocol_ids()) == IDS
    assert [p.id for p in builtin_protocols()] == IDS


@pytest.mark.parametrize("protocol_id", IDS)
def test_every_builtin_cites_its_sources(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    assert protocol.sources
    assert protocol.evidence in {source.evidence for source in protocol.sources}
    for phase in protocol.phases:
        assert phase.source is not None, f"{protocol_id}: phase {phase.id} has no source"
    for kind in protocol.session_kinds:
        assert kind.source is not None
        if kind.is_dosing:
            assert kind.timeline.sources, f"{protocol_id}: {kind.id} durations unsourced"


def cited(node: object) -> set[str]:
    """Every source id the protocol's parts cite (not the definitions in ``sources``)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if (key == "source" or key.endswith("_source")) and isinstance(value, str):
                found.add(value)
            elif key in {"sources", "summary_sources"} and all(isinstance(i, str) for i in value):
                found.update(value)
            else:
                found |= cited(value)
    elif isinstance(node, list):
        for item in node:
            found |= cited(item)
    return found


@pytest.mark.parametrize("protocol_id", IDS)
def test_every_source_a_builtin_defines_is_cited(protocol_id: str) -> None:
    # Clinical review S3: iv-clinic-fasting was defined and never cited, while the fasting
    # numbers cited the discharge source. A source nobody cites is a sign of a wrong attribution.
    protocol = load_protocol(protocol_id)
    data = protocol.model_dump(mode="json")
    data.pop("sources")
    # A caution in the summary (the APA task force discourages at-home self-administration,
    # Sanacora 2017) is cited by summary_sources.
    assert {source.id for source in protocol.sources} - cited(data) == set()


@pytest.mark.parametrize("protocol_id", IDS)
def test_every_session_length_has_a_source(protocol_id: str) -> None:
    # Clinical review E7: the 30-minute evaluation had no source of its own.
    for kind in load_protocol(protocol_id).session_kinds:
        assert kind.timeline.sources, f"{protocol_id}: {kind.id} has an unsourced length"


@pytest.mark.parametrize("protocol_id", IDS)
def test_every_builtin_round_trips_through_json(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    assert Protocol.model_validate_json(protocol.model_dump_json()) == protocol


def dosing_kind(protocol: Protocol, kind_id: str) -> tuple[int, int, int]:
    t = protocol.session_kind(kind_id).timeline
    return (t.check_in_minutes, t.dosing_minutes, t.monitoring_minutes)


class TestEsketamineTrd:
    protocol = load_protocol("esketamine-trd")

    def test_label_schedule(self) -> None:
        p = self.protocol
        intake, induction, weekly, maintenance = p.phases
        assert (intake.session, intake.count) == ("intake", 1)
        assert (induction.count, induction.within_days) == (8, 28)
        twice = p.cadence(induction)
        assert isinstance(twice, PerWeek)
        assert (twice.sessions, twice.week) == (2, "treatment")
        assert weekly.count == 4
        assert isinstance(weekly.start, InWeek)
        assert weekly.start.week == 5
        once = p.cadence(weekly)
        assert isinstance(once, PerWeek)
        assert once.sessions == 1
        assert maintenance.count is None
        assert maintenance.tier == "every-2-weeks"
        assert maintenance.tier_choices == ("weekly",)
        q2w = p.cadence(maintenance)
        assert isinstance(q2w, GapSequence)
        assert q2w.gap(0).target == 14
        assert isinstance(maintenance.start, AfterPrevious)

    def test_doses_start_at_56_then_56_or_84(self) -> None:
        dosing = self.protocol.dosing
        assert dosing is not None
        assert dosing.unit == "mg"
        assert dosing.for_dose(1).amounts == (56,)
        assert dosing.for_dose(2).amounts == (56, 84)
        assert dosing.for_dose(30).amounts == (56, 84)
        assert 84 not in dosing.for_dose(1).amounts

    def test_session_timeline_and_instructions(self) -> None:
        kind = self.protocol.session_kind("esketamine-dose")
        assert kind.timeline.monitoring_minutes == 120  # label: at least 2 hours
        assert kind.timeline.block_minutes >= 120 + kind.timeline.dosing_minutes
        i = kind.instructions
        assert (i.fasting_solids_hours, i.fasting_liquids_hours) == (2, 0.5)
        assert i.nasal_spray_minutes_before == 60
        assert i.no_driving_until_next_day
        assert {use.resource for use in kind.resources} == {
            "chair",
            "monitoring-staff",
            "prescriber",
        }
        bp = [(c.at, c.minutes_after_dosing) for c in kind.checkpoints]
        assert ("before-dosing", None) in bp
        assert ("after-dosing", 40) in bp

    def test_rems(self) -> None:
        p = self.protocol
        rems = [t for t in p.tasks if p.source(t.source or "").evidence == "rems"]
        form = next(t for t in rems if t.id == "rems-monitoring-form")
        assert (form.after.which, form.due_within_days, form.kind) == ("each", 7, "form")
        assert {r.holder for r in p.requirements} == {"clinic", "patient"}

    def test_evaluation_at_end_of_induction(self) -> None:
        evaluation = next(a for a in self.protocol.anchored if a.id == "evaluation")
        assert evaluation.after.which == "last"
        assert evaluation.after.phase == "induction"
        assert evaluation.required

    def test_label_interactions_are_monitoring_not_holds(self) -> None:
        holds = {h.medication: h.severity for h in self.protocol.holds}
        assert holds == {
            "cns-depressant": "monitor",
            "psychostimulant": "monitor",
            "maoi": "monitor",
        }

    def test_week_9_default_is_a_documented_clinic_choice(self) -> None:
        # Clinical review T2: "every 2 weeks or once weekly, as determined by the prescribing
        # physician" (label); T3: the label does not say whether the first dose every 2 weeks
        # falls in week 9 or 10, so the choice (week 10) is documented with the default.
        maintenance = self.protocol.phase("maintenance")
        assert (maintenance.tier, maintenance.tier_choices) == ("every-2-weeks", ("weekly",))
        assert maintenance.tier_source == "maintenance-default"
        source = self.protocol.source("maintenance-default")
        assert source.evidence == "derived"
        assert "prescribing physician" in source.citation
        assert "week 10" in (source.note or "")
        assert "week 10" in (self.protocol.summary or "")

    def test_lapse_of_28_days_needs_review(self) -> None:
        lapse = self.protocol.rules.lapse
        assert lapse is not None
        assert (lapse.after_days, lapse.requires) == (28, "review")


def test_esketamine_mdsi_is_8_doses_of_84_mg_then_evaluation() -> None:
    p = load_protocol("esketamine-mdsi")
    intake, phase = p.phases
    assert p.session_kind(intake.session).category == "consultation"
    assert phase.count == 8
    assert phase.within_days == 28
    assert p.dosing is not None
    # Spravato PI (MDSI): 84 mg twice weekly, "may be reduced to 56 mg ... based on
    # tolerability": a judgement after a dose, so only from the second.
    assert p.dosing.for_dose(1).amounts == (84,)
    assert p.dosing.for_dose(2).amounts == (84, 56)
    (evaluation,) = p.anchored
    assert p.session_kind(evaluation.session).category == "consultation"
    assert evaluation.after.which == "last"


def test_iv_standard_series_and_taper() -> None:
    p = load_protocol("iv-ketamine-standard")
    intake, induction, maintenance = p.phases
    assert intake.session == "intake"
    assert (induction.count, induction.within_days) == (6, 21)
    cadence = p.cadence(induction)
    assert isinstance(cadence, PerWeek)
    assert (cadence.fewest, cadence.most, cadence.min_gap_days) == (2, 3, 2)
    assert p.rules.consecutive_days == "avoid"
    assert maintenance.count is None
    assert isinstance(maintenance.start, AfterPrevious)
    assert maintenance.start.gap is not None
    # iv-taper-clinic: 2 weeks after the series, 3 weeks later, then about monthly (issue 12).
    assert window(maintenance.start.gap) == (12, 14, 14, 18)
    assert maintenance.start.gap.source == "iv-taper-clinic"
    assert maintenance.responders_only
    taper = p.cadence(maintenance)
    assert isinstance(taper, GapSequence)
    assert [taper.gap(i).target for i in range(5)] == [21, 28, 28, 28, 28]
    assert taper.open_ended
    assert dosing_kind(p, "infusion") == (15, 40, 30)
    assert p.dosing is not None
    assert p.dosing.describe(1) == "0.5 mg/kg over 40 min"
    review, reassessment, *_ = p.anchored
    assert (review.after.which, review.after.phase) == (3, "induction")
    assert (reassessment.after.every, reassessment.after.phase) == (6, "maintenance")
    infusion = p.session_kind("infusion").instructions
    assert infusion.escort_required
    assert infusion.no_driving_hours == 24


def test_iv_standard_most_a_week_cites_the_thrice_weekly_series() -> None:
    # Clinical review S2: the clinic source says about 2 a week; 3 a week is what the
    # thrice-weekly series did (Murrough 2013; Phillips 2019).
    p = load_protocol("iv-ketamine-standard")
    cadence = p.cadence(p.phase("induction"))
    assert isinstance(cadence, PerWeek)
    assert (cadence.sessions, cadence.fewest, cadence.most) == (2, 2, 3)
    assert "about 2 a week" in p.source(cadence.source or "").citation
    assert cadence.maximum_sessions_source == "thrice-weekly-series"
    thrice = p.source("thrice-weekly-series")
    assert thrice.evidence == "trial"
    assert "thrice weekly" in thrice.citation
    assert p.rules.max_per_7_days is None


def test_iv_mwf() -> None:
    p = load_protocol("iv-ketamine-mwf")
    intake, induction, maintenance = p.phases
    assert intake.session == "intake"
    assert induction.count == 6
    assert induction.preferred_weekdays == ("mon", "wed", "fri")
    cadence = p.cadence(induction)
    assert isinstance(cadence, PerWeek)
    assert cadence.sessions == 3
    assert maintenance.count == 4
    weekly = p.cadence(maintenance)
    assert isinstance(weekly, GapSequence)
    assert {weekly.gap(i).target for i in range(3)} == {7}
    assert {s.id for s in p.sources} >= {"murrough-2013", "phillips-2019"}


def test_kap_preparation_dosing_and_integration() -> None:
    p = load_protocol("iv-ketamine-kap")
    preparation, dosing = p.phases
    assert p.session_kind(preparation.session).category == "preparation"
    assert preparation.count == 1
    assert dosing.count == 6
    assert dosing.within_days == 56  # within 8 weeks
    (integration,) = p.anchored
    assert integration.after.which == "each"
    assert (integration.offset.minimum, integration.offset.maximum) == (1, 3)
    assert p.session_kind(integration.session).category == "integration"


def test_kap_gaps_and_monitoring_are_derived_not_clinic_practice() -> None:
    # Clinical review K2, K3: Balance gives 6 sessions in 3-8 weeks, not gaps; Sage gives a
    # session of about 3 hours. The bounds and the 125 minutes are ketaplan's arithmetic.
    p = load_protocol("iv-ketamine-kap")
    cadence = p.cadence(p.phase("dosing"))
    assert isinstance(cadence, GapSequence)
    gap = cadence.gap(0)
    assert window(gap) == (3, 4, 7, 11)
    assert gap.source == "kap-gaps-derived"
    assert p.source(gap.source).evidence == "derived"
    timeline = p.session_kind("kap-dosing").timeline
    assert timeline.monitoring_minutes == 125
    assert timeline.block_minutes == 180  # Sage: an in-person session of about 3 hours
    assert "kap-session-derived" in timeline.sources
    assert p.source("kap-session-derived").evidence == "derived"
    assert "balance-kap" not in timeline.sources


def test_sc_anxiety_escalates_then_weekly() -> None:
    p = load_protocol("sc-ketamine-anxiety")
    assert p.route == "subcutaneous"
    escalation, maintenance = p.phases
    assert escalation.count == 3
    assert maintenance.count == 12
    assert p.dosing is not None
    assert [p.dosing.for_dose(n).amounts for n in (1, 2, 3, 4, 15)] == [
        (0.25,),
        (0.5,),
        (1.0,),
        (1.0,),
        (1.0,),
    ]
    assert p.dosing.unit == "mg/kg"


def test_pain_is_five_consecutive_four_hour_days() -> None:
    p = load_protocol("iv-ketamine-pain")
    intake, series = p.phases
    assert intake.session == "intake"
    assert series.count == 5
    assert series.within_days == 5
    cadence = p.cadence(series)
    assert isinstance(cadence, GapSequence)
    assert window(cadence.gap(0)) == (1, 1, 1, 1)
    assert p.rules.consecutive_days == "allowed"
    assert p.session_kind("pain-infusion").timeline.dosing_minutes == 240


def test_home_sublingual() -> None:
    p = load_protocol("home-sublingual")
    assert p.setting == "home"
    initial, ongoing = p.phases
    assert initial.count == 4
    assert ongoing.count is None
    dose = p.session_kind("home-dose")
    assert dose.location == "home"
    assert dose.resources == ()
    assert dose.instructions.peer_monitor_required
    call = next(a for a in p.anchored if a.id == "prescriber-call")
    assert (call.after.which, call.offset.minimum, call.offset.maximum) == ("first", 1, 2)
    lapse = p.rules.lapse
    assert lapse is not None
    assert (lapse.after_days, lapse.requires) == (84, "review")  # 12 weeks
    # Clinical review H3: no source forbids consecutive days; the rule is ketaplan's, derived
    # from Mindbloom's 3-7 day spacing, and says so.
    assert p.rules.consecutive_days == "avoid"
    assert p.rules.consecutive_days_source == "home-never-consecutive"
    assert p.source(p.rules.consecutive_days_source).evidence == "derived"


# -- im-ketamine-depression: sources in ketaplan/library/im-ketamine-depression.toml -------------


class TestImKetamine:
    protocol = load_protocol("im-ketamine-depression")

    def test_an_intramuscular_clinic_protocol_of_racemic_ketamine(self) -> None:
        p = self.protocol
        assert (p.drug, p.route, p.setting) == ("ketamine", "im", "clinic")
        # The schedule rests on clinic descriptions; the only trials are a single-dose trial,
        # case reports and a retrospective cohort, so the whole is "clinic", not "trial".
        assert p.evidence == "clinic"
        assert {p.source(i).evidence for i in ("chilukuri-2014", "ahuja-2022", "cusin-2012")} == {
            "trial"
        }

    def test_doses_are_the_trial_doses_given_as_a_bolus(self) -> None:
        # Chilukuri 2014: 0.5 mg/kg IM, or 0.25 mg/kg IM (as effective); an injection, not an
        # infusion, so no "over N minutes".
        dosing = self.protocol.dosing
        assert dosing is not None
        assert dosing.source == "chilukuri-2014"
        assert (dosing.unit, dosing.for_dose(1).amounts) == ("mg/kg", (0.5, 0.25))
        assert dosing.for_dose(1).over_minutes is None
        assert dosing.describe(7) == "0.5 mg/kg or 0.25 mg/kg"

    def test_observed_for_the_length_of_the_effects(self) -> None:
        # Sage: effects of an IM dose last about 60 minutes; Chilukuri 2014: adverse effects
        # lasted less than an hour. Northrup observes about 30 minutes, noted as the alternative.
        kind = self.protocol.session_kind("injection")
        assert kind.timeline.monitoring_minutes == 60
        assert "im-duration" in kind.timeline.sources
        note = self.protocol.source("im-duration").note or ""
        assert "30 minutes" in note

    def test_unsourced_minutes_are_tolerances(self) -> None:
        # No source gives check-in or the injection's own minutes: they are ketaplan's.
        kind = self.protocol.session_kind("injection")
        assert "ketaplan-tolerance" in kind.timeline.sources
        assert self.protocol.source("ketaplan-tolerance").evidence == "derived"

    def test_companion_home_and_no_driving_until_the_next_morning(self) -> None:
        # Northrup: a companion drives the patient home; normal activities the following morning.
        instructions = self.protocol.session_kind("injection").instructions
        assert instructions.escort_required
        assert instructions.no_driving_until_next_day
        assert instructions.no_driving_hours is None
        assert instructions.source == "northrup-im"

    def test_no_fasting_time_because_the_source_gives_no_hours(self) -> None:
        # Northrup asks for no solid food on the morning of an injection, without a number.
        instructions = self.protocol.session_kind("injection").instructions
        assert instructions.fasting_solids_hours is None
        assert instructions.fasting_liquids_hours is None
        assert "no number" in (self.protocol.summary or "")

    def test_vital_signs_before_the_injection_and_before_discharge(self) -> None:
        # Northrup: vital signs reviewed before the injection, rechecked before discharge.
        checkpoints = self.protocol.session_kind("injection").checkpoints
        assert [(c.at, c.source) for c in checkpoints] == [
            ("before-dosing", "northrup-im"),
            ("before-discharge", "northrup-im"),
        ]

    def test_a_doctor_gives_the_injection_and_staff_watch(self) -> None:
        # Northrup: the injection is given by the doctor, then monitored.
        uses = {u.resource: u.during for u in self.protocol.session_kind("injection").resources}
        assert uses == {
            "chair": (),
            "prescriber": ("dosing",),
            "monitoring-staff": ("dosing", "monitoring"),
        }

    def test_a_mood_form_the_day_after_each_injection(self) -> None:
        # Northrup: a post-procedure mood evaluation form the day following the injection.
        (form,) = [t for t in self.protocol.tasks if t.id == "mood-form"]
        assert (form.after.session, form.after.which, form.due_within_days) == (
            "injection",
            "each",
            1,
        )

    def test_an_intake_evaluation_comes_first(self) -> None:
        # APA task force (Sanacora 2017): a pre-procedural evaluation.
        intake = self.protocol.phases[0]
        assert self.protocol.session_kind(intake.session).category == "consultation"
        assert (intake.count, intake.source) == (1, "sanacora-2017")
        consent = {t.id: t.after.session for t in self.protocol.tasks}
        assert consent["informed-consent"] == consent["baseline-scales"] == "intake"

    def test_six_injections_two_or_three_a_week_never_on_consecutive_days(self) -> None:
        # MDS Integrative: an initial phase of 6 treatments; Westside Mind Health: 2-3 times a
        # week; depression series are never on consecutive days.
        _, induction, _ = self.protocol.phases
        assert induction.count == 6
        assert induction.within_days is None  # no source gives a deadline
        cadence = self.protocol.cadence(induction)
        assert isinstance(cadence, PerWeek)
        assert (cadence.fewest, cadence.most, cadence.min_gap_days) == (2, 3, 2)
        assert self.protocol.rules.consecutive_days == "avoid"

    def test_boosters_every_one_to_two_months_for_responders(self) -> None:
        # Dr Salvage: a booster shot every 1-2 months; only after a response review.
        _, _, boosters = self.protocol.phases
        assert boosters.count is None
        assert boosters.responders_only
        cadence = self.protocol.cadence(boosters)
        assert isinstance(cadence, GapSequence)
        gap = cadence.gap(0)
        assert (gap.unit, gap.minimum, gap.maximum, gap.source) == (
            "months",
            1,
            2,
            "im-booster-clinic",
        )
        (review,) = [a for a in self.protocol.anchored if a.id == "response-review"]
        assert (review.after.which, review.after.phase, review.before_next) == (
            "last",
            "induction",
            True,
        )


# -- home-intranasal: sources in ketaplan/library/home-intranasal.toml ---------------------------


class TestHomeIntranasal:
    protocol = load_protocol("home-intranasal")

    def test_an_at_home_intranasal_programme_of_racemic_ketamine(self) -> None:
        p = self.protocol
        assert (p.drug, p.route, p.setting) == ("ketamine", "intranasal", "home")

    def test_evidence_is_derived_and_the_summary_says_why(self) -> None:
        # No published take-home intranasal schedule for adults exists; the FDA 2022 alert and
        # the APA task force speak against unmonitored home use.
        p = self.protocol
        assert p.evidence == "derived"
        summary = p.summary or ""
        for warning in ("FDA", "APA", "no approved dosing regimen", "stopped early"):
            assert warning in summary

    def test_no_dose_is_set(self) -> None:
        # FDA 2022: no ketamine nasal spray has an approved dosing regimen; strengths vary.
        assert self.protocol.dosing is None

    def test_an_in_person_evaluation_before_any_home_dose(self) -> None:
        # ASKP3 (2021): no prescribing without an in-person evaluation.
        evaluation = self.protocol.phases[0]
        kind = self.protocol.session_kind(evaluation.session)
        assert (kind.category, kind.location, evaluation.count) == ("consultation", "clinic", 1)
        assert evaluation.source == "askp3-2021"

    def test_a_home_dose_lasts_as_long_as_the_sources_say(self) -> None:
        # Lapidus 2014: 5 applications 5 minutes apart (the fifth 20 minutes after the first);
        # UC Health: watched an hour, then another hour.
        timeline = self.protocol.session_kind("home-dose").timeline
        assert (timeline.dosing_minutes, timeline.monitoring_minutes) == (4 * 5, 60 + 60)
        assert set(timeline.sources) == {"lapidus-2014", "uchealth-in"}

    def test_at_home_with_an_adult_present_and_no_driving(self) -> None:
        # PVD Ketamine & Wellness: a safety sitter present; the driving rule has no racemic source
        # and is marked derived.
        kind = self.protocol.session_kind("home-dose")
        assert (kind.location, kind.resources) == ("home", ())
        assert kind.instructions.peer_monitor_required
        assert kind.instructions.no_driving_until_next_day
        assert self.protocol.source(kind.instructions.source or "").evidence == "derived"

    def test_blood_pressure_seen_by_video_before_dosing(self) -> None:
        # Hull 2022: Guides review safety and blood pressure by video before the session.
        (checkpoint,) = self.protocol.session_kind("home-dose").checkpoints
        assert (checkpoint.at, checkpoint.source) == ("before-dosing", "hull-2022")

    def test_weekly_by_default_or_every_two_weeks(self) -> None:
        # Nushama: patients continue weekly or every two weeks after the initial series.
        _, home = self.protocol.phases
        assert (home.count, home.tier, home.tier_choices) == (None, "weekly", ("every-2-weeks",))
        targets = []
        for tier_id in ("weekly", "every-2-weeks"):
            cadence = self.protocol.tier(tier_id).cadence
            assert isinstance(cadence, GapSequence)
            targets.append(cadence.gap(0).target)
        assert targets == [7, 14]

    def test_stepping_back_after_worsening_is_marked_derived(self) -> None:
        # The esketamine manufacturer's "consider returning to the previous schedule" has no
        # racemic counterpart: the proposal cites a derived source, not Nushama's cadence.
        rules = self.protocol.rules
        assert rules.worsening == "propose"
        assert self.protocol.source(rules.worsening_source or "").evidence == "derived"

    def test_calls_after_the_first_sessions(self) -> None:
        # Mindbloom: sessions 1 and 2 with a Guide before and after; Hull 2022: a prescriber
        # follow-up 1-2 days after the first session.
        calls = {a.id: a for a in self.protocol.anchored}
        assert [calls[f"call-after-session-{n}"].after.which for n in (1, 2)] == [1, 2]
        assert calls["call-after-session-1"].offset.target == 0
        prescriber = calls["prescriber-call"]
        assert (prescriber.offset.minimum, prescriber.offset.maximum) == (1, 2)

    def test_a_face_to_face_renewal_every_six_sessions(self) -> None:
        # Mindbloom: a renewal consult every 6 sessions; ASA: periodic face-to-face visits.
        (renewal,) = [a for a in self.protocol.anchored if a.session == "renewal"]
        assert (renewal.after.every, renewal.after.phase) == (6, "home")
        assert renewal.before_next
        assert self.protocol.session_kind("renewal").location == "clinic"

    def test_scales_at_baseline_and_after_sessions_two_and_four(self) -> None:
        # Hull 2022: PHQ-9 and GAD-7 at baseline, after session 2 and after session 4.
        tasks = self.protocol.tasks
        anchors = [(t.after.session, t.after.which) for t in tasks if "scales" in t.id]
        assert anchors == [("evaluation", 1), ("home-dose", 2), ("home-dose", 4)]

    def test_a_review_before_resuming_after_twelve_weeks(self) -> None:
        # Mindbloom: more than 3 months (12 weeks) since the last session needs a check-in.
        lapse = self.protocol.rules.lapse
        assert lapse is not None
        assert (lapse.after_days, lapse.requires, lapse.source) == (
            12 * 7,
            "review",
            "mindbloom-return",
        )


# -- the two protocols planned at the demo clinic --------------------------------------------------

NEW_STARTS = [D(2026, 1, 5), D(2026, 1, 8), D(2026, 11, 23), D(2026, 12, 21), D(2027, 2, 26)]


@pytest.mark.parametrize("protocol_id", ["im-ketamine-depression", "home-intranasal"])
@pytest.mark.parametrize("start", NEW_STARTS, ids=str)
def test_new_protocols_plan_and_check_clean(protocol_id: str, start: D) -> None:
    protocol = load_protocol(protocol_id)
    made = plan(protocol, start=start, clinic=demo_clinic(), preferred_time=dt.time(9),
                until=start + dt.timedelta(days=300))  # fmt: skip
    assert_series_invariants(protocol, made)
    assert_checks_clean(check(made, clinic=demo_clinic()), made)
    assert Plan.model_validate_json(made.model_dump_json()) == made


@pytest.mark.parametrize("start", NEW_STARTS, ids=str)
def test_im_plan_keeps_its_sources_timings(start: D) -> None:
    made = plan(load_protocol("im-ketamine-depression"), start=start, clinic=demo_clinic(),
                until=start + dt.timedelta(days=300))  # fmt: skip
    intake, *rest = [a for a in made.appointments if a.anchored is None]
    injections = [a for a in rest if a.phase == "induction"]
    boosters = [a for a in rest if a.phase == "boosters"]
    assert intake.phase == "intake"
    assert intake.start < injections[0].start  # APA: evaluate first
    assert len(injections) == 6  # MDS Integrative: 6 treatments
    days = [a.local_date for a in injections]
    assert all((b - a).days >= 2 for a, b in itertools.pairwise(days))  # never consecutive
    # Dr Salvage: boosters every 1-2 months, for responders only (so provisional until decided).
    assert boosters
    assert all(a.provisional for a in boosters)
    for earlier, later in itertools.pairwise([injections[-1], *boosters]):
        months = relativedelta(later.local_date, earlier.local_date)
        assert 1 <= months.months + 12 * months.years <= 2, (earlier.id, later.id)
    (review,) = [a for a in made.appointments if a.anchored == "response-review"]
    assert injections[-1].end <= review.start <= boosters[0].start  # before the first booster
    # Northrup: a mood form the day after each injection.
    forms = {t.id: t for t in made.tasks if t.id.startswith("mood-form-")}
    for injection in [*injections, *boosters]:
        due = forms[f"mood-form-{injection.id}"].due
        assert (due - injection.local_date).days == 1


@pytest.mark.parametrize("start", NEW_STARTS, ids=str)
def test_home_intranasal_plan_keeps_its_sources_timings(start: D) -> None:
    made = plan(load_protocol("home-intranasal"), start=start, clinic=demo_clinic(),
                preferred_time=dt.time(9), until=start + dt.timedelta(days=300))  # fmt: skip
    chain = [a for a in made.appointments if a.anchored is None]
    evaluation, doses = chain[0], chain[1:]
    assert (evaluation.phase, evaluation.location) == ("evaluation", "clinic")  # ASKP3
    assert all(a.location == "home" for a in doses)
    # Nushama (weekly, the default tier): each dose a week after the one before, give or take
    # the tolerance's 6-9 days; never two days running.
    gaps = [(b.local_date - a.local_date).days for a, b in itertools.pairwise(doses)]
    assert all(6 <= gap <= 9 for gap in gaps), gaps
    anchored = {a.anchored: a for a in made.appointments if a.anchored is not None}
    # Mindbloom: a call after sessions 1 and 2, the same day when the clinic is open.
    for number in (1, 2):
        call = next(a for a in anchored.values() if a.id.startswith(f"call-after-session-{number}"))
        dose = doses[number - 1]
        assert dose.end <= call.start
        assert (call.local_date - dose.local_date).days <= 1
    # Hull 2022: a prescriber call 1-2 days after the first session.
    prescriber = next(a for a in anchored.values() if a.id.startswith("prescriber-call"))
    assert 1 <= (prescriber.local_date - doses[0].local_date).days <= 2
    # Mindbloom: a renewal after every 6th session, before the next one.
    renewals = [a for a in made.appointments if a.anchored == "renewal"]
    at = {dose.id: number for number, dose in enumerate(doses, start=1)}
    for renewal in renewals:
        number = at[renewal.anchor or ""]
        assert number % 6 == 0
        assert doses[number - 1].end <= renewal.start
        assert number == len(doses) or renewal.end <= doses[number].start
    assert len(renewals) == len(doses) // 6


# -- the steps the sources describe around the doses (issue 13, clinical review section 3) -----

WITH_INTAKE = [
    "esketamine-mdsi",
    "esketamine-trd",
    "iv-ketamine-mwf",
    "iv-ketamine-pain",
    "iv-ketamine-standard",
]
IN_CLINIC = [protocol_id for protocol_id in IDS if load_protocol(protocol_id).setting == "clinic"]


@pytest.mark.parametrize("protocol_id", WITH_INTAKE)
def test_a_pre_treatment_evaluation_comes_before_the_first_dose(protocol_id: str) -> None:
    # Section 3 item 1: "a thorough consultation, then an intake appointment" (the manufacturer
    # to SPRAVATO centres); a pre-procedural evaluation (APA consensus, Sanacora 2017); no
    # ketamine without an in-person evaluation (ASKP3 2021).
    p = load_protocol(protocol_id)
    intake, first_dosing = p.phases[:2]
    kind = p.session_kind(intake.session)
    assert (intake.count, kind.category, kind.location) == (1, "consultation", "clinic")
    assert p.session_kind(first_dosing.session).is_dosing
    assert isinstance(first_dosing.start, AfterPrevious)
    gap = first_dosing.start.gap
    assert gap is not None
    assert gap.absolute_minimum >= 1  # on a later day, after the evaluation
    assert gap.source == "ketaplan-tolerance"  # how long after: no source says
    assert p.source(intake.source or "").evidence in {"clinic", "guideline"}


def test_mdsi_doses_the_day_after_the_intake() -> None:
    # The MDSI indication is acute suicidal ideation or behaviour: the intake does not hold the
    # first dose back by a week (clinical review E2 on postponing MDSI starts).
    gap = load_protocol("esketamine-mdsi").phases[1].start
    assert isinstance(gap, AfterPrevious)
    assert gap.gap is not None
    assert (gap.gap.minimum, gap.gap.target) == (1, 1)


@pytest.mark.parametrize("protocol_id", IN_CLINIC)
def test_informed_consent_is_confirmed_before_the_first_dose(protocol_id: str) -> None:
    # Section 3 item 2: Midwest Hearts and Minds reviews consent before the series and on the
    # day; the SPRAVATO REMS enrolment form is signed by the patient and the prescriber.
    p = load_protocol(protocol_id)
    task = next(t for t in p.tasks if t.id == "informed-consent")
    assert (task.kind, task.due_within_days) == ("confirmation", 0)
    assert (task.after.session, task.after.which) == (p.phases[0].session, "first")
    assert "informed consent" in task.title


@pytest.mark.parametrize("protocol_id", IN_CLINIC)
def test_transportation_is_confirmed_on_each_dosing_day(protocol_id: str) -> None:
    # Section 3 item 4: staff "verify ... transportation arrangements ... otherwise reschedule"
    # (a county SPRAVATO policy); IV EHRs record "transport arranged". Every in-clinic dose asks
    # for transportation home (E5: arranged, not an adult escort).
    p = load_protocol(protocol_id)
    dosing = [kind for kind in p.session_kinds if kind.is_dosing]
    assert all(kind.instructions.escort_required for kind in dosing)
    task = next(t for t in p.tasks if t.id == "transport-check")
    assert (task.kind, task.due_within_days, task.after.which) == ("confirmation", 0, "each")
    assert task.after.session in {kind.id for kind in dosing}


def test_the_scores_the_response_rules_read_are_scheduled() -> None:
    # Section 3 item 5: a baseline, and the scale the rules read where they read it. esketamine
    # (SUSTAIN-2): MADRS 12 or less in maintenance; iv-ketamine-mwf (Phillips 2019): MADRS at
    # least 50% below its baseline, 24 hours after the sixth infusion.
    for protocol_id in IDS:
        p = load_protocol(protocol_id)
        read: set[tuple[str, str | None]] = {(rule.scale, rule.phase) for rule in p.response}
        read |= {(ph.responder.scale, None) for ph in p.phases if ph.responder is not None}
        for scale, phase in read:
            scored = [t for t in p.tasks if t.kind == "assessment" and scale in t.title]
            baseline = [t for t in scored if t.after.session == p.phases[0].session]
            assert baseline, f"{protocol_id}: no baseline {scale}"
            assert baseline[0].after.which == "first"
            if phase is not None:
                assert any(t.after.phase == phase and t.after.which == "each" for t in scored)
    mwf = load_protocol("iv-ketamine-mwf")
    after_6 = next(t for t in mwf.tasks if t.id == "madrs-response-review")
    assert (after_6.after.which, after_6.after.phase) == ("last", "induction")


@pytest.mark.parametrize("protocol_id", IDS)
def test_open_ended_maintenance_is_reassessed_every_6_sessions(protocol_id: str) -> None:
    # Section 3 item 6: ASA asks for periodic face-to-face visits; Mindbloom's renewal consult
    # repeats "every 6 sessions", the only interval found (used as the documented default).
    p = load_protocol(protocol_id)
    last = p.phases[-1]
    periodic = [a for a in p.anchored if a.after.every is not None]
    if last.count is not None:
        assert periodic == []
        return
    (reassessment,) = periodic
    assert reassessment.after.every == 6
    assert reassessment.after.session == last.session
    assert reassessment.required
    assert p.session_kind(reassessment.session).category in {"consultation", "review"}
    assert "every 6 sessions" in p.source(reassessment.source or "").citation


def test_sc_anxiety_asks_for_transportation_and_no_driving() -> None:
    # Clinical review C3: no escort and no driving restriction, unlike every other in-clinic
    # built-in. No subcutaneous source gives them: the IV clinics' rule, marked derived.
    p = load_protocol("sc-ketamine-anxiety")
    i = p.session_kind("sc-dose").instructions
    assert (i.escort_required, i.no_driving_hours) == (True, 24)
    assert i.source == "sc-discharge"
    assert p.source("sc-discharge").evidence == "derived"


def test_home_sublingual_safety_steps() -> None:
    # Clinical review H2 and section 3 item 9 (Mindbloom; Hull 2022).
    p = load_protocol("home-sublingual")
    i = p.session_kind("home-dose").instructions
    assert i.no_driving_hours == 24
    assert i.driving_source == "home-no-driving"
    assert p.source("home-no-driving").evidence == "derived"
    assert i.source == "hull-2022"  # the peer monitor keeps its source
    # Guides before and after sessions 1 and 2 (sessions 3 on are self-led).
    after = [a for a in p.anchored if a.session == "guide-call"]
    assert sorted(a.after.which for a in after) == [1, 2]
    assert all(a.offset.minimum == 0 for a in after)
    before = [t for t in p.tasks if t.kind == "call"]
    assert sorted(t.after.which for t in before) == [1, 2]
    assert all(t.due_within_days == 0 for t in before)
    assert p.session_kind("guide-call").timeline.session_minutes == 30  # Hull: 30 minutes
    # Baseline scales, then after sessions 2 and 4 (Hull 2022).
    scales = sorted((t.after.which, t.due_within_days) for t in p.tasks if t.kind == "assessment")
    assert scales == [(1, 0), (2, 2), (4, 2)]
    # The renewal consult: "repeat every 6 sessions", before the next one.
    renewal = next(a for a in p.anchored if a.id == "renewal-consult")
    assert (renewal.after.every, renewal.after.phase, renewal.before_next) == (6, None, True)
    assert p.session_kind("renewal-consult").location == "remote"


@pytest.mark.parametrize("protocol_id", ["esketamine-mdsi", "esketamine-trd"])
def test_a_pharmacy_dispensed_kit_is_used_within_14_days(protocol_id: str) -> None:
    # Clinical review E13: "must be administered within 14 days after receipt" (spravatohcp,
    # managing center operations). ketaplan cannot know a kit's receipt date, so staff confirm
    # it at each session.
    p = load_protocol(protocol_id)
    task = next(t for t in p.tasks if t.id == "kit-within-14-days")
    assert (task.after.which, task.due_within_days, task.kind) == ("each", 0, "confirmation")
    assert "14 days" in task.title
    source = p.source(task.source or "")
    assert source.evidence == "rems"
    assert "within 14 days" in source.citation
