"""``protocol_to_fhir()``: a protocol as a FHIR PlanDefinition with ActivityDefinitions.

A Bundle (type ``collection``) holds the ``PlanDefinition`` (the protocol: its name, version,
indication, summary and every source as a ``relatedArtifact`` citation) and an
``ActivityDefinition`` per session kind (an ``Appointment`` of the block's length; a dosing
kind's dose menu as ``dosage`` text). Each phase is an action with the ``Timing`` FHIR can give
it and a ``relatedAction`` to the phase it follows; each anchored session (an integration after
each dose) is an action related to its anchor's phase.

FHIR's ``Timing`` and ``relatedAction`` cannot hold all of a protocol; what they cannot is kept
in words in each action's ``textEquivalent``, and the protocol file stays the authority
(``docs/integration.md`` lists what is lost):

- a gap window's target and its absolute minimum (``period``-``periodMax`` is its window);
- days counted in the clinic's calendar rather than elapsed time;
- per-week cadences' fewest sessions, minimum gap in days and week basis
  (``frequency``/``frequencyMax`` per week is the count);
- preferred weekdays, a missed-session policy, responders-only phases and their responder
  rule, frequency tiers and their choices;
- anchoring to each (or every n-th) session, ``before_next`` and attended shares;
- medication holds, requirements, staff task rules, response-guided tapers, holiday policy and
  boosters on request.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ketaplan._text import quantity
from ketaplan.fhir.mapping import PROTOCOL_URL, fhir_id
from ketaplan.fhir.models import (
    ActivityDefinition,
    ActivityDefinitionParticipant,
    Bundle,
    BundleEntry,
    CodeableConcept,
    Coding,
    Dosage,
    Duration,
    PlanDefinition,
    PlanDefinitionAction,
    PlanDefinitionActionRelatedAction,
    Quantity,
    Range,
    RelatedArtifact,
    Timing,
    TimingRepeat,
)
from ketaplan.plans import opaque_key
from ketaplan.protocol import AnchoredSession, GapSequence, PerWeek, Phase, Protocol
from ketaplan.protocol.gap import GapWindow, InWeek
from ketaplan.protocol.session import SessionKind

__all__ = ["NOT_EXPRESSED", "protocol_to_fhir"]

#: What a PlanDefinition does not hold, in words, for its ``usage``.
NOT_EXPRESSED = (
    "Exported by ketaplan. FHIR Timing cannot hold all of this protocol: gap targets and "
    "absolute minimums, calendar-day counting, per-week minimums and minimum gaps, preferred "
    "weekdays, missed-session policy, responders-only phases, tiers, anchoring to each n-th "
    "session, holds, requirements, task rules and tapers are in each action's text only. The "
    "ketaplan protocol file is the authority."
)

#: UCUM codes for ketaplan's gap units (and FHIR Timing's period units).
_UNITS = {"days": "d", "weeks": "wk", "months": "mo"}
_UCUM = "http://unitsofmeasure.org"
_PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
_PARTICIPANT = {"prescriber": "practitioner", "monitoring-staff": "practitioner"}


def protocol_to_fhir(protocol: Protocol, /) -> bytes:
    """``protocol`` as a Bundle of its PlanDefinition and ActivityDefinitions (JSON, UTF-8).

    >>> import json
    >>> from ketaplan import load_protocol
    >>> data = json.loads(protocol_to_fhir(load_protocol("iv-ketamine-mwf")))
    >>> plan = data["entry"][0]["resource"]
    >>> plan["url"]
    'urn:ketaplan:protocol:iv-ketamine-mwf'
    >>> [action["id"] for action in plan["action"]]
    ['intake', 'induction', 'maintenance', 'response-review']
    >>> repeat = plan["action"][1]["timingTiming"]["repeat"]
    >>> repeat["count"], repeat["frequency"], repeat["period"], repeat["periodUnit"]
    (6, 3, 1, 'wk')
    >>> repeat["boundsDuration"]["value"], repeat["boundsDuration"]["code"]
    (14, 'd')
    """
    url = PROTOCOL_URL + protocol.id
    kinds = [_activity(protocol, kind) for kind in protocol.session_kinds]
    actions = [_phase_action(protocol, index, phase) for index, phase in enumerate(protocol.phases)]
    actions += [_anchored_action(protocol, anchored) for anchored in protocol.anchored]
    definition = PlanDefinition(
        id=fhir_id(opaque_key(url)),
        url=url,
        version=protocol.version,
        name=_machine_name(protocol.id),
        title=protocol.name,
        type=CodeableConcept(coding=[Coding(system=_PLAN_TYPE, code="clinical-protocol")]),
        status="active",
        description=protocol.summary or protocol.name,
        purpose=protocol.indication,
        usage=NOT_EXPRESSED,
        relatedArtifact=[
            RelatedArtifact(
                type="citation", label=source.id, citation=source.citation, url=source.url
            )
            for source in protocol.sources
        ],
        action=actions,
    )
    entries = [BundleEntry(fullUrl=f"urn:uuid:{definition.id}", resource=definition)]
    entries += [BundleEntry(fullUrl=f"urn:uuid:{kind.id}", resource=kind) for kind in kinds]
    return Bundle(type="collection", entry=entries).model_dump_json(indent=2).encode("utf-8")


def _machine_name(slug: str) -> str:
    """A computer-friendly name: ``iv-ketamine-mwf`` is ``IvKetamineMwf``."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", slug) if part)


def _kind_url(protocol: Protocol, kind: str) -> str:
    return f"{PROTOCOL_URL}{protocol.id}:session:{kind}"


def _activity(protocol: Protocol, kind: SessionKind) -> ActivityDefinition:
    """A session kind: an Appointment of the block's length, with who takes part."""
    url = _kind_url(protocol, kind.id)
    timeline = kind.timeline
    steps = ", ".join(
        f"{step} {minutes} min"
        for step, minutes in (
            ("check-in", timeline.check_in_minutes),
            ("dosing", timeline.dosing_minutes),
            ("monitoring at least", timeline.monitoring_minutes),
            ("session", timeline.session_minutes),
        )
        if minutes
    )
    dosage = None
    if kind.is_dosing and protocol.dosing is not None:
        menu = "; ".join(
            f"from dose {step.from_dose}: {protocol.dosing.describe(step.from_dose)}"
            for step in protocol.dosing.steps
        )
        dosage = [Dosage(text=menu)]
    participants = [ActivityDefinitionParticipant(type="patient")]
    participants += [
        ActivityDefinitionParticipant(
            type=_PARTICIPANT[use.resource], role=CodeableConcept(text=use.resource)
        )
        for use in kind.resources
        if use.resource in _PARTICIPANT
    ]
    return ActivityDefinition(
        id=fhir_id(opaque_key(url)),
        url=url,
        version=protocol.version,
        name=_machine_name(kind.id),
        title=kind.name,
        status="active",
        description=f"A {kind.category} session at {kind.location}: {steps}.",
        kind="Appointment",
        code=CodeableConcept(text=kind.category),
        timingDuration=_duration(timeline.block_minutes, "min"),
        participant=participants,
        productCodeableConcept=(CodeableConcept(text=protocol.drug) if kind.is_dosing else None),
        dosage=dosage,
    )


def _quantity(value: int, code: str) -> Quantity:
    return Quantity(value=Decimal(value), unit=code, system=_UCUM, code=code)


def _duration(value: int, code: str) -> Duration:
    return Duration(value=Decimal(value), unit=code, system=_UCUM, code=code)


def _phase_action(protocol: Protocol, index: int, phase: Phase) -> PlanDefinitionAction:
    """A phase: its session kind, its Timing, and the phase it follows."""
    cadence = protocol.cadence(phase)
    count = quantity(phase.count, "session") if phase.count else "until the plan's horizon"
    words = [f"{phase.name}: {count}"]
    if cadence is not None:
        words.append(cadence.describe())
    if phase.within_days:
        words.append(f"all within {quantity(phase.within_days, 'day')}")
    if phase.preferred_weekdays:
        words.append("preferably on " + ", ".join(phase.preferred_weekdays))
    if phase.responders_only:
        words.append("for responders only, after a clinician's decision")
    if phase.tier_choices:
        words.append("other tiers: " + ", ".join(phase.tier_choices))
    children = None
    timing = None
    if isinstance(cadence, GapSequence) and len(cadence.steps) > 1:
        children = [
            PlanDefinitionAction(
                id=f"{phase.id}-step-{number}",
                title=f"every {step.gap.describe()}",
                timingTiming=_gap_timing(step.gap, step.repeat),
            )
            for number, step in enumerate(cadence.steps, start=1)
        ]
    else:
        timing = _timing(cadence, phase)
    return PlanDefinitionAction(
        id=phase.id,
        title=phase.name,
        textEquivalent="; ".join(words),
        definitionCanonical=f"{_kind_url(protocol, phase.session)}|{protocol.version}",
        timingTiming=timing,
        relatedAction=_phase_start(protocol, index, phase),
        action=children,
    )


def _timing(cadence: PerWeek | GapSequence | None, phase: Phase) -> Timing:
    bounds = None
    if phase.within_days:
        bounds = _duration(phase.within_days, "d")
    if isinstance(cadence, PerWeek):
        repeat = TimingRepeat(
            count=phase.count,
            frequency=cadence.sessions,
            frequencyMax=cadence.most if cadence.most != cadence.sessions else None,
            period=Decimal(1),
            periodUnit="wk",
            boundsDuration=bounds,
        )
        return Timing(repeat=repeat)
    if isinstance(cadence, GapSequence):
        timing = _gap_timing(cadence.steps[0].gap, phase.count)
        assert timing.repeat is not None  # noqa: S101 - made just above
        return Timing(repeat=timing.repeat.model_copy(update={"boundsDuration": bounds}))
    return Timing(repeat=TimingRepeat(count=phase.count or 1, boundsDuration=bounds))


def _gap_timing(gap: GapWindow, count: int | None) -> Timing:
    """Sessions a gap apart: ``period``-``periodMax`` is the gap's window."""
    repeat = TimingRepeat(
        count=count,
        period=Decimal(gap.minimum),
        periodMax=Decimal(gap.maximum) if gap.maximum != gap.minimum else None,
        periodUnit=_UNITS[gap.unit],
    )
    return Timing(repeat=repeat)


def _phase_start(
    protocol: Protocol, index: int, phase: Phase
) -> list[PlanDefinitionActionRelatedAction] | None:
    """How the phase follows the one before: after its end, or in a week of the course."""
    if index == 0:
        return None
    start = phase.start
    if isinstance(start, InWeek):
        first = next(p for p in protocol.phases if protocol.session_kind(p.session).is_dosing)
        return [
            PlanDefinitionActionRelatedAction(
                actionId=first.id,
                relationship="after-start",
                offsetDuration=_duration((start.week - 1) * 7, "d"),
            )
        ]
    previous = protocol.phases[index - 1]
    gap = start.gap if start is not None else None
    return [
        PlanDefinitionActionRelatedAction(
            actionId=previous.id,
            relationship="after-end",
            offsetRange=_range(gap) if gap is not None else None,
        )
    ]


def _range(gap: GapWindow) -> Range:
    code = _UNITS[gap.unit]
    return Range(low=_quantity(gap.minimum, code), high=_quantity(gap.maximum, code))


def _anchored_action(protocol: Protocol, anchored: AnchoredSession) -> PlanDefinitionAction:
    """A session placed after others: related to the phase its anchor's sessions are in."""
    anchor = anchored.after
    phase = anchor.phase or next(
        (p.id for p in protocol.phases if p.session == anchor.session), protocol.phases[0].id
    )
    which = anchor.which if isinstance(anchor.which, str) else f"number {anchor.which}"
    if anchor.every:
        which = f"every {anchor.every}th"
    offset = anchored.offset
    kind = protocol.session_kind(anchored.session)
    days = Range(low=_quantity(offset.minimum, "d"), high=_quantity(offset.maximum, "d"))
    return PlanDefinitionAction(
        id=anchored.id,
        title=kind.name,
        textEquivalent=(
            f"{kind.name}, {offset.describe()} after {which} {anchor.session} session "
            f"(target {quantity(offset.target, 'day')})"
        ),
        definitionCanonical=f"{_kind_url(protocol, anchored.session)}|{protocol.version}",
        requiredBehavior="must" if anchored.required else "could",
        relatedAction=[
            PlanDefinitionActionRelatedAction(
                actionId=phase, relationship="after-end", offsetRange=days
            )
        ],
    )
