"""Phases (an induction series, a maintenance taper), frequency tiers and anchored sessions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ketaplan._model import Model, NonEmptyText, Slug
from ketaplan._text import quantity
from ketaplan._types import Weekday
from ketaplan.protocol.gap import Cadence, PhaseStart

__all__ = ["Anchor", "AnchoredSession", "DayWindow", "Phase", "Responder", "Tier"]

#: The most sessions one phase may list (``count``); plans are also bounded by their horizon.
MAX_PHASE_SESSIONS = 200

#: The highest session number an anchor may name (``which = 7``: the 7th session).
MAX_WHICH = 10_000


class Tier(Model):
    """A named dosing frequency, e.g. twice weekly, weekly, every 2 weeks.

    A protocol lists its tiers from the most to the least frequent. Re-planning steps a
    maintenance phase back one tier (more frequent) after a missed session with worsening, and
    a response-guided taper steps it forward (less frequent) while scores stay low.
    """

    id: Slug
    name: NonEmptyText
    cadence: Cadence
    source: Slug | None = None


class Responder(Model):
    """The score that makes a patient a responder, e.g. MADRS at least 50% below its baseline.

    The baseline is the first score recorded on ``scale``; the latest score qualifies when it
    is at least ``reduction_at_least`` (a share) below it, or at or below ``at_or_below``.
    """

    scale: NonEmptyText
    reduction_at_least: Annotated[float, Field(gt=0, le=1)] | None = None
    at_or_below: float | None = None
    source: Slug | None = None

    @model_validator(mode="after")
    def _some_threshold(self) -> Responder:
        if self.reduction_at_least is None and self.at_or_below is None:
            raise ValueError("must give reduction_at_least or at_or_below; got neither")
        return self


class Phase(Model):
    """Consecutive sessions of one kind with one cadence: an induction, a taper step."""

    id: Slug
    name: NonEmptyText
    session: Slug
    """The session kind every session of this phase is."""
    count: Annotated[int, Field(ge=1, le=MAX_PHASE_SESSIONS)] | None = None
    """How many sessions; omitted, the phase runs until the plan's horizon (last phase only)."""
    cadence: Cadence | None = None
    """How sessions follow each other; or give ``tier``. Not needed when ``count`` is 1."""
    tier: Slug | None = None
    """A tier's id, instead of ``cadence``."""
    tier_choices: tuple[Slug, ...] = ()
    """Other tiers the clinician may choose for this phase when planning."""
    tier_source: Slug | None = None
    """The source of ``tier`` as the default among ``tier_choices``, when the phase's source
    leaves the choice to the prescriber."""
    start: PhaseStart | None = None
    """How the phase's first session follows the previous phase (every phase but the first)."""
    within_days: Annotated[int, Field(ge=1, le=366)] | None = None
    """All sessions fall within this many days, the first session's day being day 1."""
    preferred_weekdays: tuple[Weekday, ...] = ()
    """Weekdays the planner prefers, in order of the week."""
    missed: Literal["make-up", "continue"] = "make-up"
    """After a missed session: plan a make-up session (the phase keeps its count), or continue
    the schedule without it (as the esketamine label says for weeks 1-4)."""
    missed_source: Slug | None = None
    responders_only: bool = False
    """Only patients a clinician judges responders go on to this phase: its sessions are
    planned provisionally, and a proposal asks to start it (or stop) before its first session."""
    responders_only_source: Slug | None = None
    responder: Responder | None = None
    """A score that settles the start of a ``responders_only`` phase without waiting for a
    decision (the clinician may still stop)."""
    source: Slug | None = None

    @model_validator(mode="after")
    def _cadence_or_tier(self) -> Phase:
        if self.cadence is not None and self.tier is not None:
            raise ValueError(
                f"must give cadence or tier, not both; got tier={self.tier!r} and a cadence"
            )
        if self.cadence is None and self.tier is None and self.count != 1:
            raise ValueError(
                "must give a cadence or a tier unless count is 1; "
                f"got count={self.count!r} with neither"
            )
        if self.tier_choices and self.tier is None:
            raise ValueError(
                f"tier_choices: need a tier to choose against; got {list(self.tier_choices)!r}"
            )
        if len(set(self.preferred_weekdays)) != len(self.preferred_weekdays):
            raise ValueError(
                f"preferred_weekdays: must not repeat a day; got {list(self.preferred_weekdays)!r}"
            )
        return self


class DayWindow(Model):
    """An offset in days from an anchor: earliest, target and latest."""

    minimum: Annotated[int, Field(ge=0, le=366)]
    target: Annotated[int, Field(ge=0, le=366)]
    maximum: Annotated[int, Field(ge=0, le=366)]
    source: Slug | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DayWindow:
        if not self.minimum <= self.target <= self.maximum:
            raise ValueError(
                "must satisfy minimum <= target <= maximum; got "
                f"{self.minimum} <= {self.target} <= {self.maximum}"
            )
        return self

    def describe(self) -> str:
        """The window in words, e.g. ``'1-3 days'``."""
        if self.minimum == self.maximum:
            return quantity(self.minimum, "day")
        return f"{self.minimum}-{self.maximum} days"


class Anchor(Model):
    """Which sessions another session is anchored to."""

    session: Slug
    """The session kind of the anchor."""
    which: Literal["each", "first", "last"] | Annotated[int, Field(ge=1, le=MAX_WHICH)] = "each"
    """Each session of that kind, the first, the last, or the n-th (1-based)."""
    every: Annotated[int, Field(ge=2, le=1000)] | None = None
    """With ``which = "each"``: only every n-th of them (the n-th, the 2n-th, ...), e.g. a
    renewal consult after every 6th session."""
    phase: Slug | None = None
    """Count only sessions of this phase (``first``/``last``/n-th within it)."""

    @field_validator("which", mode="wrap")
    @classmethod
    def _one_message(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """One message for a wrong ``which``, not one for each kind it may be.

        pydantic reports a value that is neither a word nor a number in range once for each
        (``which = 0``: "must be one of 'each', 'first' or 'last'" and "must be at least 1").
        """
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "anchor_which",
                f"must be 'each', 'first', 'last' or a session's number from 1 to {MAX_WHICH}",
            ) from None

    @model_validator(mode="after")
    def _every_needs_each(self) -> Anchor:
        if self.every is not None and self.which != "each":
            raise ValueError(
                f"every: needs which = 'each' (every n-th of them); got which={self.which!r}"
            )
        return self


class AnchoredSession(Model):
    """A session placed relative to others, e.g. integration 1-3 days after each dose."""

    id: Slug
    session: Slug
    """The session kind to place; it must not be a dosing kind."""
    after: Anchor
    offset: DayWindow
    """Days after the anchor's day; 0 means the same day, after the anchor's block ends."""
    required: bool = True
    """Whether a plan without it breaks the protocol (a milestone)."""
    before_next: bool = False
    """It must end before the chain's next session starts (a response review that decides on
    the next infusion)."""
    attended_share: Annotated[float, Field(gt=0, le=1)] | None = None
    """Warn when fewer than this share of the anchor's phase sessions took place before it
    (e.g. ``1.0``: any missed or cancelled dose of the induction before its evaluation)."""
    attended_share_source: Slug | None = None
    source: Slug | None = None
