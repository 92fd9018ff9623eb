"""The lines of an iCalendar file: unfolding, structure, and where each property was written.

RFC 5545 content lines end in CRLF (a bare LF is accepted too); nothing else ends a line, so a
U+2028 LINE SEPARATOR or a form feed inside a text value is part of that value, as icalendar
reads it. Lines are numbered as a text editor numbers them, so every message can name the line.

Every pass here is linear in the size of the file: the structure check reads each line once, and
an :class:`Outline` records, per component, where each property was written, so a property error
found by icalendar is placed without scanning the file again. At most :data:`MAX_REPORTED`
problems are listed; the rest are counted (``... and 99,950 more``).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ketaplan.errors import CalendarFileError, LimitError, Problem

__all__ = [
    "MAX_COMPONENTS",
    "MAX_REPORTED",
    "MAX_TIME_ZONES",
    "MAX_ZONE_NAME",
    "Line",
    "Outline",
    "Part",
    "count_components",
    "logical_lines",
    "order_problems",
    "property_problems",
    "raise_problems",
    "structure",
]

#: At most this many problems of one file are listed in an error; the rest are counted.
MAX_REPORTED = 50
#: At most this many components (events, to-dos, alarms, free/busy, time zones and their
#: observances) in one file, counted before any is read: a file of 20,000 events is read in
#: about 5 s and 150 MB, and reading costs grow with them (150,000 took 33 s and 840 MB).
MAX_COMPONENTS = 50_000
#: At most this many time zones (VTIMEZONE) in one file: each is built into a zone as it is
#: read (60,000 took 27 s); a real file has one per zone its events use.
MAX_TIME_ZONES = 1_000

_NAME = re.compile(r"^[A-Za-z0-9-]+(;|:)")
_FOLD = re.compile(r"\r?\n[ \t]")
_BEGIN = re.compile(r"^BEGIN:([A-Za-z0-9-]*)", re.MULTILINE | re.IGNORECASE)
_TZID = re.compile(r";TZID=(\"[^\"]*\"|[^;:]*)", re.IGNORECASE)


class Line(NamedTuple):
    """One unfolded content line and the number of the physical line it starts on."""

    number: int
    text: str


@dataclass
class Part:
    """One component of the file (``VEVENT``, ``VTIMEZONE``, ``STANDARD``...) and its lines."""

    name: str
    begin: int
    properties: dict[str, list[Line]] = field(default_factory=lambda: defaultdict(list))
    """The lines of each property, by name (upper case), in the order written."""

    def line_of(self, name: str) -> int:
        """The line of the first property ``name`` of this component (else its BEGIN line)."""
        found = self.properties.get(name.upper())
        return found[0].number if found else self.begin


class Outline:
    """Every component of a file in the order it begins, the order of ``Component.walk()``."""

    def __init__(self) -> None:
        self.parts: list[Part] = []

    def of(self, components: Sequence[Any]) -> dict[int, Part]:
        """The part of each component of ``components`` (a ``walk()``), by ``id(component)``.

        Empty when the two do not line up (icalendar dropped or added a component), so callers
        fall back to messages without line numbers rather than to wrong ones.
        """
        if len(components) != len(self.parts):
            return {}
        pairs = zip(components, self.parts, strict=True)
        if any(str(c.name).upper() != p.name for c, p in pairs):
            return {}
        return {id(c): p for c, p in zip(components, self.parts, strict=True)}


def logical_lines(text: str) -> list[Line]:
    r"""Unfolded content lines, each with the number of the physical line it starts on.

    >>> logical_lines("A:1\r\nB:x\u2028y\r\n  z\nC:3")
    [Line(number=1, text='A:1'), Line(number=2, text='B:x\u2028y z'), Line(number=4, text='C:3')]
    """
    lines: list[Line] = []
    for number, raw in enumerate(_physical(text), start=1):
        if raw[:1] in {" ", "\t"} and lines:
            first, content = lines[-1]
            lines[-1] = Line(first, content + raw[1:])
        elif raw.strip():
            lines.append(Line(number, raw))
    return lines


def _physical(text: str) -> Iterator[str]:
    for raw in text.split("\n"):
        yield raw.removesuffix("\r")


def structure(lines: Sequence[Line], origin: str) -> tuple[list[Problem], Outline]:
    """Problems of shape (not a content line, unbalanced BEGIN/END) and the file's outline."""
    problems: list[Problem] = []
    outline = Outline()
    stack: list[Part] = []
    zones = _Zones()
    for entry in lines:
        number, line = entry
        if not _NAME.match(line):
            problems.append(
                Problem(f"line {number}", "must be a content line NAME:value", line[:60], origin)
            )
            continue
        name, _, value = line.partition(":")
        key = name.split(";", 1)[0].upper()
        if key == "BEGIN":
            stack.append(Part(value.strip().upper(), number))
            outline.parts.append(stack[-1])
        elif key == "END":
            if not stack or stack[-1].name != value.strip().upper():
                problems.append(
                    Problem(f"line {number}", "does not close an open component", line, origin)
                )
            else:
                stack.pop()
        elif stack:
            stack[-1].properties[key].append(entry)  # the line itself: no copy of its value
            zones.note(stack[-1].name, key, name, value, number)
    problems += zones.problems(origin)
    problems += [
        Problem(f"line {part.begin}", f"{part.name} is never closed", origin=origin)
        for part in stack
    ]
    if lines and not lines[0].text.upper().startswith("BEGIN:VCALENDAR"):
        problems.insert(0, Problem("line 1", "must begin with BEGIN:VCALENDAR", origin=origin))
    return problems, outline


def count_components(text: str, origin: str) -> None:
    """Refuse a file of too many components or time zones, before anything is built from it.

    One scan of its ``BEGIN`` lines against :data:`MAX_COMPONENTS` and :data:`MAX_TIME_ZONES`,
    folds undone first (RFC 5545 may fold a line anywhere, ``BEGI`` CRLF space ``N:VEVENT``
    included; a pattern on the folded text would miss it).
    """
    components = time_zones = 0
    for match in _BEGIN.finditer(_FOLD.sub("", text)):
        name = match.group(1).upper()
        if name == "VCALENDAR":
            continue
        components += 1
        time_zones += name == "VTIMEZONE"
        if components > MAX_COMPONENTS or time_zones > MAX_TIME_ZONES:
            what, bound, count = (
                ("components (events, alarms, time zones...)", MAX_COMPONENTS, components)
                if components > MAX_COMPONENTS
                else ("time zones (VTIMEZONE)", MAX_TIME_ZONES, time_zones)
            )
            raise LimitError(
                origin,
                f"at most {bound:,} {what} in one file; reading stopped at the count given",
                count,
            )


class _Zones:
    """The time zones a file names, to refuse one that cannot be looked up before icalendar does.

    A TZID that no VTIMEZONE of the file defines, and Google's ``X-WR-TIMEZONE``, are looked up
    in the IANA database by the libraries that read the file; a name that is a folder there
    (``America``) or too long for a file name made them raise ``OSError`` rather than say the
    zone is unknown (which they handle).
    """

    def __init__(self) -> None:
        self.defined: set[str] = set()
        self.named: list[tuple[int, str, str]] = []  # line, property, zone name

    def note(self, part: str, key: str, name: str, value: str, number: int) -> None:
        """Record what one property line defines or names."""
        if part == "VTIMEZONE" and key == "TZID":
            self.defined.add(value.strip())
        elif key == "X-WR-TIMEZONE":
            self.named.append((number, key, value.strip()))
        elif ";" in name:
            for match in _TZID.finditer(name):
                self.named.append((number, f"{key};TZID", match.group(1).strip('"')))

    def problems(self, origin: str) -> list[Problem]:
        """A problem for each name that cannot be looked up (and that the file does not define)."""
        return [
            Problem(f"line {number}", f"{key}: must name a time zone that can be looked up "
                    f"({_ZONE_NAMES[key == 'X-WR-TIMEZONE']})", tzid[:80], origin)
            for number, key, tzid in self.named
            if (key == "X-WR-TIMEZONE" or tzid not in self.defined) and _unreadable_zone(tzid)
        ]  # fmt: skip


#: What a zone name may be: in a TZID parameter, in X-WR-TIMEZONE.
_ZONE_NAMES = {False: "an IANA name, or the TZID of a VTIMEZONE of the file", True: "an IANA name"}


@lru_cache(maxsize=256)
def _unreadable_zone(name: str) -> bool:
    """Whether looking ``name`` up fails other than by not finding it (a folder, too long).

    The readers look up the name, the name without slashes around it and each tail of a
    globally unique TZID (``/mozilla.org/20050126_1/America/New_York``): each is tried. A name
    not found, or not a relative path (``ValueError``), they handle: a Windows name, a custom
    zone.
    """
    if len(name) > MAX_ZONE_NAME:  # no file name is that long: every lookup would fail
        return True
    parts = name.strip("/").split("/")
    for candidate in {name, *("/".join(parts[n:]) for n in range(len(parts)))}:
        try:
            zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        except (OSError, RecursionError):  # tzdata imports a package per segment
            return True
    return False


#: The longest zone name looked up: a file name's limit on common systems (IANA names are
#: under 40 characters; a vendor's globally unique TZID under 100).
MAX_ZONE_NAME = 255


def property_problems(calendar: Any, outline: Outline, origin: str) -> tuple[list[Problem], int]:
    """The values icalendar could not read, each placed on its line, and how many more.

    Only the first :data:`MAX_REPORTED` are placed; each is looked for among the lines of its own
    component and property, after the line of the previous error of that property, so the work
    is linear in the file however many lines are bad.
    """
    components = calendar.walk()
    parts = outline.of(components)
    problems: list[Problem] = []
    more = 0
    for component in components:
        part = parts.get(id(component))
        after: dict[str, int] = defaultdict(int)  # per property: lines already used
        for name, message in getattr(component, "errors", ()):
            if len(problems) == MAX_REPORTED:
                more += 1
                continue
            number = _error_line(part, str(name).upper(), str(message), after)
            where = f"line {number}" if number else str(component.name)
            problems.append(Problem(where, f"{name}: {message}", origin=origin))
    return problems, more


def order_problems(calendar: Any, outline: Outline, origin: str) -> list[Problem]:
    """An event that ends before it starts (RFC 5545: DTEND later than DTSTART), on its line.

    Read as busy time, such an event was dropped or turned round without a word; it is a
    mistake in the file, and saying so is the only safe reading.
    """
    components = calendar.walk()
    parts = outline.of(components)
    problems = []
    for component in components:
        if str(component.name).upper() != "VEVENT" or "DTSTART" not in component:
            continue
        start, end = component["DTSTART"].dt, _end_of(component)
        if end is None or not _comparable(start, end) or not end < start:
            continue
        key = "DTEND" if "DTEND" in component else "DURATION"
        part = parts.get(id(component))
        where = f"line {part.line_of(key)}" if part else "VEVENT"
        problems.append(Problem(where, f"{_ENDS[key]}; DTSTART is {start}", str(end), origin))
        if len(problems) == MAX_REPORTED:
            break
    return problems


#: What an event's end must be, by the property that gives it.
_ENDS = {"DTEND": "DTEND: must be after DTSTART", "DURATION": "DURATION: must not be negative"}


def _end_of(component: Any) -> Any:
    if "DTEND" in component:
        return component["DTEND"].dt
    if "DURATION" in component:
        length = component["DURATION"].dt
        if isinstance(length, dt.timedelta) and length < dt.timedelta(0):
            return component["DTSTART"].dt + length
    return None


def _comparable(first: Any, second: Any) -> bool:
    """Whether two DTSTART/DTEND values compare: both dates, or datetimes both aware or naive."""
    if isinstance(first, dt.datetime) and isinstance(second, dt.datetime):
        return (first.tzinfo is None) == (second.tzinfo is None)
    return all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in (first, second))


def _error_line(part: Part | None, name: str, message: str, after: dict[str, int]) -> int | None:
    """The line of the next bad ``name`` value of ``part``: one its message quotes, else next."""
    if part is None:
        return None
    candidates = part.properties.get(name, [])
    start = after[name]
    for index in range(start, len(candidates)):
        if candidates[index].text.partition(":")[2] in message:
            after[name] = index + 1
            return candidates[index].number
    if start < len(candidates):
        after[name] = start + 1
        return candidates[start].number
    return part.begin


def raise_problems(problems: Sequence[Problem], more: int = 0) -> None:
    """Raise :class:`CalendarFileError` with the first :data:`MAX_REPORTED` problems, if any."""
    if problems:
        shown = problems[:MAX_REPORTED]
        raise CalendarFileError(shown, omitted=more + len(problems) - len(shown))
