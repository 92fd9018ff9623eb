"""When a patient's reminder fires: before the deadline it announces, never in quiet hours.

One rule, :func:`reminder_for`, decides it for both calendar writers:

- a deadline ("no food after 03:15", "use the spray by 08:15", "pause the medicine from
  21:00") is announced ``reminder_lead_minutes`` before it (the clinic's setting, 60 by
  default), never at or after it, so the patient can still act on it;
- "arrange your transportation home" comes the day before, at the session's time of day;
- a reminder that would fire inside the clinic's quiet hours (``21:00-07:00`` by default)
  fires the evening before instead, as they begin (21:00), which is earlier still.

Where it fires is returned as an instant and as the trigger to write, relative to the
event's start: an exact duration (``-PT61H``), so the alarm fires at that instant, and
therefore at the intended wall-clock time, whatever DST change falls in between; a nominal
day (``-P1D``) only for the day-before reminder, which means the same time of day.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ketaplan.hours import QuietHours
from ketaplan.plans import Appointment, Instruction
from ketaplan.timing import resolve, shift, zone

__all__ = ["REMINDED", "DayBefore", "Reminder", "out_of_quiet", "reminder_for"]

#: The instructions a patient is reminded of (the others are in the description only).
REMINDED = ("fasting-solids", "fasting-liquids", "nasal-spray", "medication-hold", "escort")


class DayBefore(dt.timedelta):
    """A reminder offset in calendar days: the day before, at the same wall-clock time."""


class Reminder(NamedTuple):
    """When a reminder fires."""

    at: dt.datetime
    """The moment, in the appointment's zone."""
    trigger: dt.timedelta
    """The same, relative to the appointment's start: exact, or a :class:`DayBefore`."""


def out_of_quiet(moment: dt.datetime, quiet: QuietHours | None) -> dt.datetime:
    """``moment`` (aware, local), or when it falls inside ``quiet``, the moment they began.

    >>> from ketaplan.hours import DEFAULT_QUIET_HOURS
    >>> ny = zone("America/New_York")
    >>> out_of_quiet(dt.datetime(2026, 12, 2, 3, 15, tzinfo=ny), DEFAULT_QUIET_HOURS)
    datetime.datetime(2026, 12, 1, 21, 0, tzinfo=zoneinfo.ZoneInfo(key='America/New_York'))
    """
    if quiet is None or moment.time() not in quiet:
        return moment
    tz = moment.tzinfo
    assert isinstance(tz, ZoneInfo)  # noqa: S101 - computed in the appointment's zone
    # The earlier reading of a skipped or repeated time, so the reminder only ever moves back.
    return resolve(quiet.began(moment), quiet.start, tz, skipped="earlier", repeated="earlier")


def reminder_for(
    instruction: Instruction,
    appointment: Appointment,
    *,
    quiet: QuietHours | None,
    lead_minutes: int,
) -> Reminder | None:
    """When the patient is reminded of ``instruction``, or ``None`` if never."""
    if instruction.kind not in REMINDED or instruction.at is None:
        return None
    tz = zone(appointment.time_zone)
    start = appointment.start.astimezone(tz)
    if instruction.kind == "escort":
        nominal = resolve(start.date() - dt.timedelta(days=1), start.time(), tz)
        at = out_of_quiet(nominal, quiet)
        if at == nominal:
            return Reminder(at, DayBefore(days=-1))
    else:
        at = out_of_quiet(shift(instruction.at.astimezone(tz), minutes=-lead_minutes), quiet)
    return Reminder(at, at.astimezone(dt.UTC) - start.astimezone(dt.UTC))
