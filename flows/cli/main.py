"""`therapy-audit` command line.

One `_add_<name>_parser(subparsers)` + `_cmd_<name>(args) -> int` pair per subcommand (the `sample`
group: flows/cli/sampling). Exit 0 when the stage ran (whatever it found), 2 for bad input or
configuration as ONE line `therapy-audit: error: <message>` on stderr, no traceback. Console
output: counts and paths only, never note text or patient ids. `run` and `demo` run the stages
directly unless a Prefect API is configured or `--orchestrate` is given (flows/run/modes.py);
only then is Prefect imported. `validate` and `--help` import neither."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from checks.profile import ProfileError
from data import SAMPLE
from flows.cli.console import print_audit
from flows.cli.dask_options import (
    add_dask_options,
    add_partition_options,
    dask_flow_options,
    partitions_on_dask,
    patient_partitions,
    wants_dask,
)
from flows.cli.generate import add_generate_parser
from flows.cli.options import (
    REDACT_HELP,
    add_audit_options,
    add_inputs,
    add_packet_options,
    add_report_options,
    history_option,
    packet_count,
)
from flows.cli.packet import add_packet_parser
from flows.cli.sampling.commands import add_sample_parser
from flows.inputs.validate import validate_inputs
from flows.run.config import resolve_profile
from flows.run.modes import keep_prefect_local, use_prefect
from flows.run.provenance import program_version
from flows.schedule.drop import DEFAULT_WINDOW, check_window
from flows.state.dispositions import load_dispositions
from reports.formatting import fmt_int
from schemas.errors import InputError

PROG = "therapy-audit"


def _add_run_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="validate the exports and audit them",
        description=(
            "Validate the claims export and the optional notes, plans and providers exports "
            "(without notes and plans: a claims-only audit), run every audit rule over the "
            "accepted rows and write findings.csv, findings.parquet, findings.xlsx, summary.json, "
            "report.html and the quarantine to the output folder. Each line is audited under "
            "the profile of its payer_type unless --profile names one profile for all lines."
        ),
    )
    add_inputs(parser)
    parser.add_argument(
        "--profile",
        metavar="NAME_OR_FILE",
        help="medicare, medicaid, commercial or a profile TOML file (overrides payer_type)",
    )
    add_report_options(parser)
    add_packet_options(parser)
    add_audit_options(parser)
    add_dask_options(parser)
    add_partition_options(parser)
    parser.set_defaults(handler=_cmd_run)


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise InputError("--report-limit must be at least 1")


def _audit(
    args: argparse.Namespace,
    claims: Path,
    notes: Path | None,
    plans: Path | None,
    profile: str | None = None,
    mapping: Path | None = None,
    providers: Path | None = None,
    remits: Path | None = None,
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
        "history": history_option(args),
        "reviewed": args.reviewed,
        "period": args.period,
        "expectations": not args.no_expectations,
        "packets": packet_count(args) if "packets" in args else 0,
    }
    # every option checked before anything starts: a typo costs no thread and no server
    checked = settings(
        claims, notes, plans, args.out, providers=providers, remits=remits, **options
    )
    on_dask = partitions_on_dask(args)
    prefect = use_prefect(args.orchestrate or (wants_dask(args) and on_dask is None))
    cut = patient_partitions(args, claims, prefect)
    if not prefect:
        from flows.cli.progress import console_progress
        from flows.run.direct import run_direct

        if checked.expectations:
            stages.start_ge_preload()  # done already by the console script (flows/cli/entry.py)
        if cut > 1:
            from flows.run.partitioned import run_partitioned

            progress = console_progress(args.quiet)
            return run_partitioned(checked, cut, progress, args.work_dir, dask_address=on_dask)
        return run_direct(checked, console_progress(args.quiet))
    keep_prefect_local()
    from flows.run.prefect_flow import audit_flow  # imports Prefect (seconds)

    if checked.expectations:
        stages.start_ge_preload()  # after Prefect's import: overlaps the server's start-up
    # the options that name no input file, which Prefect may keep as the flow run's parameters
    shared: dict[str, Any] = {
        "out": str(args.out),
        "period": args.period,
        "redact": args.redact,
        "expectations": checked.expectations,
        "report_limit": args.report_limit,
        "packets": options["packets"],
        **dask_flow_options(args),
    }
    if args.redact:
        from flows.run.prepared import prepare

        # the paths stay in this process: the flow takes the checked settings by a token
        return audit_flow(
            prepared=prepare(checked),
            scope=checked.scope,
            history=checked.history is not None,
            **shared,
        )
    history = options["history"]
    return audit_flow(
        claims=str(claims),
        notes=None if notes is None else str(notes),
        plans=None if plans is None else str(plans),
        profile=profile,
        mapping=None if mapping is None else str(mapping),
        scope=args.scope,
        history=history if isinstance(history, bool) else str(history),
        reviewed=None if args.reviewed is None else str(args.reviewed),
        providers=None if providers is None else str(providers),
        remits=None if remits is None else str(remits),
        **shared,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    outputs = _audit(
        args,
        args.claims,
        args.notes,
        args.plans,
        args.profile,
        args.mapping,
        args.providers,
        args.remits,
    )
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
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/demo"),
        metavar="DIR",
        help="output folder (default out/demo)",
    )
    add_report_options(parser)
    add_audit_options(parser)
    parser.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    claims, notes, plans = (SAMPLE / f"{e}.csv" for e in ("claims", "notes", "plans"))
    outputs = _audit(args, claims, notes, plans, providers=SAMPLE / "providers.csv")
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
            "claims/, notes/, plans/ subfolders; newest by modification time; a providers* file "
            "or providers/ subfolder too when there is one) for the --window "
            "period into --out/<run id>/. Needs a Prefect server to be useful (prefect server "
            "start; PREFECT_API_URL); blocks until interrupted."
        ),
    )
    parser.add_argument(
        "--cron", required=True, metavar="CRON", help='cron schedule of the runs, e.g. "0 6 1 * *"'
    )
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
    parser.add_argument(
        "--name", default="scheduled-audit", help="deployment name (default scheduled-audit)"
    )
    add_report_options(parser, quiet=False)
    add_audit_options(parser, orchestrate=False)
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

    history = history_option(args)
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


def _add_validate_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check the exports against the input contract and write the quarantine",
        description=(
            "Read the claims export and the optional notes, plans and providers exports (a "
            ".csv/.parquet/.xlsx file or a folder of them), check every row against the input "
            "contract, and write quarantine.csv, "
            "quarantine.parquet and validation.json to the output folder."
        ),
    )
    add_inputs(parser)
    parser.add_argument("--redact", action="store_true", help=REDACT_HELP)
    parser.set_defaults(handler=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    if args.redact:
        from flows.inputs.redact import redaction_key, validate_redacted

        result = validate_redacted(
            args.claims, args.notes, args.plans, args.out, redaction_key(),
            mapping=args.mapping, providers=args.providers, remits=args.remits,
        )  # fmt: skip
    else:
        result = validate_inputs(
            args.claims, args.notes, args.plans, args.out, mapping=args.mapping,
            providers=args.providers, remits=args.remits,
        )  # fmt: skip
    width = max(len(e) for e in result.results) + 1
    print(f"{PROG} validate: contract checked")
    for export in result.results:
        counts = result.summary["exports"][export]
        files = len(counts["files"])
        filtered = counts["rows_filtered"]
        print(
            f"  {export + ':':<{width}} {fmt_int(counts['rows_read'])} read = "
            f"{fmt_int(counts['rows_accepted'])} accepted + "
            f"{fmt_int(counts['rows_quarantined'])} quarantined"
            + (f" + {fmt_int(filtered)} filtered by the mapping" if filtered else "")
            + f" ({files} file{'s' if files != 1 else ''})"
        )
    problems = result.summary["quarantine"]["problems"]
    print(f"  quarantine: {fmt_int(problems)} problem(s) in {result.quarantine_csv}")
    print(f"              and {result.quarantine_parquet}")
    print(f"  summary:    {result.summary_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Batch audit of therapy claims against notes and plans of care."
    )
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {program_version()}",
        help="print the program's version and exit",
    )  # fmt: skip
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run_parser(subparsers)
    _add_validate_parser(subparsers)
    add_generate_parser(subparsers)
    _add_demo_parser(subparsers)
    _add_serve_parser(subparsers)
    add_packet_parser(subparsers)
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
