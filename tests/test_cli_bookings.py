"""``--bookings PLAN.json...`` for ``plan``, ``replan`` and ``check`` (issue 15, section 6): the
command line plans and checks around the clinic's other patients without a calendar export.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ketaplan import Plan, load_protocol
from ketaplan.loading import load_plan

from .test_cli import ketaplan, run

#: One chair, one room, one member of staff watching one patient: two patients at one time
#: cannot both be seated.
ONE_CHAIR = """\
id = "one-chair"
name = "One Chair Clinic"
time_zone = "America/New_York"

[opening_hours]
mon = ["08:00-18:00"]
tue = ["08:00-18:00"]
wed = ["08:00-18:00"]
thu = ["08:00-18:00"]
fri = ["08:00-18:00"]

[resources]
chairs = 1
rooms = 1
monitoring_staff = 1
patients_per_staff = 1
prescriber_on_site = true
"""


@pytest.fixture
def one_chair(tmp_path: Path) -> Path:
    path = tmp_path / "one-chair.toml"
    path.write_text(ONE_CHAIR, encoding="utf-8")
    return path


def make(folder: Path, name: str, clinic: str | Path, *more: str) -> Path:
    """A plan of ``iv-ketamine-mwf`` from Mon 30 Nov at 09:00, written to ``folder/name.json``."""
    path = folder / f"{name}.json"
    code, text = run("plan", "iv-ketamine-mwf", "--start", "2026-11-30", "--time", "09:00",
                     "--clinic", str(clinic), "--plan-id", name, "--format", "json",
                     "-o", str(path), *more)  # fmt: skip
    assert code == 0, text
    return path


def chair_uses(plan: Plan) -> list[tuple[float, float]]:
    """The (start, end) in UTC of each chair use of the plan's active sessions."""
    return [
        (span.start.timestamp(), span.end.timestamp())
        for appointment in plan.appointments
        if appointment.is_active
        for span in appointment.resources
        if span.resource == "chair"
    ]


def overlapping(first: Plan, second: Plan) -> int:
    return sum(
        a_start < b_end and b_start < a_end
        for a_start, a_end in chair_uses(first)
        for b_start, b_end in chair_uses(second)
    )


def test_a_second_patient_planned_around_the_first_gets_another_time(
    tmp_path: Path, one_chair: Path
) -> None:
    first = make(tmp_path, "first", one_chair)
    alone = make(tmp_path, "alone", one_chair)
    second = make(tmp_path, "second", one_chair, "--bookings", str(first))
    assert overlapping(load_plan(first), load_plan(alone)) > 0  # the test can fail
    assert overlapping(load_plan(first), load_plan(second)) == 0
    dose = load_plan(second).doses[0]
    assert f"{dose.local_start:%H:%M}" != "09:00"


def test_a_second_patient_gets_another_chair_at_the_demo_clinic(tmp_path: Path) -> None:
    first = make(tmp_path, "first", "demo")
    second = make(tmp_path, "second", "demo", "--bookings", str(first))
    dose = load_plan(second).doses[0]
    assert f"{dose.local_start:%H:%M}" == "09:00"
    (chair,) = [span.unit for span in dose.resources if span.resource == "chair"]
    assert chair == 2


def test_several_files_after_one_option_or_the_option_repeated(tmp_path: Path) -> None:
    first = make(tmp_path, "first", "demo")
    second = make(tmp_path, "second", "demo", "--bookings", str(first))
    one = make(tmp_path, "third", "demo", "--bookings", str(first), str(second))
    repeated = make(tmp_path, "fourth", "demo", "--bookings", str(first), "--bookings", str(second))
    for path in (one, repeated):
        dose = load_plan(path).doses[0]
        assert [span.unit for span in dose.resources if span.resource == "chair"] == [3]


def test_check_reports_over_capacity_when_two_plans_collide(
    tmp_path: Path, one_chair: Path
) -> None:
    first = make(tmp_path, "first", one_chair)
    alone = make(tmp_path, "alone", one_chair)
    code, text = run("check", str(alone), "--clinic", str(one_chair))
    assert (code, text.strip()) == (0, "no violations")
    code, text = run("check", str(alone), "--clinic", str(one_chair), "--bookings", str(first),
                     "--format", "json")  # fmt: skip
    assert code == 1
    found = json.loads(text)
    over = [v for v in found if v["code"] == "over-capacity"]
    assert {"induction-1", "maintenance-4"} <= {a for v in over for a in v["appointments"]}
    assert any("uses of chair at once (the clinic has 1)" in v["message"] for v in over)


def test_check_leaves_out_the_plans_own_bookings(tmp_path: Path, one_chair: Path) -> None:
    first = make(tmp_path, "first", one_chair)
    second = make(tmp_path, "second", one_chair, "--bookings", str(first))
    code, text = run("check", str(second), "--clinic", str(one_chair),
                     "--bookings", str(first), str(second))  # fmt: skip
    assert (code, text.strip()) == (0, "no violations")


def test_replan_places_sessions_around_the_other_plans(tmp_path: Path, one_chair: Path) -> None:
    first = make(tmp_path, "first", one_chair)
    alone = make(tmp_path, "alone", one_chair)  # planned without the first: they collide
    events = ["--event", "attended:intake-1", "--event", "missed:induction-1"]
    base = ["replan", str(alone), "--clinic", str(one_chair), "--as-of", "2026-12-07T12:00",
            *events, "--format", "json"]  # fmt: skip
    code, text = run(*base)
    assert code == 0
    blind = Plan.model_validate_json(text)
    code, text = run(*base, "--bookings", str(first))
    assert code == 0
    around = Plan.model_validate_json(text)
    assert overlapping(load_plan(first), blind) > 0  # without them, the sessions re-placed collide
    assert overlapping(load_plan(first), around) == 0


def test_a_json_list_of_bookings_still_works(tmp_path: Path) -> None:
    first = make(tmp_path, "first", "demo")
    listed = tmp_path / "bookings.json"
    listed.write_text(
        "[" + ",".join(b.model_dump_json() for b in load_plan(first).bookings()) + "]",
        encoding="utf-8",
    )
    second = make(tmp_path, "second", "demo", "--bookings", str(listed))
    dose = load_plan(second).doses[0]
    assert [span.unit for span in dose.resources if span.resource == "chair"] == [2]


@pytest.mark.parametrize("command", ["plan", "replan", "check"])
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "missing.json: cannot be read"),
        ("{not json", "bad.json: is not valid JSON"),
        ('{"id": "x"}', "bad.json: protocol: is required"),
        ('[{"start": "x"}]', "bad.json: bookings[0].start: must be"),
        ("[1]", "bad.json: bookings[0]: must be"),
    ],
)
def test_bad_files_exit_2_naming_the_file(
    tmp_path: Path, command: str, content: str | None, expected: str
) -> None:
    first = make(tmp_path, "first", "demo")
    bad = tmp_path / ("missing.json" if content is None else "bad.json")
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    arguments = {
        "plan": ["plan", "iv-ketamine-mwf", "--start", "2026-11-30", "--clinic", "demo"],
        "replan": ["replan", str(first), "--as-of", "2026-12-01T09:00"],
        "check": ["check", str(first)],
    }[command]
    result = ketaplan(*arguments, "--bookings", str(bad))
    assert result.returncode == 2, result.stdout
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["plan", "check"])
def test_another_clinics_plan_is_refused(tmp_path: Path, one_chair: Path, command: str) -> None:
    elsewhere = make(tmp_path, "elsewhere", one_chair)
    here = make(tmp_path, "here", "demo")
    arguments = {
        "plan": ["plan", "iv-ketamine-mwf", "--start", "2026-11-30", "--clinic", "demo"],
        "check": ["check", str(here)],
    }[command]
    result = ketaplan(*arguments, "--bookings", str(elsewhere))
    assert result.returncode == 2
    assert (
        f"--bookings {elsewhere}: must be a plan of clinic 'demo-clinic'; got 'one-chair'"
        in result.stderr
    )


def moved_by_clinic_software(path: Path, appointment: str, hours: int) -> Path:
    """A copy of the plan in ``path`` with ``appointment`` moved by ``hours``: start and end only,
    as docs/checking.md allows clinic software to move it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for item in data["appointments"]:
        if item["id"] == appointment:
            for name in ("start", "end"):
                moment = dt.datetime.fromisoformat(item[name]) + dt.timedelta(hours=hours)
                item[name] = moment.isoformat()
    edited = path.with_name(f"{path.stem}-moved.json")
    edited.write_text(json.dumps(data), encoding="utf-8")
    return edited


def test_a_plan_whose_session_was_moved_books_it_at_its_new_time(
    tmp_path: Path, one_chair: Path
) -> None:
    """Review: `--bookings` booked the stored resource spans, so the chair was free at the time
    clinic software had moved induction-1 to (13:00), and a second patient was seated in it:
    `check` then found the chair and the monitoring staff over capacity."""
    first = moved_by_clinic_software(make(tmp_path, "first", one_chair), "induction-1", 4)
    path = tmp_path / "second.json"
    code, text = run("plan", "iv-ketamine-mwf", "--start", "2026-11-30", "--time", "13:00",
                     "--clinic", str(one_chair), "--plan-id", "second", "--now",
                     "2026-11-20T09:00", "--bookings", str(first), "-o", str(path))  # fmt: skip
    assert code == 0, text
    for checked, other in ((first, path), (path, first)):
        code, text = run("check", str(checked), "--clinic", str(one_chair), "--bookings",
                         str(other), "--format", "json")  # fmt: skip
        found = {v["code"] for v in json.loads(text)}
        assert not found & {"over-capacity", "chair-buffer"}, (checked.name, found)


def test_a_plan_of_a_protocol_the_command_was_not_given_is_refused(tmp_path: Path) -> None:
    """Its resources' times come from its protocol: one neither built in nor given is refused
    (exit 2), not booked at the times it stores."""
    protocol = tmp_path / "our-mwf.json"
    own = load_protocol("iv-ketamine-mwf").model_copy(update={"id": "our-mwf"})
    protocol.write_text(own.model_dump_json(), encoding="utf-8")
    first = str(tmp_path / "first.json")
    code, text = run("plan", str(protocol), "--start", "2026-11-30", "--time", "09:00",
                     "--clinic", "demo", "--plan-id", "first", "-o", first)  # fmt: skip
    assert code == 0, text
    result = ketaplan("plan", "iv-ketamine-mwf", "--start", "2026-11-30", "--clinic", "demo",
                      "--bookings", first)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        f"ketaplan: error: --bookings {first}: must be a plan of a built-in protocol or of one "
        "the command was given (iv-ketamine-mwf); got 'our-mwf'\n"
    )
    # Given the protocol (the one planned, or --protocol), the plan is read with it.
    third = tmp_path / "third.json"
    code, text = run("plan", str(protocol), "--start", "2026-11-30", "--time", "09:00",
                     "--clinic", "demo", "--plan-id", "third", "--bookings", first,
                     "-o", str(third))  # fmt: skip
    assert code == 0, text
    code, text = run("check", str(third), "--protocol", str(protocol), "--bookings", first)
    assert (code, text.strip()) == (0, "no violations")
