"""The arguments verbs share: a plan and what it was made for; where a new plan is made.

``check`` and ``replan`` take a plan with, optionally, its protocol, clinic and patient, and
both insist that these are the plan's own; ``plan`` and ``first_available`` take a clinic or
a time zone for the default clinic. The messages are written here once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

from ketaplan._model import expect
from ketaplan.clinic import Clinic
from ketaplan.defaults import default_clinic
from ketaplan.errors import InputError
from ketaplan.loading import load_protocol
from ketaplan.patient import Patient
from ketaplan.plans import Plan
from ketaplan.protocol import Protocol
from ketaplan.protocol.policy import valid_time_zone

__all__ = ["Need", "by_id", "new_plan_clinic", "plan_clinic", "plan_protocol"]

Need = Literal["required", "optional"]
"""Whether a verb needs the plan's clinic (or patient) to be given, when the plan names one."""


def plan_protocol(
    plan: object, protocol: Protocol | None, patient: Patient | None, *, patient_is: Need
) -> tuple[Plan, Protocol]:
    """The plan and its protocol (the built-in it names, by default), checked to match."""
    if not isinstance(plan, Plan):
        raise InputError("plan", "a Plan", type(plan).__name__)
    expect("protocol", protocol, (Protocol, type(None)), "a Protocol or None")
    expect("patient", patient, (Patient, type(None)), "a Patient or None")
    protocol = protocol or load_protocol(plan.protocol)
    if protocol.id != plan.protocol:
        raise InputError("protocol", f"the plan's protocol {plan.protocol!r}", protocol.id)
    _fits(plan, protocol)
    if plan.patient is not None:
        wrong = patient is not None and patient.id != plan.patient
        if wrong or (patient_is == "required" and patient is None):
            raise InputError(
                "patient", f"the plan's patient {plan.patient!r}", patient.id if patient else None
            )
    return plan, protocol


def _fits(plan: Plan, protocol: Protocol) -> None:
    """Refuse a plan whose sessions or tiers are not its protocol's.

    A plan file edited to name others is refused here, by every verb that reads a plan with its
    protocol, rather than met later as a KeyError.
    """
    kinds = {kind.id for kind in protocol.session_kinds}
    for number, appointment in enumerate(plan.appointments):
        if appointment.session not in kinds:
            expected = f"a session kind of protocol {protocol.id} ({', '.join(sorted(kinds))})"
            raise InputError(f"plan.appointments[{number}].session", expected, appointment.session)
    tiers = [tier.id for tier in protocol.tiers]
    tiered = {phase.id for phase in protocol.phases if phase.tier is not None}
    named = [(f"plan.tiers[{phase!r}]", phase, tier) for phase, tier in plan.tiers.items()]
    named += [
        (f"plan.tier_changes[{number}].{which}", change.phase, tier)
        for number, change in enumerate(plan.tier_changes)
        for which, tier in (("before", change.before), ("after", change.after))
    ]
    for field, phase, tier in named:
        if phase not in tiered:
            expected = f"a tiered phase of protocol {protocol.id} ({', '.join(sorted(tiered))})"
            raise InputError(field, expected, phase)
        if tier not in tiers:
            raise InputError(field, f"one of the protocol's tiers ({', '.join(tiers)})", tier)


def plan_clinic(plan: Plan, clinic: Clinic | None, *, clinic_is: Need) -> Clinic | None:
    """The plan's clinic: the one given (checked to match), or the default clinic it used."""
    expect("clinic", clinic, (Clinic, type(None)), "a Clinic or None (demo_clinic() gives one)")
    if clinic is None:
        if plan.clinic == "default-clinic":
            return default_clinic(plan.time_zone)
        if clinic_is == "required":
            raise InputError("clinic", f"the plan's clinic {plan.clinic!r}", None)
        return None
    if clinic.id != plan.clinic:
        raise InputError("clinic", f"the plan's clinic {plan.clinic!r}", clinic.id)
    if clinic.time_zone != plan.time_zone:  # a plan is made in its clinic's zone
        expected = f"the plan's clinic in the plan's zone {plan.time_zone!r}"
        raise InputError("clinic", expected, f"{clinic.id} in {clinic.time_zone}")
    return clinic


def new_plan_clinic(protocol: Protocol, clinic: Clinic | None, time_zone: str | None) -> Clinic:
    """Where a new plan is made: ``clinic``, or the default clinic in ``time_zone``.

    Without a zone, the default clinic is in the protocol's zone, or UTC. A zone given with a
    clinic must be the clinic's own: any other would be left unused without a word.
    """
    if time_zone is not None:
        valid_time_zone("time_zone", time_zone)
    if clinic is None:
        return default_clinic(time_zone or protocol.calendar.time_zone or "UTC")
    if time_zone is not None and time_zone != clinic.time_zone:
        expected = f"left out with a clinic, or the clinic's own zone {clinic.time_zone!r}"
        raise InputError("time_zone", expected, time_zone)
    return clinic


_Item = TypeVar("_Item")


def by_id(
    field: str,
    items: Iterable[_Item],
    key: Callable[[_Item], str],
    *,
    each: str,
    copies: bool = False,
) -> dict[str, _Item]:
    """``items`` (protocols, patients, plans) by their ids: two with one id are refused.

    With both, which one a plan is read with would depend on their order, without a word.
    ``copies``: an equal copy is no second item (a protocol loaded once for each plan); plans
    are never given twice, since each would count.
    """
    found: dict[str, _Item] = {}
    for index, item in enumerate(items):
        ident = key(item)
        if ident in found and not (copies and found[ident] == item):
            expected = f"unique among the {field} (each {each} once)"
            raise InputError(f"{field}[{index}].id", expected, ident)
        found[ident] = item
    return found
