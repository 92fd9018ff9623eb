"""A file refused for its size: a LimitError naming the file, the bound and the size, any format.

Before, an events or bookings file (JSON) over its bound was a plain ``InputError``, and a list
of bookings named its file twice (``b.json: b.json: must be at most ...``), while a busy
calendar (``.ics`` or FHIR) over its bound was a ``LimitError``. Each file is made sparse: it
has the size, not the bytes, and is refused unread.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from ketaplan import InputError, LimitError, load_protocol, loading, replan
from ketaplan._model import LAST_DATE, LAST_START
from ketaplan.cli import main
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.errors import CalendarFileError, PlanError, ProtocolError
from ketaplan.ics.lines import MAX_COMPONENTS, MAX_TIME_ZONES
from ketaplan.ics.reading import MAX_ICS_BYTES, bookings_from_ics, load_busy
from ketaplan.loading import (
    MAX_FILE_BYTES,
    MAX_PLAN_FILE_BYTES,
    dump_plan,
    load_plan,
    load_plan_or_bookings,
    read_json_list,
)

from .helpers import plan


def _sparse(path: Path, size: int, opening: bytes = b"[") -> Path:
    """A file of ``size`` bytes that starts with ``opening`` (a list, for the JSON readers)."""
    with path.open("wb") as file:
        file.write(opening)
        file.truncate(size)
    return path


def _busy_ics(path: str) -> object:
    return load_busy(path, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31), resource="chair")


def _busy_fhir(path: str) -> object:
    fhir = pytest.importorskip("ketaplan.fhir")
    return fhir.load_busy(path, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31))


READERS: list[tuple[str, Callable[[str], object], str, int]] = [
    ("events", read_json_list, "events.json", MAX_FILE_BYTES),
    ("bookings", load_plan_or_bookings, "bookings.json", MAX_FILE_BYTES),
    ("ics", _busy_ics, "busy.ics", MAX_ICS_BYTES),
    ("fhir", _busy_fhir, "busy.json", MAX_ICS_BYTES),
]


@pytest.mark.parametrize(
    ("read", "name", "limit"),
    [reader[1:] for reader in READERS],
    ids=[reader[0] for reader in READERS],
)
def test_a_file_over_its_bound_is_a_limit_error_whatever_its_format(
    read: Callable[[str], object], name: str, limit: int, tmp_path: Path
) -> None:
    path = str(_sparse(tmp_path / name, limit + 1))
    with pytest.raises(LimitError) as raised:
        read(path)
    assert isinstance(raised.value, InputError)  # as before, for `except InputError`
    assert (raised.value.field, raised.value.value) == (path, limit + 1)
    assert str(raised.value) == f"{path}: must be at most {limit} bytes; got {limit + 1}"


def test_a_file_at_its_bound_is_read(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text("[" + " " * (MAX_FILE_BYTES - 2) + "]")
    assert read_json_list(path) == []


def test_a_file_that_is_not_a_regular_one_is_still_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        read_json_list(tmp_path)
    assert not isinstance(raised.value, LimitError)
    assert "must be a regular file" in str(raised.value)


def test_a_definition_over_its_bound_stays_its_own_error(tmp_path: Path) -> None:
    """A definition or plan file lists what is wrong with it as its own error (documented)."""
    path = _sparse(tmp_path / "huge.toml", MAX_FILE_BYTES + 1, b"#")
    with pytest.raises(ProtocolError, match=r"huge\.toml: must be at most 1048576 bytes"):
        load_protocol(path)


@pytest.mark.parametrize(
    ("command", "name", "limit"),
    [
        (["replan", "PLAN", "--as-of", "2026-12-08T10:00", "--events", "{}"], "events.json",
         MAX_FILE_BYTES),
        (["check", "PLAN", "--bookings", "{}"], "bookings.json", MAX_FILE_BYTES),
        (["plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--busy", "{}"], "busy.ics",
         MAX_ICS_BYTES),
    ],
    ids=["events", "bookings", "ics"],
)  # fmt: skip
def test_the_command_line_says_it_in_one_line(
    command: list[str], name: str, limit: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = tmp_path / "plan.json"
    made.write_text(
        plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 7)).model_dump_json()
    )
    big = str(_sparse(tmp_path / name, limit + 1))
    args = [big if a == "{}" else str(made) if a == "PLAN" else a for a in command]
    assert main(args, out=io.StringIO()) == 2
    said = f"ketaplan: error: {big}: must be at most {limit} bytes; got {limit + 1}\n"
    assert capsys.readouterr().err == said


# -- plan files: what ketaplan writes, it reads back ---------------------------------------------
# A plan file used to share the 1 MiB bound of a definition, which five years of weekly
# esketamine maintenance for the demo patient passes (1.6 MB): `plan` wrote it and every other
# command refused it, so the plan could not be used again (found by a hostile test).


def test_a_five_year_weekly_maintenance_plan_is_written_and_read_back(tmp_path: Path) -> None:
    clinic = demo_clinic().model_copy(update={"booking_horizon_days": 1830})
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 12, 1), clinic=clinic,
                patient=demo_patient(), until=dt.date(2031, 12, 5),
                tiers={"maintenance": "weekly"})  # fmt: skip
    text = dump_plan(made)
    assert MAX_FILE_BYTES < len(text.encode()) <= MAX_PLAN_FILE_BYTES
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    assert load_plan(path) == made


def test_the_plan_file_bound_is_the_same_for_writing_and_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 7))
    size = len(loading.dump_plan(made).encode())
    path = tmp_path / "plan.json"
    path.write_text(loading.dump_plan(made), encoding="utf-8")
    monkeypatch.setattr(loading, "MAX_PLAN_FILE_BYTES", size)
    assert loading.load_plan(path) == made  # at the bound: written, and read
    monkeypatch.setattr(loading, "MAX_PLAN_FILE_BYTES", size - 1)
    with pytest.raises(LimitError, match=rf"plan: must be at most {size - 1} bytes .*; got "
                       rf"'{size} bytes'"):  # fmt: skip
        loading.dump_plan(made)
    with pytest.raises(PlanError, match=rf"must be at most {size - 1} bytes; got {size}"):
        loading.load_plan(path)


def test_the_command_line_writes_no_plan_it_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(loading, "MAX_PLAN_FILE_BYTES", 10_000)
    out = tmp_path / "plan.json"
    args = ["plan", "iv-ketamine-mwf", "--start", "2026-12-07", "--clinic", "demo", "-o", str(out)]
    assert main(args, out=io.StringIO()) == 2
    assert not out.exists()
    assert "plan: must be at most 10000 bytes as a plan file" in capsys.readouterr().err


# -- busy files: many components, refused before they are parsed ----------------------------------
# Files far below the byte bound ran for minutes and took gigabytes: 150,000 VTIMEZONEs (21 MB),
# 300,000 events outside the span (34 MB), a FHIR Bundle of 150,000 entries (found by a hostile
# test). Each count is taken from the text before anything is built, so the error comes at once.


def _events(count: int, *, zones: int = 0) -> bytes:
    zone = (
        "BEGIN:VTIMEZONE\r\nTZID:Z{n}\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    event = ("BEGIN:VEVENT\r\nUID:{n}\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20351207T090000Z\r\n"
             "DTEND:20351207T100000Z\r\nEND:VEVENT\r\n")  # fmt: skip
    body = "".join(zone.format(n=n) for n in range(zones))
    body += "".join(event.format(n=n) for n in range(count))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{body}END:VCALENDAR\r\n".encode()


def _busy(data: bytes) -> object:
    return bookings_from_ics(data, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31),
                             origin="busy.ics")  # fmt: skip


def test_an_ics_file_of_too_many_components_is_refused_before_it_is_parsed() -> None:
    assert _busy(_events(MAX_COMPONENTS)) == []  # at the bound: read
    with pytest.raises(LimitError) as raised:
        _busy(_events(MAX_COMPONENTS + 1))
    assert str(raised.value) == (
        f"busy.ics: must be at most {MAX_COMPONENTS:,} components (events, alarms, time "
        f"zones...) in one file; reading stopped at the count given; got {MAX_COMPONENTS + 1}"
    )
    # RFC 5545 may fold a line anywhere: a folded BEGIN line is counted too (an independent
    # review found `BEGI` CRLF space `N:VEVENT` read in full, 150,000 events in 27 s).
    folded = _events(MAX_COMPONENTS + 1).replace(b"BEGIN:VEVENT", b"BEGI\r\n N:VEVENT")
    with pytest.raises(LimitError, match="reading stopped at the count given"):
        _busy(folded)


def test_an_ics_file_of_too_many_time_zones_is_refused() -> None:
    with pytest.raises(LimitError, match=rf"at most {MAX_TIME_ZONES:,} time zones \(VTIMEZONE\)"):
        _busy(_events(1, zones=MAX_TIME_ZONES + 1))


def test_a_fhir_bundle_of_too_many_entries_is_refused_before_it_is_parsed() -> None:
    fhir = pytest.importorskip("ketaplan.fhir.reading")
    entry = ('{"resource": {"resourceType": "Appointment", "status": "booked", '
             '"start": "2035-12-07T09:00:00Z", "end": "2035-12-07T10:00:00Z", '
             '"participant": [{"status": "accepted"}]}}')  # fmt: skip
    count = fhir.MAX_ENTRIES + 1
    text = '{"resourceType": "Bundle", "type": "collection", "entry": [' + ",".join(
        [entry] * count) + "]}"  # fmt: skip
    with pytest.raises(LimitError, match=rf"at most {fhir.MAX_ENTRIES:,} entries; reading stopped"):
        fhir.bookings_from_fhir(text, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31),
                                origin="busy.json")  # fmt: skip


def test_no_plan_is_written_with_dates_that_cannot_be_read_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A plan from 1 December 2200 was written with sessions in 2201, and every command refused
    # it (found by a hostile test): a plan starts by LAST_START, six years before the last date.
    out = tmp_path / "plan.json"
    args = ["plan", "esketamine-trd", "--start", "2200-12-01", "--now", "2200-11-20T09:00",
            "--clinic", "demo", "-o", str(out)]  # fmt: skip
    assert main(args, out=io.StringIO()) == 2
    assert f"start: must be a date from 1900-01-01 to {LAST_START}" in capsys.readouterr().err
    assert not out.exists()
    # The last start allowed: every date of its plan reads back.
    args[3], args[5] = str(LAST_START), f"{LAST_START - dt.timedelta(days=10)}T09:00"
    assert main(args, out=io.StringIO()) == 0
    made = load_plan(out)
    assert max(a.local_date for a in made.appointments) <= LAST_DATE
    with pytest.raises(LimitError, match="as_of: must be a date from"):
        replan(made, as_of=dt.datetime(2200, 1, 1, tzinfo=dt.UTC))


def test_a_zone_name_longer_than_a_file_name_is_refused_at_once() -> None:
    # A TZID of 50,000 "a/" segments was looked up tail by tail (quadratic: 7.7 s, 1 GB for
    # 128 KB) and ended in a RecursionError (found by an independent review).
    name = "a/" * 50_000 + "x"
    data = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n"
            "DTSTAMP:20261201T000000Z\r\n"
            f"DTSTART;TZID={name}:20261207T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")  # fmt: skip
    with pytest.raises(CalendarFileError, match="DTSTART;TZID: must name a time zone"):
        _busy(data.encode())


def test_validate_reads_a_plan_file_over_the_definition_bound(tmp_path: Path) -> None:
    # The five-year plan above (1.6 MB) was refused by `validate` at the 1 MiB definition bound.
    clinic = demo_clinic().model_copy(update={"booking_horizon_days": 1830})
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 12, 1), clinic=clinic,
                patient=demo_patient(), until=dt.date(2031, 12, 5),
                tiers={"maintenance": "weekly"})  # fmt: skip
    path = tmp_path / "plan.json"
    path.write_text(dump_plan(made), encoding="utf-8")
    out = io.StringIO()
    assert main(["validate", str(path)], out=out) == 0
    assert f"ok (plan {made.id})" in out.getvalue()
