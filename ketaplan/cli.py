"""The ``ketaplan`` command.

Exit codes everywhere: 0 ok, 1 problems found (``check``, ``verify``, a ``runsheet`` over the
monitoring ratio), 2 usage or input error.
A user error never prints a traceback: it prints what is wrong, on stderr, and exits 2.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar, cast
from zoneinfo import ZoneInfo

from ketaplan._files import is_dir, is_file
from ketaplan._resolve import new_plan_clinic, plan_bookings, plan_protocol
from ketaplan._text import quantity
from ketaplan._version import __version__
from ketaplan.alternatives import alternatives
from ketaplan.bookings import Booking
from ketaplan.capacity import capacity_report, capacity_table, check_later_days, place_all
from ketaplan.checking import check
from ketaplan.clinic import CapacityChange, Clinic
from ketaplan.defaults import (
    VERIFY_CLOSURE_DAYS,
    VERIFY_FROM,
    default_clinic,
    demo_clinic,
    demo_patient,
)
from ketaplan.disruption import DisruptionReport, replan_disruption
from ketaplan.errors import DefinitionError, InputError, KetaplanError, LocalTimeError
from ketaplan.ics import to_ics
from ketaplan.ics.reading import load_busy
from ketaplan.ics.text import for_terminal
from ketaplan.intake import first_available
from ketaplan.loading import (
    KIND_WORDS,
    MAX_PLAN_FILE_BYTES,
    DefinitionKind,
    builtin_protocol_ids,
    builtin_protocols,
    dump_plan,
    file_kind,
    load_clinic,
    load_definition,
    load_patient,
    load_plan,
    load_plan_or_bookings,
    load_protocol,
    read_definition,
    read_json_list,
    recognise,
    validate,
)
from ketaplan.medications import MedicationRules, medication_rules, medicine_names
from ketaplan.patient import Patient
from ketaplan.pictures import timeline_html, timeline_svg
from ketaplan.placement import Placement, plan_many
from ketaplan.planner import DEFAULT_HORIZON_DAYS, plan
from ketaplan.plans import Plan
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
    parse_events,
    replan,
)
from ketaplan.roster import Roster, load_roster, place, requests, roster_clinic
from ketaplan.runsheet import RunSheet, RunWeek, run_sheet, run_week
from ketaplan.runsheet.page import runsheet_html
from ketaplan.runsheet.table import runsheet_table
from ketaplan.standing import clinic_status, status_table
from ketaplan.summary import describe_protocol, plan_table, violation_table, written_summary
from ketaplan.timing import resolve, zone
from ketaplan.violation import Violation
from ketaplan.whatif import dask_executor, whatif, whatif_table

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

SAFETY = (
    "ketaplan plans what a clinician decided; it gives no medical advice. Every clinical number "
    "is a configurable default with its source."
)


class _Once(argparse._StoreAction):
    """An option that takes one value: given twice, it is an error, not the last one winning.

    The options given are kept in the namespace's ``given_options`` (for defaults that depend
    on whether an option was given, such as the format an output file's name implies).
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        given: set[str] = namespace.__dict__.setdefault("given_options", set())
        if option_string is not None and self.dest in given:
            before = getattr(namespace, self.dest)
            parser.error(f"{option_string}: given twice ({before}, then {values}); give it once")
        given.add(self.dest)
        super().__call__(parser, namespace, values, option_string)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit 2 with one clear line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _Once)
        self.register("action", "store", _Once)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ketaplan",
        description="Plan ketamine and esketamine treatment series. " + SAFETY,
    )
    parser.add_argument("--version", action="version", version=f"ketaplan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    listing = commands.add_parser("protocols", help="list the built-in protocols")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(run=_protocols)

    show = commands.add_parser("show", help="summarise a protocol")
    show.add_argument("protocol", metavar="ID|FILE", help="a built-in id or a .toml/.json file")
    show.add_argument(
        "--clinic", metavar="FILE", help="list the medication rules in force at this clinic"
    )
    show.set_defaults(run=_show)

    check_files = commands.add_parser(
        "validate",
        help="validate protocol, clinic, patient, plan, roster, events or bookings files",
    )
    check_files.add_argument("files", nargs="+", metavar="FILE")
    check_files.add_argument(
        "--kind",
        choices=("protocol", "clinic", "patient"),
        help="what the files are (default: detected from their fields)",
    )
    check_files.set_defaults(run=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of a definition")
    schema.add_argument("kind", choices=("protocol", "clinic", "patient"))
    schema.set_defaults(run=_schema)

    _add_plan(commands)
    _add_replan(commands)
    _add_check(commands)
    _add_alternatives(commands)
    _add_roster(commands)
    _add_runsheet(commands)
    _add_status(commands)
    _add_export(commands)
    _add_export_protocol(commands)
    _add_verify(commands)
    return parser


def _add_verify(commands: Any) -> None:
    search = commands.add_parser(
        "verify", help="search for a case in which a protocol fails (needs ketaplan[hypothesis])"
    )
    search.add_argument("protocol", metavar="ID|FILE", help="a built-in id or a .toml/.json file")
    search.add_argument("--clinic", metavar="FILE|demo", help="default: the demo clinic")
    search.add_argument(
        "--patient", metavar="FILE|demo", help="keep this patient (default: search availability)"
    )
    search.add_argument("--max-examples", type=_count, default=200, metavar="N")
    search.add_argument("--seed", type=_count, default=0, metavar="N")
    search.add_argument("--max-seconds", type=float, default=60.0, metavar="S")
    search.add_argument(
        "--max-closure-days", type=_count, default=VERIFY_CLOSURE_DAYS, metavar="N",
        help="longest extra closure to try; 0 tries none (default %(default)s)",
    )  # fmt: skip
    search.add_argument(
        "--from", dest="first_start", type=_date, default=VERIFY_FROM, metavar="DATE",
        help="earliest start date; starts span the two years after it (default %(default)s)",
    )  # fmt: skip
    search.add_argument("--format", choices=("text", "json"), default="text")
    search.set_defaults(run=_verify)


def _add_plan(commands: Any) -> None:
    planning = commands.add_parser("plan", help="plan a protocol into a calendar")
    planning.add_argument("protocol", metavar="ID|FILE", help="a built-in id or a .toml/.json file")
    planning.add_argument(
        "--start", required=True, type=_date, help="first possible date, YYYY-MM-DD"
    )
    planning.add_argument("--time", type=_clock, help="preferred local time of day, HH:MM")
    planning.add_argument(
        "--plan-id",
        help="the plan's identity (default: from the patient; random without --patient)",
    )
    planning.add_argument("--tz", help="IANA zone of the default clinic (without --clinic)")
    planning.add_argument("--until", type=_date, help="horizon for open-ended phases, YYYY-MM-DD")
    planning.add_argument("--clinic", metavar="FILE|demo", help="clinic file, or 'demo'")
    planning.add_argument("--patient", metavar="FILE|demo", help="patient file, or 'demo'")
    planning.add_argument(
        "--tier",
        action="append",
        default=[],
        metavar="PHASE=TIER",
        help="use another tier for a phase, e.g. maintenance=weekly (repeatable)",
    )
    planning.add_argument("--on-conflict", choices=("raise", "shift"), default="raise")
    _add_output(planning, ("table", "json", "ics", "fhir", "html", "svg"))
    _add_picture_options(planning)
    _add_busy(planning)
    _add_bookings(planning)
    _add_calendar_options(planning)
    _add_intake_options(planning)
    _add_fhir_options(planning)
    planning.set_defaults(run=_plan)


def _add_intake_options(planning: argparse.ArgumentParser) -> None:
    planning.add_argument(
        "--first-available",
        action="store_true",
        help="the earliest start from --start at which the whole series fits (intake)",
    )
    planning.add_argument(
        "--options",
        type=int,
        default=1,
        metavar="N",
        help="with --first-available, offer the N earliest distinct first days",
    )


def _add_busy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--busy",
        action="append",
        default=[],
        metavar="FILE.ics|FILE.json",
        help="busy times from an iCalendar file or a FHIR Bundle (repeatable)",
    )
    parser.add_argument(
        "--busy-as",
        choices=("chair", "room", "monitoring-staff", "patient"),
        help="with --busy: what each busy time occupies, a clinic resource or the patient "
        "(default: chair)",
    )


def _add_bookings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bookings",
        action="extend",
        nargs="+",
        default=[],
        metavar="PLAN.json",
        help="the clinic's other patients' plans (or JSON lists of bookings) to plan and check "
        "around (repeatable)",
    )


def _add_runsheet(commands: Any) -> None:
    sheet = commands.add_parser(
        "runsheet", help="the day's run sheet: each chair and room, and the monitoring load"
    )
    sheet.add_argument("plan_files", nargs="+", metavar="PLAN.json", help="one plan per patient")
    when = sheet.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", type=_date, help="the clinic's day, YYYY-MM-DD")
    when.add_argument("--week", type=_date, help="seven days from this one, YYYY-MM-DD")
    sheet.add_argument(
        "--days",
        type=_count,
        metavar="N",
        help="this many days from --date or --week (default: 1 with --date, 7 with --week)",
    )
    sheet.add_argument("--clinic", metavar="FILE|demo", help="default: the plans', if built in")
    sheet.add_argument(
        "--protocol",
        action="append",
        default=[],
        metavar="FILE",
        help="a protocol the plans use that is not built in (repeatable)",
    )
    _add_output(sheet, ("table", "html", "json"))
    sheet.set_defaults(run=_runsheet)


def _add_calendar_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--audience",
        choices=("patient", "clinic"),
        help="with --format ics or fhir (default: patient)",
    )
    parser.add_argument("--detail", choices=("minimal", "full"), help="default: by audience")
    parser.add_argument("--method", choices=("PUBLISH", "REQUEST", "CANCEL"))
    parser.add_argument("--organizer", metavar="EMAIL", help="the clinic's e-mail (iTIP)")
    parser.add_argument("--attendee", metavar="EMAIL", help="the patient's e-mail (iTIP)")
    parser.add_argument(
        "--now",
        dest="stamp",
        metavar="TIME",
        help="the moment of planning (plan) and the calendar's DTSTAMP: YYYY-MM-DDTHH:MM, with "
        "a UTC offset or in the clinic's zone (default: the current time, or KETAPLAN_NOW)",
    )
    parser.add_argument(
        "--appointment",
        action="append",
        metavar="ID",
        help="only this appointment (repeatable)",
    )


def _add_export(commands: Any) -> None:
    exporting = commands.add_parser(
        "export", help="write a plan as an iCalendar file, a FHIR Bundle or a timeline picture"
    )
    exporting.add_argument("plan_file", metavar="PLAN.json")
    exporting.add_argument("--protocol", metavar="ID|FILE",
                           help="the plan's protocol, when it is not built in")  # fmt: skip
    _add_output(exporting, ("ics", "fhir", "html", "svg"))
    _add_picture_options(exporting)
    _add_calendar_options(exporting)
    _add_fhir_options(exporting)
    exporting.set_defaults(run=_export)


def _add_replan(commands: Any) -> None:
    again = commands.add_parser("replan", help="update a plan after what happened")
    again.add_argument("plan_file", metavar="PLAN.json")
    again.add_argument(
        "--as-of",
        required=True,
        help="now: YYYY-MM-DDTHH:MM, with a UTC offset or in the plan's zone",
    )
    again.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="EVENT",
        help=(
            "attended:ID[=DOSE][@TIME], missed:ID[:worsening], cancelled:ID[@TIME made], "
            "moved:ID@TIME, assessed:SCALE=SCORE[@DATE], correct:EVENT (replaces a recorded "
            "outcome), "
            "decided:PROPOSAL=DECISION[@TIME][#NOTE] or decided:stop[#NOTE], "
            "requested:booster[#NOTE] (repeatable)"
        ),
    )
    again.add_argument("--events", metavar="FILE.json", help="a JSON list of events")
    again.add_argument("--protocol", metavar="ID|FILE", help="default: the plan's protocol")
    again.add_argument("--clinic", metavar="FILE|demo", help="default: the plan's, if built in")
    again.add_argument("--patient", metavar="FILE|demo", help="default: the plan's, if built in")
    again.add_argument("--until", type=_date, help="a new horizon, YYYY-MM-DD")
    again.add_argument("--on-conflict", choices=("raise", "shift"), default="raise")
    again.add_argument(
        "--force",
        action="store_true",
        help="record moves that break a rule (without it, such a re-plan is refused, exit 1)",
    )
    _add_bookings(again)
    _add_output(again, ("table", "json"))
    again.set_defaults(run=_replan)


def _add_check(commands: Any) -> None:
    checking = commands.add_parser("check", help="list every rule a plan breaks")
    checking.add_argument("plan_file", metavar="PLAN.json")
    _add_plan_context(checking)
    checking.add_argument(
        "--now", help="now, for notice, horizon, requirements and what is recorded as happened"
    )
    _add_busy(checking)
    checking.add_argument("--format", choices=("table", "json"), default="table")
    checking.set_defaults(run=_check)


def _add_plan_context(parser: argparse.ArgumentParser) -> None:
    """What a plan file was made for: its protocol, clinic, patient and the other bookings."""
    parser.add_argument("--protocol", metavar="ID|FILE", help="default: the plan's protocol")
    parser.add_argument("--clinic", metavar="FILE|demo", help="default: the plan's, if built in")
    parser.add_argument("--patient", metavar="FILE|demo", help="default: the plan's, if built in")
    _add_bookings(parser)


def _add_alternatives(commands: Any) -> None:
    other = commands.add_parser(
        "alternatives", help="other slots for one session, and what each would move"
    )
    other.add_argument("plan_file", metavar="PLAN.json")
    other.add_argument("appointment", metavar="ID", help="the session to move")
    other.add_argument("--as-of", help="now: YYYY-MM-DDTHH:MM (default: the current time)")
    _add_plan_context(other)
    other.add_argument("--limit", type=_count, default=5, metavar="N", help="offer N (default 5)")
    other.add_argument("--format", choices=("table", "json"), default="table")
    other.set_defaults(run=_alternatives)


def _alternatives(args: argparse.Namespace, out: TextIO) -> int:
    current = _load_plan(args.plan_file)
    local = zone(current.time_zone)
    protocol = _plan_protocol(current, args.protocol)
    offers = alternatives(
        current,
        args.appointment,
        as_of=_moment("--as-of", args.as_of, local, protocol) if args.as_of else None,
        protocol=protocol,
        clinic=_load_clinic(args.clinic) if args.clinic else _builtin_clinic(current),
        patient=_load_patient(args.patient) if args.patient else _builtin_patient(current),
        bookings=_other_bookings(args.bookings, current.clinic, [protocol]),
        limit=args.limit,
    )
    if args.format == "json":
        rows = [offer.model_dump(mode="json") | {"leaves_window": offer.leaves_window}
                for offer in offers]  # fmt: skip
        return _emit(json.dumps(rows, indent=2), None, out)
    if not offers:
        return _emit(f"no other slot for {args.appointment} keeps the rules", None, out)
    lines = []
    for number, offer in enumerate(offers, start=1):
        start, end = offer.start.astimezone(local), offer.end.astimezone(local)
        shown = [
            f"{c.appointment} to {c.after.astimezone(local):%a %d %b %H:%M}"
            + (" (outside its window)" if c.outside_window else "")
            for c in offer.changes
        ]
        more = len(shown) - 3
        moved = ", ".join(shown[:3]) + (
            f" and {quantity(more, 'later session')}" if more > 0 else ""
        )
        lines.append(f"{number}. {start:%a %d %b %Y %H:%M}-{end:%H:%M}: "
                     + (f"also moves {moved}" if moved else "moves nothing else"))  # fmt: skip
    return _emit("\n".join(lines), None, out)


def _add_roster(commands: Any) -> None:
    clinic = commands.add_parser("clinic", help="many patients: plan a roster into one clinic")
    verbs = clinic.add_subparsers(dest="clinic_command", metavar="COMMAND", required=True)
    roster = verbs.add_parser(
        "plan", help="plan every patient of a roster (as many as fit, or in order)"
    )
    roster.add_argument("roster", metavar="ROSTER.toml")
    roster.add_argument("-o", "--output", metavar="DIR", required=True,
                        help="where to write each plan and the clinic calendar")  # fmt: skip
    roster.add_argument("--now", help="the moment of planning (default: the current time)")
    _add_placement_options(roster)
    roster.set_defaults(run=_roster)
    _add_capacity(verbs)
    _add_disrupt(verbs)
    waiting = commands.add_parser("waitlist", help="which waiting patients can start now")
    waiting.add_argument("waitlist", metavar="WAITLIST.toml", help="a roster of waiting patients")
    waiting.add_argument("plans", metavar="PLAN.json", nargs="*", help="the plans already made")
    waiting.add_argument("--now", help="the moment of planning (default: the current time)")
    waiting.add_argument("--protocol", action="append", default=[], metavar="FILE",
                         help="a protocol the plans use that is neither built in nor the "
                         "roster's (repeatable)")  # fmt: skip
    waiting.add_argument("--format", choices=("table", "json"), default="table")
    waiting.set_defaults(run=_waitlist)


def _roster(args: argparse.Namespace, out: TextIO) -> int:
    roster, folder = _load_roster(args.roster)
    clinic = roster_clinic(roster, folder)
    now = _moment("--now", args.now, clinic.zone) if args.now else None
    options = _placement_options(args)  # checked before the folder is made
    target = Path(args.output)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError("--output", "a folder that can be written", f"{target} ({err})") from err
    asked = requests(roster.ordered(), folder=folder)
    placed = plan_many(asked, clinic, now=now, progress=_progress(), **options)
    plans = [p.plan for p in placed if p.plan is not None]
    files = {f"{made.patient}.json": dump_plan(made) for made in plans}  # each within bounds
    _refuse_inputs(args, [target / name for name in [*files, "clinic.ics"]], own=[])
    for name, text in files.items():
        (target / name).write_text(text, encoding="utf-8")
    if plans:
        own = [request.protocol for request in asked]
        (target / "clinic.ics").write_bytes(
            to_ics(plans, audience="clinic", now=now, protocols=own)
        )
    print(_placements(placed, clinic.zone), file=out)
    print(f"wrote {quantity(len(plans), 'plan')} and clinic.ics to {target}", file=out)
    return EXIT_OK if len(plans) == len(placed) else EXIT_PROBLEMS


def _add_placement_options(parser: argparse.ArgumentParser) -> None:
    """How ``clinic plan`` places the patients (:func:`~ketaplan.placement.plan_many`)."""
    parser.add_argument("--objective", choices=("most-served", "in-order"), default="most-served",
                        help="serve the most patients (default), or first come, first served "
                             "in the roster's order")  # fmt: skip
    parser.add_argument("--backend", choices=("local", "cp-sat"), default="local",
                        help="local search in pure Python (default), or OR-Tools CP-SAT "
                             "(pip install 'ketaplan[solver]')")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="the search's seed (default 0)")
    parser.add_argument("--time-limit", type=float, default=10.0, metavar="SECONDS",
                        help="the CP-SAT back-end's time limit (default 10)")  # fmt: skip


def _placement_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options given, for :func:`~ketaplan.placement.plan_many`: none it would not use."""
    given: set[str] = getattr(args, "given_options", set())
    if "time_limit" in given and args.backend != "cp-sat":
        raise InputError("--time-limit", "used with --backend cp-sat", args.time_limit)
    if args.objective == "in-order" and args.backend != "local":
        raise InputError("--backend", "local with --objective in-order (one by one)", args.backend)
    if args.objective == "in-order" and "seed" in given:
        raise InputError("--seed", "used with --objective most-served (a search)", args.seed)
    options = {"objective": args.objective, "backend": args.backend}
    return options | {name: getattr(args, name) for name in ("seed", "time_limit") if name in given}


def _waitlist(args: argparse.Namespace, out: TextIO) -> int:
    roster, folder = _load_roster(args.waitlist)
    clinic = roster_clinic(roster, folder)
    now = _moment("--now", args.now, clinic.zone) if args.now else None
    made = [_load_plan(name) for name in args.plans]
    protocols = _protocols_of(made, args.protocol, every=False)
    try:
        placed = place(roster.ordered(), clinic=clinic, folder=folder, plans=made,
                       protocols=protocols, now=now)  # fmt: skip
    except InputError as err:  # name the plan's file, and the option that gives a protocol
        if err.field.startswith("plans[") and err.field.endswith("].protocol"):
            expected = "the id of a built-in protocol, of the waitlist's or of one given with "
            err = InputError(err.field, expected + "--protocol FILE", err.value)
        raise _in_file(err, args.plans) from None
    if args.format == "json":
        rows = [p.model_dump(mode="json") for p in placed]
        return _emit(json.dumps(rows, indent=2), None, out)
    return _emit(_placements(placed, clinic.zone), None, out)


def _placements(placed: list[Placement], local: dt.tzinfo) -> str:
    lines = []
    for placement in placed:
        made = placement.plan
        if made is None:
            lines.append(f"{placement.patient}: no start fits: {placement.reason}")
            continue
        first = made.appointments[0].start.astimezone(local)
        lines.append(f"{placement.patient}: {made.protocol} from {first:%a %d %b %Y %H:%M}")
    return "\n".join(lines)


def _progress() -> Callable[[int, int], None] | None:
    """A progress bar on a terminal's stderr; nothing when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = done * 30 // max(total, 1)
        end = "\n" if done == total else ""
        print(f"\rplanning {done}/{total} [{'#' * filled}{' ' * (30 - filled)}]", end=end,
              file=sys.stderr, flush=True)  # fmt: skip

    return show


def _add_capacity(verbs: Any) -> None:
    report = verbs.add_parser(
        "report", help="plan a roster and report each resource's use and what turned patients away"
    )
    report.add_argument("roster", metavar="ROSTER.toml")
    report.add_argument("--later-days", type=_count, default=182, metavar="N",
                        help="look this far past the booking horizon for the earliest start "
                        "of each patient not served (default 182)")  # fmt: skip
    report.add_argument("--no-measure", action="store_true",
                        help="do not place the roster again with one more of each resource "
                        "that turned a patient away")  # fmt: skip
    whatif_ = verbs.add_parser("whatif", help="place a roster for each variant of the resources")
    whatif_.add_argument("roster", metavar="ROSTER.toml")
    for name, what in (("chairs", "chairs"), ("staff", "monitoring staff"), ("rooms", "rooms")):
        whatif_.add_argument(f"--{name}", metavar="N,N...",
                             help=f"numbers of {what} to try (default: the clinic's)")  # fmt: skip
    whatif_.add_argument("--seeds", type=_count, default=20, help="runs per variant (default 20)")
    whatif_.add_argument("--workers", type=_count, help="local processes (default: one per core)")
    whatif_.add_argument("--scheduler", metavar="ADDRESS",
                         help="run on this Dask scheduler (needs ketaplan[cluster])")  # fmt: skip
    for parser, run in ((report, _capacity), (whatif_, _whatif)):
        parser.add_argument("--now", help="the moment of planning (default: the current time)")
        _add_output(parser, ("table", "json"))
        parser.set_defaults(run=run)


def _capacity(args: argparse.Namespace, out: TextIO) -> int:
    check_later_days(args.later_days, field="--later-days")  # before the roster is placed
    roster, folder = _load_roster(args.roster)
    clinic = roster_clinic(roster, folder)
    now = _moment("--now", args.now, clinic.zone) if args.now else None
    placed = place_all(roster.patients, clinic=clinic, folder=folder, now=now)
    report = capacity_report(
        [p.plan for p in placed if p.plan is not None], clinic,
        unserved=[p for p in placed if p.plan is None], requests=roster.patients,
        folder=folder if roster.patients else None, now=now, later_days=args.later_days,
        measure=not args.no_measure,
    )  # fmt: skip
    if args.format == "json":
        return _emit(report.model_dump_json(indent=2), args.output, out)
    return _emit(capacity_table(report), args.output, out)


def _numbers(option: str, text: str | None) -> list[int] | None:
    if text is None:
        return None
    parts = text.split(",")
    expected = "whole numbers separated by commas, e.g. 3,4,5"
    if not all(_DIGITS.fullmatch(part.strip()) for part in parts):
        raise InputError(option, expected, text)
    try:
        return [int(part) for part in parts]
    except ValueError:  # more digits than Python reads (4,300)
        raise InputError(option, expected, text) from None


def _whatif(args: argparse.Namespace, out: TextIO) -> int:
    roster, folder = _load_roster(args.roster)
    clinic = roster_clinic(roster, folder)
    now = _moment("--now", args.now, clinic.zone) if args.now else None
    chairs, staff, rooms = (_numbers(f"--{n}", getattr(args, n)) for n in ("chairs", "staff",
                                                                          "rooms"))  # fmt: skip
    with contextlib.ExitStack() as stack:
        executor: concurrent.futures.Executor | Literal["processes"] = "processes"
        if args.scheduler:
            executor = stack.enter_context(dask_executor(args.scheduler))
        result = whatif(roster, clinic, folder=folder, chairs=chairs, staff=staff, rooms=rooms,
                        seeds=args.seeds, now=now, executor=executor,
                        workers=args.workers)  # fmt: skip
    if args.format == "json":
        return _emit(result.model_dump_json(indent=2), args.output, out)
    return _emit(whatif_table(result), args.output, out)


def _add_disrupt(verbs: Any) -> None:
    disrupt = verbs.add_parser(
        "disrupt", help="re-plan the clinic's plans around a closed day, a chair out, staff absent"
    )
    disrupt.add_argument("plans", metavar="PLAN.json", nargs="+", help="every plan of the clinic")
    disrupt.add_argument("--clinic", metavar="FILE|demo", required=True, help="the clinic as it is")
    what = disrupt.add_argument_group("the change (from --from, or the day --close names)")
    what.add_argument("--close", type=_date, metavar="DATE", help="the clinic closes on DATE")
    what.add_argument("--chairs-out", type=_count, default=0, metavar="N", help="N chairs out")
    what.add_argument("--rooms-out", type=_count, default=0, metavar="N", help="N rooms out")
    what.add_argument("--staff-out", type=_count, default=0, metavar="N",
                      help="N monitoring staff absent")  # fmt: skip
    what.add_argument("--no-prescriber", action="store_true", help="no prescriber on site")
    what.add_argument("--from", dest="first", type=_date, metavar="DATE", help="the first day")
    what.add_argument("--until", type=_date, metavar="DATE", help="the last day (default: one)")
    what.add_argument("--reason", help="why, for the plans' history and the patients' notes")
    disrupt.add_argument(
        "--now", required=True, help="now: YYYY-MM-DDTHH:MM (nothing before moves)"
    )
    disrupt.add_argument("--protocol", action="append", default=[], metavar="ID|FILE",
                         help="a plan's protocol, when not built in (repeatable)")  # fmt: skip
    disrupt.add_argument("--patient", action="append", default=[], metavar="FILE|demo",
                         help="a plan's patient (repeatable)")  # fmt: skip
    _add_bookings(disrupt)
    disrupt.add_argument("-o", "--output", metavar="DIR", required=True,
                         help="where to write the plans (each under its file's name)")  # fmt: skip
    disrupt.add_argument("--format", choices=("table", "json"), default="table")
    disrupt.set_defaults(run=_disrupt)


def _change(args: argparse.Namespace) -> CapacityChange:
    """The capacity change the options describe."""
    fewer = {
        "chairs": args.chairs_out,
        "rooms": args.rooms_out,
        "monitoring_staff": args.staff_out,
        "prescriber_absent": args.no_prescriber,
    }
    if args.close is not None:
        if any(fewer.values()):
            raise InputError(
                "--close", "used alone (a closed day needs no other change)", "--close"
            )
        if args.first is not None and args.first != args.close:
            raise InputError("--from", f"left out with --close (or {args.close})", args.first)
        data: dict[str, object] = {"start": args.close, "closed": True}
    elif args.first is None:
        raise InputError("--from", "the first day of the change (or use --close DATE)", None)
    else:
        data = {"start": args.first, **fewer}
    data.update(end=args.until, reason=args.reason)
    try:
        return CapacityChange.model_validate(data)
    except DefinitionError as err:
        options = "--close DATE, or --from DATE with --chairs-out, --rooms-out, --staff-out or "
        raise InputError("the change", f"{options}--no-prescriber", str(err)) from err


def _disrupt(args: argparse.Namespace, out: TextIO) -> int:
    clinic = _load_clinic(args.clinic)
    assert clinic is not None  # noqa: S101 - required by the parser
    change = _change(args)
    paths = [Path(name) for name in args.plans]
    names = [path.name for path in paths]
    if len(set(names)) != len(names):
        raise InputError("PLAN.json", "files with distinct names (they are written under them)",
                         next(n for n in names if names.count(n) > 1))  # fmt: skip
    plans = [_load_plan(path) for path in paths]
    now = _moment("--now", args.now, clinic.zone)
    protocols = _protocols_of(plans, args.protocol)
    result = replan_disruption(
        plans,
        clinic=clinic,
        change=change,
        now=now,
        protocols=protocols,
        patients=_used_by(
            "--patient",
            [p for p in (_load_patient(name) for name in args.patient) if p is not None],
            {p.patient for p in plans if p.patient},
        ),
        bookings=_other_bookings(args.bookings, clinic.id, protocols),
    )
    target = Path(args.output)
    files = [dump_plan(made) for made in result.plans]  # each within bounds, before writing
    _refuse_inputs(args, [target / name for name in names], own=paths)  # each its own plan
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in zip(names, files, strict=True):
            (target / name).write_text(text, encoding="utf-8")
    except OSError as err:
        raise InputError("--output", "a folder that can be written", f"{target} ({err})") from err
    report = result.report
    if args.format == "json":
        named = [[m.plan, m.appointment] for m in report.not_kept]
        text = json.dumps(report.model_dump(mode="json") | {"not_kept": named}, indent=2)
    else:
        text = _disruption_table(report, clinic.zone)
    _emit(text, None, out)
    print(f"wrote {quantity(len(plans), 'plan')} to {target}", file=out)
    return EXIT_PROBLEMS if report.not_kept else EXIT_OK


def _disruption_table(report: DisruptionReport, local: dt.tzinfo) -> str:
    """The report as lines: who moved from where to where, and who could not be kept."""
    lines = [
        f"{report.change.describe()}: {quantity(report.plans_affected, 'plan')} with sessions then"
    ]
    if not report.moves:
        lines.append("nobody moves")
    for move in report.moves:
        who = move.patient or move.plan
        before = f"{move.before.astimezone(local):%a %d %b %H:%M}"
        if move.after is None:
            lines.append(f"{who} {move.appointment}: {before}, no place found: it stays (decide)")
            continue
        after = f"{move.after.astimezone(local):%a %d %b %H:%M}"
        seat = f" chair {move.after_unit}" if move.after_unit != move.before_unit else ""
        where = "stays" if move.cause == "stays" else f"{before} -> {after}{seat}"
        kept = "" if move.kept_in_window else " (not kept in its window: decide)"
        lines.append(f"{who} {move.appointment}: {where}{kept}")
    lines += [
        f"{b.patient or b.plan} {b.appointment}: {b.start.astimezone(local):%a %d %b %H:%M} had "
        "begun on a changed day: not moved; record what happened (attended, missed or "
        "cancelled)"
        for b in report.begun
    ]
    lines.append(f"{len(report.not_kept)} not kept in their windows; "
                 f"{report.evaluations} arrangements judged")  # fmt: skip
    return "\n".join(lines)


def _add_status(commands: Any) -> None:
    standing = commands.add_parser(
        "status", help="where each patient stands as of a moment, most urgent first"
    )
    standing.add_argument("plan_files", nargs="+", metavar="PLAN.json")
    standing.add_argument(
        "--as-of",
        required=True,
        help="now: YYYY-MM-DDTHH:MM, with a UTC offset or in the clinic's (or first plan's) zone",
    )
    standing.add_argument("--clinic", metavar="FILE|demo", help="the plans' clinic")
    standing.add_argument(
        "--protocol",
        action="append",
        default=[],
        metavar="ID|FILE",
        help="the protocol of plans that do not use a built-in (repeatable)",
    )
    standing.add_argument("--format", choices=("table", "json"), default="table")
    standing.set_defaults(run=_status)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD; got {text!r}") from None


#: A whole number as people type it: ASCII digits only (Python's ``int`` also reads "1_0" as
#: 10 and full-width digits, which a typo should not turn into a number).
_DIGITS = re.compile(r"-?[0-9]+")


def _count(text: str) -> int:
    if not _DIGITS.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"must be a whole number; got {text!r}")
    return int(text)


def _clock(text: str) -> dt.time:
    try:
        value = dt.time.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is not None:
        raise argparse.ArgumentTypeError(f"must be a local time HH:MM; got {text!r}")
    return value


#: The names each output format is written under, by suffix: ketaplan reads a plan back from a
#: ``.json`` file only (a FHIR Bundle is JSON too), a calendar program imports an ``.ics`` file
#: and a browser shows an ``.html`` or ``.svg`` one by its name. The table is text for people:
#: a ``.txt`` file, or a name without a suffix. A file is never written under another name:
#: ``export-protocol -o x.xml`` wrote JSON, and ``plan -o plan.toml`` a table that ``validate``
#: then read as TOML.
_FORMAT_SUFFIXES: dict[str, tuple[str, ...]] = {
    "table": (".txt", ""),
    "json": (".json",),
    "fhir": (".json",),
    "ics": (".ics",),
    "html": (".html", ".htm"),
    "svg": (".svg",),
}


def _add_output(parser: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    """``--format`` (the first of ``formats`` by default) and ``-o``, which can imply it."""
    parser.add_argument(
        "--format",
        choices=formats,
        default=formats[0],
        help=f"default: {formats[0]}, or what the -o file's name implies (e.g. plan.json)",
    )
    written = ", ".join(dict.fromkeys(s for f in formats for s in _FORMAT_SUFFIXES[f] if s))
    parser.add_argument(
        "-o", "--output", metavar="FILE", help=f"write to FILE instead of stdout ({written})"
    )
    parser.set_defaults(formats=formats)


def _output_format(args: argparse.Namespace) -> None:
    """Take the format an ``-o`` file's suffix implies when ``--format`` is not given.

    Every format is written under its own suffixes only (:data:`_FORMAT_SUFFIXES`): a name
    that none of the command's formats is written under is refused, and so is a ``--format``
    the name does not fit (``-o plan.json`` with the table would overwrite a plan with text
    that nothing reads back; ``--format json -o plan`` would write a plan that ``load_plan``
    does not read).
    """
    formats: tuple[str, ...] | None = getattr(args, "formats", None)
    if formats is None or args.output is None:
        return
    suffix = Path(args.output).suffix.lower()
    fitting = [name for name in formats if suffix in _FORMAT_SUFFIXES[name]]
    if fitting and "format" not in getattr(args, "given_options", ()):
        args.format = fitting[0]
        args.format_flag = f"-o {args.output}"  # errors about the format name what was typed
        return
    if not fitting:
        expected = f"a name ending in {_suffixes(formats)} (this command writes "
        raise InputError("--output", expected + f"{' or '.join(formats)})", args.output)
    if args.format in fitting:
        return
    if fitting == ["table"]:  # a text file's name, and data asked for: the name is short of it
        expected = f"a name ending in {_suffixes([args.format])} to write {args.format}"
        raise InputError("--output", expected, args.output)
    raise InputError("--format", f"{' or '.join(fitting)} to write {args.output}", args.format)


def _suffixes(formats: Sequence[str]) -> str:
    """The suffixes ``formats`` are written under, in words: ``.txt or .json, or no suffix``."""
    named = list(dict.fromkeys(s for f in formats for s in _FORMAT_SUFFIXES[f] if s))
    words = ", ".join(named[:-1]) + (" or " if len(named) > 1 else "") + named[-1]
    bare = any("" in _FORMAT_SUFFIXES[f] for f in formats)
    return words + (", or no suffix" if bare else "")


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line and return its exit code."""
    stdout = _Output(out or sys.stdout)
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        _output_format(args)
        if getattr(args, "output", None) and not is_dir(args.output):
            _refuse_inputs(args, [Path(args.output)], own=_replanned_in_place(args))
        code = run(args, cast("TextIO", stdout))
        stdout.flush()  # a full disk says so here, not in a traceback at exit
    except KetaplanError as err:
        print(for_terminal(f"ketaplan: error: {err}"), file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - e.g. `ketaplan show x | head`
        return EXIT_OK
    except _Unwritable as err:  # standard output cannot be written (a full disk: > /dev/full)
        print(f"ketaplan: error: cannot write the output ({err.reason})", file=sys.stderr)
        if stdout.stream is sys.stdout:  # what is left in its buffer would fail again at exit
            sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115, PTH123
        return EXIT_USAGE
    return code


def _refuse_inputs(args: argparse.Namespace, paths: Sequence[Path], *, own: Sequence[Path]) -> None:
    """Refuse to write any of ``paths`` over a file the command reads.

    ``-o plan.json`` on ``export plan.json`` would replace the plan with a FHIR Bundle, and the
    plan would be lost. ``own``: the plans a command re-plans, which it may write back in place
    (their new revision keeps everything the old one held).
    """
    kept = {os.path.realpath(path) for path in own}
    read: dict[str, str] = {}
    for name, value in vars(args).items():
        if name == "output":
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str | os.PathLike) and item and is_file(item):
                read.setdefault(os.path.realpath(item), str(item))
                if name in {"roster", "waitlist"}:  # and the files the roster names
                    for named in _roster_files(os.fspath(item)):
                        read.setdefault(os.path.realpath(named), str(named))
    for path in paths:
        where = os.path.realpath(path)
        if where in read and where not in kept:
            raise InputError(
                "--output",
                f"a file the command does not read ({read[where]} would be overwritten and lost)",
                str(path),
            )


def _roster_files(path: str | Path) -> list[Path]:
    """The clinic, protocol and patient files a roster names.

    None if the roster cannot be read: the command itself says why.
    """
    try:
        roster, folder = load_roster(path)
    except KetaplanError:
        return []
    return [named for named in roster.files(folder) if is_file(named)]


def _replanned_in_place(args: argparse.Namespace) -> list[Path]:
    """The plan ``replan`` may write back over: its own PLAN.json, as a plan (JSON)."""
    if args.command == "replan" and args.format == "json":
        return [Path(args.plan_file)]
    return []


class _Unwritable(Exception):  # noqa: N818 - a condition of the output, reported as such
    """Standard output refused what was written (not a pipe closed early: that ends quietly)."""

    def __init__(self, err: OSError) -> None:
        self.reason = err.strerror or str(err)
        super().__init__(self.reason)


class _Output:
    """Standard output, whose failures are told apart from any other ``OSError``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as err:
            raise _Unwritable(err) from err

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as err:
            raise _Unwritable(err) from err

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _protocols(args: argparse.Namespace, out: TextIO) -> int:
    protocols = builtin_protocols()
    if args.format == "json":
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "route": p.route,
                "setting": p.setting,
                "evidence": p.evidence,
                "indication": p.indication,
                "version": p.version,
            }
            for p in protocols
        ]
        print(json.dumps(rows, indent=2), file=out)
        return EXIT_OK
    table = [("ID", "ROUTE", "SETTING", "EVIDENCE", "NAME")]
    table += [(p.id, p.route, p.setting, p.evidence, p.name) for p in protocols]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]), file=out)
    return EXIT_OK


def _show(args: argparse.Namespace, out: TextIO) -> int:
    protocol = _load_protocol(args.protocol)
    print(describe_protocol(protocol, clinic=_load_clinic(args.clinic)), file=out)
    return EXIT_OK


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    kind: DefinitionKind | None = args.kind
    status = EXIT_OK
    for path in args.files:
        try:
            other = None if kind else _plan_or_roster(path)
            if other is not None:  # a plan or a roster file: read as ketaplan reads it
                print(f"{path}: ok ({other})", file=out)
                continue
            definition = load_definition(path, kind=kind)
        except DefinitionError as err:
            status = EXIT_USAGE
            for problem in err.problems:
                print(for_terminal(str(problem)), file=sys.stderr)
            continue
        except InputError as err:  # an events or bookings file, read as the commands read it
            status = EXIT_USAGE
            print(for_terminal(str(err)), file=sys.stderr)
            continue
        print(f"{path}: ok ({_kind_of(definition)} {definition.id})", file=out)
        if isinstance(definition, Patient):
            _warn_medicines(definition, medicine_names())
    return status


def _plan_or_roster(path: str) -> str | None:
    """What a plan, roster, events or bookings file is (``plan ID``); None for another kind.

    Raises the file's own error when it is one and is wrong. A roster was read as a patient
    ("did you mean 'appointments'?") and a plan refused as "must be a patient file".
    """
    listed = _listed(path)
    if listed is not None:
        return listed
    try:
        data = read_definition(path, limit=MAX_PLAN_FILE_BYTES)  # a plan may be that large
    except DefinitionError:
        return None  # load_definition says why
    found = recognise(data)
    kind = None if found is None else found.kind
    if kind == "plan":
        made = load_plan(path)  # with its own rules (a .json file), as every command reads it
        return f"plan {made.id}"
    if kind == "roster":
        roster = validate(Roster, data, origin=path, error=DefinitionError)
        return f"roster of {quantity(len(roster.patients), 'patient')}"
    return None


def _listed(path: str) -> str | None:
    """What an events or bookings file (a JSON list) is, read as the commands read it.

    A list whose items have a ``type`` is events (``replan --events``), another is bookings
    (``--bookings``), so a wrong item gets that reader's own words. ``None`` for a file that
    is not a JSON list; a calendar or FHIR file is refused as one validate does not read.
    """
    if not _opens_a_list(path):
        found = file_kind(path) if is_file(path) else None
        if found is not None and found.kind in ("ics", "fhir"):
            expected = "a file validate reads (protocol, clinic, patient, plan, roster, events "
            raise InputError.saying(path, f"must be {expected}or bookings); this is {found}")
        return None
    try:
        items = read_json_list(path)
    except InputError:
        return None  # not JSON: read as a definition, which says why
    if not items:
        return "an empty list: an events or bookings file of nothing"
    if any(isinstance(item, dict) and "type" in item for item in items):
        try:
            events = parse_events(items)
        except InputError as err:
            raise err.at(f"{path}: {err.field}") from None
        return f"events file of {quantity(len(events), 'event')}"
    loaded = load_plan_or_bookings(path)  # with the file named in its errors
    count = len(loaded) if isinstance(loaded, list) else len(loaded.appointments)
    return f"bookings file of {quantity(count, 'booking')}"


def _opens_a_list(path: str) -> bool:
    """Whether the file's text begins as a JSON list does (not a TOML table's ``[name]``)."""
    if not is_file(path):  # a FIFO would block here: the readers refuse it
        return False
    try:
        with Path(path).open("rb") as file:
            head = file.read(256).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return head.startswith(b"[") and not re.match(rb"\[\[?\s*[A-Za-z_\"']", head)


def _kind_of(definition: Protocol | Clinic | Patient) -> str:
    return type(definition).__name__.lower()


def _schema(args: argparse.Namespace, out: TextIO) -> int:
    models: dict[str, type[Protocol] | type[Clinic] | type[Patient]] = {
        "protocol": Protocol,
        "clinic": Clinic,
        "patient": Patient,
    }
    print(json.dumps(models[args.kind].model_json_schema(), indent=2), file=out)
    return EXIT_OK


def _load_clinic(name: str | None) -> Clinic | None:
    if name is None:
        return None
    if name == "demo":
        return demo_clinic()
    with _reading(name, "clinic", option="--clinic"):
        return load_clinic(name)


def _load_patient(name: str | None) -> Patient | None:
    if name is None:
        return None
    if name == "demo":
        return demo_patient()
    with _reading(name, "patient", option="--patient"):
        return load_patient(name)


def _load_protocol(name: str, *, option: str | None = None) -> Protocol:
    """A built-in protocol or a protocol file, given as ``option`` (or as the argument)."""
    with _reading(name, "protocol", option=option):
        return load_protocol(name)


def _load_plan(path: str | os.PathLike[str]) -> Plan:
    with _reading(path, "plan"):
        return load_plan(path)


def _load_roster(path: str) -> tuple[Roster, Path]:
    with _reading(path, "roster"):
        return load_roster(path)


@contextlib.contextmanager
def _reading(
    path: str | os.PathLike[str], *kinds: str, option: str | None = None
) -> Iterator[None]:
    """A file that fails to load as one of ``kinds`` and is a file of another kind: say so.

    ``--clinic patient.toml`` listed every field a clinic has and a patient has not: it is one
    line naming the option (or the file alone, for an argument), the kind of file asked for
    and the kind the file is (:func:`~ketaplan.loading.file_kind`, read only when loading
    failed).
    """
    try:
        yield
    except KetaplanError:
        found = file_kind(path) if is_file(path) else None
        if found is None or found.kind in kinds:
            raise
        where = f"{option} {os.fspath(path)}" if option else os.fspath(path)
        expected = " or ".join(KIND_WORDS[kind] for kind in kinds)
        raise InputError.saying(where, f"must be {expected}; this is {found}") from None


def _tiers(pairs: list[str]) -> dict[str, str]:
    tiers: dict[str, str] = {}
    for pair in pairs:
        phase, sep, tier = pair.partition("=")
        if not sep or not phase or not tier:
            raise InputError("--tier", "PHASE=TIER, e.g. maintenance=weekly", pair)
        if phase in tiers:
            raise InputError("--tier", f"one tier for {phase} (it was {tiers[phase]})", pair)
        tiers[phase] = tier
    return tiers


def _plan(args: argparse.Namespace, out: TextIO) -> int:
    _only_with_their_formats(args)
    protocol = _load_protocol(args.protocol)
    clinic = _load_clinic(args.clinic)
    patient = _load_patient(args.patient)
    with _as_options({"time_zone": "--tz"}):
        zone_name = new_plan_clinic(protocol, clinic, args.tz).time_zone
    horizon = args.until or args.start + dt.timedelta(days=DEFAULT_HORIZON_DAYS + 366)
    bookings = _busy(args, start=args.start, end=horizon, time_zone=zone_name, patient=patient)
    bookings += _other_bookings(
        args.bookings, clinic.id if clinic else default_clinic().id, [protocol]
    )
    now = _moment("--now", args.stamp, zone(zone_name), protocol) if args.stamp else None
    if args.first_available or args.options != 1:
        return _offer(
            args, out, protocol, clinic=clinic, patient=patient, bookings=bookings, now=now
        )
    result = plan(
        protocol,
        start=args.start,
        clinic=clinic,
        patient=patient,
        bookings=bookings,
        until=args.until,
        preferred_time=args.time,
        tiers=_tiers(args.tier),
        on_conflict=args.on_conflict,
        time_zone=args.tz,
        plan_id=args.plan_id,
        now=now,
    )
    if patient is not None:
        _warn_medicines(patient, medication_rules(protocol, clinic))
    shifted = _shifted_errors(
        args, result, protocol=protocol, clinic=clinic, patient=patient, bookings=bookings
    )
    if args.format == "ics":
        code = _emit_bytes(_calendar(result, args, protocol), args.output, out)
    elif args.format in _PICTURES:
        code = _emit(_picture(result, args), args.output, out)
    elif args.format == "fhir":
        code = _emit_bytes(_fhir_bundle(result, args, protocol), args.output, out)
    else:
        text = _plan_text(result) if args.format == "json" else plan_table(result)
        code = _emit(text, args.output, out)
    if args.output:
        print(for_terminal(written_summary(result)), file=out)
    return code or shifted


def _shifted_errors(
    args: argparse.Namespace,
    result: Plan,
    *,
    protocol: Protocol | None,
    clinic: Clinic | None,
    patient: Patient | None,
    bookings: list[Booking],
) -> int:
    """With ``--on-conflict shift``, the errors the plan still has, on stderr, and exit 1 if any.

    Shifting places a session past its window when nothing else fits: the plan is written,
    for a person to see, and the exit status says it breaks rules.
    """
    if args.on_conflict != "shift":
        return 0
    found = check(result, protocol=protocol, clinic=clinic, patient=patient, bookings=bookings)
    errors = [v for v in found if v.severity == "error"]
    for violation in errors:
        where = ", ".join(violation.appointments)
        print(
            for_terminal(f"ketaplan: error: {where}: {violation.code}: {violation.message}"),
            file=sys.stderr,
        )
    if errors:
        print(
            f"ketaplan: the plan was shifted and still breaks {quantity(len(errors), 'rule')}: "
            "see above (exit 1)",
            file=sys.stderr,
        )
    return EXIT_PROBLEMS if errors else 0


def _offer(args: argparse.Namespace, out: TextIO, protocol: Protocol, **where: Any) -> int:
    """``plan --first-available [--options N]``: the earliest starts at which the series fits.

    ``where``: the clinic, patient, bookings and now, as ``plan`` has them.
    """
    if not args.first_available:
        raise InputError("--options", "used with --first-available", args.options)
    if args.options != 1 and args.format not in ("table", "json"):
        expected = "table or json with --options above 1"
        raise InputError(_format_flag(args), expected, args.format)
    if args.options != 1 and args.format == "json" and args.output is not None:
        # A list of plans: no command reads it back (as --bookings it was misread as bookings).
        expected = "left out with --options above 1 in JSON (print the list of plans instead)"
        raise InputError("--output", expected, args.output)
    if args.format == "fhir":
        expected = "table, json, ics, html or svg with --first-available"
        raise InputError(_format_flag(args), expected, "fhir")
    given: set[str] = getattr(args, "given_options", set())
    for dest, flag in (
        ("until", "--until"),
        ("plan_id", "--plan-id"),
        ("on_conflict", "--on-conflict"),
    ):
        if dest in given:
            expected = "left out with --first-available, which does not take it"
            raise InputError(flag, expected, getattr(args, dest))
    offered = first_available(
        protocol,
        start=args.start,
        options=args.options,
        preferred_time=args.time,
        tiers=_tiers(args.tier),
        time_zone=args.tz,
        **where,
    )
    if args.format == "ics":
        return _emit_bytes(_calendar(offered[0], args, protocol), args.output, out)
    if args.format in _PICTURES:
        return _emit(_picture(offered[0], args), args.output, out)
    if args.format == "json":
        if len(offered) == 1 and args.options == 1:
            return _emit(_plan_text(offered[0]), args.output, out)
        dumped = [json.loads(p.model_dump_json()) for p in offered]
        return _emit(json.dumps(dumped, indent=2), args.output, out)
    parts = []
    for number, made in enumerate(offered, start=1):
        first = made.appointments[0].local_start
        parts.append(f"option {number} of {len(offered)}: first session {first:%a %d %b %Y %H:%M}")
        parts.append(plan_table(made))
    return _emit("\n".join(parts), args.output, out)


def _warn_medicines(patient: Patient, rules: MedicationRules) -> None:
    """Each medication no rule can be matched to, on stderr, whatever the output format."""
    for medication in patient.medications:
        warning = rules.unknown(medication)
        if warning is not None:
            print(for_terminal(f"ketaplan: warning: {warning}"), file=sys.stderr)


def _busy(
    args: argparse.Namespace,
    *,
    start: dt.date,
    end: dt.date,
    time_zone: str,
    patient: Patient | None,
) -> list[Booking]:
    found: list[Booking] = []
    if args.busy_as is not None and not args.busy:
        raise InputError("--busy-as", "used with --busy", args.busy_as)
    as_patient = args.busy_as == "patient"
    if as_patient and args.busy and patient is None:
        raise InputError("--busy-as", "used with --patient when it is 'patient'", "patient")
    for path in args.busy:
        with _reading(path, "ics", "fhir", option="--busy"):
            found += _busy_reader(path)(
                path,
                start=start,
                end=end,
                resource=None if as_patient else args.busy_as or "chair",
                patient=patient.id if as_patient and patient else None,
                time_zone=time_zone,
            )
    return found


def _other_bookings(paths: list[str], clinic: str, protocols: Sequence[Protocol]) -> list[Booking]:
    """What the other patients' plans (or lists of bookings) in ``paths`` occupy.

    A plan must be of ``clinic``: another clinic's chairs are not this one's. Its resources
    are booked for the times its protocol gives from each start (:func:`plan_bookings`, as
    ``check`` reads them: clinic software may have moved a session's start and end only), so
    its protocol must be built in or one of ``protocols``, those the command was given.
    """
    known = {protocol.id: protocol for protocol in protocols}
    found: list[Booking] = []
    for path in paths:
        with _reading(path, "plan", "bookings", option="--bookings"):
            loaded = load_plan_or_bookings(path)
        if not isinstance(loaded, Plan):
            found += loaded
            continue
        if loaded.clinic != clinic:
            raise InputError(f"--bookings {path}", f"a plan of clinic {clinic!r}", loaded.clinic)
        protocol = known.get(loaded.protocol)
        if protocol is None and loaded.protocol not in builtin_protocol_ids():
            given = f" ({', '.join(sorted(known))})" if known else " (none was)"
            expected = f"a plan of a built-in protocol or of one the command was given{given}"
            raise InputError(f"--bookings {path}", expected, loaded.protocol)
        try:
            found += plan_bookings(loaded, protocol=protocol)
        except InputError as err:  # a session its protocol does not have: name the file
            raise err.at(f"--bookings {path}: {err.field}") from None
    return found


def _calendar(result: Plan, args: argparse.Namespace, protocol: Protocol | None = None) -> bytes:
    stamp = _moment("--now", args.stamp, zone(result.time_zone), protocol) if args.stamp else None
    with _as_options(_CALENDAR_FLAGS):
        return to_ics(
            result,
            audience=args.audience or "patient",
            detail=args.detail,
            method=args.method,
            now=stamp,
            organizer=args.organizer,
            attendee=args.attendee,
            appointments=args.appointment,
            protocols=[protocol] if protocol else (),
        )


#: ``to_ics``'s arguments that the command line gives from an option of another name.
_CALENDAR_FLAGS = {
    "appointments": "--appointment",
    "organizer": "--organizer",
    "attendee": "--attendee",
    "method": "--method",
}


@contextlib.contextmanager
def _as_options(flags: Mapping[str, str]) -> Iterator[None]:
    """Raise an :class:`InputError` about one of ``flags``' arguments naming the option typed."""
    try:
        yield
    except InputError as err:
        flag = flags.get(err.field)
        if flag is None:
            raise
        raise err.at(flag) from None


def _export(args: argparse.Namespace, out: TextIO) -> int:
    outputs = ("ics", "fhir")
    _only_with_their_formats(
        args, {"stamp": ("--now", outputs), "protocol": ("--protocol", outputs)}
    )
    if args.format in _PICTURES:
        return _emit(_picture(_load_plan(args.plan_file), args), args.output, out)
    # The exports read each session's times as check does, by the plan's protocol.
    current = _load_plan(args.plan_file)
    protocol = _plan_protocol(current, args.protocol)
    if args.format == "fhir":
        return _emit_bytes(_fhir_bundle(current, args, protocol), args.output, out)
    return _emit_bytes(_calendar(current, args, protocol), args.output, out)


# -- pictures: a plan's timeline ---------------------------------------------------------------

#: The formats that draw a plan's timeline (``plan`` and ``export``).
_PICTURES = ("html", "svg")

#: The options that shape one output only, by their ``dest``: the flag, and the formats it
#: shapes. Given with another format it would change nothing, so the command refuses it.
_FORMAT_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "today": ("--today", _PICTURES),
    "audience": ("--audience", ("ics", "fhir")),
    "detail": ("--detail", ("ics", "fhir")),
    "method": ("--method", ("ics",)),
    "organizer": ("--organizer", ("ics",)),
    "attendee": ("--attendee", ("ics",)),
    "appointment": ("--appointment", ("ics",)),
    "bundle": ("--bundle", ("fhir",)),
    "fhir_patient": ("--fhir-patient", ("fhir",)),
}


def _format_flag(args: argparse.Namespace) -> str:
    """How the format was asked for: ``--format``, or the ``-o`` file whose name implied it."""
    flag: str = getattr(args, "format_flag", "--format")
    return flag


def _only_with_their_formats(
    args: argparse.Namespace, more: dict[str, tuple[str, tuple[str, ...]]] | None = None
) -> None:
    """Refuse an option given with a ``--format`` it does not shape (it would be ignored)."""
    for dest, (flag, formats) in {**_FORMAT_OPTIONS, **(more or {})}.items():
        if getattr(args, dest, None) not in (None, []) and args.format not in formats:
            expected = " or ".join(formats) + f" with {flag}"
            raise InputError(_format_flag(args), expected, args.format)


def _add_picture_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--today",
        type=_date,
        metavar="YYYY-MM-DD",
        help="with --format html or svg: mark this day on the timeline with a line",
    )


def _picture(result: Plan, args: argparse.Namespace) -> str:
    """The plan's timeline: an HTML page, or an SVG file."""
    if args.format == "svg":
        return timeline_svg(result, today=args.today)
    return timeline_html(result, today=args.today)


# -- FHIR (needs ketaplan[fhir]; ketaplan.fhir loads the models when first used) ---------------


def _add_fhir_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bundle",
        choices=("collection", "transaction"),
        help="with --format fhir: a collection, or a transaction of conditional PUTs that "
        "updates what a FHIR server holds (default: collection)",
    )
    parser.add_argument(
        "--fhir-patient",
        metavar="REFERENCE",
        help="with --format fhir: the Patient reference to write, e.g. Patient/123 (default: "
        "an identifier with the plan's patient id)",
    )


def _add_export_protocol(commands: Any) -> None:
    exporting = commands.add_parser(
        "export-protocol",
        help="write a protocol as a FHIR PlanDefinition with ActivityDefinitions",
    )
    exporting.add_argument(
        "protocol", metavar="ID|FILE", help="a built-in id or a .toml/.json file"
    )
    _add_output(exporting, ("fhir",))
    exporting.set_defaults(run=_export_protocol)


def _export_protocol(args: argparse.Namespace, out: TextIO) -> int:
    from ketaplan.fhir import protocol_to_fhir  # noqa: PLC0415 - an optional extra

    return _emit_bytes(protocol_to_fhir(_load_protocol(args.protocol)), args.output, out)


def _fhir_bundle(result: Plan, args: argparse.Namespace, protocol: Protocol | None = None) -> bytes:
    from ketaplan.fhir import to_fhir  # noqa: PLC0415 - an optional extra

    stamp = _moment("--now", args.stamp, zone(result.time_zone), protocol) if args.stamp else None
    with _as_options({"patient": "--fhir-patient"}):
        return to_fhir(
            result,
            bundle=args.bundle or "collection",
            audience=args.audience or "patient",
            detail=args.detail,
            patient=args.fhir_patient,
            now=stamp,
            protocols=[protocol] if protocol else (),
        )


def _busy_reader(path: str) -> Callable[..., list[Booking]]:
    """The reader for a busy file: FHIR when it holds a JSON object, else iCalendar."""
    try:
        if not is_file(path):  # a FIFO would block here: load_busy refuses it
            return load_busy
        with Path(path).open("rb") as file:
            head = file.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return load_busy  # it says why it cannot read the file
    if not head.startswith(b"{"):
        return load_busy
    from ketaplan.fhir import load_busy as load_fhir_busy  # noqa: PLC0415 - an optional extra

    return load_fhir_busy


def _emit_bytes(data: bytes, output: str | None, out: TextIO) -> int:
    if output is None:
        out.write(data.decode("utf-8"))
        return EXIT_OK
    try:
        Path(output).write_bytes(data)
    except OSError as err:
        raise InputError("--output", "a writable file", f"{output} ({err.strerror})") from err
    print(f"wrote {output}", file=out)
    return EXIT_OK


def _replan(args: argparse.Namespace, out: TextIO) -> int:
    current = _load_plan(args.plan_file)
    local = zone(current.time_zone)
    protocol = _plan_protocol(current, args.protocol)
    as_of = _moment("--as-of", args.as_of, local, protocol)
    events = [_event(f"--event[{n}]", text, local, as_of, protocol)
              for n, text in enumerate(args.event)]  # fmt: skip
    typed = len(events)
    if args.events:
        try:
            with _reading(args.events, "events", option="--events"):
                events += parse_events(read_json_list(args.events))
        except InputError as err:
            raise _event_named(err, 0, args.events) from None
    try:
        clinic = _load_clinic(args.clinic) if args.clinic else _builtin_clinic(current)
        patient = _load_patient(args.patient) if args.patient else _builtin_patient(current)
        result = replan(
            current,
            as_of=as_of,
            events=events,
            protocol=protocol,
            clinic=clinic,
            patient=patient,
            until=args.until,
            on_conflict=args.on_conflict,
            bookings=_other_bookings(args.bookings, current.clinic, [protocol]),
        )
    except InputError as err:  # name the event as given, not its place in one list of all
        raise _event_named(err, typed, args.events) from None
    broken = _broken_by_moves(result, events, clinic=clinic, patient=patient, protocol=protocol)
    for violation in broken:
        where = ", ".join(violation.appointments)
        print(
            for_terminal(f"ketaplan: {violation.severity}: {where}: {violation.message}"),
            file=sys.stderr,
        )
    if broken and not args.force:
        print(
            "ketaplan: the moves asked for break the rules above; nothing was written "
            "(choose another time, or record them anyway with --force)",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    shifted = _shifted_errors(
        args, result, protocol=protocol, clinic=clinic, patient=patient, bookings=[]
    )
    text = _plan_text(result) if args.format == "json" else plan_table(result)
    code = _emit(text, args.output, out)
    if args.output:
        print(for_terminal(written_summary(result, before=current, now=as_of)), file=out)
    return code or shifted


def _broken_by_moves(
    result: Plan,
    events: list[Event],
    *,
    clinic: Clinic | None,
    patient: Patient | None,
    protocol: Protocol,
) -> list[Violation]:
    """The errors ``check`` finds that involve an appointment a person moved."""
    moved = {e.appointment for e in events if isinstance(e, Moved)}
    moved |= {e.appointment for e in events if isinstance(e, Attended) and e.at is not None}
    if not moved:
        return []
    found = check(result, protocol=protocol, clinic=clinic, patient=patient)
    return [v for v in found if v.severity == "error" and moved & set(v.appointments)]


def _check(args: argparse.Namespace, out: TextIO) -> int:
    current = _load_plan(args.plan_file)
    protocol = _plan_protocol(current, args.protocol)
    clinic = _load_clinic(args.clinic) if args.clinic else _builtin_clinic(current)
    patient = _load_patient(args.patient) if args.patient else _builtin_patient(current)
    bookings = _other_bookings(args.bookings, current.clinic, [protocol])
    now = _moment("--now", args.now, zone(current.time_zone), protocol) if args.now else None
    bookings += _busy(
        args,
        start=current.start,
        end=current.until + dt.timedelta(days=366),
        time_zone=current.time_zone,
        patient=patient,
    )
    violations = check(
        current,
        protocol=protocol,
        clinic=clinic,
        patient=patient,
        bookings=bookings,
        now=now,
    )
    if args.format == "json":
        print(json.dumps([v.model_dump(mode="json") for v in violations], indent=2), file=out)
    else:
        print(violation_table(violations), file=out)
        if clinic is None and current.clinic != "default-clinic":
            print("note: clinic rules were not checked; pass --clinic", file=out)
        if patient is None and current.patient is not None:
            print("note: patient rules were not checked; pass --patient", file=out)
    return EXIT_PROBLEMS if violations else EXIT_OK


def _runsheet(args: argparse.Namespace, out: TextIO) -> int:
    plans = [_load_plan(path) for path in args.plan_files]
    clinic = _load_clinic(args.clinic) if args.clinic else _builtin_clinic(plans[0])
    protocols = _protocols_of(plans, args.protocol)
    days = args.days if args.days is not None else 7 if args.week else 1
    try:
        sheet: RunSheet | RunWeek = (
            run_sheet(plans, day=args.date, clinic=clinic, protocols=protocols)
            if args.date and args.days is None
            else run_week(
                plans, start=args.date or args.week, days=days, clinic=clinic, protocols=protocols
            )
        )
    except InputError as err:  # name the file (or the option), not the position in a list
        if err.field == "days":
            raise err.at("--days") from None
        raise _in_file(err, args.plan_files) from None
    if args.format == "html":
        text = runsheet_html(sheet)
    elif args.format == "json":
        text = sheet.model_dump_json(indent=2)
    else:
        each = sheet.days if isinstance(sheet, RunWeek) else (sheet,)
        text = "\n\n".join(runsheet_table(day) for day in each)
        if each[0].monitoring_staff is None:
            text += "\nnote: the monitoring ratio was not checked; pass --clinic"
    _emit(text, args.output, out)
    return EXIT_PROBLEMS if sheet.over_ratio else EXIT_OK


def _event_named(err: InputError, typed: int, path: str | None) -> InputError:
    """``err`` with ``events[3]`` named as given: ``--event[3]``, or ``FILE[1]`` in the file.

    ``typed``: how many ``--event`` s come before the file's events in the list replan reads.
    """
    index, _, rest = err.field.removeprefix("events[").partition("]")
    if not (err.field.startswith("events[") and index.isdigit()):
        return err
    number = int(index)
    where = f"--event[{number}]" if number < typed or path is None else f"{path}[{number - typed}]"
    return err.at(where + rest)


def _in_file(err: InputError, paths: list[str]) -> InputError:
    """``err`` with ``plans[1].clinic`` named as the file it came from: ``b.json: clinic``."""
    index, _, rest = err.field.removeprefix("plans[").partition("]")
    if not (err.field.startswith("plans[") and index.isdigit() and int(index) < len(paths)):
        return err
    where = paths[int(index)] + (f": {rest.removeprefix('.')}" if rest else "")
    return err.at(where)


def _status(args: argparse.Namespace, out: TextIO) -> int:
    """Information, not a verdict: exit 0 whatever the statuses."""
    plans = [_load_plan(path) for path in args.plan_files]
    clinic = _load_clinic(args.clinic)
    local = clinic.zone if clinic is not None else zone(plans[0].time_zone)
    as_of = _moment("--as-of", args.as_of, local)
    protocols = _protocols_of(plans, args.protocol)
    try:
        found = clinic_status(plans, as_of=as_of, protocols=protocols, clinic=clinic)
    except InputError as err:  # name the file, not the position in a list
        raise _in_file(err, args.plan_files) from None
    if args.format == "json":
        text = json.dumps([s.model_dump(mode="json") for s in found], indent=2)
    else:
        text = status_table(found)
    return _emit(text, None, out)


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from ketaplan.verify import verify  # noqa: PLC0415 - Hypothesis is an optional extra
    except ImportError:
        print(
            "ketaplan: error: verify needs Hypothesis: pip install 'ketaplan[hypothesis]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    protocol = _load_protocol(args.protocol)
    clinic, patient = _load_clinic(args.clinic), _load_patient(args.patient)
    try:
        result = verify(
            protocol,
            clinic=clinic,
            patient=patient,
            max_examples=args.max_examples,
            seed=args.seed,
            max_seconds=args.max_seconds,
            max_closure_days=args.max_closure_days,
            first_start=args.first_start,
        )
    except InputError as err:  # name the option the user typed
        option = "--" + err.field.replace("_", "-").replace("first-start", "from")
        raise err.at(option) from None
    found = result.counterexample
    if args.format == "json":
        report = {
            "protocol": result.protocol,
            "ok": result.ok,
            "examples": result.examples,
            "seed": result.seed,
            "complete": result.complete,
            "counterexample": None if found is None else {
                "scenario": found.scenario.describe(),
                "problem": found.problem,
            },
        }  # fmt: skip
        print(json.dumps(report, indent=2), file=out)
    elif found is None:
        print(f"{result.protocol}: no counterexample in {quantity(result.examples, 'case')} "
              f"(seed {result.seed})", file=out)  # fmt: skip
    else:
        print(f"{result.protocol}: counterexample (seed {result.seed}, "
              f"{quantity(result.examples, 'case')} tried)", file=out)  # fmt: skip
        print(f"  {found.scenario.describe()}:", file=out)
        print(f"  {found.problem}", file=out)
        print(f"reproduce with: {_reproduce(args)}", file=out)
    if not result.complete:
        tried = f"{result.examples} of {quantity(args.max_examples, 'case')} tried"
        print(f"ketaplan: warning: stopped after {args.max_seconds:g} s with {tried}",
              file=sys.stderr)  # fmt: skip
    return EXIT_OK if found is None else EXIT_PROBLEMS


def _reproduce(args: argparse.Namespace) -> str:
    words = ["ketaplan", "verify", args.protocol, "--seed", str(args.seed)]
    words += ["--max-examples", str(args.max_examples)]
    for option in ("clinic", "patient"):
        if getattr(args, option) is not None:
            words += [f"--{option}", getattr(args, option)]
    if args.max_closure_days != VERIFY_CLOSURE_DAYS:
        words += ["--max-closure-days", str(args.max_closure_days)]
    if args.first_start != VERIFY_FROM:
        words += ["--from", args.first_start.isoformat()]
    return shlex.join(words)


def _builtin_clinic(current: Plan) -> Clinic | None:
    if current.clinic == "default-clinic":
        return default_clinic(current.time_zone)
    return demo_clinic() if current.clinic == demo_clinic().id else None


def _builtin_patient(current: Plan) -> Patient | None:
    return demo_patient() if current.patient == demo_patient().id else None


def _plan_protocol(current: Plan, name: str | None) -> Protocol:
    """The plan's protocol: ``--protocol``, or the built-in the plan names; checked to fit."""
    given = _load_protocol(name, option="--protocol") if name else None
    _protocols_given([current.protocol], [given] if given else [])
    return plan_protocol(current, given, None, patient_is="optional")[1]


def _protocols_given(used: Iterable[str], given: Iterable[Protocol]) -> None:
    """Each protocol the plans use that is not built in was given with ``--protocol``."""
    known = {protocol.id for protocol in given} | set(builtin_protocol_ids())
    missing = sorted(set(used) - known)
    if missing:
        raise InputError.saying(
            "--protocol",
            f"is required: the plan's protocol {missing[0]!r} is not built in (give its file)",
        )


def _moment(
    field: str, text: str, local: dt.tzinfo, protocol: Protocol | None = None
) -> dt.datetime:
    """A moment typed at the command line: with its UTC offset, or a wall time in ``local``.

    A wall time the clocks skip or repeat is read by ``protocol``'s calendar policy (its
    ``skipped_time`` and ``repeated_time``), as the planner reads the protocol's sessions; by
    RFC 5545 (02:30 on a spring-forward night is 03:30, a repeated time its first occurrence)
    when the command works with no one protocol. A plain ``replace`` kept a time that does not
    exist ("02:30-05:00"), which the calendar then showed an hour off.
    """
    expected = "a date and time YYYY-MM-DDTHH:MM (a date alone is not a time)"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(field, expected, text) from None
    if len(text.strip()) <= len("YYYY-MM-DD"):  # fromisoformat reads a bare date as midnight
        raise InputError(field, expected, text)
    if moment.tzinfo is not None:
        return moment
    if not isinstance(local, ZoneInfo):
        return moment.replace(tzinfo=local)
    if protocol is None:
        return resolve(moment.date(), moment.time(), local)
    policy = protocol.calendar
    try:
        return resolve(moment.date(), moment.time(), local, skipped=policy.skipped_time,
                       repeated=policy.repeated_time)  # fmt: skip
    except LocalTimeError as err:
        expected = (
            f"a time with its UTC offset, or a local time that exists once in {err.zone}: "
            f"{err.when} {err.problem} and protocol {protocol.id}'s {err.policy} is 'raise'"
        )
        raise InputError(field, expected, text) from err


def _decided(field: str, rest: str, local: dt.tzinfo, protocol: Protocol | None) -> Decided:
    """``PROPOSAL=DECISION[@TIME][#NOTE]``, or ``stop[#NOTE]``."""
    body, _, note = rest.partition("#")
    answer, _, when = body.partition("@")
    proposal, equals, decision = answer.partition("=")
    if not equals:
        proposal, decision = "", proposal
    data = {
        "proposal": proposal or None,
        "decision": decision,
        "at": _moment(field, when, local, protocol) if when else None,
        "note": note or None,
    }
    try:
        return Decided.model_validate(data)
    except DefinitionError:
        expected = "decided:PROPOSAL=DECISION[@TIME][#NOTE], e.g. decided:lapse-review-1=resume"
        raise InputError(field, expected, f"decided:{rest}") from None


def _event(
    field: str, text: str, local: dt.tzinfo, as_of: dt.datetime, protocol: Protocol | None = None
) -> Event:
    """One ``--event``; its times typed without an offset are read as :func:`_moment` reads."""
    kind, _, rest = text.partition(":")
    if kind == "correct":  # correct:missed:ID, ...: replaces what was recorded, in history
        return _correction(field, rest, local, as_of, protocol)
    if kind == "decided":
        return _decided(field, rest, local, protocol)
    if kind == "requested":
        return _requested(field, rest, text)
    if kind == "assessed":
        scale, _, value = rest.partition("=")
        score, _, on = value.partition("@")
        try:
            return Assessed(
                on=dt.date.fromisoformat(on) if on else as_of.date(),
                scale=scale,
                score=float(score),
            )
        except ValueError:
            raise InputError(field, "assessed:SCALE=SCORE[@YYYY-MM-DD]", text) from None
    target, at_sign, when = rest.partition("@")
    appointment, colon, flag = target.partition(":")
    form = _EVENT_FORMS.get(kind)
    if form is None:
        raise InputError(
            field,
            "attended:ID[=DOSE][@TIME], missed:ID[:worsening], cancelled:ID[@TIME], "
            "moved:ID@TIME, assessed:SCALE=SCORE[@DATE], decided:PROPOSAL=DECISION or "
            "requested:booster",
            text,
        )
    # Every part typed is read: a part this kind has no place for is an error, not dropped.
    wrong_flag = colon and (kind != "missed" or flag != "worsening")
    wrong_time = at_sign and (not when or kind == "missed")
    named, equals, dose = (
        appointment.partition("=") if kind == "attended" else (appointment, "", "")
    )
    no_dose = equals and not dose  # "attended:ID=": a dose begun and not typed
    if not named or wrong_flag or wrong_time or no_dose or (kind == "moved" and not when):
        raise InputError(field, form, text)
    at = _moment(field, when, local, protocol) if when else None
    if kind == "attended":
        try:
            amount = float(dose) if dose else None
        except ValueError:
            raise InputError(field, form, text) from None
        return Attended(appointment=named, at=at, dose=amount)
    if kind == "missed":
        return Missed(appointment=appointment, worsening=bool(flag))
    if kind == "cancelled":  # TIME: when the cancellation was made
        return Cancelled(appointment=appointment, made_at=at)
    assert at is not None  # noqa: S101 - a move has its time (checked above)
    return Moved(appointment=appointment, to=at)


def _requested(field: str, rest: str, text: str) -> Event:
    """``requested:booster[#NOTE]``."""
    what, _, note = rest.partition("#")
    if what != "booster":
        raise InputError(field, "requested:booster[#NOTE]", text)
    try:
        return Requested(note=note or None)
    except DefinitionError:
        raise InputError(
            field, "requested:booster[#NOTE] with a note of at most 2000 characters", text[:80]
        ) from None


def _correction(
    field: str, text: str, local: dt.tzinfo, as_of: dt.datetime, protocol: Protocol | None
) -> Event:
    """``correct:EVENT``: an attendance, no-show or cancellation that replaces the record."""
    made = None if text.startswith("correct:") else _event(field, text, local, as_of, protocol)
    if not isinstance(made, Attended | Missed | Cancelled):
        expected = "correct:attended:..., correct:missed:... or correct:cancelled:..."
        raise InputError(field, expected, f"correct:{text}")
    return made.model_copy(update={"correction": True})


#: What each event about one appointment is made of, for ``--event``.
_EVENT_FORMS = {
    "attended": "attended:ID[=DOSE][@TIME], e.g. attended:induction-2=84",
    "missed": "missed:ID[:worsening], e.g. missed:induction-3",
    "cancelled": "cancelled:ID[@TIME the cancellation was made]",
    "moved": "moved:ID@TIME, e.g. moved:induction-3@2026-12-09T10:00",
}


def _protocols_of(plans: list[Plan], names: list[str], *, every: bool = True) -> list[Protocol]:
    """The ``--protocol`` files given for the plans: each one a plan uses.

    ``every``: each plan's protocol that is not built in must be among them (not so for a
    waitlist, whose roster may name it).
    """
    loaded = [_load_protocol(name, option="--protocol") for name in names]
    if every:
        _protocols_given((plan.protocol for plan in plans), loaded)
    return _used_by("--protocol", loaded, {plan.protocol for plan in plans})


_Named = TypeVar("_Named", Protocol, Patient)


def _used_by(flag: str, given: list[_Named], used: set[str]) -> list[_Named]:
    """``given`` (protocols, patients), each the one of a plan: another would change nothing."""
    for item in given:
        if item.id not in used:
            expected = f"one that a plan uses ({', '.join(sorted(used)) or 'none'})"
            raise InputError(flag, expected, item.id)
    return given


def _plan_text(made: Plan) -> str:
    """A plan file's text (without the final newline :func:`_emit` adds)."""
    return dump_plan(made).removesuffix("\n")


def _emit(text: str, output: str | None, out: TextIO) -> int:
    text = for_terminal(text)  # no escape sequence from an input file reaches a terminal
    if output is None:
        print(text, file=out)
        return EXIT_OK
    try:
        Path(output).write_text(text + "\n", encoding="utf-8")
    except OSError as err:
        raise InputError("--output", "a writable file", f"{output} ({err.strerror})") from err
    print(f"wrote {output}", file=out)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
