"""The public surface is explicit and pinned: a change to it is a deliberate change here."""

from __future__ import annotations

from importlib import import_module, resources
from types import ModuleType

import ketaplan
import ketaplan.errors
import ketaplan.protocol


def test_public_names_are_pinned() -> None:
    assert ketaplan.__all__ == [
        "Appointment",
        "Assessed",
        "Attended",
        "Booking",
        "CalendarFileError",
        "Cancelled",
        "CapacityChange",
        "CapacityReport",
        "Clinic",
        "ClinicError",
        "Decided",
        "DefinitionError",
        "DisruptionReport",
        "Event",
        "InputError",
        "KetaplanError",
        "Ledger",
        "LimitError",
        "LocalTimeError",
        "Missed",
        "MissingExtraError",
        "Moved",
        "Patient",
        "PatientError",
        "PatientStatus",
        "Placement",
        "PlacementRequest",
        "Plan",
        "PlanError",
        "Problem",
        "Protocol",
        "ProtocolError",
        "Requested",
        "RunSheet",
        "RunWeek",
        "UnknownProtocolError",
        "UnsatisfiableError",
        "Violation",
        "WhatIf",
        "__version__",
        "alternatives",
        "builtin_protocol_ids",
        "builtin_protocols",
        "capacity_report",
        "check",
        "clinic_status",
        "first_available",
        "load_clinic",
        "load_patient",
        "load_protocol",
        "loads_clinic",
        "loads_patient",
        "loads_protocol",
        "plan",
        "plan_bookings",
        "plan_many",
        "replan",
        "replan_disruption",
        "run_sheet",
        "run_week",
        "runsheet_html",
        "runsheet_table",
        "status",
        "timeline_html",
        "timeline_svg",
        "to_ics",
        "whatif",
    ]


def test_every_public_name_of_the_package_is_in_all() -> None:
    """httpx's habit: a name reachable as ``ketaplan.X`` that is not in ``__all__`` is a leak.

    Submodules are reachable too once imported; they are not names of the API.
    """
    public = {
        name
        for name, value in vars(ketaplan).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert public == set(ketaplan.__all__) - {"__version__"}


def test_the_verbs_do_not_shadow_their_modules() -> None:
    """``ketaplan.plan`` is the function; the modules have other names, so nothing hides."""
    assert callable(ketaplan.plan)
    assert callable(ketaplan.check)
    assert callable(ketaplan.replan)
    assert callable(ketaplan.status)
    for module in ("planner", "plans", "checking", "replanning", "standing"):
        assert isinstance(import_module(f"ketaplan.{module}"), ModuleType)


def test_every_exported_name_exists() -> None:
    for module in (ketaplan, ketaplan.errors, ketaplan.protocol):
        for name in module.__all__:
            assert hasattr(module, name), name


def test_exception_tree() -> None:
    assert issubclass(ketaplan.DefinitionError, ketaplan.KetaplanError)
    assert issubclass(ketaplan.DefinitionError, ValueError)
    for cls in (ketaplan.ProtocolError, ketaplan.ClinicError, ketaplan.PatientError):
        assert issubclass(cls, ketaplan.DefinitionError)
    assert issubclass(ketaplan.UnknownProtocolError, LookupError)
    assert issubclass(ketaplan.LimitError, ketaplan.InputError)
    assert issubclass(ketaplan.InputError, ValueError)
    assert issubclass(ketaplan.UnsatisfiableError, ValueError)
    assert issubclass(ketaplan.PlanError, ketaplan.DefinitionError)
    assert issubclass(ketaplan.CalendarFileError, ketaplan.DefinitionError)
    assert issubclass(ketaplan.LocalTimeError, ValueError)


def test_package_ships_type_information() -> None:
    assert (resources.files("ketaplan") / "py.typed").is_file()
