"""The bounded search that places a chain, and the course rules around it.

For each next session the rules give a window and a target (:func:`~ketaplan.rules.windows.
next_step`); candidate days are tried nearest to the target first (ties go to the earlier
day), and a day is taken when its dose rules hold (:func:`~ketaplan.rules.days.day_findings`),
the slot finder has a slot, and every session anchored to it can be placed too. When a session
has no feasible day the search goes back to the previous session's other days (depth first),
within :data:`MAX_EVALUATIONS` candidate days, so a hopeless input ends in an explanation
instead of a hang. Each placement is booked in the ledger and undone when the search backs up.

Around the search: a washout or a switch of product moves the start; a lapse
(:mod:`ketaplan.rules.course`) puts the protocol's review before the first dose after it;
anchored sessions whose anchor is only known once the chain is complete are placed last.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ketaplan._planning.continuity import Continuity
from ketaplan._planning.dead_ends import DeadEnds, Where
from ketaplan._planning.placing import Dates, Placer, anchored_reason
from ketaplan._planning.resumption import Resumption
from ketaplan._text import fmt_day, quantity
from ketaplan._types import OnConflict
from ketaplan.clinic import Clinic
from ketaplan.decisions import Proposal
from ketaplan.errors import UnsatisfiableError
from ketaplan.instructions import Visits
from ketaplan.ledger import Ledger
from ketaplan.medications import medication_rules
from ketaplan.patient import Patient
from ketaplan.plans import Appointment
from ketaplan.protocol import AnchoredSession
from ketaplan.rules import anchors
from ketaplan.rules.chain import Chain, course_number, course_prefix, numbered
from ketaplan.rules.course import Course
from ketaplan.rules.days import DayContext, day_context, day_findings, kept_short_weeks
from ketaplan.rules.finding import Finding
from ketaplan.rules.walk import judge, plan_bounds
from ketaplan.rules.windows import Bounds, End, Step, next_step
from ketaplan.slots import SlotFinder

__all__ = ["MAX_EVALUATIONS", "SHIFT_DAYS", "Search", "Setting"]

#: The search gives up after trying this many candidate days.
MAX_EVALUATIONS = 20_000
#: How many of the days a first session could not take a postponement note names.
_CAUSES = 4
#: With ``on_conflict="shift"``, how many sessions may go past their windows, tried in turn: a
#: plan shifts no more sessions than it must (as far as each search's budget of days reaches).
SHIFT_BUDGETS: tuple[int | None, ...] = (1, 2, 4, None)
#: With ``on_conflict="shift"``, how many days past a window's end a session may go.
SHIFT_DAYS = 28


@dataclass(frozen=True)
class Setting:
    """Where and for whom a search plans: fixed for the whole search."""

    clinic: Clinic
    patient: Patient | None
    start: dt.date
    until: dt.date
    start_window_days: int
    preferred_time: dt.time | None
    now: dt.datetime | None
    patient_key: str


@dataclass
class _Frame:
    """One session of the search: its step, its candidate days, and where it stands."""

    step: Step
    candidates: list[dt.date]
    position: int = 0
    context: DayContext | None = None
    """The step's day-independent rules, made on the frame's first day."""
    added: list[Appointment] = field(default_factory=list)
    before: Chain | None = None
    """The chain before the frame's day added its session (restored when it is undone)."""
    booked: int = 0
    """How many bookings the frame's day added to the ledger."""
    rejected: dict[dt.date, str] = field(default_factory=dict)
    not_before: dt.datetime | None = None
    """No start before this (an anchored review that comes first, a lapse review)."""
    pinned: bool = False
    """Under the start policy ``earliest``, the plan's first session, and its first dose when
    sessions that are not doses (an intake) come before it: each keeps its first feasible
    day or an earlier one, and the search does not come back to try a later one."""
    pinned_day: dt.date | None = None
    """The first day a pinned frame took: coming back, it tries only earlier days (with every
    rule), then the search pauses."""


class _Paused(Exception):  # noqa: N818 - a signal inside the search, never raised out of it
    """The pinned first session had to move: the search stops there, to be resumed."""

    def __init__(self, frame: _Frame, error: UnsatisfiableError) -> None:
        super().__init__(str(error))
        self.frame = frame
        self.error = error


class Search:
    """Places one course's chain, with its anchored sessions, into a ledger.

    State: the chain so far (a :class:`~ketaplan.rules.chain.Chain`), the anchored and review
    sessions placed (``extras``), the ledger (bookings are added and undone with the chain),
    and the count of candidate days tried.
    """

    def __init__(
        self,
        course: Course,
        setting: Setting,
        *,
        ledger: Ledger,
        continuity: Continuity = Continuity(),  # noqa: B008 - frozen and empty
    ) -> None:
        protocol = course.protocol
        self.protocol = protocol
        self.setting = setting
        self.ledger = ledger
        self.continuity = continuity
        self.finder = SlotFinder(
            setting.clinic,
            setting.patient,
            ledger,
            policy=protocol.calendar,
            preferred_time=setting.preferred_time or continuity.series_time,
            now=setting.now,
            patient_key=setting.patient_key,
        )
        self.medications = medication_rules(protocol, setting.clinic)
        self.placer = Placer(
            protocol,
            ledger=ledger,
            patient=setting.patient,
            patient_key=setting.patient_key,
            medications=self.medications,
            zone_for={k.id: str(self.finder.zone_for(k)) for k in protocol.session_kinds},
            booked_at=setting.now,
        )
        # The chain goes on with the latest course kept; earlier ones are history beside it.
        fixed = continuity.fixed
        kept = [a for a in fixed if a.anchored is None]
        self.id_prefix = max((course_prefix(a.id) for a in kept), key=course_number, default="")
        ongoing = tuple(a for a in kept if course_prefix(a.id) == self.id_prefix)
        self.chain = numbered(Chain(course, ongoing, self.id_prefix), status="planned")
        chained = {a.id for a in ongoing}
        self.extras: list[Appointment] = [a for a in fixed if a.id not in chained]
        # As a person recorded them (cancelled, missed, moved): never placed with their anchor.
        self.recorded = {a.id for a in self.extras if a.anchored}
        self.notes: list[str] = []
        self.proposals: list[Proposal] = []  # the decisions it asks for (after a lapse)
        self.evaluations = 0
        self.on_conflict: OnConflict = "raise"
        self.pin_first = False
        self.shift_budget: int | None = None
        self.series_relaxed = False
        self.booster: tuple[str, dt.date, int] | None = None  # a booster asked for
        self.first: _Frame | None = None
        """The frame of the plan's first session, when this search placed it."""
        self.first_dose: _Frame | None = None
        """The first dose's frame, when sessions that are not doses come before it."""
        self.deepest: tuple[int, _Frame] | None = None
        self.earliest_start = setting.start
        self.resume_after: dt.datetime | None = None
        self._bounds: tuple[tuple[object, ...], Bounds] | None = None
        self.dead_ends = DeadEnds(course)
        """States the attempt found hopeless: a frame in one is rejected without its days."""

    # -- the plan's limits -----------------------------------------------------------------

    def bounds(self) -> Bounds:
        """The plan's limits as they stand (the start moves after a washout or a review)."""
        key = (self.earliest_start, self.id_prefix, self.series_relaxed, self.booster)
        if self._bounds is None or self._bounds[0] != key:
            self._bounds = (key, self._make_bounds())
        return self._bounds[1]

    def _make_bounds(self) -> Bounds:
        setting = self.setting
        now = setting.now
        limit = None
        if now is not None:
            today = now.astimezone(self.finder.zone).date()
            limit = today + dt.timedelta(days=setting.clinic.booking_horizon_days)
        return Bounds(
            start=setting.start,
            until=setting.until,
            earliest_start=self.earliest_start,
            start_window_days=setting.start_window_days,
            held_until=self.continuity.held_until,
            booking_limit=limit,
            booking_horizon_days=setting.clinic.booking_horizon_days,
            kept=self.continuity.days,
            aims=self.continuity.aims,
            id_prefix=self.id_prefix,
            series_relaxed=self.series_relaxed,
            booster=self.booster,
            declined=self.continuity.declined,
        )

    def next_step(self) -> Step | None:
        """The next session to place, or ``None`` (noting why, when a person should know)."""
        step = next_step(self.chain, self.bounds())
        if isinstance(step, End):
            if step.note is not None and step.note not in self.notes:
                self.notes.append(step.note)
            return None
        return step

    # -- the whole search ------------------------------------------------------------------

    def solve(self, *, on_conflict: OnConflict, stopped: bool = False) -> list[Appointment]:
        """Place the chain and everything anchored to it; the appointments in time order.

        ``stopped``: only the anchored sessions of what took place (a review after a dose).
        """
        # Made here, not kept: the search and what works on it hold no references to each
        # other, so a finished search is freed at once, not by the cycle collector.
        resumption = Resumption(self)
        for appointment in self.continuity.fixed:
            if appointment.is_active:
                self.placer.book_kept(appointment)
        if not stopped:
            resumption.before()
            resumption.review_if_lapsed()
            resumption.booster_if_requested()
            self._search_with(on_conflict)
            if resumption.review_after_search():
                self._search_with(on_conflict)
        resumption.note_later_lapses()
        self.notes.extend(n for n in _history_notes(self) if n not in self.notes)
        _place_missing_anchored(self)
        every = (*self.chain.sessions, *self.extras)
        visits = Visits(every)
        placed = [self.placer.done(a, visits) for a in every]
        return sorted(placed, key=lambda a: (a.start, a.id))

    def _search_with(self, on_conflict: OnConflict) -> None:
        """Search in the ways the start policy allows, each after the one before failed.

        ``earliest``: the first session's first feasible day (and the first dose's, after an
        intake), or an earlier one, with every rule; those days with deadlines and weekly
        minimums as targets; then later days (noted), resuming the first search where it
        paused. ``whole-series``: later first days at once. Shifting is last.
        """
        mark = self.mark()
        failures: list[tuple[int, UnsatisfiableError]] = []
        earliest = self.protocol.start == "earliest"
        outcome = self._attempt(failures, pin=earliest)
        if earliest and outcome is not True:
            # The series does not fit from the first session's first day (or, re-planning,
            # after the sessions kept): keep that day, the deadlines and minimums as targets.
            paused = (outcome, self.evaluations, self.deepest)
            self.reset(mark)
            if self._attempt(failures, pin=True, relax=True) is True:
                return
            if isinstance(paused[0], _Frame):  # then try later first days, from the pause
                self.reset(mark)
                _, self.evaluations, self.deepest = paused
                outcome = self._attempt(failures, resume=paused[0])
        if outcome is True:
            return
        if on_conflict == "shift":
            # Fewest sessions past their windows first: one, then a few, then any number.
            for budget in SHIFT_BUDGETS:
                self.reset(mark)
                if self._attempt(failures, shift=True, budget=budget) is True:
                    return
        # The attempt that placed the most sessions before failing says most.
        raise max(failures, key=lambda failure: failure[0])[1]

    def _attempt(
        self,
        failures: list[tuple[int, UnsatisfiableError]],
        *,
        pin: bool = False,
        relax: bool = False,
        shift: bool = False,
        budget: int | None = None,
        resume: _Frame | None = None,
    ) -> bool | _Frame:
        """One search: ``True`` when it placed everything, or the first frame it paused at.

        ``budget``: when shifting, how many sessions may go past their windows (None: any).
        """
        self.pin_first, self.series_relaxed = pin, relax
        self.on_conflict = "shift" if shift else "raise"
        self.shift_budget = budget
        if resume is None:
            self.evaluations, self.deepest, self.first, self.first_dose = 0, None, None, None
        self.dead_ends.clear()
        try:
            self._search(resume)
        except _Paused as paused:
            failures.append((self.deepest[0] if self.deepest else 0, paused.error))
            return paused.frame
        except UnsatisfiableError as error:
            failures.append((self.deepest[0] if self.deepest else 0, error))
            return False
        leads = (self.first, self.first_dose)
        self.notes += _start_notes(leads, self.chain if self.series_relaxed else None)
        return True

    def mark(self) -> tuple[int, Chain, list[Appointment]]:
        """Where the search stands, to go back to with :meth:`reset`."""
        return len(self.ledger.bookings), self.chain, list(self.extras)

    def reset(self, mark: tuple[int, Chain, list[Appointment]]) -> None:
        """Undo everything placed since ``mark``."""
        booked, chain, extras = mark
        while len(self.ledger.bookings) > booked:
            self.ledger.drop_last()
        self.chain, self.extras = chain, list(extras)

    def _search(self, resume: _Frame | None = None) -> None:
        """Depth first from the next step (or from ``resume``, a paused first frame)."""
        first = resume
        if first is None:
            step = self.next_step()
            if step is None:
                return
            first = _Frame(step, self.candidates(step))
            first.pinned = self.pin_first and not self.chain.sessions
        if not self.chain.sessions:
            self.first = first
        stack = [first]
        while stack:
            frame = stack[-1]
            if frame.added:  # coming back: this day led nowhere, undo it and try the next
                self._undo(frame, len(self.ledger.bookings) - frame.booked)
                frame.position += 1
            if not self._advance(frame):
                if self.deepest is None or len(stack) > self.deepest[0]:
                    self.deepest = (len(stack), frame)
                if frame.pinned_day is not None:  # it keeps that day or an earlier one
                    raise _Paused(_paused_head(stack), self._unsatisfiable())
                stack.pop()
                if not stack:
                    raise self._unsatisfiable()
                parent = stack[-1]
                why = _blocked_follower(frame)
                parent.rejected[parent.candidates[parent.position]] = why
                if not frame.pinned:
                    self.dead_ends.add(self._where(frame.step), why)
                continue
            following = self.next_step()
            if following is None:
                return
            lead = following.kind.is_dosing and self._lead_in_only(stack)
            if not lead and self._dead_end(frame, following):
                continue  # back to the frame's next day
            frame = _Frame(following, self.candidates(following))
            if lead:
                frame.pinned, self.first_dose = stack[0].pinned, frame
            stack.append(frame)

    def _dead_end(self, frame: _Frame, following: Step) -> bool:
        """Whether the rest failed from this very state before (the frame's day is rejected).

        The day is rejected for the reason the rest failed with the first time.
        """
        why = self.dead_ends.reason(self._where(following)) if self.dead_ends else None
        if why is None:
            return False
        frame.rejected[frame.candidates[frame.position]] = why
        return True

    def _where(self, step: Step) -> Where:
        """Where the search stands before placing ``step`` (its state: :class:`DeadEnds`)."""
        shifted = _shifted(self.chain) if self.on_conflict == "shift" else None
        return Where(step, self.chain, self.extras, self.on_conflict, shifted)

    def _lead_in_only(self, stack: list[_Frame]) -> bool:
        """Whether a new plan's sessions so far are all a lead-in (an intake) to its first dose."""
        new_plan = stack[0] is self.first
        return new_plan and not any(a.is_dose for a in self.chain.sessions)

    def _advance(self, frame: _Frame) -> bool:
        """Try the frame's days from its position on; whether one took the session."""
        while frame.position < len(frame.candidates):
            day = frame.candidates[frame.position]
            if frame.pinned_day is not None and day > frame.pinned_day:
                return False  # a pinned session tries no day after its first
            problem = self.try_day(frame, day)
            if problem is None:
                if frame.pinned and frame.pinned_day is None:
                    _pin(frame, day, earlier=not self.series_relaxed)
                return True
            frame.rejected[day] = problem
            frame.position += 1
        return False

    def candidates(self, step: Step) -> list[dt.date]:
        """The step's days, nearest the target first (and, when shifting, the days after)."""
        days = nearest_first(step.earliest, step.aim or step.target, step.latest)
        if self.on_conflict == "shift":
            days += [step.latest + dt.timedelta(days=n) for n in range(1, SHIFT_DAYS + 1)]
        return days

    def count_evaluation(self, step: Step, rejected: dict[dt.date, str]) -> None:
        """Count one candidate day; past the budget, give up with what was tried."""
        self.evaluations += 1
        if self.evaluations > MAX_EVALUATIONS:
            raise UnsatisfiableError.for_session(
                step.label,
                earliest=step.earliest,
                latest=step.latest,
                blocked=rejected,
                hint=f"the search stopped after trying {MAX_EVALUATIONS} candidate days",
            )

    def try_day(self, frame: _Frame, day: dt.date) -> str | None:
        """Place the step on ``day`` (with its anchored sessions); return why not, if not."""
        step = frame.step
        self.count_evaluation(step, frame.rejected)
        if day > step.latest and _shift_spent(self.chain, self.shift_budget):
            assert self.shift_budget is not None  # noqa: S101 - spent only with a budget
            spent = quantity(self.shift_budget, "session")
            return f"already {spent} past a window; no more are shifted"
        context = frame.context if frame.context is not None else _prepare(self, frame)
        found = day_findings(step, day, context, mode="plan", on_conflict=self.on_conflict)
        if found:
            return found[0].message
        earliest = context.earliest
        slot, problem = self.finder.best(
            step.kind,
            day,
            earliest=None if earliest is None else earliest.threshold,
            not_before=frame.not_before,
            preferred_time=self.continuity.times.get(f"{self.id_prefix}{step.id}"),
            booked=self.continuity.booked.get(f"{self.id_prefix}{step.id}"),
        )
        if slot is None:
            return problem
        # Shifting relaxes the deadline and the week's minimum: say so on the appointment.
        relaxed = (
            _newly_relaxed(self.chain, day_findings(step, day, context, mode="check"))
            if self.on_conflict == "shift" or step.series_relaxed
            else []
        )
        appointment = self.placer.for_step(
            step, slot, day, prefix=self.id_prefix, rejected=frame.rejected, relaxed=relaxed
        )
        mark = len(self.ledger.bookings)
        self.placer.book(appointment)
        frame.before, self.chain = self.chain, self.chain.plus(appointment)
        frame.added = [appointment]
        for rule in anchors.due_after(self.protocol.anchored, appointment, self.chain):
            if f"{rule.id}-{appointment.id}" in self.recorded:
                continue  # a person moved or cancelled it (or it was missed): it stays so
            placed = place_anchored(self, rule, appointment)
            if isinstance(placed, str):
                self._undo(frame, mark)
                return placed
            frame.added.append(placed)
        frame.booked = len(self.ledger.bookings) - mark
        return None

    def _undo(self, frame: _Frame, mark: int) -> None:
        while len(self.ledger.bookings) > mark:
            self.ledger.drop_last()
        added = frame.added
        last = self.chain.sessions[-1] if self.chain.sessions else None
        if added and frame.before is not None and last is added[0]:
            # The frame's session is the chain's last: back to the chain before it (the same
            # sessions, with what it had worked out).
            self.chain, added = frame.before, added[1:]
        for appointment in added:  # by identity: model equality compares every field
            if any(a is appointment for a in self.chain.sessions):
                self.chain = self.chain.without(appointment)
            else:
                self.extras = [a for a in self.extras if a is not appointment]
        frame.added = []
        frame.booked = 0

    def _unsatisfiable(self) -> UnsatisfiableError:
        assert self.deepest is not None  # noqa: S101 - set whenever a frame fails
        frame = self.deepest[1]
        step = frame.step
        return UnsatisfiableError.for_session(
            step.label,
            earliest=step.earliest,
            latest=step.latest,
            blocked=frame.rejected,
            hint=_hint(step),
        )


def place_anchored(
    search: Search,
    rule: AnchoredSession,
    anchor: Appointment,
    *,
    late: bool = False,
    again: Appointment | None = None,
    number: int = 1,
) -> Appointment | str:
    """Place ``rule``'s session after ``anchor``, or why not (``late``: after a miss).

    ``again``: the session it books again (missed), as the ``number``-th for this anchor.
    """
    kind = search.protocol.session_kind(rule.session)
    occurrence = 1 + sum(
        1 for a in search.extras if a.anchored == rule.id and a.anchor != anchor.id
    )
    window = anchors.offset_window(rule, anchor)
    passed = None
    if late and rule.required and window.latest < search.setting.start:
        # A milestone whose window passed (its anchor stands in for a missed last
        # session): as soon as possible, recorded as a shift.
        start, within = search.setting.start, search.setting.start_window_days
        passed, window = window, anchors.late_window(start, within_days=within)
    ident = f"{rule.id}-{anchor.id}" + (f"-{number}" if number > 1 else "")
    # A session a person moved keeps its day while its window allows (``Continuity.days``).
    kept = search.continuity.days.get(ident)
    first = kept if kept is not None and window.earliest <= kept <= window.latest else None
    days = nearest_first(window.earliest, first or window.target, window.latest)
    rejected: dict[dt.date, str] = {}
    preferred = search.continuity.times.get(ident)
    for day in days:
        search.evaluations += 1
        not_before = anchor.end if day == anchor.local_date else None
        slot, problem = search.finder.best(
            kind, day, not_before=not_before, preferred_time=preferred,
            booked=search.continuity.booked.get(ident),
        )  # fmt: skip
        if slot is None:
            rejected[day] = problem
            continue
        reason = anchored_reason(rule, anchor, day, window.target, rejected)
        dates = Dates(window.earliest, window.target, window.latest)
        placed = search.placer.anchored(
            rule, anchor, slot, dates, occurrence=occurrence, reason=reason, passed=passed,
            id=ident, again=again,
        )  # fmt: skip
        search.placer.book(placed)
        search.extras.append(placed)
        return placed
    first_reason = rejected.get(window.target, "no slot")
    return f"{kind.name.lower()} ({rule.offset.describe()} after) cannot be placed: {first_reason}"


def nearest_first(earliest: dt.date, target: dt.date, latest: dt.date) -> list[dt.date]:
    """The days from ``earliest`` to ``latest``, nearest ``target`` first (the earlier of two).

    >>> first, target, last = dt.date(2027, 1, 1), dt.date(2027, 1, 3), dt.date(2027, 1, 6)
    >>> [day.day for day in nearest_first(first, target, last)]
    [3, 2, 4, 1, 5, 6]
    """
    days = [target] if earliest <= target <= latest else []
    one = dt.timedelta(days=1)
    before, after = target - one, target + one
    while before >= earliest or after <= latest:
        if earliest <= before <= latest:
            days.append(before)
        if earliest <= after <= latest:
            days.append(after)
        before, after = before - one, after + one
    return days


def _place_missing_anchored(search: Search) -> None:
    """Anchored sessions the complete chain selects but nothing placed yet.

    A ``last`` without a finite phase is known only now; after a re-plan, an anchor kept
    from before may have lost its session (moved with it, say), or become the first that
    took place. Each course of treatment counts on its own; what cannot be placed any more
    (its days are past) is a note.
    """
    rules = search.protocol.anchored
    if not search.continuity.fixed and not search.id_prefix:
        # A first plan placed every other anchored session with its anchor.
        rules = tuple(r for r in rules if not anchors.known_while_growing(r.after, search.protocol))
    if not rules:
        return
    chains = Chain.courses(search.chain.course, [*search.chain.sessions, *search.extras])
    for rule, chain in ((r, c) for r in rules for c in chains):
        for anchor in anchors.selected(rule.after, chain, chain_is="complete"):
            few = anchors.attended_finding(rule, anchor, chain)
            if few is not None and few.message not in search.notes:
                search.notes.append(few.message)
            # One that exists stays as it is: planned, attended, or missed or cancelled as a
            # person reported it (placing it again would overwrite what they recorded). A
            # required one that did not take place is booked again beside it, as a missed dose
            # is made up: the protocol asks for it, and the record of the miss stays.
            existing = [a for a in search.extras if a.anchored == rule.id and a.anchor == anchor.id]
            again = _to_book_again(rule, existing)
            if (
                (existing and again is None)
                or not anchors.due_before(rule, anchor, search.continuity.stopped_on)
                or anchors.superseded(rule.after, anchor, chain, chains)
            ):
                search.notes += [_not_again(a) for a in existing if a.cancellation is not None]
                continue
            late = again is not None or anchors.stands_in(rule.after, anchor, chain)
            placed = place_anchored(
                search, rule, anchor, late=late, again=again, number=len(existing) + 1
            )
            if isinstance(placed, str):
                search.notes.append(f"{rule.id} after {anchor.id}: {placed}")
            elif again is not None:
                search.notes.append(
                    f"{again.id} was {again.status}: booked again as {placed.id} (the protocol "
                    "requires it)"
                )
            elif (late_for := anchors.before_next_finding(rule, placed, chain)) is not None:
                # The next session stays where it is (moved by request, say): say so.
                search.notes.append(late_for.message)


def _to_book_again(rule: AnchoredSession, existing: list[Appointment]) -> Appointment | None:
    """The last of a required milestone's sessions, when it was missed and none is to come.

    A no-show decides nothing: the milestone is booked again. One a person cancelled stays
    cancelled (their decision; ``check`` warns), and so does one cancelled with its anchor.
    """
    if not rule.required or not existing or any(a.is_active for a in existing):
        return None
    last = max(existing, key=lambda a: (a.start, a.id))
    return last if last.status == "missed" else None


def _not_again(appointment: Appointment) -> str:
    return f"{appointment.id} was cancelled and is not placed again (a person cancelled it)"


def _prepare(search: Search, frame: _Frame) -> DayContext:
    """What a frame's days share: the day rules' context and the earliest start on any day."""
    step = frame.step
    frame.context = day_context(
        step,
        search.chain,
        mode="plan",
        on_conflict=search.on_conflict,
        held_until=search.continuity.held_until,
    )
    waits = [anchors.next_not_before(search.protocol.anchored, step.previous, search.extras)]
    waits.append(search.resume_after if step.kind.is_dosing else None)
    frame.not_before = max((w for w in waits if w is not None), default=None)
    return frame.context


def _history_notes(search: Search) -> list[str]:
    """What the rules say of the sessions a re-plan keeps as they were.

    The past is not changed; but a session reported cancelled after later ones were held can
    leave them outside the windows the rules now give, and a week the kept sessions leave
    short is not the search's to fill. People should know both.
    """
    held, start = search.continuity.held_until, search.continuity.plan_start
    if held is None or start is None:
        return []
    notes = kept_short_weeks(search.chain, held)
    kept = {a.id for a in search.continuity.fixed}
    phases = {p.id for p in search.protocol.phases}
    bounds = plan_bounds(start, search.setting.until)
    evaluated = anchors.evaluated_boosters([*search.chain.sessions, *search.extras])
    for judged in judge(search.chain, bounds, phases=phases, evaluated=evaluated):
        if judged.appointment.id in kept:
            notes += [f"kept as it is: {f.message}" for f in judged.findings if f.is_error]
    return list(dict.fromkeys(notes))


def _newly_relaxed(chain: Chain, found: list[Finding]) -> list[Finding]:
    """The rules a session relaxes that no session before it in ``chain`` recorded.

    A week left short is recorded once, on the first session after it.
    """
    recorded = [a.shift.text for a in chain.sessions if a.shift is not None]
    return [f for f in found if not any(f.message in text for text in recorded)]


def _paused_head(stack: list[_Frame]) -> _Frame:
    """The first frame, to resume from once a pinned day had to move, with nothing pinned.

    When the first session itself had to move, it resumes from its next day. When the first
    dose had to move (after an intake), the intake resumes from its own day: the dose may then
    go later before the intake does, so the intake never comes later than the whole series
    needs. The caller resets the ledger and the chain to before the search, so the first
    frame is left as if its day had been undone.
    """
    head = stack[0]
    if head is not stack[-1]:
        head.added, head.booked = [], 0
    for frame in stack:
        frame.pinned, frame.pinned_day = False, None
    return head


def _pin(frame: _Frame, day: dt.date, *, earlier: bool) -> None:
    """Pin ``frame`` to ``day``; ``earlier``: its days still to try before ``day`` come first.

    Nearest the target first, a pinned session's first feasible day need not be its earliest:
    if what follows does not fit, an earlier day keeps the start policy (no later first day)
    and may let the rest fit (tried with every rule; the relaxed search keeps its day). The
    later days follow in their order, for a resumed search: :meth:`Search._advance` stops at
    the first of them.
    """
    frame.pinned_day = day
    rest = frame.candidates[frame.position + 1 :]
    before = [d for d in rest if d < day] if earlier else []
    frame.candidates[frame.position + 1 :] = before + [d for d in rest if d > day]


def _start_notes(leads: tuple[_Frame | None, ...], relaxed: Chain | None) -> list[str]:
    """A first session or dose later than the plan allows, with why; a relaxed series, with how.

    ``leads`` are the first session's frame and, after an intake, the first dose's.
    """
    notes = []
    for lead in leads:
        if lead is None or not lead.added:
            continue
        placed, target = lead.added[0], lead.step.target
        day = placed.local_date
        if day > target:
            causes = [f"{fmt_day(d)}: {why}" for d, why in sorted(lead.rejected.items())]
            shown = "; ".join(causes[:_CAUSES]) + ("; ..." if len(causes) > _CAUSES else "")
            # no day of its own refused it: the series did not fit from an earlier first day
            why = f" ({shown or 'the series does not fit from an earlier first day'})"
            notes.append(
                f"{placed.id} starts on {fmt_day(day)}, {quantity((day - target).days, 'day')} "
                f"after {fmt_day(target)}, the first day the plan allows{why}"
            )
    shifted = [a for a in relaxed.sessions if a.shift and a.is_active] if relaxed else []
    if shifted:
        notes.append(
            "the series does not fit its deadlines and weekly counts from the first feasible "
            "day; start policy 'earliest' keeps that day: "
            + "; ".join(f"{a.id}: {a.shift.text}" for a in shifted if a.shift)
        )
    return notes


class _Blocked(str):
    """Why a day was given up: the sessions after it had no feasible day.

    The text names the next session and, when a later one was the cause (each session's day
    given up because the one after it had none), that session, its day and why it could not
    go there: the cause, not every step between.
    """

    __slots__ = ("cause",)
    cause: tuple[str, dt.date, str]
    """The session that had no day, the day it needed and why that day was refused."""

    def __new__(cls, follower: str, cause: tuple[str, dt.date, str]) -> _Blocked:
        session, day, why = cause
        if session == follower:
            text = f"{follower} would have no feasible day after it ({fmt_day(day)}: {why})"
        else:
            text = (
                f"{follower} would have no feasible day after it (the sessions after it would "
                f"reach {session} on {fmt_day(day)}: {why})"
            )
        made = super().__new__(cls, text)
        made.cause = cause
        return made


def _blocked_follower(frame: _Frame) -> str:
    """Why a day was given up because the next session had nowhere to go after it."""
    step = frame.step
    follower = f"{step.phase.id}-{step.index}"
    why = frame.rejected.get(step.target)
    if why is None and frame.rejected:
        why = max(frame.rejected.values(), key=list(frame.rejected.values()).count)
    if not why:
        return f"{follower} would have no feasible day after it"
    cause = why.cause if isinstance(why, _Blocked) else (follower, step.target, why)
    return _Blocked(follower, cause)


def _shift_spent(chain: Chain, budget: int | None) -> bool:
    """Whether ``chain`` has as many sessions past their windows as a search allows."""
    return budget is not None and _shifted(chain) >= budget


def _shifted(chain: Chain) -> int:
    """How many of ``chain``'s sessions lie past their windows."""
    return sum(1 for a in chain.sessions if a.latest and a.local_date > a.latest)


def _hint(step: Step) -> str:
    """The rule a session could not meet, and what to do when a deadline closed its window."""
    hint = f"rule: {step.rule}"
    if step.hard_latest is not None and step.latest >= step.hard_latest:
        hint += (
            f"\n  the window closes on the phase's deadline, {fmt_day(step.hard_latest)}: "
            "to place the rest past it, plan again with on_conflict='shift' (--on-conflict "
            "shift), and check reports the missed deadline; or record a clinician's decision "
            "(re-induce, or stop)"
        )
    return hint
