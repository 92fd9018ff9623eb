"""Every validator names the field, the expectation and the value."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ketaplan import ProtocolError, loads_protocol
from ketaplan.loading import validate
from ketaplan.protocol import GapWindow, PerWeek, Protocol, Timeline

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
    data.update(changes)
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
