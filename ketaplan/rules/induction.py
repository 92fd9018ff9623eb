"""An IV induction against the real-world definition of one: 4-8 infusions over 7-28 days.

McInnes et al. (J Affect Disord 2022; 9,016 patients at 178 US community practices) defined the
induction phase of IV ketamine therapy for depression as a series of 4 to 8 infusions given over
7 to 28 days. A series outside those bounds is not forbidden (KetECT gave up to 12 infusions), so
``check`` reports it as a warning for the clinician to confirm.

The IV induction of a protocol is its phase with the id ``induction`` when the protocol's route
is ``iv``; no other phase or route is judged (the five-day pain series and the KAP dosing
sessions are not inductions in McInnes's sense). Only sessions that take place count, and the
days are counted as a phase's ``within_days`` counts them: the first infusion's day is day 1.
"""

from __future__ import annotations

from ketaplan._text import fmt_day
from ketaplan.protocol import Phase, Protocol, Source
from ketaplan.rules.chain import Chain
from ketaplan.rules.finding import Finding

__all__ = [
    "DAYS",
    "INDUCTION_PHASE",
    "INFUSIONS",
    "MCINNES_2022",
    "induction_finding",
    "iv_induction",
]

#: The id of the phase that is a protocol's induction series.
INDUCTION_PHASE = "induction"

#: The fewest and most infusions of an induction (McInnes 2022).
INFUSIONS = (4, 8)

#: The fewest and most days an induction spans, first and last infusion included (McInnes 2022).
DAYS = (7, 28)

MCINNES_2022 = Source(
    id="mcinnes-2022",
    citation=(
        "McInnes LA et al., A retrospective analysis of ketamine intravenous therapy for "
        "depression in real-world care settings, J Affect Disord 2022 (9,016 patients, 178 US "
        "community practices): the induction phase is a series of 4-8 infusions administered "
        "over 7 to 28 days"
    ),
    url=(
        "https://blossomanalysis.com/papers/a-retrospective-analysis-of-ketamine-intravenous-"
        "therapy-for-depression-in-real-world-care-settings/"
    ),
    evidence="trial",
    note=(
        "A definition for analysis, not a rule of treatment: published series outside it exist "
        "(KetECT: up to 12 infusions thrice weekly), so a series outside it is a warning."
    ),
)
"""The source of the bounds, for the violation's ``source`` and ``evidence``."""


def iv_induction(protocol: Protocol) -> Phase | None:
    """The protocol's IV induction: its ``induction`` phase of doses, if its route is IV."""
    if protocol.route != "iv":
        return None
    for phase in protocol.phases:
        if phase.id == INDUCTION_PHASE and protocol.session_kind(phase.session).is_dosing:
            return phase
    return None


def induction_finding(protocol: Protocol, chain: Chain) -> Finding | None:
    """What is outside McInnes's bounds in the IV induction of ``chain``, if anything.

    ``chain`` is one course (a re-induction is judged on its own).
    """
    phase = iv_induction(protocol)
    if phase is None:
        return None
    infusions = [a for a in chain.in_phase(phase.id) if a.is_active]
    if not infusions:
        return None
    first, last = infusions[0].local_date, infusions[-1].local_date
    count, days = len(infusions), (last - first).days + 1
    if INFUSIONS[0] <= count <= INFUSIONS[1] and DAYS[0] <= days <= DAYS[1]:
        return None
    infusions_word = "infusion" if count == 1 else "infusions"
    days_word = "day" if days == 1 else "days"
    return Finding(
        "induction-out-of-range",
        (
            f"the {phase.id} has {count} {infusions_word} over {days} {days_word} "
            f"({fmt_day(first)} to "
            f"{fmt_day(last)}); McInnes 2022 defines an IV induction as {INFUSIONS[0]}-"
            f"{INFUSIONS[1]} infusions over {DAYS[0]}-{DAYS[1]} days"
        ),
        (
            f"IV induction: {INFUSIONS[0]}-{INFUSIONS[1]} infusions over {DAYS[0]}-{DAYS[1]} "
            "days (McInnes 2022)"
        ),
        source=MCINNES_2022.id,
        involves=tuple(a.id for a in infusions),
    )
