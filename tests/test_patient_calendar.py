"""The patient's calendar (issue 14, section 1): quiet hours, reminders before their deadlines,
the clinic's patient-facing name, and a neutral description for every event.

Every check reads a real export back: icalendar for the events, and the raw TRIGGER values,
whose days RFC 5545 counts in calendar days and whose hours are exact, so the instant an alarm
fires is worked out here independently of the writer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from ketaplan import ClinicError, Plan, load_protocol
from ketaplan._text import fmt_clock, fmt_day
from ketaplan.clinic import Clinic
from ketaplan.defaults import demo_clinic
from ketaplan.ics import clean_text, to_ics, uid_for
from ketaplan.loading import load_plan, loads_clinic
from ketaplan.patient import Patient
from ketaplan.protocol import HoldRule
from tests.helpers import clinic, demo_plan, plan

from .test_cli import run

NOW = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
NY = ZoneInfo("America/New_York")
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: A duration as RFC 5545 writes it: weeks and days are nominal, hours to seconds exact.
DURATION = re.compile(
    r"(?P<sign>[+-]?)P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)

#: Words that name the treatment or a drug: never in a minimal patient calendar.
DRUGS = re.compile(
    r"ketamine|esketamine|spravato|lorazepam|ativan|cannabis|benzodiazepine|infusion|dose|"
    r"dosing|mg\b|psychotherap|integration|depress|anxiety|pain",
    re.IGNORECASE,
)


class Alarm:
    """One VALARM as read back: its text, its raw TRIGGER and the instant it fires."""

    def __init__(self, text: str, trigger: str, fires: dt.datetime) -> None:
        self.text, self.trigger, self.fires = text, trigger, fires


def fires_at(start: dt.datetime, trigger: str, tz: ZoneInfo) -> dt.datetime:
    """When an alarm relative to ``start`` fires, by RFC 5545 (3.3.6, 3.8.6.3)."""
    found = DURATION.fullmatch(trigger)
    assert found is not None, trigger
    sign = -1 if found["sign"] == "-" else 1
    days = 7 * int(found["weeks"] or 0) + int(found["days"] or 0)
    exact = dt.timedelta(
        hours=int(found["hours"] or 0),
        minutes=int(found["minutes"] or 0),
        seconds=int(found["seconds"] or 0),
    )
    wall = start.astimezone(tz).replace(tzinfo=None) + sign * dt.timedelta(days=days)
    return (wall.replace(tzinfo=tz).astimezone(dt.UTC) + sign * exact).astimezone(tz)


def raw_triggers(data: bytes) -> dict[str, list[str]]:
    """Each event's TRIGGER values as written, by UID, in order."""
    found: dict[str, list[str]] = {}
    uid, triggers = "", list[str]()
    for line in data.decode().replace("\r\n ", "").split("\r\n"):
        if line == "BEGIN:VEVENT":
            uid, triggers = "", []
        elif line.startswith("UID:"):
            uid = line[4:]
        elif line.startswith("TRIGGER"):
            assert line.startswith("TRIGGER:"), line  # no RELATED=END: relative to the start
            triggers.append(line[len("TRIGGER:") :])
        elif line == "END:VEVENT":
            found[uid] = triggers
    return found


def alarms(data: bytes, tz: ZoneInfo) -> dict[str, list[Alarm]]:
    """Each event's alarms, by UID, read back with icalendar."""
    raw = raw_triggers(data)
    out = {}
    for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        uid = str(event["UID"])
        start = event.decoded("DTSTART")
        texts = [str(a["DESCRIPTION"]) for a in event.walk("VALARM")]
        assert len(texts) == len(raw[uid])
        # one alarm carries every reminder due at its moment, a line each
        out[uid] = [
            Alarm(line, trigger, fires_at(start, trigger, tz))
            for text, trigger in zip(texts, raw[uid], strict=True)
            for line in text.splitlines()
        ]
    return out


def _event(data: bytes, made: Plan, appointment: str) -> icalendar.cal.Component:
    uid = uid_for(made, made.appointment(appointment))
    return next(e for e in icalendar.Calendar.from_ical(data).walk("VEVENT") if e["UID"] == uid)


def quiet(clock: dt.time, start: dt.time, end: dt.time) -> bool:
    """Whether ``clock`` is strictly inside quiet hours from ``start`` to ``end``."""
    if start < end:
        return start < clock < end
    return clock > start or clock < end


def every_day_clinic(**changes: Any) -> Clinic:
    """A New York clinic open 07:00-19:00 every day, so sessions fall on the DST Sundays."""
    return clinic(days=EVERY_DAY, hours="07:00-19:00", certifications=["spravato-rems"], **changes)


def cannabis(hours: float, *, resume: float = 6) -> HoldRule:
    """A clinic's hold on cannabis, ``hours`` before dosing until ``resume`` hours after."""
    return HoldRule(
        id="cannabis",
        medication="cannabis",
        severity="hold",
        hold_before_hours=hours,
        resume_after_hours=resume,
        source="cannabis-clinics",
    )


CANNABIS = Patient.model_validate(
    {"id": "p-dst", "medications": [{"name": "cannabis", "as_needed": True}]}
)


def exists(day: dt.date, clock: dt.time, tz: ZoneInfo) -> bool:
    """Whether the wall-clock time ``clock`` happens on ``day`` in ``tz`` (not skipped by DST)."""
    local = dt.datetime.combine(day, clock, tzinfo=tz)
    return local.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) == local.replace(
        tzinfo=None
    )


def check_reminders(made: Plan) -> int:
    """Check every patient reminder of ``made`` against its deadline and the quiet hours.

    Each fires at least the plan's ``reminder_lead_minutes`` (in real time) before the deadline
    it announces, or, for the ride home, before the session; never strictly inside the quiet
    hours; and when not exactly the lead before, as the quiet hours begin, less than a day
    before. Returns how many alarms fire at another UTC offset than their session starts.
    """
    tz = ZoneInfo(made.time_zone)
    full = alarms(to_ics(made, detail="full", now=NOW), tz)
    minimal = alarms(to_ics(made, now=NOW), tz)
    lead = dt.timedelta(minutes=made.reminder_lead_minutes)
    window = made.quiet_hours
    crossed = 0
    for appointment in made.appointments:
        uid = uid_for(made, appointment)
        # The same moments in both levels of detail: only the words differ.
        assert [a.fires for a in full[uid]] == [a.fires for a in minimal[uid]]
        instructions = {clean_text(i.text): i for i in appointment.instructions}
        for alarm in full[uid]:
            instruction = instructions[alarm.text]
            assert instruction.at is not None
            if instruction.kind == "escort":
                assert alarm.fires < appointment.start
            else:
                # The lead in real time (aware datetimes subtract on the wall clock).
                due = instruction.at.astimezone(dt.UTC) - lead
                assert alarm.fires <= due
                # Exactly the lead before, unless it had to move out of the quiet hours.
                if alarm.fires != due:
                    assert window is not None
                    assert alarm.fires.time() == window.start or not exists(
                        alarm.fires.date(), window.start, tz
                    )
                    assert due - alarm.fires < dt.timedelta(hours=25)
            if window is not None:
                clock = alarm.fires.time()
                assert not quiet(clock, window.start, window.end), (alarm.text, alarm.fires)
            crossed += alarm.fires.utcoffset() != appointment.start.astimezone(tz).utcoffset()
    return crossed


# -- when reminders fire ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "day", "trigger", "evening"),
    [
        # Fall back, Sun 1 Nov 2026: the 03:15 EST deadline is announced at 21:00 EDT on the
        # Saturday: 13 real hours before the 09:00 session, 12 on the clock.
        (dt.date(2026, 10, 25), dt.date(2026, 11, 1), "-PT13H", "2026-10-31T21:00:00-04:00"),
        # Spring forward, Sun 14 Mar 2027: 21:00 EST on the Saturday, 11 real hours before.
        (dt.date(2027, 3, 7), dt.date(2027, 3, 14), "-PT11H", "2027-03-13T21:00:00-05:00"),
    ],
)
def test_a_night_deadline_is_announced_the_evening_before_across_dst(
    start: dt.date, day: dt.date, trigger: str, evening: str
) -> None:
    """Issue 14: "Please stop eating at 03:15" fired at 03:15, too late and while the patient
    sleeps. It fires before the deadline, outside the quiet hours (21:00-07:00 by default): the
    evening before, with the deadline's time and day in its words, at the intended wall-clock
    time even when the clocks change that night."""
    made = plan(
        load_protocol("iv-ketamine-standard"),
        start=start,
        clinic=every_day_clinic(),
        preferred_time=dt.time(9),
    )
    dose = made.doses[0]
    assert dose.local_date == day
    food = next(i for i in dose.instructions if i.kind == "fasting-solids")
    assert food.at is not None
    assert f"{food.at:%H:%M}" == "03:15"
    found = alarms(to_ics(made, now=NOW), NY)[uid_for(made, dose)]
    (eating,) = [a for a in found if "eating" in a.text]
    assert eating.text == (
        "Please follow your clinic's instructions about eating before your appointment, "
        f"from 03:15 on {day:%a} {day.day} {day:%b %Y}."
    )
    assert eating.trigger == trigger
    assert eating.fires.isoformat() == evening
    # The ride home is arranged the day before at the session's time of day (-P1D), which
    # is 09:00 on the clock whatever the change: 24 real hours would be an hour off.
    (ride,) = [a for a in found if "transportation" in a.text]
    assert ride.trigger == "-P1D"
    assert ride.fires.isoformat()[:16] == f"{day - dt.timedelta(days=1)}T09:00"


@pytest.mark.parametrize(
    "start",
    [dt.date(2026, 10, 18), dt.date(2026, 10, 25), dt.date(2027, 3, 1), dt.date(2027, 3, 7)],
)
@pytest.mark.parametrize(
    ("setting", "lead"),
    [("21:00-07:00", 60), ("22:30-06:15", 15), ("off", 90), ("13:00-15:00", 240)],
)
def test_every_reminder_fires_before_its_deadline_and_outside_quiet_hours(
    start: dt.date, setting: str, lead: int
) -> None:
    """Issue 14: each reminder fires at least ``reminder_lead_minutes`` before the deadline it
    announces (the day before for the ride home) and never inside the clinic's quiet hours:
    one that would fires as they begin. Checked for every alarm of real plans whose sessions
    and days-ahead medication holds straddle New York's DST changes."""
    settings: dict[str, Any] = {
        "quiet_hours": setting,
        "reminder_lead_minutes": lead,
        "medication_rules": [cannabis(36, resume=24)],
    }
    made = plan(
        load_protocol("esketamine-trd"),
        start=start,
        clinic=every_day_clinic(**settings),
        patient=CANNABIS,
        preferred_time=dt.time(8),
        until=start + dt.timedelta(days=40),
    )
    crossed = check_reminders(made)
    assert crossed  # some alarm fires on the other side of a DST change from its session


def test_without_quiet_hours_a_reminder_fires_the_lead_before_its_deadline() -> None:
    """Issue 14: quiet hours can be turned off; the reminder still comes before the deadline."""
    made = plan(
        load_protocol("iv-ketamine-standard"),
        start=dt.date(2026, 11, 30),
        clinic=demo_clinic().model_copy(update={"quiet_hours": None}),
        preferred_time=dt.time(9),
    )
    assert made.quiet_hours is None
    dose = made.doses[0]
    (eating,) = [
        a for a in alarms(to_ics(made, now=NOW), NY)[uid_for(made, dose)] if "eating" in a.text
    ]
    assert eating.fires.isoformat() == "2026-12-07T02:15:00-05:00"
    assert eating.text.endswith("from 03:15.")  # the same day: no day named


def test_the_medication_reminder_says_what_to_do_and_when_in_neutral_words() -> None:
    """Issue 14: the medication reminder in the patient's minimal calendar says what to do and
    at what time, and names neither the medicine nor the treatment."""
    made = plan(
        load_protocol("iv-ketamine-standard"),
        start=dt.date(2026, 11, 30),
        clinic=demo_clinic().model_copy(update={"medication_rules": (cannabis(12),)}),
        patient=CANNABIS,
        preferred_time=dt.time(9),
    )
    dose = made.doses[0]
    (hold,) = [i for i in dose.instructions if i.kind == "medication-hold"]
    assert hold.at is not None
    assert hold.at.isoformat() == "2026-12-06T21:15:00-05:00"  # 12 h before dosing at 09:15
    found = alarms(to_ics(made, now=NOW), NY)[uid_for(made, dose)]
    (pause,) = [a for a in found if "medicine" in a.text]
    assert pause.text == (
        "Please pause the medicine your clinic told you about: do not take it from 21:15; "
        "resume after 15:55 on Mon 7 Dec 2026."
    )
    # An hour before the hold begins, the same evening (so 21:15 needs no day); the session's
    # description, read on the Monday, names the Sunday. Nothing names the drug.
    assert pause.fires.isoformat() == "2026-12-06T20:15:00-05:00"
    assert not DRUGS.search(pause.text)
    description = _event(to_ics(made, now=NOW), made, dose.id)["DESCRIPTION"]
    assert "do not take it from 21:15 on Sun 6 Dec 2026" in str(description)


# -- the name patients see ----------------------------------------------------------------------


NORTH = {"name": "Northside Ketamine Clinic", "patient_facing_name": "Northside Health"}


def test_titles_and_organizer_use_the_patient_facing_name() -> None:
    """Issue 14: clinic names often say "Ketamine", and the patient's event title was
    "Appointment - <clinic name>" with nothing to override it."""
    made = plan(
        load_protocol("esketamine-trd"),
        start=dt.date(2026, 11, 24),
        clinic=every_day_clinic(**NORTH),
        preferred_time=dt.time(9),
    )
    assert made.display_name == "Northside Health"
    data = to_ics(made, now=NOW)
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "Appointments \u2013 Northside Health"
    assert str(calendar["NAME"]) == "Appointments \u2013 Northside Health"
    assert {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")} == {
        "Appointment \u2013 Northside Health"
    }
    assert b"Ketamine" not in data
    full = icalendar.Calendar.from_ical(to_ics(made, detail="full", now=NOW))
    assert all(str(e["SUMMARY"]).endswith("\u2013 Northside Health") for e in full.walk("VEVENT"))
    invite = to_ics(
        made,
        method="REQUEST",
        organizer="clinic@example.org",
        attendee="patient@example.net",
        appointments=["induction-1"],
        now=NOW,
    )
    organizer = _event(invite, made, "induction-1")["ORGANIZER"]
    assert organizer.params["CN"] == "Northside Health"
    assert b"Ketamine" not in invite


def test_staff_keep_the_clinic_s_own_name() -> None:
    """Issue 14: the patient-facing name is for patients; the clinic's calendar keeps its name."""
    made = plan(
        load_protocol("esketamine-trd"),
        start=dt.date(2026, 11, 24),
        clinic=every_day_clinic(**NORTH),
        preferred_time=dt.time(9),
    )
    staff = icalendar.Calendar.from_ical(to_ics(made, audience="clinic", now=NOW))
    assert str(staff["X-WR-CALNAME"]) == "Northside Ketamine Clinic \u2013 schedule"
    invite = to_ics(
        made, audience="clinic", method="PUBLISH", organizer="clinic@example.org", now=NOW
    )
    assert _event(invite, made, "induction-1")["ORGANIZER"].params["CN"] == (
        "Northside Ketamine Clinic"
    )


def test_without_a_patient_facing_name_patients_see_the_clinic_s_name() -> None:
    made = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 12, 7), clinic=demo_clinic())
    assert made.clinic_display_name is None
    assert made.display_name == "Demo Clinic"
    events = icalendar.Calendar.from_ical(to_ics(made, now=NOW)).walk("VEVENT")
    assert {str(e["SUMMARY"]) for e in events} == {"Appointment \u2013 Demo Clinic"}


def test_the_command_line_calendar_uses_the_patient_facing_name(tmp_path: Path) -> None:
    """Issue 14: what shows the title to a patient (plan --format ics, export) uses it."""
    north = tmp_path / "north.toml"
    north.write_text(
        'id = "north"\nname = "Northside Ketamine Clinic"\n'
        'patient_facing_name = "Northside Health"\ntime_zone = "America/New_York"\n'
        'quiet_hours = "22:00-06:30"\nreminder_lead_minutes = 30\n'
        '[opening_hours]\nmon = ["08:00-18:00"]\ntue = ["08:00-18:00"]\nwed = ["08:00-18:00"]\n'
        'thu = ["08:00-18:00"]\nfri = ["08:00-18:00"]\n'
        "[resources]\nchairs = 2\nrooms = 1\nmonitoring_staff = 1\n"
    )
    plan_file, out = tmp_path / "plan.json", tmp_path / "patient.ics"
    code, _ = run(
        "plan",
        "iv-ketamine-pain",
        "--start",
        "2026-12-07",
        "--clinic",
        str(north),
        "--format",
        "json",
        "-o",
        str(plan_file),
    )
    assert code == 0
    written = json.loads(plan_file.read_text())
    assert written["clinic_display_name"] == "Northside Health"
    assert written["quiet_hours"] == "22:00-06:30"
    assert written["reminder_lead_minutes"] == 30
    code, _ = run("export", str(plan_file), "-o", str(out), "--now", "2026-12-01T09:00")
    assert code == 0
    events = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert {str(e["SUMMARY"]) for e in events} == {"Appointment \u2013 Northside Health"}


# -- neutral descriptions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "protocol_id",
    [
        "esketamine-trd",
        "iv-ketamine-kap",
        "home-sublingual",
        "iv-ketamine-mwf",
        "sc-ketamine-anxiety",
        "im-ketamine-depression",
        "home-intranasal",
    ],
)
def test_every_patient_event_has_a_neutral_description(protocol_id: str) -> None:
    """Issue 14: reviews, evaluations, integration sessions and calls had no description at
    all. Each now says what it is (a consultation, a call...), with whom or where and when,
    and names no treatment or drug; a full-detail calendar keeps its detail."""
    made = demo_plan(protocol_id, until=dt.date(2027, 4, 1))
    data = to_ics(made, now=NOW)
    full = {
        str(e["UID"]): e
        for e in icalendar.Calendar.from_ical(to_ics(made, detail="full", now=NOW)).walk("VEVENT")
    }
    kinds = set()
    for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        appointment = next(a for a in made.appointments if uid_for(made, a) == event["UID"])
        text = str(event.get("DESCRIPTION", ""))
        first = text.splitlines()[0]
        local = appointment.local_start
        assert f"{local:%H:%M}-" in first
        assert not DRUGS.search(text), (appointment.id, text)
        if not appointment.is_dose:
            kinds.add(appointment.kind)
            assert "Demo Clinic" in first or appointment.location == "home"
        assert appointment.name in str(full[str(event["UID"])]["DESCRIPTION"])
    assert kinds  # the protocol has sessions other than doses


def test_the_neutral_words_for_each_kind_of_session() -> None:
    made = plan(
        load_protocol("home-sublingual"),
        start=dt.date(2026, 12, 1),
        clinic=demo_clinic(),
        until=dt.date(2027, 4, 1),
    )
    data = to_ics(made, now=NOW)
    firsts = {
        str(e["DESCRIPTION"]).splitlines()[0].split(",")[0]
        for e in icalendar.Calendar.from_ical(data).walk("VEVENT")
    }
    assert firsts == {"Session at home", "Call with Demo Clinic", "Consultation with Demo Clinic"}
    assert b"remote: no visit to the clinic." in data.replace(b"\r\n ", b"")


# -- settings: clinic files and plan files ------------------------------------------------------


CLINIC = (
    'id = "c"\nname = "C"\ntime_zone = "Europe/Berlin"\n[opening_hours]\nmon = ["08:00-18:00"]\n'
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", "21:00-07:00"),
        ('quiet_hours = "22:30-06:00"', "22:30-06:00"),
        ('quiet_hours = "13:00-15:00"', "13:00-15:00"),
        ('quiet_hours = "off"', None),
    ],
)
def test_quiet_hours_in_a_clinic_file(line: str, expected: str | None) -> None:
    found = loads_clinic(line + "\n" + CLINIC, origin="c.toml").quiet_hours
    assert (None if found is None else str(found)) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('quiet_hours = "9pm-7am"', "must look like 'HH:MM-HH:MM' or be 'off'; got '9pm-7am'"),
        ('quiet_hours = "25:00-07:00"', "must use real clock times 00:00-23:59"),
        ('quiet_hours = "07:00-07:00"', "must end at another time than it starts"),
        ("reminder_lead_minutes = 0", "must be at least 1"),
        ('patient_facing_name = "  "', "must not be empty"),
    ],
)
def test_bad_settings_are_clinic_errors(line: str, message: str) -> None:
    with pytest.raises(ClinicError) as raised:
        loads_clinic(line + "\n" + CLINIC, origin="c.toml")
    (problem,) = raised.value.problems
    assert problem.path == line.split(" ", maxsplit=1)[0]
    assert message in str(problem)


def test_a_plan_file_from_before_these_settings_reads_with_their_defaults(tmp_path: Path) -> None:
    """Plans are files read back: one without the new fields gets the defaults (quiet hours
    21:00-07:00, a 60-minute lead, the clinic's name for patients)."""
    made = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 12, 7), clinic=demo_clinic())
    old = json.loads(made.model_dump_json())
    for name in ("clinic_display_name", "quiet_hours", "reminder_lead_minutes"):
        del old[name]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    read = load_plan(path)
    assert read == made
    off = made.model_copy(update={"quiet_hours": None})
    assert Plan.model_validate_json(off.model_dump_json()).quiet_hours is None


@pytest.mark.parametrize(
    ("protocol", "said"),
    [
        # Spravato label: no driving or machinery until the next day after a restful sleep.
        ("esketamine-trd",
         "Please do not drive or operate machinery until {next}, after a restful sleep."),
        # iv-ketamine-standard: no driving for 24 h after the infusion (its discharge source).
        ("iv-ketamine-standard", "Please do not drive until {until}."),
    ],
)  # fmt: skip
def test_the_neutral_words_keep_how_long_not_to_drive(protocol: str, said: str) -> None:
    # The default patient calendar said only "Please do not drive after your appointment (see
    # your clinic's advice)": the length of the restriction was lost (found by a clinical review).
    made = plan(load_protocol(protocol), start=dt.date(2026, 12, 7), clinic=demo_clinic())
    dose = made.doses[0]
    rule = next(i for i in dose.instructions if i.kind == "no-driving")
    local = ZoneInfo(made.time_zone)
    expected = said.format(
        next=fmt_day(rule.at.astimezone(local).date() + dt.timedelta(days=1)) if rule.at else "",
        until=fmt_clock(rule.until.astimezone(local), seen_on=dose.local_date)
        if rule.until
        else "",
    )
    events = icalendar.Calendar.from_ical(to_ics(made)).walk("VEVENT")
    event = next(e for e in events if e.decoded("DTSTART") == dose.local_start)
    assert expected in str(event["DESCRIPTION"])


def test_two_medicines_held_for_one_session_are_told_apart_in_neutral_words() -> None:
    # The neutral words name no medicine; with two held (lamotrigine and methylphenidate, each
    # a clinic preset), "the medicine your clinic told you about" twice left the patient to
    # guess which was which (found by a clinical review).
    patient = Patient.model_validate({"id": "p-1", "medications": [
        {"name": "lamotrigine", "times": ["07:00"]},
        {"name": "methylphenidate", "times": ["08:00"]}]})  # fmt: skip
    made = plan(load_protocol("iv-ketamine-standard"), start=dt.date(2026, 12, 7),
                clinic=demo_clinic(), patient=patient)  # fmt: skip
    text = clean_text(to_ics(made).decode().replace("\r\n ", "").replace("\\n", "\n"))
    assert "told you about (1 of 2): do not take it from" in text
    assert "told you about (2 of 2): do not take it from" in text
