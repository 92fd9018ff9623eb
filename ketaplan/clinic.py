"""The clinic: its time zone, opening hours, closures, holidays and resources."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated, ClassVar

import holidays
from pydantic import Field, field_validator, model_validator

from ketaplan._model import Day, Loc, Model, Name, NonEmptyText, Ref, Slug, Text, fail
from ketaplan._presets import preset_ids, preset_source_ids
from ketaplan._text import quantity
from ketaplan._types import MAX_UNITS, CancellationNotice
from ketaplan.errors import ClinicError, DefinitionError
from ketaplan.hours import DEFAULT_QUIET_HOURS, DateRange, QuietSetting, Ranges, WeeklyHours
from ketaplan.protocol.policy import HoldRule, valid_zone
from ketaplan.protocol.source import Source
from ketaplan.timing import elapsed_hours

__all__ = ["CapacityChange", "Clinic", "ExtraOpening", "Holidays", "Resources"]

#: At most this many dated capacity changes in one clinic (each is looked at per question).
MAX_CAPACITY_CHANGES = 1000


class ExtraOpening(Model):
    """A date on which the clinic opens with other hours than usual (a Saturday clinic)."""

    date: Day
    hours: Ranges
    reason: Text | None = None


class Holidays(Model):
    """Public holidays, from the ``holidays`` library, plus explicit dates."""

    country: Annotated[Ref, Field(pattern=r"^[A-Z]{2}$")] | None = None
    """ISO 3166-1 alpha-2 code, e.g. ``"US"``."""
    subdivision: Ref | None = None
    """A state or province code the library knows, e.g. ``"NY"``."""
    dates: tuple[DateRange, ...] = ()
    """Extra holiday dates, with their names as ``reason``."""

    @model_validator(mode="after")
    def _known(self) -> Holidays:
        if self.country is None:
            if self.subdivision is not None:
                raise ValueError(
                    f"subdivision: needs a country; got subdivision={self.subdivision!r}"
                )
            return self
        supported = holidays.list_supported_countries()
        if self.country not in supported:
            raise ValueError(
                f"country: must be a country the holidays library supports (e.g. US, DE, AU); "
                f"got {self.country!r}"
            )
        if self.subdivision is not None and self.subdivision not in supported[self.country]:
            known = ", ".join(supported[self.country][:12])
            raise ValueError(
                f"subdivision: must be one of {self.country}'s subdivisions ({known}, ...); "
                f"got {self.subdivision!r}"
            )
        return self


class Resources(Model):
    """What sessions occupy, and how much of it the clinic has."""

    chairs: Annotated[int, Field(ge=0, le=MAX_UNITS)] = 0
    """Treatment chairs (or dosing rooms) usable at the same time."""
    rooms: Annotated[int, Field(ge=0, le=MAX_UNITS)] = 0
    """Consultation or therapy rooms usable at the same time."""
    monitoring_staff: Annotated[int, Field(ge=0, le=MAX_UNITS)] = 0
    """Staff who monitor patients after dosing."""
    patients_per_staff: Annotated[int, Field(ge=1, le=50)] = 1
    """How many patients one monitoring staff member may watch at once."""
    prescriber_on_site: bool = False
    """Whether a prescriber is on site; esketamine sessions need one (REMS)."""
    prescriber_hours: WeeklyHours | None = None
    """When the prescriber is on site; omitted, whenever the clinic is open."""
    chair_buffer_minutes: Annotated[int, Field(ge=0, le=240)] = 0
    """Cleaning time after each use of a chair before the next patient."""


class CapacityChange(DateRange):
    """A dated change of the clinic's capacity, from ``start`` to ``end`` (whole local days).

    The clinic closes (``closed``), or has fewer chairs, rooms or monitoring staff than its
    :class:`Resources` say, or no prescriber on site. Chairs and rooms out of service are the
    highest-numbered ones (with 4 chairs, ``chairs = 1`` takes chair 4 out). Changes that
    overlap add up. The planner, ``check``, ``alternatives`` and re-planning all see a clinic's
    changes through one place each: its calendar (closed days, the prescriber) and its limits
    (:func:`ketaplan.rules.capacity.limits`).

    >>> change = CapacityChange.model_validate({"start": "2027-01-05", "chairs": 1,
    ...                                         "reason": "chair 4 repaired"})
    >>> change.describe()
    '1 chair out of service on 2027-01-05 (chair 4 repaired)'
    """

    closed: bool = False
    """The clinic is closed on these days."""
    chairs: Annotated[int, Field(ge=0, le=MAX_UNITS)] = 0
    """Chairs out of service."""
    rooms: Annotated[int, Field(ge=0, le=MAX_UNITS)] = 0
    """Rooms out of service."""
    monitoring_staff: Annotated[int, Field(ge=0, le=MAX_UNITS)] = 0
    """Monitoring staff absent."""
    prescriber_absent: bool = False
    """No prescriber on site on these days."""

    @model_validator(mode="after")
    def _changes_something(self) -> CapacityChange:
        fewer = self.chairs or self.rooms or self.monitoring_staff or self.prescriber_absent
        if self.closed and fewer:
            raise ValueError(
                "closed: a closed day needs no other change (chairs, rooms, monitoring_staff, "
                "prescriber_absent); got closed=true with some"
            )
        if not self.closed and not fewer:
            raise ValueError(
                "must close the clinic or take something out of service (closed, chairs, "
                "rooms, monitoring_staff or prescriber_absent); got no change"
            )
        return self

    def describe(self) -> str:
        """The change in words, e.g. ``"clinic closed on 2027-01-05 (snow)"``."""
        parts = []
        if self.closed:
            parts.append("clinic closed")
        for count, what in ((self.chairs, "chair"), (self.rooms, "room")):
            if count:
                parts.append(f"{quantity(count, what)} out of service")
        if self.monitoring_staff:
            parts.append(f"{self.monitoring_staff} monitoring staff absent")
        if self.prescriber_absent:
            parts.append("no prescriber on site")
        when = f"on {self.start}" if self.last == self.start else f"{self.start} to {self.last}"
        why = f" ({self.reason})" if self.reason else ""
        return f"{', '.join(parts)} {when}{why}"


class Clinic(Model):
    """A clinic's calendar and capacity.

    >>> clinic = Clinic.model_validate({
    ...     "id": "demo", "name": "Demo Clinic", "time_zone": "America/New_York",
    ...     "opening_hours": {"mon": ["08:00-12:00", "13:00-18:00"]},
    ...     "resources": {"chairs": 4, "monitoring_staff": 2, "patients_per_staff": 2},
    ... })
    >>> clinic.zone.key, len(clinic.opening_hours.mon)
    ('America/New_York', 2)
    """

    error_class: ClassVar[type[DefinitionError]] = ClinicError

    id: Slug
    name: NonEmptyText
    """The clinic's name, as staff see it (and patients, unless ``patient_facing_name`` is set)."""
    patient_facing_name: NonEmptyText | None = None
    """The name patients see in calendar titles ("Appointment - <name>") and as the organizer
    of invitations, e.g. "Lakeside Clinic" for "Lakeside Ketamine Clinic"; default: ``name``."""
    time_zone: Ref
    opening_hours: WeeklyHours
    closures: tuple[DateRange, ...] = ()
    capacity_changes: Annotated[
        tuple[CapacityChange, ...], Field(max_length=MAX_CAPACITY_CHANGES)
    ] = ()
    """Dated changes of capacity: a day closed at short notice, a chair out of service, a
    staff member absent (see :class:`CapacityChange`)."""
    extra_openings: tuple[ExtraOpening, ...] = ()
    holidays: Holidays = Holidays()
    resources: Resources = Resources()
    slot_minutes: Annotated[int, Field(ge=5, le=240)] = 15
    """Appointments start on multiples of this many minutes past the hour."""
    minimum_notice_hours: Annotated[int, Field(ge=0, le=24 * 60)] = 0
    """Nothing is booked sooner than this after the plan is made."""
    booking_horizon_days: Annotated[int, Field(ge=1, le=5 * 366)] = 2 * 366
    """Nothing is booked later than this many days after the plan is made."""
    cancellation_window_hours: Annotated[int, Field(ge=0, le=14 * 24)] = 24
    """A cancellation made less than this many hours before its session is a late one
    (:meth:`cancellation_notice`). A clinic policy, not a clinical number: 24 hours is an
    operational default (a common front-desk rule); 0 makes every cancellation before the
    session in time."""
    certifications: tuple[Slug, ...] = ()
    """Certifications protocols may require, e.g. ``"spravato-rems"``."""
    location: Name | None = None
    """The address shown in calendars."""
    quiet_hours: QuietSetting = DEFAULT_QUIET_HOURS
    """When no patient reminder fires (``"21:00-07:00"``, past midnight): one that would moves
    to the evening before, as the quiet hours begin. ``"off"`` for none. A usability setting."""
    reminder_lead_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 60
    """How long before a deadline ("no food after 03:15") its reminder fires, so the patient
    can still act on it. A usability setting, not a clinical one."""
    sources: tuple[Source, ...] = ()
    """Sources the clinic's own medication rules cite."""
    medication_rules: tuple[HoldRule, ...] = ()
    """The clinic's medication holds and washouts; one with a preset's id replaces it."""
    medication_presets_off: tuple[Slug, ...] = ()
    """Built-in presets the clinic does not use, by id."""
    medication_classes: dict[Ref, tuple[Ref, ...]] = Field(default_factory=dict)
    """More drug names and their classes, e.g. ``{"ativan": ["benzodiazepine"]}``."""
    switch_gap_days: Annotated[int, Field(ge=1, le=366)] | None = None
    """Days between the last session of one product (ketamine, esketamine) and the first of
    the other. No source gives one; ``None`` (the default) means no rule."""
    same_day_exclusions: tuple[NonEmptyText, ...] = ()
    """Other treatments (``"ECT"``, ``"TMS"``) after which no dose is given the same day."""

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return valid_zone(value)

    @property
    def zone(self) -> dt.tzinfo:
        """The clinic's time zone."""
        return zoneinfo.ZoneInfo(self.time_zone)

    def cancellation_notice(
        self, start: dt.datetime, /, *, made_at: dt.datetime
    ) -> CancellationNotice:
        """Whether a cancellation made at ``made_at`` of a session at ``start`` came in time.

        In time when made at least :attr:`cancellation_window_hours` (real elapsed hours)
        before the session starts; late otherwise, including after it started.

        >>> import datetime as dt
        >>> clinic = Clinic.model_validate({"id": "c", "name": "C", "time_zone": "UTC",
        ...                                 "opening_hours": {"mon": ["08:00-18:00"]}})
        >>> start = dt.datetime(2027, 3, 8, 9, tzinfo=dt.UTC)
        >>> clinic.cancellation_notice(start, made_at=start - dt.timedelta(hours=30))
        'in-time'
        >>> clinic.cancellation_notice(start, made_at=start - dt.timedelta(hours=3))
        'late'
        """
        notice = elapsed_hours(made_at, start)
        return "in-time" if notice >= self.cancellation_window_hours else "late"

    @model_validator(mode="after")
    def _slots(self) -> Clinic:
        found: list[tuple[Loc, str, object]] = []
        if 60 % self.slot_minutes and self.slot_minutes % 60:
            found.append(
                (
                    ("slot_minutes",),
                    "must divide an hour (5, 10, 15, 20, 30, 60) or be a multiple of 60",
                    self.slot_minutes,
                )
            )
        if self.opening_hours.is_empty and not self.extra_openings:
            found.append((("opening_hours",), "must open on at least one weekday", {}))
        known = {source.id for source in self.sources}
        for index, rule in enumerate(self.medication_rules):
            if rule.source not in known and rule.source not in preset_source_ids():
                found.append(
                    (
                        ("medication_rules", index, "source"),
                        "must name one of the clinic's sources or a preset's source",
                        rule.source,
                    )
                )
        unknown_presets = set(self.medication_presets_off) - preset_ids()
        for index, preset in enumerate(self.medication_presets_off):
            if preset in unknown_presets:
                found.append(
                    (
                        ("medication_presets_off", index),
                        f"must be a preset id ({', '.join(sorted(preset_ids()))})",
                        preset,
                    )
                )
        found += self._changes_fit()
        if self.medication_rules or self.medication_classes:
            # Imported here: the medication rules are built on clinics (an import at the top
            # would be circular), and a clinic without its own rules reads no dictionary.
            from ketaplan.medications import unmatched_names  # noqa: PLC0415

            found += unmatched_names(self.medication_rules, "medication_rules", self)
        fail(found)
        return self

    def _changes_fit(self) -> list[tuple[Loc, str, object]]:
        """Each capacity change takes out no more than the clinic has."""
        found: list[tuple[Loc, str, object]] = []
        resources = self.resources
        for index, change in enumerate(self.capacity_changes):
            for name, has in (
                ("chairs", resources.chairs),
                ("rooms", resources.rooms),
                ("monitoring_staff", resources.monitoring_staff),
            ):
                fewer = getattr(change, name)
                if fewer > has:
                    found.append(
                        (
                            ("capacity_changes", index, name),
                            f"must be at most the clinic's {has} {name.replace('_', ' ')}",
                            fewer,
                        )
                    )
        return found
