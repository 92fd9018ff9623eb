"""Alternatives for one session (issue 15, section 3): where else it could go, and what moves.

Each offer must be a move ``replan`` accepts and ``check`` finds no error in; the list says
which later sessions would move with it and whether any would leave its window.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ketaplan import InputError, Moved, Plan, check, load_protocol, replan
from ketaplan.alternatives import MAX_ALTERNATIVES, alternatives
from ketaplan.defaults import demo_clinic, demo_patient

from .helpers import plan
from .test_cli import run

MADE = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def _made() -> Plan:
    return plan(load_protocol("iv-ketamine-standard"), start=dt.date(2026, 12, 1),
                clinic=demo_clinic(), patient=demo_patient(), preferred_time=dt.time(9),
                now=MADE)  # fmt: skip


def test_each_offer_is_a_move_that_keeps_every_rule_and_says_what_it_moves() -> None:
    made = _made()
    session = made.appointment("induction-3")
    offers = alternatives(made, "induction-3", as_of=MADE, clinic=demo_clinic(),
                          patient=demo_patient(), limit=MAX_ALTERNATIVES)  # fmt: skip
    assert len(offers) >= 3
    for offer in offers:
        day = offer.start.astimezone(session.start.tzinfo).date()
        assert session.earliest is not None
        assert session.latest is not None
        assert session.earliest <= day <= session.latest
        assert offer.start != session.start
        after = replan(made, as_of=MADE, clinic=demo_clinic(), patient=demo_patient(),
                       events=[Moved(appointment="induction-3", to=offer.start)])  # fmt: skip
        errors = [v for v in check(after, clinic=demo_clinic(), patient=demo_patient())
                  if v.severity == "error"]  # fmt: skip
        assert errors == []
        moved = {a.id for a in after.appointments
                 if a.start != made.appointment(a.id).start and a.id != "induction-3"}  # fmt: skip
        assert {c.appointment for c in offer.changes} == moved


def test_offers_come_best_first() -> None:
    made = _made()
    offers = alternatives(made, "induction-3", as_of=MADE, clinic=demo_clinic(),
                          patient=demo_patient(), limit=MAX_ALTERNATIVES)  # fmt: skip
    keys = [(o.leaves_window, len(o.changes)) for o in offers]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("appointment", "options", "message"),
    [("induction-99", {}, "must be an appointment of plan"),
     ("induction-1", {"as_of": dt.datetime(2027, 1, 1, tzinfo=dt.UTC)},
      "must be a session still planned and still to come"),
     ("induction-3", {"limit": 0}, f"limit: must be a whole number from 1 to {MAX_ALTERNATIVES}")],
)  # fmt: skip
def test_wrong_requests_are_clear(
    appointment: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        alternatives(_made(), appointment, clinic=demo_clinic(), patient=demo_patient(),
                     **{"as_of": MADE, **options})  # type: ignore[arg-type]  # fmt: skip


def test_the_command_line_lists_alternatives(tmp_path: Path) -> None:
    made = tmp_path / "plan.json"
    made.write_text(_made().model_dump_json())
    code, text = run("alternatives", str(made), "induction-3", "--as-of", "2026-11-20T09:00",
                     "--limit", "2")  # fmt: skip
    assert code == 0
    assert text.startswith("1. Wed 16 Dec 2026 09:00-10:25: also moves response-review-induction-3")
    code, text = run("alternatives", str(made), "induction-3", "--as-of", "2026-11-20T09:00",
                     "--format", "json")  # fmt: skip
    assert code == 0
    assert all({"start", "end", "changes", "leaves_window"} <= set(o) for o in json.loads(text))
    assert run("alternatives", str(made), "nope", "--as-of", "2026-11-20T09:00")[0] == 2
