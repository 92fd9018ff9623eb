"""check() derives what a plan's rules need once per plan, not once per rule or per pair.

The property tests run ``check`` on hundreds of generated plans a second, so each derivation
it repeats costs them. These tests count the derivations; the outcomes are the other check
tests' (and the digest's) to judge.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ketaplan import _resolve, checking, load_protocol, timing
from ketaplan.checking import check, context, sessions
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.rules import calendar

from .helpers import plan

NOW = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def made(protocol_id: str = "iv-ketamine-mwf") -> Any:
    return plan(
        load_protocol(protocol_id),
        start=dt.date(2026, 11, 30),
        clinic=demo_clinic(),
        preferred_time=dt.time(9),
        now=NOW,
    )


def counting(
    monkeypatch: pytest.MonkeyPatch, module: object, name: str, calls: list[object] | None = None
) -> list[object]:
    """Count the calls of ``module.name`` in ``calls`` (each call's first argument is kept)."""
    calls = [] if calls is None else calls
    real = getattr(module, name)

    def counted(*args: Any, **options: Any) -> Any:
        calls.append(args[0] if args else None)
        return real(*args, **options)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_check_times_the_plan_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``check`` reads the plan with its derived times (``timed``) once: reading the plan with
    its protocol already does, and the rules run on that plan (they ran it twice, the second
    time only to find nothing to change)."""
    result = made()
    calls = counting(monkeypatch, _resolve, "timed")
    counting(monkeypatch, checking, "timed", calls)
    assert check(result, clinic=demo_clinic()) == []
    assert len(calls) == 1


def test_a_trial_is_still_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    """``check_trial`` takes a plan as a search left it: it derives its times itself."""
    result = made()
    protocol = load_protocol(result.protocol)
    calls = counting(monkeypatch, checking, "timed")
    found = checking.check_trial(
        result, protocol=protocol, clinic=demo_clinic(), patient=None, bookings=None, now=None
    )
    assert found == []
    assert len(calls) == 1


class _Reads:
    """Counts how often a sequence is read through (mixed into its type)."""

    reads = 0

    def __iter__(self) -> Any:
        _Reads.reads += 1
        return super().__iter__()  # type: ignore[misc]


class _Tuple(_Reads, tuple):  # type: ignore[type-arg]
    """A plan's tasks, counting how often they are read through."""


class _List(_Reads, list):  # type: ignore[type-arg]
    """A context's sessions, counting how often they are read through."""


def test_the_task_index_is_built_once() -> None:
    """The requirement, checkpoint and medication rules look tasks up by id in one index of the
    plan's tasks (each built its own)."""
    result = made()
    tasks = _Tuple(result.tasks)
    with_counted = result.model_copy(update={"tasks": tasks})
    _Reads.reads = 0
    assert check(with_counted, clinic=demo_clinic(), patient=demo_patient()) == check(
        result, clinic=demo_clinic(), patient=demo_patient()
    )
    assert _Reads.reads == 1


def test_a_clean_plan_without_a_patient_needs_no_medication_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The medication rules are worked out when a rule needs them (a patient's medicines, a
    violation's source), not for every check."""
    result = made()
    calls = counting(monkeypatch, context, "medication_rules")
    assert check(result, clinic=demo_clinic()) == []
    assert calls == []


def test_anchored_sessions_are_grouped_once() -> None:
    """The anchored-session rules find the sessions after each anchor in one grouping of the
    plan's sessions, not one pass over them for every anchor of every rule."""
    result = made("esketamine-trd")
    protocol = load_protocol(result.protocol)
    ctx = context.Context(result, protocol, demo_clinic(), None, None, None)
    expected = sessions.anchored(ctx)
    object.__setattr__(ctx, "active", _List(ctx.active))
    _Reads.reads = 0
    assert sessions.anchored(ctx) == expected
    # once for their ids, once to group them, and once a rule for the sessions anchored to one
    # that does not take place
    assert _Reads.reads == 2 + len(protocol.anchored)


def test_calendar_rules_work_out_a_plans_notice_and_leads_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan's sessions were booked at one moment: the minimum notice after it is worked out
    once, and how long before a session its instructions begin once for each kind of session
    (both were worked out again for every session)."""
    result = made("esketamine-trd")
    assert len({a.booked_at for a in result.appointments}) == 1
    leads = counting(monkeypatch, calendar, "instructions_lead")
    notices: list[object] = []
    real = timing.shift

    def shift(moment: dt.datetime, **by: float) -> dt.datetime:
        if "hours" in by:  # the notice: hours after the booking
            notices.append(moment)
        return real(moment, **by)

    monkeypatch.setattr(calendar, "shift", shift)
    assert check(result, clinic=demo_clinic()) == []
    assert len(notices) == 1
    kinds = {a.session for a in result.appointments if a.status == "planned"}
    assert len(leads) == len(kinds) < len(result.appointments)
