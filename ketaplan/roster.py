"""Many patients: a roster planned into one clinic, and a waitlist offered what frees up.

A roster file names the clinic and, for each patient, an opaque id, a protocol, the requested
start and, optionally, the patient's file and preferred time of day::

    clinic = "clinic.toml"            # or "demo"

    [[patients]]
    id = "p-101"
    protocol = "iv-ketamine-standard"
    start = 2026-12-01
    file = "patients/p-101.toml"      # optional; its id must be the entry's
    time = "09:00"                    # optional
    window_days = 14                  # optional: the first session at most 14 days later

:func:`requests` turns the entries into :class:`~ketaplan.placement.PlacementRequest` s
(loading each protocol and patient file) in a documented, deterministic order (requested
start, then id), for :func:`~ketaplan.placement.plan_many`. :func:`place` places them one by
one in that order, each at the first start from its requested day at which its whole series fits
(:func:`~ketaplan.intake.first_available`) around everyone placed before it, so nobody already
booked is ever moved. A waitlist is a roster of patients waiting: given the plans already made,
the same function says which of them can now start, and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from ketaplan._model import AnyDay, Model, Text, TimeOfDay, check_unique, fail
from ketaplan.clinic import Clinic
from ketaplan.defaults import demo_clinic
from ketaplan.errors import DefinitionError, InputError
from ketaplan.loading import load_clinic, load_patient, load_protocol, read_definition, validate
from ketaplan.patient import Patient, PatientId
from ketaplan.placement import Placement, PlacementRequest, plan_many
from ketaplan.plans import Plan
from ketaplan.protocol import Protocol
from ketaplan.rules.windows import MAX_START_WINDOW_DAYS

__all__ = [
    "MAX_ROSTER",
    "Placement",
    "Roster",
    "RosterEntry",
    "load_roster",
    "place",
    "requests",
    "roster_clinic",
]

#: At most this many patients in one roster.
MAX_ROSTER = 10_000


class RosterEntry(Model):
    """One patient to plan: who (an opaque id), what, and from when."""

    id: PatientId
    protocol: Annotated[str, Field(min_length=1, max_length=500)]
    """A built-in id or a protocol file (relative to the roster file)."""
    start: AnyDay
    """The first day the patient can start."""
    file: Annotated[Text, Field(min_length=1, max_length=500)] | None = None
    """The patient's file (availability, medications...), relative to the roster file."""
    time: TimeOfDay | None = None
    """The preferred local time of day."""
    window_days: Annotated[int, Field(ge=0, le=MAX_START_WINDOW_DAYS)] | None = None
    """The first session at most this many days after ``start``; omitted, any day up to the
    clinic's booking horizon."""


class Roster(Model):
    """A clinic and the patients to plan into it (or waiting for a place)."""

    clinic: Annotated[str, Field(min_length=1, max_length=500)] = "demo"
    """The clinic file (relative to the roster file), or ``"demo"``."""
    patients: Annotated[tuple[RosterEntry, ...], Field(max_length=MAX_ROSTER)] = ()

    @model_validator(mode="after")
    def _unique(self) -> Roster:
        fail(check_unique(self.patients, "patients"))
        return self

    def files(self, folder: Path) -> list[Path]:
        """Every file the roster names (its clinic, protocols and patients), under ``folder``."""
        names = [] if self.clinic == "demo" else [self.clinic]
        for entry in self.patients:
            names += [entry.file] if entry.file is not None else []
            names += [entry.protocol] if isinstance(_relative(entry.protocol, folder), Path) else []
        return [folder / name for name in names]

    def ordered(self) -> list[RosterEntry]:
        """The patients in planning order: requested start, then id."""
        return sorted(self.patients, key=lambda entry: (entry.start, entry.id))


def load_roster(path: str | Path, /) -> tuple[Roster, Path]:
    """A roster file, and the folder its relative paths start from."""
    origin = str(path)
    roster = validate(Roster, read_definition(origin), origin=origin, error=DefinitionError)
    return roster, Path(origin).parent


def requests(entries: Iterable[RosterEntry], /, *, folder: Path) -> list[PlacementRequest]:
    """The entries as requests for :func:`~ketaplan.placement.plan_many`, in the same order.

    Each protocol and patient file is loaded once (relative to ``folder``).
    """
    protocols: dict[str, Protocol] = {}
    found = []
    for entry in entries:
        protocol = protocols.get(entry.protocol)
        if protocol is None:
            protocol = protocols[entry.protocol] = load_protocol(_relative(entry.protocol, folder))
        found.append(PlacementRequest(patient=_patient(entry, folder), protocol=protocol,
                             start=entry.start, start_window_days=entry.window_days,
                             time=entry.time))  # fmt: skip
    return found


def place(
    entries: Iterable[RosterEntry],
    /,
    *,
    clinic: Clinic,
    folder: Path,
    plans: Iterable[Plan] = (),
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Placement]:
    """Each patient planned at the first start that fits, in order, around everyone before.

    One-by-one placement: :func:`~ketaplan.placement.plan_many` with ``objective="in-order"``.

    Args:
        entries: the patients, in the order to plan them (:meth:`Roster.ordered`).
        clinic: the clinic they are planned into.
        folder: where the entries' relative file names start.
        plans: plans already made (a waitlist is offered only what they leave free).
        now: the moment of planning, as for ``plan``.
        progress: called with (done, total) after each patient.
    """
    booked = [booking for made in plans for booking in made.bookings()]
    return plan_many(requests(entries, folder=folder), clinic, bookings=booked,
                     objective="in-order", now=now, progress=progress)  # fmt: skip


def _patient(entry: RosterEntry, folder: Path) -> Patient:
    if entry.file is None:
        return Patient(id=entry.id)
    patient = load_patient(folder / entry.file)
    if patient.id != entry.id:
        raise InputError(f"patients[{entry.id}].file", f"a patient file with id {entry.id!r}",
                         patient.id)  # fmt: skip
    return patient


def _relative(name: str, folder: Path) -> str | Path:
    """A protocol: a built-in id as it is, a file name relative to the roster's folder."""
    return folder / name if name.endswith((".toml", ".json")) else name


def roster_clinic(roster: Roster, folder: Path) -> Clinic:
    """The roster's clinic."""
    if roster.clinic == "demo":
        return demo_clinic()
    return load_clinic(folder / roster.clinic)
