"""Gaps between sessions, and the cadences and phase starts built from them.

A gap is a window with four bounds, as immunization forecasters (CDC CDSi, HLN ICE) use:

- ``absolute_minimum``: anything earlier is invalid;
- ``minimum``: the earliest date the planner uses; between the absolute minimum and the minimum
  a session is accepted by ``check`` with a warning;
- ``target``: the date the planner tries first;
- ``maximum``: the latest acceptable date.

Day and week gaps count calendar days in the clinic's zone, so a weekly 09:00 session stays a
7-day gap across a DST change even though 167 or 169 hours elapse; rules about elapsed time
are written in hours (``Rules.min_interval``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ketaplan._model import UNION_TAGS, Model, Slug
from ketaplan._text import quantity
from ketaplan._types import GapUnit, WeekBasis
from ketaplan.timing import gap_days

__all__ = [
    "AfterPrevious",
    "Cadence",
    "GapSequence",
    "GapStep",
    "GapWindow",
    "InWeek",
    "PerWeek",
    "PhaseStart",
]

#: The longest gap any window may describe, in days (about 13 months).
MAX_GAP_DAYS = 400

_DAYS_PER_WEEK = 7


class GapWindow(Model):
    """The four bounds of a gap, all in ``unit``."""

    unit: GapUnit = "days"
    absolute_minimum: Annotated[int, Field(ge=0)]
    minimum: Annotated[int, Field(ge=0)]
    target: Annotated[int, Field(ge=0)]
    maximum: Annotated[int, Field(ge=0)]
    source: Slug | None = None

    @model_validator(mode="after")
    def _ordered(self) -> GapWindow:
        bounds = (self.absolute_minimum, self.minimum, self.target, self.maximum)
        if list(bounds) != sorted(bounds):
            raise ValueError(
                "must satisfy absolute_minimum <= minimum <= target <= maximum; got "
                f"{self.absolute_minimum} <= {self.minimum} <= {self.target} <= {self.maximum}"
            )
        if self.maximum == 0:
            raise ValueError("maximum: must be at least 1; got 0")
        if gap_days(self.maximum, self.unit, bound="longest") > MAX_GAP_DAYS:
            raise ValueError(
                f"maximum: must be at most {MAX_GAP_DAYS} days; got {self.maximum} {self.unit}"
            )
        return self

    def describe(self) -> str:
        """The window in words, e.g. ``'7 days (window 6-10, never before 5)'``."""
        text = quantity(self.target, self.unit.removesuffix("s"))
        if (self.minimum, self.maximum) != (self.target, self.target):
            text += f" (window {self.minimum}-{self.maximum}"
            if self.absolute_minimum < self.minimum:
                text += f", never before {self.absolute_minimum}"
            text += ")"
        return text


class GapStep(Model):
    """A gap, repeated ``repeat`` times."""

    gap: GapWindow
    repeat: Annotated[int, Field(ge=1, le=500)] | None = None
    """How many times the gap repeats; omitted, it repeats until the phase ends (last step only)."""


class PerWeek(Model):
    """``sessions`` a week, at least ``min_gap_days`` apart (e.g. twice weekly)."""

    type: Literal["per-week"] = "per-week"
    sessions: Annotated[int, Field(ge=1, le=7)]
    """The intended number of sessions in each week."""
    minimum_sessions: Annotated[int, Field(ge=0, le=7)] | None = None
    """The fewest sessions a complete week may have; defaults to ``sessions``."""
    maximum_sessions: Annotated[int, Field(ge=1, le=7)] | None = None
    """The most sessions any week may have; defaults to ``sessions``."""
    maximum_sessions_source: Slug | None = None
    """The source of ``maximum_sessions``, when it is not the cadence's own ``source``."""
    min_gap_days: Annotated[int, Field(ge=1, le=7)] = 1
    """Sessions are at least this many calendar days apart."""
    week: WeekBasis = "treatment"
    source: Slug | None = None

    @property
    def fewest(self) -> int:
        """The effective minimum per complete week."""
        return self.sessions if self.minimum_sessions is None else self.minimum_sessions

    @property
    def most(self) -> int:
        """The effective maximum per week."""
        return self.sessions if self.maximum_sessions is None else self.maximum_sessions

    @model_validator(mode="after")
    def _ordered(self) -> PerWeek:
        if not self.fewest <= self.sessions <= self.most:
            raise ValueError(
                "must satisfy minimum_sessions <= sessions <= maximum_sessions; got "
                f"{self.fewest} <= {self.sessions} <= {self.most}"
            )
        if (self.most - 1) * self.min_gap_days > _DAYS_PER_WEEK - 1:
            raise ValueError(
                f"maximum_sessions: {self.most} sessions cannot fit in a week at least "
                f"{quantity(self.min_gap_days, 'day')} apart; got maximum_sessions={self.most}"
            )
        return self

    def describe(self) -> str:
        """The cadence in words."""
        count = str(self.sessions)
        if (self.fewest, self.most) != (self.sessions, self.sessions):
            count = f"{self.fewest}-{self.most}"
        return f"{count} a {self.week} week, at least {quantity(self.min_gap_days, 'day')} apart"


class GapSequence(Model):
    """Sessions separated by a sequence of gaps, e.g. 7 days x4, 14 days x2, then 28 days."""

    type: Literal["gap-sequence"] = "gap-sequence"
    steps: Annotated[tuple[GapStep, ...], Field(min_length=1, max_length=50)]

    @property
    def open_ended(self) -> bool:
        """Whether the last gap repeats until the phase ends."""
        return self.steps[-1].repeat is None

    @property
    def finite_gaps(self) -> int:
        """How many gaps the finite steps describe."""
        return sum(step.repeat or 0 for step in self.steps)

    def gap(self, index: int) -> GapWindow:
        """The window of gap ``index`` (0-based) within the phase."""
        seen = 0
        for step in self.steps:
            if step.repeat is None or index < seen + step.repeat:
                return step.gap
            seen += step.repeat
        return self.steps[-1].gap

    @model_validator(mode="after")
    def _open_last(self) -> GapSequence:
        for index, step in enumerate(self.steps[:-1]):
            if step.repeat is None:
                raise ValueError(
                    f"steps[{index}].repeat: only the last step may repeat until the end "
                    "(repeat omitted); got an open-ended step before the last"
                )
        return self

    def describe(self) -> str:
        """The cadence in words."""
        parts = []
        for step in self.steps:
            times = "until the end" if step.repeat is None else f"x{step.repeat}"
            parts.append(f"every {step.gap.describe()} {times}")
        return ", then ".join(parts)


Cadence = Annotated[PerWeek | GapSequence, Field(discriminator="type")]


class AfterPrevious(Model):
    """The phase starts after the previous session, by ``gap`` or by its own cadence's rule."""

    type: Literal["after-previous"] = "after-previous"
    gap: GapWindow | None = None
    """The gap from the previous phase's last session; omitted, the phase's cadence decides."""


class InWeek(Model):
    """The phase starts in treatment week ``week``, counted from the protocol's first dose.

    Week 1 is the 7 days starting with the first dose, so week 5 starts on day 29. The phase's
    first session targets the first day of that week and may fall on any day of it.
    """

    type: Literal["in-week"] = "in-week"
    week: Annotated[int, Field(ge=2, le=260)]


PhaseStart = Annotated[AfterPrevious | InWeek, Field(discriminator="type")]

UNION_TAGS.update({"per-week", "gap-sequence", "after-previous", "in-week"})
