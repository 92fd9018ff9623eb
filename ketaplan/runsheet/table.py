"""The run sheet as text for a terminal or a printer: lane by lane, then the staff load."""

from __future__ import annotations

import datetime as dt

from ketaplan._model import expect
from ketaplan._text import fmt_day, quantity
from ketaplan.runsheet.model import RunSession, RunSheet, RunStep, StaffLoad

__all__ = ["runsheet_table"]


def runsheet_table(sheet: RunSheet, /) -> str:
    """The run sheet as text for a terminal or a printer.

    A heading, each chair and room with its sessions' steps in time order, then the patients
    under monitoring against the staff ratio, the stretches over it marked ``OVER``.
    """
    expect("sheet", sheet, RunSheet, "a RunSheet (run_sheet gives one; a RunWeek is drawn by "
           "runsheet_html)")  # fmt: skip
    heading = (
        f"Run sheet for {fmt_day(sheet.day)} at {sheet.clinic_name} ({sheet.clinic}), "
        f"times in {sheet.time_zone}"
    )
    lines = [heading, _summary(sheet)]
    if sheet.offset_changes:
        lines.append("The clocks change today: times show their zone's abbreviation.")
    if not sheet.lanes:
        empty = sheet.closed_note or "No sessions at the clinic on this day."
        return "\n".join([*lines, "", empty, *_history_lines(sheet)])
    if sheet.closed_note is not None:
        lines.append(sheet.closed_note)
    for lane in sheet.lanes:
        lines += ["", lane.label.upper()]
        for session in lane.sessions:
            lines += _session_lines(sheet, session)
    lines += ["", *_load_lines(sheet)]
    return "\n".join(lines + _history_lines(sheet))


def _history_lines(sheet: RunSheet) -> list[str]:
    """The day's sessions that do not take place: cancellations, late ones, no-shows."""
    if not sheet.history:
        return []
    lines = ["", "NOT TAKING PLACE"]
    for event in sheet.history:
        made = f" (cancelled {sheet.clock(event.cancelled_at)})" if event.cancelled_at else ""
        where = f"{event.patient}  {event.appointment}"
        lines.append(f"  {sheet.clock(event.start)}  {where}: {event.what}{made}")
    return lines


def _summary(sheet: RunSheet) -> str:
    count = len(sheet.sessions)
    text = f"{quantity(count, 'session')}, {quantity(len(sheet.patients), 'patient')}"
    if sheet.monitoring_staff is None or sheet.patients_per_staff is None:
        return text + "; monitoring staff unknown (no clinic given)"
    return text + (
        f"; monitoring: {sheet.monitoring_staff} staff, at most "
        f"{quantity(sheet.patients_per_staff, 'patient')} each"
    )


def _session_lines(sheet: RunSheet, session: RunSession) -> list[str]:
    what = session.name + (f", dose {session.dose_number}" if session.dose_number else "")
    status = "" if session.status == "planned" else f" [{session.status}]"
    head = f"  {_span(sheet, session.start, session.end)}  {session.patient}  "
    lines = [f"{head}{session.appointment}: {what}{status}"]
    whens = [_when(sheet, step) for step in session.steps]
    width = max(map(len, whens), default=0)
    lines += [
        f"      {when:<{width}}  {_what(step)}"
        for when, step in zip(whens, session.steps, strict=True)
    ]
    return lines


def _when(sheet: RunSheet, step: RunStep) -> str:
    return sheet.clock(step.at) if step.until is None else _span(sheet, step.at, step.until)


def _what(step: RunStep) -> str:
    return f"checkpoint: {step.label}" if step.kind == "checkpoint" else step.label


def _span(sheet: RunSheet, start: dt.datetime, end: dt.datetime) -> str:
    return f"{sheet.clock(start)}-{sheet.clock(end)}"


def _load_lines(sheet: RunSheet) -> list[str]:
    limit = _limit(sheet)
    lines = [f"PATIENTS UNDER MONITORING{limit}"]
    if not sheet.load:
        return [*lines, "  nobody under monitoring"]
    spans = [_span(sheet, stretch.start, stretch.end) for stretch in sheet.load]
    width = max(map(len, spans))
    lines += [
        _load_line(span.ljust(width), stretch)
        for span, stretch in zip(spans, sheet.load, strict=True)
    ]
    over = len(sheet.over_ratio)
    if sheet.monitoring_staff is not None:
        lines.append(f"{over} stretch(es) over the ratio" if over else "never over the ratio")
    return lines


def _limit(sheet: RunSheet) -> str:
    if sheet.monitoring_staff is None or sheet.patients_per_staff is None:
        return ""
    capacity = sheet.monitoring_staff * sheet.patients_per_staff
    return (
        f" (at most {capacity} at once: {sheet.monitoring_staff} staff x "
        f"{sheet.patients_per_staff})"
    )


def _load_line(span: str, stretch: StaffLoad) -> str:
    patients = quantity(stretch.patients, "patient")
    line = f"  {span}  {patients:<11}"
    if stretch.per_staff is not None:
        line += f"  {stretch.per_staff:.1f} per staff member"
    elif stretch.capacity is not None:
        line += "  no monitoring staff"
    if stretch.over:
        line += f"  OVER the ratio (at most {stretch.capacity})"
    return line.rstrip()
