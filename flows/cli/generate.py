"""`therapy-audit generate`: the synthetic exports and their labels (flows/synth)."""

from __future__ import annotations

import argparse
from pathlib import Path

from reports.formatting import fmt_int
from schemas.errors import InputError

PROG = "therapy-audit"


def add_generate_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write synthetic claims, notes, plans and providers with ground-truth labels",
        description=(
            "Write synthetic claims, notes, plans and providers exports and labels (which line "
            "carries "
            "which violation) for a multi-provider PT/OT/behavioral-health practice. Same "
            "seed, same bytes."
        ),
    )
    parser.add_argument("--lines", type=int, required=True, metavar="N", help="about N lines")
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        metavar="S",
        help="random seed (default 1): same seed, same files",
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder for the generated exports"
    )
    parser.add_argument(
        "--format",
        choices=("parquet", "csv", "x12"),
        default="parquet",
        help="file format of the exports (default parquet); x12: claims as an 837P file and "
        "their payments as an 835 file, the rest CSV",
    )
    parser.add_argument("--clean", action="store_true", help="inject no violations")
    parser.set_defaults(handler=_cmd_generate)


def _cmd_generate(args: argparse.Namespace) -> int:
    from flows.synth.generate import generate

    if args.lines < 1:
        raise InputError("--lines must be at least 1")
    g = generate(args.lines, args.seed, args.out, args.format, clean=args.clean)
    print(
        f"{PROG} generate: {fmt_int(g.claims)} claim lines, {fmt_int(g.notes)} note rows, "
        f"{fmt_int(g.plans)} plans, {fmt_int(g.providers)} providers, "
        f"{fmt_int(g.labels)} labelled violations in {g.out}"
    )
    return 0
