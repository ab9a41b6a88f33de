"""`therapy-audit` command line.

One `_add_<name>_parser(subparsers)` + `_cmd_<name>(args) -> int` pair per subcommand (the `sample`
group: flows/cli/sampling). Exit 0 when the stage ran (whatever it found), 2 for bad input or
configuration as ONE line `therapy-audit: error: <message>` on stderr, no traceback. Console
output carries counts and paths only, never note text or patient ids. `run` and `demo` run the
stages directly unless a Prefect API is configured or `--orchestrate` is given
(flows/run/modes.py); only then is Prefect imported. `validate` and `--help` import neither.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from checks.profile import ProfileError
from data import SAMPLE
from flows.cli.console import print_audit
from flows.cli.dask_options import add_dask_options, dask_flow_options, wants_dask
from flows.cli.sampling.commands import add_sample_parser
from flows.inputs.validate import validate_inputs
from flows.run.config import resolve_profile
from flows.run.modes import keep_prefect_local, use_prefect
from flows.schedule.drop import DEFAULT_WINDOW, check_window
from flows.state.dispositions import load_dispositions
from schemas.contract import EXPORTS
from schemas.errors import InputError

PROG = "therapy-audit"


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


def _add_audit_options(parser: argparse.ArgumentParser, *, orchestrate: bool = True) -> None:
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


def _history(args: argparse.Namespace) -> Path | bool:
    return False if args.no_history else (args.history if args.history is not None else True)


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
    _add_audit_options(parser)
    add_dask_options(parser)
    parser.set_defaults(handler=_cmd_run)


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise InputError("--report-limit must be at least 1")


def _audit(
    args: argparse.Namespace,
    claims: Path,
    notes: Path,
    plans: Path,
    profile: str | None = None,
    mapping: Path | None = None,
) -> Any:
    """One audit, direct or as the Prefect flow (flows/run/modes.py); AuditOutputs either way."""
    from flows.run import stages
    from flows.run.settings import settings

    _check_limit(args.report_limit)
    options = {
        "profile": profile,
        "mapping": mapping,
        "redact": args.redact,
        "per_rule": args.report_limit,
        "scope": args.scope,
        "history": _history(args),
        "reviewed": args.reviewed,
        "period": args.period,
        "expectations": not args.no_expectations,
    }
    # every option checked before anything starts: a typo costs no thread and no server
    checked = settings(claims, notes, plans, args.out, **options)
    if not use_prefect(args.orchestrate or wants_dask(args)):
        from flows.run.direct import run_direct

        if checked.expectations:
            stages.start_ge_preload()  # overlaps GE's slow import with reading the exports
        return run_direct(checked)
    keep_prefect_local()
    from flows.run.prefect_flow import audit_flow  # imports Prefect (seconds)

    if checked.expectations:
        stages.start_ge_preload()  # after Prefect's import: overlaps the server's start-up
    history = options["history"]
    return audit_flow(
        out=str(args.out),
        claims=str(claims),
        notes=str(notes),
        plans=str(plans),
        profile=profile,
        mapping=None if mapping is None else str(mapping),
        scope=args.scope,
        history=history if isinstance(history, bool) else str(history),
        reviewed=None if args.reviewed is None else str(args.reviewed),
        period=args.period,
        redact=args.redact,
        expectations=checked.expectations,
        report_limit=args.report_limit,
        **dask_flow_options(args),
    )


def _cmd_run(args: argparse.Namespace) -> int:
    outputs = _audit(args, args.claims, args.notes, args.plans, args.profile, args.mapping)
    print(f"{PROG} run: audit complete")
    print_audit(outputs)
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
    _add_audit_options(parser)
    parser.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    outputs = _audit(args, SAMPLE / "claims.csv", SAMPLE / "notes.csv", SAMPLE / "plans.csv")
    print(f"{PROG} demo: audited the synthetic sample in {SAMPLE}")
    print_audit(outputs)
    return 0


def _add_serve_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="audit the newest exports of a drop folder on a schedule (Prefect serve)",
        description=(
            "Serve the audit flow on a cron schedule. Each scheduled run audits the newest "
            "claims, notes and plans exports in --inputs (claims*/notes*/plans* files, or "
            "claims/, notes/, plans/ subfolders; newest by modification time) for the --window "
            "period into --out/<run id>/. Needs a Prefect server to be useful (prefect server "
            "start; PREFECT_API_URL); blocks until interrupted."
        ),
    )
    parser.add_argument("--cron", required=True, metavar="CRON", help='e.g. "0 6 1 * *"')
    parser.add_argument("--inputs", required=True, type=Path, metavar="DIR", help="drop folder")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output root")
    parser.add_argument(
        "--window",
        default=DEFAULT_WINDOW,
        metavar="WINDOW",
        help="audit period relative to the run's date, limiting the lines audited as --period "
        "does: last-month (default), last-quarter, last-week, last-N-days (e.g. last-7-days), "
        "month-to-date or none (every line)",
    )
    parser.add_argument("--profile", metavar="NAME_OR_FILE", help="as for run")
    parser.add_argument("--mapping", type=Path, metavar="FILE", help="as for run")
    parser.add_argument("--timezone", metavar="TZ", help="of the cron schedule (default UTC)")
    parser.add_argument("--name", default="scheduled-audit", help="deployment name")
    _add_report_options(parser)
    _add_audit_options(parser, orchestrate=False)
    parser.set_defaults(handler=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    _check_limit(args.report_limit)
    check_window(args.window)
    if not args.inputs.is_dir():
        raise InputError(f"drop folder '{args.inputs}' does not exist or is not a folder")
    if args.period:
        raise InputError("serve takes --window, not --period: each run computes its period")
    if args.profile:
        resolve_profile(args.profile)
    if args.reviewed is not None:
        load_dispositions(args.reviewed)
    if not use_prefect(False):
        print(
            f"{PROG} serve: no Prefect API configured (PREFECT_API_URL): Prefect starts a "
            "temporary server that has no UI and stops with this command; see README, "
            "'Scheduled audits'",
            file=sys.stderr,
        )
    keep_prefect_local()
    from flows.schedule.serve import build_deployment, deployment_parameters, serve_scheduled

    history = _history(args)
    parameters = deployment_parameters(
        args.inputs,
        args.out,
        window=args.window,
        profile=args.profile,
        mapping=args.mapping,
        scope=args.scope,
        history=history if isinstance(history, bool) else str(history),
        reviewed=args.reviewed,
        redact=args.redact,
        expectations=not args.no_expectations,
        report_limit=args.report_limit,
    )
    deployment = build_deployment(args.cron, parameters, name=args.name, timezone=args.timezone)
    print(
        f"{PROG} serve: '{deployment.name}' audits {parameters['inputs']} on '{args.cron}' "
        f"({args.timezone or 'UTC'}), window {args.window}, into {parameters['out']}/<run id>/"
    )
    serve_scheduled(deployment)
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
    from flows.synth.generate import generate

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
    _add_serve_parser(subparsers)
    add_sample_parser(subparsers)
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
