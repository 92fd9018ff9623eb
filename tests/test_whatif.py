"""What-if runs (issue 16, "What-if runs"): the placement for each variant and seed, with spread.

The issue asks for runs in parallel on local cores by default and on a Dask cluster when a
scheduler is given, "with the same results", and no home-made distribution: every run goes
through a concurrent.futures executor (a process pool, or Dask's).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from ketaplan import Clinic, InputError, LimitError, whatif
from ketaplan.errors import MissingExtraError
from ketaplan.roster import Roster, RosterEntry
from ketaplan.whatif import MAX_RUNS, dask_executor, whatif_table

from .test_cli import run

MADE = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
CLINIC = Clinic.model_validate({
    "id": "small", "name": "Small", "time_zone": "America/New_York",
    "opening_hours": {day: ["08:00-12:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "booking_horizon_days": 60,
    "resources": {"chairs": 1, "rooms": 1, "monitoring_staff": 1},
})  # fmt: skip
ROSTER = Roster(patients=tuple(
    RosterEntry(id=f"p-{n}", protocol="iv-ketamine-mwf", start=dt.date(2026, 12, 1 + n % 3))
    for n in range(5)))  # fmt: skip


def _serial() -> list[dict[str, object]]:
    result = whatif(ROSTER, CLINIC, chairs=[1, 2], seeds=2, now=MADE, executor="serial")
    return [r.model_dump(mode="json") for r in result.runs]


@pytest.fixture(scope="module")
def serial() -> list[dict[str, object]]:
    """The runs one after another in this process: what every executor must give back."""
    return _serial()


def test_variants_are_every_combination_with_their_spread(serial: list[dict[str, object]]) -> None:
    result = whatif(ROSTER, CLINIC, chairs=[1, 2], seeds=2, now=MADE, executor="serial")
    assert [(v.variant.chairs, v.variant.staff, v.runs) for v in result.variants] == [
        (1, 1, 2), (2, 1, 2)]  # fmt: skip
    assert [(r["variant"], r["seed"]) for r in serial] == [
        ({"chairs": c, "rooms": 1, "staff": 1}, s) for c in (1, 2) for s in (0, 1)]  # fmt: skip
    for item in result.variants:
        served = sorted(r.served for r in result.runs if r.variant == item.variant)
        assert (item.served.low, item.served.high) == (served[0], served[-1])
    one, two = result.variants
    assert one.served.high <= two.served.low  # a second chair never serves fewer here
    assert set(one.utilisation) == {"chair", "room", "monitoring-staff"}
    text = whatif_table(result)
    assert "CHAIRS ROOMS STAFF  SERVED" in text


def test_processes_give_the_serial_results(serial: list[dict[str, object]]) -> None:
    result = whatif(ROSTER, CLINIC, chairs=[1, 2], seeds=2, now=MADE, workers=2)
    assert [r.model_dump(mode="json") for r in result.runs] == serial


def test_any_executor_gives_the_serial_results(serial: list[dict[str, object]]) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        result = whatif(ROSTER, CLINIC, chairs=[1, 2], seeds=2, now=MADE, executor=pool)
    assert [r.model_dump(mode="json") for r in result.runs] == serial


def test_a_local_dask_cluster_gives_the_serial_results(serial: list[dict[str, object]]) -> None:
    """Dask distributed (the extra ketaplan[cluster], in the dev extra): a local cluster of one
    worker in this process, reached by its scheduler's address as a remote one would be."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                       dashboard_address=None)  # fmt: skip
    with cluster, dask_executor(cluster.scheduler_address) as executor:
        result = whatif(ROSTER, CLINIC, chairs=[1, 2], seeds=2, now=MADE, executor=executor)
    assert [r.model_dump(mode="json") for r in result.runs] == serial


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    opening = dask_executor("tcp://127.0.0.1:8786")
    with pytest.raises(MissingExtraError, match=r"pip install 'ketaplan\[cluster\]'"):
        opening.__enter__()


def test_bad_values_are_named() -> None:
    with pytest.raises(InputError, match=r"chairs: must be a non-empty list"):
        whatif(ROSTER, CLINIC, chairs=[], executor="serial")
    with pytest.raises(InputError, match=r"chairs\[1\]: must be a whole number from 0 to 500"):
        whatif(ROSTER, CLINIC, chairs=[1, "x"], executor="serial")  # type: ignore[list-item]
    with pytest.raises(InputError, match="staff: must be values that differ"):
        whatif(ROSTER, CLINIC, staff=[1, 1], executor="serial")
    with pytest.raises(InputError, match="seeds: must be a whole number from 1 to 200"):
        whatif(ROSTER, CLINIC, seeds=0, executor="serial")
    with pytest.raises(LimitError, match=f"runs: must be at most {MAX_RUNS}"):
        whatif(ROSTER, CLINIC, chairs=list(range(10)), staff=list(range(10)), seeds=11)
    with pytest.raises(InputError, match="executor: must be 'processes', 'serial' or a"):
        whatif(ROSTER, CLINIC, executor="threads")  # type: ignore[arg-type]


def _roster_file(folder: Path) -> Path:
    (folder / "clinic.toml").write_text(
        'id = "small"\nname = "Small"\ntime_zone = "America/New_York"\n'
        "booking_horizon_days = 60\n[opening_hours]\n"
        + "".join(f'{d} = ["08:00-12:00"]\n' for d in ("mon", "tue", "wed", "thu", "fri"))
        + "[resources]\nchairs = 1\nrooms = 1\nmonitoring_staff = 1\n"
    )
    lines = ['clinic = "clinic.toml"']
    for entry in ROSTER.patients:
        lines += ["[[patients]]", f'id = "{entry.id}"', f'protocol = "{entry.protocol}"',
                  f"start = {entry.start}"]  # fmt: skip
    (folder / "roster.toml").write_text("\n".join(lines) + "\n")
    return folder / "roster.toml"


def test_the_command_line(tmp_path: Path, serial: list[dict[str, object]]) -> None:
    roster = str(_roster_file(tmp_path))
    code, text = run("clinic", "whatif", roster, "--chairs", "1,2", "--seeds", "2", "--workers",
                     "2", "--now", "2026-11-20T09:00", "--format", "json")  # fmt: skip
    assert code == 0, text
    assert json.loads(text)["runs"] == serial
    for bad in (["--chairs", "x"], ["--chairs", ""], ["--staff", "1,,2"],
                ["--chairs", ",".join(map(str, range(20))), "--staff", "1,2,3", "--seeds", "20"],
                ["--seeds", "x"]):  # fmt: skip
        code, _ = run("clinic", "whatif", roster, *bad)
        assert code == 2, bad
