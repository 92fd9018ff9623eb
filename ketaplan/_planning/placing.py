"""Building appointments: one builder for chain, anchored and review sessions, and their reasons.

Every appointment's ``reason`` is built from the same facts the search used: the rule that set
the target, what blocked the target day, and where the session went.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ketaplan._text import fmt_day, quantity
from ketaplan.bookings import bookings_of, occupied
from ketaplan.instructions import Visits, current_instructions, instructions_for
from ketaplan.ledger import Ledger
from ketaplan.medications import MedicationRules
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Shift
from ketaplan.protocol import AnchoredSession, Protocol, SessionKind
from ketaplan.rules.anchors import OffsetWindow
from ketaplan.rules.capacity import dosing_start
from ketaplan.rules.finding import Finding
from ketaplan.rules.windows import Step
from ketaplan.slots import Slot
from ketaplan.timing import zone

__all__ = ["Dates", "Placer", "anchored_reason", "step_reason"]


class Dates(NamedTuple):
    """The dates a session's rule allowed: first, aimed for, last."""

    earliest: dt.date
    target: dt.date
    latest: dt.date


class Placer:
    """Turns slots into appointments (with instructions) and books them in the ledger."""

    def __init__(
        self,
        protocol: Protocol,
        *,
        ledger: Ledger,
        patient: Patient | None,
        patient_key: str,
        medications: MedicationRules,
        zone_for: Mapping[str, str],
        booked_at: dt.datetime | None = None,
    ) -> None:
        self.protocol = protocol
        self.booked_at = booked_at
        """The moment the plan is made: each appointment's :attr:`Appointment.booked_at`."""
        self.ledger = ledger
        self.patient = patient
        self.patient_key = patient_key
        self.medications = medications
        self.zone_for = zone_for
        """The zone name of each session kind's local times, by kind id."""
        self._bare: dict[int, tuple[Appointment, SessionKind]] = {}
        """Appointments made without their instructions yet, by identity (see :meth:`done`)."""

    def appointment(
        self,
        kind: SessionKind,
        slot: Slot,
        dates: Dates,
        *,
        id: str,
        phase: str,
        index: int,
        rule: str,
        reason: str,
        dose_number: int | None = None,
        anchored: str | None = None,
        anchor: str | None = None,
        moved_out: Shift | None = None,
        on_request: bool = False,
    ) -> Appointment:
        """The appointment for ``kind`` in ``slot``, with the patient's instructions."""
        dose = None
        if kind.is_dosing and self.protocol.dosing is not None and dose_number is not None:
            dose = self.protocol.dosing.describe(dose_number)
        # Every value is the planner's own (from the validated protocol, clinic and patient, the
        # finder's slot, ``now`` checked by plan() and replan()): built without validating again.
        appointment = Appointment.trusted(
            id=id,
            kind=kind.category,
            session=kind.id,
            name=kind.name,
            phase=phase,
            index=index,
            dose_number=dose_number,
            anchored=anchored,
            anchor=anchor,
            start=slot.start,
            end=slot.end,
            dosing_start=dosing_start(kind, slot.start),
            time_zone=self.zone_for[kind.id],
            location=kind.location,
            resources=slot.resources(),
            dose=dose,
            target=dates.target,
            earliest=dates.earliest,
            latest=dates.latest,
            rule=rule,
            reason=reason,
            shift=moved_out,
            on_request=on_request,
            booked_at=self.booked_at,
        )
        # The instructions are written once the search has kept it (most placements are undone).
        return self.adopt(appointment, kind)

    def adopt(self, appointment: Appointment, kind: SessionKind) -> Appointment:
        """Take ``appointment`` (a copy of one made here) as one to write instructions for."""
        self._bare[id(appointment)] = (appointment, kind)
        return appointment

    def done(
        self, appointment: Appointment, visit: Sequence[Appointment] | Visits = ()
    ) -> Appointment:
        """``appointment`` with its instructions, if this placer made it; else as it is.

        ``visit``: the plan's other appointments (the ride home waits for a review right after).
        """
        made = self._bare.get(id(appointment))
        if made is not None and made[0] is appointment:
            instructions = instructions_for(
                appointment,
                made[1],
                self.protocol,
                patient=self.patient,
                medications=self.medications,
                visit=visit,
            )
            return appointment.model_copy(update={"instructions": instructions})
        if self.booked_at is None:
            return appointment
        # Kept or moved by request: what it says may have changed with its visit (a review
        # after it moved), the patient's medicines or the protocol; the past stays as it was.
        return current_instructions(
            appointment,
            self.protocol,
            patient=self.patient,
            medications=self.medications,
            visit=visit,
            since=self.booked_at,
        )

    def for_step(
        self,
        step: Step,
        slot: Slot,
        day: dt.date,
        *,
        prefix: str,
        rejected: Mapping[dt.date, str] | None,
        relaxed: Sequence[Finding] = (),
    ) -> Appointment:
        """The chain session ``step`` on ``day``; ``rejected`` the days the search tried.

        ``relaxed``: the rules ``on_conflict="shift"`` let the day break, recorded in the
        appointment's ``shift``.
        """
        return self.appointment(
            step.kind,
            slot,
            Dates(step.earliest, step.target, step.latest),
            id=f"{prefix}{step.id}",
            phase=step.phase.id,
            index=step.index,
            dose_number=step.dose_number,
            rule=step.rule,
            reason=step_reason(step, day, rejected),
            moved_out=_moved_out(step, day, relaxed),
            on_request=step.on_request,
        )

    def anchored(
        self,
        rule: AnchoredSession,
        anchor: Appointment,
        slot: Slot,
        dates: Dates,
        *,
        occurrence: int,
        reason: str,
        passed: OffsetWindow | None = None,
        id: str | None = None,
        again: Appointment | None = None,
    ) -> Appointment:
        """The session ``rule`` anchors to ``anchor``, in ``slot``.

        ``passed``: the rule's own window, when it had passed and the session goes late.
        ``id``: its id (default: named after its anchor); ``again``: the session that did not
        take place and that it books again.
        """
        moved_out = None
        if passed is not None:
            day = slot.start.astimezone(zone(self.zone_for[rule.session])).date()
            moved_out = Shift(
                earliest=passed.earliest,
                latest=passed.latest,
                days_outside=(day - passed.latest).days,
                text=(
                    f"its window ({fmt_day(passed.earliest)} to {fmt_day(passed.latest)}) had "
                    "passed when re-planning: "
                    + (
                        f"{again.id} was {again.status}"
                        if again is not None
                        else f"{anchor.id} stands in for a session that did not take place"
                    )
                    + "; placed as soon as possible"
                ),
            )
        return self.appointment(
            self.protocol.session_kind(rule.session),
            slot,
            dates,
            # Named after its anchor, so a re-plan gives the same session the same id.
            id=id or f"{rule.id}-{anchor.id}",
            phase=anchor.phase,
            index=occurrence,
            anchored=rule.id,
            anchor=anchor.id,
            rule=f"{rule.offset.describe()} after {anchor.id}",
            reason=reason,
            moved_out=moved_out,
        )

    def book(self, appointment: Appointment) -> None:
        """Record what ``appointment``, which this placer made, occupies."""
        self.ledger.add_occupied(
            occupied(appointment), patient=self.patient_key, appointment=appointment.id
        )

    def book_kept(self, appointment: Appointment) -> None:
        """Record what ``appointment``, kept from the plan being re-planned, occupies.

        It comes from the caller (a plan file, say), so its bookings are validated.
        """
        for booking in bookings_of(appointment, patient=self.patient_key):
            self.ledger.add(booking)


def _moved_out(step: Step, day: dt.date, relaxed: Sequence[Finding]) -> Shift | None:
    """The record of a session placed outside its window, or breaking a rule it relaxed.

    A session a re-plan resumes after its rules' window had passed is recorded too: the day is
    outside the window the rules give, by the re-planner's decision.
    """
    passed = step.passed
    if passed is not None and not passed.earliest <= day <= passed.latest:
        outside = (day - passed.latest).days if day > passed.latest else 0
        text = (
            f"its window ({fmt_day(passed.earliest)} to {fmt_day(passed.latest)}) had passed "
            f"when re-planning; {step.rule}"
        )
        return Shift(
            earliest=passed.earliest, latest=passed.latest, days_outside=outside, text=text
        )
    inside = step.earliest <= day <= step.latest
    if inside and not relaxed:
        return None
    outside = 0
    if inside:
        text = "placed within its window, relaxing a rule to keep the series going"
    else:
        outside = (day - step.latest).days if day > step.latest else (step.earliest - day).days
        text = (
            f"placed {quantity(outside, 'day')} outside its window ({fmt_day(step.earliest)} to "
            f"{fmt_day(step.latest)}) because no day in it was feasible"
        )
    if step.hard_latest is not None and day > step.hard_latest:
        text += f"; this misses the phase's deadline ({fmt_day(step.hard_latest)})"
    relaxations = [f.message for f in relaxed if f.code != "phase-deadline"]
    if relaxations:
        text += "; " + "; ".join(relaxations)
    return Shift(earliest=step.earliest, latest=step.latest, days_outside=outside, text=text)


def step_reason(step: Step, day: dt.date, rejected: Mapping[dt.date, str] | None) -> str:
    """Why a chain session is on ``day``: its rule, and what moved it off the target."""
    if day == step.target:
        return f"{step.rule}; on the target date {fmt_day(day)}"
    if day == step.aim:
        return (
            f"target {fmt_day(step.target)} ({step.rule}); placed on {fmt_day(day)}, "
            f"{step.window_text}, the day the placement across patients aimed for"
        )
    why = "not feasible"
    if rejected is not None and step.target in rejected:
        why = rejected[step.target]
    elif rejected is not None:
        why = "kept free so that later sessions fit"
    placement = f"moved to {fmt_day(day)}"
    window = f"its window ({fmt_day(step.earliest)} to {fmt_day(step.latest)})"
    if step.earliest <= day <= step.latest:
        placement += f", {step.window_text}"
    elif day > step.latest:
        placement += f", {quantity((day - step.latest).days, 'day')} after {window} closed"
    else:
        placement += f", {quantity((step.earliest - day).days, 'day')} before {window} opens"
    return f"target {fmt_day(step.target)} ({step.rule}); {why}; {placement}"


def anchored_reason(
    rule: AnchoredSession,
    anchor: Appointment,
    day: dt.date,
    target: dt.date,
    rejected: Mapping[dt.date, str],
) -> str:
    """Why an anchored session is on ``day``."""
    rule_text = f"{rule.offset.describe()} after {anchor.id}"
    if day == target:
        return f"{rule_text}; on the target date {fmt_day(day)}"
    why = rejected.get(target, "not feasible")
    return (
        f"target {fmt_day(target)} ({rule_text}); {why}; moved to {fmt_day(day)}, "
        f"within {rule.offset.describe()} after {anchor.id}"
    )
