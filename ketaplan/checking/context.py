"""What every family of ``check`` rules shares: the plan, its setting, and one way to report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ketaplan.clinic import Clinic
from ketaplan.ledger import Ledger
from ketaplan.medications import MedicationRules, medication_rules
from ketaplan.patient import Patient
from ketaplan.plans import Appointment, Plan, Task
from ketaplan.protocol import Protocol
from ketaplan.rules.chain import Chain, live
from ketaplan.rules.course import Course
from ketaplan.rules.finding import Finding
from ketaplan.violation import CODES, Severity, Violation, ViolationCode

__all__ = ["Context"]


@dataclass(frozen=True)
class Context:
    """A plan to check, with its protocol, clinic, patient, other bookings and the time now."""

    plan: Plan
    protocol: Protocol
    clinic: Clinic | None
    patient: Patient | None
    bookings: Ledger | None
    """The clinic's other bookings, indexed by day (the plan's own may be among them)."""
    now: dt.datetime | None
    chain: Chain = field(init=False)
    """Every phase session of the plan, by start."""
    courses: list[Chain] = field(init=False)
    """The chain of each course (a re-induction starts a new one), each judged on its own."""
    active: list[Appointment] = field(init=False)
    """The appointments that take place (planned or attended)."""

    def __post_init__(self) -> None:
        plan = self.plan
        course = Course(self.protocol, plan.tiers, plan.tier_changes)
        series = live(plan.appointments)
        object.__setattr__(self, "chain", Chain.of(course, series))
        object.__setattr__(self, "courses", Chain.courses(course, series))
        object.__setattr__(self, "active", [a for a in plan.appointments if a.is_active])

    # Worked out when first asked (a context is made for one check of one plan, which never
    # changes): a plan that breaks no rule, checked without a patient, needs neither.
    @cached_property
    def rules(self) -> MedicationRules:
        """The medication rules in force for the protocol at the clinic (and their sources)."""
        return medication_rules(self.protocol, self.clinic)

    @cached_property
    def tasks(self) -> dict[str, Task]:
        """The plan's staff tasks, by id."""
        return {task.id: task for task in self.plan.tasks}

    @property
    def doses(self) -> tuple[Appointment, ...]:
        """The doses that take place, in order."""
        return self.chain.doses()

    def violation(
        self,
        code: ViolationCode,
        appointments: Sequence[str],
        rule: str,
        message: str,
        *,
        source: str | None = None,
        severity: Severity | None = None,
    ) -> Violation:
        """A violation, with the evidence level of its source."""
        found = None
        if source:  # the medication rules' sources, then the protocol's
            found = self.rules.source(source) or next(
                (s for s in self.protocol.sources if s.id == source), None
            )
        return Violation(
            code=code,
            severity=severity or CODES[code][0],
            appointments=tuple(appointments),
            rule=rule,
            message=message,
            source=source,
            evidence=found.evidence if found else None,
        )

    def reported(self, finding: Finding, appointment: str | None, *, prefix: str = "") -> Violation:
        """A rule layer :class:`Finding` about ``appointment``, as a violation."""
        code = finding.code
        # Two comparisons, not ``in``: mypy narrows the code to a violation code this way.
        if code == "held" or code == "deadline-lookahead":  # noqa: PLR1714  # pragma: no cover
            raise AssertionError(f"{code} is the planner's code, not a violation")
        # The appointment judged comes last (Violation.appointments says so; a disruption's
        # relocation reads it there).
        ids = [*finding.involves, appointment] if appointment else list(finding.involves)
        return self.violation(
            code,
            ids,
            finding.rule,
            prefix + finding.message,
            source=finding.source,
            severity=finding.severity,
        )
