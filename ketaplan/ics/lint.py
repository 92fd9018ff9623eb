"""``lint_ics()``: the structural rules every calendar ketaplan writes must keep.

icalendar's ``Calendar.validate()`` is shallow (a VEVENT without UID passes), so ketaplan
checks its own output: CRLF line ends, lines of at most 75 octets, no control characters,
balanced components, every TZID defined by a VTIMEZONE, and UID, DTSTAMP and DTSTART in every
VEVENT. Tests run it on every export; users can run it on theirs.
"""

from __future__ import annotations

import re

__all__ = ["lint_ics"]

_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_TZID = re.compile(r";TZID=(\"[^\"]*\"|[^;:]*)")
_REQUIRED = ("UID", "DTSTAMP", "DTSTART")


def lint_ics(data: bytes, /) -> list[str]:
    r"""Every structural problem in an iCalendar file, one sentence each; ``[]`` when clean.

    >>> lint_ics(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    ['line 2: VEVENT lacks DTSTAMP', 'line 2: VEVENT lacks DTSTART']
    """
    problems: list[str] = []
    if not data.endswith(b"\r\n"):
        problems.append("the file does not end with CRLF")
    raw_lines = data.split(b"\r\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    logical: list[tuple[int, str]] = []
    for number, raw in enumerate(raw_lines, start=1):
        if len(raw) > 75:  # noqa: PLR2004 - RFC 5545 section 3.1
            problems.append(f"line {number}: {len(raw)} octets (at most 75)")
        if b"\n" in raw or b"\r" in raw:
            problems.append(f"line {number}: a bare CR or LF (lines must end in CRLF)")
        elif _CONTROL.search(raw.replace(b"\t", b"")):
            problems.append(f"line {number}: a control character")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number}: not UTF-8")
            continue
        if text[:1] in {" ", "\t"} and logical:
            start, previous = logical[-1]
            logical[-1] = (start, previous + text[1:])
        else:
            logical.append((number, text))
    problems += _structure(logical)
    return problems


def _structure(lines: list[tuple[int, str]]) -> list[str]:
    problems: list[str] = []
    stack: list[tuple[str, int, set[str]]] = []
    defined: set[str] = set()
    used: dict[str, int] = {}
    for number, line in lines:
        name, _, value = line.partition(":")
        key = name.split(";", 1)[0].upper()
        if key == "BEGIN":
            stack.append((value.upper(), number, set()))
            continue
        if key == "END":
            if not stack or stack[-1][0] != value.upper():
                problems.append(f"line {number}: END:{value} does not close an open component")
                continue
            component, opened, seen = stack.pop()
            if component == "VEVENT":
                problems += [
                    f"line {opened}: VEVENT lacks {required}"
                    for required in _REQUIRED
                    if required not in seen
                ]
            continue
        if stack:
            stack[-1][2].add(key)
            if stack[-1][0] == "VTIMEZONE" and key == "TZID":
                defined.add(value)
        for match in _TZID.finditer(name):
            used.setdefault(match.group(1).strip('"'), number)
    problems += [f"line {opened}: {component} is never closed" for component, opened, _ in stack]
    problems += [
        f"line {number}: TZID {tzid} has no VTIMEZONE"
        for tzid, number in sorted(used.items(), key=lambda item: item[1])
        if tzid not in defined
    ]
    return problems
