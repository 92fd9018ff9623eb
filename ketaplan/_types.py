"""Literal aliases shared across the package: every mode is a named value, not a boolean."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "EVIDENCE_RANK",
    "MAX_UNITS",
    "NUMBERED_KINDS",
    "RESOURCE_KINDS",
    "WEEKDAYS",
    "CancellationNotice",
    "DoseUnit",
    "Drug",
    "EvidenceLevel",
    "GapUnit",
    "HoldSeverity",
    "Location",
    "MonthEnd",
    "OnConflict",
    "RepeatedTime",
    "ResourceKind",
    "Route",
    "SessionCategory",
    "Setting",
    "SkippedTime",
    "Step",
    "TaskRuleKind",
    "WeekBasis",
    "Weekday",
]

Drug = Literal["ketamine", "esketamine"]
"""Racemic ketamine or esketamine."""

Route = Literal["iv", "im", "subcutaneous", "intranasal", "sublingual", "oral"]
"""How the drug is given."""

Setting = Literal["clinic", "home"]
"""Where dosing happens: in a clinic or at the patient's home."""

EvidenceLevel = Literal["label", "rems", "guideline", "trial", "clinic", "derived"]
"""How strong a source is: an official label, a REMS element, a professional guideline, a
published trial, published clinic practice, or a value ketaplan derived from other sources
(a configurable default with no clinical source of its own)."""

#: Strongest first; used to sort and to compare evidence levels.
EVIDENCE_RANK: dict[str, int] = {
    "label": 0,
    "rems": 1,
    "guideline": 2,
    "trial": 3,
    "clinic": 4,
    "derived": 5,
}

SessionCategory = Literal["dosing", "consultation", "preparation", "integration", "review", "call"]
"""What a session is for: a dose, a consultation or evaluation, preparation before dosing,
integration therapy, an assessment or review milestone, or a follow-up call."""

Location = Literal["clinic", "remote", "home"]
"""Where a session takes place. Remote sessions (calls) happen in clinic hours but use no
room; home sessions depend only on the patient's own calendar."""

ResourceKind = Literal["chair", "room", "monitoring-staff", "prescriber"]
"""What a clinic session occupies: a treatment chair, a room, a share of a monitoring staff
member's attention, or the presence of a prescriber on site."""

RESOURCE_KINDS: tuple[ResourceKind, ...] = get_args(ResourceKind)
"""Every resource kind, in the order reports list them."""

#: The most of one resource (chairs, rooms, monitoring staff) a clinic may have; a chair or
#: room number is at most this.
MAX_UNITS = 500

NUMBERED_KINDS: tuple[ResourceKind, ...] = ("chair", "room")
"""The kinds a clinic has numbered units of (a session keeps its chair or room); monitoring
staff are counted by ratio and the prescriber is present or not."""

Step = Literal["check-in", "dosing", "monitoring", "session"]
"""A step of a session's timeline."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

#: Weekday names in ``date.weekday()`` order.
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

GapUnit = Literal["days", "weeks", "months"]

DoseUnit = Literal["mg", "mg/kg"]

MonthEnd = Literal["clamp", "roll-forward"]
"""What a monthly gap does when the day does not exist: 31 Jan + 1 month is 28/29 Feb
(``clamp``, as dateutil and ICE do) or 1 Mar (``roll-forward``, as CDC CDSi CALCDT-5 does)."""

SkippedTime = Literal["later", "earlier", "raise"]
"""A local time that does not exist (spring forward): move it later by the gap, as RFC 5545
reads it, earlier, or raise."""

RepeatedTime = Literal["earlier", "later", "raise"]
"""A local time that happens twice (fall back): the first occurrence (RFC 5545), the second,
or raise."""

HoldSeverity = Literal["hold", "monitor", "advisory"]
"""A medication rule's force: hold the dose, monitor the patient, or an advisory note."""

TaskRuleKind = Literal["form", "assessment", "confirmation", "call"]
"""What a protocol's staff task is: a form to submit, a rating scale to record, something staff
confirm (consent, transport, a kit's receipt date), or a call with the patient."""

CancellationNotice = Literal["in-time", "late"]
"""How much notice a cancellation gave: at least the clinic's cancellation window before the
session (``in-time``), or less (``late``). A session the patient did not come to, without
notice, is not a cancellation: it is reported missed (a no-show)."""

OnConflict = Literal["raise", "shift"]
"""When a session has no feasible day in its window: raise, or place it after the window and
record the shift (phase deadlines then stop binding)."""

WeekBasis = Literal["treatment", "calendar"]
"""How weeks are counted for "N sessions a week": 7-day blocks from the phase's first session
(as the esketamine label's "weeks 1-4"), or calendar weeks Monday to Sunday."""

StartPolicy = Literal["earliest", "whole-series"]
"""Where a plan's first session goes: ``earliest``, on the first feasible day from the start,
never later to make the rest of the series fit (a week the calendar leaves short, or a phase
that runs past its deadline, is then a warning); ``whole-series``, the first day from which the
whole series fits its deadlines and weekly counts (a later start is a plan note)."""
