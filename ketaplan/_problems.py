"""pydantic's validation errors in ketaplan's words: one :class:`~ketaplan.errors.Problem` each.

Models (``Patient(id=1)``), files (``load_patient``) and containers read by ketaplan all report
their problems the same way: a readable path (``phases[1].cadence.steps[0]``), what was expected
and what was given; a cross-field validator reports several at once with :class:`Findings`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from ketaplan._text import quantity
from ketaplan.errors import MISSING, Problem

__all__ = [
    "MAX_LISTED",
    "UNION_TAGS",
    "Findings",
    "field_names",
    "format_loc",
    "problems_from",
    "problems_in",
    "union_tags",
]

Loc = tuple[str | int, ...]


class Findings(ValueError):  # noqa: N818 - a collection of findings, not one error
    """Several problems found by one cross-field validator.

    Each finding is ``(loc, message, value)``, with ``loc`` relative to the model that raised
    it. ``str()`` joins them so that a caller who only reads the message still sees all.
    """

    def __init__(self, findings: Iterable[tuple[Loc, str, object]]) -> None:
        self.findings = tuple(findings)
        super().__init__(
            "; ".join(
                Problem(format_loc(loc), message, value).__str__()
                for loc, message, value in self.findings
            )
        )


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Location parts pydantic adds for union branches; they mean nothing to a user.
_BRANCH_PARTS = frozenset({"int", "str", "float", "bool", "none"})

#: Tag values of the tagged unions in the protocol language (see ``protocol.gap``).
UNION_TAGS: set[str] = set()


def format_loc(loc: Iterable[str | int], tags: frozenset[str] = frozenset()) -> str:
    """Render a pydantic location as ``phases[1].cadence.steps[0]``.

    ``tags``: the tags of tagged unions besides the protocol language's, which pydantic puts in
    the location and which mean nothing to a user (``events[0].missed.appointment``).
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in UNION_TAGS or part in tags or part in _BRANCH_PARTS or not _IDENT.match(part):
            continue
        else:
            out += f".{part}" if out else part
    return out


#: At most this many problems are described one by one; the rest are counted.
MAX_LISTED = 100


def problems_from(
    err: ValidationError, model: type[BaseModel], /, *, origin: str
) -> tuple[list[Problem], int]:
    """One problem per pydantic error, with readable paths and messages, and how many more.

    Only the first :data:`MAX_LISTED` are described (a file of 80,000 unknown fields is one
    mistake repeated): the cost of an error stays linear and small.
    """
    return problems_in(err, _field_names(model), origin=origin, root=model)


def field_names(annotation: object) -> frozenset[str]:
    """Every field name of the models in ``annotation`` (``list[Booking]``, a union of events)."""
    return frozenset().union(*(_field_names(model) for model in _models_in(annotation)))


def union_tags(annotation: object) -> frozenset[str]:
    """The ``type`` tags of the models in ``annotation`` (a tagged union of events)."""
    return frozenset(
        tag for model in _models_in(annotation) for tag in _tags(model) if isinstance(tag, str)
    )


def problems_in(
    err: ValidationError,
    names: frozenset[str],
    /,
    *,
    origin: str,
    tags: frozenset[str] = frozenset(),
    root: object = None,
) -> tuple[list[Problem], int]:
    """:func:`problems_from` for any validated type.

    ``names``: its fields, for "did you mean"; ``tags``: its unions' tags (:func:`format_loc`);
    ``root``: the type validated, so that a misspelt field is matched against the fields of
    the model it is in (``tasks[0].name`` is not "did you mean 'name'?").
    """
    problems: list[Problem] = []
    omitted = 0
    details = err.errors(include_url=False)
    failed_items = {tuple(d["loc"][:i]) for d in details for i in range(len(d["loc"]))}
    for detail in details:
        loc = tuple(detail["loc"])
        if detail["type"] == "too_short" and loc in failed_items:
            # pydantic counts only the items that validated; the items' own errors say more.
            continue
        ctx = detail.get("ctx") or {}
        inner = ctx.get("error")
        found = inner.findings if isinstance(inner, Findings) else None
        if len(problems) >= MAX_LISTED:
            omitted += len(found) if found is not None else 1
        elif found is not None:
            for sub_loc, message, value in found:
                problems.append(
                    Problem(format_loc(loc + sub_loc, tags), message, value, origin=origin)
                )
        else:
            here = _names_at(root, loc[:-1]) if detail["type"] == "extra_forbidden" else None
            message, value = _describe(detail, names if here is None else here)
            problems.append(Problem(format_loc(loc, tags), message, value, origin=origin))
    return problems, omitted


def _names_at(root: object, loc: Loc) -> frozenset[str] | None:
    """The field names of the model(s) at ``loc`` below ``root``, or None when unknown."""
    models = _models_in(root)
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list or tuple: the same models
        holding = [model for model in models if part in model.model_fields]
        if holding:
            models = [m for h in holding for m in _models_in(h.model_fields[part].annotation)]
            continue
        tagged = [model for model in models if part in _tags(model)]
        if tagged:  # pydantic names the branch of a tagged union it tried
            models = tagged
        elif part not in _BRANCH_PARTS:
            return None
    names = {name for model in models for name in model.model_fields}
    return frozenset(names) or None


def _tags(model: type[BaseModel]) -> tuple[object, ...]:
    field = model.model_fields.get("type")
    return get_args(field.annotation) if field is not None else ()


#: Error types whose message needs nothing but the type.
_PLAIN = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number (not NaN or infinity)",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    # Every text field is a constrained string, which pydantic reads as UTF-8: a lone
    # surrogate (JSON's "\udfff") cannot be, nor written to any file.
    "string_unicode": "must be text that can be written (no lone surrogate, U+D800 to U+DFFF)",
    "string_too_short": "must not be empty",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "model_type": "must be a table (an object) of fields",
    "model_attributes_type": "must be a table (an object) of fields",
    "dict_type": "must be a table (an object) of fields",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    # A date and time where a day is due (TOML's `start = 2026-12-01T09:00:00`, JSON's
    # "2026-12-01T09:00:00"): pydantic's own words spoke of "exact dates" and "zero time".
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD), not a date and time",
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
}


#: A date alone where a moment is due (TOML's ``start = 2026-12-08``): pydantic reads it as a
#: midnight without an offset, and "must have a UTC offset" left out that a time is due too.
_DAY_FOR_MOMENT = (
    "must be a date and time with a UTC offset, not a date alone, e.g. 2026-12-07T09:00:00-05:00"
)
_DAY_TEXT = re.compile(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*")


def _a_day(value: object) -> bool:
    """Whether ``value`` is a date alone (a ``date``, or text such as ``"2026-12-08"``)."""
    if isinstance(value, dt.date):
        return not isinstance(value, dt.datetime)
    return isinstance(value, str) and _DAY_TEXT.fullmatch(value) is not None


def _describe(detail: Any, names: frozenset[str]) -> tuple[str, object]:
    kind: str = detail["type"]
    ctx: dict[str, Any] = detail.get("ctx") or {}
    value = detail.get("input", MISSING)
    if kind == "timezone_aware" and _a_day(value):
        return _DAY_FOR_MOMENT, value
    if kind in _PLAIN:
        return _PLAIN[kind], value
    if kind in _WITH_CONTEXT:
        bounds = {key: _bound(bound) for key, bound in ctx.items()}
        return _WITH_CONTEXT[kind].format(**bounds), value
    if kind == "missing":
        return "is required", MISSING
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return _PATTERNS.get(pattern, f"must match the pattern {pattern}"), value
    if kind == "extra_forbidden":
        name = str(detail["loc"][-1])  # a field unknown here is never its own suggestion
        close = difflib.get_close_matches(name, names - {name}, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"is not a known field{hint}", value
    if kind == "too_short":
        return f"must have at least {quantity(ctx['min_length'], 'item')}", value
    if kind == "too_long":
        return f"must have at most {quantity(ctx['max_length'], 'item')}", _length(value)
    if kind == "union_tag_invalid":
        return f"type: must be one of {ctx['expected_tags']}", ctx.get("tag", MISSING)
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', 'type')} field", MISSING
    if kind == "value_error":
        return str(detail["msg"]).removeprefix("Value error, "), MISSING
    return str(detail["msg"]), value


def _bound(value: object) -> object:
    """A bound as the file writes it: pydantic gives a float field's whole bound as ``336.0``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _length(value: object) -> object:
    return quantity(len(value), "item") if isinstance(value, list | tuple) else value


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
