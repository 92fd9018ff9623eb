"""The default clinic (used when none is given) and the demo clinic and patient."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources

from ketaplan.clinic import Clinic, Resources
from ketaplan.hours import WeeklyHours
from ketaplan.loading import loads_clinic, loads_patient
from ketaplan.patient import Patient

__all__ = [
    "VERIFY_CLOSURE_DAYS",
    "VERIFY_FROM",
    "default_clinic",
    "demo_clinic",
    "demo_patient",
]

#: ``verify``'s search: the first start date (fixed, so results do not depend on today) and
#: the longest extra closure it tries.
VERIFY_FROM = dt.date(2026, 12, 1)
VERIFY_CLOSURE_DAYS = 10

#: Plenty of everything: the default clinic never runs out of capacity.
_PLENTY = 500


@cache
def default_clinic(time_zone: str = "UTC") -> Clinic:
    """The clinic assumed when none is given.

    Open Monday to Friday 08:00-18:00 in ``time_zone``, no holidays or closures, a prescriber
    on site, and more chairs, rooms and monitoring staff than any plan needs. It holds no
    certifications, so protocols that require one get a task to confirm it.

    >>> clinic = default_clinic("Europe/Berlin")
    >>> clinic.time_zone, [str(r) for r in clinic.opening_hours.mon], clinic.resources.chairs
    ('Europe/Berlin', ['08:00-18:00'], 500)
    """
    weekday = ("08:00-18:00",)
    return Clinic(
        id="default-clinic",
        name="Clinic",
        time_zone=time_zone,
        opening_hours=WeeklyHours.model_validate(
            dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), weekday)
        ),
        resources=Resources(
            chairs=_PLENTY,
            rooms=_PLENTY,
            monitoring_staff=_PLENTY,
            patients_per_staff=1,
            prescriber_on_site=True,
        ),
    )


@cache
def demo_clinic() -> Clinic:
    """The demo clinic: New York, weekdays 08:00-18:00, US-NY holidays, 4 chairs."""
    return loads_clinic(_example("demo-clinic.toml"), origin="ketaplan/examples/demo-clinic.toml")


@cache
def demo_patient() -> Patient:
    """The demo patient: weekday mornings, a week of travel in January, evening lorazepam."""
    return loads_patient(
        _example("demo-patient.toml"), origin="ketaplan/examples/demo-patient.toml"
    )


def _example(name: str) -> str:
    return (resources.files("ketaplan") / "examples" / name).read_text("utf-8")
