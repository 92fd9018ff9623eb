"""The ``ketaplan`` command.

Exit codes everywhere: 0 ok, 1 problems found (``check``, ``verify``), 2 usage or input error.
A user error never prints a traceback: it prints what is wrong, on stderr, and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from ketaplan import __version__
from ketaplan.clinic import Clinic
from ketaplan.errors import DefinitionError, KetaplanError
from ketaplan.loading import (
    DefinitionKind,
    builtin_protocols,
    load_definition,
    load_protocol,
)
from ketaplan.patient import Patient
from ketaplan.protocol import Protocol
from ketaplan.summary import describe_protocol

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

SAFETY = (
    "ketaplan plans what a clinician decided; it gives no medical advice. Every clinical number "
    "is a configurable default with its source."
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit 2 with one clear line."""

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
    show.set_defaults(run=_show)

    check_files = commands.add_parser("validate", help="validate protocol, clinic or patient files")
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
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line and return its exit code."""
    stdout = out or sys.stdout
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return run(args, stdout)
    except KetaplanError as err:
        print(f"ketaplan: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - e.g. `ketaplan show x | head`
        return EXIT_OK


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
    print(describe_protocol(load_protocol(args.protocol)), file=out)
    return EXIT_OK


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    kind: DefinitionKind | None = args.kind
    status = EXIT_OK
    for path in args.files:
        try:
            definition = load_definition(path, kind=kind)
        except DefinitionError as err:
            status = EXIT_USAGE
            for problem in err.problems:
                print(str(problem), file=sys.stderr)
            continue
        print(f"{path}: ok ({_kind_of(definition)} {definition.id})", file=out)
    return status


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
