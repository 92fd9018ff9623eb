"""Intake: the first start at which a whole series fits (issue 15, section 1).

Planning 50 patients into a 4-chair clinic gave 28 plans and 22 UnsatisfiableErrors; the only
workaround was a Python-only start window. ``first_available`` searches forward from the
requested day for days from which the whole series fits, every rule kept.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from ketaplan import InputError, Ledger, check, load_protocol
from ketaplan.defaults import demo_clinic
from ketaplan.intake import MAX_OPTIONS, NoStartError, first_available

from .helpers import clinic
from .test_cli import run

MADE = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
MWF = load_protocol("iv-ketamine-mwf")
ROOMS = {"chairs": 1, "rooms": 1, "monitoring_staff": 1, "patients_per_staff": 1}


def _finite_complete(made: object, protocol: object) -> bool:
    placed = Counter(a.phase for a in made.appointments if a.anchored is None)  # type: ignore[attr-defined]
    return all(placed[p.id] == p.count for p in protocol.phases if p.count)  # type: ignore[attr-defined]


def test_the_first_day_from_which_the_whole_series_fits() -> None:
    closed = clinic(closures=[{"start": "2026-12-07", "end": "2026-12-11", "reason": "works"}],
                    resources=ROOMS)  # fmt: skip
    (made,) = first_available(MWF, start=dt.date(2026, 12, 3), clinic=closed, now=MADE)
    assert made.appointments[0].local_date == dt.date(2026, 12, 3)
    assert all(a.shift is None for a in made.appointments)  # nothing relaxed, nothing shifted
    assert _finite_complete(made, MWF)
    assert [v for v in check(made, clinic=closed) if v.severity == "error"] == []


def test_options_are_distinct_first_days_in_order() -> None:
    found = first_available(MWF, start=dt.date(2026, 12, 5), clinic=demo_clinic(), options=3,
                            now=MADE)  # fmt: skip
    days = [p.appointments[0].local_date for p in found]
    assert days == sorted(set(days))
    assert len(days) == 3
    assert days[0] == dt.date(2026, 12, 7)  # Sat 5 and Sun 6 are closed


def test_a_full_clinic_offers_a_later_start_that_keeps_every_rule() -> None:
    one_chair = clinic(resources=ROOMS)
    ledger = Ledger(one_chair)
    first = first_available(MWF, start=dt.date(2026, 12, 7), clinic=one_chair, bookings=ledger,
                            now=MADE)[0]  # fmt: skip
    for booking in first.bookings():
        ledger.add(booking)
    (second,) = first_available(MWF, start=dt.date(2026, 12, 7), clinic=one_chair,
                                bookings=ledger, now=MADE, preferred_time=dt.time(8))  # fmt: skip
    assert _finite_complete(second, MWF)
    others = list(first.bookings())
    assert [v for v in check(second, clinic=one_chair, bookings=others)
            if v.code == "over-capacity"] == []  # fmt: skip


def test_when_nothing_fits_one_line_names_the_most_frequent_blocker() -> None:
    no_prescriber = clinic(resources=ROOMS, booking_horizon_days=60)
    with pytest.raises(NoStartError) as caught:
        first_available(load_protocol("esketamine-trd"), start=dt.date(2026, 12, 1),
                        clinic=no_prescriber, now=MADE)  # fmt: skip
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("no start from Tue 1 Dec 2026 to ")
    assert caught.value.blocker == "no prescriber on site"
    assert message.endswith("most often: no prescriber on site)")


def test_a_series_longer_than_the_horizon_says_so() -> None:
    short = clinic(resources=ROOMS, booking_horizon_days=10)
    with pytest.raises(NoStartError, match="would run past the 10-day booking horizon"):
        first_available(MWF, start=dt.date(2026, 11, 23), clinic=short, now=MADE)
    with pytest.raises(NoStartError, match="the start lies beyond the 10-day booking horizon"):
        first_available(MWF, start=dt.date(2026, 12, 7), clinic=short, now=MADE)


@pytest.mark.parametrize("options", [0, MAX_OPTIONS + 1, True, "2"])
def test_wrong_options_are_refused(options: object) -> None:
    with pytest.raises(
        InputError, match=f"options: must be a whole number from 1 to {MAX_OPTIONS}"
    ):
        first_available(MWF, start=dt.date(2026, 12, 1), options=options, now=MADE)  # type: ignore[arg-type]


def test_the_command_line_offers_options(tmp_path: Path) -> None:
    base = ["plan", "iv-ketamine-mwf", "--start", "2026-12-05", "--clinic", "demo",
            "--now", "2026-11-20T09:00", "--first-available"]  # fmt: skip
    code, text = run(*base, "--options", "2", "--format", "json")
    assert code == 0
    offered = json.loads(text)
    assert [p["appointments"][0]["start"][:10] for p in offered] == ["2026-12-07", "2026-12-08"]
    code, text = run(*base, "--options", "2")
    assert code == 0
    assert "option 1 of 2: first session Mon 07 Dec 2026" in text
    assert "option 2 of 2: first session Tue 08 Dec 2026" in text
    assert run(*base, "--options", "2", "--format", "ics")[0] == 2
    assert run(*base[:-1], "--options", "2")[0] == 2  # --options needs --first-available
