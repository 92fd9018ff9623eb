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

from ketaplan._model import AnyDay, Model, Text, TimeOfDay, check_unique, expect_each, fail
from ketaplan._resolve import plan_bookings
from ketaplan.bookings import Booking
from ketaplan.clinic import Clinic
from ketaplan.defaults import demo_clinic
from ketaplan.errors import DefinitionError, InputError
from ketaplan.loading import (
    builtin_protocol_ids,
    load_clinic,
    load_patient,
    load_protocol,
    read_definition,
    validate,
)
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
    "protocols_of",
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
    entries = list(entries)
    protocols = _loaded(entries, folder)
    return [
        PlacementRequest(patient=_patient(entry, folder), protocol=protocols[entry.protocol],
                         start=entry.start, start_window_days=entry.window_days, time=entry.time)
        for entry in entries
    ]  # fmt: skip


def protocols_of(entries: Iterable[RosterEntry], /, *, folder: Path) -> list[Protocol]:
    """The protocols the entries name, each once (files relative to ``folder``)."""
    return list({p.id: p for p in _loaded(entries, folder).values()}.values())


def _loaded(entries: Iterable[RosterEntry], folder: Path) -> dict[str, Protocol]:
    """Each protocol the entries name, by the name they give it, loaded once."""
    protocols: dict[str, Protocol] = {}
    for entry in entries:
        if entry.protocol not in protocols:
            protocols[entry.protocol] = load_protocol(_relative(entry.protocol, folder))
    return protocols


def place(
    entries: Iterable[RosterEntry],
    /,
    *,
    clinic: Clinic,
    folder: Path,
    plans: Iterable[Plan] = (),
    protocols: Iterable[Protocol] = (),
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Placement]:
    """Each patient planned at the first start that fits, in order, around everyone before.

    One-by-one placement: :func:`~ketaplan.placement.plan_many` with ``objective="in-order"``.

    Args:
        entries: the patients, in the order to plan them (:meth:`Roster.ordered`).
        clinic: the clinic they are planned into.
        folder: where the entries' relative file names start.
        plans: plans already made (a waitlist is offered only what they leave free). Each
            occupies what :func:`~ketaplan.plan_bookings` says: its resources at the times its
            protocol gives from each start (a plan read back may have had a session moved).
        protocols: the protocols of ``plans`` that are neither built in nor named by an entry.
        now: the moment of planning, as for ``plan``.
        progress: called with (done, total) after each patient.
    """
    made = expect_each("plans", plans, Plan, "a Plan")
    given = expect_each("protocols", protocols, Protocol, "a Protocol")
    asked = requests(entries, folder=folder)
    known = {request.protocol.id: request.protocol for request in asked}
    for index, protocol in enumerate(given):
        if known.setdefault(protocol.id, protocol) != protocol:
            expected = "unique among the entries' protocols and those given (each one once)"
            raise InputError(f"protocols[{index}].id", expected, protocol.id)
    # With nobody to place, what the plans occupy does not matter (nor do their protocols).
    booked = [b for index, item in enumerate(made) if asked for b in _bookings(index, item, known)]
    return plan_many(asked, clinic, bookings=booked, objective="in-order", now=now,
                     progress=progress)  # fmt: skip


def _bookings(index: int, made: Plan, known: dict[str, Protocol]) -> tuple[Booking, ...]:
    """What plan number ``index`` occupies, by its protocol (given, an entry's or built in)."""
    protocol = known.get(made.protocol)
    if protocol is None and made.protocol not in builtin_protocol_ids():
        expected = "the id of a built-in protocol, of an entry's or of one given in protocols"
        raise InputError(f"plans[{index}].protocol", expected, made.protocol)
    return plan_bookings(made, protocol=protocol)


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
