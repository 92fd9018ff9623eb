"""The benchmarks at smoke size, so they never rot; the figures themselves are `make bench`'s."""

from __future__ import annotations

import pytest

from benchmarks.suite import BENCHMARKS, Row, table


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
