"""ketaplan: plan ketamine and esketamine treatment series into real calendars.

ketaplan plans what a clinician decided. It does not give medical advice: every clinical number
it ships is a configurable default with its source and evidence level.

>>> import ketaplan
>>> protocol = ketaplan.load_protocol("esketamine-trd")
>>> protocol.dosing.describe(1), protocol.dosing.describe(2)
('56 mg', '56 mg or 84 mg')
"""

from ketaplan._version import __version__
from ketaplan.bookings import Booking
from ketaplan.checking import check
from ketaplan.clinic import Clinic
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
from ketaplan.violation import Violation

__all__ = [
    "Appointment",
    "Assessed",
    "Attended",
    "Booking",
    "CalendarFileError",
    "Cancelled",
    "Clinic",
    "ClinicError",
    "Decided",
    "DefinitionError",
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
    "Plan",
    "PlanError",
    "Problem",
    "Protocol",
    "ProtocolError",
    "Requested",
    "UnknownProtocolError",
    "UnsatisfiableError",
    "Violation",
    "__version__",
    "builtin_protocol_ids",
    "builtin_protocols",
    "check",
    "load_clinic",
    "load_patient",
    "load_protocol",
    "loads_clinic",
    "loads_patient",
    "loads_protocol",
    "plan",
    "replan",
    "to_ics",
]
