"""to_ics(): privacy, determinism, iTIP methods, cancellations, reminders, DST, golden files."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from ketaplan import InputError, Ledger, Plan, load_protocol
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.ics import to_ics, uid_for
from ketaplan.ics.lint import lint_ics
from ketaplan.patient import Patient
from ketaplan.protocol import HoldRule
from ketaplan.replanning import Cancelled, Missed, Moved, replan
from tests.helpers import clinic, demo_plan, patient, plan
from tests.interop.parsers import Libical, with_icalendar

NOW = dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC)
GOLDEN = Path(__file__).parent.parent / "golden"
NY = ZoneInfo("America/New_York")

#: Words that reveal a treatment, a diagnosis or a medication: never in a minimal calendar.
REVEALING = re.compile(
    r"ketamine|esketamine|spravato|infusion|dose|dosing|mg\b|depress|suicid|anxiety|pain|rems|"
    r"psychotherap|integration|lorazepam|benzodiazepine|treatment|protocol|induction|"
    r"maintenance|monitoring",
    re.IGNORECASE,
)


def esketamine() -> Plan:
    # The intake on Tue 24 Nov 2026; the first dose a week later, Tue 1 Dec.
    return plan(
        load_protocol("esketamine-trd"),
        start=dt.date(2026, 11, 24),
        clinic=demo_clinic(),
        patient=demo_patient(),
        preferred_time=dt.time(9),
        until=dt.date(2027, 3, 1),
    )


def first_dose_event(data: bytes, made: Plan) -> icalendar.cal.Component:
    """The VEVENT of the plan's first dose (the intake comes before it)."""
    uid = uid_for(made, made.doses[0])
    (event,) = [e for e in icalendar.Calendar.from_ical(data).walk("VEVENT") if e["UID"] == uid]
    return event


def visible_text(data: bytes) -> str:
    """Everything a person or a phone's lock screen could see, and the identifiers."""
    calendar = icalendar.Calendar.from_ical(data)
    parts = []
    for component in calendar.walk():
        names = ("SUMMARY", "LOCATION", "DESCRIPTION", "UID", "NAME", "X-WR-CALNAME")
        parts += [str(component[name]) for name in names if name in component]
        parts += [str(value) for key, value in component.items() if key.startswith("X-")]
    return "\n".join(parts)


@pytest.mark.parametrize("protocol_id", ["esketamine-trd", "iv-ketamine-kap", "home-sublingual"])
def test_patient_minimal_calendar_reveals_nothing(protocol_id: str) -> None:
    made = demo_plan(protocol_id, until=dt.date(2027, 3, 1))
    data = to_ics(made, now=NOW)
    text = visible_text(data)
    assert not REVEALING.search(text), REVEALING.search(text)
    summaries = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    assert summaries == {"Appointment \u2013 Demo Clinic"}
    assert made.id not in text
    assert "demo-patient" not in text


def test_full_detail_names_session_protocol_and_dose() -> None:
    made = esketamine()
    first = first_dose_event(to_ics(made, detail="full", now=NOW), made)
    assert str(first["SUMMARY"]) == "Esketamine nasal spray session \u2013 Demo Clinic"
    assert "Dose: 56 mg" in str(first["DESCRIPTION"])
    assert "esketamine-trd" in str(first["DESCRIPTION"])


def test_reminders_for_the_preparation() -> None:
    made = esketamine()
    first = first_dose_event(to_ics(made, now=NOW), made)
    alarms = {str(a["DESCRIPTION"]): a.TRIGGER for a in first.walk("VALARM")}  # type: ignore[attr-defined]
    # The session starts at 09:00 and dosing at 09:15: food until 07:15, liquids until 08:45,
    # nasal spray by 08:15. Neutral words: the exact time and "follow your clinic's
    # instructions" (issue 13), so no reminder suggests that any drink is fine until the cut-off.
    # Each fires an hour (the clinic's reminder_lead_minutes) before its deadline, outside the
    # quiet hours 21:00-07:00 (issue 14): the food reminder, due at 06:15, fires at 21:00 the
    # evening before, and names the deadline's day.
    eating = "Please follow your clinic's instructions about eating before your appointment"
    drinking = "Please follow your clinic's instructions about drinking before your appointment"
    assert alarms[f"{eating}, from 07:15 on Tue 1 Dec 2026."] == -dt.timedelta(hours=12)
    assert alarms[f"{drinking}, from 08:45."] == -dt.timedelta(hours=1, minutes=15)
    spray = "If you use a nasal spray or decongestant on the day of your appointment, use it by"
    assert alarms[f"{spray} 08:15."] == -dt.timedelta(hours=1, minutes=45)
    # The label asks for transportation arranged, not an adult escort (clinical review E5).
    assert alarms["Please arrange your transportation home for about 11:30 on Tue 1 Dec 2026."] == (
        -dt.timedelta(days=1)
    )


def test_medication_hold_reminder_names_no_drug() -> None:
    twelve = demo_clinic().model_copy(
        update={
            "medication_rules": (
                load_protocol("esketamine-trd")
                .holds[0]
                .model_copy(
                    update={
                        "id": "benzodiazepine",
                        "medication": "benzodiazepine",
                        "severity": "hold",
                        "hold_before_hours": 12,
                        "resume_after_hours": 6,
                        "source": "kcla-holds",
                        "note": None,
                    }
                ),
            )
        }
    )
    made = plan(  # the intake on Mon 30 Nov, the first infusion on Mon 7 Dec
        load_protocol("iv-ketamine-standard"),
        start=dt.date(2026, 11, 30),
        clinic=twelve,
        patient=demo_patient(),
        preferred_time=dt.time(9),
    )
    assert any(i.kind == "medication-hold" for i in made.doses[0].instructions)
    first = first_dose_event(to_ics(made, now=NOW), made)
    texts = [str(a["DESCRIPTION"]) for a in first.walk("VALARM")]
    # What to do and when, in neutral words (issue 14): the hold begins 12 h before dosing
    # (21:15 on Sun 6 Dec) and ends 6 h after the infusion; the reminder fires an hour before
    # it begins, at 20:15 the same evening.
    assert (
        "Please pause the medicine your clinic told you about: do not take it from 21:15; "
        "resume after 15:55 on Mon 7 Dec 2026."
    ) in texts
    assert not any("lorazepam" in t for t in texts)
    full = first_dose_event(to_ics(made, detail="full", now=NOW), made)
    assert any(
        "Skip your 22:00 lorazepam on Sun 6 Dec 2026" in str(a["DESCRIPTION"])
        for a in full.walk("VALARM")
    )


def test_same_plan_and_now_give_the_same_bytes() -> None:
    assert to_ics(esketamine(), now=NOW) == to_ics(esketamine(), now=NOW)
    assert to_ics(esketamine(), now=NOW) != to_ics(esketamine(), now=NOW + dt.timedelta(hours=1))


def test_uids_are_stable_and_opaque_and_sequence_follows_revisions() -> None:
    made = esketamine()
    moved = made.appointment("induction-3").start + dt.timedelta(days=1)
    after = replan(
        made,
        as_of=dt.datetime(2026, 12, 2, tzinfo=NY),
        clinic=demo_clinic(),
        patient=demo_patient(),
        events=[Moved(appointment="induction-3", to=moved)],
    )
    before_events = {
        str(e["UID"]): e for e in icalendar.Calendar.from_ical(to_ics(made, now=NOW)).walk("VEVENT")
    }
    after_events = {
        str(e["UID"]): e
        for e in icalendar.Calendar.from_ical(to_ics(after, now=NOW)).walk("VEVENT")
    }
    assert set(before_events) == set(after_events)
    uid = uid_for(after, after.appointment("induction-3"))
    assert before_events[uid]["SEQUENCE"] == 0
    assert after_events[uid]["SEQUENCE"] == 1
    assert re.fullmatch(r"[0-9a-f]{32}@ketaplan", uid)


def test_cancelled_sessions_are_marked_and_can_be_sent_as_cancel() -> None:
    made = esketamine()
    after = replan(
        made,
        as_of=dt.datetime(2026, 12, 2, tzinfo=NY),
        clinic=demo_clinic(),
        patient=demo_patient(),
        events=[Cancelled(appointment="induction-4")],
    )
    events = {
        str(e["UID"]): e
        for e in icalendar.Calendar.from_ical(to_ics(after, now=NOW)).walk("VEVENT")
    }
    cancelled = events[uid_for(after, after.appointment("induction-4"))]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled["SEQUENCE"] == 1
    assert not cancelled.walk("VALARM")
    data = to_ics(
        after,
        method="CANCEL",
        organizer="clinic@example.org",
        attendee="patient@example.net",
        now=NOW,
    )
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [
        uid_for(after, after.appointment("induction-4"))
    ]


@pytest.mark.parametrize("detail", ["minimal", "full"])
@pytest.mark.parametrize("method", [None, "REQUEST"])
def test_a_missed_session_shows_as_not_taking_place(detail: str, method: str | None) -> None:
    # Issue 14: missed sessions were exported as confirmed events. Clients know no "missed"
    # status; STATUS:CANCELLED is what every one of them shows as an appointment that did not
    # happen, and the description says which it was. Both writers (files, iTIP) agree.
    after = replan(
        esketamine(),
        as_of=dt.datetime(2026, 12, 3, 18, tzinfo=NY),
        clinic=demo_clinic(),
        patient=demo_patient(),
        events=[Missed(appointment="induction-1")],
    )
    if method is None:
        data = to_ics(after, now=NOW, detail=detail)  # type: ignore[arg-type]
    else:
        data = to_ics(after, now=NOW, detail=detail, method="REQUEST",  # type: ignore[arg-type]
                      organizer="clinic@example.org", attendee="patient@example.net")  # fmt: skip
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    missed = events[uid_for(after, after.appointment("induction-1"))]
    assert str(missed["STATUS"]) == "CANCELLED"
    assert not missed.walk("VALARM")
    assert str(missed["DESCRIPTION"]).startswith("This appointment was missed")
    taking_place = events[uid_for(after, after.appointment("induction-2"))]
    assert str(taking_place["STATUS"]) == "CONFIRMED"


@pytest.mark.parametrize("method", ["PUBLISH", "REQUEST", "CANCEL"])
def test_itip_methods_pass_libicals_rfc_5546_checks(method: str, libical_reader: Libical) -> None:
    made = esketamine()
    if method == "CANCEL":
        made = replan(
            made,
            as_of=dt.datetime(2026, 12, 2, tzinfo=NY),
            clinic=demo_clinic(),
            patient=demo_patient(),
            events=[Cancelled(appointment="induction-4")],
        )
    data = to_ics(
        made,
        method=method,  # type: ignore[arg-type]
        organizer="clinic@example.org",
        attendee=None if method == "PUBLISH" else "patient@example.net",
        now=NOW,
    )
    assert lint_ics(data) == []
    seen, errors = libical_reader.read(data)
    assert errors == []
    assert seen
    calendar = icalendar.Calendar.from_ical(data)
    for event in calendar.walk("VEVENT"):
        assert "ORGANIZER" in event
        assert ("ATTENDEE" in event) == (method != "PUBLISH")


def test_no_method_means_no_organizer_and_no_method_line() -> None:
    data = to_ics(esketamine(), now=NOW)
    assert b"METHOD:" not in data
    assert b"ORGANIZER" not in data


def test_method_arguments_are_checked() -> None:
    made = esketamine()
    with pytest.raises(InputError, match=r"organizer: must be the clinic's e-mail address"):
        to_ics(made, method="REQUEST", attendee="p@example.net")
    with pytest.raises(InputError, match=r"attendee: must be the patient's e-mail address"):
        to_ics(made, method="REQUEST", organizer="c@example.org")
    with pytest.raises(InputError, match=r"organizer: must be an e-mail address; got 'clinic'"):
        to_ics(made, method="PUBLISH", organizer="clinic")
    with pytest.raises(InputError, match=r"method: must be 'CANCEL' only for plans with"):
        to_ics(made, method="CANCEL", organizer="c@example.org", attendee="p@example.net")
    with pytest.raises(InputError, match=r"audience: must be 'patient' or 'clinic'"):
        to_ics(made, audience="everyone")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"now: must be an aware datetime"):
        to_ics(made, now=dt.datetime(2026, 1, 1))


def test_a_time_in_the_repeated_hour_is_written_in_utc() -> None:
    night = clinic("America/New_York", days=("sun",), hours="00:00-06:00")
    data = load_protocol("sc-ketamine-anxiety").model_dump()
    data["calendar"]["repeated_time"] = "later"
    data["anchored"] = []  # its response review needs a weekday this night clinic does not open
    protocol = type(load_protocol("sc-ketamine-anxiety")).model_validate(data)
    made = plan(protocol, start=dt.date(2026, 11, 1), clinic=night, preferred_time=dt.time(1, 30))
    first = made.doses[0]
    assert first.start.isoformat() == "2026-11-01T01:30:00-05:00"  # the second 01:30
    text = to_ics(made, now=NOW).decode()
    assert "DTSTART:20261101T063000Z" in text  # written as UTC, unambiguous
    seen = {s.uid: s for s in with_icalendar(to_ics(made, now=NOW))}
    assert seen[uid_for(made, first)].start == first.start.astimezone(dt.UTC)


def test_clinic_calendar_of_many_patients_by_resource() -> None:
    ledger = Ledger(demo_clinic())
    plans = []
    for number in range(3):
        made = plan(
            load_protocol("iv-ketamine-mwf"),
            start=dt.date(2026, 11, 30),
            clinic=demo_clinic(),
            patient=patient(id=f"p-{number}"),
            bookings=ledger,
            preferred_time=dt.time(9),
        )
        for booking in made.bookings():
            ledger.add(booking)
        plans.append(made)
    data = to_ics(plans, audience="clinic", now=NOW)
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert len(events) == sum(len(p.appointments) for p in plans)
    assert {str(e["X-KETAPLAN-PATIENT"]) for e in events} == {"p-0", "p-1", "p-2"}
    doses = [e for e in events if "Chair" in str(e["RESOURCES"])]
    assert len(doses) == sum(len(p.doses) for p in plans)  # the intakes are in a room
    chair_two = icalendar.Calendar.from_ical(
        to_ics(plans, audience="clinic", resource="chair:2", now=NOW)
    ).walk("VEVENT")
    assert chair_two
    assert all("Chair 2" in str(e["RESOURCES"]) for e in chair_two)
    assert lint_ics(data) == []


GOLDEN_CASES = {
    "esketamine-patient-minimal.ics": lambda: to_ics(esketamine(), now=NOW),
    "esketamine-patient-request.ics": lambda: to_ics(
        esketamine(),
        method="REQUEST",
        organizer="clinic@example.org",
        attendee="patient@example.net",
        appointments=["induction-1"],
        now=NOW,
    ),
    "iv-standard-clinic-full.ics": lambda: to_ics(
        plan(
            load_protocol("iv-ketamine-standard"),
            start=dt.date(2026, 11, 24),  # the intake; the series from Tue 1 Dec
            clinic=demo_clinic(),
            patient=demo_patient(),
            preferred_time=dt.time(9),
            until=dt.date(2027, 2, 1),
        ),
        audience="clinic",
        now=NOW,
    ),
    "home-sydney-patient.ics": lambda: to_ics(
        plan(
            load_protocol("home-sublingual"),
            start=dt.date(2026, 3, 16),
            time_zone="Australia/Sydney",
            preferred_time=dt.time(18),
            until=dt.date(2026, 6, 1),
            plan_id="plan-8fd62338601b12dd",  # the identity it had when the file was made
        ),
        now=NOW,
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_files(name: str) -> None:
    """Byte-exact: KETAPLAN_REGENERATE_GOLDEN=1 rewrites them after a deliberate change."""
    data = GOLDEN_CASES[name]()
    path = GOLDEN / name
    if os.environ.get("KETAPLAN_REGENERATE_GOLDEN"):
        path.write_bytes(data)
    assert path.read_bytes() == data
    assert lint_ics(data) == []


def test_a_reminder_days_ahead_fires_at_its_instant_across_dst() -> None:
    # Issue 14: a reminder more than a day before a session was written -P2DT23H45M; RFC 5545
    # counts a duration's days as calendar days, so across a DST change clients fired it an
    # hour off the deadline it announces. Exact hours (-PT71H45M) fire at the instant.
    three_days = demo_clinic().model_copy(update={"medication_rules": (HoldRule(
        id="cannabis", medication="cannabis", severity="hold", hold_before_hours=72,
        resume_after_hours=24, source="cannabis-clinics"),)})  # fmt: skip
    who = Patient.model_validate(
        {"id": "p-dst", "medications": [{"name": "cannabis", "as_needed": True}]}
    )
    # New York springs forward on Sun 8 Mar 2026: a Tuesday 10 Mar session's hold begins on
    # Saturday 7 Mar, before the change.
    made = plan(load_protocol("sc-ketamine-anxiety"), start=dt.date(2026, 3, 10),
                clinic=three_days, patient=who, preferred_time=dt.time(9))  # fmt: skip
    first = made.doses[0]
    (hold,) = [i for i in first.instructions if i.kind == "medication-hold"]
    assert hold.at is not None
    data = to_ics(made, detail="full", now=NOW)
    # Calendar days only for "the day before": every other trigger in exact hours.
    assert set(re.findall(rb"TRIGGER:-P(\d+)D", data)) == {b"1"}
    event = next(e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")
                 if str(e["UID"]) == uid_for(made, first))  # fmt: skip
    fires = {a.decoded("TRIGGER") for a in event.walk("VALARM")}
    elapsed = hold.at.astimezone(dt.UTC) - first.start.astimezone(dt.UTC)
    assert elapsed == -dt.timedelta(hours=71, minutes=45)  # real hours: 72 h before dosing
    # Exact: the hour (reminder_lead_minutes) before the instant the hold begins, 07:15 EST
    # on the Saturday, outside the quiet hours.
    assert elapsed - dt.timedelta(hours=1) in fires
    assert (hold.at - dt.timedelta(hours=1)).strftime("%a %H:%M %Z") == "Sat 07:15 EST"
    escort = next(a for a in event.walk("VALARM") if "transportation" in str(a["DESCRIPTION"]))
    assert escort.to_ical().decode().count("TRIGGER:-P1D") == 1  # the day before, on purpose


def _one_session(plan_id: str, start: dt.datetime) -> Plan:
    """A plan of one session at ``start`` (an aware time in any zone)."""
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id=plan_id)
    first = made.appointments[0].model_copy(
        update={"start": start, "end": start + dt.timedelta(hours=1), "dosing_start": None,
                "resources": ()}
    )  # fmt: skip
    return made.model_copy(update={"appointments": (first,), "tasks": ()})


@pytest.mark.parametrize("given", ["as uids sort", "the other way"])
def test_events_at_one_instant_are_ordered_by_uid_even_in_a_repeated_hour(given: str) -> None:
    """01:30 on the fall-back day in New York (its first pass, 05:30 UTC) and 05:30 UTC are one
    instant, yet Python compares them as neither equal nor ordered; before, the order of the
    plans given decided. The events are ordered by instant, then UID."""
    local = dt.datetime(2026, 11, 1, 1, 30, tzinfo=NY)
    first, second = _one_session("p-a", local), _one_session("p-b", local.astimezone(dt.UTC))
    plans = [first, second] if given == "as uids sort" else [second, first]
    events = icalendar.Calendar.from_ical(to_ics(plans, audience="clinic")).walk("VEVENT")
    uids = [str(event["UID"]) for event in events]
    assert uids == sorted(uid_for(p, p.appointments[0]) for p in plans)


def test_the_same_plan_twice_is_refused() -> None:
    """docs/calendars.md: an export holding two events with one UID is refused; the same plan
    given twice wrote every event twice."""
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 1), plan_id="p-1")
    with pytest.raises(InputError, match=r"^plans: must be plans whose appointments have"):
        to_ics([made, made])


@pytest.mark.parametrize("ids", [("p-a", "p-b"), ("p-b", "p-a")])
def test_the_two_passes_of_a_repeated_hour_are_in_the_order_they_happen(
    ids: tuple[str, str],
) -> None:
    """01:30 on the fall-back day in New York, first (05:30 UTC) and second pass (06:30 UTC):
    in one zone Python compares them as equal, so the UID alone ordered them."""
    local = dt.datetime(2026, 11, 1, 1, 30, tzinfo=NY)
    early, late = _one_session(ids[0], local), _one_session(ids[1], local.replace(fold=1))
    events = icalendar.Calendar.from_ical(to_ics([late, early], audience="clinic")).walk("VEVENT")
    assert [str(event["UID"]) for event in events] == [
        uid_for(p, p.appointments[0]) for p in (early, late)
    ]
