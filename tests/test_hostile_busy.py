"""Hostile busy calendars (issue 14, section 3): bounded, clear errors or the right busy times.

Each class of file that hung, ate memory or crashed ``--busy`` before issue 14: recurrence
floods (also transparent or cancelled), zone floods, huge periods, dates in year 1 or 9999,
floods of bad lines, Unicode line breaks inside values, and big ordinary files. No test is
timed (speed is the ``busy_hostile`` benchmark's): sizes are chosen so the old code would hang
or exhaust memory, and each test asserts what comes out.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from benchmarks.hostile import HOSTILE, SPAN, calendar, event, many_events, many_rdates, zone
from benchmarks.hostile import zoned_event as event_in_zone
from ketaplan.bookings import Booking
from ketaplan.errors import CalendarFileError, LimitError
from ketaplan.ics import rules, window
from ketaplan.ics.reading import MAX_OCCURRENCES, MAX_RULE_STEPS, bookings_from_ics
from ketaplan.ics.window import Window

from .test_cli import ketaplan

UTC = dt.UTC


def read(
    data: bytes | str, *, time_zone: str = "UTC", span: tuple[dt.date, dt.date] = SPAN
) -> list[Booking]:
    return bookings_from_ics(
        data, start=span[0], end=span[1], resource="chair", time_zone=time_zone, origin="busy.ics"
    )


def spans(bookings: list[Booking]) -> list[tuple[str, str]]:
    return [
        (b.start.astimezone(UTC).isoformat(), b.end.astimezone(UTC).isoformat()) for b in bookings
    ]


WHOLE_SPAN = [("2027-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00")]


# -- recurrence floods ------------------------------------------------------------------------


STEPS = r"busy\.ics: line 9: RRULE: must be at most 500,000 steps .* the span 2027-01-01 to 2028"
BUSY = r"busy\.ics: must be at most 200,000 busy times from 2027-01-01 to 2028-12-31; a recurring"
EVERY = ",".join(map(str, range(60)))
DAY_HOURS = ",".join(map(str, range(24)))


@pytest.mark.parametrize(
    ("rule", "message", "cap"),
    [
        ("FREQ=SECONDLY", STEPS, MAX_RULE_STEPS),
        ("FREQ=MINUTELY", STEPS, MAX_RULE_STEPS),
        (f"FREQ=HOURLY;BYMINUTE={EVERY}", STEPS, MAX_RULE_STEPS),
        (f"FREQ=DAILY;BYHOUR={DAY_HOURS};BYMINUTE={EVERY}", STEPS, MAX_RULE_STEPS),
        (f"FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR={DAY_HOURS};BYMINUTE={EVERY}", BUSY, MAX_OCCURRENCES),
        ("FREQ=SECONDLY;INTERVAL=7;BYHOUR=9,10,11", STEPS, MAX_RULE_STEPS),
        ("FREQ=SECONDLY;INTERVAL=5;BYHOUR=9,10,11;BYDAY=MO", BUSY, MAX_OCCURRENCES),
        ("FREQ=MINUTELY;INTERVAL=2;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12", BUSY, MAX_OCCURRENCES),
    ],
)
def test_a_rule_that_repeats_too_often_is_refused_with_its_line_and_count(
    rule: str, message: str, cap: int
) -> None:
    """Issue 14: a 195-byte FREQ=SECONDLY ran for minutes and 1.2 GB. A rule that repeats in
    every period is refused before it is walked when it must pass the step cap; one with filters
    (BYHOUR on SECONDLY) when its repetitions in the span are counted past the busy-time cap,
    before each becomes an occurrence, unless dateutil must try every second of the days it
    walks (every 7 s: days differ, so it is not walked by day), each charged."""
    with pytest.raises(LimitError, match=message) as info:
        read(calendar(event(f"RRULE:{rule}")))
    assert isinstance(info.value.value, int)
    assert info.value.value > cap


@pytest.mark.parametrize("free", ["TRANSP:TRANSPARENT", "STATUS:CANCELLED", "transp:transparent"])
def test_a_free_or_cancelled_series_is_not_expanded(free: str) -> None:
    """Issue 14: TRANSP:TRANSPARENT escaped the expansion cap, which counted only busy times."""
    data = calendar(event("RRULE:FREQ=SECONDLY", free), event("RRULE:FREQ=MINUTELY", free, uid="2"))
    assert read(data) == []


HOUR_5, HOUR_6 = "20270105T100000Z", "20270106T130000Z"


def instance(line: str, of: str, hours: tuple[str, str]) -> str:
    """The instance ``of`` (a RECURRENCE-ID) of series 1, moved to ``hours``, with ``line``."""
    return event(line, f"RECURRENCE-ID:{of}", start=f"DTSTART:{hours[0]}", end=f"DTEND:{hours[1]}")


def test_a_free_series_keeps_its_busy_moved_instance() -> None:
    """The main event of a series is free but one moved instance is busy: that one counts."""
    moved = instance(
        "TRANSP:OPAQUE", of="20270111T090000Z", hours=("20270112T140000Z", "20270112T150000Z")
    )
    data = calendar(event("RRULE:FREQ=SECONDLY", "TRANSP:TRANSPARENT"), moved)
    assert spans(read(data)) == [("2027-01-12T14:00:00+00:00", "2027-01-12T15:00:00+00:00")]


def test_a_busy_series_leaves_out_its_cancelled_and_free_instances() -> None:
    cancelled = instance("STATUS:CANCELLED", "20270105T090000Z", ("20270105T090000Z", HOUR_5))
    free = instance("TRANSP:TRANSPARENT", "20270106T090000Z", ("20270106T120000Z", HOUR_6))
    data = calendar(event("RRULE:FREQ=DAILY;COUNT=4"), cancelled, free)
    found = [start for start, _ in spans(read(data))]
    assert found == ["2027-01-04T09:00:00+00:00", "2027-01-07T09:00:00+00:00"]


@pytest.mark.parametrize(
    ("rule", "start", "count"),
    [
        ("FREQ=SECONDLY;COUNT=5", "20270104T090000Z", 5),
        ("FREQ=SECONDLY;UNTIL=20270104T090009Z", "20270104T090000Z", 10),
        ("FREQ=SECONDLY;COUNT=100000", "20260104T090000Z", 0),  # all before the span
        ("FREQ=DAILY", "00010101T090000Z", 731),  # from year 1: walked from the span only
        ("FREQ=WEEKLY;BYDAY=MO,WE", "16010101T090000Z", 208),  # Outlook's 1601
        ("FREQ=HOURLY;INTERVAL=6", "19700101T000000Z", 2924),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "19600229T090000Z", 1),  # 2028 only
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "20270104T090000Z", 1),  # never, but DTSTART
    ],
)
def test_a_rule_far_from_the_span_or_bounded_by_count_reads_right(
    rule: str, start: str, count: int
) -> None:
    """A rule from year 1 or 1601 is walked from just before the span; one that never matches
    (30 February) stops near year 9999, not after walking to it."""
    end = (dt.datetime.strptime(start, "%Y%m%dT%H%M%SZ") + dt.timedelta(seconds=1)).isoformat()
    end = end.replace("-", "").replace(":", "").rjust(15, "0") + "Z"
    found = read(calendar(event(f"RRULE:{rule}", start=f"DTSTART:{start}", end=f"DTEND:{end}")))
    assert len(found) == count
    assert all(SPAN[0] <= b.start.date() <= SPAN[1] for b in found)
    assert all(b.end - b.start == dt.timedelta(seconds=1) for b in found)


def test_rules_that_never_repeat_are_charged_to_the_cap() -> None:
    """Issue 14, the class of rules with nothing after the span: each costs up to 400 years of
    periods; twenty of them pass the cap and are refused rather than walked for seconds each."""
    data = calendar(
        *(event("RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", uid=str(n)) for n in range(20))
    )
    with pytest.raises(LimitError, match=r"RRULE: must be at most 500,000 steps"):
        read(data)


ORDINARY = [
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=DAILY;BYMONTH=6,7,8",
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=MONTHLY;BYMONTHDAY=15",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
    "FREQ=YEARLY",
]


def test_a_big_calendar_of_ordinary_series_is_read_whole() -> None:
    """The charges for gaps must not refuse what calendar programs write: 40 series of each
    usual shape, from 2015, are read whole (each alone gives what 40 give, divided by 40)."""

    def series(rule: str, uid: str) -> str:
        return event(
            f"RRULE:{rule}", uid=uid, start="DTSTART:20150105T090000Z", end="DTEND:20150105T093000Z"
        )

    found = read(
        calendar(*(series(rule, f"{n}-{k}") for n, rule in enumerate(ORDINARY) for k in range(40)))
    )
    alone = sum(len(read(calendar(series(rule, "1")))) for rule in ORDINARY)
    assert alone > 1000
    assert len(found) == 40 * alone


def test_busy_times_are_capped_per_file_and_the_count_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every cap counts what it caps: busy times in the span, after clipping and free ones."""
    monkeypatch.setattr(window, "MAX_OCCURRENCES", 10)
    data = calendar(
        *(
            event(
                uid=str(n),
                start=f"DTSTART:202701{n + 1:02d}T090000Z",
                end=f"DTEND:202701{n + 1:02d}T100000Z",
            )
            for n in range(11)
        )
    )
    with pytest.raises(
        LimitError,
        match=r"busy\.ics: must be at most 10 busy times from "
        r"2027-01-01 to 2028-12-31; reading stopped at the count given; got 11",
    ):
        read(data)
    assert len(read(calendar(*(event("TRANSP:TRANSPARENT", uid=str(n)) for n in range(20))))) == 0


def test_a_rule_sure_to_pass_the_busy_cap_is_refused_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(window, "MAX_OCCURRENCES", 100)
    with pytest.raises(LimitError, match=r"a recurring event gives at least the number given"):
        read(calendar(event("RRULE:FREQ=DAILY")))


# -- the bounded walk gives what the plain library gives ---------------------------------------

RULES = [
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
    "FREQ=WEEKLY;BYDAY=SU;WKST=SU;INTERVAL=3",
    "FREQ=MONTHLY;INTERVAL=5",
    "FREQ=MONTHLY;BYDAY=-1FR;INTERVAL=2",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR",
    "FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH",
    "FREQ=YEARLY;INTERVAL=3;BYYEARDAY=1,-1",
    "FREQ=HOURLY;INTERVAL=7",
    "FREQ=DAILY;BYDAY=MO,WE;INTERVAL=2",
    "FREQ=DAILY;UNTIL=20280301T000000Z",
    "FREQ=WEEKLY;COUNT=500",
]


def plain_library(
    data: bytes, time_zone: str, days: tuple[dt.date, dt.date] = SPAN
) -> list[tuple[str, str]]:
    """What recurring-ical-events gives for ``days``, clipped like ketaplan clips."""
    tz = ZoneInfo(time_zone)
    span = Window.of(*days, tz)
    found = []
    for e in recurring_ical_events.of(icalendar.Calendar.from_ical(data)).between(
        days[0] - dt.timedelta(days=1), days[1] + dt.timedelta(days=2)
    ):
        clipped = span.clip(span.instant(e["DTSTART"].dt), span.instant(e["DTEND"].dt))
        if clipped:
            found.append(clipped)
    return spans([Booking(start=s, end=e) for s, e in sorted(found)])


@pytest.mark.parametrize(
    ("rule", "start", "tzid"),
    list(
        itertools.product(
            RULES,
            ["19991231T233000", "20240229T120000", "20270102T070000"],
            ["America/New_York", "Asia/Tokyo"],
        )
    ),
)
def test_the_bounded_walk_gives_what_the_library_gives(rule: str, start: str, tzid: str) -> None:
    """Rebasing a rule to the span and walking it 400·k years later changes no busy time: the
    library's own expansion (which walks from DTSTART) is the reference."""
    end = start[:9] + "235900"
    data = calendar(
        event(
            f"RRULE:{rule}",
            f"EXDATE;TZID={tzid}:20270405T{start[9:]}",
            start=f"DTSTART;TZID={tzid}:{start}",
            end=f"DTEND;TZID={tzid}:{end}",
        )
    )
    assert spans(read(data, time_zone="America/Chicago")) == plain_library(data, "America/Chicago")


# -- rules more frequent than daily, with filters -----------------------------------------------

AT_3_07_09 = "BYHOUR=3;BYMINUTE=7;BYSECOND=9"
MONDAY_29_FEBRUARY = "BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"  # none from 1961 to 2043
FROM_1900 = dt.datetime(1900, 1, 1)


def from_1900(rule: str, uid: str = "1") -> str:
    """An event of one second on 1 January 1900 (not in the span) repeating on ``rule``."""
    return event(
        f"RRULE:{rule}", uid=uid, start="DTSTART:19000101T000000Z", end="DTEND:19000101T000001Z"
    )


@pytest.mark.parametrize(
    ("rule", "starts"),
    [
        (
            f"FREQ=SECONDLY;{AT_3_07_09};BYMONTHDAY=29;BYDAY=MO",
            ["2027-03-29T03:07:09", "2027-11-29T03:07:09", "2028-05-29T03:07:09"],
        ),
        (f"FREQ=SECONDLY;{AT_3_07_09};BYMONTHDAY=29;BYDAY=MO;COUNT=206", ["2027-03-29T03:07:09"]),
        (f"FREQ=SECONDLY;{AT_3_07_09};{MONDAY_29_FEBRUARY}", []),
        (f"FREQ=SECONDLY;{AT_3_07_09};{MONDAY_29_FEBRUARY};COUNT=3", []),
        (f"FREQ=SECONDLY;BYHOUR=23;{MONDAY_29_FEBRUARY}", []),
        (f"FREQ=SECONDLY;{AT_3_07_09};BYWEEKNO=9;BYMONTHDAY=29", ["2028-02-29T03:07:09"]),
        ("FREQ=MINUTELY;BYHOUR=3;BYMINUTE=7;BYYEARDAY=60;BYDAY=MO", ["2027-03-01T03:07:00"]),
        ("FREQ=MINUTELY;INTERVAL=30;BYHOUR=3;BYYEARDAY=60;BYDAY=MO", ["2027-03-01T03:00:00",
                                                                     "2027-03-01T03:30:00"]),
        ("FREQ=HOURLY;BYHOUR=23;BYMONTH=2;BYMONTHDAY=29", ["2028-02-29T23:00:00"]),
        ("FREQ=SECONDLY;BYSECOND=59;BYMONTH=2;BYMONTHDAY=30", []),
        (f"FREQ=HOURLY;BYMINUTE={EVERY};BYSECOND={EVERY};BYMONTH=2;BYMONTHDAY=30", []),
    ],
)  # fmt: skip
def test_a_rule_more_frequent_than_daily_with_filters_is_walked_a_day_at_a_time(
    rule: str, starts: list[str]
) -> None:
    """A 300-byte SECONDLY rule at 03:07:09 on Mondays 29 February took 14 s within the step cap
    (three such events 51 s; HOURLY at every second of 30 February, over two minutes): each day
    of its walk counted one step, but dateutil tried 1,440 minutes of it, on a day excluded too.
    Such a rule is walked as a daily rule at its times of day, a step a day: the same busy times."""
    assert rules.ticks(rules.by_day(rules.Recur.parse(rule), FROM_1900)) == 1
    found = read(calendar(from_1900(rule)))
    assert [b.start.astimezone(UTC).replace(tzinfo=None).isoformat() for b in found] == starts
    assert all(b.end - b.start == dt.timedelta(seconds=1) for b in found)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SECONDLY;INTERVAL=7;BYHOUR=3;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
        "FREQ=MINUTELY;INTERVAL=7;BYHOUR=23;BYMONTHDAY=29;BYDAY=MO",
        "FREQ=HOURLY;INTERVAL=5;BYMINUTE=0,30;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=HOURLY;BYSETPOS=2",
        "FREQ=MINUTELY;BYSETPOS=2",
        "FREQ=SECONDLY;BYSECOND=1,2,3;BYSETPOS=2",
        "FREQ=SECONDLY;BYHOUR=9;BYSETPOS=1",
    ],
)
def test_a_rule_dateutil_walks_period_by_period_is_charged_every_period(rule: str) -> None:
    """Not walked by day when its days differ (every 7 s) or it has a BYSETPOS (which picks
    within a period: BYSETPOS=2 of an hour's one time never repeats, and walked 400 years of
    hours, 19 s, or of seconds, hours). Every period of the days it may walk is charged before
    the walk, so it is refused at once."""
    recur = rules.Recur.parse(rule)
    assert rules.by_day(recur, FROM_1900) == recur
    assert rules.ticks(recur) > 1
    with pytest.raises(LimitError, match=STEPS) as info:
        read(calendar(from_1900(rule)))
    assert isinstance(info.value.value, int)
    assert info.value.value > MAX_RULE_STEPS


NEAR = (dt.date(2027, 3, 13), dt.date(2027, 3, 16))  # over the change to summer time in New York
BY_DAY = [
    "FREQ=MINUTELY;INTERVAL=15;BYHOUR=1,2,3,9;BYDAY=SU,MO",
    "FREQ=SECONDLY;INTERVAL=20;BYHOUR=2,3;BYMINUTE=7,8;BYMONTHDAY=13,14,16",
    "FREQ=SECONDLY;BYHOUR=12;BYMINUTE=0;BYSECOND=0,30;COUNT=9",
    "FREQ=HOURLY;INTERVAL=2;BYDAY=SU,TU;BYMINUTE=0,30",
    "FREQ=MINUTELY;INTERVAL=120;BYHOUR=1,2,3,4,5;BYSECOND=15",
    "FREQ=HOURLY;BYHOUR=2,14;BYMONTH=3;UNTIL=20270315T000000Z",
]


@pytest.mark.parametrize(
    ("rule", "tzid"), list(itertools.product(BY_DAY, ["America/New_York", "Asia/Tokyo"]))
)
def test_a_rule_walked_by_day_gives_what_the_library_gives(rule: str, tzid: str) -> None:
    """The daily rule has the same repetitions as the rule as written, whatever its step, its
    filters and the zone's change of offset (the library walks it from DTSTART, near the span)."""
    assert rules.by_day(rules.Recur.parse(rule), dt.datetime(2027, 3, 11, 1, 30)).by_day
    data = calendar(
        event(
            f"RRULE:{rule}",
            start=f"DTSTART;TZID={tzid}:20270311T013000",
            end=f"DTEND;TZID={tzid}:20270311T014500",
        )
    )
    found = spans(read(data, time_zone="America/Chicago", span=NEAR))
    assert found  # in UTC order; the library's in wall-time order, which differs in a DST gap
    assert found == sorted(plain_library(data, "America/Chicago", NEAR))


@pytest.mark.parametrize("rule", ["FREQ=DAILY;INTERVAL=0", "FREQ=MINUTELY;INTERVAL=0;BYDAY=MO"])
def test_an_interval_of_zero_is_a_clear_error(rule: str) -> None:
    """dateutil repeats one period without end for INTERVAL=0 (RFC 5545 asks for a positive
    one): the rule is refused rather than walked, by day or otherwise, as some other rule."""
    with pytest.raises(
        CalendarFileError,
        match=r"busy\.ics: line 4: VEVENT: cannot be expanded: INTERVAL must be a positive integer",
    ):
        read(calendar(event(f"RRULE:{rule}")))


def test_making_a_rule_is_charged_the_times_of_day_dateutil_builds() -> None:
    """A yearly rule at every hour, minute and second of 30 February makes dateutil build 86,400
    times of day each time the rule is made: 40 such events took 4.7 s and 200 took 37 s, each
    charged a few hundred steps. Those times are charged as the library reads each rule and as
    it is walked."""
    every = f"BYHOUR={DAY_HOURS};BYMINUTE={EVERY};BYSECOND={EVERY}"
    rule = f"RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;{every}"
    assert spans(read(calendar(event(rule)))) == [
        ("2027-01-04T09:00:00+00:00", "2027-01-04T10:00:00+00:00")  # its DTSTART
    ]
    with pytest.raises(LimitError, match=r"busy\.ics: line \d+: RRULE: must be at most 500,000 st"):
        read(calendar(*(event(rule, uid=str(n)) for n in range(40))))


# -- zone floods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    ["FREQ=MINUTELY", "FREQ=SECONDLY", "FREQ=MONTHLY", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"],
)
def test_a_time_zone_that_does_not_change_yearly_is_refused(rule: str) -> None:
    """Issue 14: MINUTELY VTIMEZONE observances made every offset lookup walk millions."""
    with pytest.raises(
        CalendarFileError,
        match=r"busy\.ics: line 8: RRULE of a time zone: "
        r"must repeat yearly, on a day every year has; got 'FREQ=",
    ):
        read(calendar(zone(rule), event_in_zone()))


def test_a_time_zone_of_thousands_of_onsets_is_refused() -> None:
    rdates = ",".join(f"{y}0101T000000" for y in range(1971, 2971))
    with pytest.raises(
        LimitError,
        match=r"busy\.ics: line 4: VTIMEZONE Hostile: must be at "
        r"most 1,000 changes of offset up to the end of the span",
    ):
        read(calendar(zone("", rdates=rdates), event_in_zone()))


def test_a_yearly_time_zone_reads_right_and_belongs_to_its_file() -> None:
    """An Outlook-style zone (onsets since 1601) is read; a refused zone of one file does not
    stand in for another file's zone of the same name (icalendar caches zones by TZID)."""
    with pytest.raises(CalendarFileError):
        read(calendar(zone("FREQ=MINUTELY"), event_in_zone()))
    outlook = zone("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU").replace("19701025", "16011028")
    (booking,) = read(calendar(outlook, event_in_zone()))
    assert booking.start.astimezone(UTC).isoformat() == "2027-01-04T08:00:00+00:00"


# -- huge periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "component",
    [
        "BEGIN:VFREEBUSY\r\nUID:f\r\nFREEBUSY:00010101T000000Z/99991231T000000Z\r\nEND:VFREEBUSY\r\n",
        event(start="DTSTART:00010101T000000Z", end="DTEND:99991231T235959Z"),
        event(start="DTSTART;VALUE=DATE:19000101", end="DTEND;VALUE=DATE:21000101"),
        event("DURATION:P9999999W", start="DTSTART:19000101T000000Z", end=""),
    ],
)
def test_a_period_of_centuries_is_clipped_to_the_span(component: str) -> None:
    """Issue 14: a FREEBUSY period from year 1 to 9999 took 2.2 GB (one entry per day)."""
    assert spans(read(calendar(component))) == WHOLE_SPAN


def test_the_days_long_busy_times_touch_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each busy time costs the ledger one entry per day it touches: many periods of centuries,
    each clipped to the span, are bounded by the days they touch in all."""
    monkeypatch.setattr(window, "MAX_BUSY_DAYS", 1000)
    centuries = event(start="DTSTART:19000101T000000Z", end="DTEND:21000101T000000Z", uid="c")
    assert len(read(calendar(centuries))) == 1  # 731 days
    with pytest.raises(
        LimitError,
        match=r"busy\.ics: must be busy times that touch at most "
        r"1,000 days in all from 2027-01-01 to 2028-12-31 .*; got 1462",
    ):
        read(calendar(centuries, centuries.replace("UID:c", "UID:d")))


# -- year 1 and 9999 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "component",
    [
        event(start="DTSTART;VALUE=DATE:99991231", end=""),
        event(start="DTSTART;VALUE=DATE:00010101", end=""),
        event(start="DTSTART;TZID=Asia/Tokyo:00010101T000000", end=""),
        event(start="DTSTART;TZID=America/New_York:99991231T230000", end=""),
        event("DURATION:P1D", start="DTSTART:99991231T000000Z", end=""),
        event("RRULE:FREQ=DAILY", start="DTSTART:99991230T090000Z", end="DTEND:99991230T100000Z"),
        event("RDATE:99991231T000000Z", "EXDATE:00010101T000000Z"),
        event(start="DTSTART:00010101T000000Z", end="DTEND:00010101T010000Z"),
    ],
)
def test_dates_at_the_ends_of_the_calendar_read_without_a_traceback(component: str) -> None:
    """Issue 14: year 1 or 9999 in a busy file ended in OverflowError (a day added to
    9999-12-31). They are read: nothing of them falls in the span, except a plain event."""
    found = read(calendar(component, event(uid="plain")))
    assert spans(found)[-1] == ("2027-01-04T09:00:00+00:00", "2027-01-04T10:00:00+00:00")


@pytest.mark.parametrize("period", ["19000101T000000Z/P99999999D", "99991231T000000Z/P1D"])
def test_a_period_that_ends_after_year_9999_is_a_clear_error(period: str) -> None:
    """icalendar itself cannot read such a period (it adds the duration as it parses)."""
    component = f"BEGIN:VFREEBUSY\r\nUID:f\r\nFREEBUSY:{period}\r\nEND:VFREEBUSY\r\n"
    with pytest.raises(CalendarFileError, match=r"busy\.ics: line 6: has a period that ends "):
        read(calendar(component))


def test_a_series_whose_dates_leave_the_calendar_is_a_clear_error() -> None:
    data = calendar(
        event("RRULE:FREQ=YEARLY", start="DTSTART:20270101T000000Z", end="DTEND:99991231T000000Z")
    )
    with pytest.raises(
        CalendarFileError,
        match=r"busy\.ics: line 4: VEVENT: has dates that "
        r"cannot be computed: they reach year 1 or year 9999",
    ):
        read(data)


def test_the_span_itself_is_bounded() -> None:
    with pytest.raises(LimitError, match=r"start: must be a date from 1900-01-01 to 2200-12-31"):
        read(calendar(), span=(dt.date(1, 1, 1), dt.date(9999, 12, 31)))


# -- floods of bad lines ------------------------------------------------------------------------


def test_a_flood_of_bad_lines_lists_fifty_and_counts_the_rest() -> None:
    """Issue 14: error reporting was quadratic (each error scanned every line)."""
    with pytest.raises(CalendarFileError) as info:
        read(HOSTILE["100,000 bad lines"])
    err = info.value
    assert len(err.problems) == 50
    assert err.omitted == 99_950
    assert str(err).startswith("invalid calendar file: 100,000 problems\n")
    assert str(err).endswith("\n  ... and 99,950 more, not listed")
    assert str(err.problems[0]) == (
        "busy.ics: line 9: must be a content line NAME:value; got 'not a content line'"
    )


def test_a_flood_of_bad_values_names_each_line() -> None:
    """20,000 bad DTSTART values in one event: the old lookup scanned the file for each one."""
    with pytest.raises(CalendarFileError) as info:
        read(HOSTILE["20,000 bad values"])
    err = info.value
    assert err.omitted == 20_000 - 50
    assert [p.path for p in err.problems[:3]] == ["line 9", "line 10", "line 11"]
    assert "DTSTART" in err.problems[0].message


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (("DTSTART:P1D", ""), r"line 7: DTSTART: must be a date or a date-time; got 'P1D'"),
        (("DTSTART:20270101T090000Z/PT1H", ""), r"line 7: DTSTART: must be a date or a date-time"),
        (("DTSTART:20270101T090000Z", "DTEND:P1D"), r"line 8: DTEND: must be a date or a date"),
        (("DTSTART:20270101T090000Z", "DURATION:20270101"), r"line 8: DURATION: must be a dur"),
        (("", ""), r"line 4: VEVENT: must have a DTSTART"),
    ],
)
@pytest.mark.parametrize("rule", ["", "RRULE:FREQ=DAILY;COUNT=2"])
def test_a_time_of_the_wrong_kind_is_named_on_its_line(
    lines: tuple[str, str], message: str, rule: str
) -> None:
    """icalendar reads DTSTART:P1D as a duration; expanding it ended in a TypeError traceback."""
    with pytest.raises(CalendarFileError, match=rf"busy\.ics: {message}"):
        read(calendar(event(rule, start=lines[0], end=lines[1])))


# -- Unicode line breaks -------------------------------------------------------------------------


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x85"])
def test_unicode_line_breaks_inside_a_value_are_text(separator: str) -> None:
    """Issue 14: valid RFC 5545 text with U+2028 was refused, with a wrong line number (the
    lines were split where Python's str.splitlines splits, not at CRLF)."""
    text = calendar(event(f"SUMMARY:one{separator}two", f"DESCRIPTION:a{separator}b")).decode()
    assert spans(read(text)) == [("2027-01-04T09:00:00+00:00", "2027-01-04T10:00:00+00:00")]
    broken = text.replace("END:VEVENT", "DTEND:2027X\r\nEND:VEVENT")
    with pytest.raises(CalendarFileError, match=r"busy\.ics: line 11: DTEND"):
        read(broken)


# -- big files ------------------------------------------------------------------------------------


def test_ten_thousand_events_and_ten_thousand_rdates_read_whole() -> None:
    """Issue 14: 100k events or RDATEs; the cost per event is the benchmark's, this the count."""
    assert len(read(many_events(10_000))) == 10_000
    assert len(read(many_rdates(10_000))) == 10_000


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_hostile_file_of_the_benchmark_is_refused_clearly_or_read(name: str) -> None:
    """The benchmark times these files; each must end in ketaplan's own error or busy times."""
    try:
        found = read(HOSTILE[name])
    except (LimitError, CalendarFileError) as err:
        message = str(err)
    else:
        message = f"busy.ics: {len(found)} busy times"
        assert all(SPAN[0] <= b.start.date() <= SPAN[1] for b in found)
    assert "busy.ics" in message


# -- the command line -----------------------------------------------------------------------


def test_the_command_line_refuses_a_hostile_busy_file_without_a_traceback(tmp_path: Path) -> None:
    """Issue 14: `plan --busy` of a 195-byte SECONDLY file ran for minutes; now exit 2."""
    busy = tmp_path / "secondly.ics"
    busy.write_bytes(HOSTILE["SECONDLY from 1970"])
    result = ketaplan("plan", "sc-ketamine-anxiety", "--start", "2027-01-04", "--busy", str(busy))
    assert result.returncode == 2
    assert "secondly.ics: line 9: RRULE: must be at most 500,000 steps" in result.stderr
    assert "Traceback" not in result.stderr
    for name in ("SECONDLY, transparent", "FREEBUSY from year 1 to 9999"):
        busy.write_bytes(HOSTILE[name])
        result = ketaplan(
            "plan", "sc-ketamine-anxiety", "--start", "2027-01-04", "--busy", str(busy)
        )
        assert result.returncode == 0, result.stderr
