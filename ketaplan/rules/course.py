"""Rules over the course of treatment: the tier in force, lapses, washouts and switches.

- **Tiers.** A tiered phase uses the tier the clinician chose, and re-planning may change it
  (a response rule, a missed session with worsening). A change applies from the re-plan on:
  :meth:`Course.cadence` answers for a given moment, so history is judged by the tier it was
  planned under.
- **Lapse.** A lapse is more than ``rules.lapse.after_days`` calendar days between a dose
  that took place (or is planned, or a session of the same product in the patient's history)
  and the next dose, measured between their local dates. This is how SUSTAIN-3 counts a lapse:
  the time between sessions, not from a plan's start or from today. A dose after a lapse needs
  the protocol's review session between the two. Looking back from a moment (a re-plan,
  ``status``), a past dose counts once it is reported attended (:func:`taken`).
- **Washout.** A medication the protocol asks to stop ``stop_days_before_start`` days before
  the first session must have stopped at least that many days before it.
- **Switch.** The clinic's ``switch_gap_days`` between the last session of the other product
  (ketamine or esketamine) and the first session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ketaplan._text import fmt_day, quantity
from ketaplan.clinic import Clinic
from ketaplan.patient import Medication, Patient
from ketaplan.plans import Appointment, TierChange
from ketaplan.protocol import HoldRule, Lapse, Phase, Protocol
from ketaplan.protocol.gap import Cadence
from ketaplan.rules.finding import Finding
from ketaplan.timing import zone

__all__ = [
    "Course",
    "LapseFound",
    "Previous",
    "Washout",
    "lapse_at",
    "lapse_finding",
    "lapse_note",
    "lapses",
    "other_product",
    "previous_dose",
    "previous_from_history",
    "recorded_early",
    "recorded_early_finding",
    "review_after",
    "reviewed_after",
    "reviews_after",
    "switch_clear_day",
    "switch_findings",
    "taken",
    "washout_findings",
    "washouts",
]


@dataclass(frozen=True)
class Course:
    """A protocol as planned for one patient: the tiers chosen, and how they changed."""

    protocol: Protocol
    tiers: Mapping[str, str] = field(default_factory=dict)
    """The tier each tiered phase uses now."""
    changes: tuple[TierChange, ...] = ()

    def tier(self, phase: Phase, at: dt.datetime | None = None) -> str | None:
        """The tier ``phase`` uses at ``at`` (now, without it), or ``None`` if untiered."""
        current = self.tiers.get(phase.id, phase.tier)
        if at is None or current is None:
            return current
        for change in reversed(self.changes):
            if change.phase == phase.id and change.since > at:
                current = change.before
        return current

    def cadence(self, phase: Phase, at: dt.datetime | None = None) -> Cadence | None:
        """The cadence ``phase`` follows at ``at`` (now, without it)."""
        tier = self.tier(phase, at)
        if tier is not None:
            return self.protocol.tier(tier).cadence
        return phase.cadence

    def in_force_since(self, phase: Phase, at: dt.datetime) -> dt.datetime | None:
        """When the tier ``phase`` uses at ``at`` came into force (``None``: from the start)."""
        since = None
        for change in self.changes:
            if change.phase == phase.id and change.since <= at:
                since = change.since
        return since


# -- lapse --------------------------------------------------------------------------------------


class Previous(NamedTuple):
    """The session a lapse is measured from."""

    day: dt.date
    end: dt.datetime | None
    """Its end, when it is one of the plan's (a review must come after it)."""
    label: str
    """In words: ``"the last session on Sat 7 Nov 2026"`` or an appointment id."""


class LapseFound(NamedTuple):
    """A dose after a lapse, and whether a review came between."""

    dose: Appointment
    days: int
    previous: Previous
    reviewed: bool


def previous_from_history(patient: Patient | None, protocol: Protocol) -> Previous | None:
    """The patient's last session of the protocol's product before this plan, if any."""
    if patient is None:
        return None
    history = [s.date for s in patient.history if s.product == protocol.drug]
    if not history:
        return None
    last = max(history)
    return Previous(last, None, f"the last session on {fmt_day(last)}")


def taken(sessions: Iterable[Appointment], *, now: dt.datetime | None) -> list[Appointment]:
    """The sessions known to take place as of ``now``: a past one counts once reported attended.

    A dose (or review) still ``planned`` after its start may not have happened: a lapse is
    measured from the last dose someone recorded (without ``now``, every session counts).
    """
    return [s for s in sessions if now is None or s.status == "attended" or s.start >= now]


#: What can only be recorded once a session has begun: what happened.
RECORDED = frozenset({"attended", "missed"})


def recorded_early(
    status: str, start: dt.datetime, *, now: dt.datetime, at: dt.datetime | None = None
) -> dt.datetime | None:
    """When a session recorded as ``status`` began, if that is after ``now``; else ``None``.

    Attended (at ``start``, or at ``at``) and missed are what happened: as of ``now`` a later
    session has not happened yet (a mistyped id would record a dose never given). Moves and
    cancellations are about what is to come. ``replan`` refuses such an event; ``check`` with
    ``now`` reports such a plan (:func:`recorded_early_finding`).
    """
    if status not in RECORDED:
        return None
    moment = at or start
    return moment if moment.astimezone(dt.UTC) > now.astimezone(dt.UTC) else None


def recorded_early_finding(appointment: Appointment, *, now: dt.datetime) -> Finding | None:
    """``recorded-before-it-began`` for a session recorded as what happened before it began."""
    began = recorded_early(appointment.status, appointment.start, now=now)
    if began is None:
        return None
    local = zone(appointment.time_zone)
    begins = f"{began.astimezone(local):%H:%M on %d %b %Y}"
    return Finding(
        "recorded-before-it-began",
        f"is recorded {appointment.status}, but begins {begins}, after now "
        f"({now.astimezone(local):%H:%M on %d %b %Y})",
        "a session is recorded attended or missed once it has begun",
    )


def previous_dose(doses: Iterable[Appointment], *, now: dt.datetime) -> Previous | None:
    """The last dose :func:`taken` before ``now``, which a lapse at ``now`` is measured from."""
    before = [d for d in taken(doses, now=now) if d.start < now]
    if not before:
        return None
    last = max(before, key=lambda d: d.start)
    return Previous(last.local_date, last.end, last.id)


def review_after(
    rule: Lapse,
    previous: Previous,
    reviews: Iterable[Appointment],
    *,
    before: dt.datetime | None = None,
) -> Appointment | None:
    """The first session of the rule's review kind that takes place after ``previous``.

    ``before``: and starts before this moment (the dose the review must precede). Give the
    reviews through :func:`taken` to count a past one only once it is recorded attended.
    """
    return next(reviews_after(rule, previous, reviews, before=before), None)


def reviews_after(
    rule: Lapse,
    previous: Previous,
    reviews: Iterable[Appointment],
    *,
    before: dt.datetime | None = None,
) -> Iterator[Appointment]:
    """Every session of the rule's review kind that takes place after ``previous``.

    In the order given; :func:`review_after` is the first (any of them is a review).
    """
    end = previous.end
    return (
        r
        for r in reviews
        if r.session == rule.session
        and r.is_active
        and (before is None or r.start < before)
        and (end is None or r.start >= end)
    )


def reviewed_after(
    rule: Lapse,
    previous: Previous,
    reviews: Iterable[Appointment],
    *,
    before: dt.datetime | None = None,
) -> bool:
    """Whether :func:`review_after` finds a review."""
    return review_after(rule, previous, reviews, before=before) is not None


def lapse_at(rule: Lapse, previous: Previous, day: dt.date) -> int | None:
    """The days since ``previous`` if a dose on ``day`` would come after a lapse."""
    days = (day - previous.day).days
    return days if days > rule.after_days else None


def lapses(
    rule: Lapse,
    doses: Sequence[Appointment],
    *,
    before: Previous | None,
    reviews: Iterable[Appointment],
    now: dt.datetime | None,
) -> list[LapseFound]:
    """Every dose in ``doses`` (active, in order) that comes after a lapse.

    ``before`` is the session before the first dose (from the history); ``reviews`` the
    sessions of the rule's review kind that take place. A lapse is measured from the doses
    :func:`taken` as of ``now`` (a past dose counts once recorded attended), for the planner,
    ``check`` and the status alike.
    """
    found = []
    kept = [r for r in reviews if r.session == rule.session]
    previous = before
    for dose in taken(doses, now=now):
        if previous is not None:
            days = lapse_at(rule, previous, dose.local_date)
            if days is not None:
                reviewed = reviewed_after(rule, previous, kept, before=dose.start)
                found.append(LapseFound(dose, days, previous, reviewed))
        previous = Previous(dose.local_date, dose.end, dose.id)
    return found


def lapse_finding(rule: Lapse, found: LapseFound) -> Finding:
    """``lapse-without-review`` for a dose after a lapse with no review."""
    return Finding(
        "lapse-without-review",
        f"{found.dose.id} comes {quantity(found.days, 'day')} after {found.previous.label} with no "
        f"{rule.session} before it",
        rule=f"rules.lapse ({quantity(rule.after_days, 'day')}: {rule.requires})",
        source=rule.source,
    )


def lapse_note(rule: Lapse, days: int, previous: Previous, drug: str) -> str:
    """What the planner tells people when a review comes first."""
    return (
        f"{quantity(days, 'day')} since {previous.label} of {drug} (more than {rule.after_days}): "
        f"{rule.requires} first"
    )


# -- washout and switch -------------------------------------------------------------------------


class Washout(NamedTuple):
    """A medication that must stop before the first session, and when the first may be."""

    medication: Medication
    rule: HoldRule
    days: int
    clear: dt.date | None
    """The first day a session may take place, or ``None`` without a stop date."""


def washouts(
    patient: Patient | None, rules: Iterable[tuple[Medication, HoldRule]]
) -> list[Washout]:
    """The washouts ``rules`` ask for: each matching medication with a stop rule."""
    if patient is None:
        return []
    found = []
    for medication, rule in rules:
        days = rule.stop_days_before_start
        if days is None:
            continue
        clear = None if medication.stop is None else medication.stop + dt.timedelta(days=days)
        found.append(Washout(medication, rule, days, clear))
    return found


def washout_findings(items: Iterable[Washout], first: Appointment) -> list[Finding]:
    """``washout`` for each medication not stopped long enough before ``first``."""
    found = []
    for item in items:
        name = item.medication.name
        if item.clear is None:
            problem = f"{name} has no stop date; it must stop {quantity(item.days, 'day')} before"
        elif item.clear > first.local_date:
            assert item.medication.stop is not None  # noqa: S101 - clear comes from the stop
            problem = (
                f"{name} stops {fmt_day(item.medication.stop)}, less than "
                f"{quantity(item.days, 'day')} before the first session on "
                f"{fmt_day(first.local_date)}"
            )
        else:
            continue
        found.append(
            Finding(
                "washout",
                problem,
                rule=f"{item.rule.id} washout ({quantity(item.days, 'day')})",
                source=item.rule.source,
            )
        )
    return found


def switch_clear_day(
    clinic: Clinic | None, patient: Patient | None, protocol: Protocol
) -> tuple[dt.date, dt.date, int] | None:
    """After a session of the other product: its date, the first day allowed, the gap."""
    if clinic is None or patient is None or clinic.switch_gap_days is None:
        return None
    other = [s.date for s in patient.history if s.product != protocol.drug]
    if not other:
        return None
    last = max(other)
    gap = clinic.switch_gap_days
    return last, last + dt.timedelta(days=gap), gap


def switch_findings(
    clinic: Clinic | None, patient: Patient | None, protocol: Protocol, first: Appointment
) -> list[Finding]:
    """``switch-gap`` when ``first`` comes too soon after the other product."""
    switch = switch_clear_day(clinic, patient, protocol)
    if switch is None or clinic is None:
        return []
    last, clear, gap = switch
    if first.local_date >= clear:
        return []
    return [
        Finding(
            "switch-gap",
            f"{first.id} on {fmt_day(first.local_date)} is "
            f"{quantity((first.local_date - last).days, 'day')} after the last session of the "
            f"other product ({fmt_day(last)}); the clinic asks {gap}",
            rule=f"clinic {clinic.id}: switch_gap_days ({gap})",
        )
    ]


def other_product(protocol: Protocol) -> str:
    """The product a switch comes from."""
    return "esketamine" if protocol.drug == "ketamine" else "ketamine"
