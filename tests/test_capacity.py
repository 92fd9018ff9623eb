"""The capacity report (issue 16, "A capacity report").

The issue's benchmark clinic planned 759 of 2,000 patients with its chairs used 45 % of open
hours, and nothing told the clinic that monitoring staff were what bound. The report gives each
resource's hours open and used and its peak, says which resource turned patients away, finds
each unserved patient's earliest start, and measures what one more of a resource would serve.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ketaplan import CapacityReport, Clinic, capacity_report
from ketaplan.capacity import capacity_table, place_all, resource_use
from ketaplan.errors import InputError, LimitError
from ketaplan.openings import ClinicCalendar
from ketaplan.roster import Placement, RosterEntry, place

from .test_cli import run

MADE = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _clinic(chairs: int, staff: int, *, horizon: int = 732) -> Clinic:
    return Clinic.model_validate({
        "id": "small", "name": "Small", "time_zone": "America/New_York",
        "opening_hours": {day: ["08:00-12:00"] for day in WEEKDAYS},
        "booking_horizon_days": horizon,
        "resources": {"chairs": chairs, "rooms": 1, "monitoring_staff": staff},
    })  # fmt: skip


def _entries(count: int) -> list[RosterEntry]:
    return [
        RosterEntry(id=f"p-{n:02d}", protocol="iv-ketamine-mwf", start=dt.date(2026, 12, 1 + n % 3))
        for n in range(count)
    ]


def test_one_chair_two_patients_by_hand() -> None:
    """Two iv-ketamine-mwf patients in one chair: each has 10 infusions of 85 minutes in the
    chair (check-in 15, dosing 40, monitoring 30), 70 of them under monitoring, and a 60-minute
    intake and a 30-minute review in the room. The plans run Tue 1 Dec 2026 to Mon 18 Jan 2027:
    7 weeks, 35 weekdays of 4 open hours."""
    clinic = _clinic(1, 1)
    placed = place(_entries(2), clinic=clinic, folder=Path(), now=MADE)
    plans = [p.plan for p in placed if p.plan is not None]
    assert len(plans) == 2
    days, use = resource_use(plans, clinic)
    assert days == (dt.date(2026, 12, 1), dt.date(2027, 1, 18))
    rows = {row.resource: row for row in use}
    assert set(rows) == {"chair", "room", "monitoring-staff"}  # no prescriber on site, none used
    chair = rows["chair"]
    assert (chair.at_once, chair.hours_open, chair.peak) == (1, 140.0, 1)
    assert chair.hours_used == pytest.approx(2 * 10 * 85 / 60, abs=1e-3)
    assert chair.utilisation == pytest.approx(2 * 10 * 85 / 60 / 140, abs=1e-4)
    assert rows["room"].hours_used == pytest.approx(2 * (60 + 30) / 60)
    assert rows["monitoring-staff"].hours_used == pytest.approx(2 * 10 * 70 / 60, abs=1e-3)
    assert rows["monitoring-staff"].peak == 1  # 08:00 and 09:30 starts: never at once
    report = capacity_report(plans, clinic)
    assert (report.served, report.unserved, report.turned_away) == (2, (), ())
    assert (
        report.summary
        == "every patient was served; the busiest resource is chairs (20% of its hours)"
    )


def test_open_hours_are_real_elapsed_hours_across_dst() -> None:
    """A clinic open 00:00-04:00 on the Sundays the clocks change (New York): 3 hours when they
    go forward, 5 when they go back."""
    clinic = Clinic.model_validate({"id": "night", "name": "Night", "time_zone": "America/New_York",
                                    "opening_hours": {"sun": ["00:00-04:00"]}})  # fmt: skip
    calendar = ClinicCalendar(clinic)
    assert calendar.hours(dt.date(2026, 3, 8)) == 3.0
    assert calendar.hours(dt.date(2026, 11, 1)) == 5.0
    assert calendar.hours(dt.date(2026, 11, 8)) == 4.0
    _, use = resource_use([], clinic.model_copy(update={"resources": clinic.resources.model_copy(
        update={"chairs": 2})}), period=(dt.date(2026, 11, 1), dt.date(2026, 11, 8)))  # fmt: skip
    assert [(row.resource, row.hours_open) for row in use] == [("chair", 2 * (5.0 + 4.0))]


def _report(chairs: int, staff: int) -> CapacityReport:
    clinic = _clinic(chairs, staff, horizon=60)
    entries = _entries(8)
    placed = place_all(entries, clinic=clinic, folder=Path(), now=MADE)
    return capacity_report(
        [p.plan for p in placed if p.plan is not None], clinic,
        unserved=[p for p in placed if p.plan is None], requests=entries, now=MADE,
    )  # fmt: skip


def _served_with(chairs: int, staff: int) -> int:
    placed = place_all(_entries(8), clinic=_clinic(chairs, staff, horizon=60), folder=Path(),
                       now=MADE)  # fmt: skip
    return sum(1 for p in placed if p.plan is not None)


def test_the_bottleneck_is_monitoring_staff_when_staff_bind() -> None:
    """Four chairs and one staff member watching one patient: staff turn patients away, and one
    more staff member serves more; the N in the sentence is the placement run again."""
    report = _report(chairs=4, staff=1)
    assert report.unserved
    assert [(t.resource, t.patients) for t in report.turned_away] == [
        ("monitoring-staff", len(report.unserved))
    ]
    more = _served_with(4, 2) - report.served
    assert more > 0
    assert report.summary == (
        "monitoring staff are the bottleneck: 1 more patient under monitoring at once "
        f"(1 more staff member) would serve {more} more patient{'s' * (more != 1)}"
    )
    for item in report.unserved:  # each unserved patient gets a later start, past the horizon
        assert item.earliest is not None
        assert item.requested is not None
        assert item.wait_days == (item.earliest - item.requested).days
    text = capacity_table(report)
    assert text.endswith(report.summary)
    assert "monitoring staff: " in text


def test_the_bottleneck_is_chairs_when_chairs_bind() -> None:
    """One chair and four staff: chairs turn patients away; one more chair serves more."""
    report = _report(chairs=1, staff=4)
    assert report.turned_away[0].resource == "chair"
    more = _served_with(2, 4) - report.served
    assert more > 0
    assert report.summary.startswith(f"chairs are the bottleneck: 1 more chair would serve {more}")
    raised = {r.resource: r for r in report.raises}
    assert (raised["chair"].more, raised["chair"].served) == (more, report.served + more)
    assert "monitoring-staff" not in raised  # neither turned a patient away nor used to its limit


def test_patients_turned_away_by_no_resource_are_not_blamed_on_one() -> None:
    """The reasons are the placement's own (NoStartError.reasons); a patient blocked mostly by
    closures but once by a full room counts against rooms; one never blocked by a resource
    counts against its most frequent reason, and no resource is named the bottleneck."""
    clinic = _clinic(1, 1)
    room = Placement(patient="a", reason="no start", blocked={"clinic closed on Sundays": 9,
                                                              "no room free": 1})  # fmt: skip
    closed = Placement(patient="b", reason="no start", blocked={"clinic closed on Sundays": 9})
    report = capacity_report([], clinic, unserved=[room, closed, closed.model_copy(
        update={"patient": "c"})])  # fmt: skip
    assert [(t.resource, t.reason, t.patients) for t in report.turned_away] == [
        (None, "clinic closed on Sundays", 2), ("room", "rooms", 1)]  # fmt: skip
    assert report.summary == ("clinic closed on Sundays turned away the most patients (2); "
                              "what one more would serve was not measured")  # fmt: skip
    only = capacity_report([], clinic, unserved=[closed])
    assert only.summary.endswith("no resource turned a patient away")


def test_bad_input_is_named() -> None:
    clinic = _clinic(1, 1)
    with pytest.raises(InputError, match=r"plans\[0\]: must be a Plan; got 'x'"):
        capacity_report(["x"], clinic)  # type: ignore[list-item]
    with pytest.raises(InputError, match=r"unserved: must be a list of which each is"):
        capacity_report([], clinic, unserved="p-1")  # type: ignore[arg-type]
    with pytest.raises(LimitError, match=r"later_days: must be from 1 to 366; got 400"):
        capacity_report([], clinic, later_days=400)
    with pytest.raises(LimitError, match="period: must be at most 3660 days"):
        capacity_report([], clinic, period=(dt.date(2026, 1, 1), dt.date(2036, 12, 31)))
    with pytest.raises(InputError, match="period: must be a last day on or after the first"):
        capacity_report([], clinic, period=(dt.date(2026, 2, 1), dt.date(2026, 1, 1)))


def _roster(folder: Path, count: int) -> Path:
    clinic = ['id = "small"', 'name = "Small"', 'time_zone = "America/New_York"',
              "booking_horizon_days = 60", "[opening_hours]",
              *(f'{day} = ["08:00-12:00"]' for day in WEEKDAYS),
              "[resources]", "chairs = 4", "rooms = 1", "monitoring_staff = 1"]  # fmt: skip
    (folder / "clinic.toml").write_text("\n".join(clinic) + "\n")
    lines = ['clinic = "clinic.toml"']
    for entry in _entries(count):
        lines += ["[[patients]]", f'id = "{entry.id}"', f'protocol = "{entry.protocol}"',
                  f"start = {entry.start}"]  # fmt: skip
    (folder / "roster.toml").write_text("\n".join(lines) + "\n")
    return folder / "roster.toml"


def test_the_command_line_reports_a_roster(tmp_path: Path) -> None:
    roster = str(_roster(tmp_path, 8))
    code, text = run("clinic", "report", roster, "--now", "2026-11-20T09:00")
    assert code == 0, text
    assert "RESOURCE" in text
    assert "monitoring staff are the bottleneck" in text
    code, text = run("clinic", "report", roster, "--now", "2026-11-20T09:00", "--format", "json",
                     "--no-measure")  # fmt: skip
    assert code == 0
    found = json.loads(text)
    assert found["raises"] == []
    assert found["unserved"]
    assert found["summary"].endswith("what one more would serve was not measured")
    code, _ = run("clinic", "report", roster, "--later-days", "0")
    assert code == 2
