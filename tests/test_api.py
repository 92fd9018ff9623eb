"""The public surface is explicit and pinned: a change to it is a deliberate change here."""

from __future__ import annotations

from importlib import resources

import ketaplan
import ketaplan.errors
import ketaplan.protocol


def test_public_names_are_pinned() -> None:
    assert ketaplan.__all__ == [
        "Appointment",
        "Booking",
        "Clinic",
        "ClinicError",
        "DefinitionError",
        "InputError",
        "KetaplanError",
        "Ledger",
        "LimitError",
        "LocalTimeError",
        "Patient",
        "PatientError",
        "Plan",
        "Problem",
        "Protocol",
        "ProtocolError",
        "UnknownProtocolError",
        "UnsatisfiableError",
        "__version__",
        "builtin_protocol_ids",
        "builtin_protocols",
        "load_clinic",
        "load_patient",
        "load_protocol",
        "loads_clinic",
        "loads_patient",
        "loads_protocol",
        "plan",
    ]


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
    assert issubclass(ketaplan.LocalTimeError, ValueError)


def test_package_ships_type_information() -> None:
    assert (resources.files("ketaplan") / "py.typed").is_file()
