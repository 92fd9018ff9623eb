"""ketaplan: plan ketamine and esketamine treatment series into real calendars.

ketaplan plans what a clinician decided. It does not give medical advice: every clinical number
it ships is a configurable default with its source and evidence level.

>>> import ketaplan
>>> protocol = ketaplan.load_protocol("esketamine-trd")
>>> protocol.dosing.describe(1), protocol.dosing.describe(2)
('56 mg', '56 mg or 84 mg')
"""

from ketaplan.errors import (
    ClinicError,
    DefinitionError,
    KetaplanError,
    LimitError,
    PatientError,
    Problem,
    ProtocolError,
    UnknownProtocolError,
)
from ketaplan.loading import builtin_protocol_ids, builtin_protocols, load_protocol, loads_protocol
from ketaplan.protocol import Protocol

__version__ = "0.1.0"

__all__ = [
    "ClinicError",
    "DefinitionError",
    "KetaplanError",
    "LimitError",
    "PatientError",
    "Problem",
    "Protocol",
    "ProtocolError",
    "UnknownProtocolError",
    "__version__",
    "builtin_protocol_ids",
    "builtin_protocols",
    "load_protocol",
    "loads_protocol",
]
