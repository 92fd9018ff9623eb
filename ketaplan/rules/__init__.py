"""The scheduling rules, each written once.

The planner, ``check``, ``replan`` and the task builder call these functions and nothing else
for a rule. Each module is one family; each returns :class:`Finding` s whose codes are the
codes ``check`` reports.

============  ===============================================================================
module        rules
============  ===============================================================================
``course``    the tier in force (and when it changed), lapse, washout, switch of product
``chain``     the sessions so far: what counts toward a phase, which phase is current
``windows``   the next session's window and target (gaps, per-week grids, treatment weeks)
``days``      which days break a dose rule (deadline, one a day, consecutive days, 7 days,
              per-week counts, the interval in hours)
``walk``      a finished chain judged session by session (for ``check``, and a re-plan's notes)
``anchors``   which sessions an anchor selects; an anchored session's offset window
``calendar``  opening hours, closures, availability, blackouts, prescriber, notice, horizon
``capacity``  what a session occupies and how much of each resource the clinic has
``tasks``     task ids, requirements not met
``decisions`` what a "consider" rule proposes, how a decided tier moves, provisional sessions
============  ===============================================================================

``induction`` judges an IV induction against McInnes 2022 (4-8 infusions over 7-28 days).

Nothing here searches, books or reads files: the engine (ledger, slot finder, planner) builds
on these, and these on the models.
"""

from ketaplan.rules.finding import Code, Finding, PlanningCode

__all__ = ["Code", "Finding", "PlanningCode"]
