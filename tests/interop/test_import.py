"""Reading busy times from .ics: recurring events, Google's X-WR-TIMEZONE, all-day events,
cancelled instances, free/busy, and clear errors for malformed input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ketaplan import LimitError, load_protocol
from ketaplan.checking import check
from ketaplan.ics import to_ics
from ketaplan.ics.reading import CalendarFileError, bookings_from_ics, load_busy
from tests.helpers import clinic, plan

DATA = Path(__file__).parent.parent / "data" / "ics"
NY = ZoneInfo("America/New_York")
DECEMBER = {"start": dt.date(2026, 12, 1), "end": dt.date(2026, 12, 31)}


def local(booking_start: dt.datetime) -> str:
    return booking_start.astimezone(NY).strftime("%a %d %H:%M")


def test_google_export() -> None:
    busy = load_busy(DATA / "google-export.ics", resource="chair", time_zone="America/New_York",
                     **DECEMBER)  # type: ignore[arg-type]  # fmt: skip
    spans = [(local(b.start), local(b.end)) for b in busy]
    assert spans == [
        ("Mon 07 09:00", "Mon 07 11:00"),  # the weekly series
        ("Tue 08 09:00", "Tue 08 10:00"),  # a floating time, read in X-WR-TIMEZONE
        # Wed 09 is an EXDATE; Mon 14 is a cancelled instance
        ("Thu 10 00:00", "Sat 12 00:00"),  # an all-day event, in the clinic's zone
        ("Wed 16 13:00", "Wed 16 15:00"),  # the moved instance (RECURRENCE-ID)
        ("Mon 21 09:00", "Mon 21 11:00"),
        ("Wed 23 09:00", "Wed 23 11:00"),
    ]
    assert {b.resource for b in busy} == {"chair"}
    assert all(b.label == "busy (google-export.ics)" for b in busy)  # no summaries carried over


def test_outlook_free_busy() -> None:
    busy = load_busy(DATA / "outlook-freebusy.ics", time_zone="America/New_York", patient="p-1",
                     **DECEMBER)  # type: ignore[arg-type]  # fmt: skip
    assert [(local(b.start), local(b.end)) for b in busy] == [
        ("Tue 08 09:00", "Tue 08 10:30"),
        ("Wed 09 09:00", "Wed 09 11:00"),
    ]
    assert {b.patient for b in busy} == {"p-1"}


def test_busy_times_steer_the_planner_and_check() -> None:
    one_chair = clinic(
        resources={"chairs": 1, "rooms": 1, "monitoring_staff": 2, "patients_per_staff": 2}
    )
    busy = load_busy(DATA / "google-export.ics", resource="chair", time_zone="America/New_York",
                     **DECEMBER)  # type: ignore[arg-type]  # fmt: skip
    made = plan(load_protocol("sc-ketamine-anxiety"), start=dt.date(2026, 12, 7), clinic=one_chair,
                bookings=busy, preferred_time=dt.time(9))  # fmt: skip
    first = made.doses[0]
    assert first.local_start.strftime("%a %d %H:%M") == "Mon 07 11:00"
    assert check(made, clinic=one_chair, bookings=busy) == []
    careless = plan(load_protocol("sc-ketamine-anxiety"), start=dt.date(2026, 12, 7),
                    clinic=one_chair, preferred_time=dt.time(9))  # fmt: skip
    assert "over-capacity" in {v.code for v in check(careless, clinic=one_chair, bookings=busy)}


def test_ketaplans_own_export_reads_back() -> None:
    made = plan(
        load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30), time_zone="Europe/Berlin"
    )
    data = to_ics(made, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    busy = bookings_from_ics(data, start=dt.date(2026, 11, 1), end=dt.date(2027, 3, 1),
                             patient="p-9")  # fmt: skip
    assert [(b.start, b.end) for b in busy] == [(a.start, a.end) for a in made.appointments]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:2026-12-01\r\n"
         "END:VEVENT\r\nEND:VCALENDAR\r\n"), "line 5: DTSTART: Expected datetime"),
        (("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nthis is not ical\r\n"
         "END:VEVENT\r\nEND:VCALENDAR\r\n"), "line 5: must be a content line NAME:value"),
        ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VCALENDAR\r\n",
         "line 5: does not close an open component"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\n", "line 2: VEVENT is never closed"),
        ("Subject: hello\r\n\r\nnot a calendar\r\n", "line 1: must begin with BEGIN:VCALENDAR"),
    ],
)  # fmt: skip
def test_malformed_input_names_the_line(text: str, expected: str) -> None:
    with pytest.raises(CalendarFileError) as info:
        bookings_from_ics(text, origin="busy.ics", **DECEMBER)  # type: ignore[arg-type]
    assert any(expected in str(problem) for problem in info.value.problems), info.value
    assert str(info.value.problems[0]).startswith("busy.ics: line ")


def test_not_utf8_names_the_line() -> None:
    data = b"BEGIN:VCALENDAR\r\nSUMMARY:caf\xe9\r\nEND:VCALENDAR\r\n"
    with pytest.raises(CalendarFileError, match=r"busy.ics: line 2: must be UTF-8 text"):
        bookings_from_ics(data, origin="busy.ics", **DECEMBER)  # type: ignore[arg-type]


def test_unreadable_file_and_bad_range(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match=r"cannot be read"):
        load_busy(tmp_path / "missing.ics", **DECEMBER)  # type: ignore[arg-type]
    with pytest.raises(LimitError, match=r"end: must be on or after start"):
        bookings_from_ics("", start=dt.date(2026, 12, 2), end=dt.date(2026, 12, 1))
