"""Patient reminders over generated clinics, patients, quiet hours and leads (issue 14).

Whatever the clinic's quiet hours (or none), its lead, its zone and the dates (half of them on
DST changes), every reminder in a patient's calendar fires before the deadline it announces
and outside the quiet hours, at the instant RFC 5545 gives its trigger.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, event, given
from hypothesis import strategies as st

from ketaplan import UnsatisfiableError, load_protocol
from ketaplan.clinic import Clinic
from ketaplan.hours import QuietHours
from ketaplan.patient import Patient
from ketaplan.protocol import Protocol
from ketaplan.strategies import clinics, patients, start_dates
from tests.helpers import plan
from tests.test_patient_calendar import check_reminders

#: Built-in protocols whose sessions carry timed instructions (fasting, spray, escort).
REMINDING = ["esketamine-trd", "iv-ketamine-standard", "iv-ketamine-kap", "sc-ketamine-anxiety",
             "im-ketamine-depression"]  # fmt: skip


def _quiet(start: int, length: int) -> QuietHours:
    """Quiet hours from ``start`` minutes after midnight, ``length`` minutes long."""
    end = (start + length) % (24 * 60)
    return QuietHours(start=dt.time(start // 60, start % 60), end=dt.time(end // 60, end % 60))


quiet_hours = st.builds(_quiet, st.integers(0, 24 * 60 - 1), st.integers(1, 24 * 60 - 1))


@given(
    protocol=st.sampled_from(REMINDING).map(load_protocol),
    clinic=clinics(),
    patient=st.one_of(st.none(), patients()),
    start=start_dates(),
    quiet=st.one_of(st.none(), quiet_hours),
    lead=st.integers(1, 24 * 60),
    preferred=st.sampled_from([dt.time(7), dt.time(9), dt.time(13), dt.time(17)]),
)
def test_reminders_come_before_their_deadlines_and_outside_quiet_hours(
    *,
    protocol: Protocol,
    clinic: Clinic,
    patient: Patient | None,
    start: dt.date,
    quiet: QuietHours | None,
    lead: int,
    preferred: dt.time,
) -> None:
    settings = clinic.model_copy(update={"quiet_hours": quiet, "reminder_lead_minutes": lead})
    try:
        made = plan(protocol, start=start, clinic=settings, patient=patient,
                    until=start + dt.timedelta(days=60), preferred_time=preferred)  # fmt: skip
    except UnsatisfiableError:
        event("unsatisfiable")
        assume(False)
        return
    if check_reminders(made):
        event("an alarm across a DST change")
