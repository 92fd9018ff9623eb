"""Session kinds: what happens in a session, how long each step takes, what it occupies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ketaplan._model import Loc, Model, NonEmptyText, Slug, check_unique, fail
from ketaplan._types import Location, ResourceKind, SessionCategory, Step

__all__ = ["Checkpoint", "Instructions", "ResourceUse", "SessionKind", "Timeline"]

Minutes = Annotated[int, Field(ge=0, le=24 * 60)]

#: The order of a timeline's steps.
STEP_ORDER: tuple[Step, ...] = ("check-in", "dosing", "monitoring", "session")


class Timeline(Model):
    """How a session's time is spent, in minutes, in order.

    A dosing session has check-in, dosing and a *minimum* monitoring time; any other session has
    check-in and a ``session`` step (the meeting itself). The block booked for the session is the
    sum of the steps.
    """

    check_in_minutes: Minutes = 0
    """Arrival, vital signs and paperwork before the dose or meeting."""
    dosing_minutes: Minutes = 0
    """Giving the dose: the infusion, the injection, the nasal devices."""
    monitoring_minutes: Minutes = 0
    """The minimum observation after dosing before the patient may leave."""
    session_minutes: Minutes = 0
    """The meeting itself, for sessions that are not dosing."""
    sources: tuple[Slug, ...] = ()
    """The sources of these durations."""

    @property
    def block_minutes(self) -> int:
        """The whole block, from check-in to the end of the last step."""
        return (
            self.check_in_minutes
            + self.dosing_minutes
            + self.monitoring_minutes
            + self.session_minutes
        )

    def minutes(self, step: Step) -> int:
        """The length of one step."""
        return {
            "check-in": self.check_in_minutes,
            "dosing": self.dosing_minutes,
            "monitoring": self.monitoring_minutes,
            "session": self.session_minutes,
        }[step]

    def span(self, steps: tuple[Step, ...]) -> tuple[int, int]:
        """Start and end, in minutes from the block's start, of consecutive ``steps``.

        An empty tuple means the whole block.
        """
        if not steps:
            return 0, self.block_minutes
        # Worked out on each call, not cached on the model: a copy with other lengths
        # (``model_copy(update=...)``) would carry a cached answer over.
        lengths = (
            self.check_in_minutes,
            self.dosing_minutes,
            self.monitoring_minutes,
            self.session_minutes,
        )
        first, last = STEP_ORDER.index(steps[0]), STEP_ORDER.index(steps[-1])
        return sum(lengths[:first]), sum(lengths[: last + 1])

    @model_validator(mode="after")
    def _positive(self) -> Timeline:
        if self.block_minutes == 0:
            raise ValueError("must have at least one step longer than 0 minutes")
        return self


class ResourceUse(Model):
    """A resource a session occupies, and during which steps of its timeline."""

    resource: ResourceKind
    during: tuple[Step, ...] = ()
    """Consecutive steps, e.g. ``["dosing", "monitoring"]``; empty means the whole block."""

    @model_validator(mode="after")
    def _consecutive(self) -> ResourceUse:
        _consecutive_steps(self.during)
        return self


def _consecutive_steps(during: tuple[Step, ...]) -> None:
    """Raise unless ``during`` lists consecutive steps in timeline order."""
    order = [STEP_ORDER.index(step) for step in during]
    if order and order != list(range(order[0], order[0] + len(order))):
        raise ValueError(
            f"during: must list consecutive steps in the order {', '.join(STEP_ORDER)}; "
            f"got {list(during)!r}"
        )


class Instructions(Model):
    """What the patient must do around a session. Every field is optional.

    ``source`` cites the instructions as a whole; ``fasting_source`` and ``driving_source``
    cite the fasting and the transport and driving fields when another source gives them
    (omitted, they fall back to ``source``).
    """

    fasting_solids_hours: Annotated[float, Field(ge=0, le=24)] | None = None
    """No food for this many hours before the dose (or the session start)."""
    fasting_liquids_hours: Annotated[float, Field(ge=0, le=24)] | None = None
    """Nothing to drink for this many hours before."""
    liquids_after_food_cutoff: Literal["any", "clear"] = "any"
    """What the patient may drink between the food and the liquids cut-offs: ``any`` liquid
    (the esketamine label), or ``clear`` liquids only, no milk (the IV clinics' 6/2 rule)."""
    fasting_source: Slug | None = None
    """The source of the fasting fields (default: ``source``)."""
    nasal_spray_minutes_before: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    """A nasal corticosteroid or decongestant, if used that day, at least this long before."""
    escort_required: bool = False
    """The patient must have transportation home arranged (they may not drive themselves)."""
    no_driving_until_next_day: bool = False
    """No driving or machinery until the next day after a restful sleep."""
    no_driving_hours: Annotated[int, Field(ge=1, le=72)] | None = None
    """No driving for this many hours after the session."""
    driving_source: Slug | None = None
    """The source of the transport and driving fields (default: ``source``)."""
    peer_monitor_required: bool = False
    """Another adult must be physically present during an at-home session."""
    source: Slug | None = None
    """The source of these instructions."""


CheckpointAt = Literal["before-dosing", "after-dosing", "during", "before-discharge"]
"""Where on a dosing session's timeline a checkpoint falls."""


class Checkpoint(Model):
    """A check staff make during a dosing session, e.g. blood pressure 40 minutes after dosing.

    Each falls at a point of the session's timeline, counted in real elapsed minutes from the
    start of dosing: ``before-dosing`` at the start of dosing, ``after-dosing`` at
    ``minutes_after_dosing`` after it, ``before-discharge`` at the end of the minimum
    monitoring; or ``during`` a period, the consecutive steps it names (``["dosing"]`` for an
    infusion), every ``every_minutes`` or, without it, throughout.
    """

    id: Slug
    """Names the checkpoint within its session kind; the staff task's id is built from it."""
    name: NonEmptyText
    """What staff check, e.g. "blood pressure"."""
    at: CheckpointAt
    minutes_after_dosing: Annotated[int, Field(ge=0, le=24 * 60)] | None = None
    """For ``after-dosing``: how long after the start of dosing."""
    during: tuple[Step, ...] = ()
    """For ``during``: the consecutive steps the check runs through."""
    every_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    """For ``during``: how often; omitted, the check runs throughout the period."""
    source: Slug | None = None

    @model_validator(mode="after")
    def _timing(self) -> Checkpoint:
        if (self.at == "after-dosing") != (self.minutes_after_dosing is not None):
            raise ValueError(
                "minutes_after_dosing: must be given exactly when at is 'after-dosing'; "
                f"got at={self.at!r}, minutes_after_dosing={self.minutes_after_dosing!r}"
            )
        return self

    @model_validator(mode="after")
    def _period(self) -> Checkpoint:
        if (self.at == "during") != bool(self.during):
            raise ValueError(
                "during: must list steps exactly when at is 'during'; "
                f"got at={self.at!r}, during={list(self.during)!r}"
            )
        if self.every_minutes is not None and self.at != "during":
            raise ValueError(
                f"every_minutes: must be given only when at is 'during'; got at={self.at!r}"
            )
        _consecutive_steps(self.during)
        return self

    def minutes(self, timeline: Timeline) -> tuple[int, int]:
        """Start and end of the check in minutes from the start of dosing (equal for a moment)."""
        dosing, monitoring = timeline.dosing_minutes, timeline.monitoring_minutes
        if self.at == "during":
            start, end = timeline.span(self.during)
            return start - timeline.check_in_minutes, end - timeline.check_in_minutes
        offset = {
            "before-dosing": 0,
            "after-dosing": self.minutes_after_dosing or 0,
            "before-discharge": dosing + monitoring,
        }[self.at]
        return offset, offset

    def describe(self) -> str:
        """When the check falls, in words, e.g. "40 min after the start of dosing"."""
        if self.at == "after-dosing":
            return f"{self.minutes_after_dosing} min after the start of dosing"
        if self.at == "during":
            steps = " and ".join(self.during)
            if self.every_minutes is None:
                return f"throughout {steps}"
            return f"every {self.every_minutes} min during {steps}"
        return self.at.replace("-", " ")


class SessionKind(Model):
    """A kind of session a protocol uses: its timeline, resources and instructions."""

    id: Slug
    name: NonEmptyText
    category: SessionCategory
    location: Location = "clinic"
    timeline: Timeline
    resources: tuple[ResourceUse, ...] = ()
    instructions: Instructions = Instructions()
    checkpoints: tuple[Checkpoint, ...] = ()
    source: Slug | None = None

    @property
    def is_dosing(self) -> bool:
        """Whether a session of this kind gives a dose."""
        return self.category == "dosing"

    @model_validator(mode="after")
    def _coherent(self) -> SessionKind:
        found: list[tuple[Loc, str, object]] = []
        timeline = self.timeline
        if self.is_dosing:
            if timeline.dosing_minutes == 0:
                found.append(
                    (("timeline", "dosing_minutes"), "must be above 0 for a dosing session", 0)
                )
            if timeline.session_minutes:
                found.append(
                    (
                        ("timeline", "session_minutes"),
                        "must be 0 for a dosing session (use dosing and monitoring)",
                        timeline.session_minutes,
                    )
                )
        else:
            found.extend(
                (
                    ("timeline", name),
                    f"must be 0 for a {self.category} session (use session_minutes)",
                    getattr(timeline, name),
                )
                for name in ("dosing_minutes", "monitoring_minutes")
                if getattr(timeline, name)
            )
            if timeline.session_minutes == 0:
                found.append(
                    (
                        ("timeline", "session_minutes"),
                        f"must be above 0 for a {self.category} session",
                        0,
                    )
                )
        if self.location != "clinic" and self.resources:
            found.append(
                (
                    ("resources",),
                    (
                        f"must be empty for a {self.location} session (it occupies nothing in the "
                        "clinic)"
                    ),
                    [use.resource for use in self.resources],
                )
            )
        # A session holds one unit of each resource (a plan keeps a session's chair and room by
        # kind): a resource listed twice was booked twice, and the plan clashed with itself.
        found += check_unique(self.resources, "resources", key="resource")
        found.extend(
            (
                ("resources", index, "during"),
                f"must name steps the timeline has; step {step!r} is 0 minutes",
                list(use.during),
            )
            for index, use in enumerate(self.resources)
            for step in use.during
            if timeline.minutes(step) == 0
        )
        fail(found)
        return self

    @model_validator(mode="after")
    def _checkpoints_fit(self) -> SessionKind:
        found: list[tuple[Loc, str, object]] = list(check_unique(self.checkpoints, "checkpoints"))
        if self.checkpoints and not self.is_dosing:
            found.append(
                (
                    ("checkpoints",),
                    f"must be empty for a {self.category} session (checkpoints follow dosing)",
                    [checkpoint.id for checkpoint in self.checkpoints],
                )
            )
        timeline = self.timeline
        last = timeline.dosing_minutes + timeline.monitoring_minutes
        for index, checkpoint in enumerate(self.checkpoints):
            if (checkpoint.minutes_after_dosing or 0) > last:
                found.append(
                    (
                        ("checkpoints", index, "minutes_after_dosing"),
                        f"must be at most {last} (dosing plus the minimum monitoring)",
                        checkpoint.minutes_after_dosing,
                    )
                )
            found.extend(
                (
                    ("checkpoints", index, "during"),
                    f"must name steps the timeline has; step {step!r} is 0 minutes",
                    list(checkpoint.during),
                )
                for step in checkpoint.during
                if timeline.minutes(step) == 0
            )
        fail(found)
        return self
