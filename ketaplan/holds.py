"""Medication holds around sessions: the doses to skip, and the patient's instruction.

A hold rule gives a window around each session, counted from the start of dosing:
``hold_before_hours`` before it and ``resume_after_hours`` after it, or the whole session day
before it (``hold_day_of``). A scheduled dose of a matching medication inside the window is to
be skipped; the patient instruction names each dose and when to resume.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ketaplan._text import fmt_day
from ketaplan.patient import Medication
from ketaplan.plans import Instruction
from ketaplan.protocol import HoldRule
from ketaplan.timing import resolve, shift

__all__ = ["hold_instruction", "hold_window", "skipped_doses"]


def hold_window(
    rule: HoldRule, dosing_start: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    """The hold around a session that starts dosing at ``dosing_start`` (aware, local)."""
    if rule.severity != "hold":
        return None
    begin = dosing_start
    if rule.hold_before_hours is not None:
        begin = shift(dosing_start, hours=-rule.hold_before_hours)
    if rule.hold_day_of:
        midnight = dt.datetime.combine(dosing_start.date(), dt.time(0), tzinfo=dosing_start.tzinfo)
        begin = min(begin, midnight)
    end = dosing_start
    if rule.resume_after_hours is not None:
        end = shift(dosing_start, hours=rule.resume_after_hours)
    if begin == end:
        return None
    return begin, end


def _doses(
    medication: Medication, first: dt.date, last: dt.date, tz: dt.tzinfo
) -> Iterator[dt.datetime]:
    day = first
    while day <= last:
        taking = (medication.start is None or medication.start <= day) and (
            medication.stop is None or day <= medication.stop
        )
        if taking:
            for clock in medication.times:
                yield resolve(day, clock, tz)  # type: ignore[arg-type]
        day += dt.timedelta(days=1)


def skipped_doses(
    medication: Medication, rule: HoldRule, dosing_start: dt.datetime
) -> list[dt.datetime]:
    """The scheduled doses of ``medication`` inside the hold around a session."""
    window = hold_window(rule, dosing_start)
    if window is None:
        return []
    begin, end = window
    tz = dosing_start.tzinfo
    assert tz is not None  # noqa: S101 - appointments carry their zone
    doses = _doses(medication, begin.date() - dt.timedelta(days=1), end.date(), tz)
    return [dose for dose in doses if begin <= dose < end]


def hold_instruction(
    medication: Medication, rule: HoldRule, dosing_start: dt.datetime
) -> Instruction | None:
    """The patient's instruction for one medication around one session, if any."""
    window = hold_window(rule, dosing_start)
    if window is None:
        return None
    begin, end = window
    skipped = skipped_doses(medication, rule, dosing_start)
    name = medication.name
    if skipped:
        doses = "; ".join(f"skip your {d:%H:%M} {name} on {fmt_day(d.date())}" for d in skipped)
        text = f"{doses[0].upper()}{doses[1:]}"
    elif medication.as_needed or not medication.times:
        text = f"Do not take {name} from {begin:%H:%M} on {fmt_day(begin.date())}"
    else:
        return None
    if end > dosing_start:
        text += f"; resume after {end:%H:%M} on {fmt_day(end.date())}"
    else:
        text += "; resume after the session"
    return Instruction(
        kind="medication-hold",
        at=begin,
        until=end,
        text=f"{text} ({rule.medication} hold; ask your prescriber before changing any medicine).",
        source=rule.source,
    )
