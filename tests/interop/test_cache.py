"""The fast path of the export is differential-tested against icalendar itself."""

from __future__ import annotations

import datetime as dt
import inspect
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar, Event

from ketaplan import InputError, load_protocol
from ketaplan.defaults import demo_clinic
from ketaplan.ics import EventCache, export, to_ics
from ketaplan.ics.export import serialize
from ketaplan.protocol import Protocol
from ketaplan.replanning import Moved, replan
from ketaplan.strategies import plans, protocols
from tests.helpers import plan

NOW = dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 22, 17, 30, tzinfo=dt.UTC)
OPTIONS = st.fixed_dictionaries(
    {
        "audience": st.sampled_from(["patient", "clinic"]),
        "detail": st.sampled_from(["minimal", "full"]),
        "alarms": st.booleans(),
    }
)


@given(text=st.text(max_size=300), name=st.text(min_size=1, max_size=90))
def test_serialize_is_icalendars_to_ical(text: str, name: str) -> None:
    event = Event()
    event.add("summary", text)
    event.add("description", text * 2)
    event.add("location", name)
    event.add("dtstart", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    calendar = Calendar()
    calendar.add("prodid", name)
    calendar.add_component(event)
    assert serialize(event) == event.to_ical()
    assert serialize(calendar) == calendar.to_ical()


@given(protocol=protocols(), data=st.data(), options=OPTIONS)
def test_export_is_the_plain_icalendar_serialization(
    protocol: Protocol, data: st.DataObject, options: dict[str, object]
) -> None:
    made = data.draw(plans(protocol=protocol, until_days=120))
    exported = to_ics(made, now=NOW, protocols=[protocol], **options)  # type: ignore[arg-type]
    assert Calendar.from_ical(exported).to_ical() == exported


@given(protocol=protocols(), data=st.data(), options=OPTIONS)
def test_cached_exports_are_the_same_bytes(
    protocol: Protocol, data: st.DataObject, options: dict[str, object]
) -> None:
    made = data.draw(plans(protocol=protocol, until_days=120))
    cache = EventCache()
    own = [protocol]  # a generated protocol is not built in: the export reads the plan by it
    for now in (NOW, LATER, NOW):
        assert to_ics(made, now=now, cache=cache, protocols=own, **options) == to_ics(  # type: ignore[arg-type]
            made,
            now=now,
            protocols=own,
            **options,  # type: ignore[arg-type]
        )
    assert cache.hits == 2 * len(cache)


def test_a_changed_appointment_misses_the_cache() -> None:
    clinic = demo_clinic()
    # The intake on Mon 30 Nov, the series from Mon 7 Dec.
    made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2026, 11, 30), clinic=clinic)
    cache = EventCache()
    to_ics(made, now=NOW, cache=cache)
    moved = replan(made, as_of=dt.datetime(2026, 12, 7, 18, tzinfo=dt.UTC), clinic=clinic,
                   events=[Moved(appointment="induction-3",
                                 to=dt.datetime(2026, 12, 11, 19, tzinfo=dt.UTC))])  # fmt: skip
    changed = sum(1 for a, b in zip(made.appointments, moved.appointments, strict=False) if a != b)
    hits = cache.hits
    assert to_ics(moved, now=NOW, cache=cache) == to_ics(moved, now=NOW)
    assert cache.hits - hits == len(moved.appointments) - changed
    assert b"SEQUENCE:1" in to_ics(moved, now=NOW, cache=cache)


def test_options_are_part_of_the_key() -> None:
    made = plan(load_protocol("iv-ketamine-pain"), start=dt.date(2026, 12, 7))
    cache = EventCache()
    patient = to_ics(made, now=NOW, cache=cache)
    clinic = to_ics(made, now=NOW, cache=cache, audience="clinic")
    assert patient != clinic
    assert cache.hits == 0
    assert clinic == to_ics(made, now=NOW, audience="clinic")


def test_the_cache_is_bounded() -> None:
    made = plan(load_protocol("iv-ketamine-standard"), start=dt.date(2026, 12, 7))
    cache = EventCache(max_events=3)
    assert to_ics(made, now=NOW, cache=cache) == to_ics(made, now=NOW)
    assert len(cache) == 3


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_bad_cache_size(bad: object) -> None:
    with pytest.raises(InputError, match="max_events: must be a whole number >= 1"):
        EventCache(max_events=bad)  # type: ignore[arg-type]


def test_the_key_covers_every_plan_field_the_export_reads() -> None:
    source = inspect.getsource(export)
    read = set(re.findall(r"(?<![\w.])plan\.(\w+)", source))
    # The key holds the appointment itself and its own checkpoint tasks (the only tasks an
    # event shows), not the plan's whole lists.
    assert read - {"appointments", "tasks"} <= set(export._EVENT_PLAN_FIELDS)


def test_a_changed_checkpoint_task_is_written_afresh() -> None:
    made = plan(load_protocol("esketamine-trd"), start=dt.date(2026, 12, 7))
    cache = EventCache()
    first = to_ics(made, now=NOW, cache=cache, audience="clinic")
    moved = tuple(
        task.model_copy(update={"title": "Blood pressure, checked twice"})
        if task.id == "checkpoint-bp-40-min-induction-1"
        else task
        for task in made.tasks
    )
    again = to_ics(made.model_copy(update={"tasks": moved}), now=NOW, cache=cache,
                   audience="clinic")  # fmt: skip
    assert first != again
    assert b"Blood pressure\\, checked twice" in again
    assert cache.hits == len(made.appointments) - 1
