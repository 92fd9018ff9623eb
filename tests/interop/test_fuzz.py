"""Fuzzing every text that reaches a calendar with control characters, line and paragraph
separators and bidi controls: every parser must see exactly the planned events, and the text
must come back cleaned, never split into an injected event."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaplan import Plan, load_protocol
from ketaplan.ics import clean_line, to_ics
from ketaplan.ics.lint import lint_ics
from ketaplan.plans import Instruction
from tests.helpers import plan

from .parsers import (
    Libical,
    icaljs_available,
    libical,
    with_ical,
    with_icalendar,
    with_icaljs,
    with_vobject,
)

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOSTILE = st.sampled_from(
    [
        "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nSUMMARY:INJECTED\r\nDTSTAMP:20260101T000000Z",
        "\rEND:VEVENT\rBEGIN:VEVENT\rUID:evil2",
        "\x00\x0b\x0c\x1c\x1d\x1e\x1b\x7f",
        "\u0085\u2028\u2029",
        "\u202e\u2066\u200f\u061c",
        ";,\\:\"'",
        "X-KETAPLAN-NOTE:oops",
    ]
)
TEXT = st.lists(st.one_of(HOSTILE, st.text(max_size=20)), min_size=1, max_size=4).map("".join)
BASE: Plan = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 3, 2),
                  time_zone="Europe/Berlin", preferred_time=dt.time(9))  # fmt: skip
LIBICAL: Libical | None = libical()
ICALJS = icaljs_available() is None


@st.composite
def hostile_plans(draw: st.DrawFn) -> Plan:
    """The base plan with its texts replaced by hostile ones (a few, reused across fields)."""
    texts = draw(st.lists(TEXT, min_size=6, max_size=6))
    appointments = []
    for number, appointment in enumerate(BASE.appointments):
        pick = texts[number % 3 :] + texts[: number % 3]
        instructions = (
            Instruction(kind="fasting-solids", text=pick[0], at=appointment.start),
            Instruction(kind="escort", text=pick[1], at=appointment.end),
        )
        appointments.append(
            appointment.model_copy(
                update={
                    "name": pick[2],
                    "reason": pick[3],
                    "dose": pick[4],
                    "instructions": instructions,
                }
            )
        )
    return BASE.model_copy(
        update={
            "clinic_name": texts[3],
            "clinic_location": texts[4],
            "patient": texts[5],
            "appointments": tuple(appointments),
        }
    )


@settings(max_examples=40)
@given(
    hostile_plans(), st.sampled_from(["patient", "clinic"]), st.sampled_from(["minimal", "full"])
)
def test_hostile_text_never_breaks_a_calendar(made: Plan, audience: str, detail: str) -> None:
    data = to_ics(made, audience=audience, detail=detail, now=NOW)  # type: ignore[arg-type]
    assert lint_ics(data) == []
    expected = len(made.appointments)
    parsed = with_icalendar(data)
    assert len(parsed) == expected
    assert len(with_ical(data)) == expected
    assert len(with_vobject(data)) == expected
    if LIBICAL is not None:
        seen, errors = LIBICAL.read(data)
        assert len(seen) == expected
        assert errors == []
    assert "evil" not in {seen.uid for seen in parsed}
    # The text comes back cleaned: exactly what clean_line made of it, nothing more.
    summaries = {seen.summary for seen in parsed}
    if audience == "patient" and detail == "minimal":
        assert summaries == {clean_line(f"Appointment \u2013 {made.clinic_name}")}
    elif audience == "patient":
        assert summaries == {
            clean_line(f"{a.name} \u2013 {made.clinic_name}") for a in made.appointments
        }
    for summary in summaries:
        assert clean_line(summary) == summary


@pytest.mark.skipif(not ICALJS, reason=icaljs_available() or "")
@settings(max_examples=5)
@given(st.lists(hostile_plans(), min_size=8, max_size=8))
def test_hostile_text_in_icaljs(plans: list[Plan]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for number, made in enumerate(plans):
            path = Path(folder) / f"hostile-{number}.ics"
            path.write_bytes(to_ics(made, audience="clinic", detail="full", now=NOW))
            paths.append((made, path))
        seen = with_icaljs([path for _, path in paths])
        for made, path in paths:
            assert len(seen[str(path)]) == len(made.appointments)
            assert "evil" not in {event.uid for event in seen[str(path)]}
