"""A plan's timeline as an HTML page: the drawing, then every appointment as a table.

The drawing is the SVG of :mod:`ketaplan.pictures.timeline`, inline; below it the moved
sessions, numbered as in the drawing, every appointment of the plan (with its window and why
it is where it is), the medication holds and the staff tasks, as text a screen reader or a
search reads. One self-contained file: inline CSS, no script, nothing fetched.
"""

from __future__ import annotations

import datetime as dt

from ketaplan._text import fmt_day, quantity
from ketaplan.pictures.document import footer, html_page, text
from ketaplan.pictures.layout import Layout, Session
from ketaplan.pictures.timeline import drawing, laid_out, summary
from ketaplan.plans import Plan
from ketaplan.summary import status_word

__all__ = ["timeline_html"]

_STYLE = """
figure { margin: 0 0 1em; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .9em; }
td.time { white-space: nowrap; }
td.num, td.kind { white-space: nowrap; color: var(--muted); }
tr.moved td.num { font-weight: 700; color: var(--ink); }
ol.moved li { margin: .2em 0; }
"""


def timeline_html(plan: Plan, /, *, today: dt.date | None = None) -> str:
    """The plan's timeline as a self-contained, printable HTML page (inline SVG, no script).

    Args:
        plan: the plan to draw.
        today: a day to mark with a line, when it falls on the drawing.

    The page lists every appointment as a table below the drawing.

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> from ketaplan.defaults import demo_clinic
    >>> made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 12, 1),
    ...             clinic=demo_clinic(), preferred_time=dt.time(9), until=dt.date(2027, 2, 1),
    ...             now=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    >>> page = timeline_html(made)
    >>> page.count("<svg"), page.count('<tr class="appointment') == len(made.appointments)
    (1, True)
    """
    lay = laid_out(plan, today=today)
    title = f"Treatment timeline: {plan.protocol}, {plan.patient or plan.id}"
    body = [_header(plan, lay)]
    body.append(
        f"<figure>{drawing(plan, lay, standalone=False)}"
        f"<figcaption>{text(summary(plan, lay))}</figcaption></figure>"
    )
    if lay.moved:
        body.append(_moved(lay))
    body.append(_appointments(lay))
    if lay.holds:
        items = "".join(
            f"<li>{text(hold.appointment)}: {text(hold.text)}</li>" for hold in lay.holds
        )
        body.append(f'<section><h2>Medication holds</h2><ul class="holds">{items}</ul></section>')
    if lay.tasks or lay.checkpoints:
        body.append(_tasks(lay))
    body.append(footer(plan.time_zone))
    return html_page(title, body, style=_STYLE)


def _header(plan: Plan, lay: Layout) -> str:
    meta = [
        f"patient {text(plan.patient)}" if plan.patient else f"plan {text(plan.id)}",
        f"{text(plan.clinic_name)} ({text(plan.clinic)})",
        f"times in {text(plan.time_zone)}",
        f"protocol version {text(plan.protocol_version)}, plan revision {plan.revision}",
        quantity(len(lay.sessions), "appointment"),
    ]
    parts = [
        f"<header><h1>Treatment timeline: {text(plan.protocol)}</h1>",
        f'<p class="meta">{" &middot; ".join(meta)}</p></header>',
    ]
    parts += [f'<p class="note">{text(note)}</p>' for note in plan.notes]
    return "\n".join(parts)


def _moved(lay: Layout) -> str:
    items = "".join(
        f'<li value="{s.moved}"><strong>{text(s.appointment.id)}</strong>, '
        f"{text(fmt_day(s.day))}: {text(_why(s))}</li>"
        for s in lay.moved
    )
    return f'<section><h2>Moved sessions</h2><ol class="moved">{items}</ol></section>'


def _why(session: Session) -> str:
    appointment = session.appointment
    shift = f" ({appointment.shift.text})" if appointment.shift else ""
    return appointment.reason + shift


def _appointments(lay: Layout) -> str:
    rows = []
    for s in lay.sessions:
        a = s.appointment
        window = ""
        if s.window is not None:
            window = f"{fmt_day(s.window[0])} to {fmt_day(s.window[1])}"
        number = f"{s.number}" + (f" (moved {s.moved})" if s.moved is not None else "")
        rows.append(
            f'<tr class="appointment{" moved" * (s.moved is not None)}">'
            f'<td class="num">{number}</td><td class="time">{text(fmt_day(s.day))} '
            f"{a.local_start:%H:%M}</td><td>{text(a.id)}</td>"
            f'<td class="kind">{text(a.kind)}</td><td>{text(a.phase)}</td>'
            f'<td>{text(status_word(a))}</td><td class="time">{text(window)}</td>'
            f"<td>{text(_why(s))}</td></tr>"
        )
    return (
        "<section><h2>Appointments</h2><table><thead><tr><th>#</th><th>Day</th>"
        "<th>Appointment</th><th>Kind</th><th>Phase</th><th>Status</th><th>Window</th>"
        "<th>Why</th></tr></thead><tbody>" + "\n".join(rows) + "</tbody></table></section>"
    )


def _tasks(lay: Layout) -> str:
    rows = [
        f'<tr><td class="time">{text(fmt_day(task.due))}</td><td class="kind">'
        f"{text(task.kind)}</td><td>{text(task.title)}</td><td>{text(task.appointment or '')}"
        "</td></tr>"
        for task in sorted(lay.tasks, key=lambda task: task.due)
    ]
    note = ""
    if lay.checkpoints:
        note = (
            f"<p>{quantity(lay.checkpoints, 'checkpoint')} during sessions are on each day's "
            "run sheet (<code>ketaplan runsheet</code>).</p>"
        )
    return (
        "<section><h2>Staff tasks</h2><table><thead><tr><th>Due</th><th>Kind</th><th>Task</th>"
        "<th>Session</th></tr></thead><tbody>" + "\n".join(rows) + f"</tbody></table>{note}"
        "</section>"
    )
