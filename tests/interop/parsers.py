"""What independent iCalendar implementations see in a file.

Each reader returns, per VEVENT, ``(uid, start, end, summary, status)`` with start and end as
UTC instants, so results can be compared with each other and with the plan.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import icalendar
import vobject
from ical.calendar_stream import IcsCalendarStream

ROOT = Path(__file__).parent.parent.parent
NODE_MODULES = ROOT / ".cache" / "node" / "node_modules"
DUMP_JS = Path(__file__).parent / "icaljs_dump.js"
UTC = dt.UTC


@dataclass(frozen=True, order=True)
class Seen:
    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    status: str


def _utc(value: object) -> dt.datetime:
    assert isinstance(value, dt.datetime), f"not a date-time: {value!r}"
    assert value.tzinfo is not None, f"floating time {value}"
    return value.astimezone(UTC)


def with_icalendar(data: bytes) -> list[Seen]:
    calendar = icalendar.Calendar.from_ical(data)
    errors = [(c.name, c.errors) for c in calendar.walk() if getattr(c, "errors", None)]
    assert not errors, errors
    return sorted(
        Seen(
            str(event["UID"]),
            _utc(event.start),
            _utc(event.end),
            str(event.get("SUMMARY", "")),
            str(event.get("STATUS", "")),
        )
        for event in calendar.events
    )


def with_ical(data: bytes) -> list[Seen]:
    """allenporter/ical: a strict parser (the whole file fails on one bad line)."""
    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    return sorted(
        Seen(
            str(event.uid),
            _utc(event.dtstart),
            _utc(event.dtend),
            event.summary or "",
            str(event.status.value) if event.status else "",
        )
        for event in calendar.events
    )


def with_vobject(data: bytes) -> list[Seen]:
    """vobject, with ``validate()``; it resolves times through the embedded VTIMEZONE."""
    calendar = vobject.readOne(data.decode("utf-8"))
    calendar.validate()
    found = []
    for event in calendar.vevent_list:
        status = event.status.value if hasattr(event, "status") else ""
        summary = event.summary.value if hasattr(event, "summary") else ""
        found.append(
            Seen(
                event.uid.value, _utc(event.dtstart.value), _utc(event.dtend.value), summary, status
            )
        )
    return sorted(found)


class _IcalTime(ctypes.Structure):
    _fields_ = [
        ("year", ctypes.c_int),
        ("month", ctypes.c_int),
        ("day", ctypes.c_int),
        ("hour", ctypes.c_int),
        ("minute", ctypes.c_int),
        ("second", ctypes.c_int),
        ("is_date", ctypes.c_int),
        ("is_daylight", ctypes.c_int),
        ("zone", ctypes.c_void_p),
    ]


_VEVENT = 4  # ICAL_VEVENT_COMPONENT


class Libical:
    """libical 3 through ctypes, with its RFC 5546 restriction check."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("ical") or "libical.so.3"
        lib = ctypes.CDLL(name)
        lib.icalparser_parse_string.restype = ctypes.c_void_p
        lib.icalparser_parse_string.argtypes = [ctypes.c_char_p]
        lib.icalrestriction_check.argtypes = [ctypes.c_void_p]
        lib.icalcomponent_as_ical_string.restype = ctypes.c_char_p
        lib.icalcomponent_as_ical_string.argtypes = [ctypes.c_void_p]
        lib.icalcomponent_free.argtypes = [ctypes.c_void_p]
        for name in ("icalcomponent_get_first_component", "icalcomponent_get_next_component"):
            getattr(lib, name).restype = ctypes.c_void_p
            getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
        for name in ("icalcomponent_get_dtstart", "icalcomponent_get_dtend"):
            getattr(lib, name).restype = _IcalTime
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        lib.icaltime_as_timet_with_zone.restype = ctypes.c_long
        lib.icaltime_as_timet_with_zone.argtypes = [_IcalTime, ctypes.c_void_p]
        for name in ("icalcomponent_get_uid", "icalcomponent_get_summary"):
            getattr(lib, name).restype = ctypes.c_char_p
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        lib.icalerror_set_errors_are_fatal(0)
        self.lib = lib

    def read(self, data: bytes) -> tuple[list[Seen], list[str]]:
        """The events, and the X-LIC-ERROR lines of the restriction check."""
        lib = self.lib
        root = lib.icalparser_parse_string(data)
        assert root, "libical could not parse the file"
        try:
            lib.icalrestriction_check(root)
            text = lib.icalcomponent_as_ical_string(root).decode("utf-8", "replace")
            errors = [
                line
                for line in text.replace("\r\n ", "").splitlines()
                if line.startswith("X-LIC-ERROR")
            ]
            found = []
            event = lib.icalcomponent_get_first_component(root, _VEVENT)
            while event:
                start = lib.icalcomponent_get_dtstart(event)
                end = lib.icalcomponent_get_dtend(event)
                found.append(
                    Seen(
                        lib.icalcomponent_get_uid(event).decode(),
                        self._instant(start),
                        self._instant(end),
                        (lib.icalcomponent_get_summary(event) or b"").decode(),
                        "",
                    )
                )
                event = lib.icalcomponent_get_next_component(root, _VEVENT)
        finally:
            lib.icalcomponent_free(root)
        return sorted(found), errors

    def _instant(self, value: _IcalTime) -> dt.datetime:
        assert value.zone, "libical read a floating time"
        seconds = self.lib.icaltime_as_timet_with_zone(value, value.zone)
        return dt.datetime.fromtimestamp(seconds, UTC)


def libical() -> Libical | None:
    try:
        return Libical()
    except OSError:
        return None


def icaljs_available() -> str | None:
    """Why ical.js cannot run here, or ``None`` when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_MODULES / "ical.js").is_dir():
        return "ical.js is not installed (tests/interop/setup.sh installs it with npm)"
    return None


def with_icaljs(paths: list[Path]) -> dict[str, list[Seen]]:
    """ical.js under node, for many files in one process."""
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    result = subprocess.run(
        ["node", str(DUMP_JS), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    raw = json.loads(result.stdout)
    return {
        path: sorted(
            Seen(
                item["uid"],
                dt.datetime.fromisoformat(item["start"]),
                dt.datetime.fromisoformat(item["end"]),
                item["summary"] or "",
                item["status"] or "",
            )
            for item in items
        )
        for path, items in raw.items()
    }
