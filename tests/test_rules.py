"""The rule layer on its own: each rule's one meaning, pinned by small cases.

The planner, ``check``, ``replan`` and the task builder all call these functions; the cases
here are the boundaries where copies of a rule used to disagree (issue 11).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ketaplan import Appointment, Protocol, load_protocol, loads_protocol
from ketaplan.plans import TierChange
from ketaplan.protocol import Anchor, AnchoredSession, Lapse
from ketaplan.rules import anchors
from ketaplan.rules.chain import Chain, counted
from ketaplan.rules.course import Course, Previous, lapse_at, lapses
from ketaplan.timing import gap_days

NY = ZoneInfo("America/New_York")


def session(
    number: int,
    day: dt.date,
    *,
    phase: str = "induction",
    status: str = "planned",
    kind: str = "dosing",
    session_kind: str = "esketamine-dose",
) -> Appointment:
    start = dt.datetime.combine(day, dt.time(9), tzinfo=NY)
    return Appointment.model_validate(
        {
            "id": f"{phase}-{number}",
            "kind": kind,
            "session": session_kind,
            "name": "session",
            "phase": phase,
            "index": number,
            "start": start,
            "end": start + dt.timedelta(hours=2),
            "time_zone": "America/New_York",
            "location": "clinic",
            "rule": "test",
            "reason": "test",
            "status": status,
        }
    )


MDSI = load_protocol("esketamine-mdsi")
TRD = load_protocol("esketamine-trd")
MONDAY = dt.date(2026, 12, 7)


def induction(statuses: list[str]) -> Chain:
    days = [MONDAY + dt.timedelta(days=3 * n + n // 2) for n in range(len(statuses))]
    sessions = tuple(
        session(n + 1, day, status=status)
        for n, (day, status) in enumerate(zip(days, statuses, strict=True))
    )
    return Chain(Course(MDSI), sessions)


def test_a_missed_session_counts_where_the_phase_continues_after_a_miss() -> None:
    """Esketamine label: a missed session in weeks 1-4 is not made up (missed="continue")."""
    phase = MDSI.phase("induction")
    assert phase.missed == "continue"
    chain = induction(["attended", "missed", *["planned"] * 6])
    assert counted(phase, chain.sessions) == 8
    assert chain.complete(phase)


def test_last_selects_the_last_session_taking_place_once_the_phase_is_complete() -> None:
    """One meaning of "last" for the planner, check and the tasks (issue 11, reproduction 1)."""
    rule = next(r for r in MDSI.anchored if r.after.which == "last")
    complete = induction([*["attended"] * 7, "missed"])
    assert [a.id for a in anchors.selected(rule.after, complete, chain_is="complete")] == [
        "induction-7"
    ]
    short = induction(["attended"] * 7)
    assert anchors.selected(rule.after, short, chain_is="complete") == []


def test_an_anchored_session_is_due_when_its_anchor_completes_the_phase() -> None:
    rule = next(r for r in MDSI.anchored if r.after.which == "last")
    chain = induction(["planned"] * 8)
    assert anchors.due_after(MDSI.anchored, chain.sessions[-1], chain) == [rule]
    assert anchors.due_after(MDSI.anchored, chain.sessions[-2], chain) == []


def test_every_nth_selects_the_nth_2nth_of_the_sessions_taking_place() -> None:
    """Mindbloom's renewal consult "repeat every 6 sessions": one meaning for all callers."""
    renewal = AnchoredSession.model_validate(
        {
            "id": "renewal",
            "session": "evaluation",
            "after": {"session": "esketamine-dose", "every": 6, "phase": "maintenance"},
            "offset": {"minimum": 0, "target": 0, "maximum": 4},
        }
    )
    statuses = ["attended"] * 3 + ["missed"] + ["planned"] * 10
    sessions = tuple(
        session(n + 1, MONDAY + dt.timedelta(days=14 * n), phase="maintenance", status=status)
        for n, status in enumerate(statuses)
    )
    chain = Chain(Course(TRD), sessions)
    # The missed 4th does not count: the 6th and 12th taking place are maintenance-7 and -13.
    picked = anchors.selected(renewal.after, chain, chain_is="complete")
    assert [a.id for a in picked] == ["maintenance-7", "maintenance-13"]
    growing = [
        a.id
        for n in range(1, len(sessions) + 1)
        if anchors.due_after([renewal], (a := sessions[n - 1]), Chain(Course(TRD), sessions[:n]))
    ]
    assert growing == ["maintenance-7", "maintenance-13"]
    assert anchors.known_while_growing(renewal.after, TRD)


def test_every_needs_which_each() -> None:
    with pytest.raises(ValueError, match="every: needs which = 'each'"):
        Anchor.model_validate({"session": "esketamine-dose", "which": "first", "every": 6})


@pytest.mark.parametrize(("days", "lapsed"), [(27, False), (28, False), (29, True), (30, True)])
def test_a_lapse_is_more_than_after_days_between_sessions(days: int, lapsed: bool) -> None:
    """SUSTAIN-3 (esketamine-trd's rules.lapse, 28 days): counted between sessions."""
    rule = TRD.rules.lapse
    assert rule is not None
    assert rule.after_days == 28
    previous = Previous(MONDAY, None, "the last session")
    assert (lapse_at(rule, previous, MONDAY + dt.timedelta(days=days)) is not None) is lapsed


def test_a_review_between_the_sessions_answers_a_lapse() -> None:
    rule = Lapse(after_days=28, requires="review", session="evaluation")
    before = Previous(MONDAY - dt.timedelta(days=40), None, "the last session")
    dose = session(1, MONDAY)
    review = session(1, MONDAY, phase="lapse", kind="review", session_kind="evaluation")
    review = review.model_copy(update={"start": dose.start - dt.timedelta(hours=3)})
    (unreviewed,) = lapses(rule, [dose], before=before, reviews=[], now=None)
    assert (unreviewed.days, unreviewed.reviewed) == (40, False)
    (reviewed,) = lapses(rule, [dose], before=before, reviews=[review], now=None)
    assert reviewed.reviewed


def test_a_tier_applies_from_its_change_on() -> None:
    """A re-plan's tier change does not reach back: history keeps the tier it had."""
    maintenance = TRD.phase("maintenance")
    since = dt.datetime(2027, 3, 1, 12, tzinfo=NY)
    course = Course(
        TRD,
        {"maintenance": "every-2-weeks"},
        (
            TierChange(
                phase="maintenance",
                before="weekly",
                after="every-2-weeks",
                since=since,
                reason="MADRS 10",
            ),
        ),
    )
    assert course.tier(maintenance) == "every-2-weeks"
    assert course.tier(maintenance, since - dt.timedelta(days=1)) == "weekly"
    assert course.tier(maintenance, since + dt.timedelta(days=1)) == "every-2-weeks"
    assert course.in_force_since(maintenance, since + dt.timedelta(days=1)) == since
    assert course.in_force_since(maintenance, since - dt.timedelta(days=1)) is None


def test_a_month_is_28_to_31_days() -> None:
    """One conversion: the shortest month bounds spacing, the longest bounds a window."""
    assert gap_days(1, "months", bound="shortest") == 28
    assert gap_days(1, "months", bound="longest") == 31
    assert gap_days(3, "weeks", bound="shortest") == gap_days(3, "weeks", bound="longest") == 21


def our_iv_series() -> Protocol:
    """The worked example of docs/protocols.md: an intake phase, then infusions."""
    text = (Path(__file__).parent.parent / "docs" / "protocols.md").read_text()
    return loads_protocol(text.split("```toml\n")[1].split("```")[0])


def test_the_induction_is_the_first_phase_of_doses() -> None:
    """An intake or a preparation before it gives no dose (the lapse and re-induction rules)."""
    assert our_iv_series().induction.id == "induction"
    assert load_protocol("iv-ketamine-kap").induction.id == "dosing"
    assert MDSI.induction.id == "induction"


def test_a_re_induction_repeats_the_induction_not_the_intake() -> None:
    protocol = our_iv_series()
    first = Chain(Course(protocol))
    again = Chain(Course(protocol), id_prefix="course-2-")
    current, repeated = first.current(), again.current()
    assert current is not None
    assert repeated is not None
    assert (current.phase.id, repeated.phase.id) == ("intake", "induction")
    dose = session(1, MONDAY, phase="induction", session_kind="infusion")
    assert again.plus(dose).id_prefix == "course-2-"
