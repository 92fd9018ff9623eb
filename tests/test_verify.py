"""``verify()`` and ``ketaplan verify``: the search finds real counterexamples, reproducibly."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ketaplan import InputError, Patient, UnsatisfiableError, load_protocol
from ketaplan.cli import main
from ketaplan.defaults import demo_clinic
from ketaplan.hours import DateRange
from ketaplan.verify import Scenario, verify

from .helpers import plan

DATA = Path(__file__).parent / "data"
EVERY_OTHER_DAY = DATA / "verify" / "every-other-day.toml"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_finds_the_availability_a_rigid_protocol_cannot_meet() -> None:
    # Three infusions exactly two days apart: fine for a patient who can come any weekday,
    # impossible for one who comes Mon-Wed only (Mon, Wed, then Friday).
    result = verify(load_protocol(EVERY_OTHER_DAY), max_examples=100)
    found = result.counterexample
    assert found is not None
    assert not result.ok
    assert found.scenario.days is not None
    assert "patient not available" in found.problem
    assert found.scenario.describe() in str(found)


def test_the_counterexample_is_real_when_replayed() -> None:
    protocol = load_protocol(EVERY_OTHER_DAY)
    found = verify(protocol, max_examples=100).counterexample
    assert found is not None
    assert found.scenario.days is not None
    window = found.scenario.window or "00:00-23:59"
    patient = Patient.model_validate(
        {"id": "again", "availability": {key: [window] for key in found.scenario.days}}
    )
    clinic = demo_clinic()
    if found.scenario.closure is not None:
        first, length = found.scenario.closure
        extra = DateRange(start=first, end=first + dt.timedelta(days=length - 1))
        clinic = clinic.model_copy(update={"closures": (*clinic.closures, extra)})
    with pytest.raises(UnsatisfiableError):
        plan(protocol, start=found.scenario.start, clinic=clinic, patient=patient,
             until=found.scenario.start + dt.timedelta(days=180))  # fmt: skip
    # ... and the same protocol plans for a patient who can come every weekday.
    plan(protocol, start=found.scenario.start, clinic=clinic)


def test_shrinks_to_the_simplest_case() -> None:
    found = verify(load_protocol(EVERY_OTHER_DAY), max_examples=100).counterexample
    assert found is not None
    # The earliest start, no closure, no missed session, whole days: only what matters is left.
    assert found.scenario.start == dt.date(2026, 12, 1)
    assert found.scenario.closure is None
    assert found.scenario.missed is None
    assert found.scenario.window is None


def test_same_seed_same_result() -> None:
    protocol = load_protocol(EVERY_OTHER_DAY)
    assert verify(protocol, max_examples=60, seed=7) == verify(protocol, max_examples=60, seed=7)


def test_a_robust_protocol_passes() -> None:
    result = verify(load_protocol("home-sublingual"), max_examples=40)
    assert result.ok
    assert result.complete
    assert result.examples == 40


def test_finds_a_missed_session_that_cannot_be_made_up() -> None:
    # A known limit of the 21-day IV series when the whole series must fit (docs/testing.md):
    # a miss late in the series around the year-end holidays leaves no day for the make-up
    # before the deadline. Under the default start policy the deadline is a target instead.
    whole = load_protocol("iv-ketamine-standard").model_copy(update={"start": "whole-series"})
    found = verify(whole, max_examples=200).counterexample
    assert found is not None
    assert found.scenario.missed is not None
    assert "cannot be placed" in found.problem


def test_closures_are_searched_and_can_be_turned_off() -> None:
    protocol = load_protocol("sc-ketamine-anxiety")
    found = verify(protocol, max_examples=200).counterexample
    assert found is not None
    assert found.scenario.closure is not None
    without = verify(protocol, max_examples=200, max_closure_days=0).counterexample
    assert without is None or without.scenario.closure is None


def test_a_fixed_patient_is_kept() -> None:
    patient = Patient.model_validate({"id": "p", "availability": {"mon": ["09:00-12:00"]}})
    result = verify(load_protocol(EVERY_OTHER_DAY), patient=patient, max_examples=20)
    assert result.counterexample is not None
    assert result.counterexample.scenario.days is None  # not searched: the patient's own


def test_stops_at_max_seconds() -> None:
    result = verify(load_protocol("iv-ketamine-standard"), max_examples=100_000, max_seconds=0.05)
    assert not result.complete
    assert result.examples < 100_000


def test_describes_every_part_of_a_scenario() -> None:
    scenario = Scenario(dt.date(2026, 12, 3), (dt.date(2026, 12, 24), 4), ("mon", "thu"),
                        "08:00-13:00", 3)  # fmt: skip
    assert scenario.describe() == (
        "starting on Thu 3 Dec 2026, with the clinic also closed Thu 24 Dec 2026 to "
        "Sun 27 Dec 2026 (4 days), with the patient available only Mon, Thu 08:00-13:00, "
        "after dose 3 is missed"
    )
    assert "(1 day)" in Scenario(dt.date(2026, 12, 3), (dt.date(2026, 12, 3), 1)).describe()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_examples": 0}, "max_examples: must be a whole number from 1 to 100000; got 0"),
        ({"seed": -1}, "seed: must be a whole number >= 0; got -1"),
        ({"max_seconds": 0}, "max_seconds: must be a number of seconds from 0 to 3600; got 0"),
        ({"max_closure_days": 61}, "max_closure_days: must be whole days from 0 to 60; got 61"),
        ({"first_start": "2026-12-01"}, "first_start: must be a date; got '2026-12-01'"),
        # Python counts True as 1: max_examples=True was one example
        ({"max_examples": True}, "max_examples: must be a number, not true or false; got True"),
        ({"max_seconds": True}, "max_seconds: must be a number, not true or false; got True"),
    ],
)
def test_bad_arguments(options: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        verify(load_protocol("home-sublingual"), **options)  # type: ignore[arg-type]


def test_cli_exit_1_with_counterexample_and_reproduce_line() -> None:
    code, text = run("verify", str(EVERY_OTHER_DAY), "--max-examples", "50", "--seed", "3")
    assert code == 1
    assert "every-other-day: counterexample (seed 3" in text
    assert "patient not available" in text
    reproduce = text.splitlines()[-1]
    assert reproduce == (
        f"reproduce with: ketaplan verify {EVERY_OTHER_DAY} --seed 3 --max-examples 50"
    )
    # The line does reproduce it.
    assert run(*reproduce.split()[3:]) == (code, text)


def test_cli_exit_0_when_none_found() -> None:
    code, text = run("verify", "home-sublingual", "--max-examples", "20")
    assert code == 0
    assert text == "home-sublingual: no counterexample in 20 cases (seed 0)\n"


def test_cli_json() -> None:
    code, text = run("verify", str(EVERY_OTHER_DAY), "--max-examples", "50", "--format", "json")
    report = json.loads(text)
    assert code == 1
    assert report["ok"] is False
    assert report["complete"] is True
    assert report["counterexample"]["scenario"].startswith("starting on")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "no-such-protocol"], "protocol: must be a built-in id"),
        (["verify", "home-sublingual", "--seed", "-1"], "--seed: must be a whole number >= 0"),
        (["verify", "home-sublingual", "--max-seconds", "0"], "--max-seconds: must be a number"),
        (["verify", "home-sublingual", "--clinic", "missing.toml"], "missing.toml"),
    ],
)
def test_cli_bad_input_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(*argv)
    assert code == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error


def test_cli_install_hint_without_hypothesis() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "from ketaplan.cli import main\n"
        "sys.exit(main(['verify', 'home-sublingual']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "pip install 'ketaplan[hypothesis]'" in result.stderr
    assert "Traceback" not in result.stderr
