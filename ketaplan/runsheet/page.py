"""The run sheet as a printable HTML page: one self-contained file, no script, nothing fetched.

At the top, one row per chair and room on a time axis, each session a block with its patient's
id and a bar of its steps (check-in, dosing, monitoring), checkpoints at a moment as ticks, and
a row of the patients under monitoring, red where the staff ratio is exceeded. Below, each
chair's and room's steps as a list. Every text that comes from a file (ids, names, labels) is
escaped. Positions are real elapsed time, so a day the clocks change reads right.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import NamedTuple

from ketaplan._model import expect
from ketaplan._text import fmt_day, quantity
from ketaplan.pictures.document import capital, footer, html_page, text
from ketaplan.runsheet.model import (
    Lane,
    RunSession,
    RunSheet,
    RunStep,
    RunWeek,
    StaffLoad,
    in_order,
    instant,
)
from ketaplan.timing import elapsed_hours, resolve, shift, zone

__all__ = ["runsheet_html"]

#: Steps drawn in a session's bar (checkpoints are ticks; the discharge is the bar's end).
_BAR = ("check-in", "dosing", "monitoring", "session")

#: How often the axis is labelled: every hour up to 14 hours long, then every 2 or 3 hours.
_LABEL_EVERY = ((14, 1), (28, 2), (1_000, 3))

_STYLE = """
:root { --check-in: #c3c9d1; --dosing: #2f6db5; --monitoring: #93bbe8; --session: #8cc08a; }
.timeline { display: grid; grid-template-columns: var(--label) 1fr; row-gap: 4px; }
.name { font-weight: 600; align-self: center; }
.axis { position: relative; height: 1.3em; }
.tick { position: absolute; transform: translateX(-50%); font-size: .75em; color: var(--muted);
  white-space: nowrap; font-variant-numeric: tabular-nums; }
.tick.first { transform: none; } .tick.last { transform: translateX(-100%); }
.track { position: relative; height: calc(2.7em * var(--rows, 1)); border-radius: 3px;
  border: 1px solid var(--line);
  background-image: linear-gradient(to right, var(--line) 1px, transparent 1px);
  background-size: calc(100% / var(--hours)) 100%; }
.block { position: absolute; height: calc(2.7em - 6px); background: #fff; border: 1px solid #6f7882;
  border-radius: 3px; overflow: hidden; }
.who { font-size: .78em; font-weight: 600; padding: 0 4px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.bar { position: absolute; left: 0; right: 0; bottom: 0; height: 9px; }
.seg { position: absolute; top: 0; bottom: 0; }
.check-in { background: var(--check-in); } .dosing { background: var(--dosing); }
.monitoring { background: var(--monitoring); } .session { background: var(--session); }
.mark { position: absolute; bottom: 0; height: 13px; width: 2px; margin-left: -1px;
  background: var(--ink); }
.stretch { position: absolute; top: 3px; bottom: 3px; background: #dde7f3;
  border-left: 1px solid #fff;
  font-size: .78em; text-align: center; line-height: 2.3em; overflow: hidden;
  white-space: nowrap; font-variant-numeric: tabular-nums; }
.stretch.over, td.over { background: var(--over); color: #fff; font-weight: 700; }
.day { break-inside: avoid; }
.legend { display: flex; flex-wrap: wrap; gap: 1.2em; font-size: .85em; color: var(--muted);
  margin: .5em 0 0 var(--label); }
.swatch { display: inline-block; width: 1.4em; height: .7em; margin-right: .35em;
  vertical-align: middle; border-radius: 2px; }
.swatch.mark { position: static; display: inline-block; width: 2px; height: 1em; margin: 0 .5em;
  vertical-align: middle; }
td.time { white-space: nowrap; width: 10em; }
td.who-cell, td.count { white-space: nowrap; width: 8em; }
tr.head td { font-weight: 600; border-top: 1px solid var(--line); padding-top: 6px; }
td.kind { color: var(--muted); width: 7em; white-space: nowrap; }
td.check { font-weight: 600; color: var(--dosing); }
"""


class _Axis(NamedTuple):
    """The time axis: from a whole local hour, a whole number of real hours long."""

    start: dt.datetime
    hours: int

    @classmethod
    def of(cls, sheet: RunSheet) -> _Axis:
        sessions = sheet.sessions
        first = min(instant(s.start) for s in sessions).astimezone(zone(sheet.time_zone))
        last = max(instant(s.end) for s in sessions)
        start = first.replace(minute=0, second=0, microsecond=0)
        return cls(start, max(1, math.ceil(elapsed_hours(start, last))))

    @classmethod
    def for_days(cls, sheets: Sequence[RunSheet]) -> dict[dt.date, _Axis]:
        """An axis for each day with sessions, all over the same hours of the clock.

        From the earliest whole hour any of the days starts at to the latest hour any ends at,
        so the days line up one under the other; a day whose clocks change is an hour longer or
        shorter in real time, and still holds its sessions.
        """
        own = {sheet.day: cls.of(sheet) for sheet in sheets if sheet.lanes}
        if not own:
            return {}
        local = zone(sheets[0].time_zone)
        opens = min(axis.start.hour for axis in own.values())
        closes = max(axis.start.hour + axis.hours for axis in own.values())
        found = {}
        for day, axis in own.items():
            start = min(resolve(day, dt.time(opens), local), axis.start)
            end = max(shift(start, hours=closes - opens), shift(axis.start, hours=axis.hours))
            found[day] = cls(start, max(1, math.ceil(elapsed_hours(start, end))))
        return found

    def at(self, moment: dt.datetime) -> float:
        """Where ``moment`` falls, in percent of the axis."""
        return 100 * elapsed_hours(self.start, moment) / self.hours

    def ticks(self) -> list[dt.datetime]:
        """Every real hour of the axis (labelled every hour, or every 2 or 3 on a long day)."""
        step = next(every for hours, every in _LABEL_EVERY if self.hours <= hours)
        return [shift(self.start, hours=h) for h in range(0, self.hours + 1, step)]


def runsheet_html(sheet: RunSheet | RunWeek, /) -> str:
    """The run sheet of a day, or of days in a row, as a printable self-contained HTML page.

    One file, inline CSS, no script; a :class:`RunWeek` gives days in a row.
    A week's page draws each day's chairs and rooms on the same hours of the clock, with the
    staff load under each day, and lists each day's sessions.
    """
    expect("sheet", sheet, (RunSheet, RunWeek), "a RunSheet or a RunWeek (run_sheet, run_week)")
    if isinstance(sheet, RunWeek):
        return _week_page(sheet)
    title = f"Run sheet {fmt_day(sheet.day)}, {sheet.clinic_name}"
    body = [_header(sheet)]
    if sheet.lanes:
        axis = _Axis.of(sheet)
        body += [_timeline(sheet, axis), _legend()]
        body += [_lane_list(sheet, lane) for lane in sheet.lanes]
        body.append(_load_list(sheet))
    else:
        body.append(f"<p>{text(sheet.closed_note or 'No sessions at the clinic on this day.')}</p>")
    if sheet.history:
        body.append(_history_list(sheet))
    body.append(footer(sheet.time_zone))
    return html_page(title, body, style=_STYLE)


def _header(sheet: RunSheet | RunWeek) -> str:
    """The heading, what the page shows, and a note or alert: of a day, or of days in a row."""
    days = sheet.days if isinstance(sheet, RunWeek) else (sheet,)
    first = days[0]
    count = len(sheet.sessions)
    patients = {session.patient for session in sheet.sessions}
    meta = [
        f"{text(first.clinic_name)} ({text(first.clinic)})",
        f"times in {text(first.time_zone)}",
        f"{quantity(count, 'session')}, {quantity(len(patients), 'patient')}",
    ]
    if first.monitoring_staff is None or first.patients_per_staff is None:
        meta.append("monitoring staff unknown (no clinic given)")
    else:
        meta.append(
            f"monitoring: {first.monitoring_staff} staff, at most "
            f"{quantity(first.patients_per_staff, 'patient')} each"
        )
    heading = fmt_day(first.day)
    if len(days) > 1:
        heading += f" to {fmt_day(days[-1].day)}"
    parts = [
        f"<header><h1>Run sheet: {text(heading)}</h1>",
        f'<p class="meta">{" &middot; ".join(meta)}</p></header>',
    ]
    changes = [day for day in days if day.offset_changes]
    if changes:
        when = "today" if len(days) == 1 else "on " + ", ".join(fmt_day(d.day) for d in changes)
        parts.append(
            f'<p class="note">The clocks change {text(when)}: times show their zone\'s '
            "abbreviation.</p>"
        )
    if len(days) == 1 and days[0].lanes:
        parts += _closed_alert(days[0])
    over = [(day, stretch) for day in days for stretch in day.over_ratio]
    if over:
        spans = ", ".join(
            f"{text(_span(day, s.start, s.end, dated=len(days) > 1))} "
            f"({quantity(s.patients, 'patient')})"
            for day, s in over
        )
        parts.append(
            f'<p class="alert"><strong>Over the monitoring ratio</strong> (at most '
            f"{over[0][1].capacity} at once): {spans}.</p>"
        )
    return "\n".join(parts)


def _closed_alert(sheet: RunSheet) -> list[str]:
    """Sessions on a day the clinic is closed: an alert naming the closure."""
    note = sheet.closed_note
    return [f'<p class="alert">{text(note)}</p>'] if note and sheet.lanes else []


def _span(sheet: RunSheet, start: dt.datetime, end: dt.datetime, *, dated: bool = False) -> str:
    """``09:00\u201310:30`` on the sheet's clock; ``dated``: after the day's short name."""
    span = f"{sheet.clock(start)}\u2013{sheet.clock(end)}"
    return f"{sheet.day:%a} {sheet.day.day} {span}" if dated else span


def _timeline(sheet: RunSheet, axis: _Axis) -> str:
    local = zone(sheet.time_zone)
    every = axis.ticks()
    ticks = "".join(
        f'<span class="tick{" first" * (n == 0)}{" last" * (n == len(every) - 1)}" '
        f'style="left:{axis.at(t):.3f}%">{t.astimezone(local):%H:%M}{_abbreviation(sheet, t)}'
        "</span>"
        for n, t in enumerate(every)
    )
    rows = [f'<div class="timeline" style="--hours:{axis.hours}">',
            f'<div></div><div class="axis">{ticks}</div>']  # fmt: skip
    for lane in sheet.lanes:
        stacked = _stacked(lane)
        blocks = "".join(_block(sheet, axis, session, row) for session, row in stacked)
        rows.append(
            f'<div class="name">{text(capital(lane.label))}</div><div class="track" style="--rows:'
            f'{1 + max(row for _, row in stacked)}">{blocks}</div>'
        )
    stretches = "".join(_stretch(sheet, axis, stretch) for stretch in sheet.load)
    rows.append(f'<div class="name">Monitoring</div><div class="track">{stretches}</div>')
    rows.append("</div>")
    return "\n".join(rows)


def _abbreviation(sheet: RunSheet, moment: dt.datetime) -> str:
    return f" {moment.astimezone(zone(sheet.time_zone)).tzname()}" if sheet.offset_changes else ""


def _stacked(lane: Lane) -> list[tuple[RunSession, int]]:
    """Each session with the row of the lane it is drawn in: the first row free at its start.

    So sessions that overlap (a double booking ``check`` reports) stay readable.
    """
    ends: list[dt.datetime] = []
    placed = []
    for session in lane.sessions:
        start = instant(session.start)
        row = next((n for n, end in enumerate(ends) if end <= start), len(ends))
        if row == len(ends):
            ends.append(start)
        ends[row] = instant(session.end)
        placed.append((session, row))
    return placed


def _block(sheet: RunSheet, axis: _Axis, session: RunSession, row: int) -> str:
    left, right = axis.at(session.start), axis.at(session.end)
    length = elapsed_hours(session.start, session.end) or 1.0

    def inside(moment: dt.datetime) -> float:
        return 100 * elapsed_hours(session.start, moment) / length

    segments = "".join(
        f'<span class="seg {step.kind}" style="left:{inside(step.at):.3f}%;'
        f'width:{inside(step.until) - inside(step.at):.3f}%"></span>'
        for step in session.steps
        if step.kind in _BAR and step.until is not None
    )
    marks = "".join(
        f'<span class="mark" style="left:{inside(step.at):.3f}%"></span>'
        for step in session.steps
        if step.kind == "checkpoint" and step.until is None
    )
    title = f"{session.patient} {session.appointment}: {session.name}, " + _span(
        sheet, session.start, session.end
    )
    return (
        f'<div class="block" style="left:{left:.3f}%;width:{right - left:.3f}%;'
        f'top:calc(2.7em * {row} + 3px)" '
        f'title="{text(title)}"><div class="who">{text(session.patient)} &middot; '
        f'{text(session.appointment)}</div><div class="bar">{segments}{marks}</div></div>'
    )


def _stretch(sheet: RunSheet, axis: _Axis, stretch: StaffLoad) -> str:
    left, right = axis.at(stretch.start), axis.at(stretch.end)
    shown = f"{stretch.patients}/{stretch.capacity}" if stretch.capacity is not None else ""
    title = f"{_span(sheet, stretch.start, stretch.end)}: {stretch.patients} under monitoring"
    if stretch.capacity is not None:
        title += f", at most {stretch.capacity}"
    return (
        f'<div class="stretch{" over" * stretch.over}" style="left:{left:.3f}%;'
        f'width:{right - left:.3f}%" title="{text(title)}">{text(shown or stretch.patients)}</div>'
    )


def _legend() -> str:
    swatches = "".join(f'<span><span class="swatch {kind}"></span>{kind}</span>' for kind in _BAR)
    return (
        f'<div class="legend">{swatches}<span><span class="swatch mark"></span>checkpoint'
        '</span><span><span class="swatch" style="background:#dde7f3"></span>under monitoring '
        '(patients/at most)</span><span><span class="swatch" style="background:var(--over)">'
        "</span>over the ratio</span></div>"
    )


def _lane_list(sheet: RunSheet, lane: Lane) -> str:
    rows = []
    for session in lane.sessions:
        rows.append(
            f'<tr class="head"><td class="time">{text(_span(sheet, session.start, session.end))}'
            f'</td><td class="who-cell">{text(session.patient)}</td><td class="kind">'
            f"{text(session.appointment)}</td><td>{text(_what(session))}</td></tr>"
        )
        rows += [_step_row(sheet, step) for step in session.steps]
    return (
        f'<section class="lane"><h2>{text(capital(lane.label))}</h2><table><thead><tr><th>Time</th>'
        "<th>Patient</th><th>Step</th><th></th></tr></thead><tbody>"
        + "\n".join(rows)
        + "</tbody></table></section>"
    )


def _what(session: RunSession) -> str:
    """The session's name, its dose number, and its status unless planned."""
    what = session.name + (f", dose {session.dose_number}" if session.dose_number else "")
    return what if session.status == "planned" else f"{what} ({session.status})"


def _step_row(sheet: RunSheet, step: RunStep) -> str:
    when = sheet.clock(step.at) if step.until is None else _span(sheet, step.at, step.until)
    check = step.kind == "checkpoint"
    return (
        f'<tr><td class="time">{text(when)}</td><td></td><td class="kind{" check" * check}">'
        f"{'check' * check}</td><td>{text(step.label)}</td></tr>"
    )


def _history_list(sheet: RunSheet) -> str:
    rows = [
        f'<tr><td class="time">{text(sheet.clock(event.start))}</td><td>{text(event.patient)}</td>'
        f"<td>{text(event.appointment)}</td><td>{text(event.what)}</td></tr>"
        for event in sheet.history
    ]
    return (
        '<section class="lane"><h2>Not taking place</h2><table><thead><tr><th>Time</th>'
        "<th>Patient</th><th>Session</th><th></th></tr></thead><tbody>"
        + "\n".join(rows)
        + "</tbody></table></section>"
    )


def _load_list(sheet: RunSheet) -> str:
    rows = []
    for stretch in sheet.load:
        per = f"{stretch.per_staff:.1f}" if stretch.per_staff is not None else "-"
        flag = f"over: at most {stretch.capacity}" if stretch.over else ""
        rows.append(
            f'<tr><td class="time">{text(_span(sheet, stretch.start, stretch.end))}</td>'
            f'<td class="count">{stretch.patients}</td><td class="count">{per}</td>'
            f'<td class="{"over" if stretch.over else ""}">{text(flag)}</td></tr>'
        )
    if not rows:
        rows.append('<tr><td colspan="4">Nobody under monitoring.</td></tr>')
    return (
        '<section class="lane"><h2>Patients under monitoring</h2><table><thead><tr>'
        "<th>Time</th><th>Patients</th><th>Per staff member</th><th></th></tr></thead><tbody>"
        + "\n".join(rows)
        + "</tbody></table></section>"
    )


# -- days in a row -----------------------------------------------------------------------------


def _week_page(week: RunWeek) -> str:
    """Each day's chairs and rooms and staff load on one axis of the clock, then its sessions."""
    first = week.days[0]
    title = f"Run sheet {fmt_day(week.start)} to {fmt_day(week.end)}, {first.clinic_name}"
    body = [_header(week)]
    axes = _Axis.for_days(week.days)
    if axes:
        body.append(_legend())
    for sheet in week.days:
        body.append(f'<section class="day"><h2>{text(fmt_day(sheet.day))}</h2>')
        axis = axes.get(sheet.day)
        if axis is None:
            body.append(f"<p>{text(sheet.closed_note or 'No sessions at the clinic.')}</p>")
        else:
            body += [*_closed_alert(sheet), _timeline(sheet, axis), _session_list(sheet)]
        if sheet.history:
            body.append(_history_list(sheet))
        body.append("</section>")
    body.append(footer(first.time_zone))
    return html_page(title, body, style=_STYLE)


def _session_list(sheet: RunSheet) -> str:
    """The day's sessions in time order, one row each: time, chair or room, patient, session."""
    placed = sorted(
        ((session, lane) for lane in sheet.lanes for session in lane.sessions),
        key=lambda item: in_order(item[0]),
    )
    rows = [
        f'<tr><td class="time">{text(_span(sheet, session.start, session.end))}</td>'
        f'<td class="who-cell">{text(capital(lane.label))}</td><td class="who-cell">'
        f'{text(session.patient)}</td><td class="kind">{text(session.appointment)}</td>'
        f"<td>{text(_what(session))}</td></tr>"
        for session, lane in placed
    ]
    return (
        '<table class="sessions"><thead><tr><th>Time</th><th>Where</th><th>Patient</th>'
        "<th>Session</th><th></th></tr></thead><tbody>" + "\n".join(rows) + "</tbody></table>"
    )
