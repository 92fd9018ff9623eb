"""Every error ketaplan raises, in one tree.

Each class also inherits the builtin exception a caller would naturally catch, so
``except ValueError`` keeps working around ketaplan calls::

    KetaplanError
    ├── DefinitionError (ValueError)        a definition file or object is invalid
    │   ├── ProtocolError                   ... a protocol
    │   ├── ClinicError                     ... a clinic
    │   └── PatientError                    ... a patient
    ├── UnknownProtocolError (LookupError)  no built-in protocol has that id
    └── LimitError (ValueError)             a request exceeds a documented bound

Definition errors carry every problem found, not just the first: ``err.problems`` is a
tuple of :class:`Problem`, each naming the file, the field path, what was expected and the
value that was given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ClinicError",
    "DefinitionError",
    "KetaplanError",
    "LimitError",
    "PatientError",
    "Problem",
    "ProtocolError",
    "UnknownProtocolError",
]

#: Values longer than this are shortened in messages, so one huge value cannot flood a terminal.
_MAX_VALUE_CHARS = 80


class _Missing:
    """Marks a problem that has no offending value (a missing field, a whole file)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


def show_value(value: object) -> str:
    """Return ``repr(value)``, shortened to a bounded length."""
    text = repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition.

    Attributes:
        path: where the problem is, e.g. ``"phases[1].cadence.steps[0].gap.maximum"``;
            empty when it concerns the whole definition.
        message: what was expected, e.g. ``"must be at least 1"``.
        value: the offending value, or ``MISSING`` when there is none.
        origin: the file the definition came from, or ``"<string>"``/``"<object>"``.
    """

    path: str
    message: str
    value: object = MISSING
    origin: str | None = None

    def __str__(self) -> str:
        parts = [p for p in (self.origin, self.path) if p]
        where = ": ".join(parts)
        text = f"{where}: {self.message}" if where else self.message
        if self.value is not MISSING:
            text += f"; got {show_value(self.value)}"
        return text


class KetaplanError(Exception):
    """Base class of every error raised by ketaplan."""


class DefinitionError(KetaplanError, ValueError):
    """A protocol, clinic or patient definition is invalid.

    ``str(err)`` lists every problem on its own line.
    """

    #: What kind of definition this error is about, for the first line of the message.
    subject = "definition"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"invalid {self.subject}: {count} {noun}"]
        lines += [f"  {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


class ProtocolError(DefinitionError):
    """A protocol definition is invalid."""

    subject = "protocol"


class ClinicError(DefinitionError):
    """A clinic definition is invalid."""

    subject = "clinic"


class PatientError(DefinitionError):
    """A patient definition is invalid."""

    subject = "patient"


class UnknownProtocolError(KetaplanError, LookupError):
    """No built-in protocol has the given id, and it is not a readable file."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        super().__init__(
            f"protocol: must be a built-in id ({', '.join(self.known)}) or a .toml/.json file; "
            f"got {show_value(name)}"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class LimitError(KetaplanError, ValueError):
    """A request would exceed one of ketaplan's documented bounds.

    ketaplan bounds its work so that no input can make it hang or exhaust memory; the bounds
    are listed in ``docs/errors.md``.
    """

    def __init__(self, field: str, limit: str, value: object) -> None:
        self.field = field
        self.limit = limit
        self.value = value
        super().__init__(f"{field}: must be {limit}; got {show_value(value)}")
