"""Protocol rules: intervals, lapses, holds and washouts, tasks, requirements, calendar policy."""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ketaplan._model import Model, NonEmptyText, Ref, Slug, Text
from ketaplan._types import (
    Drug,
    HoldSeverity,
    MonthEnd,
    RepeatedTime,
    Route,
    Setting,
    SkippedTime,
    TaskRuleKind,
)
from ketaplan.errors import InputError
from ketaplan.protocol.phase import Anchor

__all__ = [
    "BoostersOnRequest",
    "CalendarPolicy",
    "HoldRule",
    "HoldScope",
    "Lapse",
    "MaxPerWeek",
    "MinInterval",
    "Requirement",
    "ResponseRule",
    "Rules",
    "TaskRule",
    "valid_time_zone",
    "valid_zone",
]


#: The IANA areas whose zones are places; the rest (``EST``, ``CET``, ``Etc/GMT+5``, ``US/Eastern``)
#: are fixed offsets or legacy names that do not follow a place's daylight saving time.
_REGIONS = frozenset(
    ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
     "Indian", "Pacific")
)  # fmt: skip

#: The place a legacy or fixed-offset name is usually meant for, to suggest it.
_MEANT = {
    "est": "America/New_York", "est5edt": "America/New_York", "us/eastern": "America/New_York",
    "edt": "America/New_York", "cst": "America/Chicago", "cst6cdt": "America/Chicago",
    "us/central": "America/Chicago", "cdt": "America/Chicago", "mst": "America/Phoenix",
    "us/arizona": "America/Phoenix", "mst7mdt": "America/Denver", "us/mountain": "America/Denver",
    "mdt": "America/Denver", "pst": "America/Los_Angeles", "pst8pdt": "America/Los_Angeles",
    "us/pacific": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "us/alaska": "America/Anchorage", "us/hawaii": "Pacific/Honolulu", "hst": "Pacific/Honolulu",
    "cet": "Europe/Berlin", "met": "Europe/Berlin", "eet": "Europe/Athens",
    "wet": "Europe/Lisbon", "gmt": "UTC", "etc/utc": "UTC", "etc/gmt": "UTC", "utc0": "UTC",
    "z": "UTC", "zulu": "UTC", "universal": "UTC", "gb": "Europe/London",
}  # fmt: skip


def valid_time_zone(field: str, value: str) -> str:
    """Return ``value`` if it names an IANA region zone, else raise :class:`InputError`."""
    try:
        return valid_zone(value)
    except ValueError as err:
        hint = _hint(value)
        raise InputError(field, _EXPECTED + (f" ({hint})" if hint else ""), value) from err


_EXPECTED = "an IANA time zone of a place, such as 'America/New_York', or 'UTC'"


def _hint(value: object) -> str | None:
    meant = _MEANT.get(str(value).strip().casefold())
    if meant is None:
        return None
    return f"{value!r} is a legacy or fixed-offset name: use {meant!r}"


def valid_zone(value: str) -> str:
    """Return ``value`` if it names an IANA time zone of a place (or UTC), else ``ValueError``.

    Fixed offsets and legacy names (``EST``, ``CET``, ``MST``, ``Etc/GMT+5``, ``US/Eastern``)
    are refused: a clinic's sessions follow its place's summer time, which they do not.
    """
    if not isinstance(value, str):  # not a name at all (time_zone=0)
        raise ValueError(f"must be {_EXPECTED}; got {value!r}")  # noqa: TRY004 - as any wrong name
    area = value.split("/", 1)[0]
    known = value == "UTC" or ("/" in value and area in _REGIONS)
    if known:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            known = False
    if not known:
        hint = _hint(value)
        raise ValueError(f"must be {_EXPECTED}; got {value!r}" + (f" ({hint})" if hint else ""))
    return value


class MinInterval(Model):
    """Doses start at least ``hours`` apart, in real elapsed time."""

    hours: Annotated[float, Field(gt=0, le=24 * 31)]
    source: Slug | None = None


class MaxPerWeek(Model):
    """At most ``doses`` in any rolling 7 days."""

    doses: Annotated[int, Field(ge=1, le=7)]
    source: Slug | None = None


class Lapse(Model):
    """After more than ``after_days`` without a dose, something must happen first."""

    after_days: Annotated[int, Field(ge=1, le=3 * 366)]
    requires: Literal["review", "re-induction"]
    """A review session before the next dose, or a new induction series."""
    session: Slug
    """The session kind of the review."""
    during_induction: Literal["resume", "re-induce"] = "resume"
    """What the lapse proposal suggests when the lapse came before the first phase of doses was
    complete. The review's decision chooses; until then the plan resumes the course as it stands
    (``requires = "re-induction"`` alone re-induces at once), its sessions provisional."""
    during_induction_source: Slug | None = None
    source: Slug | None = None


class BoostersOnRequest(Model):
    """A patient may ask for a booster: an evaluation, then the phase's next session early.

    The booster is the phase's next session brought forward to right after the evaluation,
    provisional until the clinician decides at it.
    """

    phase: Slug
    """The phase whose next session a booster brings forward (an open-ended maintenance)."""
    evaluation: Slug
    """The session kind of the evaluation before the booster."""
    within_days: Annotated[int, Field(ge=1, le=60)] = 7
    """How soon after the request the evaluation, and after it the booster, are looked for."""
    source: Slug | None = None


class Rules(Model):
    """Rules about doses that hold across all phases."""

    min_interval: MinInterval | None = None
    max_per_7_days: MaxPerWeek | None = None
    consecutive_days: Literal["allowed", "avoid"] = "avoid"
    """``avoid``: the planner never doses on consecutive calendar days and ``check`` warns."""
    consecutive_days_source: Slug | None = None
    lapse: Lapse | None = None
    worsening: Literal["propose", "automatic"] = "propose"
    """After a missed session with worsening in a tiered phase: propose stepping back to the
    previous (more frequent) tier, for a clinician to decide (the label's "consider"), or step
    back automatically."""
    worsening_source: Slug | None = None


class HoldScope(Model):
    """The protocols a medication rule is for: by drug, route and setting (empty: any).

    A clinic preset taken from IV ketamine programmes says so, so that it is not applied to
    esketamine, whose label asks for monitoring instead.
    """

    drugs: tuple[Drug, ...] = ()
    routes: tuple[Route, ...] = ()
    settings: tuple[Setting, ...] = ()

    def covers(self, *, drug: Drug, route: Route, setting: Setting) -> bool:
        """Whether a protocol of this drug, route and setting is in scope."""
        return (
            (not self.drugs or drug in self.drugs)
            and (not self.routes or route in self.routes)
            and (not self.settings or setting in self.settings)
        )

    def describe(self) -> str:
        """The scope in words: ``"ketamine"``, ``"ketamine, iv, clinic"``, ``"any protocol"``."""
        parts = [", ".join(part) for part in (self.drugs, self.routes, self.settings) if part]
        return "; ".join(parts) or "any protocol"


class HoldRule(Model):
    """What to do about a medication around sessions, or before the first one.

    ``medication`` is a drug name or a class (``"benzodiazepine"``, ``"lorazepam"``).
    """

    id: Slug
    medication: NonEmptyText
    severity: HoldSeverity
    applies_to: HoldScope = HoldScope()
    """The protocols the rule is for (by default every one)."""
    conditional: bool = False
    """A hold the source leaves to the clinic per patient ("may ask patients on large doses"):
    a clinician confirms it for each patient (``Medication.hold``); until then the plan has a
    staff task and tells the patient nothing."""
    hold_before_hours: Annotated[float, Field(gt=0, le=24 * 14)] | None = None
    """Skip doses of the medication in this many hours before a session."""
    resume_after_hours: Annotated[float, Field(ge=0, le=24 * 14)] | None = None
    """Resume the medication this many hours after dosing ends (the end of the infusion)."""
    stop_days_before_start: Annotated[int, Field(ge=1, le=366)] | None = None
    """A washout: stop the medication this many days before the first session."""
    hold_day_of: bool = False
    """Skip doses on the day of a session, before the session ("the morning of")."""
    note: Text | None = None
    source: Slug

    @model_validator(mode="after")
    def _shape(self) -> HoldRule:
        timed = (self.hold_before_hours, self.resume_after_hours, self.stop_days_before_start)
        if (
            self.severity == "hold"
            and all(value is None for value in timed)
            and not self.hold_day_of
        ):
            raise ValueError(
                "a hold must give hold_before_hours, resume_after_hours, hold_day_of or "
                f"stop_days_before_start; got none for {self.medication!r}"
            )
        if self.conditional and self.severity != "hold":
            raise ValueError(f"conditional: only a hold can be; got severity {self.severity!r}")
        if self.severity != "hold" and (
            any(value is not None for value in timed) or self.hold_day_of
        ):
            raise ValueError(
                f"severity: must be 'hold' when hold or washout times are given; "
                f"got {self.severity!r}"
            )
        return self


class TaskRule(Model):
    """A task due after sessions, e.g. a REMS monitoring form within 7 days of each session.

    ``due_within_days = 0`` makes it due on the session's own day (a check before dosing).
    """

    id: Slug
    title: NonEmptyText
    after: Anchor
    due_within_days: Annotated[int, Field(ge=0, le=366)]
    kind: TaskRuleKind = "form"
    """What the task is: a ``form`` to submit, an ``assessment`` (a rating scale to record),
    a ``confirmation`` staff make (consent, transport), or a ``call`` with the patient."""
    source: Slug | None = None


class Requirement(Model):
    """A condition that must hold before the first dose, e.g. REMS certification."""

    id: Slug
    holder: Literal["clinic", "patient"]
    """Who must have it: the clinic (a certification) or the patient (an enrolment)."""
    credential: Slug
    """The name the clinic's ``certifications`` or the patient's ``enrollments`` must list."""
    description: NonEmptyText
    source: Slug | None = None


class ResponseRule(Model):
    """Response-guided taper: change a phase's tier from recorded scores.

    While the last ``after_consecutive`` scores on ``scale`` are all at or below
    ``step_down_at_or_below``, the phase steps down one tier (less frequent); when the latest
    score is above ``step_up_above``, it steps back up one tier (more frequent).
    """

    id: Slug
    phase: Slug
    scale: NonEmptyText
    """The rating scale, e.g. ``"PHQ-9"`` or ``"MADRS"``, as recorded in assessments."""
    step_down_at_or_below: float
    after_consecutive: Annotated[int, Field(ge=1, le=12)] = 1
    step_up_above: float
    automatic: bool = False
    """Change the tier as soon as the scores say so; by default (``False``) the scores raise a
    proposal and the tier changes when a clinician's decision is recorded."""
    source: Slug | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ResponseRule:
        if self.step_up_above < self.step_down_at_or_below:
            raise ValueError(
                "step_up_above: must be at least step_down_at_or_below "
                f"({self.step_down_at_or_below:g}); got {self.step_up_above:g}"
            )
        return self


class CalendarPolicy(Model):
    """How awkward calendar cases are resolved."""

    month_end: MonthEnd = "clamp"
    skipped_time: SkippedTime = "later"
    repeated_time: RepeatedTime = "earlier"
    time_zone: Ref | None = None
    """The zone to plan in when no clinic is given."""

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else valid_zone(value)
