"""``ketaplan plan --format ics``, ``ketaplan export`` and ``--busy``."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest

from ketaplan.ics.lint import lint_ics

from .test_cli import ketaplan, run

DATA = Path(__file__).parent / "data" / "ics"


def test_plan_writes_a_patient_calendar(tmp_path: Path) -> None:
    out = tmp_path / "patient.ics"
    code, text = run("plan", "iv-ketamine-standard", "--start", "2026-12-01", "--clinic", "demo",
                     "--patient", "demo", "--format", "ics", "--now", "2026-11-21T09:00",
                     "-o", str(out))  # fmt: skip
    assert code == 0
    assert text.splitlines()[0] == f"wrote {out}"
    data = out.read_bytes()
    assert lint_ics(data) == []
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert {str(e["SUMMARY"]) for e in events} == {"Appointment \u2013 Demo Clinic"}
    assert str(events[0].DTSTAMP) == "2026-11-21 14:00:00+00:00"


def test_export_a_plan_file(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    run("plan", "esketamine-trd", "--start", "2026-12-01", "--clinic", "demo", "--patient", "demo",
        "--format", "json", "-o", str(plan_file))  # fmt: skip
    out = tmp_path / "invite.ics"
    code, _ = run("export", str(plan_file), "-o", str(out), "--method", "REQUEST",
                  "--organizer", "clinic@example.org", "--attendee", "patient@example.net",
                  "--appointment", "induction-1", "--detail", "full")  # fmt: skip
    assert code == 0
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert "Esketamine nasal spray session" in str(event["SUMMARY"])
    code, text = run("export", str(plan_file), "--audience", "clinic")
    assert code == 0
    assert text.startswith("BEGIN:VCALENDAR")


def test_plan_around_busy_times(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'id = "one-chair"\nname = "One Chair"\ntime_zone = "America/New_York"\n'
        '[opening_hours]\nmon = ["08:00-18:00"]\ntue = ["08:00-18:00"]\nwed = ["08:00-18:00"]\n'
        'thu = ["08:00-18:00"]\nfri = ["08:00-18:00"]\n'
        "[resources]\nchairs = 1\nrooms = 1\nmonitoring_staff = 2\npatients_per_staff = 2\n"
    )
    code, text = run("plan", "sc-ketamine-anxiety", "--start", "2026-12-07", "--time", "09:00",
                     "--clinic", str(clinic), "--busy", str(DATA / "google-export.ics"),
                     "--format", "json")  # fmt: skip
    assert code == 0
    first = json.loads(text)["appointments"][0]
    assert first["start"] == "2026-12-07T11:00:00-05:00"


def test_busy_errors_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ics"
    broken.write_text(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:nope\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = ketaplan("plan", "sc-ketamine-anxiety", "--start", "2026-12-07", "--busy", str(broken))
    assert result.returncode == 2
    assert "broken.ics: line 3: DTSTART" in result.stderr
    assert "Traceback" not in result.stderr
    busy = str(DATA / "google-export.ics")
    result = ketaplan(
        "plan",
        "sc-ketamine-anxiety",
        "--start",
        "2026-12-07",
        "--busy",
        busy,
        "--busy-as",
        "patient",
    )
    assert result.returncode == 2
    assert "--busy-as: must be used with --patient" in result.stderr


def test_export_bad_method_arguments_exit_2(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    run("plan", "sc-ketamine-anxiety", "--start", "2026-12-07", "--format", "json",
        "-o", str(plan_file))  # fmt: skip
    result = ketaplan("export", str(plan_file), "--method", "REQUEST")
    assert result.returncode == 2
    assert "organizer: must be the clinic's e-mail address for METHOD:REQUEST" in result.stderr


# An option that shapes one output only, given with another format, would change nothing: the
# command refuses it rather than ignore what the user asked for (exit 2, no traceback).
_WRONG_FORMAT = [
    (("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--today", "2026-12-08"),
     "--format: must be html or svg with --today; got 'table'"),
    (("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--format", "json",
      "--audience", "clinic"), "--format: must be ics or fhir with --audience; got 'json'"),
    (("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--format", "fhir",
      "--method", "PUBLISH"), "--format: must be ics with --method; got 'fhir'"),
    (("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--format", "ics",
      "--bundle", "transaction"), "--format: must be fhir with --bundle; got 'ics'"),
    (("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--format", "svg",
      "--fhir-patient", "Patient/1"), "--format: must be fhir with --fhir-patient; got 'svg'"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), _WRONG_FORMAT)
def test_an_option_of_another_format_is_refused(args: tuple[str, ...], message: str) -> None:
    code, text = run(*args)
    assert (code, text) == (2, "")
    result = ketaplan(*args)
    assert result.returncode == 2
    assert result.stderr == f"ketaplan: error: {message}\n"


def test_export_refuses_what_its_format_ignores(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    run("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--format", "json",
        "-o", str(plan_file))  # fmt: skip
    for args, message in (
        (
            ("--format", "fhir", "--appointment", "induction-1"),
            "ics with --appointment; got 'fhir'",
        ),
        (("--format", "svg", "--now", "2026-12-01T09:00"), "ics or fhir with --now; got 'svg'"),
        (("--format", "html", "--detail", "full"), "ics or fhir with --detail; got 'html'"),
    ):
        result = ketaplan("export", str(plan_file), *args)
        assert result.returncode == 2, args
        assert result.stderr == f"ketaplan: error: --format: must be {message}\n"
    # With their own formats they are taken.
    assert run("export", str(plan_file), "--format", "svg", "--today", "2026-12-08")[0] == 0
    assert run("export", str(plan_file), "--format", "fhir", "--bundle", "transaction")[0] == 0


def test_export_names_an_appointment_the_plan_does_not_have(tmp_path: Path) -> None:
    """Before, `--appointment induction-9` wrote an empty calendar and exit 0: the iMIP message
    for a mistyped id was never sent, without a word."""
    plan_file = tmp_path / "plan.json"
    run("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--format", "json",
        "--plan-id", "p-7", "-o", str(plan_file))  # fmt: skip
    result = ketaplan("export", str(plan_file), "--appointment", "induction-1",
                      "--appointment", "induction-99")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "ketaplan: error: --appointment: must be ids of appointments of plan p-7; "
        "got ['induction-99']\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--clinic", "demo", "--tz", "Europe/Berlin"),
         ("--tz: must be left out with a clinic, or the clinic's own zone 'America/New_York'; "
          "got 'Europe/Berlin'")),
        (("--busy-as", "room"), "--busy-as: must be used with --busy; got 'room'"),
    ],
)  # fmt: skip
def test_plan_refuses_an_option_the_others_leave_unused(
    args: tuple[str, ...], message: str
) -> None:
    """Before, the plan was made in the clinic's zone, and with no busy times, without a word."""
    result = ketaplan("plan", "iv-ketamine-mwf", "--start", "2026-12-07", *args)
    assert result.returncode == 2
    assert result.stderr == f"ketaplan: error: {message}\n"
    # The clinic's own zone is not a contradiction.
    assert run("plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--clinic", "demo",
               "--tz", "America/New_York")[0] == 0  # fmt: skip
