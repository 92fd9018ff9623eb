"""Where a patient stands as of a moment: :func:`status`, and :func:`clinic_status` for many.

Immunization forecasters answer this for vaccines (HL7 ImmDS ``$immds-forecast``: a forecast
status, the earliest, due and latest dates of the next dose, and whether each past dose was
valid). ketaplan answers it for a treatment series: which sessions were attended, missed,
cancelled or are not recorded yet, whether each past dose counted, the next session with its
window, and one status.

A session still ``planned`` after its start is *not recorded*: nobody said whether it took
place. It is never silently fine: it is the next session until someone records it (with
``replan``), so the patient is at least *due*, and a lapse is measured from the last dose
recorded attended, as the re-planner measures it.

The one status is the first of these that applies (most urgent first; :data:`URGENCY`):

====================  ===========================================================================
status                when
====================  ===========================================================================
``lapsed``            the protocol has a lapse rule (``rules.lapse``), the series is not over, the
                      last dose recorded attended was more than ``after_days`` days ago, and no
                      session of the rule's review kind is held or planned after it
``overdue``           the next session's window ended before today (``latest`` has passed)
``awaiting-decision`` a clinician decision the plan asked for is open and due today or earlier
``due``               the next session's window is open (``earliest`` has come), or a session is
                      not recorded
``on-track``          the next session's window opens after today
``complete``          nothing comes next: the series is over or the course was stopped, and
                      every session is recorded
====================  ===========================================================================

The windows are the rules' own: the next session's dates are the ones the planner gave it
(``Appointment.earliest``, ``target``, ``latest``, worked out by
:func:`~ketaplan.rules.windows.next_step` or an anchored rule's offset when it was last planned
or re-planned); when nothing is booked although the series goes on, :func:`~ketaplan.rules.
windows.next_step` works out the next session from what was recorded. A past dose counted when
``check``'s judgement (:func:`~ketaplan.rules.walk.judge`, and the lapse rule) finds no error
in it: inside its window, after enough time, with its review.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal, NamedTuple

from pydantic import Field

from ketaplan._model import AnyDay, AnyMoment, Model, Ref, Text, aware, expect, expect_each
from ketaplan._resolve import by_id, plan_clinic, plan_protocol
from ketaplan._text import fmt_day, fmt_time, quantity
from ketaplan._types import CancellationNotice
from ketaplan.clinic import Clinic
from ketaplan.decisions import Proposal, declined_phases
from ketaplan.errors import InputError
from ketaplan.plans import Appointment, Plan
from ketaplan.protocol import Protocol
from ketaplan.rules import anchors
from ketaplan.rules.chain import Chain, live
from ketaplan.rules.course import (
    Course,
    lapse_at,
    lapse_finding,
    lapses,
    previous_dose,
    reviewed_after,
    taken,
)
from ketaplan.rules.finding import Finding
from ketaplan.rules.walk import judge, plan_bounds
from ketaplan.rules.windows import DEFAULT_START_WINDOW_DAYS, Bounds, End, Step, next_step
from ketaplan.timing import zone

__all__ = [
    "URGENCY",
    "LapseStanding",
    "NextSession",
    "Outcome",
    "PatientStatus",
    "SessionStanding",
    "StatusCode",
    "clinic_status",
    "status",
    "status_table",
]

StatusCode = Literal["lapsed", "overdue", "awaiting-decision", "due", "on-track", "complete"]
"""Where a patient stands; see the module's table for when each applies."""

#: The statuses, most urgent first: the first that applies is the patient's status, and a
#: clinic list is sorted in this order.
URGENCY: tuple[StatusCode, ...] = (
    "lapsed",
    "overdue",
    "awaiting-decision",
    "due",
    "on-track",
    "complete",
)

Outcome = Literal["attended", "missed", "cancelled", "unrecorded"]
"""What became of a session: ``missed`` is a no-show (the patient did not come, without
notice); ``unrecorded``, still ``planned`` after its start."""


class SessionStanding(Model):
    """A session that began before the moment of the status (or was recorded), and its outcome."""

    appointment: Ref
    session: Ref
    """The protocol's session kind."""
    phase: Ref
    start: AnyMoment
    outcome: Outcome
    cancellation: CancellationNotice | None = None
    """For a cancelled session, whether the cancellation came in time or late."""
    counted: bool | None = None
    """For a dose: whether it counts toward the series (attended, and no rule broken: inside
    its window, after enough time, with its review after a lapse). ``None`` for a session that
    is not a dose."""
    why: tuple[Text, ...] = ()
    """For a dose: why it did not count, or what a rule warns of although it did."""


class NextSession(Model):
    """The session that comes next, with its window."""

    appointment: Ref | None
    """Its id; ``None`` when the series goes on but no session is booked (re-plan to book it)."""
    session: Ref
    phase: Ref
    start: AnyMoment | None
    """When it is booked (``None`` when it is not)."""
    earliest: AnyDay
    target: AnyDay
    latest: AnyDay
    rule: Text
    """The rule that set the window, in words."""
    inside: bool | None
    """Whether it is booked inside its window (``None`` when not booked)."""
    provisional: bool = False
    """It takes place only if a decision still open goes that way."""


class LapseStanding(Model):
    """The time since the last dose, against the protocol's lapse rule."""

    last_dose: Ref
    """The last dose recorded attended."""
    on: AnyDay
    days: Annotated[int, Field(ge=0)]
    """Days from it to today (local dates)."""
    after_days: int
    """The protocol's ``rules.lapse.after_days``."""
    requires: Text
    """What a lapse requires first: ``review`` or ``re-induction``."""
    review: Ref
    """The session kind of the review."""
    lapsed: bool
    """Whether a dose today would come after a lapse."""
    reviewed: bool
    """Whether a review is held or planned after the last dose."""


class PatientStatus(Model):
    """Where one plan's patient stands as of a moment."""

    plan: Ref
    patient: Ref | None
    protocol: Ref
    as_of: AnyMoment
    status: StatusCode
    why: Text
    """The status in a sentence, with the dates behind it."""
    phase: Ref | None
    """The phase the series is in: the next session's (or, when complete, the last one's)."""
    next: NextSession | None
    days_late: Annotated[int, Field(ge=0)] = 0
    """Days since the next session's window ended (0 unless it has)."""
    attended: int = 0
    missed: int = 0
    """Sessions missed: no-shows."""
    cancelled: int = 0
    """Sessions cancelled (in time or late; not those a re-plan no longer needed)."""
    late_cancellations: int = 0
    """Of :attr:`cancelled`, those cancelled later than the clinic's cancellation window."""
    unrecorded: tuple[Ref, ...] = ()
    """Sessions still planned after their start: nobody recorded whether they took place."""
    lapse: LapseStanding | None = None
    """Days since the last dose against the lapse rule (protocols with one, once dosing began)."""
    decisions: tuple[Proposal, ...] = ()
    """Clinician decisions the plan asked for that are still open (due or not yet)."""
    sessions: tuple[SessionStanding, ...] = ()
    """Every session that began before ``as_of`` or was recorded, in time order."""

    @property
    def urgency(self) -> tuple[int, int, dt.datetime, str]:
        """The sort key of a clinic list: status, then the longest late, then the soonest."""
        when = self.next.start if self.next is not None and self.next.start else None
        far = dt.datetime.max.replace(tzinfo=dt.UTC)
        return (URGENCY.index(self.status), -self.days_late, when or far, self.patient or self.plan)


def status(
    plan: Plan,
    /,
    *,
    as_of: dt.datetime,
    protocol: Protocol | None = None,
    clinic: Clinic | None = None,
) -> PatientStatus:
    """Where the patient of ``plan`` stands as of ``as_of``.

    Args:
        plan: the plan, as re-planned with what happened (``replan``).
        as_of: the moment of the status (aware); sessions that began before it are the past.
        protocol: its protocol (default: the built-in the plan names).
        clinic: its clinic (checked to be the plan's); its booking horizon bounds a next
            session that is not booked yet.

    >>> import datetime as dt
    >>> from ketaplan import load_protocol, plan
    >>> from ketaplan.defaults import demo_clinic
    >>> made = plan(load_protocol("iv-ketamine-mwf"), start=dt.date(2027, 3, 1),
    ...             clinic=demo_clinic(), now=dt.datetime(2027, 2, 22, 9, tzinfo=dt.UTC))
    >>> standing = status(made, as_of=dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC))
    >>> standing.status, standing.unrecorded  # nothing recorded: the intake is still due
    ('due', ('intake-1', 'induction-1'))
    >>> status(made, as_of=dt.datetime(2027, 4, 26, 12, tzinfo=dt.UTC)).status
    'overdue'
    """
    as_of = aware("as_of", as_of)
    expect("protocol", protocol, (Protocol, type(None)), "a Protocol or None")
    expect("clinic", clinic, (Clinic, type(None)), "a Clinic or None")
    plan, protocol = plan_protocol(plan, protocol, None, patient_is="optional")
    clinic = plan_clinic(plan, clinic, clinic_is="optional")
    reading = _Reading.of(plan, protocol, clinic, as_of)
    sessions = _sessions(reading)
    coming, phase, note = _next(reading)
    lapse = _lapse(reading)
    open_decisions = tuple(p for p in plan.proposals if p.decision is None and not p.automatic)
    verdict = _verdict(
        reading, coming, sessions=sessions, lapse=lapse, open_decisions=open_decisions, note=note
    )
    return PatientStatus(
        plan=plan.id,
        patient=plan.patient,
        protocol=plan.protocol,
        as_of=as_of,
        status=verdict.status,
        why=verdict.why,
        phase=phase,
        next=coming,
        days_late=verdict.days_late,
        attended=sum(1 for s in sessions if s.outcome == "attended"),
        missed=sum(1 for s in sessions if s.outcome == "missed"),
        cancelled=sum(1 for s in sessions if s.outcome == "cancelled"),
        late_cancellations=sum(1 for s in sessions if s.cancellation == "late"),
        unrecorded=tuple(s.appointment for s in sessions if s.outcome == "unrecorded"),
        lapse=lapse,
        decisions=open_decisions,
        sessions=tuple(sessions),
    )


def clinic_status(
    plans: Iterable[Plan],
    /,
    *,
    as_of: dt.datetime,
    protocols: Iterable[Protocol] = (),
    clinic: Clinic | None = None,
) -> list[PatientStatus]:
    """The status of each plan, most urgent first (:data:`URGENCY`, then the longest late).

    ``protocols``: the protocols of plans that do not use a built-in, found by id.
    """
    if isinstance(plans, Plan) or not isinstance(plans, Iterable):
        raise InputError("plans", "a list of Plan", plans)
    aware("as_of", as_of)
    expect("clinic", clinic, (Clinic, type(None)), "a Clinic or None")
    given = expect_each("protocols", protocols, Protocol, "a Protocol")
    known = by_id("protocols", given, lambda protocol: protocol.id, each="protocol", copies=True)
    items = list(plans)
    for index, plan in enumerate(items):
        expect(f"plans[{index}]", plan, Plan, "a Plan")
    by_id("plans", items, lambda plan: plan.id, each="plan")  # one plan twice: counted twice
    found = [
        status(plan, as_of=as_of, protocol=known.get(plan.protocol), clinic=clinic)
        for plan in items
    ]
    return sorted(found, key=lambda s: s.urgency)


# -- reading a plan ------------------------------------------------------------------------------


class _Reading(NamedTuple):
    """A plan as the status reads it: its sessions (not those a re-plan dropped), by start."""

    plan: Plan
    protocol: Protocol
    clinic: Clinic | None
    as_of: dt.datetime
    today: dt.date
    course: Course
    live: list[Appointment]

    @classmethod
    def of(
        cls, plan: Plan, protocol: Protocol, clinic: Clinic | None, as_of: dt.datetime
    ) -> _Reading:
        kept = sorted(live(plan.appointments), key=lambda a: (a.start, a.id))
        today = as_of.astimezone(zone(plan.time_zone)).date()
        course = Course(protocol, plan.tiers, plan.tier_changes)
        return cls(plan, protocol, clinic, as_of, today, course, kept)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(zone(self.plan.time_zone))


def _findings(reading: _Reading) -> dict[str, list[Finding]]:
    """What ``check``'s dose rules find in each session: the walk, then lapses without review."""
    plan, protocol = reading.plan, reading.protocol
    bounds = plan_bounds(plan.start, plan.until)
    phases = {p.id for p in protocol.phases}
    evaluated = anchors.evaluated_boosters(plan.appointments)
    found: dict[str, list[Finding]] = {}
    for chain in Chain.courses(reading.course, reading.live):
        for judged in judge(chain, bounds, phases=phases, evaluated=evaluated):
            found.setdefault(judged.appointment.id, []).extend(judged.findings)
    rule = protocol.rules.lapse
    if rule is not None:
        active = [a for a in plan.appointments if a.is_active]
        doses = Chain.of(reading.course, reading.live).doses()
        for lapse in lapses(rule, doses, before=None, reviews=active, now=reading.as_of):
            if not lapse.reviewed:
                found.setdefault(lapse.dose.id, []).append(lapse_finding(rule, lapse))
    return found


_NOT_COUNTED: dict[Outcome, str] = {
    "missed": "missed: the patient did not come",
    "cancelled": "cancelled",
    "unrecorded": "not recorded: nobody said whether it took place",
}


def _sessions(reading: _Reading) -> list[SessionStanding]:
    """Each session that began before the moment (or was recorded), and whether it counted."""
    findings = _findings(reading)
    found = []
    for appointment in reading.live:
        if appointment.status == "planned" and appointment.start >= reading.as_of:
            continue
        outcome: Outcome = "unrecorded" if appointment.status == "planned" else appointment.status
        counted: bool | None = None
        why: tuple[str, ...] = ()
        if appointment.is_dose and outcome == "attended":
            broken = findings.get(appointment.id, [])
            counted = not any(f.is_error for f in broken)
            why = tuple(f.message for f in broken)
        elif appointment.is_dose:
            counted, why = False, (_NOT_COUNTED[outcome],)
        found.append(
            SessionStanding(
                appointment=appointment.id,
                session=appointment.session,
                phase=appointment.phase,
                start=appointment.start,
                outcome=outcome,
                cancellation=appointment.cancellation,
                counted=counted,
                why=why,
            )
        )
    return found


# -- what comes next -----------------------------------------------------------------------------


def _next(reading: _Reading) -> tuple[NextSession | None, str | None, str | None]:
    """The next session, the phase the series is in, and why nothing comes next (if so)."""
    chains = Chain.courses(reading.course, reading.live)
    chain = chains[-1] if chains else Chain(reading.course)
    last_phase = chain.sessions[-1].phase if chain.sessions else None
    planned = [a for a in reading.live if a.status == "planned"]
    if planned:  # a stopped course may still have its milestone (the evaluation after it)
        first = planned[0]
        in_chain = next((a for a in planned if a.anchored is None), first)
        return _booked(reading, chains, first), in_chain.phase, None
    if reading.plan.stopped_on is not None:
        return None, last_phase, f"the course was stopped on {fmt_day(reading.plan.stopped_on)}"
    step = _rules_step(reading, chain, at=reading.as_of)
    if isinstance(step, End):
        return None, last_phase, step.note
    window = _Window(step.earliest, step.target, step.latest, step.rule)
    return _coming(window, session=step.kind.id, phase=step.phase.id), step.phase.id, None


class _Window(NamedTuple):
    earliest: dt.date
    target: dt.date
    latest: dt.date
    rule: str


def _booked(reading: _Reading, chains: Sequence[Chain], appointment: Appointment) -> NextSession:
    """A booked session with its window (:func:`_window`)."""
    window = _window(reading, chains, appointment)
    return _coming(window, session=appointment.session, phase=appointment.phase, booked=appointment)


def _coming(
    window: _Window, *, session: str, phase: str, booked: Appointment | None = None
) -> NextSession:
    """The next session in ``window``, and where it is ``booked`` (if it is)."""
    inside = None
    if booked is not None:
        inside = window.earliest <= booked.local_date <= window.latest
    return NextSession(
        appointment=booked.id if booked else None,
        session=session,
        phase=phase,
        start=booked.start if booked else None,
        earliest=window.earliest,
        target=window.target,
        latest=window.latest,
        rule=window.rule,
        inside=inside,
        provisional=booked.provisional if booked else False,
    )


def _window(reading: _Reading, chains: Sequence[Chain], appointment: Appointment) -> _Window:
    """Where the rules put ``appointment`` after what was recorded before it.

    A chain session after another: :func:`~ketaplan.rules.windows.next_step` after the sessions
    before it. A protocol's anchored session: its offset after its anchor. Otherwise (the
    plan's first session, which washouts and the patient's history place; a lapse review or a
    booster's evaluation; a booster brought forward) the window the planner gave it.
    """
    if appointment.anchored is None and not appointment.on_request:
        for chain in chains:
            if appointment in chain.sessions:
                before = chain.prefix(chain.sessions.index(appointment))
                step = _rules_step(reading, before, at=appointment.start)
                after_one = before.last_active() is not None
                if after_one and isinstance(step, Step) and step.phase.id == appointment.phase:
                    return _Window(step.earliest, step.target, step.latest, step.rule)
    rule = next((r for r in reading.protocol.anchored if r.id == appointment.anchored), None)
    anchor = next((a for a in reading.live if a.id == appointment.anchor), None)
    if rule is not None and anchor is not None:
        offset = anchors.offset_window(rule, anchor)
        words = f"{rule.offset.describe()} after {anchor.id}"
        return _Window(offset.earliest, offset.target, offset.latest, words)
    day = appointment.local_date
    return _Window(
        appointment.earliest or day,
        appointment.target or day,
        appointment.latest or day,
        appointment.rule,
    )


def _rules_step(reading: _Reading, chain: Chain, *, at: dt.datetime) -> Step | End:
    """:func:`~ketaplan.rules.windows.next_step` after ``chain``, within the re-planner's bounds.

    After the last session recorded, within the default start window, up to the plan's horizon
    and, with the clinic, its booking horizon.
    """
    plan, clinic = reading.plan, reading.clinic
    held = max((a.local_date for a in chain.sessions if a.status != "planned"), default=None)
    horizon = clinic.booking_horizon_days if clinic is not None else 0
    bounds = Bounds(
        start=plan.start,
        until=plan.until,
        earliest_start=plan.start,
        start_window_days=DEFAULT_START_WINDOW_DAYS,
        held_until=held,
        booking_limit=reading.today + dt.timedelta(days=horizon) if clinic else None,
        booking_horizon_days=horizon,
        declined=declined_phases(plan.proposals),
        id_prefix=chain.id_prefix,
    )
    return next_step(chain, bounds, at=at)


def _lapse(reading: _Reading) -> LapseStanding | None:
    """Days since the last dose recorded attended, against the protocol's lapse rule.

    ``None`` without a lapse rule, or before a dose was recorded attended.
    """
    rule = reading.protocol.rules.lapse
    if rule is None:
        return None
    doses = Chain.of(reading.course, reading.live).doses()
    previous = previous_dose(doses, now=reading.as_of)
    if previous is None:
        return None
    # A review before the next dose to come; a past review counts once recorded attended, as
    # a past dose does.
    coming = next((d for d in doses if d.start >= reading.as_of), None)
    before = coming.start if coming is not None else None
    reviews = taken(reading.live, now=reading.as_of)
    return LapseStanding(
        last_dose=previous.label,
        on=previous.day,
        days=max(0, (reading.today - previous.day).days),
        after_days=rule.after_days,
        requires=rule.requires,
        review=rule.session,
        lapsed=lapse_at(rule, previous, reading.today) is not None,
        reviewed=reviewed_after(rule, previous, reviews, before=before),
    )


# -- the verdict ---------------------------------------------------------------------------------


class _Verdict(NamedTuple):
    status: StatusCode
    why: str
    days_late: int = 0


def _verdict(
    reading: _Reading,
    coming: NextSession | None,
    *,
    sessions: Sequence[SessionStanding],
    lapse: LapseStanding | None,
    open_decisions: Sequence[Proposal],
    note: str | None,
) -> _Verdict:
    """The first status of :data:`URGENCY` that applies, and why."""
    today = reading.today
    unrecorded = [s for s in sessions if s.outcome == "unrecorded"]
    late = max(0, (today - coming.latest).days) if coming is not None else 0
    if lapse is not None and coming is not None and lapse.lapsed and not lapse.reviewed:
        why = (
            f"{quantity(lapse.days, 'day')} since the last dose ({lapse.last_dose} on "
            f"{fmt_day(lapse.on)}), "
            f"more than the protocol's {lapse.after_days} (rules.lapse): a {lapse.requires} "
            f"({lapse.review}) comes first; record what happened and re-plan to place it"
        )
        return _Verdict("lapsed", why + _unrecorded_note(unrecorded), late)
    if coming is not None and late > 0:
        return _Verdict(
            "overdue", _next_words(reading, coming) + _unrecorded_note(unrecorded), late
        )
    due = [p for p in open_decisions if p.due <= today]
    if due:
        first = due[0]
        why = f"decision {first.id} was due {fmt_day(first.due)}: {first.question}"
        return _Verdict("awaiting-decision", why + _unrecorded_note(unrecorded))
    if coming is not None and (coming.earliest <= today or unrecorded):
        return _Verdict("due", _next_words(reading, coming) + _unrecorded_note(unrecorded))
    if coming is None and unrecorded:
        return _Verdict("due", _unrecorded_note(unrecorded).removeprefix("; "))
    if coming is not None:
        return _Verdict("on-track", _next_words(reading, coming))
    return _Verdict("complete", note or "every session is recorded and the series is complete")


def _next_words(reading: _Reading, coming: NextSession) -> str:
    """The next session and its window, in a sentence."""
    today = reading.today
    if coming.appointment is None:
        what = f"the next {coming.session} ({coming.phase}) is not booked"
    elif coming.start is not None and coming.start < reading.as_of:
        what = f"{coming.appointment} ({fmt_time(reading.local(coming.start))}) is not recorded"
    else:
        assert coming.start is not None  # noqa: S101 - a booked session has a start
        what = f"{coming.appointment} is booked {fmt_time(reading.local(coming.start))}"
        if coming.inside is False:
            what += ", outside its window"
    latest = fmt_day(coming.latest)
    if coming.latest < today:
        days = (today - coming.latest).days
        return f"{what}; its window ended {latest}, {quantity(days, 'day')} ago"
    if coming.earliest <= today:
        return f"{what}; its window is open until {latest}"
    return f"{what}; its window opens {fmt_day(coming.earliest)} and ends {latest}"


#: How many sessions not recorded a sentence names.
_NAMED = 3


def _unrecorded_note(unrecorded: Sequence[SessionStanding]) -> str:
    if not unrecorded:
        return ""
    names = ", ".join(s.appointment for s in unrecorded[:_NAMED])
    more = f" and {len(unrecorded) - _NAMED} more" if len(unrecorded) > _NAMED else ""
    number = len(unrecorded)
    return f"; {quantity(number, 'session')} not recorded ({names}{more})"


# -- a table for people --------------------------------------------------------------------------

_WIDTH = 80
_NARROWEST = 8


def status_table(statuses: Sequence[PatientStatus], /) -> str:
    """Statuses as a table for a terminal, 80 columns wide, in the order given.

    One line per patient (status, patient, phase, next session, its window), then why, and
    what was recorded.
    """
    statuses = expect_each(
        "statuses", statuses, PatientStatus, "a PatientStatus (status gives one)"
    )
    if not statuses:
        return "no plans"
    first = statuses[0]
    heading = f"As of {first.as_of.isoformat(timespec='minutes')}: {_tally(statuses)}"
    rows = [("STATUS", "PATIENT", "PHASE", "NEXT", "WINDOW")]
    rows += [_row(s) for s in statuses]
    widths = _fit([max(len(row[i]) for row in rows) for i in range(5)], _WIDTH)
    lines = [heading, ""]
    for number, row in enumerate(rows):
        cells = [_cut(cell, width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)))
        lines[-1] = lines[-1].rstrip()
        if number:
            lines += _details(statuses[number - 1])
    return "\n".join(lines)


def _tally(statuses: Sequence[PatientStatus]) -> str:
    counts = {code: sum(1 for s in statuses if s.status == code) for code in URGENCY}
    parts = [f"{n} {code}" for code, n in counts.items() if n]
    return f"{quantity(len(statuses), 'plan')} ({', '.join(parts)})"


def _row(standing: PatientStatus) -> tuple[str, str, str, str, str]:
    coming = standing.next
    if coming is None:
        return (standing.status, standing.patient or standing.plan, standing.phase or "", "-", "")
    window = f"{coming.earliest:%d %b}-{coming.latest:%d %b}"
    name = coming.appointment or f"({coming.session}, not booked)"
    return (standing.status, standing.patient or standing.plan, standing.phase or "", name, window)


def _details(standing: PatientStatus) -> list[str]:
    recorded = (
        f"attended {standing.attended}, missed {standing.missed}, cancelled "
        f"{standing.cancelled} ({standing.late_cancellations} late), not recorded "
        f"{len(standing.unrecorded)}"
    )
    lines = textwrap.wrap(standing.why, _WIDTH, initial_indent="    ", subsequent_indent="    ")
    lines += textwrap.wrap(recorded, _WIDTH, initial_indent="    ", subsequent_indent="    ")
    if standing.lapse is not None and standing.status != "lapsed":
        lapse = standing.lapse
        lines.append(
            f"    {quantity(lapse.days, 'day')} since the last dose "
            f"(lapse after {lapse.after_days})"
        )
    not_counted = [
        s.appointment for s in standing.sessions if s.outcome == "attended" and s.counted is False
    ]
    if not_counted:
        text = "attended but not counted: " + ", ".join(not_counted)
        lines += textwrap.wrap(text, _WIDTH, initial_indent="    ", subsequent_indent="    ")
    return lines


def _fit(widths: list[int], limit: int) -> list[int]:
    """Column widths narrowed, widest first, until a row with two spaces between fits."""
    widths = list(widths)
    while sum(widths) + 2 * (len(widths) - 1) > limit and max(widths) > _NARROWEST:
        widths[widths.index(max(widths))] -= 1
    return widths


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
