"""``python -m benchmarks.digest [--out FILE]``: a digest of what the engine produces.

A refactor must not change a plan it did not mean to change. This prints one line per case:
the case, then a short hash of the plan's JSON (or of the error's message), and what ``check``
says of the plan. Two runs on two versions of the code compare with ``diff``; every line that
differs is a behaviour change to explain.

The cases: every built-in protocol from each of 21 consecutive start dates (each weekday three
times, Christmas and New Year included), at the demo clinic with and without the demo patient,
and at the default clinic; then the clinic benchmark (patients planned one after another into
one ledger), and a few re-plans of each built-in (a dose attended, missed, missed with
worsening, and moved).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
from collections.abc import Callable, Iterator
from functools import partial

from ketaplan import Plan, builtin_protocols, load_protocol, plan
from ketaplan.checking import check
from ketaplan.defaults import demo_clinic, demo_patient
from ketaplan.errors import KetaplanError
from ketaplan.ledger import Ledger
from ketaplan.replanning import Attended, Event, Missed, Moved, replan

FIRST = dt.date(2026, 12, 14)
DAYS = 21
CLINIC_PATIENTS = 400
#: Every plan is made as of this moment, so the digest is the same on any day.
MADE = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _outcome(make: Callable[[], Plan]) -> tuple[str, Plan | None]:
    try:
        made = make()
    except KetaplanError as err:
        return f"error {type(err).__name__} {_hash(str(err))}", None
    # Fields added since a digest was taken are left out while they are empty, so a new field
    # alone does not count as a change.
    added = {"tier_changes"} if not getattr(made, "tier_changes", ()) else set()
    return f"plan {_hash(made.model_dump_json(exclude=added))}", made


def _checked(made: Plan | None, **options: object) -> str:
    if made is None:
        return ""
    found = check(made, **options)  # type: ignore[arg-type]
    return " check " + (",".join(sorted({v.code for v in found})) or "clean")


def matrix() -> Iterator[str]:
    """Each built-in from each start date, at the demo clinic (with and without a patient)."""
    clinic, patient = demo_clinic(), demo_patient()
    for protocol in builtin_protocols():
        for offset in range(DAYS):
            start = FIRST + dt.timedelta(days=offset)
            for label, who in (("demo", clinic), ("default", None)):
                # An anonymous plan's id is random unless given.
                anonymous = partial(plan, protocol, start=start, plan_id="digest", now=MADE)
                line, made = _outcome(partial(anonymous, clinic=who, preferred_time=dt.time(9)))
                options = {"clinic": who} if who is not None else {}
                yield f"matrix {protocol.id} {start} {label} {line}{_checked(made, **options)}"
            line, made = _outcome(
                partial(plan, protocol, start=start, clinic=clinic, patient=patient, now=MADE)
            )
            checked = _checked(made, clinic=clinic, patient=patient)
            yield f"matrix {protocol.id} {start} demo+patient {line}{checked}"
            if made is not None and offset % 7 == 0:
                yield from _replans(made, clinic=clinic, patient=patient)


def _replans(made: Plan, **where: object) -> Iterator[str]:
    doses = [a for a in made.appointments if a.is_dose]
    if len(doses) < 3:
        return
    second, third = doses[1], doses[2]
    later = second.start + dt.timedelta(days=1)
    scenarios: dict[str, tuple[dt.datetime, list[Event]]] = {
        "attended": (second.end, [Attended(appointment=second.id)]),
        "missed": (third.end, [Missed(appointment=third.id)]),
        "worse": (third.end, [Missed(appointment=third.id, worsening=True)]),
        "moved": (second.start - dt.timedelta(days=2), [Moved(appointment=second.id, to=later)]),
    }
    for name, (as_of, events) in scenarios.items():
        again = partial(replan, made, as_of=as_of + dt.timedelta(hours=1), events=events)
        line, after = _outcome(partial(again, **where))
        yield f"replan {made.protocol} {made.start} {name} {line}{_checked(after, **where)}"


def clinic() -> Iterator[str]:
    """The clinic benchmark's loop: patients over a year into one ledger."""
    from benchmarks.suite import CLINIC_MIX, START, big_clinic  # noqa: PLC0415 - this case only

    where = big_clinic()
    protocols = [load_protocol(protocol_id) for protocol_id in CLINIC_MIX]
    ledger = Ledger(where)
    for n in range(CLINIC_PATIENTS):
        protocol = protocols[n % len(protocols)]
        start = START + dt.timedelta(days=(n * 365) // CLINIC_PATIENTS)
        until = start + dt.timedelta(days=180)
        patient_plan = partial(plan, protocol, start=start, clinic=where, until=until, now=MADE)
        line, made = _outcome(partial(patient_plan, bookings=ledger, plan_id=f"clinic-{n}"))
        if made is not None:
            for booking in made.bookings():
                ledger.add(booking)
        yield f"clinic {n} {protocol.id} {start} {line}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.digest")
    parser.add_argument("--out", help="write here instead of standard output")
    args = parser.parse_args()
    lines = [*matrix(), *clinic()]
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:  # noqa: PTH123
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
