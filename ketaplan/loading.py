"""Reading definitions from TOML and JSON, with every problem reported at once.

pydantic's ``ValidationError`` is translated here, at the boundary, into a
:class:`~ketaplan.errors.DefinitionError` whose problems name the file, the field path, what was
expected and the value given.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from ketaplan._model import Findings, format_loc
from ketaplan.clinic import Clinic
from ketaplan.errors import (
    MISSING,
    ClinicError,
    DefinitionError,
    InputError,
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
    "DefinitionKind",
    "builtin_protocol_ids",
    "builtin_protocols",
    "detect_kind",
    "load_clinic",
    "load_definition",
    "load_patient",
    "load_plan",
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

_SUFFIXES: dict[str, Format] = {".toml": "toml", ".json": "json"}


# -- reading -----------------------------------------------------------------------------------


def read_definition(
    path: str | os.PathLike[str], /, *, error: type[DefinitionError] = DefinitionError
) -> dict[str, Any]:
    """Read a TOML or JSON file into a dict, or raise ``error`` saying what is wrong."""
    origin = _path("path", path)
    suffix = Path(origin).suffix.lower()
    if suffix not in _SUFFIXES:
        raise error([Problem("", "must be a .toml or .json file", origin, origin=origin)])
    try:
        size = Path(origin).stat().st_size
        if size > MAX_FILE_BYTES:
            raise error(
                [Problem("", f"must be at most {MAX_FILE_BYTES} bytes", size, origin=origin)]
            )
        text = Path(origin).read_text(encoding="utf-8")
    except OSError as err:
        raise error(
            [Problem("", f"cannot be read ({err.strerror or err})", origin=origin)]
        ) from err
    except UnicodeDecodeError as err:
        raise error(
            [Problem("", f"must be UTF-8 text (byte {err.start} is not)", origin=origin)]
        ) from err
    return parse_definition(text, format=_SUFFIXES[suffix], origin=origin, error=error)


def parse_definition(
    text: str,
    /,
    *,
    format: Format,
    origin: str = "<string>",
    error: type[DefinitionError] = DefinitionError,
) -> dict[str, Any]:
    """Parse TOML or JSON text into a dict, or raise ``error`` with the line of the problem."""
    if len(text) > MAX_FILE_BYTES:
        raise error(
            [Problem("", f"must be at most {MAX_FILE_BYTES} characters", len(text), origin=origin)]
        )
    if format not in {"toml", "json"}:
        raise error([Problem("", "format must be 'toml' or 'json'", format, origin=origin)])
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
    """Build ``model`` from ``data``, translating every validation error into a problem."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise error(problems_from(err, model, origin=origin)) from err
    except RecursionError as err:
        raise error([Problem("", "is nested too deeply", origin=origin)]) from err


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
    if Path(text).suffix.lower() in _SUFFIXES or os.sep in text or Path(text).exists():
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
    """A JSON file whose top level is a list (an events file), or :class:`InputError`."""
    origin = _path("path", path)
    try:
        size = Path(origin).stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(origin, f"at most {MAX_FILE_BYTES} bytes", size)
        data = json.loads(Path(origin).read_text(encoding="utf-8"))
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
    data = read_definition(origin, error=PlanError)
    return validate(Plan, data, origin=origin, error=PlanError)


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


# -- translating pydantic errors ---------------------------------------------------------------


def problems_from(err: ValidationError, model: type[BaseModel], /, *, origin: str) -> list[Problem]:
    """One problem per pydantic error, with readable paths and messages."""
    problems: list[Problem] = []
    names = _field_names(model)
    details = err.errors(include_url=False)
    failed_items = {tuple(d["loc"][:i]) for d in details for i in range(len(d["loc"]))}
    for detail in details:
        loc = tuple(detail["loc"])
        if detail["type"] == "too_short" and loc in failed_items:
            # pydantic counts only the items that validated; the items' own errors say more.
            continue
        ctx = detail.get("ctx") or {}
        inner = ctx.get("error")
        if isinstance(inner, Findings):
            for sub_loc, message, value in inner.findings:
                problems.append(Problem(format_loc(loc + sub_loc), message, value, origin=origin))
            continue
        message, value = _describe(detail, names)
        problems.append(Problem(format_loc(loc), message, value, origin=origin))
    return problems


#: Error types whose message needs nothing but the type.
_PLAIN = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "model_type": "must be a table (an object) of fields",
    "model_attributes_type": "must be a table (an object) of fields",
    "dict_type": "must be a table (an object) of fields",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "time_type": "must be a time (HH:MM)",
    "time_parsing": "must be a time (HH:MM)",
    "datetime_type": "must be a date and time with a UTC offset (ISO 8601)",
    "datetime_parsing": "must be a date and time with a UTC offset (ISO 8601)",
    "datetime_from_date_parsing": "must be a date and time with a UTC offset (ISO 8601)",
    "timezone_aware": "must have a UTC offset, e.g. 2026-12-07T09:00:00-05:00",
}

#: What the regular expressions used by the models mean, in words.
_PATTERNS = {
    r"^[a-z0-9][a-z0-9-]{0,62}$": (
        "must be lower-case letters, digits and '-', starting with a letter or digit"
    ),
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$": (
        "must be an opaque reference of up to 64 letters, digits, '.', '_' or '-' (never a name)"
    ),
    r"^[A-Z]{2}$": "must be a two-letter ISO 3166 country code such as 'US'",
}

#: Error types whose message quotes a value from the error's context.
_WITH_CONTEXT = {
    "string_too_long": "must be at most {max_length} characters",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be greater than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "literal_error": "must be one of {expected}",
    "too_short": "must have at least {min_length} item(s)",
}


def _describe(detail: Any, names: frozenset[str]) -> tuple[str, object]:
    kind: str = detail["type"]
    ctx: dict[str, Any] = detail.get("ctx") or {}
    value = detail.get("input", MISSING)
    if kind in _PLAIN:
        return _PLAIN[kind], value
    if kind in _WITH_CONTEXT:
        return _WITH_CONTEXT[kind].format(**ctx), value
    if kind == "missing":
        return "is required", MISSING
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return _PATTERNS.get(pattern, f"must match the pattern {pattern}"), value
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(detail["loc"][-1]), names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"is not a known field{hint}", value
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} items", _length(value)
    if kind == "union_tag_invalid":
        return f"type: must be one of {ctx['expected_tags']}", ctx.get("tag", MISSING)
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', 'type')} field", MISSING
    if kind == "value_error":
        return str(detail["msg"]).removeprefix("Value error, "), MISSING
    return str(detail["msg"]), value


def _length(value: object) -> object:
    return f"{len(value)} items" if isinstance(value, list | tuple) else value


@cache
def _field_names(model: type[BaseModel]) -> frozenset[str]:
    """Every field name in ``model`` and the models it contains (for "did you mean")."""
    names: set[str] = set()
    stack: list[type[BaseModel]] = [model]
    seen: set[type[BaseModel]] = set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for name, field in current.model_fields.items():
            names.add(name)
            stack.extend(_models_in(field.annotation))
    return frozenset(names)


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) + getattr(annotation, "__metadata__", ()):
        found += _models_in(arg)
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        found += _models_in(origin)
    return found
