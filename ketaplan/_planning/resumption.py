"""The course rules around a search: washout, switch and lapse.

Washouts and switches move the start; a lapse asks for a review before the first dose after it.

The rules themselves are :mod:`ketaplan.rules.course`; ``check`` applies the same functions to
a finished plan, so a plan made here checks clean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ketaplan._text import fmt_day, quantity
from ketaplan.decisions import BOOSTER, LAPSE_REVIEW
from ketaplan.errors import UnsatisfiableError
from ketaplan.plans import Appointment
from ketaplan.protocol import Lapse
from ketaplan.rules.chain import Chain, course_number
from ketaplan.rules.course import (
    LapseFound,
    Previous,
    lapse_at,
    lapse_note,
    lapses,
    other_product,
    previous_from_history,
    review_after,
    reviews_after,
    switch_clear_day,
    taken,
    washouts,
)
from ketaplan.rules.decisions import lapse_proposal, proposed_note
from ketaplan.rules.windows import Step

if TYPE_CHECKING:
    from ketaplan._planning.search import Search

__all__ = ["BOOSTER", "LAPSE", "Resumption"]

#: The ``phase`` and ``anchored`` of a lapse review.
LAPSE = "lapse"


class Resumption:
    """Washout, switch and lapse for one search."""

    def __init__(self, search: Search) -> None:
        self.search = search
        self.reviewed = False
        """Whether this search placed a lapse review."""
        self.mark: tuple[int, Chain, list[Appointment]] | None = None

    # -- washout and switch ----------------------------------------------------------------

    def before(self) -> None:
        """Move the first session after washouts and after a switch from the other product."""
        search = self.search
        patient = search.setting.patient
        if patient is None or any(
            a.is_dose and a.status == "attended" for a in search.continuity.fixed
        ):
            return  # treatment has begun: washouts and switches were before it
        start = search.setting.start
        pairs = [(m, r) for m in patient.medications for r in search.medications.matching(m)]
        for item in washouts(patient, pairs):
            name = item.medication.name
            if item.clear is None:
                raise UnsatisfiableError.for_session(
                    "the first session",
                    earliest=start,
                    latest=start,
                    blocked={
                        start: f"{name} must be stopped {quantity(item.days, 'day')} before "
                        "the first session and the patient's medication list gives no stop date"
                    },
                )
            assert item.medication.stop is not None  # noqa: S101 - clear comes from the stop
            why = f"{name} stopped {fmt_day(item.medication.stop)} needs a {item.days}-day washout"
            self._not_before(item.clear, why)
        switch = switch_clear_day(search.setting.clinic, patient, search.protocol)
        if switch is not None:
            last, clear, gap = switch
            self._not_before(
                clear,
                f"the last {other_product(search.protocol)} session was on {fmt_day(last)} and "
                f"the clinic asks {quantity(gap, 'day')} before switching",
            )

    def _not_before(self, day: dt.date, why: str) -> None:
        search = self.search
        if day > search.earliest_start:
            search.earliest_start = day
            search.notes.append(f"start moved to {fmt_day(day)}: {why}")

    # -- lapse -----------------------------------------------------------------------------

    def _rule(self) -> Lapse | None:
        return self.search.protocol.rules.lapse

    def _taken(self, doses: Sequence[Appointment]) -> list[Appointment]:
        """The doses known to take place as of the re-plan (``rules.course.taken``)."""
        return taken(doses, now=self.search.setting.now)

    def _previous(self) -> Previous | None:
        """What a lapse before the first new dose is measured from."""
        search = self.search
        kept = [a for a in search.continuity.fixed if a.anchored is None]
        doses = self._taken(Chain(search.chain.course, tuple(kept)).doses())
        if doses:
            last = doses[-1]
            return Previous(last.local_date, last.end, last.id)
        return previous_from_history(search.setting.patient, search.protocol)

    def review_if_lapsed(self) -> None:
        """Before the search: a review first when the start is already past a lapse."""
        search = self.search
        self.mark = search.mark()
        rule, previous = self._rule(), self._previous()
        if rule is None or previous is None:
            return
        held = taken(search.extras, now=search.setting.now)  # the rule status reads too
        days = lapse_at(rule, previous, search.setting.start)
        if days is not None and review_after(rule, previous, held) is None:
            self._review(rule, days, previous)
            return
        # A review already held or planned: its decision (re-induce, say) still applies, also
        # when the re-plan starts before the lapse it was placed for (the review is booked
        # ahead of a dose that would come after one). Any session of the review's kind is a
        # review; the decision is the lapse review's (an evaluation booked again may come
        # first, of the same kind).
        for review in reviews_after(rule, previous, held):
            proposal = search.continuity.proposals.get(review.id)
            if proposal is not None:
                if proposal.outcome == "re-induce":
                    self._new_course(review)
                return

    def _new_course(self, review: Appointment) -> None:
        """Re-induce after ``review``: a new course from the induction, unless one began."""
        search = self.search
        if not search.chain.sessions or search.chain.sessions[-1].start > review.start:
            return
        search.id_prefix = f"course-{course_number(search.id_prefix) + 1}-"
        search.extras += search.chain.sessions
        search.chain = Chain(search.chain.course, id_prefix=search.id_prefix)

    def _found(self, rule: Lapse) -> list[LapseFound]:
        search = self.search
        taking_place = [a for a in (*search.extras, *search.chain.sessions) if a.is_active]
        history = previous_from_history(search.setting.patient, search.protocol)
        # Every course's doses (a re-induction keeps the earlier course among the extras).
        every = sorted(
            (a for a in taking_place if a.is_dose and a.anchored is None), key=lambda a: a.start
        )
        now = search.setting.now
        return lapses(rule, every, before=history, reviews=taking_place, now=now)

    def review_after_search(self) -> bool:
        """After the search: whether the first new dose came after a lapse with no review.

        Then everything placed is undone and the review goes first; the caller searches again.
        """
        rule = self._rule()
        if rule is None or self.reviewed or self.mark is None:
            return False
        search = self.search
        fixed = {a.id for a in search.continuity.fixed}
        new = [d for d in search.chain.doses() if d.id not in fixed]
        if not new:
            return False
        found = next((f for f in self._found(rule) if f.dose is new[0]), None)
        if found is None or found.reviewed:
            return False
        search.reset(self.mark)
        search.on_conflict = "raise"
        search.evaluations = 0
        search.deepest = None
        self._review(rule, found.days, found.previous)
        return True

    def note_later_lapses(self) -> None:
        """A note for each dose that comes after a lapse with no review.

        After the first new dose (which gets its review), a lapse is one a shift or the
        history made: a dose given after one already (the past is not changed, but people
        should know), or a session placed after its window.
        """
        rule = self._rule()
        if rule is None:
            return
        search = self.search
        for found in self._found(rule):
            if not found.reviewed:
                note = f"{found.dose.id}: " + lapse_note(
                    rule, found.days, found.previous, search.protocol.drug
                )
                if note not in search.notes:
                    search.notes.append(note)

    def _review(self, rule: Lapse, days: int, previous: Previous) -> None:
        """Place the protocol's review before the next dose, and propose what follows it.

        The review decides to resume or re-induce (a new course from the first phase); until
        that decision is recorded the plan resumes the course as it stands, provisionally
        (:func:`~ketaplan.rules.decisions.lapse_proposal`).
        """
        search = self.search
        note = lapse_note(rule, days, previous, search.protocol.drug)
        search.notes.append(note)
        self.reviewed = True
        review = self._place_review(rule, f"review before resuming: {note}")
        proposal = search.continuity.proposals.get(review.id)
        if proposal is None:
            proposal = lapse_proposal(
                rule,
                review,
                in_induction=self._in_induction(previous),
                why=note,
                at=search.setting.now or review.start,
            )
            search.proposals.append(proposal)
            search.notes.append(proposed_note(proposal))
        if proposal.outcome == "re-induce":
            self._new_course(review)

    # -- a booster the patient asked for --------------------------------------------------

    def booster_if_requested(self) -> None:
        """Place the evaluation of the latest booster request, and bring the booster forward.

        The request is a proposal (``booster-N``) whose outcome is still ``booster``; once the
        booster was given, or the clinician decided ``continue``, nothing is brought forward.
        """
        search = self.search
        rule = search.protocol.boosters_on_request
        requests = [
            p for p in search.continuity.proposals.values()
            if p.requests_booster and p.outcome == BOOSTER
        ]  # fmt: skip
        if rule is None or not requests:
            return
        proposal = requests[-1]
        evaluation = next((a for a in search.extras if a.id == f"{proposal.id}-evaluation"), None)
        if evaluation is not None and any(
            a.on_request and a.status == "attended" and a.start > evaluation.start
            for a in search.chain.sessions
        ):
            return
        if evaluation is None:
            why = f"evaluation before a booster: {proposal.question}"
            tag = f"{proposal.id}-evaluation"
            evaluation = self._place_first(
                rule.evaluation, why, id=tag, tag=BOOSTER, within=rule.within_days
            )
        search.resume_after = max(search.resume_after or evaluation.end, evaluation.end)
        search.booster = (rule.phase, evaluation.local_date, rule.within_days)

    def _in_induction(self, previous: Previous) -> bool:
        """Whether the lapse came before the induction (doses that took place) was complete."""
        search = self.search
        first = search.protocol.induction
        every = (*search.chain.sessions, *search.extras)
        last = next((a for a in every if a.id == previous.label), None)
        if last is None or last.phase != first.id:
            return False
        held = sum(1 for a in every if a.phase == first.id and a.is_active and a.anchored is None)
        return first.count is None or held < first.count

    def _place_review(self, rule: Lapse, why: str) -> Appointment:
        search = self.search
        number = sum(1 for a in search.extras if a.anchored == LAPSE) + 1
        review = self._place_first(rule.session, why, id=f"{LAPSE_REVIEW}-{number}", tag=LAPSE)
        search.earliest_start = max(search.earliest_start, review.local_date)
        return review

    def _place_first(
        self, session: str, why: str, *, id: str, tag: str, within: int | None = None
    ) -> Appointment:
        """A session of kind ``session`` as soon as possible from the start.

        The next dose may not start before it ends; ``tag`` is its phase and anchor rule.
        """
        search = self.search
        protocol = search.protocol
        start, window = search.setting.start, within or search.setting.start_window_days
        step = Step(
            phase_index=0,
            phase=protocol.phases[0],
            kind=protocol.session_kind(session),
            index=1,
            dose_number=None,
            earliest=start,
            latest=start + dt.timedelta(days=window),
            target=start,
            rule=why,
            window_text=f"within {quantity(window, 'day')} of the plan start",
            previous=None,
        )
        for day in search.candidates(step):
            slot, _ = search.finder.best(step.kind, day)
            if slot is None:
                continue
            review = search.placer.for_step(step, slot, day, prefix="", rejected=None)
            review = search.placer.adopt(
                review.model_copy(update={"id": id, "phase": tag, "anchored": tag}), step.kind
            )
            search.placer.book(review)
            search.extras.append(review)
            search.resume_after = review.end
            return review
        raise UnsatisfiableError.for_session(
            "the lapse review", earliest=step.earliest, latest=step.latest, hint=why
        )
