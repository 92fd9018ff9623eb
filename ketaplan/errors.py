"""Every error ketaplan raises, in one tree.

Each class also inherits the builtin exception a caller would naturally catch, so
``except ValueError`` keeps working around ketaplan calls::

    KetaplanError
    ├── DefinitionError (ValueError)        a definition file or object is invalid
    │   ├── ProtocolError                   ... a protocol
    │   ├── ClinicError                     ... a clinic
    │   ├── PatientError                    ... a patient
    │   ├── PlanError                       ... a plan file
    │   └── CalendarFileError               ... a file of busy times (.ics, FHIR)
    ├── UnknownProtocolError (LookupError)  no built-in protocol has that id
    ├── InputError (ValueError)             an argument to a function is invalid
    │   └── LimitError                      ... it exceeds a documented bound
    ├── LocalTimeError (ValueError)         a local time does not exist or is ambiguous
    │                                       and the policy says "raise"
    ├── UnsatisfiableError (ValueError)     the series cannot be placed in the calendar
    └── MissingExtraError (ImportError)     a feature needs an optional extra (ketaplan[fhir])

Definition errors carry every problem found, not just the first: ``err.problems`` is a
tuple of :class:`Problem`, each naming the file, the field path, what was expected and the
value that was given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Self

from ketaplan._text import fmt_day

__all__ = [
    "CalendarFileError",
    "ClinicError",
    "DefinitionError",
    "InputError",
    "KetaplanError",
    "LimitError",
    "LocalTimeError",
    "MissingExtraError",
    "PatientError",
    "PlanError",
    "Problem",
    "ProtocolError",
    "UnknownProtocolError",
    "UnsatisfiableError",
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

    def __init__(
        self, problems: Iterable[Problem], *, subject: str | None = None, omitted: int = 0
    ) -> None:
        self.problems = tuple(problems)
        self.omitted = omitted
        """Problems found but not listed (a file with thousands: the first are enough)."""
        count = len(self.problems) + omitted
        noun = "problem" if count == 1 else "problems"
        lines = [f"invalid {subject or self.subject}: {count:,} {noun}"]
        lines += [f"  {problem}" for problem in self.problems]
        if omitted:
            lines.append(f"  ... and {omitted:,} more, not listed")
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


class PlanError(DefinitionError):
    """A plan read from a file is invalid."""

    subject = "plan"


class CalendarFileError(DefinitionError):
    """A file of busy times (iCalendar, or a FHIR Bundle) could not be read.

    ``problems`` name each bad line of an ``.ics`` file, or each bad entry of a Bundle.
    """

    subject = "calendar file"


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


class InputError(KetaplanError, ValueError):
    """An argument to a ketaplan function is invalid.

    The message names the argument, what it must be, and the value given:
    ``until: must be on or after start (2026-12-07); got datetime.date(2026, 12, 1)``.
    """

    def __init__(self, field: str, expectation: str, value: object) -> None:
        self.field = field
        self.expectation = expectation
        self.value = value
        self._predicate = f"must be {expectation}"
        super().__init__(self._text())

    @classmethod
    def saying(cls, field: str, predicate: str, value: object = MISSING) -> Self:
        """The error in a predicate's own words: ``saying("end", "is required")``.

        ``predicate`` is what a :class:`Problem` says (``"must not be empty"``, ``"is not a
        known field"``); ``value`` may be ``MISSING`` when nothing was given.
        """
        made = cls.__new__(cls)
        made.field, made.value = field, value
        made.expectation = predicate.removeprefix("must be ")
        made._predicate = predicate
        Exception.__init__(made, made._text())
        return made

    def at(self, field: str) -> Self:
        """The same error about ``field``: a caller names the argument as its user gave it."""
        return type(self).saying(field, self._predicate, self.value)

    def _text(self) -> str:
        got = "" if self.value is MISSING else f"; got {show_value(self.value)}"
        return f"{self.field}: {self._predicate}{got}"


class LimitError(InputError):
    """A request would exceed one of ketaplan's documented bounds.

    ketaplan bounds its work so that no input can make it hang or exhaust memory; the bounds
    are listed in ``docs/errors.md``. A file refused for its size (or its count of entries) is
    one whatever its format (an events or bookings list in JSON, an ``.ics`` file, a FHIR
    Bundle), its ``field`` the file: ``events.json: must be at most 1048576 bytes; got
    1860000``. A definition or plan file is the exception: its size is one of its problems,
    in its own :class:`DefinitionError`.
    """


class MissingExtraError(KetaplanError, ImportError):
    """A feature needs an optional extra that is not installed.

    >>> print(MissingExtraError("fhir", "FHIR export and import"))
    FHIR export and import needs the optional extra 'fhir': pip install 'ketaplan[fhir]'
    """

    def __init__(self, extra: str, feature: str) -> None:
        self.extra = extra
        self.feature = feature
        super().__init__(
            f"{feature} needs the optional extra {extra!r}: pip install 'ketaplan[{extra}]'"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class LocalTimeError(KetaplanError, ValueError):
    """A local time is skipped or repeated by a DST change and the policy is ``"raise"``."""

    def __init__(self, when: str, zone: str, problem: str, policy: str) -> None:
        self.when = when
        self.zone = zone
        self.problem = problem
        self.policy = policy
        """The policy that said ``"raise"``: ``skipped_time`` or ``repeated_time``."""
        super().__init__(
            f"{policy}: {when} in {zone} {problem}; choose another time or another policy "
            f"than 'raise'"
        )


class UnsatisfiableError(KetaplanError, ValueError):
    """The series cannot be placed: a session has no feasible slot in its window.

    Attributes:
        session: which session, e.g. ``"infusion 3 of phase 'induction'"``.
        window: the first and last acceptable dates, in words (``"Tue 1 Dec 2026"``).
        blocked: ``(date, reason)`` for each candidate day, in date order, dates in words.

    Built by :meth:`for_session`, so every message reads the same way.
    """

    @classmethod
    def for_session(
        cls,
        session: str,
        *,
        earliest: dt.date,
        latest: dt.date,
        blocked: Mapping[dt.date, str] | Iterable[tuple[dt.date, str]] = (),
        hint: str | None = None,
    ) -> UnsatisfiableError:
        """The error for ``session``, whose window ``earliest``-``latest`` has no slot.

        >>> import datetime as dt
        >>> err = UnsatisfiableError.for_session(
        ...     "infusion 2 of phase 'induction'",
        ...     earliest=dt.date(2026, 12, 1), latest=dt.date(2026, 12, 2),
        ...     blocked={dt.date(2026, 12, 2): "no chair free", dt.date(2026, 12, 1): "closed"})
        >>> err.window
        ('Tue 1 Dec 2026', 'Wed 2 Dec 2026')
        >>> err.blocked
        (('Tue 1 Dec 2026', 'closed'), ('Wed 2 Dec 2026', 'no chair free'))
        """
        items = blocked.items() if isinstance(blocked, Mapping) else blocked
        return cls(
            session,
            (fmt_day(earliest), fmt_day(latest)),
            [(fmt_day(day), reason) for day, reason in sorted(items)],
            hint=hint,
        )

    def __init__(
        self,
        session: str,
        window: tuple[str, str],
        blocked: Iterable[tuple[str, str]],
        *,
        hint: str | None = None,
    ) -> None:
        self.session = session
        self.window = window
        self.blocked = tuple(blocked)
        lines = [f"cannot place {session}: no feasible slot from {window[0]} to {window[1]}"]
        lines += [f"  {day}: {reason}" for day, reason in self.blocked]
        if hint:
            lines.append(f"  {hint}")
        super().__init__("\n".join(lines))
