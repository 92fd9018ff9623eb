"""The capacity report: what each resource gave, what turned patients away, what one more buys.

:func:`capacity_report` reads a clinic's plans (and the patients a placement could not serve)
and answers a manager's questions:

- **Per resource**, the hours it was open, the hours it was used, the share used and the most
  uses at once against its limit. Chairs and rooms count chair-hours (each chair's open hours);
  monitoring staff count patient-slots under monitoring (staff times patients per staff
  member, each slot's open hours); the prescriber is a presence, not a capacity: the hours on
  site, and the hours in which at least one session needed them. Hours are real elapsed time
  from the clinic's one rule for opening hours (:meth:`ClinicCalendar.hours
  <ketaplan.openings.ClinicCalendar.hours>`), so a day on which the clocks change counts what
  really passes.
- **What turned patients away.** Each unserved patient's placement already says which reasons
  blocked its candidate first days, and how often (:attr:`NoStartError.reasons
  <ketaplan.intake.NoStartError.reasons>`); the patient counts against the resource whose
  reason (:meth:`Reasons.resource_of <ketaplan.rules.calendar.Reasons.resource_of>`) blocked
  the most of its days, or against its most frequent reason when no resource blocked it.
- **The earliest start that would fit** each unserved patient: the unserved patients placed
  again, in order, around everyone served, with the booking horizon extended by
  ``later_days`` (:func:`~ketaplan.roster.place`, which asks
  :func:`~ketaplan.intake.first_available` for each).
- **What one more would buy**, measured, not guessed: for each resource that turned a patient
  away, and each that was used to its limit at some moment, the whole roster is placed again
  with one more of it (a chair, a room, a monitoring staff member, the prescriber on site
  whenever the clinic is open) and the patients served are counted. At most four such runs,
  each bounded as the placement is.

The report says it in a sentence: "monitoring staff are the bottleneck: 2 more patients under
monitoring at once would serve 3 more patients". The bottleneck is the resource whose one more
serves the most more patients (ties: the one that turned more patients away).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import NamedTuple
from typing import Protocol as Callback

from ketaplan._model import AnyDay, Model, Name, Ref, Text, expect, expect_each
from ketaplan._resolve import timed_plans
from ketaplan._text import fmt_day, quantity
from ketaplan._types import RESOURCE_KINDS, ResourceKind
from ketaplan.clinic import Clinic, Resources
from ketaplan.errors import DefinitionError, InputError, LimitError
from ketaplan.ledger import Ledger, seconds
from ketaplan.openings import ClinicCalendar
from ketaplan.placement import Placement, plan_many
from ketaplan.plans import Plan
from ketaplan.protocol import Protocol
from ketaplan.roster import MAX_ROSTER, RosterEntry, place, protocols_of, requests
from ketaplan.rules.calendar import Reasons
from ketaplan.rules.capacity import limits
from ketaplan.timing import resolve, zone

__all__ = [
    "MAX_LATER_DAYS",
    "MAX_PERIOD_DAYS",
    "RESOURCES",
    "CapacityReport",
    "Placer",
    "Raise",
    "ResourceUse",
    "TurnedAway",
    "Unserved",
    "capacity_report",
    "capacity_table",
    "check_later_days",
    "check_placer",
    "place_all",
    "resource_use",
]

#: The resources a report covers, in the order it lists them.
RESOURCES: tuple[ResourceKind, ...] = RESOURCE_KINDS
_LABELS: dict[ResourceKind, str] = {
    "chair": "chairs",
    "room": "rooms",
    "monitoring-staff": "monitoring staff",
    "prescriber": "the prescriber",
}
#: A report covers at most this many days (the hours open are counted day by day).
MAX_PERIOD_DAYS = 3660
#: The booking horizon is extended by at most this many days to find an unserved patient's
#: earliest start.
MAX_LATER_DAYS = 366


class Placer(Callback):
    """A placement of roster patients into a clinic: one plan or one reason per patient.

    ``seed`` orders the patients (or breaks ties) deterministically; 0 is the roster's own
    order. The report's re-runs and the what-if runs call one of these.
    """

    def __call__(
        self,
        entries: Sequence[RosterEntry],
        /,
        *,
        clinic: Clinic,
        folder: Path,
        now: dt.datetime | None,
        seed: int,
    ) -> list[Placement]:
        """Place ``entries``: one placement per entry."""
        ...


def place_all(
    entries: Sequence[RosterEntry],
    /,
    *,
    clinic: Clinic,
    folder: Path,
    now: dt.datetime | None,
    seed: int = 0,
) -> list[Placement]:
    """The placement the report and the what-if runs use unless given another.

    :func:`~ketaplan.placement.plan_many` with its default objective (as many patients served
    as fit, then sessions near their targets and early starts), from the roster's documented
    order (requested start, then id) for seed 0, or an order shuffled by any other seed; the
    seed also drives the placement's own search.
    """
    ordered = sorted(entries, key=lambda entry: (entry.start, entry.id))
    if seed:
        random.Random(seed).shuffle(ordered)  # noqa: S311 - an order to try, not a secret
    placed = plan_many(requests(ordered, folder=folder), clinic, now=now, seed=seed)
    # In the roster's order again, as callers list them.
    by_patient = {placement.patient: placement for placement in placed}
    return [by_patient[entry.id] for entry in entries]


class ResourceUse(Model):
    """One resource over the report's days."""

    resource: ResourceKind
    at_once: int | None
    """How many uses may overlap: chairs, rooms, or patients under monitoring (staff times
    patients per staff member); ``None`` for the prescriber, a presence."""
    hours_open: float
    """Its hours: the clinic's open hours times ``at_once`` (the prescriber: hours on site)."""
    hours_used: float
    """The hours of its uses (the prescriber: hours in which a session needed them)."""
    utilisation: float | None
    """``hours_used / hours_open``; ``None`` when it was never open."""
    peak: int
    """The most uses at one moment."""

    @property
    def label(self) -> str:
        """``"chairs"``, ``"rooms"``, ``"monitoring staff"`` or ``"the prescriber"``."""
        return _LABELS[self.resource]


class TurnedAway(Model):
    """How many unserved patients one resource (or one other reason) turned away."""

    resource: ResourceKind | None
    """The resource, or ``None`` for a reason that is not a resource."""
    reason: Text
    """The resource's label, or the reason in the placement's words."""
    patients: int


class Unserved(Model):
    """A patient the placement did not serve, and the earliest start that would fit."""

    patient: Ref
    requested: AnyDay | None
    """The requested start, when the patient's roster entry was given."""
    reason: Text | None
    """Why the placement found no start, in its words."""
    turned_away_by: Ref
    """The resource (or other reason) this patient counts against."""
    earliest: AnyDay | None = None
    """The first day a whole series fits around everyone served, the horizon extended;
    ``None`` when none does (or the entry was not given)."""
    wait_days: int | None = None
    """Days from the requested start to ``earliest``."""


class Raise(Model):
    """One more of a resource, and how many more patients the placement then serves."""

    resource: ResourceKind
    change: Text
    """What was added, e.g. "1 more chair"."""
    served: int
    """Patients served with it."""
    more: int
    """Patients served with it, less those served without (negative: fewer)."""


class CapacityReport(Model):
    """The capacity report of one clinic's plans."""

    clinic: Ref
    clinic_name: Name
    time_zone: Ref
    first: AnyDay | None
    """The report's first day (the clinic's local day); ``None`` without plans or period."""
    last: AnyDay | None
    resources: tuple[ResourceUse, ...]
    patients: int
    """Patients served and unserved."""
    served: int
    unserved: tuple[Unserved, ...]
    turned_away: tuple[TurnedAway, ...]
    """What turned the unserved patients away, the most patients first."""
    raises: tuple[Raise, ...]
    """What one more of each resource that turned a patient away, or was used to its limit,
    would serve."""
    later_days: int
    summary: Text
    """The report in a sentence, e.g. "chairs are the bottleneck: ..."."""


def resource_use(
    plans: Iterable[Plan],
    clinic: Clinic,
    /,
    *,
    period: tuple[dt.date, dt.date] | None = None,
    protocols: Iterable[Protocol] = (),
) -> tuple[tuple[dt.date, dt.date] | None, tuple[ResourceUse, ...]]:
    """The report's days and each resource's figures, from the plans' active sessions.

    ``period``: the first and last local day to count (default: the plans' first to last
    session). Uses outside it are cut at its ends. Each session uses its resources when
    ``check`` sees them used: for the times its protocol gives from its start, not the times
    the plan file stores (:func:`~ketaplan._resolve.timed`). ``protocols``: the plans'
    protocols that are not built in.
    """
    items = timed_plans(_plans(plans), protocols)
    expect("clinic", clinic, Clinic, "a Clinic")
    days = _period(items, clinic) if period is None else _checked_period(period)
    intervals: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for made in items:
        for appointment in made.appointments:
            if appointment.is_active:
                for span in appointment.resources:
                    intervals[span.resource].append((seconds(span.start), seconds(span.end)))
    if days is None:
        return None, ()
    calendar, tz = ClinicCalendar(clinic), zone(clinic.time_zone)
    start = resolve(days[0], dt.time(0), tz)
    end = resolve(days[1] + dt.timedelta(days=1), dt.time(0), tz)
    every = [days[0] + dt.timedelta(days=n) for n in range((days[1] - days[0]).days + 1)]
    open_hours = sum((calendar.hours(day) for day in every), 0.0)
    on_site = sum((calendar.hours(day, of="prescriber") for day in every), 0.0)
    found = []
    for resource in RESOURCES:
        at_once = limits(clinic).capacity(resource)
        hours = on_site if at_once is None else open_hours * at_once
        spans = intervals.get(resource, [])
        used = _hours(_union(spans) if at_once is None else spans, seconds(start), seconds(end))
        if not (at_once or used or (resource == "prescriber" and on_site)):
            continue
        found.append(ResourceUse(resource=resource, at_once=at_once, hours_open=round(hours, 3),
                                 hours_used=round(used, 3),
                                 utilisation=round(used / hours, 4) if hours else None,
                                 peak=Ledger.peak(spans, start, end)))  # fmt: skip
    return days, tuple(found)


def _plans(plans: object) -> list[Plan]:
    return [plans] if isinstance(plans, Plan) else expect_each("plans", plans, Plan, "a Plan")


def _period(plans: list[Plan], clinic: Clinic) -> tuple[dt.date, dt.date] | None:
    tz = zone(clinic.time_zone)
    days = [a.start.astimezone(tz).date() for p in plans for a in p.appointments if a.is_active]
    return _checked_period((min(days), max(days))) if days else None


def _checked_period(period: object) -> tuple[dt.date, dt.date]:
    dates = tuple(period) if isinstance(period, tuple | list) else ()
    if len(dates) != 2 or not all(  # noqa: PLR2004 - a first and a last day
        isinstance(day, dt.date) and not isinstance(day, dt.datetime) for day in dates
    ):
        raise InputError("period", "a first and a last day (two datetime.date)", period)
    first, last = dates
    if last < first:
        raise InputError("period", "a last day on or after the first", period)
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise LimitError("period", f"at most {MAX_PERIOD_DAYS} days", f"{first} to {last}")
    return first, last


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _hours(spans: Iterable[tuple[int, int]], start: int, end: int) -> float:
    return sum(max(0, min(e, end) - max(s, start)) for s, e in spans) / 3600


# -- the report --------------------------------------------------------------------------------


def check_placer(placer: object, /) -> None:
    """Refuse a ``placer`` that is not a placement function (``capacity_report``, ``whatif``)."""
    if not callable(placer):
        raise InputError("placer", "a placement function, such as place_all", placer)


def check_later_days(later_days: object, /, *, field: str = "later_days") -> None:
    """Refuse a ``later_days`` that is not a whole number from 1 to :data:`MAX_LATER_DAYS`.

    ``capacity_report`` checks it; the command line checks it before placing the roster.
    """
    if isinstance(later_days, bool) or not isinstance(later_days, int):
        raise InputError(field, f"a whole number from 1 to {MAX_LATER_DAYS}", later_days)
    if not 1 <= later_days <= MAX_LATER_DAYS:
        raise LimitError(field, f"from 1 to {MAX_LATER_DAYS}", later_days)


def capacity_report(
    plans: Iterable[Plan],
    clinic: Clinic,
    /,
    *,
    unserved: Iterable[Placement] = (),
    requests: Iterable[RosterEntry] = (),
    folder: str | Path | None = None,
    now: dt.datetime | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    later_days: int = 182,
    measure: bool = True,
    placer: Placer = place_all,
    protocols: Iterable[Protocol] = (),
) -> CapacityReport:
    """The capacity report of ``plans`` at ``clinic``.

    Args:
        plans: the patients' plans, all at ``clinic``.
        clinic: the clinic.
        unserved: the placements without a plan (from :func:`place_all` or
            :func:`~ketaplan.roster.place`), with the reasons their placement found.
        requests: the roster's entries, every patient's (served or not): needed for the
            unserved patients' earliest starts and to measure what one more would serve.
        folder: where the entries' relative file names start (default: the current folder);
            only with ``requests``, whose files it finds.
        now: the moment of planning, as the placement had it.
        period: the first and last local day to count (default: the plans' span).
        later_days: how far past the booking horizon to look for an unserved patient's
            earliest start (1 to :data:`MAX_LATER_DAYS`).
        measure: whether to place the roster again with one more of each resource that turned
            a patient away or was used to its limit (given ``requests``); ``placer`` does it,
            and should be the placement that made ``plans``.
        placer: the placement to measure with.
        protocols: the plans' protocols that are neither built in nor an entry's.
    """
    items, missing = _plans(plans), _unserved(unserved)
    entries = _entries(requests)
    where = _folder(folder, entries)
    expect("measure", measure, bool, "True or False")
    check_placer(placer)
    check_later_days(later_days)
    known = [*protocols, *(protocols_of(entries.values(), folder=where) if entries else ())]
    days, use = resource_use(items, clinic, period=period, protocols=known)
    blame = [_turned_away_by(placement) for placement in missing]
    waiting = _earliest(
        missing, blame, entries, (items, known), _Where(clinic, where, now), later_days=later_days
    )
    turned = _tally(blame)
    served = sum(1 for made in items if made.patient in entries) if entries else len(items)
    raises: tuple[Raise, ...] = ()
    if measure and entries and missing:
        blocking = [t.resource for t in turned if t.resource is not None]
        full = [u.resource for u in use if u.at_once and u.peak >= u.at_once]
        raises = _raises(list(dict.fromkeys(blocking + full)), list(entries.values()), served,
                         _Where(clinic, where, now), placer=placer)  # fmt: skip
    return CapacityReport(
        clinic=clinic.id, clinic_name=clinic.name, time_zone=clinic.time_zone,
        first=days[0] if days else None, last=days[1] if days else None, resources=use,
        patients=len(items) + len(missing), served=len(items), unserved=waiting,
        turned_away=turned, raises=raises, later_days=later_days,
        summary=_summary(use, turned, raises, measured=measure and bool(entries)),
    )  # fmt: skip


def _unserved(unserved: object) -> list[Placement]:
    items = expect_each("unserved", unserved, Placement, "a Placement")
    for index, item in enumerate(items):
        if item.plan is not None:
            raise InputError(f"unserved[{index}].plan", "None (a patient not served)", item.plan.id)
    return items


def _folder(folder: object, entries: dict[str, RosterEntry]) -> Path:
    """Where the entries' files are: refused without entries, whose files alone it finds."""
    if folder is None:
        return Path()
    if not isinstance(folder, str | PathLike):
        raise InputError("folder", "a folder (a str or Path)", folder)
    if not entries:
        raise InputError("folder", "given only with requests (it finds their files)", folder)
    return Path(folder)


def _entries(requests: object) -> dict[str, RosterEntry]:
    items = expect_each("requests", requests, RosterEntry, "a RosterEntry")
    if len(items) > MAX_ROSTER:
        raise LimitError("requests", f"at most {MAX_ROSTER} patients", len(items))
    return {item.id: item for item in items}


def _turned_away_by(placement: Placement) -> tuple[ResourceKind | None, str]:
    """The resource whose reasons blocked most of the patient's days, else its top reason."""
    per_resource: Counter[ResourceKind] = Counter()
    for reason, count in placement.blocked.items():
        resource = Reasons.resource_of(reason)
        if resource is not None:
            per_resource[resource] += count
    if per_resource:
        most = max(per_resource.values())
        chosen = next(r for r in RESOURCES if per_resource[r] == most)
        return chosen, _LABELS[chosen]
    top = next(iter(placement.blocked), None) or placement.reason or "no reason given"
    return None, top


def _tally(blame: list[tuple[ResourceKind | None, str]]) -> tuple[TurnedAway, ...]:
    counts = Counter(blame)
    order = sorted(counts, key=lambda key: (-counts[key], key[0] is None, key[1]))
    return tuple(TurnedAway(resource=r, reason=text, patients=counts[r, text]) for r, text in order)


class _Where(NamedTuple):
    """Where and when a placement runs: the clinic, the roster's folder, the moment."""

    clinic: Clinic
    folder: Path
    now: dt.datetime | None


def _earliest(
    missing: list[Placement],
    blame: list[tuple[ResourceKind | None, str]],
    entries: dict[str, RosterEntry],
    served: tuple[list[Plan], list[Protocol]],
    where: _Where,
    *,
    later_days: int,
) -> tuple[Unserved, ...]:
    """Each unserved patient, placed again after everyone served with a longer horizon.

    ``served``: the plans served, and their protocols that are not built in.
    """
    clinic, folder, now = where
    plans, protocols = served
    known = [entries[p.patient] for p in missing if p.patient in entries]
    horizon = min(clinic.booking_horizon_days + later_days, 5 * 366)
    later = clinic.model_copy(update={"booking_horizon_days": horizon})
    # The served plans occupy what their protocols give from each start.
    again = {p.patient: p.plan for p in place(known, clinic=later, folder=folder, plans=plans,
                                               protocols=protocols, now=now)}  # fmt: skip
    tz = zone(clinic.time_zone)
    found = []
    for placement, (_, text) in zip(missing, blame, strict=True):
        entry, made = entries.get(placement.patient), again.get(placement.patient)
        first = made.appointments[0].start.astimezone(tz).date() if made else None
        found.append(Unserved(
            patient=placement.patient, requested=entry.start if entry else None,
            reason=placement.reason, turned_away_by=text, earliest=first,
            wait_days=(first - entry.start).days if first and entry else None))  # fmt: skip
    return tuple(found)


def _raised(clinic: Clinic, resource: ResourceKind) -> tuple[Clinic, str] | None:
    """The clinic with one more of ``resource``, and what was added; ``None`` if it cannot be."""
    resources = clinic.resources
    more: dict[str, object]
    if resource == "chair":
        more, change = {"chairs": resources.chairs + 1}, "1 more chair"
    elif resource == "room":
        more, change = {"rooms": resources.rooms + 1}, "1 more room"
    elif resource == "monitoring-staff":
        ratio = resources.patients_per_staff
        more = {"monitoring_staff": resources.monitoring_staff + 1}
        change = (f"{quantity(ratio, 'more patient')} under monitoring at once "
                  "(1 more staff member)")  # fmt: skip
    elif resources.prescriber_on_site and resources.prescriber_hours is None:
        return None  # already on site whenever the clinic is open
    else:
        more = {"prescriber_on_site": True, "prescriber_hours": None}
        change = "a prescriber on site whenever the clinic is open"
    try:
        updated = Resources.model_validate({**resources.model_dump(), **more})
    except DefinitionError:  # already at the most a clinic may have
        return None
    return clinic.model_copy(update={"resources": updated}), change


def _raises(
    blocking: list[ResourceKind],
    entries: list[RosterEntry],
    served: int,
    where: _Where,
    *,
    placer: Placer,
) -> tuple[Raise, ...]:
    clinic, folder, now = where
    found = []
    for resource in blocking:
        more = _raised(clinic, resource)
        if more is None:
            continue
        placed = placer(entries, clinic=more[0], folder=folder, now=now, seed=0)
        count = sum(1 for p in placed if p.plan is not None)
        found.append(Raise(resource=resource, change=more[1], served=count, more=count - served))
    return tuple(found)


def _summary(
    use: tuple[ResourceUse, ...],
    turned: tuple[TurnedAway, ...],
    raises: tuple[Raise, ...],
    *,
    measured: bool,
) -> str:
    if not turned:
        busiest = max(use, key=lambda u: u.utilisation or 0.0, default=None)
        if busiest is None or not busiest.utilisation:
            return "every patient was served"
        return (f"every patient was served; the busiest resource is {busiest.label} "
                f"({busiest.utilisation:.0%} of its hours)")  # fmt: skip
    rank = {t.resource: t.patients for t in turned}
    best = max(raises, key=lambda r: (r.more, rank.get(r.resource, 0)), default=None)
    if best is not None and best.more > 0:
        label = _LABELS[best.resource]
        verb = "is" if best.resource == "prescriber" else "are"
        return (f"{label} {verb} the bottleneck: {best.change} would serve "
                f"{quantity(best.more, 'more patient')}")  # fmt: skip
    top = turned[0]
    said = f"{top.reason} turned away the most patients ({top.patients})"
    if all(t.resource is None for t in turned):
        return f"{said}; no resource turned a patient away"
    if not measured:
        return f"{said}; what one more would serve was not measured"
    if not raises:
        return f"{said}; no resource that turned a patient away can be raised"
    return f"{said}; one more of {_listed(raises)} would serve no more patients"


def _listed(raises: tuple[Raise, ...]) -> str:
    names = [_LABELS[r.resource].removeprefix("the ") for r in raises]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# -- as text -----------------------------------------------------------------------------------


def capacity_table(report: CapacityReport, /) -> str:
    """The report as text for a terminal."""
    expect("report", report, CapacityReport, "a CapacityReport")
    span = (f"{fmt_day(report.first)} to {fmt_day(report.last)}"
            if report.first and report.last else "no sessions")  # fmt: skip
    unserved = len(report.unserved)
    lines = [
        f"Capacity at {report.clinic_name} ({report.clinic}), {span}",
        f"{quantity(report.patients, 'patient')}: {report.served} served, {unserved} not",
        "",
        f"{'RESOURCE':<18}{'AT ONCE':>8}{'HOURS OPEN':>12}{'HOURS USED':>12}{'USED':>7}  PEAK",
    ]
    for row in report.resources:
        at_once = "presence" if row.at_once is None else str(row.at_once)
        used = "-" if row.utilisation is None else f"{row.utilisation:.0%}"
        peak = f"{row.peak}" if row.at_once is None else f"{row.peak}/{row.at_once}"
        lines.append(f"{row.label:<18}{at_once:>8}{row.hours_open:>12.1f}"
                     f"{row.hours_used:>12.1f}{used:>7}  {peak}")  # fmt: skip
    if report.turned_away:
        lines += ["", "TURNED AWAY (unserved patients, by what blocked most of their days)"]
        lines += [f"  {t.reason}: {t.patients}" for t in report.turned_away]
    if report.unserved:
        lines += [
            "",
            f"NOT SERVED (earliest start, {quantity(report.later_days, 'day')} past the horizon)",
        ]
        lines += [_unserved_line(u) for u in report.unserved]
    if report.raises:
        lines += ["", "ONE MORE (the roster placed again)"]
        lines += [f"  {r.change}: {r.served} served ({r.more:+d})" for r in report.raises]
    return "\n".join([*lines, "", report.summary])


def _unserved_line(item: Unserved) -> str:
    asked = f" (from {fmt_day(item.requested)})" if item.requested else ""
    if item.earliest is None:
        fits = "no start fits" if item.requested else "not tried (no roster entry)"
    else:
        wait = f"{item.wait_days} day's" if item.wait_days == 1 else f"{item.wait_days} days'"
        fits = f"earliest {fmt_day(item.earliest)}, {wait} wait"
    return f"  {item.patient}{asked}: {fits}; turned away by {item.turned_away_by}"
