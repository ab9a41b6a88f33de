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

from checks.profile import ProfileError
from flows.validate_stage import validate_inputs
from schemas.contract import EXPORTS
from schemas.errors import InputError

PROG = "therapy-audit"


ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _add_inputs(parser: argparse.ArgumentParser) -> None:
    for export in EXPORTS:
        parser.add_argument(
            f"--{export}", required=True, type=Path, metavar="PATH", help=f"{export} export"
        )
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


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redact", action="store_true", help=REDACT_HELP)
    parser.add_argument(
        "--report-limit",
        type=int,
        default=200,
        metavar="N",
        help="findings per rule shown in report.html (default 200); every finding is in "
        "findings.csv, findings.parquet and findings.xlsx",
    )


def _add_run_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="validate the exports and audit them",
        description=(
            "Validate the claims, notes and plans exports, run every audit rule over the "
            "accepted rows and write findings.csv, findings.parquet, findings.xlsx, summary.json, "
            "report.html and the quarantine to the output folder. Each line is audited under "
            "the profile of its payer_type unless --profile names one profile for all lines."
        ),
    )
    _add_inputs(parser)
    parser.add_argument(
        "--profile",
        metavar="NAME_OR_FILE",
        help="medicare, medicaid, commercial or a profile TOML file (overrides payer_type)",
    )
    _add_report_options(parser)
    parser.set_defaults(handler=_cmd_run)


def _print_audit(outputs: object) -> None:
    from flows.audit_stage import AuditOutputs

    assert isinstance(outputs, AuditOutputs)
    s = outputs.summary
    inputs = s.get("inputs", {})
    for export in EXPORTS:
        if export in inputs:
            i = inputs[export]
            print(
                f"  {export + ':':<7} {i['rows_read']} read = {i['rows_accepted']} accepted "
                f"+ {i['rows_quarantined']} quarantined"
            )
    print(
        f"  audited {s['lines_audited']} lines on {s['claims_audited']} claims: "
        f"{s['findings']} findings on {s['lines_with_findings']} lines, "
        f"${s['amount_at_risk']:,.2f} at risk"
    )
    for sev, row in s["by_severity"].items():
        if row["findings"]:
            print(f"    {sev:<8} {row['findings']} findings, ${row['amount_at_risk']:,.2f}")
    failed = [r for r, v in s["by_rule"].items() if v["status"] == "failed to run"]
    if failed:
        print(f"  rules that failed to run: {', '.join(failed)} (see summary.json)")
    print(f"  findings:   {outputs.findings_csv}")
    if outputs.findings_xlsx is not None:
        print(f"  workbook:   {outputs.findings_xlsx}")
    print(f"  summary:    {outputs.summary_json}")
    print(f"  quarantine: {outputs.validation.quarantine_csv}")
    if outputs.redacted:
        print("  patient ids redacted (keyed hash), note text left out")
    if outputs.report_html is not None:
        print(f"report: {outputs.report_html}")


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise InputError("--report-limit must be at least 1")


def _cmd_run(args: argparse.Namespace) -> int:
    from flows.audit_stage import run_audit

    _check_limit(args.report_limit)
    outputs = run_audit(
        args.claims,
        args.notes,
        args.plans,
        args.out,
        profile=args.profile,
        mapping=args.mapping,
        redact=args.redact,
        per_rule=args.report_limit,
    )
    print(f"{PROG} run: audit complete")
    _print_audit(outputs)
    return 0


def _add_demo_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="audit the synthetic sample in data/sample",
        description="Audit the shipped synthetic sample (data/sample) into --out and write "
        "its report.html there.",
    )
    parser.add_argument("--out", type=Path, default=Path("out/demo"), metavar="DIR")
    _add_report_options(parser)
    parser.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from flows.audit_stage import run_audit

    _check_limit(args.report_limit)
    outputs = run_audit(
        SAMPLE / "claims.csv",
        SAMPLE / "notes.csv",
        SAMPLE / "plans.csv",
        args.out,
        redact=args.redact,
        per_rule=args.report_limit,
    )
    print(f"{PROG} demo: audited the synthetic sample in {SAMPLE}")
    _print_audit(outputs)
    return 0


def _add_generate_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write synthetic claims, notes and plans with ground-truth labels",
        description=(
            "Write synthetic claims, notes and plans exports and labels (which line carries "
            "which violation) for a multi-provider PT/OT/behavioral-health practice. Same "
            "seed, same bytes."
        ),
    )
    parser.add_argument("--lines", type=int, required=True, metavar="N", help="about N lines")
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--clean", action="store_true", help="inject no violations")
    parser.set_defaults(handler=_cmd_generate)


def _cmd_generate(args: argparse.Namespace) -> int:
    from flows.generate import generate

    if args.lines < 1:
        raise InputError("--lines must be at least 1")
    g = generate(args.lines, args.seed, args.out, args.format, clean=args.clean)
    print(
        f"{PROG} generate: {g.claims} claim lines, {g.notes} note rows, {g.plans} plans, "
        f"{g.labels} labelled violations in {g.out}"
    )
    return 0


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
    _add_inputs(parser)
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
    _add_run_parser(subparsers)
    _add_validate_parser(subparsers)
    _add_generate_parser(subparsers)
    _add_demo_parser(subparsers)
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
    except (InputError, ProfileError) as err:  # includes MappingError
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
