"""What ``check`` reports: violations with stable codes."""

from __future__ import annotations

from typing import Literal

from ketaplan._model import Model, Ref, Text
from ketaplan._types import EvidenceLevel

__all__ = ["CODES", "Severity", "Violation", "ViolationCode"]

Severity = Literal["error", "warning"]

ViolationCode = Literal[
    "gap-below-absolute-minimum",
    "gap-below-minimum",
    "gap-above-maximum",
    "outside-window",
    "interval-too-short",
    "doses-same-day",
    "consecutive-days",
    "too-many-in-7-days",
    "week-count",
    "phase-deadline",
    "phase-count",
    "induction-out-of-range",
    "dose-mismatch",
    "lapse-without-review",
    "clinic-closed",
    "outside-opening-hours",
    "outside-patient-availability",
    "patient-blackout",
    "before-minimum-notice",
    "instructions-before-booking",
    "booked-in-the-past",
    "recorded-before-it-began",
    "beyond-booking-horizon",
    "patient-double-booked",
    "another-course",
    "over-capacity",
    "chair-buffer",
    "unit-out-of-service",
    "no-prescriber",
    "block-too-short",
    "anchored-outside-window",
    "milestone-missing",
    "milestone-after-few-sessions",
    "requirement-unmet",
    "taken-before-decision",
    "checkpoint-task-missing",
    "instructions-out-of-date",
    "medication-hold",
    "medication-hold-not-applicable",
    "hold-unconfirmed",
    "monitoring-task-missing",
    "washout",
    "switch-gap",
    "same-day-exclusion",
    "unknown-medication",
]
"""Every code ``check`` reports (the keys of :data:`CODES`)."""

#: Every violation code, its severity, and what it means. Codes are stable: clinic software may
#: rely on them. ``docs/checking.md`` lists each with how to fix it.
CODES: dict[ViolationCode, tuple[Severity, str]] = {
    # gaps and dose rules
    "gap-below-absolute-minimum": ("error", "a dose comes sooner than the gap's absolute minimum"),
    "gap-below-minimum": ("warning", "a dose falls in the grace period before the gap's minimum"),
    "gap-above-maximum": ("error", "a dose comes later than the gap's maximum"),
    "outside-window": ("error", "a session is outside its per-week or treatment-week window"),
    "interval-too-short": ("error", "doses are closer than the minimum interval in hours"),
    "doses-same-day": ("error", "two doses on the same day"),
    "consecutive-days": ("warning", "doses on consecutive days in a protocol that avoids them"),
    "too-many-in-7-days": ("error", "more doses in a rolling 7 days than the protocol allows"),
    "week-count": ("error", "a week has fewer or more sessions than the cadence allows"),
    "phase-deadline": ("error", "a phase's sessions do not fit in its deadline"),
    "phase-count": ("error", "a phase has more sessions than the protocol (a warning if fewer)"),
    "induction-out-of-range": (
        "warning",
        "an IV induction outside 4-8 infusions over 7-28 days (McInnes 2022)",
    ),
    "dose-mismatch": ("error", "the dose differs from the protocol's titration"),
    "lapse-without-review": ("error", "a dose after a lapse with no review first"),
    # calendar
    "clinic-closed": ("error", "a session on a day the clinic is closed"),
    "outside-opening-hours": ("error", "a session outside the clinic's opening hours"),
    "outside-patient-availability": ("error", "a session outside the patient's availability"),
    "patient-blackout": ("error", "a session on a patient's blackout date"),
    "before-minimum-notice": ("warning", "a session sooner than the clinic's minimum notice"),
    "instructions-before-booking": (
        "warning",
        "a session booked after its own instructions (fasting, a nasal spray) began",
    ),
    "booked-in-the-past": ("error", "a session booked after the moment it was to begin"),
    "recorded-before-it-began": ("error", "a session recorded attended or missed before it began"),
    "beyond-booking-horizon": ("warning", "a session beyond the clinic's booking horizon"),
    # people and resources
    "patient-double-booked": ("error", "two of the patient's appointments overlap"),
    "another-course": ("error", "the patient has another plan's sessions during this course"),
    "over-capacity": ("error", "more chairs, rooms or monitored patients than the clinic has"),
    "chair-buffer": ("error", "a chair or room reused before its cleaning buffer ends"),
    "unit-out-of-service": ("error", "a chair or room used on a day it is out of service"),
    "no-prescriber": ("error", "a session that needs a prescriber on site has none"),
    # the session itself
    "block-too-short": ("error", "a block shorter than dosing plus the minimum monitoring"),
    "anchored-outside-window": ("error", "an anchored session outside its offset window"),
    "milestone-missing": ("error", "a required anchored session (evaluation, review) is missing"),
    "milestone-after-few-sessions": (
        "warning",
        "a milestone follows a phase of which fewer sessions took place than its protocol asks",
    ),
    "requirement-unmet": ("error", "a requirement before the first dose is not met"),
    "taken-before-decision": (
        "warning",
        "a session that waits for a clinician's decision took place before it was recorded",
    ),
    "checkpoint-task-missing": (
        "warning",
        "a planned dose's checkpoint (e.g. blood pressure at 40 min) has no staff task",
    ),
    "instructions-out-of-date": (
        "error",
        "a planned session tells the patient times (fasting, ride home) its times no longer give",
    ),
    # medications
    "medication-hold": ("error", "a scheduled medication dose inside a hold, with no instruction"),
    "medication-hold-not-applicable": (
        "error",
        (
            "the patient is told to skip a medicine the hold does not apply to (a seizure "
            "medicine, an unconfirmed conditional hold, or one the clinician ruled out)"
        ),
    ),
    "hold-unconfirmed": (
        "warning",
        "a conditional hold with neither a clinician's answer nor a task asking for one",
    ),
    "monitoring-task-missing": ("warning", "an interaction that needs monitoring has no task"),
    "washout": ("error", "a medication not stopped long enough before the first session"),
    "switch-gap": ("error", "a switch between ketamine and esketamine too soon"),
    "same-day-exclusion": ("error", "a dose on the same day as an excluded treatment (ECT, TMS)"),
    "unknown-medication": ("warning", "a medication ketaplan cannot match to any class"),
}


class Violation(Model):
    """One thing wrong with a plan."""

    code: ViolationCode
    """Stable identifier, e.g. ``"gap-above-maximum"`` (see ``CODES``)."""
    severity: Severity
    appointments: tuple[Ref, ...] = ()
    """The appointments involved, by id. When the rule judged one appointment, it comes last,
    after those it was judged against (the session before it, whose gap it measures)."""
    rule: Text
    """The rule broken, e.g. ``"rules.min_interval (48 h)"``."""
    message: Text
    """A sentence a person understands."""
    source: Ref | None = None
    """The id of the rule's source, if it has one."""
    evidence: EvidenceLevel | None = None
    """The evidence level of that source."""
