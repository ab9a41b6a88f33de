"""The options several `therapy-audit` commands share: the exports (the required claims and the
optional notes, plans and providers exports), the mapping and output folder, the report options
and the audit options. Kept apart from flows/cli/main.py, which wires the commands; importing
neither Prefect nor Great Expectations."""

from __future__ import annotations

import argparse
from pathlib import Path

from schemas.contract import EXPORTS

PROVIDERS_HELP = (
    "providers export (optional: npi, name, role, discipline, supervising_npi); the rules that "
    "need it are 'not applicable' without it, and the report shows provider names beside NPIs"
)

REMITS_HELP = (
    "remittances (optional: X12 835 files or a table of claim_id, line_control, paid_amount, "
    "...): paid and allowed amounts joined to the claim lines, so money at risk is what was paid"
)


EVIDENCE_HELP = (
    "{} export (optional: without it the audit is of the claims alone, and the rules that need "
    "it are 'not applicable: no {} export given')"
)


def add_inputs(parser: argparse.ArgumentParser) -> None:
    for export in EXPORTS:
        parser.add_argument(
            f"--{export}", required=True, type=Path, metavar="PATH", help=f"{export} export"
        )
    for export in ("notes", "plans"):
        parser.add_argument(
            f"--{export}", type=Path, metavar="PATH", help=EVIDENCE_HELP.format(export, export)
        )
    parser.add_argument("--providers", type=Path, metavar="PATH", help=PROVIDERS_HELP)
    parser.add_argument("--remits", type=Path, metavar="PATH", help=REMITS_HELP)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument(
        "--mapping", type=Path, metavar="FILE", help="TOML file mapping your column names"
    )


REDACT_HELP = (
    "replace patient ids with a keyed hash (HMAC-SHA256) and leave note text out of every "
    "output. The key is read from the environment variable THERAPY_AUDIT_REDACT_KEY; when it "
    "is not set, a random key is generated for this run, used in memory only and not written "
    "anywhere (the hashes then differ from run to run)"
)


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redact", action="store_true", help=REDACT_HELP)
    parser.add_argument(
        "--report-limit",
        type=int,
        default=200,
        metavar="N",
        help="findings per rule shown in report.html (default 200); every finding is in "
        "findings.csv, findings.parquet and findings.xlsx",
    )


def add_audit_options(parser: argparse.ArgumentParser, *, orchestrate: bool = True) -> None:
    if orchestrate:
        parser.add_argument(
            "--orchestrate",
            action="store_true",
            help="run as the Prefect flow (recorded in the Prefect UI) even when no Prefect API "
            "is configured; Prefect then starts a temporary local server (about 15-20 s). "
            "Without it the stages run directly unless PREFECT_API_URL is set",
        )
    parser.add_argument(
        "--scope",
        metavar="NAME",
        help="history series this run belongs to; runs are compared with the previous run of "
        "the same scope (default: derived from the input paths and the profile)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--history",
        type=Path,
        metavar="PATH",
        help="history database (DuckDB file; default .therapy-audit/history.duckdb in the "
        "parent of the output folder)",
    )
    where.add_argument("--no-history", action="store_true", help="do not record or compare")
    parser.add_argument(
        "--reviewed",
        type=Path,
        metavar="FILE",
        help="reviewed-findings file (CSV or XLSX: finding_id, disposition, reviewer, date, "
        "reason); reviewed findings are marked and counted separately, never hidden",
    )
    parser.add_argument(
        "--period",
        metavar="START..END",
        help="audit period (ISO dates of service, inclusive): only claim lines within it are "
        "audited, the others are counted; notes and plans of any date stay evidence, and the "
        "date expectation checks against it (default: every claim line)",
    )
    parser.add_argument(
        "--no-expectations",
        action="store_true",
        help="skip the dataset expectations (Great Expectations, a slow import)",
    )


def history_option(args: argparse.Namespace) -> Path | bool:
    return False if args.no_history else (args.history if args.history is not None else True)
