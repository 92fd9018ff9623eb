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

from ketaplan import InputError, LimitError, load_protocol, loading
from ketaplan.cli import main
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.errors import PlanError, ProtocolError
from ketaplan.ics.reading import MAX_ICS_BYTES, load_busy
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
