"""The benchmarks at smoke size, so they never rot; the figures themselves are `make bench`'s."""

from __future__ import annotations

import re

import icalendar
import pytest

from benchmarks.export_baselines import PROPERTIES, with_fstrings, with_icalendar
from benchmarks.suite import BENCHMARKS, STAMP, Row, clinic_plans, table
from ketaplan.ics import to_ics


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_benchmark_runs_at_smoke_size(name: str) -> None:
    rows = BENCHMARKS[name]("smoke")
    assert rows
    assert all(isinstance(row, Row) and row.value >= 0 for row in rows)
    assert table(rows).count("\n") == len(rows) + 2


def test_clinic_benchmark_places_every_patient() -> None:
    rows = {row.figure: row for row in BENCHMARKS["plan_clinic"]("smoke")}
    assert rows["sessions placed"].value > 0
    assert 0 < rows["chair utilisation"].value < 100


def test_the_export_baselines_write_what_to_ics_writes() -> None:
    """Issue 18: the baselines write the same properties as ``to_ics`` (the icalendar one wrote
    6 of 14), with the same values, in the same order, so the ratios compare like with like."""
    plans = clinic_plans(60)

    def events(data: bytes) -> list[dict[str, str]]:
        calendar = icalendar.Calendar.from_ical(data)
        found = []
        for event in calendar.walk("VEVENT"):
            values = {str(name): str(event.get(name)) for name in event}
            for name in ("DTSTART", "DTEND"):  # the instant, however it is written
                values[name] = str(event.decoded(name))
            found.append(values)
        return found

    ours = events(to_ics(plans, audience="clinic", now=STAMP))
    assert [tuple(sorted(e)) for e in ours] == [tuple(sorted(PROPERTIES))] * 60
    assert [(e["DTSTART"], e["UID"]) for e in ours] == sorted(
        (e["DTSTART"], e["UID"]) for e in ours
    )
    assert events(with_icalendar(plans, STAMP)) == ours
    assert events(with_fstrings(plans, STAMP)) == ours


def test_the_throughput_rows_say_where_the_time_went() -> None:
    """Issue 18: a property-throughput row gave the cycle collector's share alone, so a slow run
    did not say whether plan(), check, the inputs that cannot be planned or the drawing was to
    blame; the note now gives each share of the run."""
    rows = [row for row in BENCHMARKS["throughput"]("smoke")
            if row.figure.startswith("strategies.plans + check, ") and row.baseline]  # fmt: skip
    assert len(rows) == 2
    for row in rows:
        shares = re.findall(r"(plan|cannot be planned|check|drawing and Hypothesis) (-?\d+)%",
                            row.note)  # fmt: skip
        assert [name for name, _ in shares] == [
            "plan", "cannot be planned", "check", "drawing and Hypothesis"
        ]  # fmt: skip
        assert 95 <= sum(int(share) for _, share in shares) <= 105  # rounded to whole percents
        assert "the cycle collector" in row.note
