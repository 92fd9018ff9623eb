"""The base of every ketaplan model, and the helpers its validators share.

Models are frozen and reject unknown keys, so a typo in a definition file is an error rather
than a silently ignored line. Validators that look at several fields at once report all
their findings together by raising :class:`Findings`, which the loaders unpack into one
:class:`~ketaplan.errors.Problem` each, with the full field path.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    SerializerFunctionWrapHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WrapSerializer,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from ketaplan._problems import (
    UNION_TAGS,
    Findings,
    Loc,
    field_names,
    format_loc,
    problems_from,
    problems_in,
    union_tags,
)
from ketaplan.errors import MISSING, DefinitionError, InputError, LimitError

__all__ = [
    "Findings",
    "FiniteFloat",
    "Loc",
    "Model",
    "Name",
    "NonEmptyText",
    "Ref",
    "Slug",
    "Text",
    "check_unique",
    "fail",
]

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

#: Every text a model holds is one of the bounded kinds below (or a ``Slug``, ``NonEmptyText``,
#: a ``Literal``): a constrained string is read by pydantic's core as UTF-8 text, so a lone
#: surrogate (a JSON file's ``"\udfff"``, which no file, calendar or FHIR Bundle can hold) is
#: refused when read, naming the field, and no text is unbounded. ``tests/test_architecture.py``
#: checks every model's fields.

#: An id or a reference to one (an appointment, a phase, a rule, a zone, a file's source).
Ref = Annotated[str, StringConstraints(max_length=1000)]
#: A name people read on a calendar or a sheet (a clinic, its address, a session, a dose):
#: as long as a clinic's own name may be, well within what a calendar text holds (4,000).
Name = Annotated[str, StringConstraints(max_length=2000)]
#: Free text ketaplan writes or a person adds (a reason, a note, a message, a label).
Text = Annotated[str, StringConstraints(max_length=1_000_000)]

#: A number that JSON can carry: no NaN or infinity (``1e999`` reads as infinity).
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class Model(BaseModel):
    """Frozen, strict-keyed base model.

    Built with wrong values, directly or by ``model_validate``, a model raises ketaplan's
    :class:`~ketaplan.errors.DefinitionError` (or the subclass its ``error_class`` names: a
    ``PatientError`` for a patient), with one problem per wrong field, never pydantic's
    ``ValidationError``.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_default=False,
        use_attribute_docstrings=True,
        # A model's validator and serializer are built when it is first used, not on import:
        # a command that reads a plan does not pay for the models of FHIR or run sheets.
        defer_build=True,
    )

    #: The error a wrong value raises (a :class:`DefinitionError` subclass).
    error_class: ClassVar[type[DefinitionError]] = DefinitionError

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise _translated(type(self), err) from None

    # Only the errors differ from pydantic's own ``__init__``: pydantic reads this mark (which
    # its own ``__init__`` carries) to keep validating nested models without calling it.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler, /
    ) -> CoreSchema:
        """The model's core schema, in which every number and bool is read only as written.

        pydantic's lax mode reads ``true`` as 1 and text as a number where a number is due:
        ``min_interval = { hours = true }`` was a one-hour interval, ``count = true`` one
        session, ``min_interval = { hours = "48" }`` 48 hours; and ``"yes"`` or ``1`` as true
        where true or false is due. Every ``int``, ``float`` and ``bool`` the model's fields
        hold (alone, optional, in a list or a table) is guarded here, once for every model
        (:func:`_as_written_guarded`).
        """
        return _as_written_guarded(handler(source))

    @classmethod
    def trusted(cls, /, **values: Any) -> Self:
        """An instance of values ketaplan made itself, without validating them again.

        For the planner's own results only (an appointment in a slot its finder found, the
        instructions it wrote from a validated protocol): never for values a user gave, which
        the constructor validates. The values must already be what the fields hold (a tuple
        for a tuple, an aware datetime for a datetime); missing fields take their defaults.
        The instance equals, and serializes as, the one the constructor would make.
        """
        template, required, factories = _BLANKS.get(cls) or _blank(cls)
        data = {**template, **values}
        if len(data) != len(template) or not required <= values.keys():
            unknown = sorted(values.keys() - template.keys())
            missing = sorted(required - values.keys())
            raise TypeError(f"{cls.__name__}.trusted: unknown {unknown}, missing {missing}")
        for name, factory in factories:
            if name not in values:
                data[name] = factory()
        made = _new(cls)
        _set(made, "__dict__", data)
        _set(made, "__pydantic_fields_set__", set(values))
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Literal["allow", "ignore", "forbid"] | None = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """``obj`` validated as this model, or its :attr:`error_class` naming each wrong field."""
        try:
            return super().model_validate(
                obj,
                strict=strict,
                extra=extra,
                from_attributes=from_attributes,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )
        except ValidationError as err:
            raise _translated(cls, err) from None

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Literal["allow", "ignore", "forbid"] | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """JSON text validated as this model, or its :attr:`error_class` naming each problem."""
        try:
            return super().model_validate_json(
                json_data,
                strict=strict,
                extra=extra,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )
        except ValidationError as err:
            raise _translated(cls, err) from None


#: What each kind of value a field may hold is written as: a number, or true or false.
_WRITTEN_AS = {"int": "a whole number", "float": "a number", "bool": "true or false"}


def _as_written(kind: str) -> Callable[[object], object]:
    """The guard of a field holding ``kind``: a value of another kind is refused, not read.

    pydantic's lax mode reads ``true`` as 1 and ``"48"`` as 48 where a number is due, and
    ``"yes"`` or ``1`` as true where true or false is: each is refused here, before pydantic
    reads it, naming what is due and what was written.
    """
    due = f"must be {_WRITTEN_AS[kind]}"

    def refuse_others(value: object) -> object:
        if isinstance(value, str | bytes | bytearray):
            raise PydanticCustomError("written_as_text", f"{due}, not text")
        if kind == "bool":
            if not isinstance(value, bool) and isinstance(value, numbers.Number):
                raise PydanticCustomError("bool_from_number", f"{due}, not a number")
        elif isinstance(value, bool):
            raise PydanticCustomError("number_from_bool", f"{due}, not true or false")
        return value

    return refuse_others


_AS_WRITTEN = {kind: _as_written(kind) for kind in _WRITTEN_AS}
_GUARDS = frozenset(_AS_WRITTEN.values())
#: Keys of a core schema that hold no schema to guard (a default is a value, not a schema).
_NOT_SCHEMAS = frozenset({"metadata", "serialization", "default", "ref", "cls", "config"})


def _as_written_guarded(schema: CoreSchema) -> CoreSchema:
    """``schema`` (a pydantic core schema) with each ``int``, ``float`` and ``bool`` guarded.

    Each such schema is wrapped in a validator that refuses text, and a bool where a number
    is due or a number where a bool is (:func:`_as_written`), before pydantic reads them;
    nothing else changes (numbers and bools, from files or from Python, are read as before,
    and the JSON Schema is the same). Nested models keep the guards their own schema has; a
    guarded value is not guarded twice.
    """
    guarded: CoreSchema = _guarded(schema)
    return guarded


def _guarded(schema: Any) -> Any:
    """:func:`_as_written_guarded` of any part of a core schema (a schema, a list, a value)."""
    if isinstance(schema, list | tuple):
        return type(schema)(_guarded(item) for item in schema)
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _AS_WRITTEN:
        return core_schema.no_info_before_validator_function(_AS_WRITTEN[kind], schema)
    function = schema.get("function")
    if isinstance(function, dict) and function.get("function") in _GUARDS:
        return schema  # guarded already (a nested model's schema)
    for key, value in schema.items():
        if key not in _NOT_SCHEMAS:
            schema[key] = _guarded(value)
    return schema


_new = object.__new__
_set = object.__setattr__
_Blank = tuple[dict[str, Any], frozenset[str], tuple[tuple[str, Any], ...]]
_BLANKS: dict[type, _Blank] = {}


def _blank(model: type[Model]) -> _Blank:
    """A model's fields in order with their defaults, its required fields, its factories."""
    found = _BLANKS.get(model)
    if found is None:
        template: dict[str, Any] = {}
        required, factories = set(), []
        for name, info in model.model_fields.items():
            template[name] = None if info.is_required() else info.default
            if info.is_required():
                required.add(name)
            elif info.default_factory is not None:
                factories.append((name, info.default_factory))
        found = _BLANKS[model] = (template, frozenset(required), tuple(factories))
    return found


def _translated(model: type[Model], err: ValidationError) -> DefinitionError:
    """The model's own error for ``err``; a plain DefinitionError names the model."""
    error = model.error_class
    subject = model.__name__ if error is DefinitionError else None
    problems, omitted = problems_from(err, model, origin="")
    return error(problems, subject=subject, omitted=omitted)


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


__all__ += [
    "AS_DATE",
    "AS_MOMENT",
    "AS_TIME",
    "A_MOMENT",
    "FIRST_DATE",
    "LAST_DATE",
    "MISSING",
    "UNION_TAGS",
    "AnyDateTime",
    "AnyDay",
    "AnyMoment",
    "Day",
    "Moment",
    "TimeOfDay",
    "aware",
    "choice",
    "expect",
    "format_loc",
    "in_range",
    "local_time",
    "number_refused",
    "on_the_calendar",
    "start_in_range",
]


T = TypeVar("T")


def validate_as(adapter: TypeAdapter[T], data: object, /, *, field: str, item: object) -> T:
    """``data`` validated by ``adapter``, or :class:`InputError` at its first problem.

    The error names the path below ``field`` (``bookings[2].end``) and says what was expected
    and what was given, in the words models use (:mod:`ketaplan._problems`). ``item``: the type
    the adapter's items are (``Booking``; a tagged union of events), whose fields a misspelt
    name is matched against and whose tags are left out of the path.
    """
    try:
        return adapter.validate_python(data)
    except ValidationError as err:
        problems, _ = problems_in(
            err, field_names(item), origin="", tags=union_tags(item), root=item
        )
        first = problems[0]
        where = field + (f".{first.path}" if first.path[:1].isalpha() else first.path)
        raise InputError.saying(where, first.message, first.value) from None


#: The dates ketaplan plans in: far enough either way for any clinic, and far from the ends of
#: Python's calendar (year 1 and 9999), where date arithmetic overflows.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2200, 12, 31)


def on_the_calendar(value: dt.date) -> bool:
    """Whether ``value`` (a date, or a moment's own date) lies from FIRST_DATE to LAST_DATE."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return FIRST_DATE <= day <= LAST_DATE


def _on_the_calendar(value: D) -> D:
    if not on_the_calendar(value):
        raise PydanticCustomError(
            "date_out_of_range", f"must be a date from {FIRST_DATE} to {LAST_DATE}"
        )
    return value


D = TypeVar("D", dt.date, dt.datetime)


def _in_whole_minutes(value: dt.datetime, handler: SerializerFunctionWrapHandler) -> Any:
    """A moment as JSON can hold it: with an offset of whole minutes.

    pydantic writes UTC offsets in whole minutes: an offset with seconds (local mean time,
    before a zone's standard time: Monrovia until 1972 was -00:44:30) is written in UTC, the
    same instant, rather than cut to -00:44 and read back 30 seconds off.
    """
    offset = value.utcoffset()
    if offset is not None and offset % dt.timedelta(minutes=1):
        value = value.astimezone(dt.UTC)
    return handler(value)


#: Text that pydantic would read as a number: ``"5"``, ``"-5"``, ``"1.5"``, ``".5"``,
#: ``"1.5e9"``.
_NUMBER_AS_TEXT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _reads_as_number(value: object) -> bool:
    """Whether pydantic would read ``value`` as a number (of seconds) where a time is due.

    A number (and a bool, which Python counts as one), and text or bytes written as a number
    (``"5"``, ``"1.5e9"``): no date, date-time or time of day is written so.
    """
    if isinstance(value, numbers.Number):
        return True
    if isinstance(value, bytes | bytearray):
        value = value.decode("latin-1")
    return isinstance(value, str) and _NUMBER_AS_TEXT.fullmatch(value) is not None


#: What a date-time is, and one written as it must be.
A_MOMENT = ("a date-time", "2026-12-01T09:00:00+01:00")


def number_refused(value: object, kind: tuple[str, str] = A_MOMENT) -> str | None:
    """What to say when ``value`` is a number where a ``kind`` is due, else None.

    pydantic's lax mode reads a number as seconds: ``"made_at": 5`` would be 1970-01-01T00:00:05Z,
    a date of ``0`` 1970-01-01 and a time of ``3600`` 01:00 UTC: a mistake, silently data.
    ``kind``: what is due and an example (:data:`A_MOMENT`).
    """
    if not _reads_as_number(value):
        return None
    what, example = kind
    said = f"must be {what} written as text, like {example}"
    return said if isinstance(value, bool) else f"{said}, not a number"


def _refusing_numbers(what: str, example: str) -> Callable[[object], object]:
    """A check that refuses a number where ``what`` is due, before pydantic reads it."""

    def refuse_numbers(value: object) -> object:
        said = number_refused(value, (what, example))
        if said is not None:
            raise PydanticCustomError("temporal_from_number", said)
        return value

    return refuse_numbers


def _not_a_number(what: str, example: str) -> BeforeValidator:
    """A validator that refuses a number where ``what`` is due, before pydantic reads it."""
    return BeforeValidator(_refusing_numbers(what, example))


#: Text pydantic reads as a date and time (``2026-12-01T00:00``, ``2026-12-01 00:00:00Z``): a
#: date followed by a separator (``T``, ``t``, a space or ``_``) and a time.
_DATE_AND_TIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt _][0-9].*", re.DOTALL)


def _a_date_and_time(value: object) -> bool:
    """Whether ``value`` is a date and time (a ``datetime``, or text or bytes written as one)."""
    if isinstance(value, dt.datetime):
        return True
    if isinstance(value, bytes | bytearray):
        value = value.decode("latin-1")
    return isinstance(value, str) and _DATE_AND_TIME_TEXT.fullmatch(value) is not None


_refuse_numbers_as_days = _refusing_numbers("a date", "2026-12-01")


def _a_date_alone(value: object) -> object:
    """``value`` unless it is a number or a date and time, which a date field refuses.

    pydantic reads a date and time as its day when the time is midnight: a roster's ``start =
    2026-12-01T00:00:00`` (or ``"2026-12-01T00:00:00Z"`` in JSON) was 1 December, though a
    moment was written where a day is due (any other time of day was refused). Refused at any
    time of day, in the words ketaplan gives pydantic's own refusal (``ketaplan._problems``).
    """
    if _a_date_and_time(value):
        raise PydanticCustomError("date_from_datetime_inexact", "a date and time, not a date")
    return _refuse_numbers_as_days(value)


#: The guard of every date-time field of a model: no number is read as a time (Unix seconds).
AS_MOMENT = _not_a_number(*A_MOMENT)
#: The guard of every date field of a model: no number, and no date and time (even at
#: midnight), is read as a day.
AS_DATE = BeforeValidator(_a_date_alone)
#: The guard of every time-of-day field of a model: no number is read as seconds after midnight.
AS_TIME = _not_a_number("a time of day", "09:00")

#: A moment in a model (with its UTC offset) on the days ketaplan plans in: a file edited to
#: year 1 or 9999 is refused when read, not left to overflow in date arithmetic later.
Moment = Annotated[
    AwareDatetime,
    AS_MOMENT,
    AfterValidator(_on_the_calendar),
    WrapSerializer(_in_whole_minutes, when_used="json"),
]
#: A day in a model, from :data:`FIRST_DATE` to :data:`LAST_DATE`.
Day = Annotated[dt.date, AS_DATE, AfterValidator(_on_the_calendar)]
#: A time of day in a model (``09:00``), never a number of seconds.
TimeOfDay = Annotated[dt.time, AS_TIME]

#: The same guards where the calendar's bounds are checked elsewhere (the dates of a roster,
#: checked when planned) or by what made them (a run sheet, a status, a report).
AnyMoment = Annotated[AwareDatetime, AS_MOMENT]
#: A day, never a number (see :data:`AnyMoment`).
AnyDay = Annotated[dt.date, AS_DATE]
#: A date-time, never a number (see :data:`AnyMoment`); the field's own checks say if naive.
AnyDateTime = Annotated[dt.datetime, AS_MOMENT]


def expect(name: str, value: object, kind: type | tuple[type, ...], expectation: str) -> None:
    """:class:`InputError` naming ``name`` unless ``value`` is an instance of ``kind``."""
    if not isinstance(value, kind):
        raise InputError(name, expectation, value)


def choice(name: str, value: object, choices: tuple[str | None, ...], expectation: str) -> None:
    """:class:`InputError` naming ``name`` unless ``value`` is one of ``choices``.

    Only text (or ``None``, when it is a choice) is compared: a list or dict given by mistake
    is refused like any other wrong value, never hashed or compared by its own rules.
    """
    if value is None:
        if None not in choices:
            raise InputError(name, expectation, value)
    elif not isinstance(value, str) or value not in choices:
        raise InputError(name, expectation, value)


def expect_each(name: str, value: object, kind: type[T], expectation: str) -> list[T]:
    """``value``'s items as a list, each an instance of ``kind``, else :class:`InputError`.

    A string is not a list; the error names ``name`` or the first wrong item (``name[2]``).
    ``expectation`` says what one item must be.
    """
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InputError(name, f"a list of which each is {expectation}", value)
    items = list(value)
    for index, item in enumerate(items):
        expect(f"{name}[{index}]", item, kind, expectation)
    return items


def in_range(name: str, value: dt.date) -> dt.date:
    """``value`` if it lies from :data:`FIRST_DATE` to :data:`LAST_DATE`, else a LimitError."""
    if not on_the_calendar(value):
        raise LimitError(name, f"a date from {FIRST_DATE} to {LAST_DATE}", value)
    return value


#: The last day a plan may start from (``start``; ``as_of`` for a re-plan): six years before
#: :data:`LAST_DATE`, room for a plan's horizon (at most five years) and the sessions a
#: counted phase places past it, so that every date of the plan can be read back. A plan
#: started on 1 December 2200 was written with dates in 2201, and no command could read it.
LAST_START = LAST_DATE - dt.timedelta(days=6 * 366)


def start_in_range(name: str, value: dt.date) -> dt.date:
    """``value`` if it lies from :data:`FIRST_DATE` to :data:`LAST_START`, else a LimitError."""
    if not FIRST_DATE <= value <= LAST_START:
        expected = (
            f"a date from {FIRST_DATE} to {LAST_START} (a plan's dates must end by {LAST_DATE})"
        )
        raise LimitError(name, expected, value)
    return value


def local_time(name: str, value: object) -> dt.time | None:
    """``value`` if it is None or a time of day without a zone, else :class:`InputError`."""
    if value is not None and (not isinstance(value, dt.time) or value.tzinfo is not None):
        raise InputError(name, "a local time of day without a zone", value)
    return value


def elapsed_order(start: dt.datetime, end: dt.datetime) -> bool:
    """Whether ``end`` comes after ``start`` in real time.

    Python compares two datetimes of one ``tzinfo`` by their wall clocks, so 01:15 EDT and the
    01:15 EST an hour later (fall back) would compare equal; this compares instants.
    """
    return end.astimezone(dt.UTC) > start.astimezone(dt.UTC)


def aware(name: str, value: object) -> dt.datetime:
    """``value`` if it is an aware datetime, else :class:`InputError` naming ``name``."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InputError(name, "an aware datetime (with a zone)", value)
    in_range(name, value)
    return value
