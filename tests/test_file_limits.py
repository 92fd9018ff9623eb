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

from ketaplan import InputError, LimitError, load_protocol
from ketaplan.cli import main
from ketaplan.errors import ProtocolError
from ketaplan.ics.reading import MAX_ICS_BYTES, load_busy
from ketaplan.loading import MAX_FILE_BYTES, load_plan_or_bookings, read_json_list

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
