"""Pictures of a plan and of a clinic's week (issue 17, "Pictures").

The plan drawn is ``tests/data/pictures/course.json``: iv-ketamine-standard at the demo clinic
for a patient on cannabis (a clinic hold of 12 hours before dosing, 6 after), planned from
1 Dec 2026, then re-planned: intake-1 and induction-1 attended, induction-2 missed,
induction-3 cancelled, induction-4 moved a day by request; induction-6 is off its target
(Christmas Day, the clinic is closed). Kept as a file so the golden structure changes only
when the drawing does, not when the planner does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ketaplan import (
    InputError,
    LimitError,
    Plan,
    load_protocol,
    run_sheet,
    run_week,
    runsheet_html,
    timeline_html,
    timeline_svg,
)
from ketaplan.defaults import demo_clinic
from ketaplan.pictures.layout import MONTHS_PER_STRIP, layout

from .browser import render, spread
from .test_cli import ketaplan
from .test_runsheet import Page, clinic_day

DATA = Path(__file__).parent / "data" / "pictures"
GOLDEN = Path(__file__).parent / "golden" / "timeline-structure.txt"
IMAGES = Path(__file__).parent.parent / "docs" / "images"
REGENERATE = bool(os.environ.get("KETAPLAN_REGENERATE_GOLDEN"))
SVG = "{http://www.w3.org/2000/svg}"
TODAY = dt.date(2026, 12, 17)


@pytest.fixture(scope="module")
def course() -> Plan:
    return Plan.model_validate_json((DATA / "course.json").read_text(encoding="utf-8"))


def parsed(svg: str) -> ET.Element:
    """The SVG as an XML parser reads it (it raises on a file that is not well formed)."""
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def sessions(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if "session" in classes(g)]


def title_of(element: ET.Element) -> str:
    found = element.find(f"{SVG}title")
    assert found is not None
    return found.text or ""


# -- the drawing lists every appointment -----------------------------------------------------


def test_every_appointment_is_drawn_once_with_its_details(course: Plan) -> None:
    """Each appointment is one mark, in the plan's order, whose title says what and when."""
    root = parsed(timeline_svg(course))
    drawn = sessions(root)
    assert [g.get("data-appointment") for g in drawn] == [a.id for a in course.appointments]
    for g, appointment in zip(drawn, course.appointments, strict=True):
        assert f"kind-{appointment.kind}" in classes(g)
        assert title_of(g).startswith(f"{appointment.id}: {appointment.name} ")
        assert f"{appointment.local_start:%H:%M}" in title_of(g)


def test_the_page_lists_every_appointment_as_text(course: Plan) -> None:
    page = timeline_html(course)
    found = Page(page)
    assert found.problems == []
    assert found.open == []
    rows = re.findall(r'<tr class="appointment[^"]*"><td class="num">[^<]*</td><td class="time">'
                      r"[^<]*</td><td>([^<]*)</td>", page)  # fmt: skip
    assert rows == [a.id for a in course.appointments]
    assert page.count("<svg") == 1
    assert 'role="img"' in page
    assert "<figcaption>Treatment timeline of iv-ketamine-standard for p-rich: 14 appointments" in (
        page
    )


# -- the golden structure ----------------------------------------------------------------------


def structure(svg: str) -> str:
    """The SVG's element tree: tag, id and classes, one line per element, indented by depth.

    No coordinates, so the golden file changes when what is drawn changes (an element, a
    class, an id, their order), not when a mark moves by a pixel; runs of equal siblings
    are written once with their count.
    """
    lines: list[str] = []

    def walk(element: ET.Element, depth: int) -> None:
        tag = element.tag.removeprefix(SVG)
        name = tag + (f"#{element.get('id')}" if element.get("id") else "")
        name += "".join(f".{c}" for c in sorted(classes(element)))
        lines.append("  " * depth + name)
        for child in element:
            walk(child, depth + 1)

    walk(parsed(svg), 0)
    return "".join(
        f"{line} x{count}\n" if (count := len(list(run))) > 1 else f"{line}\n"
        for line, run in groupby(lines)
    )


def test_the_svg_structure_matches_the_golden_file(course: Plan) -> None:
    """KETAPLAN_REGENERATE_GOLDEN=1 rewrites it after a deliberate change to the drawing."""
    found = structure(timeline_svg(course, today=TODAY))
    if REGENERATE:
        GOLDEN.write_text(found, encoding="utf-8")
    assert found == GOLDEN.read_text(encoding="utf-8")


# -- what is drawn -----------------------------------------------------------------------------


def test_statuses_differ_in_shape_and_pattern_not_colour_alone(course: Plan) -> None:
    """Printed in grey, colour is gone: each status must still look different by its fill
    (white, solid, hatched), its outline (solid, dotted, dashed) or a strike through it."""
    root = parsed(timeline_svg(course))
    looks: dict[str, set[tuple[str, str, bool]]] = {}
    for g in sessions(root):
        (status,) = [c.removeprefix("status-") for c in classes(g) if c.startswith("status-")]
        mark = next(e for e in g if e.tag == f"{SVG}use")
        fill = mark.get("fill", "")
        fill = "solid" if fill == mark.get("stroke") else fill  # the kind's colour: solid
        struck = any("strike" in classes(e) for e in g)
        looks.setdefault(status, set()).add((fill, mark.get("stroke-dasharray", ""), struck))
    assert set(looks) == {"attended", "missed", "cancelled", "planned", "provisional"}
    assert all(len(found) == 1 for found in looks.values())
    assert len({next(iter(found)) for found in looks.values()}) == len(looks)


def test_each_window_is_the_one_the_plan_recorded(course: Plan) -> None:
    """The bar behind a session runs from its recorded earliest day to its latest, both
    included (12 pixels a day, a pixel of air at each end), cut at the strip's edge
    (maintenance-4's window runs into April, which holds nothing and is not drawn)."""
    lay = layout(course)
    root = parsed(timeline_svg(course))
    checked = 0
    for strip in lay.strips:
        for placed in strip.placed:
            session = placed.session
            assert session.window is not None
            first, last = max(session.window[0], strip.first), min(session.window[1], strip.last)
            g = root.find(f".//*[@id='kp-a{session.number}']")
            assert g is not None
            (bar,) = [e for e in g if "window" in classes(e)]
            assert float(bar.get("width", "0")) == ((last - first).days + 1) * 12 - 2
            assert float(bar.get("x", "0")) == 104 + strip.offset(first) * 12 + 1
            checked += 1
            cut = session.window[1] > strip.last
            assert cut == (session.appointment.id == "maintenance-4")
    assert checked == len(course.appointments)


def test_moved_sessions_carry_their_reason_on_hover_and_in_the_list(course: Plan) -> None:
    root = parsed(timeline_svg(course))
    moved = {g.get("data-appointment"): g for g in sessions(root) if "moved" in classes(g)}
    assert list(moved) == ["induction-4", "induction-6"]
    for number, (name, g) in enumerate(moved.items(), start=1):
        reason = course.appointment(str(name)).reason
        assert f"; moved ({number}): {reason}" in title_of(g)
        assert any(e.text == str(number) for e in g if "badge" in classes(e))
    captions = [t for t in root.iter(f"{SVG}text") if "caption" in classes(t)]
    assert [title_of(t) for t in captions] == [
        f"{n}. {a}, {d}: {course.appointment(a).reason}"
        for n, a, d in (
            (1, "induction-4", "Sat 19 Dec 2026"),
            (2, "induction-6", "Thu 24 Dec 2026"),
        )
    ]
    page = timeline_html(course)
    assert '<li value="1"><strong>induction-4</strong>, Sat 19 Dec 2026: moved by request' in page
    assert "clinic closed (Christmas Day)" in page
    unmoved = [a for a in course.appointments if a.id not in moved]
    assert all(not a.moved for a in unmoved)


def test_holds_and_staff_tasks_are_marked(course: Plan) -> None:
    root = parsed(timeline_svg(course))
    holds = [i for a in course.appointments for i in a.instructions if i.kind == "medication-hold"]
    assert len(holds) == 11
    marked = [g for g in root.iter(f"{SVG}g") if "hold" in classes(g)]
    assert {title_of(g) for g in marked} == {
        f"Medication hold for {a.id}: {i.text}"
        for a in course.appointments
        for i in a.instructions
        if i.kind == "medication-hold"
    }
    assert len(marked) == len(holds) + 1  # maintenance-3's hold starts on 28 Feb, on both strips
    due = {t.due for t in course.tasks if t.kind != "checkpoint"}
    tasks = [g for g in root.iter(f"{SVG}g") if "task" in classes(g)]
    assert len(tasks) == len(due)
    assert all(title_of(g).startswith("Staff tasks due ") for g in tasks)


def test_phases_are_bands_in_order(course: Plan) -> None:
    root = parsed(timeline_svg(course))
    bands = [title_of(g) for g in root.iter(f"{SVG}g") if "phase" in classes(g)]
    assert [b.split(":")[0] for b in bands] == [
        "Phase intake",
        "Phase induction",
        "Phase maintenance",
        "Phase maintenance",
    ]  # fmt: skip  (maintenance runs on into the second strip)
    assert bands[1] == "Phase induction: Tue 8 Dec 2026 to Mon 28 Dec 2026, 9 sessions"


def test_today_is_a_line_only_when_it_is_on_the_drawing(course: Plan) -> None:
    root = parsed(timeline_svg(course, today=TODAY))
    (today,) = [g for g in root.iter(f"{SVG}g") if "today" in classes(g)]
    assert title_of(today) == "Today, Thu 17 Dec 2026"
    (line,) = today.iter(f"{SVG}line")
    assert float(line.get("x1", "0")) == 104 + 16 * 12 + 6  # the middle of the 17th
    assert "today is Thu 17 Dec 2026" in (root.get("aria-label") or "")
    far = timeline_svg(course, today=dt.date(2031, 1, 1))
    assert 'class="today"' not in far
    assert "today is" not in far
    assert 'class="today"' not in timeline_svg(course)


@pytest.mark.parametrize(
    ("today", "error"),
    [
        (dt.datetime(2026, 12, 17, tzinfo=dt.UTC), "today: must be a date or None; got"),
        ("2026-12-17", "today: must be a date or None; got '2026-12-17'"),
    ],
)
def test_a_bad_today_names_the_argument(course: Plan, today: Any, error: str) -> None:
    with pytest.raises(InputError, match=re.escape(error)):
        timeline_svg(course, today=today)
    with pytest.raises(InputError, match=re.escape(error)):
        timeline_html(course, today=today)


def test_a_date_out_of_range_is_a_limit() -> None:
    made = Plan.model_validate_json((DATA / "course.json").read_text(encoding="utf-8"))
    with pytest.raises(LimitError, match="today"):
        timeline_svg(made, today=dt.date(1, 1, 1))
    with pytest.raises(InputError, match="plan: must be a Plan"):
        timeline_svg("plan.json")  # type: ignore[arg-type]


def test_text_alternatives_and_a_legend(course: Plan) -> None:
    root = parsed(timeline_svg(course, today=TODAY))
    assert root.get("role") == "img"
    assert (root.get("aria-label") or "").startswith(
        "Treatment timeline of iv-ketamine-standard for p-rich: 14 appointments from Tue 1 Dec "
        "2026 to Mon 29 Mar 2027, in phases intake, induction, maintenance; 2 moved"
    )
    assert root[0].tag == f"{SVG}title"
    assert root[1].tag == f"{SVG}desc"
    legend = [t.text for g in root.iter(f"{SVG}g") if "legend-item" in classes(g)
              for t in g.iter(f"{SVG}text")]  # fmt: skip
    for words in ("dose", "review", "attended", "missed", "cancelled", "medication hold", "today"):
        assert words in legend


# -- escaping and self-containment -------------------------------------------------------------

HOSTILE = '<script>alert("x")</script> & \x01 \u202e'


def hostile_plan() -> Plan:
    """The course with hostile text in every field the drawing shows."""
    data = json.loads((DATA / "course.json").read_text(encoding="utf-8"))
    data["patient"] = HOSTILE
    data["protocol"] = HOSTILE
    data["notes"] = [HOSTILE]
    first = data["appointments"][0]
    renamed = first["id"]
    first.update(id=HOSTILE, phase=HOSTILE, name=HOSTILE, reason=HOSTILE, target="2026-12-02")
    for task in data["tasks"]:
        task["title"] = HOSTILE
        if task.get("appointment") == renamed:  # a task names an appointment of the plan
            task["appointment"] = HOSTILE
    for appointment in data["appointments"]:
        for instruction in appointment["instructions"]:
            instruction["text"] = HOSTILE
    return Plan.model_validate(data)


def self_contained(markup: str) -> None:
    """No script, nothing fetched: every reference is to the file itself."""
    assert "<script" not in markup.lower()
    assert "@import" not in markup
    assert set(re.findall(r"url\(([^)]*)\)", markup)) <= {"#kp-hatch", "#kp-arrow"}
    assert set(re.findall(r'href="([^"]*)"', markup)) <= {f"#kp-{k}" for k in (
        "dosing", "consultation", "review", "integration", "preparation", "call")}  # fmt: skip
    assert not re.search(r"\b(src|srcset|action|xlink:href)=", markup)


def test_hostile_labels_are_escaped_in_the_svg_and_the_page() -> None:
    made = hostile_plan()
    svg = timeline_svg(made, today=TODAY)
    root = parsed(svg)  # well formed: the control character is replaced
    assert not list(root.iter(f"{SVG}script"))
    shown = '<script>alert("x")</script> & \ufffd \u202e'
    assert title_of(sessions(root)[0]).startswith(f"{shown}: {shown} (consultation)")
    bands = [title_of(g) for g in root.iter(f"{SVG}g") if "phase" in classes(g)]
    assert bands[0].startswith(f"Phase {shown}: ")
    self_contained(svg)
    page = timeline_html(made)
    found = Page(page)
    assert found.problems == []
    assert "script" not in found.tags
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; \ufffd" in page
    assert shown in "".join(found.text)
    self_contained(page)


# -- bounded -----------------------------------------------------------------------------------


def many_sessions(count: int, *, every_days: int = 3) -> Plan:
    """The course's first session repeated ``count`` times, ``every_days`` apart."""
    data = json.loads((DATA / "course.json").read_text(encoding="utf-8"))
    first = data["appointments"][1]
    start = dt.datetime.fromisoformat(first["start"])
    length = dt.datetime.fromisoformat(first["end"]) - start
    appointments = []
    for n in range(count):
        at = start + dt.timedelta(days=n * every_days)
        day = at.date()
        appointments.append({**first, "id": f"s-{n}", "start": at.isoformat(),
                             "end": (at + length).isoformat(), "instructions": [],
                             "target": day.isoformat(), "earliest": day.isoformat(),
                             "latest": (day + dt.timedelta(days=2)).isoformat()})  # fmt: skip
    data.update(appointments=appointments, tasks=[], until=(day + dt.timedelta(days=9)).isoformat())
    return Plan.model_validate(data)


def test_hundreds_of_sessions_wrap_into_strips_of_bounded_width() -> None:
    made = many_sessions(600)
    svg = timeline_svg(made)
    root = parsed(svg)
    assert len(sessions(root)) == 600
    strips = [g for g in root.iter(f"{SVG}g") if "strip" in classes(g)]
    months = {(a.local_date.year, a.local_date.month) for a in made.appointments}
    assert len(strips) == -(-len(months) // MONTHS_PER_STRIP)
    assert int(root.get("width", "0")) <= 104 + 92 * 12 + 24
    assert len(svg) < 1_500 * 600  # linear in the sessions


def test_a_pause_of_years_is_skipped_not_drawn() -> None:
    """Two sessions far apart draw two short strips and a note, not the years between."""
    data = json.loads((DATA / "course.json").read_text(encoding="utf-8"))
    last = data["appointments"][-1]
    far = {**last, "id": "far", "start": "2199-03-29T09:00:00-04:00",
           "end": "2199-03-29T10:25:00-04:00", "target": "2199-03-29", "earliest": "1900-01-01",
           "latest": "2200-12-31", "instructions": []}  # fmt: skip
    data["appointments"].append(far)
    svg = timeline_svg(Plan.model_validate(data))
    root = parsed(svg)
    strips = [g for g in root.iter(f"{SVG}g") if "strip" in classes(g)]
    assert len(strips) == 3
    (note,) = [t for t in root.iter(f"{SVG}text") if "skipped" in classes(t)]
    assert note.text == "Nothing planned from Apr 2027 to Feb 2199 (not drawn)"
    assert len(svg) < 60_000


# -- the clinic's week -------------------------------------------------------------------------

WEEK = dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def week_plans() -> list[Plan]:
    """Five patients: four IV plans at 09:00 in four chairs, an esketamine plan after them."""
    return clinic_day(*((f"p-{n}", "iv-ketamine-mwf") for n in range(4)), ("p-4", "esketamine-trd"))


def test_the_week_is_a_sheet_per_day(week_plans: list[Plan]) -> None:
    week = run_week(week_plans, start=WEEK, clinic=demo_clinic())
    assert [sheet.day for sheet in week.days] == [WEEK + dt.timedelta(days=n) for n in range(7)]
    for sheet in week.days:
        assert sheet == run_sheet(week_plans, day=sheet.day, clinic=demo_clinic())
    assert week.end == dt.date(2026, 12, 13)
    assert len(week.sessions) == sum(len(sheet.sessions) for sheet in week.days)
    assert week.over_ratio == tuple(s for sheet in week.days for s in sheet.over_ratio)


@pytest.mark.parametrize(
    ("days", "error"),
    [(0, "days: must be a whole number of days from 1 to 31; got 0"),
     (32, "days: must be a whole number of days from 1 to 31; got 32"),
     (True, "days: must be a whole number of days from 1 to 31; got True")],
)  # fmt: skip
def test_a_bad_number_of_days_names_the_argument(
    week_plans: list[Plan], days: Any, error: str
) -> None:
    with pytest.raises(InputError, match=re.escape(error)):
        run_week(week_plans, start=WEEK, days=days)


def test_the_week_page_draws_each_day_on_the_same_hours(week_plans: list[Plan]) -> None:
    week = run_week(week_plans, start=WEEK, clinic=demo_clinic())
    page = runsheet_html(week)
    assert Page(page).problems == []
    assert re.findall(r'<section class="day"><h2>([^<]+)</h2>', page) == [
        "Mon 7 Dec 2026", "Tue 8 Dec 2026", "Wed 9 Dec 2026", "Thu 10 Dec 2026",
        "Fri 11 Dec 2026", "Sat 12 Dec 2026", "Sun 13 Dec 2026",
    ]  # fmt: skip
    axes = re.findall(r'<div class="timeline" style="--hours:(\d+)">\n<div></div><div '
                      r'class="axis"><span class="tick first" [^>]*>(\d\d:\d\d)', page)  # fmt: skip
    busy = [sheet for sheet in week.days if sheet.lanes]
    assert len(axes) == len(busy) >= 3
    assert len(set(axes)) == 1  # every day from the same hour, as long
    assert page.count('class="block"') == len(week.sessions)
    for session in week.sessions:
        assert f'<td class="kind">{session.appointment}</td>' in page
    assert page.count("<p>No sessions") == 7 - len(busy)
    assert page.count("No sessions: clinic closed on S") == 2  # Saturday and Sunday


# -- in a real browser -------------------------------------------------------------------------


def pictures(course: Plan, week_plans: list[Plan]) -> dict[str, tuple[str, set[str]]]:
    """Each kind of file, with the appointments it must list."""
    ids = {a.id for a in course.appointments}
    week = run_week(week_plans, start=WEEK, clinic=demo_clinic())
    day = run_sheet(week_plans, day=WEEK, clinic=demo_clinic())
    return {
        "timeline.svg": (timeline_svg(course, today=TODAY), ids),
        "timeline.html": (timeline_html(course, today=TODAY), ids),
        "week.html": (runsheet_html(week), {s.appointment for s in week.sessions}),
        "day.html": (runsheet_html(day), {s.appointment for s in day.sessions}),
    }


@pytest.mark.parametrize("name", ["timeline.svg", "timeline.html", "week.html", "day.html"])
def test_chromium_renders_each_file(
    tmp_path: Path, course: Plan, week_plans: list[Plan], name: str
) -> None:
    """Chromium opens the file with no console message and no parse error, draws something
    (the screenshot's grey levels vary), and its DOM lists every appointment."""
    markup, expected = pictures(course, week_plans)[name]
    page = tmp_path / name
    page.write_text(markup, encoding="utf-8")
    seen = render(page)
    assert seen.console == []
    assert "parsererror" not in seen.dom
    assert spread(seen.shot) > 20
    for appointment in expected:
        assert appointment in seen.dom


def test_a_blank_page_has_no_spread(tmp_path: Path) -> None:
    """The measure the tests above rely on: an empty page does not pass for a drawing."""
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    assert spread(render(page).shot) == 0


# -- the screenshots in docs/integration.md ----------------------------------------------------

SCREENSHOTS = {
    "timeline.png": ("timeline.svg", (1240, 700)),
    "runsheet-week.png": ("week.html", (1280, 1100)),
}


@pytest.mark.parametrize("image", sorted(SCREENSHOTS))
def test_the_docs_screenshots(
    tmp_path: Path, course: Plan, week_plans: list[Plan], image: str
) -> None:
    """docs/images/*.png are made here: KETAPLAN_REGENERATE_GOLDEN=1 writes them again (as small
    palette PNGs); otherwise each must exist, be a PNG of the size made, and stay small."""
    target = IMAGES / image
    source, size = SCREENSHOTS[image]
    if REGENERATE:
        page = tmp_path / source
        page.write_text(pictures(course, week_plans)[source][0], encoding="utf-8")
        with Image.open(render(page, size=size).shot) as shot:
            small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
            IMAGES.mkdir(exist_ok=True)
            small.save(target, optimize=True)
    with Image.open(target) as saved:
        assert saved.format == "PNG"
        assert saved.size == size
    assert target.stat().st_size < 150_000


# -- the command line --------------------------------------------------------------------------


def test_export_writes_the_svg_and_the_page(tmp_path: Path) -> None:
    source = DATA / "course.json"
    svg, page = tmp_path / "course.svg", tmp_path / "course.html"
    done = ketaplan(
        "export", str(source), "--format", "svg", "--today", "2026-12-17", "-o", str(svg)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {svg}\n"
    course = Plan.model_validate_json(source.read_text(encoding="utf-8"))
    assert svg.read_text(encoding="utf-8") == timeline_svg(course, today=TODAY) + "\n"
    done = ketaplan("export", str(source), "--format", "html", "-o", str(page))
    assert done.returncode == 0, done.stderr
    assert page.read_text(encoding="utf-8") == timeline_html(course) + "\n"


def test_plan_draws_what_it_planned(tmp_path: Path) -> None:
    out = tmp_path / "plan.svg"
    args = ["plan", "esketamine-trd", "--start", "2026-12-01", "--clinic", "demo",
            "--now", "2026-11-21T09:00", "--plan-id", "p-1"]  # fmt: skip
    done = ketaplan(*args, "--format", "svg", "-o", str(out))
    assert done.returncode == 0, done.stderr
    made = ketaplan(*args, "--format", "json")
    expected = Plan.model_validate_json(made.stdout)
    assert out.read_text(encoding="utf-8") == timeline_svg(expected) + "\n"
    shown = ketaplan(*args, "--format", "html")
    assert shown.stdout == timeline_html(expected) + "\n"


def test_runsheet_week_writes_the_page(tmp_path: Path, week_plans: list[Plan]) -> None:
    files = []
    for made in week_plans:
        path = tmp_path / f"{made.id}.json"
        path.write_text(made.model_dump_json(), encoding="utf-8")
        files.append(str(path))
    out = tmp_path / "week.html"
    done = ketaplan("runsheet", *files, "--week", "2026-12-07", "--format", "html", "-o", str(out))
    week = run_week(week_plans, start=WEEK, clinic=demo_clinic())
    assert done.returncode == (1 if week.over_ratio else 0), done.stderr
    assert out.read_text(encoding="utf-8") == runsheet_html(week) + "\n"
    three = ketaplan("runsheet", *files, "--date", "2026-12-07", "--days", "3")
    assert three.stdout.count("Run sheet for ") == 3


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["export", "{course}", "--format", "svg", "--today", "2026-02-30"],
         "argument --today: must be a date YYYY-MM-DD; got '2026-02-30'"),
        (["export", "{missing}", "--format", "html"], "missing.json"),
        (["plan", "esketamine-trd", "--start", "2026-12-01", "--first-available", "--options",
          "2", "--format", "svg"], "--format: must be table or json with --options above 1"),
        (["runsheet", "{course}", "--week", "2026-12-07", "--days", "0"],
         "--days: must be a whole number of days from 1 to 31; got 0"),
        (["runsheet", "{course}", "--week", "2026-12-07", "--date", "2026-12-07"],
         "argument --date: not allowed with argument --week"),
    ],
)  # fmt: skip
def test_user_errors_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    where = {"course": str(DATA / "course.json"), "missing": str(tmp_path / "missing.json")}
    done = ketaplan(*(arg.format(**where) for arg in args))
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_the_course_file_is_what_the_docstring_says(course: Plan) -> None:
    """The fixture's statuses and moves, so the tests above test what they claim."""
    statuses = Counter(a.status for a in course.appointments)
    assert statuses == {"attended": 2, "missed": 1, "cancelled": 2, "planned": 9}
    assert [a.id for a in course.appointments if a.moved] == ["induction-4", "induction-6"]
    assert any(a.provisional for a in course.appointments)
    assert load_protocol(course.protocol).id == "iv-ketamine-standard"
