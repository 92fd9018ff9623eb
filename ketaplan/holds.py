"""Medication holds around sessions: whether one applies, the doses to skip, the instruction.

A hold rule gives a window around each session: from ``hold_before_hours`` before dosing starts
(or from midnight of the session day, ``hold_day_of``) until ``resume_after_hours`` after dosing
*ends* (the end of the infusion, as the sources count "post-infusion"). A scheduled dose of a
matching medication inside the window is to be skipped; the patient instruction names each dose
and when to resume.

Whether a hold applies to a patient's medication is decided here, once, for the instruction
builder, the task builder and ``check`` alike (:func:`hold_state`): a clinician's answer on the
medication first; then seizure medicines, which are never held by default; then conditional
holds, which wait for a clinician.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Literal, NamedTuple

from ketaplan._text import fmt_day
from ketaplan.medications import MedicationRules
from ketaplan.patient import Medication
from ketaplan.plans import Appointment, Instruction
from ketaplan.protocol import HoldRule, SessionKind
from ketaplan.timing import resolve, shift, zone

__all__ = [
    "SEIZURE_MEDICINE",
    "SEIZURE_POSSIBLE",
    "SEIZURE_RESCUE",
    "DosingSpan",
    "HoldState",
    "dosing_span",
    "hold_instruction",
    "hold_state",
    "hold_window",
    "resumes_after",
    "seizure_exemption",
    "skipped_doses",
]

#: Classes (``library/medications/classes.toml``) of medicines taken mainly for seizures.
SEIZURE_MEDICINE = "seizure-medicine"
#: Classes of medicines whose as-needed use is usually seizure rescue.
SEIZURE_RESCUE = "seizure-rescue"
#: Classes of medicines also prescribed for seizures: a hold on one asks for its indication.
SEIZURE_POSSIBLE = "seizure-possible"

_SEIZURE_WORDS = re.compile(r"seiz|epilep|convuls|status epilepticus", re.IGNORECASE)

HoldState = Literal["hold", "to-confirm", "exempt", "not-applicable"]
"""What a ``hold`` rule does for one medication of one patient: it applies (``hold``); it waits
for a clinician (``to-confirm``, a conditional rule); the medicine is a seizure medicine
(``exempt``, a note for the clinician); or a clinician said it does not apply."""


class DosingSpan(NamedTuple):
    """When dosing starts and ends at one session, in the session's zone."""

    start: dt.datetime
    end: dt.datetime


def dosing_span(appointment: Appointment, kind: SessionKind) -> DosingSpan | None:
    """The dosing of ``appointment`` (of ``kind``), or ``None`` for a session without one."""
    if appointment.dosing_start is None:
        return None
    start = appointment.dosing_start.astimezone(zone(appointment.time_zone))
    return DosingSpan(start, shift(start, minutes=kind.timeline.dosing_minutes))


def seizure_exemption(medication: Medication, rules: MedicationRules) -> str | None:
    """Why ``medication`` is never held by default, or ``None``.

    No source supports withholding anti-epileptic doses or seizure rescue medicines; the clinic
    holds concern psychiatric use (clinical review R2).
    """
    if medication.indication is not None and _SEIZURE_WORDS.search(medication.indication):
        return f"taken for {medication.indication}"
    classes = rules.classes_of(medication.name) or frozenset()
    if SEIZURE_MEDICINE in classes:
        return "a seizure medicine"
    if medication.as_needed and SEIZURE_RESCUE in classes:
        return "taken as needed, usually as seizure rescue"
    return None


def hold_state(medication: Medication, rule: HoldRule, rules: MedicationRules) -> HoldState:
    """Whether ``rule`` (a hold) applies to ``medication``: the one place that decides it."""
    if medication.hold == "not-applicable":
        return "not-applicable"
    if medication.hold == "confirmed":
        return "hold"
    if seizure_exemption(medication, rules) is not None:
        return "exempt"
    return "to-confirm" if rule.conditional else "hold"


def hold_window(rule: HoldRule, dosing: DosingSpan) -> tuple[dt.datetime, dt.datetime] | None:
    """The hold around a session's dosing (aware, local), or ``None`` when ``rule`` has none."""
    if rule.severity != "hold":
        return None
    begin = dosing.start
    if rule.hold_before_hours is not None:
        begin = shift(dosing.start, hours=-rule.hold_before_hours)
    if rule.hold_day_of:
        midnight = dt.datetime.combine(dosing.start.date(), dt.time(0), tzinfo=dosing.start.tzinfo)
        begin = min(begin, midnight)
    end = dosing.start
    if rule.resume_after_hours is not None:
        end = shift(dosing.end, hours=rule.resume_after_hours)
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


def skipped_doses(medication: Medication, rule: HoldRule, dosing: DosingSpan) -> list[dt.datetime]:
    """The scheduled doses of ``medication`` inside the hold around a session."""
    window = hold_window(rule, dosing)
    if window is None:
        return []
    begin, end = window
    tz = dosing.start.tzinfo
    assert tz is not None  # noqa: S101 - appointments carry their zone
    doses = _doses(medication, begin.date() - dt.timedelta(days=1), end.date(), tz)
    return [dose for dose in doses if begin <= dose < end]


def resumes_after(end: dt.datetime, dosing_start: dt.datetime) -> dt.datetime | None:
    """When the patient may take the medicine again, named; ``None`` for "after the session".

    A hold that ends when dosing starts (no ``resume_after_hours``) ends with the session.
    """
    return end if end > dosing_start else None


def hold_instruction(
    medication: Medication, rule: HoldRule, dosing: DosingSpan
) -> Instruction | None:
    """The patient's instruction for one medication around one session, if any.

    The caller has decided that the hold applies (:func:`hold_state`).
    """
    window = hold_window(rule, dosing)
    if window is None:
        return None
    begin, end = window
    skipped = skipped_doses(medication, rule, dosing)
    name = medication.name
    if skipped:
        doses = "; ".join(f"skip your {d:%H:%M} {name} on {fmt_day(d.date())}" for d in skipped)
        text = f"{doses[0].upper()}{doses[1:]}"
    elif medication.as_needed or not medication.times:
        text = f"Do not take {name} from {begin:%H:%M} on {fmt_day(begin.date())}"
    else:
        return None
    resume = resumes_after(end, dosing.start)
    if resume is not None:
        text += f"; resume after {resume:%H:%M} on {fmt_day(resume.date())}"
    else:
        text += "; resume after the session"
    return Instruction(
        kind="medication-hold",
        at=begin,
        until=end,
        text=f"{text} (your clinic's {rule.medication} hold).",
        source=rule.source,
    )
