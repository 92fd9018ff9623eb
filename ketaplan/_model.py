"""The base of every ketaplan model, and the helpers its validators share.

Models are frozen and reject unknown keys, so a typo in a definition file is an error rather
than a silently ignored line. Validators that look at several fields at once report all
their findings together by raising :class:`Findings`, which the loaders unpack into one
:class:`~ketaplan.errors.Problem` each, with the full field path.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from ketaplan.errors import MISSING, InputError, LimitError, Problem

__all__ = ["Findings", "FiniteFloat", "Model", "NonEmptyText", "Slug", "check_unique", "fail"]

#: An identifier used in files and in references between their parts.
Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$"),
    Field(description="lower-case letters, digits and '-', starting with a letter or digit"),
]

#: Human-readable text that must not be blank.
NonEmptyText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]

#: A number that JSON can carry: no NaN or infinity (``1e999`` reads as infinity).
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

Loc = tuple[str | int, ...]


class Model(BaseModel):
    """Frozen, strict-keyed base model."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_default=False,
        use_attribute_docstrings=True,
    )


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


def fail(findings: Sequence[tuple[Loc, str, object]]) -> None:
    """Raise :class:`Findings` when there is anything to report."""
    if findings:
        raise Findings(findings)


def check_unique(
    items: Sequence[Any], field: str, key: str = "id"
) -> list[tuple[Loc, str, object]]:
    """Report every item whose ``key`` attribute repeats an earlier one."""
    seen: set[object] = set()
    found: list[tuple[Loc, str, object]] = []
    for index, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            found.append(((field, index, key), f"must be unique within {field}", value))
        seen.add(value)
    return found


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Location parts pydantic adds for union branches; they mean nothing to a user.
_BRANCH_PARTS = frozenset({"int", "str", "float", "bool", "none"})

#: Tag values of the tagged unions in the protocol language (see ``protocol.gap``).
UNION_TAGS: set[str] = set()


def format_loc(loc: Iterable[str | int]) -> str:
    """Render a pydantic location as ``phases[1].cadence.steps[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in UNION_TAGS or part in _BRANCH_PARTS or not _IDENT.match(part):
            continue
        else:
            out += f".{part}" if out else part
    return out


__all__ += [
    "FIRST_DATE",
    "LAST_DATE",
    "MISSING",
    "UNION_TAGS",
    "aware",
    "expect",
    "format_loc",
    "in_range",
]


T = TypeVar("T")


def validate_as(adapter: TypeAdapter[T], data: object, /, *, field: str) -> T:
    """``data`` validated by ``adapter``, or :class:`InputError` at its first problem.

    The error names the path below ``field`` (``bookings[2].end``), what was expected and what
    was given.
    """
    try:
        return adapter.validate_python(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = field + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise InputError(where, str(first["msg"]).lower(), first.get("input")) from err


#: The dates ketaplan plans in: far enough either way for any clinic, and far from the ends of
#: Python's calendar (year 1 and 9999), where date arithmetic overflows.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2200, 12, 31)


def expect(name: str, value: object, kind: type | tuple[type, ...], expectation: str) -> None:
    """:class:`InputError` naming ``name`` unless ``value`` is an instance of ``kind``."""
    if not isinstance(value, kind):
        raise InputError(name, expectation, value)


def in_range(name: str, value: dt.date) -> dt.date:
    """``value`` if it lies from :data:`FIRST_DATE` to :data:`LAST_DATE`, else a LimitError."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not FIRST_DATE <= day <= LAST_DATE:
        raise LimitError(name, f"a date from {FIRST_DATE} to {LAST_DATE}", value)
    return value


def elapsed_order(start: dt.datetime, end: dt.datetime) -> bool:
    """Whether ``end`` comes after ``start`` in real time.

    Python compares two datetimes of one ``tzinfo`` by their wall clocks, so 01:15 EDT and the
    01:15 EST an hour later (fall back) would compare equal; this compares instants.
    """
    return end.astimezone(dt.UTC) > start.astimezone(dt.UTC)


def aware(name: str, value: object) -> dt.datetime:
    """``value`` if it is an aware datetime, else :class:`InputError` naming ``name``."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InputError(name, "an aware datetime (with a zone)", value)
    in_range(name, value)
    return value
