"""Reading definitions from TOML and JSON, with every problem reported at once.

pydantic's ``ValidationError`` is translated here, at the boundary, into a
:class:`~ketaplan.errors.DefinitionError` whose problems name the file, the field path, what was
expected and the value given.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
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
    "KIND_WORDS",
    "MAX_FILE_BYTES",
    "MAX_PLAN_FILE_BYTES",
    "DefinitionKind",
    "FileKind",
    "builtin_protocol_ids",
    "builtin_protocols",
    "detect_kind",
    "dump_plan",
    "file_kind",
    "load_clinic",
    "load_definition",
    "load_patient",
    "load_plan",
    "load_plan_or_bookings",
    "load_protocol",
    "loads_clinic",
    "loads_patient",
    "loads_protocol",
    "other_kind",
    "parse_definition",
    "read_definition",
    "read_json_list",
    "recognise",
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
    own = _KIND_OF.get(model)
    other = None if own is None else other_kind(own, data)
    if own is not None and other is not None:
        expected = f"must be {KIND_WORDS[own]}; this is {other}"
        raise error([Problem("", expected, origin=origin)])
    try:
        return model.model_validate(data)
    except DefinitionError as err:  # the model's own, from pydantic's (ketaplan._problems)
        found = [replace(problem, origin=origin) for problem in err.problems]
        raise error(found, omitted=err.omitted) from None
    except RecursionError as err:
        raise error([Problem("", "is nested too deeply", origin=origin)]) from err


#: The top-level fields of a roster file (:class:`ketaplan.roster.Roster`, a layer above).
_ROSTER_FIELDS = ("clinic", "patients")

#: Each kind of file ketaplan reads, in words.
KIND_WORDS: dict[str, str] = {
    "protocol": "a protocol file",
    "clinic": "a clinic file",
    "patient": "a patient file",
    "plan": "a plan file",
    "roster": "a roster file",
    "events": "an events file",
    "bookings": "a bookings file",
    "ics": "an iCalendar file",
    "fhir": "a FHIR resource",
}

_KIND_OF: dict[type[BaseModel], str] = {
    Protocol: "protocol",
    Clinic: "clinic",
    Patient: "patient",
    Plan: "plan",
}


@dataclass(frozen=True)
class FileKind:
    """What kind of file some data is, and what shows it (``it has 'opening_hours'``)."""

    kind: str
    """A key of :data:`KIND_WORDS`."""
    sign: str

    def __str__(self) -> str:
        return f"{KIND_WORDS[self.kind]} ({self.sign})"


@cache
def _marks() -> dict[str, tuple[str, ...]]:
    """The top-level fields only one kind of file has, by kind: what tells the kinds apart.

    Read from the models themselves, so a field added to one kind marks it at once.
    """
    fields = {kind: tuple(model.model_fields) for model, kind in _KIND_OF.items()}
    fields["roster"] = _ROSTER_FIELDS
    return {
        kind: tuple(
            sorted(
                (name for name in own if not any(name in fields[k] for k in fields if k != kind)),
                key=lambda name: name not in _TELLING,
            )
        )
        for kind, own in fields.items()
    }


#: The field named first, when a file has it, as the sign of its kind.
_TELLING = ("protocol_version", "phases", "opening_hours")


def recognise(data: object, /, *, expected: Collection[str] = ()) -> FileKind | None:
    """What kind of ketaplan file ``data`` (parsed TOML or JSON) is; None when it cannot tell.

    A table is the kind whose own fields it has (one of ``expected`` when it has any of
    theirs: a clinic with a typo is still a clinic); a FHIR resource has a ``resourceType``;
    a list is of events when each item has a ``type``, of bookings when each has a ``start``
    and an ``end`` and none a ``type``.

    >>> print(recognise({"id": "p-1", "availability": {}}))
    a patient file (it has 'availability')
    """
    if isinstance(data, list):
        return _list_kind(data)
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("resourceType"), str):
        return FileKind("fhir", f"its resourceType is {data['resourceType'][:40]!r}")
    found = {kind: [name for name in names if name in data] for kind, names in _marks().items()}
    own = [kind for kind in expected if found.get(kind)]
    best = own or sorted((k for k in found if found[k]), key=lambda k: -len(found[k]))
    return FileKind(best[0], f"it has {found[best[0]][0]!r}") if best else None


def _list_kind(items: list[Any]) -> FileKind | None:
    """Events or bookings: every item a table, each with a ``type`` or each a span."""
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    if all("type" in item for item in items):
        return FileKind("events", "a JSON list, each item with a 'type'")
    if all("start" in item and "end" in item and "type" not in item for item in items):
        return FileKind("bookings", "a JSON list, each item with a 'start' and an 'end'")
    return None


def file_kind(path: str | os.PathLike[str], /) -> FileKind | None:
    """What kind of ketaplan file ``path`` holds, read from its text whatever its name.

    For saying what a file is when it fails to load as the kind asked for; None when it is
    none ketaplan can tell (or cannot be read).
    """
    try:
        text = read_capped(os.fspath(path), MAX_PLAN_FILE_BYTES).decode("utf-8-sig")
    except (FileRefused, OSError, UnicodeDecodeError, ValueError):
        return None
    opening = text.lstrip()
    if opening.upper().startswith("BEGIN:VCALENDAR"):
        return FileKind("ics", "it begins with BEGIN:VCALENDAR")
    formats: tuple[Format, ...] = ("json", "toml") if opening[:1] in ("{", "[") else ("toml",)
    for written in formats:
        try:
            return recognise(_parsed(text, format=written, origin="", error=DefinitionError))
        except DefinitionError:
            continue
    return None


def other_kind(expected: str, data: object) -> FileKind | None:
    """The kind ``data`` is when ketaplan can tell it is another than ``expected``."""
    found = recognise(data, expected=(expected,))
    return found if found is not None and found.kind != expected else None


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
        found = recognise(data)
        if found is not None:
            raise InputError.saying(origin, f"must be a JSON list; this is {found}")
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
    other = other_kind("bookings", listed)
    if other is not None:
        expected = f"must be {KIND_WORDS['plan']} or {KIND_WORDS['bookings']}; this is {other}"
        raise InputError.saying(origin, expected)
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
    found = recognise(data, expected=_DEFINITION_KINDS)
    return found.kind if found is not None and found.kind in _DEFINITION_KINDS else "patient"


_DEFINITION_KINDS: tuple[DefinitionKind, ...] = ("protocol", "clinic", "patient")


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
