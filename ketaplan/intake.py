"""Intake: the first starts at which a protocol's whole series fits.

Intake staff ask "when can this patient start?". :func:`first_available` answers with plans:
from the requested date on, each day is tried as the day of the first session, and a day counts
when the whole series fits from it with every rule kept (no deadline or weekly count relaxed,
no session shifted). The ``n`` earliest such days are returned, each as its plan, so staff can
let the patient choose.

The candidate days share one :class:`~ketaplan.ledger.Ledger`, so what a day's screen learned
about the clinic's bookings serves every later candidate; each candidate's own search is
bounded as ``plan()``'s is. When no day fits before the clinic's booking horizon, the error says
so in one line and names the reason that blocked the candidates most often.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable

from ketaplan._model import aware, expect, local_time, start_in_range
from ketaplan._resolve import new_plan_clinic
from ketaplan._text import fmt_day, quantity
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.errors import InputError, UnsatisfiableError
from ketaplan.ledger import Ledger, bookings_argument
from ketaplan.patient import Patient
from ketaplan.planner import plan
from ketaplan.plans import Plan
from ketaplan.protocol import Protocol
from ketaplan.timing import current_time, zone

__all__ = ["MAX_OPTIONS", "NoStartError", "first_available"]

#: At most this many options are offered at once.
MAX_OPTIONS = 20

_PAST_HORIZON = "the series would run past the {days}-day booking horizon"


class NoStartError(UnsatisfiableError):
    """No day from the requested start to the booking horizon lets the whole series fit.

    ``str(err)`` is one line; ``blocked`` lists each reason with how many candidate days it
    blocked, the most frequent first.
    """

    def __init__(
        self,
        start: dt.date,
        last: dt.date,
        reasons: Counter[str],
        tried: int,
        *,
        limit: str = "the booking horizon",
    ) -> None:
        common = reasons.most_common()
        super().__init__(
            "the series' first session",
            (fmt_day(start), fmt_day(last)),
            [(quantity(count, "time"), reason) for reason, count in common],
        )
        self.blocker = common[0][0] if common else None
        """The reason that blocked candidate days most often, e.g. ``"no chair free"``."""
        self.tried = tried
        """How many candidate first days were tried."""
        self.reasons: dict[str, int] = dict(common)
        """Each reason and how many candidate first days it blocked, the most frequent first."""
        most = f"; most often: {self.blocker}" if self.blocker else ""
        message = (
            f"no start from {fmt_day(start)} to {fmt_day(last)} ({limit}) lets the "
            f"whole series fit ({tried} first days tried{most})"
        )
        self.args = (message,)


def first_available(
    protocol: Protocol,
    /,
    *,
    start: dt.date,
    clinic: Clinic | None = None,
    patient: Patient | None = None,
    bookings: Iterable[Booking] | Ledger = (),
    options: int = 1,
    latest: dt.date | None = None,
    preferred_time: dt.time | None = None,
    tiers: dict[str, str] | None = None,
    now: dt.datetime | None = None,
    time_zone: str | None = None,
) -> list[Plan]:
    """The ``options`` earliest plans, from distinct first days, whose whole series fits.

    Args:
        protocol: what to plan.
        start: the first day the series may start (a day already past: from today, as a
            waiting list asks "as soon as possible from then"; ``plan`` refuses a past start).
        clinic: where, as for :func:`~ketaplan.planner.plan`.
        patient: who, as for ``plan``.
        bookings: the clinic's other bookings (a :class:`~ketaplan.ledger.Ledger` is shared
            by every candidate, so what one learned serves the next).
        options: how many distinct first days to offer (1 to :data:`MAX_OPTIONS`).
        latest: the last first day to try (a start window); default: the booking horizon.
        preferred_time: as for ``plan``.
        tiers: as for ``plan``.
        now: the moment of planning, as for ``plan``; the horizon counts from it.
        time_zone: as for ``plan``.

    Raises:
        NoStartError: no day before the clinic's booking horizon lets the series fit.

    >>> from ketaplan import load_protocol
    >>> from ketaplan.defaults import demo_clinic
    >>> made_at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    >>> found = first_available(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 12, 5),
    ...                         clinic=demo_clinic(), options=2, now=made_at)
    >>> [f"{p.appointments[0].local_start:%a %d %b}" for p in found]
    ['Mon 07 Dec', 'Tue 08 Dec']
    """
    expect("protocol", protocol, Protocol, "a Protocol (load_protocol(ID) gives one)")
    expect("clinic", clinic, (Clinic, type(None)), "a Clinic or None (demo_clinic() gives one)")
    expect("patient", patient, (Patient, type(None)), "a Patient or None")
    if not isinstance(options, int) or isinstance(options, bool) or not 1 <= options <= MAX_OPTIONS:
        raise InputError("options", f"a whole number from 1 to {MAX_OPTIONS}", options)
    for name, day in (("start", start), ("latest", latest)):
        if (day is not None or name == "start") and (
            not isinstance(day, dt.date) or isinstance(day, dt.datetime)
        ):
            raise InputError(name, "a date (datetime.date, not datetime)", day)
    start_in_range("start", start)
    local_time("preferred_time", preferred_time)
    if latest is not None and latest < start:
        raise InputError("latest", f"on or after start ({start})", latest)
    moment = aware("now", now) if now is not None else current_time()
    where = new_plan_clinic(protocol, clinic, time_zone)
    ledger = bookings_argument("bookings", bookings, where)
    return earliest_starts(protocol, start=start, latest=latest, clinic=where, patient=patient,
                           ledger=ledger, now=moment, options=options,
                           preferred_time=preferred_time, tiers=tiers)  # fmt: skip


def earliest_starts(
    protocol: Protocol,
    /,
    *,
    start: dt.date,
    latest: dt.date | None,
    clinic: Clinic,
    patient: Patient | None,
    ledger: Ledger,
    now: dt.datetime,
    options: int = 1,
    preferred_time: dt.time | None = None,
    tiers: dict[str, str] | None = None,
    failed: dict[dt.date, tuple[str, ...]] | None = None,
) -> list[Plan]:
    """:func:`first_available`'s search, its inputs checked (for placement across patients).

    ``failed``: first days already found not to fit, each with what blocked it, kept by a
    caller whose ledger only gains bookings between calls (a day on which the series did not
    fit does not fit with more booked) for requests alike (protocol, patient but for the id,
    preferred time, tiers); each day found not to fit is added. Such a day is counted as
    tried, with its reasons, and not planned again.
    """
    whole = protocol.model_copy(update={"start": "whole-series"})
    today = now.astimezone(zone(clinic.time_zone)).date()
    last = today + dt.timedelta(days=clinic.booking_horizon_days)
    limit = "the booking horizon"
    if latest is not None and latest < last:
        last, limit = latest, "the last day of the start window"
    known = failed if failed is not None else {}
    found: list[Plan] = []
    reasons: Counter[str] = Counter()
    day, tried = max(start, today), 0
    while day <= last and len(found) < options:
        tried += 1
        if day in known:
            reasons.update(known[day])
            day += dt.timedelta(days=1)
            continue
        try:
            made = plan(whole, start=day, clinic=clinic, patient=patient, bookings=ledger,
                        preferred_time=preferred_time, tiers=tiers, now=now,
                        start_window_days=0)  # fmt: skip
        except UnsatisfiableError as err:
            known[day] = tuple(_general(reason) for _, reason in err.blocked)
            reasons.update(known[day])
        else:
            if not _complete(made, whole):  # later first days would run further past it
                reasons[_PAST_HORIZON.format(days=clinic.booking_horizon_days)] += 1
                break
            found.append(made)
        day += dt.timedelta(days=1)
    if not tried:
        reasons[f"the start lies beyond the {clinic.booking_horizon_days}-day booking horizon"] += 1
    if not found:
        raise NoStartError(start, last, reasons, tried, limit=limit)
    return found


def _complete(made: Plan, protocol: Protocol) -> bool:
    """Whether every phase with a count has all its sessions in ``made``."""
    placed = Counter(a.phase for a in made.appointments if a.anchored is None and a.is_active)
    return all(placed[p.id] >= p.count for p in protocol.phases if p.count is not None)


def _general(reason: str) -> str:
    """A reason without its dates and session names, to count like with like."""
    return re.sub(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} \w{3} \d{4}\b", "a day", reason)
