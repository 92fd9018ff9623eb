"""The protocol: a treatment series written as data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, ClassVar

from pydantic import BaseModel, Field, model_validator

from ketaplan._model import MISSING, Loc, Model, NonEmptyText, Slug, Text, check_unique, fail
from ketaplan._text import quantity
from ketaplan._types import EVIDENCE_RANK, Drug, EvidenceLevel, Route, Setting, StartPolicy
from ketaplan.errors import DefinitionError, ProtocolError
from ketaplan.protocol.dose import Dosing
from ketaplan.protocol.gap import AfterPrevious, Cadence, GapSequence, InWeek, PerWeek
from ketaplan.protocol.phase import Anchor, AnchoredSession, Phase, Tier
from ketaplan.protocol.policy import (
    BoostersOnRequest,
    CalendarPolicy,
    HoldRule,
    Requirement,
    ResponseRule,
    Rules,
    TaskRule,
)
from ketaplan.protocol.session import SessionKind
from ketaplan.protocol.source import Source
from ketaplan.timing import gap_days

__all__ = ["MAX_SESSIONS", "Protocol"]

#: The most sessions the finite phases of one protocol may add up to.
MAX_SESSIONS = 500

Finding = tuple[Loc, str, object]


class Protocol(Model):
    """A treatment protocol: identity, provenance, session kinds, phases and rules.

    >>> from ketaplan import load_protocol
    >>> protocol = load_protocol("esketamine-mdsi")
    >>> protocol.route, protocol.evidence
    ('intranasal', 'label')
    >>> [(phase.id, phase.count) for phase in protocol.phases]
    [('intake', 1), ('induction', 8)]
    """

    error_class: ClassVar[type[DefinitionError]] = ProtocolError

    id: Slug
    name: NonEmptyText
    version: NonEmptyText
    indication: NonEmptyText
    drug: Drug
    """Racemic ketamine or esketamine: what lapse and switching rules compare."""
    route: Route
    setting: Setting
    evidence: EvidenceLevel
    """The evidence level of the schedule as a whole; one of its sources must have it."""
    summary: Text | None = None
    summary_sources: tuple[Slug, ...] = ()
    """The sources the summary's statements rest on (a caution, a failed trial), which no
    field cites."""
    sources: Annotated[tuple[Source, ...], Field(min_length=1, max_length=100)]
    session_kinds: Annotated[tuple[SessionKind, ...], Field(min_length=1, max_length=50)]
    tiers: Annotated[tuple[Tier, ...], Field(max_length=20)] = ()
    phases: Annotated[tuple[Phase, ...], Field(min_length=1, max_length=20)]
    anchored: Annotated[tuple[AnchoredSession, ...], Field(max_length=50)] = ()
    dosing: Dosing | None = None
    rules: Rules = Rules()
    holds: Annotated[tuple[HoldRule, ...], Field(max_length=100)] = ()
    tasks: Annotated[tuple[TaskRule, ...], Field(max_length=50)] = ()
    requirements: Annotated[tuple[Requirement, ...], Field(max_length=20)] = ()
    response: Annotated[tuple[ResponseRule, ...], Field(max_length=20)] = ()
    """Response-guided taper rules, applied when re-planning with assessments."""
    calendar: CalendarPolicy = CalendarPolicy()
    boosters_on_request: BoostersOnRequest | None = None
    """Whether, and how, a patient may ask for a booster (a ``Requested`` event)."""
    start: StartPolicy = "earliest"
    """Whether the first session waits until the whole series fits (``whole-series``) or
    goes on the first feasible day (``earliest``, the default); see :data:`StartPolicy`."""
    start_source: Slug | None = None
    """The source that asks for ``whole-series``, where one does."""

    # -- lookups ---------------------------------------------------------------------------

    def session_kind(self, kind_id: str) -> SessionKind:
        """The session kind with this id."""
        for kind in self.session_kinds:
            if kind.id == kind_id:
                return kind
        raise KeyError(kind_id)

    def tier(self, tier_id: str) -> Tier:
        """The tier with this id."""
        for tier in self.tiers:
            if tier.id == tier_id:
                return tier
        raise KeyError(tier_id)

    def phase(self, phase_id: str) -> Phase:
        """The phase with this id."""
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)

    def source(self, source_id: str) -> Source:
        """The source with this id."""
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)

    def cadence(self, phase: Phase) -> Cadence | None:
        """The cadence a phase uses, from the phase itself or its tier."""
        if phase.tier is not None:
            return self.tier(phase.tier).cadence
        return phase.cadence

    @property
    def induction(self) -> Phase:
        """The first phase of doses: the series a lapse during it may re-induce.

        Phases before it (an intake, a preparation) give no dose.
        """
        kinds = {kind.id: kind for kind in self.session_kinds}
        return next(p for p in self.phases if kinds[p.session].is_dosing)

    @property
    def strongest_evidence(self) -> EvidenceLevel:
        """The strongest evidence level among the sources."""
        return min((s.evidence for s in self.sources), key=EVIDENCE_RANK.__getitem__)

    @property
    def scales(self) -> tuple[str, ...]:
        """The rating scales its rules read (responders, response-guided tapers), in order."""
        named = [p.responder.scale for p in self.phases if p.responder is not None]
        named += [rule.scale for rule in self.response]
        return tuple(dict.fromkeys(named))

    @property
    def finite_sessions(self) -> int:
        """How many sessions the phases with a count add up to."""
        return sum(phase.count or 0 for phase in self.phases)

    # -- cross-field validation ----------------------------------------------------------

    @model_validator(mode="after")
    def _references(self) -> Protocol:
        found: list[Finding] = []
        for field in ("sources", "session_kinds", "tiers", "phases", "anchored", "holds"):
            found += check_unique(getattr(self, field), field)
        found += check_unique(self.tasks, "tasks")
        found += check_unique(self.requirements, "requirements")
        found += check_unique(self.response, "response")
        found += self._source_references()
        found += self._phase_findings()
        found += self._anchor_findings()
        found += self._overall_findings()
        found += self._lapse_findings()
        found += self._booster_findings()
        found += self._hold_findings()
        fail(found)
        return self

    def _source_references(self) -> list[Finding]:
        known = {source.id for source in self.sources}
        return [
            (loc, f"must name one of the protocol's sources ({', '.join(sorted(known))})", value)
            for loc, value in _walk_sources(self, ())
            if value not in known
        ]

    def _phase_findings(self) -> list[Finding]:
        found: list[Finding] = []
        kinds = {kind.id for kind in self.session_kinds}
        tiers = {tier.id for tier in self.tiers}
        last = len(self.phases) - 1
        for index, phase in enumerate(self.phases):
            loc: Loc = ("phases", index)
            if phase.session not in kinds:
                found.append(((*loc, "session"), _one_of("session kinds", kinds), phase.session))
            for name, value in [("tier", phase.tier)] + [
                (f"tier_choices[{i}]", choice) for i, choice in enumerate(phase.tier_choices)
            ]:
                if value is not None and value not in tiers:
                    found.append(((*loc, name), _one_of("tiers", tiers), value))
            if index == 0 and phase.start is not None:
                found.append(
                    ((*loc, "start"), "must be omitted for the first phase", phase.start.type)
                )
            if index > 0 and phase.start is None:
                found.append(
                    (
                        (*loc, "start"),
                        (
                            "must say how the phase follows the previous one (after-previous or "
                            "in-week)"
                        ),
                        MISSING,
                    )
                )
            if phase.count is None and index != last:
                found.append(
                    ((*loc, "count"), "must be given for every phase but the last", MISSING)
                )
            cadence = self.cadence(phase) if phase.tier is None or phase.tier in tiers else None
            if isinstance(cadence, GapSequence):
                if phase.count is None and not cadence.open_ended:
                    found.append(
                        (
                            (*loc, "count"),
                            "must be given when the cadence's last gap has a repeat count",
                            MISSING,
                        )
                    )
                elif (
                    phase.count is not None
                    and not cadence.open_ended
                    and cadence.finite_gaps < phase.count - 1
                ):
                    found.append(
                        (
                            (*loc, "count"),
                            (
                                f"needs {quantity(phase.count - 1, 'gap')} but the cadence gives "
                                f"{cadence.finite_gaps}; add gaps or leave the last repeat open"
                            ),
                            phase.count,
                        )
                    )
            if isinstance(phase.start, InWeek) and index == 0:
                found.append(((*loc, "start"), "in-week needs an earlier phase", "in-week"))
        return found

    def _anchor_findings(self) -> list[Finding]:
        found: list[Finding] = []
        kinds = {kind.id: kind for kind in self.session_kinds}
        for index, anchored in enumerate(self.anchored):
            loc: Loc = ("anchored", index)
            kind = kinds.get(anchored.session)
            if kind is None:
                found.append(((*loc, "session"), _one_of("session kinds", kinds), anchored.session))
            elif kind.is_dosing:
                found.append(
                    (
                        (*loc, "session"),
                        "must not be a dosing session (doses are placed by phases)",
                        anchored.session,
                    )
                )
            found += self._anchor_target(anchored.after, (*loc, "after"))
        for index, task in enumerate(self.tasks):
            found += self._anchor_target(task.after, ("tasks", index, "after"))
        phases = {phase.id: phase for phase in self.phases}
        for index, rule in enumerate(self.response):
            loc = ("response", index, "phase")
            phase = phases.get(rule.phase)
            if phase is None:
                found.append((loc, _one_of("phases", phases), rule.phase))
            elif phase.tier is None:
                found.append((loc, "must be a phase that uses a tier", rule.phase))
        lapse = self.rules.lapse
        if lapse is not None and lapse.session not in kinds:
            found.append(
                (("rules", "lapse", "session"), _one_of("session kinds", kinds), lapse.session)
            )
        return found

    def _anchor_target(self, anchor: Anchor, loc: Loc) -> list[Finding]:
        kinds = {kind.id for kind in self.session_kinds}
        phases = {phase.id: phase for phase in self.phases}
        found: list[Finding] = []
        if anchor.session not in kinds:
            return [((*loc, "session"), _one_of("session kinds", kinds), anchor.session)]
        candidates = [phase for phase in self.phases if phase.session == anchor.session]
        if anchor.phase is not None:
            phase = phases.get(anchor.phase)
            if phase is None:
                return [((*loc, "phase"), _one_of("phases", phases), anchor.phase)]
            if phase.session != anchor.session:
                found.append(
                    (
                        (*loc, "phase"),
                        f"must be a phase of {anchor.session!r} sessions",
                        anchor.phase,
                    )
                )
            candidates = [phase]
        if not candidates:
            found.append(
                ((*loc, "session"), "must be the session kind of some phase", anchor.session)
            )
        elif isinstance(anchor.which, int) and all(p.count is not None for p in candidates):
            available = sum(p.count or 0 for p in candidates)
            if anchor.which > available:
                found.append(
                    (
                        (*loc, "which"),
                        f"must be at most {available}, the number of such sessions",
                        anchor.which,
                    )
                )
        return found

    def longest_gap_days(self) -> int:
        """The most calendar days any of the phases' gaps (in any tier) allows between sessions.

        A per-week cadence allows up to 13 days (a session late in one week, early in the
        week after next is not allowed, so at most the end of the next week).
        """
        longest = 0
        for phase in self.phases:
            cadences = [self.cadence(phase)] if phase.tier is None else []
            cadences += [
                tier.cadence for tier in self.tiers if tier.id in {phase.tier, *phase.tier_choices}
            ]
            gaps = [step.gap for c in cadences if isinstance(c, GapSequence) for step in c.steps]
            if isinstance(phase.start, AfterPrevious) and phase.start.gap is not None:
                gaps.append(phase.start.gap)
            longest = max([longest, *(gap_days(g.maximum, g.unit, bound="longest") for g in gaps)])
            if any(isinstance(c, PerWeek) for c in cadences) or isinstance(phase.start, InWeek):
                longest = max(longest, 2 * 7 - 1)
        return longest

    def _lapse_findings(self) -> list[Finding]:
        """A lapse the protocol's own gaps reach is no lapse: every such gap would need a review."""
        lapse = self.rules.lapse
        if lapse is None:
            return []
        longest = self.longest_gap_days()
        if lapse.after_days >= longest:
            return []
        return [
            (
                ("rules", "lapse", "after_days"),
                f"must be at least the longest gap the phases plan ({quantity(longest, 'day')})",
                lapse.after_days,
            )
        ]

    def _hold_findings(self) -> list[Finding]:
        """Each hold names a medication or class ketaplan's dictionary knows.

        A hold on ``"maio"``, ``"Nardil"`` or ``"maois"`` matches no patient's medication and
        would silently do nothing (a misspelt benzodiazepine hold took away the patient's
        "Skip your 22:00 lorazepam"). The dictionary is read only for a protocol with holds.
        """
        if not self.holds:
            return []
        # Imported here: the medication rules are built on protocols (an import at the top would
        # be circular), and a protocol without holds reads no dictionary.
        from ketaplan.medications import unmatched_names  # noqa: PLC0415

        return unmatched_names(self.holds, "holds")

    def _booster_findings(self) -> list[Finding]:
        """Boosters on request name a phase and a session kind the protocol has."""
        boosters = self.boosters_on_request
        if boosters is None:
            return []
        found: list[Finding] = []
        loc = ("boosters_on_request",)
        phases = [phase.id for phase in self.phases]
        if boosters.phase not in phases:
            found.append(((*loc, "phase"), f"must be one of {', '.join(phases)}", boosters.phase))
        kinds = {kind.id: kind for kind in self.session_kinds}
        kind = kinds.get(boosters.evaluation)
        if kind is None or kind.is_dosing:
            expected = "a session kind that is not a dosing session"
            found.append(((*loc, "evaluation"), expected, boosters.evaluation))
        return found

    def _overall_findings(self) -> list[Finding]:
        found: list[Finding] = []
        levels = {source.evidence for source in self.sources}
        if self.evidence not in levels:
            found.append(
                (
                    ("evidence",),
                    f"must be the level of one of the sources ({', '.join(sorted(levels))})",
                    self.evidence,
                )
            )
        if self.finite_sessions > MAX_SESSIONS:
            found.append(
                (
                    ("phases",),
                    f"must add up to at most {MAX_SESSIONS} sessions",
                    self.finite_sessions,
                )
            )
        dosing_kinds = [kind for kind in self.session_kinds if kind.is_dosing]
        for index, kind in enumerate(self.session_kinds):
            if kind.is_dosing and (kind.location == "home") != (self.setting == "home"):
                found.append(
                    (
                        ("session_kinds", index, "location"),
                        (
                            f"must be {'home' if self.setting == 'home' else 'clinic'} for dosing "
                            f"in a {self.setting} protocol"
                        ),
                        kind.location,
                    )
                )
        dosing_ids = {kind.id for kind in dosing_kinds}
        known = {kind.id for kind in self.session_kinds}
        all_known = all(phase.session in known for phase in self.phases)
        if all_known and not any(phase.session in dosing_ids for phase in self.phases):
            found.append(
                (("phases",), "must include at least one phase of dosing sessions", MISSING)
            )
        return found


def _one_of(what: str, known: object) -> str:
    names = sorted(known)  # type: ignore[call-overload]
    return f"must name one of the {what} ({', '.join(names) or 'none defined'})"


def _walk_sources(node: BaseModel, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every ``source`` reference below ``node``, with its location."""
    for name in type(node).model_fields:
        value = getattr(node, name)
        is_reference = name == "source" or name.endswith("_source")
        if is_reference and isinstance(value, str) and not isinstance(node, Protocol):
            yield (*loc, name), value
        elif (name == "sources" and not isinstance(node, Protocol)) or name == "summary_sources":
            for index, item in enumerate(value):
                yield (*loc, name, index), item
        elif isinstance(value, BaseModel) and not isinstance(value, Source):
            yield from _walk_sources(value, (*loc, name))
        elif isinstance(value, tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel) and not isinstance(item, Source):
                    yield from _walk_sources(item, (*loc, name, index))
