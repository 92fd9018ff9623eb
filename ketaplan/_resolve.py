"""The arguments verbs share: a plan and what it was made for; where a new plan is made.

``check`` and ``replan`` take a plan with, optionally, its protocol, clinic and patient, and
both insist that these are the plan's own; ``plan`` and ``first_available`` take a clinic or
a time zone for the default clinic. The messages are written here once.

A plan read with its protocol is read with its times derived from each appointment's start
(:func:`timed`): clinic software may move an appointment's ``start`` and ``end`` only, so every
verb that reads a plan with its protocol, and :func:`plan_bookings`, sees the dosing start and
the resource spans the protocol's timeline gives, never the stored copies.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeVar

from ketaplan._model import expect
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.defaults import default_clinic
from ketaplan.errors import InputError
from ketaplan.ledger import Ledger, seconds
from ketaplan.loading import builtin_protocol_ids, load_protocol
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Plan
from ketaplan.protocol import Protocol, SessionKind
from ketaplan.protocol.policy import valid_time_zone
from ketaplan.rules.capacity import dosing_start, same_spans, spans

__all__ = [
    "Need",
    "by_id",
    "course_span",
    "new_plan_clinic",
    "other_courses",
    "plan_bookings",
    "plan_clinic",
    "plan_protocol",
    "protocol_map",
    "read_plan",
    "timed",
    "timed_plans",
]

Need = Literal["required", "optional"]
"""Whether a verb needs the plan's clinic (or patient) to be given, when the plan names one."""


def plan_protocol(
    plan: object, protocol: Protocol | None, patient: Patient | None, *, patient_is: Need
) -> tuple[Plan, Protocol]:
    """The plan and its protocol (the built-in it names, by default), checked to match.

    The plan is returned :func:`timed`: with its dosing starts and resource spans derived from
    its appointments' starts.
    """
    if not isinstance(plan, Plan):
        raise InputError("plan", "a Plan", type(plan).__name__)
    expect("protocol", protocol, (Protocol, type(None)), "a Protocol or None")
    expect("patient", patient, (Patient, type(None)), "a Patient or None")
    if protocol is None and plan.protocol not in builtin_protocol_ids():
        expected = f"the plan's protocol {plan.protocol!r} (it is not built in)"
        raise InputError("protocol", expected, None)
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
    return timed(plan, protocol), protocol


def timed(plan: Plan, protocol: Protocol) -> Plan:
    """``plan`` with each appointment's dosing start and resource spans derived from its start.

    The one rule for the times a plan's appointments hold besides their start and end. Clinic
    software that moves an appointment may update ``start`` and ``end`` only, and a plan file
    edited by hand or written by an older version may hold other times; the protocol's
    timeline, not the stored copies, says when dosing begins (``None`` for a session that is
    not a dose) and when each resource is in use (:func:`ketaplan.rules.capacity.spans`). The
    chair or room numbers the plan assigned are kept. A plan whose stored times are the derived
    ones is returned as it is. ``protocol`` must be the plan's (:func:`plan_protocol` checks it).
    Everything that reads these times of a plan it did not just make reads them through here:
    ``check``, :func:`plan_bookings`, the capacity figures, the run sheet and the exports. Each
    plan object is read once for each protocol (plans and protocols are frozen): a feed that
    exports the same plans again pays for reading them once.
    """
    known = _TIMED.get(id(plan))
    if known is not None and known[0]() is plan and known[1] is protocol:
        return plan if known[2] is None else known[2]
    kinds = {kind.id: kind for kind in protocol.session_kinds}
    updated = []
    changed = False
    for appointment in plan.appointments:
        update = _retimed(appointment, kinds[appointment.session])
        changed = changed or bool(update)
        updated.append(appointment.model_copy(update=update) if update else appointment)
    found = plan.model_copy(update={"appointments": tuple(updated)}) if changed else None
    key = id(plan)
    _TIMED[key] = (weakref.ref(plan, lambda _: _TIMED.pop(key, None)), protocol, found)
    return plan if found is None else found


#: :func:`timed` of each plan object still alive, by identity: the plan (weakly, so that the
#: entry goes when the plan does), the protocol it was read with, and the plan as read
#: (``None``: the plan itself).
_TIMED: dict[int, tuple[weakref.ref[Plan], Protocol, Plan | None]] = {}


def _retimed(appointment: Appointment, kind: SessionKind) -> dict[str, object]:
    """The derived times of ``appointment`` that its stored ones are not (none, mostly).

    The spans are compared without making them, and made only when they differ.
    """
    update: dict[str, object] = {}
    start = appointment.start
    begins = dosing_start(kind, start)
    if appointment.dosing_start != begins:
        update["dosing_start"] = begins
    if not same_spans(kind, start, appointment.resources):
        units = {span.resource: span.unit for span in appointment.resources}
        update["resources"] = spans(kind, start, units=units)
    return update


def protocol_map(protocols: object) -> dict[str, Protocol]:
    """The ``protocols`` a verb over many plans was given, by id: a Protocol, a list, or None.

    An equal copy of one is no second protocol; two different ones of one id are refused.
    """
    if protocols is None:
        return {}
    if isinstance(protocols, Protocol):
        protocols = [protocols]
    if isinstance(protocols, str | bytes) or not isinstance(protocols, Iterable):
        raise InputError("protocols", "a Protocol, a list of Protocols or None", protocols)
    given = list(protocols)
    for index, protocol in enumerate(given):
        expect(f"protocols[{index}]", protocol, Protocol, "a Protocol")
    return by_id("protocols", given, lambda protocol: protocol.id, each="protocol", copies=True)


def read_plan(index: int, plan: Plan, known: Mapping[str, Protocol]) -> tuple[Plan, Protocol]:
    """Plan number ``index`` of many, :func:`timed` by its protocol, and that protocol.

    Its protocol is the one of its id in ``known`` (from :func:`protocol_map`), or the built-in
    it names; a plan of another is refused, since its times could then be read only as
    stored.
    """
    protocol = known.get(plan.protocol)
    if protocol is None and plan.protocol not in builtin_protocol_ids():
        raise InputError(
            f"plans[{index}].protocol",
            "a built-in protocol's id, or the id of a protocol given in protocols",
            plan.protocol,
        )
    return plan_protocol(plan, protocol, None, patient_is="optional")


def timed_plans(plans: Iterable[Plan], protocols: object) -> list[Plan]:
    """Each of ``plans`` read by :func:`read_plan`, with ``protocols`` the ones given.

    What the capacity figures and the exports read: every plan's times once, before any is
    looked at.
    """
    known = protocol_map(protocols)
    return [read_plan(index, plan, known)[0] for index, plan in enumerate(plans)]


def plan_bookings(plan: Plan, /, *, protocol: Protocol | None = None) -> tuple[Booking, ...]:
    """What ``plan`` occupies, each resource for the time its protocol gives from the start.

    The bookings to plan and check other patients around a plan that was read back (from a
    file, or from clinic software, which may have moved an appointment's ``start`` and ``end``
    only): :meth:`Plan.bookings <ketaplan.plans.Plan.bookings>` of the plan :func:`timed`, so
    each chair, room and monitoring place is booked when ``check`` sees it used, not at the
    time stored before a move.

    Args:
        plan: the plan.
        protocol: its protocol (default: the built-in the plan names); required for a plan
            whose protocol is not built in.

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> from ketaplan.defaults import demo_clinic
    >>> made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30),
    ...             clinic=demo_clinic(), preferred_time=dt.time(9),
    ...             now=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    >>> first = made.appointment("induction-1")  # clinic software moves it an hour later
    >>> hour = dt.timedelta(hours=1)
    >>> moved = first.model_copy(update={"start": first.start + hour, "end": first.end + hour})
    >>> edited = made.model_copy(update={"appointments": tuple(
    ...     moved if a.id == "induction-1" else a for a in made.appointments)})
    >>> [f"{b.start.astimezone(demo_clinic().zone):%H:%M}" for b in plan_bookings(edited)
    ...  if b.appointment == "induction-1" and b.resource == "chair"]
    ['10:00']
    """
    if not isinstance(plan, Plan):
        raise InputError("plan", "a Plan", type(plan).__name__)
    plan, _ = plan_protocol(plan, protocol, None, patient_is="optional")
    return plan.bookings()


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


def course_span(plan: Plan) -> tuple[int, int] | None:
    """The plan's course in seconds: its first session taking place to the end of its last.

    ``None`` when none takes place or the plan names no patient.
    """
    active = [a for a in plan.appointments if a.is_active]
    if plan.patient is None or not active:
        return None
    return min(seconds(a.start) for a in active), max(seconds(a.end) for a in active)


def other_courses(ledger: Ledger, plan: Plan) -> list[Booking]:
    """The bookings of the plan's patient that belong to another plan, during its course.

    One course at a time: the rules of a course (its gaps, the minimum interval, one dose a day,
    washouts) are judged within the plan, never across two, so two courses of one patient at
    once would give doses no rule has judged together. :func:`~ketaplan.planner.plan` refuses
    to plan one, and ``check`` reports one (``another-course``). A booking naming no plan (clinic
    software's own) is not a course; ``patient-double-booked`` judges its overlaps.
    """
    span = course_span(plan)
    if span is None or plan.patient is None:
        return []
    found = ledger.course_bookings(plan.patient, *span)
    return [b for b in found if b.plan != plan.id]
