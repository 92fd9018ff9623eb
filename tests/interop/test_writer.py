"""The fast event writer gives the bytes icalendar gives for the same event.

``to_ics`` writes files and feeds with ``write_event`` and, for iTIP methods, builds icalendar
components (``_event``) and serializes them. The second is the reference: for generated plans,
texts chosen to stress escaping and folding, every status, zones with DST changes and times in
their repeated hours, the two must agree byte for byte.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ketaplan import Plan, load_protocol
from ketaplan.defaults import demo_clinic
from ketaplan.hours import DEFAULT_QUIET_HOURS, QuietHours
from ketaplan.ics import export, to_ics
from ketaplan.ics.export import _event, serialize, write_event
from ketaplan.plans import Appointment, Instruction
from ketaplan.strategies import ZONES, plans
from tests.helpers import plan
from tests.interop.parsers import with_ical, with_icalendar, with_vobject

STAMP = dt.datetime(2026, 11, 21, 9, 30, 15, tzinfo=dt.UTC)

# Characters icalendar escapes or folds specially, next to ordinary and multi-byte ones.
texts = st.text(
    alphabet=st.sampled_from(list("ab ;,:\\^\"'\n\r\tNé€😀\u0085\u2028\u202e\x0b"))
    | st.characters(codec="utf-8"),
    max_size=160,
)


def reference(made: Plan, appointment: Appointment, **options: object) -> bytes:
    event = _event(made, appointment, method=None, stamp=STAMP, organizer=None, attendee=None,
                   **options)  # type: ignore[arg-type]  # fmt: skip
    return serialize(event)


def assert_same(made: Plan, options: dict[str, object]) -> None:
    for appointment in made.appointments:
        fast = write_event(made, appointment, stamp=STAMP, **options)  # type: ignore[arg-type]
        assert fast == reference(made, appointment, **options)


OPTIONS = st.fixed_dictionaries(
    {
        "audience": st.sampled_from(["patient", "clinic"]),
        "detail": st.sampled_from(["minimal", "full"]),
        "alarms": st.booleans(),
    }
)


@given(made=plans(until_days=90), options=OPTIONS)
def test_generated_plans_are_written_as_icalendar_writes_them(
    made: Plan, options: dict[str, object]
) -> None:
    assert_same(made, options)


QUIET = [None, DEFAULT_QUIET_HOURS, QuietHours(start=dt.time(1, 30), end=dt.time(2, 30)),
         QuietHours(start=dt.time(0), end=dt.time(23, 59))]  # fmt: skip

CHANGES = [dt.datetime(2026, 11, 1), dt.datetime(2026, 10, 25), dt.datetime(2026, 4, 5),
           dt.datetime(2027, 3, 14)]  # fmt: skip


@st.composite
def odd_plans(draw: st.DrawFn) -> Plan:
    """A real plan whose texts, statuses, revisions and times are replaced by odd ones."""
    made = draw(st.sampled_from(TEMPLATES))
    made = made.model_copy(
        update={
            "clinic_name": draw(texts),
            "clinic_location": draw(st.none() | texts),
            "clinic_display_name": draw(st.none() | texts),
            "patient": draw(st.none() | texts),
            "protocol": draw(texts),
            # Reminders (issue 14): quiet hours past midnight, around a DST change, or none.
            "quiet_hours": draw(st.sampled_from(QUIET)),
            "reminder_lead_minutes": draw(st.integers(1, 24 * 60)),
        }
    )
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    changed = []
    tasks = []
    for appointment in made.appointments[:4]:
        # Around the autumn change in either hemisphere, often inside a repeated hour.
        base = draw(st.sampled_from(CHANGES))
        start = (base + dt.timedelta(minutes=draw(st.integers(0, 48 * 60)))).replace(
            tzinfo=tz, fold=draw(st.integers(0, 1))
        )
        instructions = tuple(
            i.model_copy(update={"text": draw(texts)}) for i in appointment.instructions
        )
        new_id = draw(texts)
        moved = start.astimezone(dt.UTC) - appointment.start.astimezone(dt.UTC)
        # Its checkpoint tasks (times in the description, reminders) follow it, with odd titles.
        tasks += [
            task.model_copy(
                update={
                    "appointment": new_id,
                    "title": draw(texts),
                    "at": (task.at.astimezone(dt.UTC) + moved).astimezone(tz),
                    "until": task.until and (task.until.astimezone(dt.UTC) + moved).astimezone(tz),
                }
            )
            for task in made.tasks
            if task.appointment == appointment.id and task.at is not None
        ]
        changed.append(
            appointment.model_copy(
                update={
                    "id": new_id,
                    "name": draw(texts),
                    "reason": draw(texts),
                    "dose": draw(st.none() | texts),
                    "status": draw(st.sampled_from(["planned", "attended", "missed", "cancelled"])),
                    "revision": draw(st.integers(0, 10**6)),
                    "start": start,
                    "end": (  # real elapsed time: wall-clock arithmetic would drop the fold
                        start.astimezone(dt.UTC) + dt.timedelta(minutes=draw(st.integers(1, 600)))
                    ).astimezone(tz),
                    "time_zone": tz.key,
                    "instructions": instructions,
                }
            )
        )
    return made.model_copy(update={"appointments": changed, "tasks": tuple(tasks)})


TEMPLATES = [
    plan(
        load_protocol(protocol),
        start=dt.date(2026, 12, 1),
        clinic=demo_clinic(),
        until=dt.date(2027, 1, 31),
    )
    for protocol in ("esketamine-trd", "iv-ketamine-standard", "home-sublingual")
]


@given(made=odd_plans(), options=OPTIONS)
@example(
    made=TEMPLATES[0].model_copy(update={"clinic_name": "x" * 73 + "\\N;" + "é" * 40}),
    options={"audience": "patient", "detail": "full", "alarms": True},
)
def test_odd_texts_times_and_statuses_are_written_as_icalendar_writes_them(
    made: Plan, options: dict[str, object]
) -> None:
    assert_same(made, options)


def test_every_instruction_kind_is_covered_by_the_templates() -> None:
    kinds = {i.kind for made in TEMPLATES for a in made.appointments for i in a.instructions}
    assert {"fasting-solids", "fasting-liquids", "escort", "no-driving"} <= kinds
    assert isinstance(TEMPLATES[0].doses[0].instructions[0], Instruction)


def test_date_time_lines_never_need_folding() -> None:
    # write_event leaves DTSTART and DTEND unfolded: no IANA zone makes them 75 octets.
    longest = max(available_timezones(), key=len)
    assert len(f"DTSTART;TZID={longest}:20261207T090000") < 75


@pytest.mark.parametrize("audience", ["patient", "clinic"])
@pytest.mark.parametrize("made", TEMPLATES, ids=lambda made: made.protocol)
def test_icalendar_ical_and_vobject_read_the_same_events_either_way(
    made: Plan, audience: str
) -> None:
    fast = to_ics(made, audience=audience, now=STAMP)  # type: ignore[arg-type]

    def through_icalendar(plan: Plan, appointment: Appointment, **options: object) -> bytes:
        options.pop("uid")
        event = _event(plan, appointment, method=None, organizer=None, attendee=None,
                       **options)  # type: ignore[arg-type]  # fmt: skip
        return serialize(event)

    with mock.patch.object(export, "write_event", through_icalendar):
        reference = to_ics(made, audience=audience, now=STAMP)  # type: ignore[arg-type]
    assert fast == reference
    for read in (with_icalendar, with_ical, with_vobject):
        seen = read(fast)
        assert seen == read(reference)
        assert len(seen) == len(made.appointments)
