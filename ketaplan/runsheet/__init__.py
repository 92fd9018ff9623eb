"""The day's run sheet: what happens in each chair and room, and the monitoring staff's load.

:func:`run_sheet` reads plans (one per patient) and lays out one clinic day: per chair and
room, in time order, each patient's session with its steps (check-in, dosing, each checkpoint
at its exact time, monitoring and its end, discharge), and how many patients are under
monitoring at each moment against the clinic's staff and ratio. Patients appear by their id
only; :func:`run_week` does so for several days in a row. :mod:`ketaplan.runsheet.table` prints
it for a terminal and :mod:`ketaplan.runsheet.page` as a printable page.
"""

from ketaplan.runsheet.model import (
    Lane,
    RunSession,
    RunSheet,
    RunStep,
    RunWeek,
    StaffLoad,
    StepKind,
)
from ketaplan.runsheet.sheet import run_sheet, run_week

__all__ = [
    "Lane",
    "RunSession",
    "RunSheet",
    "RunStep",
    "RunWeek",
    "StaffLoad",
    "StepKind",
    "run_sheet",
    "run_week",
]
