"""The protocol language: a treatment series written as data.

A protocol is read from TOML or JSON (see :mod:`ketaplan.loading`) or built in Python; either
way it is validated on construction and is immutable afterwards.
"""

from ketaplan.protocol.dose import DoseStep, Dosing
from ketaplan.protocol.gap import (
    AfterPrevious,
    Cadence,
    GapSequence,
    GapStep,
    GapWindow,
    InWeek,
    PerWeek,
    PhaseStart,
)
from ketaplan.protocol.model import MAX_SESSIONS, Protocol
from ketaplan.protocol.phase import (
    MAX_PHASE_SESSIONS,
    Anchor,
    AnchoredSession,
    DayWindow,
    Phase,
    Responder,
    Tier,
)
from ketaplan.protocol.policy import (
    BoostersOnRequest,
    CalendarPolicy,
    HoldRule,
    HoldScope,
    Lapse,
    MaxPerWeek,
    MinInterval,
    Requirement,
    ResponseRule,
    Rules,
    TaskRule,
)
from ketaplan.protocol.session import Checkpoint, Instructions, ResourceUse, SessionKind, Timeline
from ketaplan.protocol.source import Source

__all__ = [
    "MAX_PHASE_SESSIONS",
    "MAX_SESSIONS",
    "AfterPrevious",
    "Anchor",
    "AnchoredSession",
    "BoostersOnRequest",
    "Cadence",
    "CalendarPolicy",
    "Checkpoint",
    "DayWindow",
    "DoseStep",
    "Dosing",
    "GapSequence",
    "GapStep",
    "GapWindow",
    "HoldRule",
    "HoldScope",
    "InWeek",
    "Instructions",
    "Lapse",
    "MaxPerWeek",
    "MinInterval",
    "PerWeek",
    "Phase",
    "PhaseStart",
    "Protocol",
    "Requirement",
    "ResourceUse",
    "Responder",
    "ResponseRule",
    "Rules",
    "SessionKind",
    "Source",
    "TaskRule",
    "Tier",
    "Timeline",
]
