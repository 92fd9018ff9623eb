"""Reading definitions from TOML and JSON, with every problem reported at once.

pydantic's ``ValidationError`` is translated here, at the boundary, into a
:class:`~ketaplan.errors.DefinitionError` whose problems name the file, the field path, what was
expected and the value given.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from ketaplan._files import FileRefused, exists, is_file, read_capped
from ketaplan._model import choice, expect
from ketaplan.bookings import Booking, parse_bookings
from ketaplan.clinic import Clinic
from ketaplan.errors import (
    ClinicError,
    DefinitionError,
    InputError,
    LimitError,
    PatientError,
    PlanError,
    Problem,
    ProtocolError,
    UnknownProtocolError,
)
from ketaplan.patient import Patient
from ketaplan.plans import Plan
from ketaplan.protocol import Protocol

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PLAN_FILE_BYTES",
    "DefinitionKind",
    "builtin_protocol_ids",
    "builtin_protocols",
    "detect_kind",
    "dump_plan",
    "load_clinic",
    "load_definition",
    "load_patient",
    "load_plan",
    "load_plan_or_bookings",
    "load_protocol",
    "loads_clinic",
    "loads_patient",
    "loads_protocol",
    "parse_definition",
    "read_definition",
    "read_json_list",
]

DefinitionKind = Literal["protocol", "clinic", "patient"]

Format = Literal["toml", "json"]
ModelT = TypeVar("ModelT", bound=BaseModel)

#: Definition files larger than this are refused unread (a definition is a few kilobytes).
MAX_FILE_BYTES = 1024 * 1024
#: Plan files larger than this are refused unread, and :func:`dump_plan` refuses to write a
#: larger one. A plan holds about 2 to 11 KB a session with its instructions and tasks: five
#: years of weekly esketamine maintenance is 1.6 MB. Reading one this size takes about 200 MB.
MAX_PLAN_FILE_BYTES = 32 * 1024 * 1024

_SUFFIXES: dict[str, Format] = {".toml": "toml", ".json": "json"}


# -- reading -----------------------------------------------------------------------------------


def read_definition(
    path: str | os.PathLike[str],
    /,
    *,
    error: type[DefinitionError] = DefinitionError,
    limit: int = MAX_FILE_BYTES,
) -> dict[str, Any]:
    """Read a TOML or JSON file into a dict, or raise ``error`` saying what is wrong.

    ``limit``: the most bytes the file may hold (:data:`MAX_FILE_BYTES`, or
    :data:`MAX_PLAN_FILE_BYTES` for a plan).
    """
    origin = _path("path", path)
    suffix = Path(origin).suffix.lower()
    if suffix not in _SUFFIXES:
        raise error([Problem("", "must be a .toml or .json file", origin, origin=origin)])
    try:
        text = read_capped(origin, limit).decode("utf-8")
    except FileRefused as err:
        raise error([Problem("", f"must be {err.expectation}", err.value, origin=origin)]) from None
    except OSError as err:
        raise error(
            [Problem("", f"cannot be read ({err.strerror or err})", origin=origin)]
        ) from err
    except UnicodeDecodeError as err:
        raise error(
            [Problem("", f"must be UTF-8 text (byte {err.start} is not)", origin=origin)]
        ) from err
    return parse_definition(text, format=_SUFFIXES[suffix], origin=origin, error=error, limit=limit)


def parse_definition(
    text: str,
    /,
    *,
    format: Format,
    origin: str = "<string>",
    error: type[DefinitionError] = DefinitionError,
    limit: int = MAX_FILE_BYTES,
) -> dict[str, Any]:
    """Parse TOML or JSON text into a dict, or raise ``error`` with the line of the problem.

    A wrong argument (not text, a format that is not a word) is an :class:`InputError`.
    """
    expect("text", text, str, "TOML or JSON text")
    choice("format", format, ("toml", "json"), "'toml' or 'json'")
    expect("origin", origin, str, "text saying where the text came from (a file name)")
    if len(text) > limit:
        raise error([Problem("", f"must be at most {limit} characters", len(text), origin=origin)])
    data = _parsed(text, format=format, origin=origin, error=error)
    if not isinstance(data, dict):
        raise error(
            [
                Problem(
                    "", "must be a table (an object) of fields", type(data).__name__, origin=origin
                )
            ]
        )
    return data


def validate(
    model: type[ModelT],
    data: Mapping[str, Any],
    /,
    *,
    origin: str,
    error: type[DefinitionError],
) -> ModelT:
    """Build ``model`` from ``data``, translating every validation error into a problem.

    A file of another kind (a plan given where a protocol is read) is one problem saying so,
    not hundreds about the fields it lacks.
    """
    other = _other_kind(model, data)
    if other is not None:
        kind, key = other
        expected = f"must be a {_KIND_OF[model]} file; this is a {kind} file (it has {key!r})"
        raise error([Problem("", expected, origin=origin)])
    try:
        return model.model_validate(data)
    except DefinitionError as err:  # the model's own, from pydantic's (ketaplan._problems)
        found = [replace(problem, origin=origin) for problem in err.problems]
        raise error(found, omitted=err.omitted) from None
    except RecursionError as err:
        raise error([Problem("", "is nested too deeply", origin=origin)]) from err


#: A key only one kind of file has, by kind (a patient has none of its own).
_MARKS: dict[str, tuple[str, ...]] = {
    "plan": ("protocol_version",),
    "protocol": ("phases", "session_kinds"),
    "clinic": ("opening_hours",),
}
_KIND_OF: dict[type, str] = {
    Protocol: "protocol",
    Clinic: "clinic",
    Patient: "patient",
    Plan: "plan",
}


def _other_kind(model: type, data: Mapping[str, Any]) -> tuple[str, str] | None:
    """The kind ``data`` is and a key that shows it, when it is not ``model``'s kind."""
    own = _KIND_OF.get(model)
    if own is None or any(key in data for key in _MARKS.get(own, ())):
        return None
    for kind, keys in _MARKS.items():
        found = next((key for key in keys if key in data), None)
        if kind != own and found is not None:
            return kind, found
    return None


# -- protocols ---------------------------------------------------------------------------------


def _path(field: str, value: object) -> str:
    """``value`` as a path string, or :class:`InputError` when it is not one."""
    if not isinstance(value, str | os.PathLike) or not os.fspath(value):
        raise InputError(field, "a file name or a built-in id (text or a path)", value)
    return str(os.fspath(value))


def load_protocol(name: str | os.PathLike[str], /) -> Protocol:
    """A built-in protocol by id, or a protocol read from a ``.toml`` or ``.json`` file.

    >>> load_protocol("iv-ketamine-standard").name
    'IV ketamine: 6 infusions within 21 days, then tapering boosters'

    Raises:
        UnknownProtocolError: ``name`` is neither a built-in id nor a file name.
        ProtocolError: the file is unreadable or invalid; ``err.problems`` lists every problem.
    """
    text = _path("name", name)
    if text in builtin_protocol_ids():
        return _builtin(text)
    if Path(text).suffix.lower() in _SUFFIXES or os.sep in text or exists(text):
        data = read_definition(text, error=ProtocolError)
        return validate(Protocol, data, origin=text, error=ProtocolError)
    raise UnknownProtocolError(text, builtin_protocol_ids())


def loads_protocol(
    text: str,
    /,
    *,
    format: Format = "toml",
    origin: str = "<string>",
) -> Protocol:
    """A protocol from TOML or JSON text.

    Every problem is reported at once:

    >>> try:
    ...     loads_protocol('id = "x"' + chr(10) + 'route = "nasal"', origin="mine.toml")
    ... except ProtocolError as err:
    ...     print(len(err.problems), err.problems[0])
    ...     print(err.problems[4].path, err.problems[4].value)
    10 mine.toml: name: is required
    route nasal
    """
    data = parse_definition(text, format=format, origin=origin, error=ProtocolError)
    return validate(Protocol, data, origin=origin, error=ProtocolError)


@cache
def builtin_protocol_ids() -> tuple[str, ...]:
    """The ids of the protocols that ship with ketaplan, sorted.

    >>> "esketamine-trd" in builtin_protocol_ids()
    True
    """
    folder = resources.files("ketaplan") / "library"
    return tuple(
        sorted(
            entry.name.removesuffix(".toml")
            for entry in folder.iterdir()
            if entry.name.endswith(".toml")
        )
    )


def builtin_protocols() -> tuple[Protocol, ...]:
    """Every built-in protocol, in id order."""
    return tuple(_builtin(protocol_id) for protocol_id in builtin_protocol_ids())


@cache
def _builtin(protocol_id: str) -> Protocol:
    origin = f"ketaplan/library/{protocol_id}.toml"
    text = (resources.files("ketaplan") / "library" / f"{protocol_id}.toml").read_text("utf-8")
    data = parse_definition(text, format="toml", origin=origin, error=ProtocolError)
    protocol = validate(Protocol, data, origin=origin, error=ProtocolError)
    if protocol.id != protocol_id:
        raise ProtocolError(
            [Problem("id", f"must match the file name {protocol_id!r}", protocol.id, origin=origin)]
        )
    return protocol


# -- clinics and patients ----------------------------------------------------------------------


def load_clinic(path: str | os.PathLike[str], /) -> Clinic:
    """A clinic read from a ``.toml`` or ``.json`` file.

    Raises:
        ClinicError: the file is unreadable or invalid; ``err.problems`` lists every problem.
    """
    origin = _path("path", path)
    return validate(
        Clinic, read_definition(origin, error=ClinicError), origin=origin, error=ClinicError
    )


def loads_clinic(
    text: str,
    /,
    *,
    format: Format = "toml",
    origin: str = "<string>",
) -> Clinic:
    """A clinic from TOML or JSON text."""
    data = parse_definition(text, format=format, origin=origin, error=ClinicError)
    return validate(Clinic, data, origin=origin, error=ClinicError)


def load_patient(path: str | os.PathLike[str], /) -> Patient:
    """A patient read from a ``.toml`` or ``.json`` file.

    Raises:
        PatientError: the file is unreadable or invalid; ``err.problems`` lists every problem.
    """
    origin = _path("path", path)
    data = read_definition(origin, error=PatientError)
    return validate(Patient, data, origin=origin, error=PatientError)


def loads_patient(
    text: str,
    /,
    *,
    format: Format = "toml",
    origin: str = "<string>",
) -> Patient:
    """A patient from TOML or JSON text."""
    data = parse_definition(text, format=format, origin=origin, error=PatientError)
    return validate(Patient, data, origin=origin, error=PatientError)


def _parsed(text: str, *, format: Format, origin: str, error: type[DefinitionError]) -> object:
    """``text`` parsed, or ``error``: invalid, nested too deeply, or a number too long."""
    try:
        return tomllib.loads(text) if format == "toml" else json.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error([Problem("", f"is not valid TOML: {err}", origin=origin)]) from err
    except json.JSONDecodeError as err:
        where = f"(at line {err.lineno}, column {err.colno})"
        raise error([Problem("", f"is not valid JSON: {err.msg} {where}", origin=origin)]) from err
    except RecursionError as err:
        raise error([Problem("", "is nested too deeply", origin=origin)]) from err
    except ValueError as err:  # a number of more than 4,300 digits (sys.int_max_str_digits)
        raise error([Problem("", f"cannot be read: {_first_clause(err)}", origin=origin)]) from err


def _first_clause(err: Exception) -> str:
    return str(err).split(";")[0].split(": use ")[0]


def read_json_list(path: str | os.PathLike[str], /) -> list[Any]:
    """A JSON file whose top level is a list (an events file), or :class:`InputError`.

    A file over :data:`MAX_FILE_BYTES` is a :class:`LimitError` (a kind of InputError) naming
    it, as a busy calendar over its bound is, whatever its format.
    """
    origin = _path("path", path)
    try:
        data = json.loads(read_capped(origin, MAX_FILE_BYTES).decode("utf-8"))
    except FileRefused as err:
        refused = LimitError if err.too_large else InputError
        raise refused(origin, err.expectation, err.value) from None
    except OSError as err:
        raise InputError(origin, "a readable JSON file", err.strerror) from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(origin, "valid UTF-8 JSON", str(err)) from err
    except RecursionError as err:
        raise InputError(origin, "JSON nested at most a few hundred levels", "deeper") from err
    except ValueError as err:  # a number of more than 4,300 digits
        raise InputError(origin, "JSON with numbers Python can read", _first_clause(err)) from err
    if not isinstance(data, list):
        raise InputError(origin, "a JSON list", type(data).__name__)
    return data


def load_plan(path: str | os.PathLike[str], /) -> Plan:
    """A plan written by ``ketaplan plan --format json`` (or ``Plan.model_dump_json``).

    Raises:
        PlanError: the file is unreadable or not a valid plan.
    """
    origin = _path("path", path)
    if Path(origin).suffix.lower() != ".json":
        raise PlanError([Problem("", "must be a .json plan file", origin, origin=origin)])
    data = read_definition(origin, error=PlanError, limit=MAX_PLAN_FILE_BYTES)
    return validate(Plan, data, origin=origin, error=PlanError)


def dump_plan(made: Plan, /) -> str:
    """``made`` as the JSON of a plan file, which :func:`load_plan` reads back.

    Every plan file ketaplan writes is made here, and read back here before it is given: none
    is larger than a plan file ketaplan reads, and none holds what :func:`load_plan` refuses.

    Raises:
        LimitError: the JSON would be over :data:`MAX_PLAN_FILE_BYTES` (plan a shorter
            horizon, ``until``).
        InputError: the plan holds what a plan file may not (the first problem is named).
    """
    if not isinstance(made, Plan):
        raise InputError("plan", "a Plan", made)
    text = made.model_dump_json(indent=2) + "\n"
    size = len(text.encode("utf-8"))
    if size > MAX_PLAN_FILE_BYTES:
        raise LimitError(
            "plan",
            f"at most {MAX_PLAN_FILE_BYTES} bytes as a plan file, the most ketaplan reads "
            f"(plan {made.id} has {len(made.appointments)} appointments: plan a shorter "
            "horizon, until)",
            f"{size} bytes",
        )
    try:
        Plan.model_validate_json(text)
    except DefinitionError as err:
        raise InputError("plan", "a plan ketaplan can read back", str(err.problems[0])) from err
    return text


def load_plan_or_bookings(path: str | os.PathLike[str], /) -> Plan | list[Booking]:
    """Another patient's plan (a plan file), or a JSON list of bookings (``--bookings``).

    A file whose JSON starts with ``[`` is a list of bookings; any other is read as a plan.

    Raises:
        PlanError: a plan file is unreadable or not a valid plan.
        InputError: a list of bookings is not valid; the field names the file and the item.
        LimitError: a list of bookings over :data:`MAX_FILE_BYTES` (a kind of InputError).
    """
    origin = _path("path", path)
    try:
        opening = b""  # load_plan says why it cannot be read (not a regular file, say)
        if is_file(origin):
            with Path(origin).open("rb") as file:
                opening = file.read(_PEEK_BYTES).lstrip()
    except OSError:
        pass
    if not opening.startswith(b"["):
        return load_plan(origin)
    listed = read_json_list(origin)  # its errors name the file already
    try:
        return parse_bookings(listed)
    except InputError as err:
        raise err.at(f"{origin}: {err.field}") from None


#: How much of a file :func:`load_plan_or_bookings` reads to tell a list from a plan.
_PEEK_BYTES = 4096


def detect_kind(data: Mapping[str, Any], /) -> DefinitionKind:
    """Which kind of definition ``data`` is, from its keys.

    >>> detect_kind({"phases": []}), detect_kind({"opening_hours": {}}), detect_kind({"id": "p1"})
    ('protocol', 'clinic', 'patient')
    """
    if "phases" in data or "session_kinds" in data:
        return "protocol"
    if "opening_hours" in data or "resources" in data:
        return "clinic"
    return "patient"


def load_definition(
    path: str | os.PathLike[str], /, *, kind: DefinitionKind | None = None
) -> Protocol | Clinic | Patient:
    """A protocol, clinic or patient file; the kind is detected from its keys unless given."""
    origin = _path("path", path)
    data = read_definition(origin)
    chosen = kind or detect_kind(data)
    if chosen == "protocol":
        return validate(Protocol, data, origin=origin, error=ProtocolError)
    if chosen == "clinic":
        return validate(Clinic, data, origin=origin, error=ClinicError)
    return validate(Patient, data, origin=origin, error=PatientError)
