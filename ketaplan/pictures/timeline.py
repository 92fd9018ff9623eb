"""A plan's timeline as SVG, written directly: strips of months, one lane per session window.

Each strip shows whole months: the phases as bands, each session as a mark at its day (its
shape says its kind, its fill and outline its status) over the window it had to land in, with
a tick at the day its rule aimed for; a session that moved has an arrow from that day and a
number that the list of moved sessions below explains; medication holds as bars, staff tasks as
marks at their due days, and today as a dashed line. A legend follows.

Status is told by fill and outline, never by colour alone, so the picture reads printed in
grey: planned is an open mark, attended a solid one, missed a hatched one, cancelled a dashed
outline struck through. Every text from the plan is escaped (:func:`~.document.text`); the
file has no script and fetches nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Literal, NamedTuple

from ketaplan._model import expect, in_range
from ketaplan._text import fmt_day, quantity
from ketaplan._types import SessionCategory
from ketaplan.errors import InputError
from ketaplan.pictures.document import text
from ketaplan.pictures.layout import Layout, Placed, Strip, layout
from ketaplan.plans import Appointment, AppointmentStatus, Plan
from ketaplan.summary import status_word

__all__ = ["KINDS", "STATUSES", "drawing", "laid_out", "summary", "timeline_svg"]

#: Each kind of session: its mark's shape (a path around 0,0), its colour and its legend words.
KINDS: dict[SessionCategory, tuple[str, str, str]] = {
    "dosing": ("M-5.5,0a5.5,5.5 0 1,0 11,0a5.5,5.5 0 1,0 -11,0z", "#0b5cad", "dose"),
    "consultation": ("M0,-6.5L6.5,0L0,6.5L-6.5,0z", "#8a3f8f", "consultation or evaluation"),
    "review": ("M-5,-5h10v10h-10z", "#b84a00", "review"),
    "integration": ("M0,-6.2L6.5,5.2h-13z", "#0f7a5a", "integration"),
    "preparation": ("M0,6.2L6.5,-5.2h-13z", "#8a6d00", "preparation"),
    "call": ("M-3,-5.5h6l3,5.5l-3,5.5h-6l-3,-5.5z", "#4a5560", "call"),
}

#: How a session looks by its status (and a planned one that is provisional): the fill
#: (``None``: the kind's colour), the outline's dashes, whether it is struck through, and the
#: legend's words.
STATUSES: dict[
    AppointmentStatus | Literal["provisional"], tuple[str | None, str | None, bool, str]
] = {
    "planned": ("#fff", None, False, "planned"),
    "provisional": ("#fff", "1 1.5", False, "provisional (if a decision goes one way)"),
    "attended": (None, None, False, "attended"),
    "missed": ("url(#kp-hatch)", None, False, "missed"),
    "cancelled": ("#fff", "2.5 1.5", True, "cancelled"),
}

_INK, _MUTED, _LINE, _TODAY = "#1d2329", "#5b6570", "#d5dae0", "#b3261e"
_BAND_FILLS = ("#e3ebf4", "#cfdbea")

#: Geometry, in pixels: the label column, a day, a lane, and the tracks of a strip.
_LEFT, _DAY, _RIGHT, _LANE = 104, 12, 24, 24
_AXIS, _PHASES, _HOLDS, _TASKS, _GAP, _SKIP = 30, 22, 16, 20, 26, 20

#: How many task titles a task mark's tooltip names before "and N more".
_TITLES = 8

_STYLE = (
    "text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    f"fill:{_INK}}}.muted{{fill:{_MUTED}}}.small{{font-size:10px}}.label{{font-size:12px;"
    "font-weight:600}.badge{font-size:10px;font-weight:700;paint-order:stroke;stroke:#fff;"
    "stroke-width:3px}"
)


class _Track(NamedTuple):
    """Where a strip's tracks begin, top to bottom, and where it ends."""

    axis: float
    phases: float
    lanes: float
    holds: float
    tasks: float
    bottom: float


def timeline_svg(plan: Plan, /, *, today: dt.date | None = None) -> str:
    """The plan's timeline as a self-contained SVG file (no script, nothing fetched).

    Args:
        plan: the plan to draw.
        today: a day to mark with a line, when it falls on the drawing.

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> from ketaplan.defaults import demo_clinic
    >>> made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 12, 1),
    ...             clinic=demo_clinic(), preferred_time=dt.time(9), until=dt.date(2027, 2, 1),
    ...             now=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    >>> svg = timeline_svg(made, today=dt.date(2026, 12, 20))
    >>> svg.startswith("<svg"), svg.count('class="session ') == len(made.appointments)
    (True, True)
    >>> 'class="today"' in svg
    True
    """
    return drawing(plan, laid_out(plan, today=today), standalone=True)


def laid_out(plan: Plan, /, *, today: dt.date | None) -> Layout:
    """The layout of ``plan``, once its arguments are checked (for the SVG and the page)."""
    expect("plan", plan, Plan, "a Plan")
    if today is not None:
        if isinstance(today, dt.datetime) or not isinstance(today, dt.date):
            raise InputError("today", "a date or None", today)
        in_range("today", today)
    return layout(plan, today=today)


def summary(plan: Plan, lay: Layout) -> str:
    """One sentence that says what the drawing shows (its text alternative)."""
    count = len(lay.sessions)
    words = f"Treatment timeline of {plan.protocol} for {plan.patient or plan.id}"
    if not count:
        return f"{words}: no appointments."
    days = [s.day for s in lay.sessions]
    words += f": {quantity(count, 'appointment')} from {fmt_day(min(days))} to {fmt_day(max(days))}"
    phases = list(dict.fromkeys(s.appointment.phase for s in lay.sessions))
    words += f", in phase{'s' * (len(phases) != 1)} {', '.join(phases)}"
    if lay.moved:
        words += f"; {len(lay.moved)} moved"
    if lay.today is not None:
        words += f"; today is {fmt_day(lay.today)}"
    return words + "."


def drawing(plan: Plan, lay: Layout, *, standalone: bool) -> str:
    """The SVG element of ``lay``.

    ``standalone`` adds a heading and the list of moved sessions (an HTML page shows those as
    HTML).
    """
    width = _LEFT + max((strip.days for strip in lay.strips), default=62) * _DAY + _RIGHT
    parts: list[str] = []
    y = 0.0
    if standalone:
        parts.append(_heading(plan, lay))
        y += 52
    if not lay.strips:
        parts.append(f'<text x="8" y="{_n(y + 20)}">No appointments.</text>')
        y += 32
    for strip in lay.strips:
        markup, y = _strip(strip, lay, y, width)
        parts.append(markup)
    markup, y = _legend(lay, y, width)
    parts.append(markup)
    if standalone and lay.moved:
        markup, y = _captions(lay, y, width)
        parts.append(markup)
    words = summary(plan, lay)
    return "\n".join(
        [
            (
                f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
                f'width="{width}" height="{_n(y + 8)}" viewBox="0 0 {width} {_n(y + 8)}" '
                f'aria-label="{text(words)}" aria-describedby="kp-desc">'
            ),
            f'<title id="kp-title">{text(f"Treatment timeline: {plan.protocol}")}</title>',
            f'<desc id="kp-desc">{text(_description(words, lay))}</desc>',
            _defs(),
            f'<rect class="paper" width="{width}" height="{_n(y + 8)}" fill="#fff"/>',
            *parts,
            "</svg>",
            "",
        ]
    )


def _description(words: str, lay: Layout) -> str:
    return (
        f"{words} Each session is a mark at its day, its shape its kind and its fill its "
        "status, over the window it had to land in; each mark's title gives the details. "
        f"{quantity(len(lay.holds), 'medication hold')} and "
        f"{quantity(len(lay.tasks), 'staff task')} are marked."
    )


def _n(value: float) -> str:
    """A coordinate: at most one decimal, never an exponent."""
    return f"{value:.1f}".removesuffix(".0")


def _defs() -> str:
    shapes = "".join(f'<path id="kp-{kind}" d="{path}"/>' for kind, (path, _, _) in KINDS.items())
    return (
        f"<defs><style>{_STYLE}</style>{shapes}"
        '<pattern id="kp-hatch" width="3" height="3" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="3" height="3" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="3" stroke="{_INK}" stroke-width="1.6"/></pattern>'
        '<marker id="kp-arrow" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="6" '
        f'markerHeight="6" orient="auto"><path d="M0,0L6,3L0,6z" fill="{_INK}"/></marker>'
        "</defs>"
    )


def _heading(plan: Plan, lay: Layout) -> str:
    meta = f"{plan.patient or plan.id} at {plan.clinic_name}, times in {plan.time_zone}"
    if lay.sessions:
        days = [s.day for s in lay.sessions]
        meta += f"; {fmt_day(min(days))} to {fmt_day(max(days))}"
    return (
        f'<g class="heading"><text x="8" y="22" style="font-size:17px;font-weight:700">'
        f"{text(f'Treatment timeline: {plan.protocol} (version {plan.protocol_version})')}"
        f'</text><text x="8" y="41" class="muted">{text(meta)}</text></g>'
    )


def _tracks(strip: Strip, lay: Layout, y: float) -> _Track:
    axis = y + (_SKIP if strip.skipped else 0)
    phases = axis + _AXIS
    lanes = phases + _PHASES
    holds = lanes + strip.lanes * _LANE
    tasks = holds + (_HOLDS if lay.holds else 0)
    return _Track(axis, phases, lanes, holds, tasks, tasks + (_TASKS if lay.tasks else 0))


def _x(strip: Strip, day: dt.date, part: float = 0.5) -> float:
    """The x of ``day`` on ``strip``: its middle, or ``part`` of the way across it."""
    return _LEFT + (strip.offset(day) + part) * _DAY


def _strip(strip: Strip, lay: Layout, y: float, width: int) -> tuple[str, float]:
    """A strip's markup and the y after it."""
    track = _tracks(strip, lay, y)
    parts = [f'<g class="strip" data-first="{strip.first}">']
    if strip.skipped:
        first, last = strip.skipped
        parts.append(
            f'<text class="skipped muted" x="8" y="{_n(y + 14)}">Nothing planned from '
            f"{first:%b %Y} to {last:%b %Y} (not drawn)</text>"
        )
    parts += [_grid(strip, track), _axis(strip, track)]
    parts += _track_labels(lay, track)
    parts += _bands(strip, lay, track.phases)
    parts += [_session(strip, placed, track.lanes + placed.lane * _LANE) for placed in strip.placed]
    parts += _holds(strip, track.holds)
    parts += _tasks(strip, track.tasks)
    if lay.today is not None and strip.shows(lay.today):
        x = _n(_x(strip, lay.today))
        parts.append(
            f'<g class="today"><title>Today, {text(fmt_day(lay.today))}</title><line x1="{x}" '
            f'y1="{_n(track.axis + 14)}" x2="{x}" y2="{_n(track.bottom)}" stroke="{_TODAY}" '
            f'stroke-width="1.6" stroke-dasharray="5 3"/><text x="{_n(float(x) + 3)}" '
            f'y="{_n(track.bottom + 11)}" class="small" style="fill:{_TODAY};font-weight:700">'
            "today</text></g>"
        )
    parts.append("</g>")
    return "\n".join(parts), track.bottom + _GAP


def _grid(strip: Strip, track: _Track) -> str:
    """Weekends shaded, a thin line each Monday and a stronger one at each month's start."""
    top, bottom = track.lanes, track.bottom
    lines = []
    for index in range(strip.days):
        day = strip.first + dt.timedelta(days=index)
        x = _LEFT + index * _DAY
        if day.weekday() == 5:  # noqa: PLR2004 - Saturday: the weekend is two days wide
            lines.append(
                f'<rect x="{x}" y="{_n(top)}" width="{2 * _DAY}" height="{_n(bottom - top)}" '
                'fill="#f3f5f7"/>'
            )
        if day.day == 1 or day.weekday() == 0:
            stroke = "#9aa4ae" if day.day == 1 else _LINE
            lines.append(
                f'<line x1="{x}" y1="{_n(top)}" x2="{x}" y2="{_n(bottom)}" stroke="{stroke}"/>'
            )
    end = _LEFT + strip.days * _DAY
    lines.append(
        f'<rect x="{_LEFT}" y="{_n(track.phases)}" width="{end - _LEFT}" '
        f'height="{_n(bottom - track.phases)}" fill="none" stroke="#9aa4ae"/>'
    )
    return '<g class="grid">' + "".join(lines) + "</g>"


def _axis(strip: Strip, track: _Track) -> str:
    """Each month's name at its first day, and the date of each Monday."""
    labels = []
    for index in range(strip.days):
        day = strip.first + dt.timedelta(days=index)
        x = _LEFT + index * _DAY
        if day.day == 1:
            labels.append(
                f'<text x="{x + 2}" y="{_n(track.axis + 11)}" class="label">{day:%b %Y}</text>'
            )
        if day.weekday() == 0:
            labels.append(
                f'<text x="{x + 1}" y="{_n(track.axis + 25)}" class="small muted">{day.day}</text>'
            )
    return '<g class="axis">' + "".join(labels) + "</g>"


def _track_labels(lay: Layout, track: _Track) -> Iterator[str]:
    rows = [("Phases", track.phases + 15), ("Sessions", track.lanes + 16)]
    if lay.holds:
        rows.append(("Holds", track.holds + 12))
    if lay.tasks:
        rows.append(("Tasks", track.tasks + 14))
    for words, y in rows:
        yield f'<text x="8" y="{_n(y)}" class="small muted track-label">{words}</text>'


def _bands(strip: Strip, lay: Layout, y: float) -> Iterator[str]:
    order = {
        phase: n for n, phase in enumerate(dict.fromkeys(s.appointment.phase for s in lay.sessions))
    }
    for band in strip.bands:
        first = max(band.first, strip.first)
        last = min(band.last, strip.last)
        x, end = _x(strip, first, 0), _x(strip, last, 1)
        fill = _BAND_FILLS[order.get(band.phase, 0) % len(_BAND_FILLS)]
        title = (
            f"Phase {band.phase}: {fmt_day(band.first)} to {fmt_day(band.last)}, "
            f"{quantity(band.sessions, 'session')}"
        )
        label = ""
        if end - x > 7 * len(band.phase) + 8:
            label = (
                f'<text x="{_n(x + 4)}" y="{_n(y + 15)}" class="small">{text(band.phase)}</text>'
            )
        yield (
            f'<g class="phase"><title>{text(title)}</title><rect x="{_n(x)}" y="{_n(y + 3)}" '
            f'width="{_n(end - x)}" height="16" rx="3" fill="{fill}" stroke="#8796a8"/>'
            f"{label}</g>"
        )


def _session(strip: Strip, placed: Placed, y: float) -> str:
    """One session: its window and target behind it, its mark, the move that brought it."""
    session = placed.session
    appointment = session.appointment
    cy = y + _LANE / 2
    x = _x(strip, session.day)
    parts = [f"<title>{text(_session_title(placed))}</title>"]
    if session.window is not None:
        first = max(session.window[0], strip.first)
        last = min(session.window[1], strip.last)
        if first <= last:
            left, right = _x(strip, first, 0) + 1, _x(strip, last, 1) - 1
            parts.append(
                f'<rect class="window" x="{_n(left)}" y="{_n(cy - 5)}" width="{_n(right - left)}"'
                f' height="10" rx="3" fill="#e9edf1" stroke="#a9b3bd"/>'
            )
    target = appointment.target
    if target is not None and strip.shows(target):
        tx = _n(_x(strip, target))
        parts.append(
            f'<line class="target" x1="{tx}" y1="{_n(cy - 8)}" x2="{tx}" '
            f'y2="{_n(cy + 8)}" stroke="{_MUTED}" stroke-width="1.5"/>'
        )
        if session.moved is not None and target != session.day:
            end = x - 8 if target < session.day else x + 8
            parts.append(
                f'<line class="move" x1="{tx}" y1="{_n(cy)}" x2="{_n(end)}" '
                f'y2="{_n(cy)}" stroke="{_INK}" marker-end="url(#kp-arrow)"/>'
            )
    parts.append(_mark(appointment.kind, _look(appointment), x, cy))
    if session.moved is not None:
        parts.append(f'<text class="badge" x="{_n(x + 6)}" y="{_n(cy - 4)}">{session.moved}</text>')
    classes = f"session kind-{appointment.kind} status-{_look(appointment)}"
    classes += " moved" * (session.moved is not None)
    return (
        f'<g class="{text(classes)}" id="kp-a{session.number}" '
        f'data-appointment="{text(appointment.id)}">' + "".join(parts) + "</g>"
    )


def _look(appointment: Appointment) -> AppointmentStatus | Literal["provisional"]:
    """The status a session is drawn with: its own, or provisional for a provisional plan."""
    if appointment.provisional and appointment.status == "planned":
        return "provisional"
    return appointment.status


def _mark(
    kind: SessionCategory, status: AppointmentStatus | Literal["provisional"], x: float, y: float
) -> str:
    """A session's mark: its kind's shape, filled and outlined by its status."""
    colour = KINDS[kind][1]
    fill, dashes, struck, _ = STATUSES[status]
    dash = f' stroke-dasharray="{dashes}"' if dashes else ""
    mark = (
        f'<use href="#kp-{kind}" x="{_n(x)}" y="{_n(y)}" class="mark" fill="{fill or colour}" '
        f'stroke="{colour}" stroke-width="1.8"{dash}/>'
    )
    if struck:
        mark += (
            f'<line class="strike" x1="{_n(x - 7)}" y1="{_n(y + 7)}" x2="{_n(x + 7)}" '
            f'y2="{_n(y - 7)}" stroke="{_INK}" stroke-width="1.6"/>'
        )
    return mark


def _session_title(placed: Placed) -> str:
    session = placed.session
    a = session.appointment
    words = (
        f"{a.id}: {a.name} ({a.kind}), {fmt_day(session.day)} {a.local_start:%H:%M}; "
        f"{status_word(a)}; phase {a.phase}"
    )
    if session.window is not None:
        words += f"; window {fmt_day(session.window[0])} to {fmt_day(session.window[1])}"
    if a.target is not None:
        words += f", target {fmt_day(a.target)}"
    if session.moved is not None:
        words += f"; moved ({session.moved}): {a.reason}"
        if a.shift is not None:
            words += f"; {a.shift.text}"
    return words


def _holds(strip: Strip, y: float) -> Iterator[str]:
    for hold in strip.holds:
        start = max(_hour_x(strip, hold.start), _LEFT)
        end = min(_hour_x(strip, hold.end), _LEFT + strip.days * _DAY)
        title = f"Medication hold for {hold.appointment}: {hold.text}"
        yield (
            f'<g class="hold"><title>{text(title)}</title><rect x="{_n(start)}" y="{_n(y + 4)}" '
            f'width="{_n(max(3.0, end - start))}" height="8" fill="{_MUTED}"/></g>'
        )


def _hour_x(strip: Strip, moment: dt.datetime) -> float:
    """The x of a local moment: its day, and the part of the day it is into."""
    part = (moment.hour * 60 + moment.minute) / (24 * 60)
    return _x(strip, moment.date(), part)


def _tasks(strip: Strip, y: float) -> Iterator[str]:
    for due in strip.tasks:
        x = _x(strip, due.day)
        titles = [task.title for task in due.tasks[:_TITLES]]
        more = len(due.tasks) - len(titles)
        title = f"Staff tasks due {fmt_day(due.day)}: " + "; ".join(titles)
        if more:
            title += f"; and {more} more"
        count = ""
        if len(due.tasks) > 1:
            count = f'<text x="{_n(x + 5)}" y="{_n(y + 11)}" class="small">{len(due.tasks)}</text>'
        yield (
            f'<g class="task"><title>{text(title)}</title><path transform="translate('
            f'{_n(x)},{_n(y + 8)})" d="M-4,-5h8l-4,7z" fill="{_INK}"/>{count}</g>'
        )


def _legend(lay: Layout, y: float, width: int) -> tuple[str, float]:
    """The legend: kinds by shape, statuses by fill and outline, then the other marks."""
    items: list[tuple[str, str]] = [
        (_mark(kind, "planned", 0, 0), words) for kind, (_, _, words) in KINDS.items()
    ]
    items += [
        (_mark("dosing", status, 0, 0), words) for status, (_, _, _, words) in STATUSES.items()
    ]
    items += [
        (
            (
                '<rect x="-9" y="-5" width="18" height="10" rx="3" fill="#e9edf1" '
                'stroke="#a9b3bd"/>'
                f'<line x1="0" y1="-8" x2="0" y2="8" stroke="{_MUTED}" stroke-width="1.5"/>'
            ),
            "window, and the day aimed for",
        ),
        (
            (
                f'<line x1="-10" y1="0" x2="2" y2="0" stroke="{_INK}" marker-end="url(#kp-arrow)"/>'
                '<text class="badge" x="4" y="-3">1</text>'
            ),
            "moved: see the list",
        ),
        (f'<rect x="-9" y="-4" width="18" height="8" fill="{_MUTED}"/>', "medication hold"),
        (f'<path d="M-4,-5h8l-4,7z" fill="{_INK}"/>', "staff tasks due"),
        (
            (
                f'<rect x="-9" y="-8" width="18" height="16" rx="3" fill="{_BAND_FILLS[0]}" '
                'stroke="#8796a8"/>'
            ),
            "phase",
        ),
    ]
    if lay.today is not None:
        items.append(
            (
                (
                    f'<line x1="0" y1="-8" x2="0" y2="8" stroke="{_TODAY}" stroke-width="1.6" '
                    'stroke-dasharray="5 3"/>'
                ),
                "today",
            )
        )
    column = 250
    per_row = max(1, (width - 16) // column)
    parts = [f'<g class="legend"><text x="8" y="{_n(y + 12)}" class="label">Legend</text>']
    for n, (glyph, words) in enumerate(items):
        gx = 20 + (n % per_row) * column
        gy = y + 34 + (n // per_row) * 22
        parts.append(
            f'<g class="legend-item" transform="translate({gx},{_n(gy)})">{glyph}'
            f'<text x="16" y="4" class="small">{text(words)}</text></g>'
        )
    parts.append("</g>")
    rows = -(-len(items) // per_row)
    return "".join(parts), y + 34 + rows * 22


def _captions(lay: Layout, y: float, width: int) -> tuple[str, float]:
    """The moved sessions, numbered as their marks: each cut to the width, whole in its title."""
    room = max(20, (width - 40) // 6)
    parts = [
        (f'<g class="captions"><text x="8" y="{_n(y + 14)}" class="label">Moved sessions</text>')
    ]
    for n, session in enumerate(lay.moved):
        a = session.appointment
        words = f"{session.moved}. {a.id}, {fmt_day(session.day)}: {a.reason}"
        shown = words if len(words) <= room else words[: room - 1] + "\u2026"
        parts.append(
            f'<text x="8" y="{_n(y + 34 + n * 18)}" class="small caption"><title>{text(words)}'
            f"</title>{text(shown)}</text>"
        )
    parts.append("</g>")
    return "".join(parts), y + 34 + len(lay.moved) * 18
