"""Busy calendars that hung or ate memory before issue 14, and big ordinary ones, as bytes.

Also rules whose every step cost far more than one (dateutil tried each second of a day), which
took 14 s to minutes while within the step cap. Each is small (a few hundred bytes) unless it is
a flood by design. The benchmark
``busy_hostile`` times reading each; ``tests/test_hostile_busy.py`` checks what each gives.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["HOSTILE", "SPAN", "calendar", "event", "many_events", "many_rdates"]

#: The planning span the files are read for.
SPAN = (dt.date(2027, 1, 1), dt.date(2028, 12, 31))

_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\n"
_TAIL = "END:VCALENDAR\r\n"


def calendar(*parts: str) -> bytes:
    """A VCALENDAR holding ``parts`` (components, as text)."""
    return (_HEAD + "".join(parts) + _TAIL).encode()


def event(
    *lines: str,
    uid: str = "1",
    start: str = "DTSTART:20270104T090000Z",
    end: str = "DTEND:20270104T100000Z",
) -> str:
    """A VEVENT with ``start`` and ``end`` lines and ``lines`` more."""
    body = "".join(f"{line}\r\n" for line in (start, end, *lines) if line)
    return f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{body}END:VEVENT\r\n"


def zone(standard_rule: str, *, rdates: str = "") -> str:
    """A VTIMEZONE ``Hostile`` whose STANDARD observance has ``standard_rule`` (and RDATEs)."""
    standard = f"RRULE:{standard_rule}\r\n" if standard_rule else ""
    extra = f"RDATE:{rdates}\r\n" if rdates else ""
    return (
        "BEGIN:VTIMEZONE\r\nTZID:Hostile\r\n"
        f"BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n{standard}{extra}"
        "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
    )


def zoned_event() -> str:
    """An event in the zone ``Hostile``."""
    return event(
        start="DTSTART;TZID=Hostile:20270104T090000", end="DTEND;TZID=Hostile:20270104T100000"
    )


def _slot(n: int) -> dt.datetime:
    """The ``n``-th half-hour slot from 1 January 2027 08:00, 140 a day (all within SPAN)."""
    first = dt.datetime(2027, 1, 1, 8, tzinfo=dt.UTC)
    return first + dt.timedelta(days=n // 140, minutes=10 * (n % 140))


def _stamp(moment: dt.datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%SZ}"


def many_events(count: int) -> bytes:
    """``count`` half-hour events, 140 a day from 1 January 2027 (100,000 fit in SPAN)."""
    parts = [
        event(f"SUMMARY:busy {n}", uid=f"e{n}", start=f"DTSTART:{_stamp(_slot(n))}",
              end=f"DTEND:{_stamp(_slot(n) + dt.timedelta(minutes=30))}")
        for n in range(count)
    ]  # fmt: skip
    return calendar(*parts)


def many_rdates(count: int) -> bytes:
    """One half-hour event repeated on ``count`` - 1 RDATEs, 140 a day from 1 January 2027."""
    dates = ",".join(_stamp(_slot(n)) for n in range(1, count))
    return calendar(event(f"RDATE:{dates}", start=f"DTSTART:{_stamp(_slot(0))}",
                          end=f"DTEND:{_stamp(_slot(0) + dt.timedelta(minutes=30))}"))  # fmt: skip


def _minutes() -> str:
    return ",".join(str(m) for m in range(60))


def _from_1900(rule: str, *, uid: str = "1") -> str:
    """An event of one second on 1 January 1900 repeating on ``rule``."""
    return event(
        f"RRULE:{rule}", uid=uid, start="DTSTART:19000101T000000Z", end="DTEND:19000101T000001Z"
    )


_AT_3_07_09 = "FREQ=SECONDLY;BYHOUR=3;BYMINUTE=7;BYSECOND=9"
_HOURS = ",".join(str(h) for h in range(24))
_EVERY_SECOND = f"BYMINUTE={_minutes()};BYSECOND={_minutes()}"
_YEARLY_EVERY_SECOND = f"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR={_HOURS};{_EVERY_SECOND}"


#: The hostile files, by name.
HOSTILE: dict[str, bytes] = {
    "SECONDLY": calendar(event("RRULE:FREQ=SECONDLY")),
    "SECONDLY, transparent": calendar(event("RRULE:FREQ=SECONDLY", "TRANSP:TRANSPARENT")),
    "SECONDLY, cancelled": calendar(event("RRULE:FREQ=SECONDLY", "STATUS:CANCELLED")),
    "SECONDLY from 1970": calendar(
        event("RRULE:FREQ=SECONDLY", start="DTSTART:19700101T000000Z", end="DTEND:19700101T000001Z")
    ),
    "SECONDLY from 1970, COUNT=10^9": calendar(
        event(
            "RRULE:FREQ=SECONDLY;COUNT=1000000000",
            start="DTSTART:19700101T000000Z",
            end="DTEND:19700101T000001Z",
        )
    ),
    "HOURLY, every minute": calendar(event(f"RRULE:FREQ=HOURLY;BYMINUTE={_minutes()}")),
    "DAILY from year 1": calendar(
        event("RRULE:FREQ=DAILY", start="DTSTART:00010101T090000Z", end="DTEND:00010101T100000Z")
    ),
    "never (30 February), 20 events": calendar(
        *(event("RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", uid=f"n{n}") for n in range(20))
    ),
    "SECONDLY at 03:07:09 on a Monday 29th, from 1900": calendar(
        _from_1900(f"{_AT_3_07_09};BYMONTHDAY=29;BYDAY=MO")
    ),
    "SECONDLY at 03:07:09 on Monday 29 February, 3 events": calendar(
        *(
            _from_1900(f"{_AT_3_07_09};BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", uid=str(n))
            for n in range(3)
        )
    ),
    "SECONDLY every 7 s at 3 a.m. on Monday 29 February": calendar(
        _from_1900("FREQ=SECONDLY;INTERVAL=7;BYHOUR=3;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO")
    ),
    "HOURLY at every second of 30 February": calendar(
        _from_1900(f"FREQ=HOURLY;{_EVERY_SECOND};BYMONTH=2;BYMONTHDAY=30")
    ),
    "HOURLY, second of one time an hour (BYSETPOS=2)": calendar(
        _from_1900("FREQ=HOURLY;BYSETPOS=2")
    ),
    "yearly at every second of 30 February, 40 events": calendar(
        *(event(f"RRULE:{_YEARLY_EVERY_SECOND}", uid=f"y{n}") for n in range(40))
    ),
    "MINUTELY time zone": calendar(zone("FREQ=MINUTELY"), zoned_event()),
    "time zone of 1,000 RDATEs": calendar(
        zone("", rdates=",".join(f"{y}0101T000000" for y in range(1971, 2971))), zoned_event()
    ),
    "FREEBUSY from year 1 to 9999": calendar(
        "BEGIN:VFREEBUSY\r\nUID:fb\r\nDTSTAMP:20260101T000000Z\r\n"
        "FREEBUSY:00010101T000000Z/99991231T000000Z\r\nEND:VFREEBUSY\r\n"
    ),
    "event from 1900 to 2100": calendar(
        event(start="DTSTART:19000101T000000Z", end="DTEND:21000101T000000Z")
    ),
    "all-day event on 31 December 9999": calendar(
        event(start="DTSTART;VALUE=DATE:99991231", end="")
    ),
    "100,000 bad lines": calendar(event(*(["not a content line"] * 100_000))),
    "20,000 bad values": calendar(event(*(f"DTSTART:2027X{n}" for n in range(20_000)))),
}
