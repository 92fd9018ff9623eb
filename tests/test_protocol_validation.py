"""Every validator names the field, the expectation and the value."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ketaplan import ProtocolError, loads_protocol
from ketaplan.loading import validate
from ketaplan.protocol import DayWindow, GapWindow, PerWeek, Protocol, Timeline
from ketaplan.summary import describe_protocol

MINIMAL: dict[str, Any] = {
    "id": "own",
    "name": "Own",
    "version": "1",
    "indication": "TRD",
    "drug": "ketamine",
    "route": "iv",
    "setting": "clinic",
    "evidence": "clinic",
    "sources": [{"id": "ours", "citation": "Our standing order", "evidence": "clinic"}],
    "session_kinds": [
        {
            "id": "infusion",
            "name": "Infusion",
            "category": "dosing",
            "timeline": {"check_in_minutes": 15, "dosing_minutes": 40, "monitoring_minutes": 30},
            "resources": [{"resource": "chair"}],
        },
        {
            "id": "review",
            "name": "Review",
            "category": "review",
            "timeline": {"session_minutes": 30},
        },
    ],
    "phases": [
        {
            "id": "induction",
            "name": "Induction",
            "session": "infusion",
            "count": 6,
            "cadence": {"type": "per-week", "sessions": 2, "min_gap_days": 2},
        }
    ],
}


def build(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data.update(copy.deepcopy(changes))
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ProtocolError) as info:
        validate(Protocol, data, origin="own.toml", error=ProtocolError)
    return [str(problem) for problem in info.value.problems]


def test_minimal_protocol_is_valid() -> None:
    protocol = validate(Protocol, MINIMAL, origin="own.toml", error=ProtocolError)
    assert protocol.finite_sessions == 6


def test_models_are_frozen() -> None:
    protocol = Protocol.model_validate(MINIMAL)
    with pytest.raises(ValueError, match="frozen"):
        protocol.name = "changed"  # type: ignore[misc]


def test_gap_window_bounds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match=r"absolute_minimum <= minimum <= target <= maximum"):
        GapWindow(absolute_minimum=3, minimum=2, target=4, maximum=5)


def test_gap_window_is_bounded() -> None:
    with pytest.raises(ValueError, match=r"maximum: must be at most 400 days; got 20 months"):
        GapWindow(unit="months", absolute_minimum=1, minimum=1, target=1, maximum=20)


def test_per_week_must_fit_in_a_week() -> None:
    with pytest.raises(ValueError, match="4 sessions cannot fit in a week at least 3 days apart"):
        PerWeek(sessions=4, min_gap_days=3)


def test_timeline_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="at least one step longer than 0 minutes"):
        Timeline()


def test_unknown_session_kind_is_named_with_the_choices() -> None:
    data = build()
    data["phases"][0]["session"] = "infusoin"
    assert problems(data) == [
        (
            "own.toml: phases[0].session: must name one of the session kinds (infusion, review); "
            "got 'infusoin'"
        )
    ]


def test_unknown_source_reference() -> None:
    data = build()
    data["phases"][0]["source"] = "theirs"
    assert problems(data) == [
        "own.toml: phases[0].source: must name one of the protocol's sources (ours); got 'theirs'"
    ]


def test_duplicate_ids() -> None:
    data = build()
    data["sources"].append(dict(data["sources"][0]))
    assert problems(data) == ["own.toml: sources[1].id: must be unique within sources; got 'ours'"]


def test_evidence_must_match_a_source() -> None:
    assert problems(build(evidence="label")) == [
        "own.toml: evidence: must be the level of one of the sources (clinic); got 'label'"
    ]


def test_dosing_session_needs_dosing_minutes() -> None:
    data = build()
    data["session_kinds"][0]["timeline"] = {"session_minutes": 60}
    found = problems(data)
    assert (
        "own.toml: session_kinds[0].timeline.dosing_minutes: must be above 0 for a dosing "
        "session; got 0" in found
    )
    assert any("session_minutes: must be 0 for a dosing session" in p for p in found)


def test_later_phase_needs_a_start_and_only_the_last_may_be_open() -> None:
    data = build()
    data["phases"].insert(
        0,
        {
            "id": "open",
            "name": "Open",
            "session": "infusion",
            "cadence": data["phases"][0]["cadence"],
        },
    )
    found = problems(data)
    assert "own.toml: phases[0].count: must be given for every phase but the last" in found
    assert any(
        p.startswith("own.toml: phases[1].start: must say how the phase follows") for p in found
    )


def test_gap_sequence_must_cover_the_count() -> None:
    data = build()
    data["phases"][0]["cadence"] = {
        "type": "gap-sequence",
        "steps": [
            {"repeat": 2, "gap": {"absolute_minimum": 2, "minimum": 2, "target": 3, "maximum": 4}}
        ],
    }
    assert problems(data) == [
        (
            "own.toml: phases[0].count: needs 5 gaps but the cadence gives 2; "
            "add gaps or leave the last repeat open; got 6"
        )
    ]


def test_only_the_last_gap_step_may_be_open() -> None:
    data = build()
    gap = {"absolute_minimum": 2, "minimum": 2, "target": 3, "maximum": 4}
    data["phases"][0]["cadence"] = {"type": "gap-sequence", "steps": [{"gap": gap}, {"gap": gap}]}
    (found,) = problems(data)
    assert "steps[0].repeat: only the last step may repeat until the end" in found


def test_anchor_beyond_the_series_is_rejected() -> None:
    data = build(
        anchored=[
            {
                "id": "late-review",
                "session": "review",
                "after": {"session": "infusion", "which": 7},
                "offset": {"minimum": 0, "target": 0, "maximum": 2},
            }
        ]
    )
    assert problems(data) == [
        "own.toml: anchored[0].after.which: must be at most 6, the number of such sessions; got 7"
    ]


def test_anchored_session_may_not_be_a_dose() -> None:
    data = build(
        anchored=[
            {
                "id": "extra",
                "session": "infusion",
                "after": {"session": "infusion"},
                "offset": {"minimum": 1, "target": 1, "maximum": 2},
            }
        ]
    )
    assert problems(data) == [
        (
            "own.toml: anchored[0].session: must not be a dosing session (doses are placed by "
            "phases); got 'infusion'"
        )
    ]


def test_total_sessions_are_bounded() -> None:
    phase = copy.deepcopy(MINIMAL["phases"][0])
    phases = []
    for index in range(3):
        p = copy.deepcopy(phase) | {"id": f"p{index}", "count": 200}
        if index:
            p["start"] = {"type": "after-previous"}
        phases.append(p)
    assert problems(build(phases=phases)) == [
        "own.toml: phases: must add up to at most 500 sessions; got 600"
    ]


def test_home_protocol_doses_at_home() -> None:
    assert problems(build(setting="home")) == [
        (
            "own.toml: session_kinds[0].location: must be home for dosing in a home protocol; "
            "got 'clinic'"
        )
    ]


def test_hold_rule_shape() -> None:
    hold = {"id": "benzo", "medication": "benzodiazepine", "severity": "hold", "source": "ours"}
    (found,) = problems(build(holds=[hold]))
    assert found.startswith("own.toml: holds[0]: a hold must give hold_before_hours")


def test_unknown_key_suggests_the_right_one() -> None:
    data = build()
    data["phases"][0]["within_day"] = 21
    assert problems(data) == [
        "own.toml: phases[0].within_day: is not a known field (did you mean 'within_days'?); got 21"
    ]


def test_every_problem_is_reported_at_once() -> None:
    data = build(route="nasal", evidence=3)
    data["phases"][0]["count"] = 0
    found = problems(data)
    assert len(found) == 3, found
    assert any(p.startswith("own.toml: route: must be one of 'iv', 'im'") for p in found)
    assert "own.toml: phases[0].count: must be at least 1; got 0" in found


def test_json_text_loads_too() -> None:
    protocol = loads_protocol(json.dumps(MINIMAL), format="json")
    assert protocol.id == "own"


def test_a_timeline_copied_with_other_lengths_gives_their_spans() -> None:
    """A timeline's spans follow its lengths, also in a copy made with other lengths (a span
    cached on the model would be carried into the copy by ``model_copy``)."""
    first = Timeline(check_in_minutes=15, dosing_minutes=40, monitoring_minutes=30)
    assert first.span(("dosing",)) == (15, 55)
    assert first.span(("dosing", "monitoring")) == (15, 85)
    longer = first.model_copy(update={"dosing_minutes": 60})
    assert longer.span(("dosing",)) == (15, 75)
    assert longer.span(()) == (0, 105)


# -- found by a protocol author ----------------------------------------------------------------

BENZO_HOLD = {
    "id": "benzo",
    "medication": "benzodiazepine",
    "severity": "hold",
    "hold_before_hours": 6,
    "source": "ours",
}


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("benzodiazapine", "benzodiazepine"),  # a typo
        ("maio", "maoi"),  # a typo
        ("maois", "maoi"),  # a plural, which only a patient's medication list may use
        ("Nardil", "phenelzine"),  # a brand: the rule would match only patients who write it
        ("lorazepam 1 mg", "lorazepam"),  # a strength
    ],
)
def test_a_hold_on_a_name_no_rule_can_match_is_refused(written: str, meant: str) -> None:
    # A hold matches a patient's medication by its ingredient or class: a hold on any other
    # name validated and planned, and did nothing (a misspelt benzodiazepine hold took the
    # patient's "Skip your 22:00 lorazepam" away).
    assert problems(build(holds=[BENZO_HOLD | {"medication": written}])) == [
        (
            f"own.toml: holds[0].medication: must be a medication or class ketaplan knows "
            f"(did you mean {meant!r}?); got {written!r}"
        )
    ]


@pytest.mark.parametrize("written", ["benzodiazepine", "Benzodiazepine", "lorazepam", "MAOI"])
def test_a_hold_on_a_class_or_an_ingredient_is_valid(written: str) -> None:
    protocol = Protocol.model_validate(build(holds=[BENZO_HOLD | {"medication": written}]))
    assert protocol.holds[0].medication == written


@pytest.mark.parametrize(
    ("path", "where", "bool_for"),
    [
        # was a 1-hour interval between doses (the protocol said 48)
        ("rules.min_interval.hours", ("rules", "min_interval", "hours"), "must be a number"),
        ("phases[0].count", ("phases", 0, "count"), "must be a whole number"),  # was 1 session
        ("phases[0].within_days", ("phases", 0, "within_days"), "must be a whole number"),
        (
            "phases[0].cadence.min_gap_days",
            ("phases", 0, "cadence", "min_gap_days"),
            "must be a whole number",
        ),
        ("holds[0].hold_before_hours", ("holds", 0, "hold_before_hours"), "must be a number"),
    ],
)
def test_true_is_not_a_number(path: str, where: tuple[str | int, ...], bool_for: str) -> None:
    # pydantic's lax mode read JSON/TOML true as 1 (tests/test_architecture.py checks every
    # number of every model).
    data = build(rules={"min_interval": {"hours": 48}}, holds=[BENZO_HOLD])
    node: Any = data
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = True
    assert problems(data) == [f"own.toml: {path}: {bool_for}, not true or false; got True"]


@pytest.mark.parametrize(
    ("path", "written", "said"),
    [
        # was 48 hours between doses: the number in quotes was read as one
        ("rules.min_interval.hours", "48", "must be a number, not text"),
        ("phases[0].count", "6", "must be a whole number, not text"),
        ("holds[0].hold_before_hours", "6.5", "must be a number, not text"),
        # a bool in quotes, or as a number, was read as true or false ("no" as false)
        ("holds[0].hold_day_of", "yes", "must be true or false, not text"),
        ("holds[0].hold_day_of", 1, "must be true or false, not a number"),
    ],
)
def test_a_value_is_read_only_as_it_is_written(path: str, written: object, said: str) -> None:
    # pydantic's lax mode read TOML's `min_interval = { hours = "48" }` as 48 hours and
    # `hold_day_of = "yes"` as true (tests/test_architecture.py checks every number and bool of
    # every model).
    data = build(rules={"min_interval": {"hours": 48}}, holds=[BENZO_HOLD])
    node: Any = data
    *parents, last = path.replace("[0]", ".0").split(".")
    for part in parents:
        node = node[int(part) if part.isdigit() else part]
    node[last] = written
    assert problems(data) == [f"own.toml: {path}: {said}; got {written!r}"]


def test_a_number_from_a_file_or_from_python_is_still_a_number() -> None:
    data = build(
        rules={"min_interval": {"hours": 48}}, holds=[BENZO_HOLD | {"hold_before_hours": 6.5}]
    )
    protocol = loads_protocol(json.dumps(data), format="json")
    assert protocol.rules.min_interval is not None
    assert protocol.rules.min_interval.hours == 48
    assert protocol.holds[0].hold_before_hours == 6.5
    assert Protocol.model_validate(data) == protocol


def test_a_session_kind_uses_each_resource_once() -> None:
    # A chair listed twice was booked twice for each session: the planner placed the series,
    # and check then found 18 clashes in the planner's own plan ("chair 1: maintenance-12
    # starts before maintenance-12 and its cleaning buffer end"). A plan keeps one unit of each
    # resource per session (ResourceSpan by kind), so the second use is refused.
    data = build()
    data["session_kinds"][0]["resources"] = [{"resource": "chair"}, {"resource": "chair"}]
    assert problems(data) == [
        (
            "own.toml: session_kinds[0].resources[1].resource: must be unique within resources; "
            "got 'chair'"
        )
    ]


@pytest.mark.parametrize("which", [0, "eech", True, 10_001])
def test_a_wrong_anchor_gets_one_message(which: object) -> None:
    # which = 0 got two that contradict each other: "must be one of 'each', 'first' or
    # 'last'" and "must be at least 1".
    anchored = {
        "id": "review",
        "session": "review",
        "after": {"session": "infusion", "which": which},
        "offset": {"minimum": 0, "target": 0, "maximum": 2},
    }
    assert problems(build(anchored=[anchored])) == [
        (
            "own.toml: anchored[0].after.which: must be 'each', 'first', 'last' or a session's "
            f"number from 1 to 10000; got {which!r}"
        )
    ]


def test_a_bound_is_written_as_the_file_would_write_it() -> None:
    # A float field's whole bound read "must be at most 336.0".
    assert problems(build(holds=[BENZO_HOLD | {"hold_before_hours": 400}])) == [
        "own.toml: holds[0].hold_before_hours: must be at most 336; got 400"
    ]


def test_a_count_of_one_reads_in_the_singular() -> None:
    # describe_protocol said "doses at least 1 hours apart" and "at most 1 doses in any 7 days".
    data = build(
        rules={"min_interval": {"hours": 1}, "max_per_7_days": {"doses": 1}},
        holds=[BENZO_HOLD | {"stop_days_before_start": 1}],
    )
    data["phases"][0] |= {"within_days": 1, "count": 1, "cadence": None}
    text = describe_protocol(Protocol.model_validate(data))
    assert "doses at least 1 hour apart" in text
    assert "at most 1 dose in any 7 days" in text
    assert "all within 1 day\n" in text
    assert "stop 1 day before the first session" in text
    assert PerWeek(sessions=1, min_gap_days=1).describe().endswith("at least 1 day apart")
    assert DayWindow(minimum=1, target=1, maximum=1).describe() == "1 day"
