"""`therapy-audit` command line.

One `_add_<name>_parser(subparsers)` + `_cmd_<name>(args) -> int` pair per subcommand; add a
new one to `build_parser`. Exit codes: 0 when the stage ran (whatever it found), 2 for bad
input or configuration, reported as ONE line `therapy-audit: error: <message>` on stderr with
no traceback. Console output carries counts and paths only, never note text or patient ids.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from flows.validate_stage import validate_inputs
from schemas.contract import EXPORTS
from schemas.errors import InputError

PROG = "therapy-audit"


def _add_validate_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check the three exports against the input contract and write the quarantine",
        description=(
            "Read the claims, notes and plans exports (a .csv/.parquet/.xlsx file or a folder "
            "of them), check every row against the input contract, and write quarantine.csv, "
            "quarantine.parquet and validation.json to the output folder."
        ),
    )
    for export in EXPORTS:
        parser.add_argument(
            f"--{export}", required=True, type=Path, metavar="PATH", help=f"{export} export"
        )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument(
        "--mapping", type=Path, metavar="FILE", help="TOML file mapping your column names"
    )
    parser.set_defaults(handler=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    result = validate_inputs(args.claims, args.notes, args.plans, args.out, mapping=args.mapping)
    width = max(len(e) for e in EXPORTS) + 1
    print(f"{PROG} validate: contract checked")
    for export in EXPORTS:
        r = result.results[export]
        files = len(result.summary["exports"][export]["files"])
        print(
            f"  {export + ':':<{width}} {r.rows_read} read = {r.rows_accepted} accepted "
            f"+ {r.rows_quarantined} quarantined ({files} file{'s' if files != 1 else ''})"
        )
    problems = result.summary["quarantine"]["problems"]
    print(f"  quarantine: {problems} problem(s) in {result.quarantine_csv}")
    print(f"              and {result.quarantine_parquet}")
    print(f"  summary:    {result.summary_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Batch audit of therapy claims against notes and plans of care."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_validate_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse already printed usage; return its code so callers (and tests) get an int.
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return int(args.handler(args))
    except InputError as err:  # includes MappingError
        # One line whatever the message: the user sees it, a traceback would only bury it.
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except OSError as err:
        # e.g. an output folder that cannot be created: configuration, not a crash.
        where = f" '{err.filename}'" if err.filename else ""
        print(f"{PROG}: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
