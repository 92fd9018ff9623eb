"""Medication holds that cannot hurt a patient, and medicines recognised by any name (issue 13).

Sources: the clinical review (../shared/reference/clinical-review.md) findings E8, R1-R3, R8-R10
and P3, and the sources each preset cites (library/medications/presets.toml).
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from ketaplan import ClinicError, builtin_protocol_ids, load_protocol, medicines
from ketaplan._presets import builtin_classes, preset_rules
from ketaplan.checking import check
from ketaplan.cli import main
from ketaplan.medications import medication_rules, medicine_names
from ketaplan.medicines import (
    dictionary_version,
    ingredients,
    names_ahead,
    plain_name,
    stored_names,
)
from ketaplan.patient import Medication, Patient
from ketaplan.plans import Plan

from .helpers import clinic, patient, patient_file, plan

D = dt.date
NY = zoneinfo.ZoneInfo("America/New_York")
WHERE = clinic()


def taking(*medications: dict[str, Any]) -> Patient:
    return patient(medications=list(medications), enrollments=["spravato-rems"])


def made(protocol: str, *medications: dict[str, Any], **options: Any) -> Plan:
    who = taking(*medications)
    options.setdefault("start", D(2026, 3, 2))
    return plan(load_protocol(protocol), clinic=WHERE, patient=who,
                until=D(2026, 4, 30), preferred_time=dt.time(9), **options)  # fmt: skip


def holds(result: Plan) -> list[str]:
    return [i.text for a in result.doses for i in a.instructions if i.kind == "medication-hold"]


def tasks(result: Plan, kind: str) -> list[str]:
    return [t.id for t in result.tasks if t.kind == kind]


# -- scope ---------------------------------------------------------------------------------------


def test_ketamine_clinic_presets_do_not_apply_to_esketamine() -> None:
    # Clinical review E8: the benzodiazepine, lamotrigine and stimulant presets come from an IV
    # clinic (KCLA) and an at-home sublingual programme (Mindbloom); the esketamine label asks
    # for monitoring (section 7), not holds.
    meds = ({"name": "lamotrigine", "times": ["07:00"]},
            {"name": "methylphenidate", "times": ["07:00"]})  # fmt: skip
    esketamine = made("esketamine-trd", *meds)
    assert holds(esketamine) == []
    monitoring = tasks(esketamine, "monitoring")
    assert monitoring
    assert all("psychostimulants" in task for task in monitoring)  # BP monitoring, label 7.2
    ketamine = made("iv-ketamine-standard", *meds)
    texts = holds(ketamine)
    assert any("lamotrigine" in t for t in texts)
    assert any("methylphenidate" in t for t in texts)


def test_a_clinic_rule_scoped_to_iv_leaves_other_routes_alone() -> None:
    scoped = clinic(medication_rules=[{
        "id": "naltrexone", "medication": "naltrexone", "severity": "hold",
        "hold_before_hours": 24, "resume_after_hours": 0, "source": "naltrexone-trials",
        "applies_to": {"drugs": ["ketamine"], "routes": ["iv"]},
    }])  # fmt: skip
    iv = medication_rules(load_protocol("iv-ketamine-standard"), scoped)
    sc = medication_rules(load_protocol("sc-ketamine-anxiety"), scoped)
    assert ("naltrexone", "hold") in {(r.id, r.severity) for r in iv.rules}
    assert "naltrexone" not in {r.id for r in sc.rules}


def test_show_lists_every_medication_rule_in_force(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["show", "esketamine-trd"], out=out) == 0
    text = out.getvalue()
    assert "Medication rules in force" in text
    assert "cns-depressants (cns-depressant): monitor" in text
    assert "benzodiazepine (ketamine)" in text  # listed as not for this protocol
    off = tmp_path / "clinic.toml"
    off.write_text(
        'id = "off"\nname = "Off"\ntime_zone = "America/New_York"\n'
        'medication_presets_off = ["lamotrigine"]\n[opening_hours]\nmon = ["08:00-17:00"]\n'
    )
    out = io.StringIO()
    assert main(["show", "iv-ketamine-pain", "--clinic", str(off)], out=out) == 0
    text = out.getvalue()
    assert "Medication rules in force at off" in text
    assert "benzodiazepine (benzodiazepine): hold, conditional" in text
    assert "lamotrigine (lamotrigine)" not in text


# -- seizure medicines ---------------------------------------------------------------------------


def test_seizure_medicines_are_never_held_by_default() -> None:
    # Clinical review R2: no source supports withholding anti-epileptic maintenance doses or
    # seizure-rescue benzodiazepines; clobazam is mainly an anti-epileptic and an outpatient
    # as-needed midazolam is usually seizure rescue. Lamotrigine taken for epilepsy likewise.
    meds = (
        {"name": "clobazam", "times": ["07:00"]},
        {"name": "midazolam", "as_needed": True},
        {"name": "lamotrigine", "times": ["07:00"], "indication": "epilepsy"},
    )
    result = made("iv-ketamine-pain", *meds)
    assert holds(result) == []
    assert tasks(result, "medication") == []
    notes = [n for n in result.notes if "never held by default" in n]
    assert len(notes) == 3
    assert any(n.startswith("midazolam") and "seizure rescue" in n for n in notes)
    assert any(n.startswith("lamotrigine") and "taken for epilepsy" in n for n in notes)
    assert check(result, clinic=WHERE, patient=taking(*meds)) == []
    # Midazolam taken on a schedule is not rescue use: the (conditional) benzodiazepine hold
    # then waits for a clinician like any other.
    scheduled = made("iv-ketamine-pain", {"name": "midazolam", "times": ["07:00"]})
    assert tasks(scheduled, "medication") == ["confirm-hold-benzodiazepine-midazolam"]


@pytest.mark.parametrize(
    "brand",
    ["Valtoco", "Diastat AcuDial", "Nayzilam 5 mg nasal spray", "Diastat rectal gel",
     "Diastat Pediatric", "diazepam (Valtoco)"],
)  # fmt: skip
def test_a_brand_approved_only_for_seizure_clusters_is_never_held(brand: str) -> None:
    """A pharmacist's find: Valtoco and Diastat (diazepam) read as diazepam, which is only
    "seizure-possible", so the benzodiazepine hold waited for a clinician to confirm it; and
    taken on a schedule, Nayzilam's midazolam did too. Their labels approve them only for
    seizure clusters in epilepsy (FDA labels; Peters 2024), so they are seizure medicines,
    never held by default, however they are taken (clinical review R2)."""
    for taken in ({"as_needed": True}, {"times": ["07:00"]}):
        result = made("iv-ketamine-pain", {"name": brand, **taken})
        assert holds(result) == []
        assert tasks(result, "medication") == []
        assert any(n.startswith(brand) and "a seizure medicine" in n for n in result.notes)
    # Diazepam itself is still read as the benzodiazepine it is: the hold waits for a clinician.
    plain = made("iv-ketamine-pain", {"name": "diazepam", "times": ["07:00"]})
    assert tasks(plain, "medication") == ["confirm-hold-benzodiazepine-diazepam"]


def test_a_medicine_also_prescribed_for_seizures_asks_for_its_indication() -> None:
    result = made("iv-ketamine-standard", {"name": "lamotrigine", "times": ["07:00"]})
    assert holds(result)  # KCLA: 6 h before, 6 h after the infusion
    assert any("also prescribed for seizures" in n for n in result.notes)


def test_a_clinician_may_confirm_a_hold_on_a_seizure_medicine() -> None:
    result = made("iv-ketamine-standard",
                  {"name": "clobazam", "times": ["07:00"], "hold": "confirmed"})  # fmt: skip
    assert holds(result)


# -- conditional holds ---------------------------------------------------------------------------


def test_a_conditional_hold_waits_for_the_clinician() -> None:
    # Clinical review R1: KCLA "may ask" patients taking large doses; Mindbloom "if it's safe".
    unconfirmed = made("iv-ketamine-standard", {"name": "clonazepam", "times": ["07:00"]})
    assert holds(unconfirmed) == []
    (task,) = [t for t in unconfirmed.tasks if t.kind == "medication"]
    assert task.id == "confirm-hold-benzodiazepine-clonazepam"
    assert task.due == unconfirmed.doses[0].local_date
    assert task.source == "kcla-holds"
    confirmed = made("iv-ketamine-standard",
                     {"name": "clonazepam", "times": ["07:00"], "hold": "confirmed"})  # fmt: skip
    assert holds(confirmed)
    assert tasks(confirmed, "medication") == []
    not_applicable = {"name": "clonazepam", "times": ["07:00"], "hold": "not-applicable"}
    ruled_out = made("iv-ketamine-standard", not_applicable)
    assert holds(ruled_out) == []
    assert tasks(ruled_out, "medication") == []
    assert any("as the clinician recorded" in n for n in ruled_out.notes)


def test_the_patient_hears_nothing_until_a_hold_is_confirmed() -> None:
    result = made("iv-ketamine-standard", {"name": "lorazepam", "as_needed": True})
    assert not any("lorazepam" in i.text for a in result.appointments for i in a.instructions)


# -- resume times --------------------------------------------------------------------------------


def test_resume_counts_from_the_end_of_the_infusion() -> None:
    # Clinical review P3 / R10: KCLA "wait 6 hours after their infusion before resuming
    # Lamictal". The pain infusion doses 09:15-13:15 (4 h); resuming is at 19:15, not 15:15.
    result = made("iv-ketamine-pain", {"name": "lamotrigine", "times": ["14:00", "20:00"]},
                  start=D(2026, 2, 23))  # the intake a week before the first infusion  # fmt: skip
    first = result.doses[0]
    assert first.dosing_start is not None
    assert first.dosing_start.astimezone(NY).time() == dt.time(9, 15)
    (text,) = [i.text for i in first.instructions if i.kind == "medication-hold"]
    assert text.startswith("Skip your 14:00 lamotrigine on Mon 2 Mar 2026; resume after 19:15")


# -- esketamine sedation monitoring ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["trazodone", "mirtazapine", "amitriptyline", "gabapentin", "pregabalin", "phenobarbital",
     "quetiapine", "diphenhydramine", "cyclobenzaprine", "zolpidem", "oxycodone"],
)  # fmt: skip
def test_cns_depressants_get_sedation_monitoring_for_esketamine(name: str) -> None:
    # Label section 7.1: CNS depressants may increase sedation, closely monitor; the REMS form
    # asks about medicines "that may cause sedation" (clinical review R8).
    result = made("esketamine-trd", {"name": name, "times": ["21:00"]})
    monitoring = [t for t in result.tasks if t.kind == "monitoring"]
    assert len(monitoring) == len([a for a in result.doses if a.status == "planned"])
    assert all("Closely monitor for sedation" in t.title for t in monitoring)


@pytest.mark.parametrize("name", ["linezolid", "methylene blue"])
def test_linezolid_and_methylene_blue_are_maois(name: str) -> None:
    # Clinical review R9: both inhibit MAO; the esketamine label: MAOIs, monitor blood pressure.
    result = made("esketamine-trd", {"name": name})
    assert {t.title.split(".")[0] for t in result.tasks if t.kind == "monitoring"} == {
        "Closely monitor blood pressure"
    }


# -- medicine names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "ingredient"),
    [("Ativan", "lorazepam"), ("Xanax", "alprazolam"), ("Klonopin", "clonazepam"),
     ("Lamictal", "lamotrigine"), ("Adderall", "amphetamine"), ("Ritalin", "methylphenidate"),
     ("Vyvanse", "lisdexamfetamine"), ("clonazepam 0.5 mg", "clonazepam"),
     ("Lorazepam ER", "lorazepam")],
)  # fmt: skip
def test_brands_strengths_and_forms_reach_their_ingredient(written: str, ingredient: str) -> None:
    # The names of issue 13 section 3, which used to get no rule at all.
    rules = medicine_names()
    classes = rules.classes_of(written)
    assert classes is not None
    assert ingredient in classes
    assert rules.classes_of(ingredient) is not None
    assert (rules.classes_of(ingredient) or set()) <= classes


def test_a_brand_gets_the_hold_of_its_ingredient() -> None:
    result = made("iv-ketamine-standard", {"name": "Lamictal XR 100 mg", "times": ["07:00"]},
                  {"name": "Adderall", "times": ["07:00"]})  # fmt: skip
    texts = holds(result)
    assert any("Lamictal XR 100 mg" in t and "lamotrigine hold" in t for t in texts)
    assert any("Adderall" in t and "psychostimulant hold" in t for t in texts)
    assert not any(n.startswith("unknown medication") for n in result.notes)


def test_plain_names_and_ingredients() -> None:
    assert plain_name("Seroquel XR 50mg tablets") == "seroquel"
    assert ingredients("Seroquel XR") == ("quetiapine",)
    assert ingredients("Zyvox") == ("linezolid",)
    assert ingredients("qwertyuiop") == ()


def test_the_names_worked_out_ahead_are_the_dictionary_s_own() -> None:
    # Issue 18 (speed where users feel it): the dictionary took 2 to 5 s to load in every
    # process that read a brand name; its answers for the built-in ingredients' names are kept
    # in library/medications/names.json, used only with the dictionary version that made them.
    stored = stored_names()
    if stored.dictionary == dictionary_version():
        assert names_ahead(builtin_classes()[0]) == stored  # python -m ketaplan.medicines
        assert len(stored.ingredients) > 1000
        assert stored.ingredients["ativan"] == ("lorazepam",)
    else:  # another dictionary: its own answers, never the file's
        assert medicines._ahead() is None


def test_a_brand_of_a_known_ingredient_is_read_without_loading_the_dictionary() -> None:
    code = (
        "import sys\n"
        "from ketaplan.medications import medicine_names\n"
        "rules = medicine_names()\n"
        "assert 'lorazepam' in rules.classes_of('Ativan 1 mg')\n"
        "assert 'amphetamine' in rules.classes_of('Adderall XR')\n"
        "print('drug_named_entity_recognition' in sys.modules)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ran.stdout.strip() == "True"
    assert loaded is (medicines._ahead() is None)


@pytest.mark.parametrize(
    ("written", "meant"),
    [("lorazpam", "lorazepam"), ("Klonipin", "klonopin"), ("Adderal", "adderall")],
)
def test_a_misspelt_name_is_a_warning_with_a_suggestion(written: str, meant: str) -> None:
    warning = medicine_names().unknown(Medication(name=written))
    assert warning is not None
    assert f"unknown medication {written!r}" in warning
    assert f"did you mean {meant!r}" in warning


@pytest.mark.parametrize("fmt", ["table", "json", "ics"])
def test_plan_warns_of_an_unknown_name_on_stderr_in_every_format(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    who = patient_file(tmp_path, "lorazpam")
    out = io.StringIO()
    code = main(["plan", "iv-ketamine-standard", "--start", "2026-12-01", "--clinic", "demo",
                 "--patient", str(who), "--format", fmt], out=out)  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "ketaplan: warning: unknown medication 'lorazpam'" in err
    assert "did you mean 'lorazepam'" in err


def test_validate_warns_of_an_unknown_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    who = patient_file(tmp_path, "Klonipin")
    out = io.StringIO()
    assert main(["validate", str(who)], out=out) == 0
    assert "ok (patient p-9)" in out.getvalue()
    assert "did you mean 'klonopin'" in capsys.readouterr().err


def test_medication_fields_round_trip() -> None:
    who = patient(medications=[{"name": "clobazam", "times": ["07:00"], "indication": "epilepsy",
                                "hold": "not-applicable", "as_needed": False}])  # fmt: skip
    assert Patient.model_validate_json(who.model_dump_json()) == who


def test_two_medicines_under_one_monitoring_rule_share_its_task() -> None:
    # Found when plans began to be validated on reading (issue 14): two CNS depressants gave
    # each session two tasks with one id. One task per rule and session names both.
    result = made("esketamine-trd", {"name": "lorazepam", "times": ["22:00"]},
                  {"name": "Seroquel", "times": ["22:00"]}, {"name": "lorazepam"})  # fmt: skip
    first = result.doses[0].id
    (task,) = [t for t in result.tasks if t.kind == "monitoring" and t.appointment == first]
    assert task.title.endswith("The patient takes lorazepam, Seroquel (cns-depressant).")
    assert len({t.id for t in result.tasks}) == len(result.tasks)


@pytest.mark.parametrize("name", ["buprenorphine/naloxone", "Buprenorphine + Naloxone"])
def test_a_combination_written_as_its_ingredients_is_read_by_each(name: str) -> None:
    # Spravato label 7.1: CNS depressants (opioids among them), closely monitor for sedation.
    # A combination written as "buprenorphine/naloxone" was an unknown medication, and the
    # esketamine plan had no sedation-monitoring task (found by a clinical review).
    result = made("esketamine-trd", {"name": name, "times": ["08:00"]})
    assert tasks(result, "monitoring")
    assert not any("unknown medication" in note for note in result.notes)
    rules = medication_rules(load_protocol("esketamine-trd"))
    assert {"opioid", "cns-depressant"} <= (rules.classes_of(name) or set())
    assert rules.classes_of("chocolate/vanilla") is None


# -- a rule names what a rule can match ---------------------------------------------------------

OWN_SOURCE = {"id": "ours", "citation": "Our standing order", "evidence": "clinic"}


def own_hold(medication: str) -> dict[str, Any]:
    return {"id": "own-hold", "medication": medication, "severity": "hold",
            "hold_before_hours": 12, "source": "ours"}  # fmt: skip


def test_every_built_in_rule_names_a_medication_or_class_ketaplan_knows() -> None:
    # Each hold is matched to a patient's medication by its ingredient or class: a preset or a
    # built-in protocol naming anything else would never apply (protocol files are refused so).
    known = medicine_names()
    rules = [
        *preset_rules(),
        *(hold for p in builtin_protocol_ids() for hold in load_protocol(p).holds),
    ]
    assert len(rules) > 10
    wrong = [(rule.id, known.rule_name_problem(rule.medication)) for rule in rules]
    assert [(rule, problem) for rule, problem in wrong if problem is not None] == []


def test_a_misspelt_hold_would_have_dropped_the_patient_s_instruction() -> None:
    # Why a hold on a name no rule can match is refused: it matched no medication, and the
    # patient was not told to skip the 22:00 dose before the infusion.
    own = clinic(sources=[OWN_SOURCE], medication_rules=[own_hold("benzodiazepine")])
    result = plan(load_protocol("iv-ketamine-standard"), clinic=own,
                  patient=taking({"name": "alprazolam", "times": ["22:00"]}),
                  start=D(2026, 3, 2), until=D(2026, 4, 30), preferred_time=dt.time(9))  # fmt: skip
    assert any("Skip your 22:00 alprazolam" in text for text in holds(result))
    refused = r"did you mean 'benzodiazepine'\?\); got 'benzodiazapine'"
    with pytest.raises(ClinicError, match=refused):
        clinic(sources=[OWN_SOURCE], medication_rules=[own_hold("benzodiazapine")])


def test_a_clinic_rule_or_class_naming_what_no_rule_can_match_is_refused() -> None:
    with pytest.raises(ClinicError) as info:
        clinic(sources=[OWN_SOURCE], medication_rules=[own_hold("Ativan")],
               medication_classes={"house blend": ["benzodiazapine"]})  # fmt: skip
    assert [str(p) for p in info.value.problems] == [
        (
            "medication_rules[0].medication: must be a medication or class ketaplan knows "
            "(did you mean 'lorazepam'?); got 'Ativan'"
        ),
        (
            "medication_classes: 'house blend': must be a medication or class ketaplan knows, "
            "or one the clinic's medication_rules name (did you mean 'benzodiazepine'?); got "
            "'benzodiazapine'"
        ),
    ]


def test_a_clinic_may_name_its_own_class_and_rule_on_it() -> None:
    classes = {"house blend": ["house-sedatives", "benzodiazepine"]}
    own = clinic(sources=[OWN_SOURCE], medication_rules=[own_hold("house-sedatives")],
                 medication_classes=classes)  # fmt: skip
    rules = medication_rules(load_protocol("iv-ketamine-standard"), own)
    matched = rules.matching(Medication(name="House Blend"))
    assert {"own-hold", "benzodiazepine"} <= {rule.id for rule in matched}


def test_checking_a_rule_s_name_reads_no_dictionary() -> None:
    # The name dictionary takes seconds to load: a protocol whose holds name classes (every
    # built-in) is validated from ketaplan's own classes file.
    code = (
        "import sys\n"
        "from ketaplan import builtin_protocol_ids, load_protocol\n"
        "for name in builtin_protocol_ids():\n"
        "    load_protocol(name)\n"
        "print('drug_named_entity_recognition' in sys.modules)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"


# -- combination and buprenorphine brands -------------------------------------------------------

#: Brands clinic staff wrote in patients' medication lists, and the ingredient of each that a
#: built-in class names (each brand's label lists its ingredients: library/medications/
#: brands.toml, or the dictionary's own answer).
BRANDS = [
    ("Suboxone", "buprenorphine"), ("Subutex", "buprenorphine"), ("Zubsolv", "buprenorphine"),
    ("Bunavail", "buprenorphine"), ("Sublocade", "buprenorphine"), ("Brixadi", "buprenorphine"),
    ("Belbuca", "buprenorphine"), ("Butrans", "buprenorphine"),
    ("Suboxone 8 mg/2 mg sublingual film", "buprenorphine"), ("Percocet", "oxycodone"),
    ("Norco", "hydrocodone"), ("Vicodin", "hydrocodone"), ("Ultracet", "tramadol"),
]  # fmt: skip


@pytest.mark.parametrize(("written", "ingredient"), BRANDS)
def test_combination_and_buprenorphine_brands_reach_their_ingredient(
    written: str, ingredient: str
) -> None:
    """Found by clinic staff: Suboxone, Subutex and Zubsolv were unknown medications (the
    dictionary names Suboxone "buprenorphine/naloxone", one name no class had, and Subutex by a
    description), so an esketamine patient on one had no sedation-monitoring task (Spravato
    label 7.1: opioids are CNS depressants)."""
    rules = medication_rules(load_protocol("esketamine-trd"))
    classes = rules.classes_of(written)
    assert classes is not None
    assert {ingredient, "opioid", "cns-depressant"} <= classes
    assert rules.unknown(Medication(name=written)) is None
    assert [r.id for r in rules.matching(Medication(name=written))] == ["cns-depressants"]


def test_a_patient_on_suboxone_gets_sedation_monitoring_with_esketamine() -> None:
    result = made("esketamine-trd", {"name": "Suboxone", "times": ["08:00"]})
    monitoring = [t for t in result.tasks if t.kind == "monitoring"]
    assert len(monitoring) == len([a for a in result.doses if a.status == "planned"])
    assert all("Closely monitor for sedation" in t.title for t in monitoring)
    assert not any("unknown medication" in note for note in result.notes)


def test_a_combination_the_dictionary_names_is_read_by_its_known_ingredients() -> None:
    """The dictionary names Contrave "naltrexone and bupropion" (both in its label): the
    naltrexone rule applies to it as to naltrexone."""
    assert ingredients("Contrave") == ("naltrexone and bupropion",)
    rules = medication_rules(load_protocol("iv-ketamine-standard"))
    found = [r.id for r in rules.matching(Medication(name="Contrave"))]
    assert found == [r.id for r in rules.matching(Medication(name="naltrexone"))] != []


def test_every_brand_read_from_its_label_cites_it_and_names_known_ingredients() -> None:
    known, _ = builtin_classes()
    sources = medicines.brand_sources()
    assert all(s["citation"] and s["url"].startswith("https://") for s in sources.values())
    classes = {c for found in known.values() for c in found}
    for name, brand in medicines.brands().items():
        assert brand.source in sources, name
        assert any(part in known for part in brand.ingredients), name
        assert name not in known  # a brand, not an ingredient the classes name
        assert set(brand.classes) <= classes, name  # only classes the rules know
