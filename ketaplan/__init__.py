"""ketaplan: plan ketamine and esketamine treatment series into real calendars.

ketaplan plans what a clinician decided. It does not give medical advice: every clinical number
it ships is a configurable default with its source and evidence level.

>>> import ketaplan
>>> protocol = ketaplan.load_protocol("esketamine-trd")
>>> protocol.dosing.describe(1), protocol.dosing.describe(2)
('56 mg', '56 mg or 84 mg')
"""

from ketaplan._resolve import plan_bookings
from ketaplan._version import __version__
from ketaplan.alternatives import alternatives
from ketaplan.bookings import Booking
from ketaplan.capacity import CapacityReport, capacity_report
from ketaplan.checking import check
from ketaplan.clinic import CapacityChange, Clinic
from ketaplan.disruption import DisruptionReport, replan_disruption
from ketaplan.errors import (
    CalendarFileError,
    ClinicError,
    DefinitionError,
    InputError,
    KetaplanError,
    LimitError,
    LocalTimeError,
    MissingExtraError,
    PatientError,
    PlanError,
    Problem,
    ProtocolError,
    UnknownProtocolError,
    UnsatisfiableError,
)
from ketaplan.ics import to_ics
from ketaplan.intake import first_available
from ketaplan.ledger import Ledger
from ketaplan.loading import (
    builtin_protocol_ids,
    builtin_protocols,
    load_clinic,
    load_patient,
    load_protocol,
    loads_clinic,
    loads_patient,
    loads_protocol,
)
from ketaplan.patient import Patient
from ketaplan.pictures import timeline_html, timeline_svg
from ketaplan.placement import Placement, PlacementRequest, plan_many
from ketaplan.planner import plan
from ketaplan.plans import Appointment, Plan
from ketaplan.protocol import Protocol
from ketaplan.replanning import (
    Assessed,
    Attended,
    Cancelled,
    Decided,
    Event,
    Missed,
    Moved,
    Requested,
    replan,
)
from ketaplan.runsheet import RunSheet, RunWeek, run_sheet, run_week
from ketaplan.runsheet.page import runsheet_html
from ketaplan.runsheet.table import runsheet_table
from ketaplan.standing import PatientStatus, clinic_status, status
from ketaplan.violation import Violation
from ketaplan.whatif import WhatIf, whatif

__all__ = [
    "Appointment",
    "Assessed",
    "Attended",
    "Booking",
    "CalendarFileError",
    "Cancelled",
    "CapacityChange",
    "CapacityReport",
    "Clinic",
    "ClinicError",
    "Decided",
    "DefinitionError",
    "DisruptionReport",
    "Event",
    "InputError",
    "KetaplanError",
    "Ledger",
    "LimitError",
    "LocalTimeError",
    "Missed",
    "MissingExtraError",
    "Moved",
    "Patient",
    "PatientError",
    "PatientStatus",
    "Placement",
    "PlacementRequest",
    "Plan",
    "PlanError",
    "Problem",
    "Protocol",
    "ProtocolError",
    "Requested",
    "RunSheet",
    "RunWeek",
    "UnknownProtocolError",
    "UnsatisfiableError",
    "Violation",
    "WhatIf",
    "__version__",
    "alternatives",
    "builtin_protocol_ids",
    "builtin_protocols",
    "capacity_report",
    "check",
    "clinic_status",
    "first_available",
    "load_clinic",
    "load_patient",
    "load_protocol",
    "loads_clinic",
    "loads_patient",
    "loads_protocol",
    "plan",
    "plan_bookings",
    "plan_many",
    "replan",
    "replan_disruption",
    "run_sheet",
    "run_week",
    "runsheet_html",
    "runsheet_table",
    "status",
    "timeline_html",
    "timeline_svg",
    "to_ics",
    "whatif",
]
