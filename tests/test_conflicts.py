"""Conflicts: shifting as little as the rules allow, and a miss that closes on a deadline.

Issue 14: ``on_conflict="shift"`` pushed a later session out of its window when an arrangement
with it inside existed, its reason read "outside at least 2 days after ...", and the command
exited 0 with errors left; recording a missed session whose last window closed on a phase
deadline failed with no word of the deadline or of what to do.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ketaplan import Patient, Plan, UnsatisfiableError, check, load_protocol
from ketaplan._planning import search
from ketaplan.defaults import demo_clinic
from ketaplan.replanning import Missed, replan

from .helpers import clinic, plan
from .test_cli import run

DATA = Path(__file__).parent / "data"
EVERY_OTHER_DAY = load_protocol(DATA / "verify" / "every-other-day.toml")  # exactly 2 days apart
START = dt.date(2026, 12, 7)  # a Monday
TRAINING = clinic(closures=[{"start": "2026-12-09", "end": "2026-12-09", "reason": "training"}])


def outside(made: Plan) -> dict[str, int]:
    """Each session past its window, with how many days."""
    return {a.id: (a.local_date - a.latest).days
            for a in made.appointments if a.latest and a.local_date > a.latest}  # fmt: skip


def test_shifting_moves_no_more_sessions_out_of_their_windows_than_it_must() -> None:
    # Mon 7 Dec fixed (no later start); Wed 9 closed. Infusion 2 on Thu 10 would push infusion 3
    # (Sat 12, closed) out of its window too; on Mon 14, infusion 3 keeps its own (Wed 16).
    made = plan(EVERY_OTHER_DAY, start=START, clinic=TRAINING, on_conflict="shift",
                start_window_days=0)  # fmt: skip
    assert outside(made) == {"induction-2": 5}
    assert made.appointment("induction-3").local_date == dt.date(2026, 12, 16)


def test_shifting_goes_on_when_one_session_out_is_not_enough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monday = Patient.model_validate({"id": "p", "availability": {"mon": ["09:00-12:00"]}})
    made = plan(EVERY_OTHER_DAY, start=START, clinic=demo_clinic(), patient=monday,
                on_conflict="shift")  # fmt: skip
    assert outside(made) == {"induction-2": 5, "induction-3": 5}
    monkeypatch.setattr(search, "SHIFT_BUDGETS", (1,))
    with pytest.raises(UnsatisfiableError, match="already 1 session past a window; no more"):
        plan(EVERY_OTHER_DAY, start=START, clinic=demo_clinic(), patient=monday,
             on_conflict="shift")  # fmt: skip


def test_a_shifted_session_says_how_far_past_its_window_it_is() -> None:
    made = plan(EVERY_OTHER_DAY, start=START, clinic=TRAINING, on_conflict="shift",
                start_window_days=0)  # fmt: skip
    second = made.appointment("induction-2")
    assert second.reason.endswith(
        "moved to Mon 14 Dec 2026, 5 days after its window (Wed 9 Dec 2026 to Wed 9 Dec 2026) "
        "closed"
    )
    assert second.shift is not None
    assert second.shift.text.startswith("placed 5 days outside its window")
    assert all("outside at least" not in a.reason for a in made.appointments)


# -- a miss whose last window closes on the phase's deadline ----------------------------------

WHOLE = load_protocol("iv-ketamine-standard").model_copy(update={"start": "whole-series"})
EARLY_WEEK = Patient.model_validate(
    {"id": "p-1", "availability": {day: ["08:00-18:00"] for day in ("mon", "tue", "wed")}}
)


def _made() -> Plan:
    return plan(WHOLE, start=dt.date(2026, 12, 1), clinic=demo_clinic(), patient=EARLY_WEEK,
                until=dt.date(2027, 6, 1), preferred_time=dt.time(9))  # fmt: skip


def test_a_miss_against_the_deadline_names_it_and_says_what_to_do() -> None:
    made = _made()
    first = made.doses[0]
    with pytest.raises(UnsatisfiableError) as caught:
        replan(made, as_of=first.end, protocol=WHOLE, clinic=demo_clinic(), patient=EARLY_WEEK,
               events=[Missed(appointment=first.id)])  # fmt: skip
    message = str(caught.value)
    assert "the window closes on the phase's deadline, Sun 27 Dec 2026" in message
    assert "on_conflict='shift' (--on-conflict shift)" in message
    assert "record a clinician's decision" in message


def test_a_miss_against_the_deadline_is_recorded_with_shift() -> None:
    made = _made()
    first = made.doses[0]
    after = replan(made, as_of=first.end, protocol=WHOLE, clinic=demo_clinic(),
                   patient=EARLY_WEEK, events=[Missed(appointment=first.id)],
                   on_conflict="shift")  # fmt: skip
    assert after.appointment(first.id).status == "missed"
    found = check(after, protocol=WHOLE, clinic=demo_clinic(), patient=EARLY_WEEK)
    assert "phase-deadline" in {v.code for v in found if v.severity == "error"}


def test_the_command_line_says_when_a_shifted_plan_still_breaks_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = tmp_path / "whole.json"
    protocol.write_text(WHOLE.model_dump_json())
    patient = tmp_path / "patient.json"
    patient.write_text(EARLY_WEEK.model_dump_json())
    where = ["--protocol", str(protocol), "--clinic", "demo", "--patient", str(patient)]
    made = tmp_path / "plan.json"
    made.write_text(_made().model_dump_json())
    first = json.loads(made.read_text())["appointments"][1]["id"]
    assert first == "induction-1"
    missed = [str(made), *where, "--as-of", "2026-12-08T12:00", "--event", f"missed:{first}"]
    code, _ = run("replan", *missed)
    assert code == 2
    assert "--on-conflict shift" in capsys.readouterr().err
    out = tmp_path / "after.json"
    code, _ = run("replan", *missed, "--on-conflict", "shift", "--format", "json", "-o", str(out))
    assert code == 1
    err = capsys.readouterr().err
    assert "phase-deadline" in err
    assert "the plan was shifted and still breaks" in err
    assert json.loads(out.read_text())["appointments"][1]["status"] == "missed"
    # shifting that leaves nothing broken exits 0
    clean = run("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--now", "2026-11-20T09:00",
                "--clinic", "demo", "--on-conflict", "shift", "--format", "json")  # fmt: skip
    assert clean[0] == 0
