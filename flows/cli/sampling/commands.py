"""The `sample` command group: numbers, size and appraise (variable or attribute). Every
SamplingError becomes an InputError, so the user gets one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from checks.sampling.attribute import appraise_attribute
from checks.sampling.frame import UNITS, parse_bounds
from checks.sampling.rng import GENERATOR, SamplingError, random_numbers
from checks.sampling.size import variable_sample_size
from checks.sampling.variable import appraise
from flows.cli.sampling.draw import draw_sample, parse_size, plan_universe
from flows.cli.sampling.render import appraisal_html, appraisal_json
from flows.cli.sampling.worksheet import SINGLE, read_strata, read_worksheet
from flows.outputs.atomic import write_text
from schemas.contract import ALL_EXPORTS
from schemas.errors import InputError

PROG = "therapy-audit sample"


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except SamplingError as err:
            raise InputError(str(err)) from None

    return run


def _seed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("the seed must be a number, e.g. 12345") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError("the seed must be a finite number")
    return value


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2))


def _cmd_numbers(args: argparse.Namespace) -> int:
    drawn = random_numbers(args.seed, args.frame_size, args.count, args.spares)
    data = {
        "seed": _number(args.seed),
        "frame_size": args.frame_size,
        "sample": list(drawn.sample),
        "selection_order": list(drawn.selection_order),
        "spares": list(drawn.spares),
        "sum": drawn.total,
        "generator": GENERATOR,
    }
    if args.json:
        _print_json(data)
        return 0
    order = {r: i for i, r in enumerate(drawn.selection_order, start=1)}
    print("Single stage random numbers (RAT-STATS)")
    print(f"  seed: {data['seed']}   frame: 1 to {args.frame_size}   generator: {GENERATOR}")
    print(f"  {args.count} sample numbers, {args.spares} spares")
    print("  selection order   value")
    for value in drawn.sample:
        print(f"  {order[value]:>15}   {value:>5}")
    if drawn.spares:
        print("  spares (selection order): " + ", ".join(map(str, drawn.spares)))
    print(f"  sum of all numbers drawn: {drawn.total}")
    return 0


def _cmd_size(args: argparse.Namespace) -> int:
    s = variable_sample_size(
        args.mean, args.sd, args.universe, args.precision, args.confidence, args.error_rate
    )
    data = {
        "sample_size": s.sample_size,
        "universe_size": s.universe_size,
        "mean": s.mean,
        "sd": s.sd,
        "precision_percent": s.precision_percent,
        "confidence_percent": s.confidence_percent,
        "z": s.z,
        "precision_amount": s.precision_amount,
        "error_rate_percent": s.error_rate_percent,
        "warnings": list(s.warnings),
    }
    if args.json:
        _print_json(data)
        return 0
    print(f"{PROG} size: {s.sample_size} units")
    print(
        f"  for +/- {s.precision_percent:g} % of the point estimate at {s.confidence_percent:g} % "
        f"confidence (z {s.z:.6f}), universe {s.universe_size}, mean {s.mean:,.2f}, "
        f"SD {s.sd:,.2f}"
    )
    for warning in s.warnings:
        print(f"  warning: {warning}")
    return 0


def _cmd_attribute(args: argparse.Namespace) -> int:
    for name in ("universe", "sample_size", "errors"):
        if getattr(args, name) is None:
            raise InputError(f"--attribute needs --{name.replace('_', '-')}")
    a = appraise_attribute(args.universe, args.sample_size, args.errors)
    data = {
        "universe_size": a.universe_size,
        "sample_size": a.sample_size,
        "errors": a.errors,
        "rate": a.rate,
        "projected": a.projected,
        "limits": {
            f"{round(lim.confidence * 100)}": {
                "sided": lim.sided,
                "lower": lim.lower,
                "upper": lim.upper,
                "lower_rate": lim.lower_rate,
                "upper_rate": lim.upper_rate,
            }
            for lim in a.limits
        },
        "method": "exact hypergeometric (RAT-STATS attribute appraisal)",
    }
    if args.json:
        _print_json(data)
        return 0
    print(f"{PROG} appraise --attribute: {a.errors} of {a.sample_size} sampled units in error")
    print(f"  projected: {a.projected:,.1f} of {a.universe_size} units ({a.rate:.2%})")
    for lim in a.limits:
        print(
            f"  {lim.confidence:.0%} {lim.sided}: {lim.lower} to {lim.upper} units "
            f"({lim.lower_rate:.2%} to {lim.upper_rate:.2%})"
        )
    return 0


def _universe(args: argparse.Namespace, first_rows: dict[str, int]) -> dict[str, int]:
    if args.universe is not None and args.strata is not None:
        raise InputError("give --universe or --strata, not both")
    if args.strata is not None:
        sizes = read_strata(args.strata)
        for name, row in first_rows.items():
            if name not in sizes:
                raise InputError(
                    f"worksheet '{args.worksheet}' row {row}: its stratum is not in "
                    f"the strata file '{args.strata}'"
                )
        return sizes
    if args.universe is None:
        planned = plan_universe(args.worksheet)
        if planned is None:
            raise InputError(
                "appraise needs --universe N or --strata FILE (or the sampling-plan.json "
                "`sample draw` wrote beside the worksheet)"
            )
        for name, row in first_rows.items():
            if name not in planned:
                raise InputError(
                    f"worksheet '{args.worksheet}' row {row}: its stratum is not in the "
                    "sampling plan beside it"
                )
        return planned
    if set(first_rows) != {SINGLE} and len(first_rows) > 1:
        raise InputError("the worksheet has several strata: give their sizes with --strata FILE")
    if args.universe < 1:
        raise InputError("--universe must be at least 1")
    return dict.fromkeys(first_rows, args.universe)


def _cmd_draw(args: argparse.Namespace) -> int:
    bounds = parse_bounds(args.strata) if args.strata else ()
    if args.spares < 0:
        raise InputError("--spares cannot be negative")
    plan = draw_sample(
        args.audit,
        args.out,
        unit=args.unit,
        size=parse_size(args.size),
        seed=args.seed,
        spares=args.spares,
        bounds=bounds,
        inputs={e: getattr(args, e) for e in ALL_EXPORTS if getattr(args, e) is not None},
    )
    rn = plan["random_numbers"]
    print(
        f"{PROG} draw: {plan['sample_size']['total']} {args.unit} units from a frame of "
        f"{plan['frame']['units']} ({plan['design']['type']} design), seed {rn['seed']}"
        + (" (from the clock)" if rn["seed_from_clock"] else "")
    )
    for name in plan["files"]:
        print(f"  {name:<21} {args.out / name}")
    return 0


def _cmd_appraise(args: argparse.Namespace) -> int:
    if args.attribute:
        return _cmd_attribute(args)
    if args.worksheet is None or args.out is None:
        raise InputError("appraise needs --worksheet FILE and --out DIR (or --attribute)")
    samples, paired, first_rows = read_worksheet(args.worksheet)
    result = appraise(samples, _universe(args, first_rows))
    data = appraisal_json(result, paired, args.worksheet.name)
    args.out.mkdir(parents=True, exist_ok=True)
    write_text(args.out / "appraisal.html", appraisal_html(data))
    write_text(args.out / "appraisal.json", json.dumps(data, indent=2) + "\n")
    if args.json:
        _print_json(data)
        return 0
    print(f"{PROG} appraise: {data['sample_size']} units, {data['design']} design")
    for amount in data["amounts"]:
        print(f"  {amount['key']}: ${amount['amount']:,.2f} ({amount['rule']})")
    for warning in data["warnings"]:
        print(f"  warning: {warning}")
    print(f"  appraisal: {args.out / 'appraisal.json'}")
    print(f"  report:    {args.out / 'appraisal.html'}")
    return 0


def add_sample_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `sample numbers | size | appraise` under the main parser."""
    parser = subparsers.add_parser(
        "sample",
        help="statistical sampling and extrapolation, numerically as OIG's RAT-STATS",
        description="Random numbers from a seed, sample sizes and the appraisal of a reviewed "
        "sample (variable or attribute), as OIG's RAT-STATS computes them.",
    )
    sub = parser.add_subparsers(dest="sample_command", required=True, metavar="SUBCOMMAND")
    numbers = sub.add_parser("numbers", help="RAT-STATS single-stage random numbers")
    numbers.add_argument("--seed", type=_seed, required=True, metavar="SEED", help=_HELP["seed"])
    numbers.add_argument("--frame-size", type=int, required=True, metavar="N",
                         help="units in the sampling frame, numbered 1 to N")  # fmt: skip
    numbers.add_argument("--count", type=int, required=True, metavar="n", help="sample size")
    numbers.add_argument("--spares", type=int, default=0, metavar="k", help="spares (default 0)")
    numbers.add_argument("--json", action="store_true", help="print JSON")
    numbers.set_defaults(handler=_guarded(_cmd_numbers))
    size = sub.add_parser("size", help="variable sample size from a probe's mean and SD")
    size.add_argument("--mean", type=float, required=True, metavar="M",
                      help="mean overpayment per unit, from a probe sample")  # fmt: skip
    size.add_argument("--sd", type=float, required=True, metavar="S",
                      help="standard deviation of the overpayment per unit")  # fmt: skip
    size.add_argument("--universe", type=int, required=True, metavar="N",
                      help="units in the universe")  # fmt: skip
    size.add_argument("--precision", type=float, required=True, metavar="P",
                      help="precision in percent of the point estimate, e.g. 25")  # fmt: skip
    size.add_argument("--confidence", type=float, required=True, metavar="C",
                      help="confidence in percent, e.g. 90")  # fmt: skip
    size.add_argument("--error-rate", type=float, metavar="R",
                      help="expected error rate in percent: size the differences")  # fmt: skip
    size.add_argument("--json", action="store_true", help="print JSON")
    size.set_defaults(handler=_guarded(_cmd_size))
    _add_draw_parser(sub)
    appr = sub.add_parser("appraise", help="appraise a reviewed sample (or --attribute)")
    appr.add_argument("--worksheet", type=Path, metavar="FILE", help="CSV or XLSX worksheet")
    appr.add_argument("--universe", type=int, metavar="N", help="units in the universe")
    appr.add_argument("--strata", type=Path, metavar="FILE", help="CSV: stratum,universe_size")
    appr.add_argument("--out", type=Path, metavar="DIR", help="folder for appraisal.json/html")
    appr.add_argument("--attribute", action="store_true", help="attribute appraisal instead")
    appr.add_argument("--sample-size", type=int, metavar="n", help="with --attribute")
    appr.add_argument("--errors", type=int, metavar="x", help="with --attribute")
    appr.add_argument("--json", action="store_true", help="print JSON")
    appr.set_defaults(handler=_guarded(_cmd_appraise))


def _add_draw_parser(sub: argparse._SubParsersAction) -> None:
    draw = sub.add_parser(
        "draw",
        help="draw the sample from a finished audit's universe and write the review worksheet",
        description="Number the universe of a finished `run` (frame.csv), draw the RAT-STATS "
        "sample, and write the review worksheet pre-filled from the findings, with the "
        "sampling plan.",
    )
    add = draw.add_argument
    add("--audit", type=Path, required=True, metavar="AUDIT_OUT", help=_HELP["audit"])
    add("--unit", choices=UNITS, required=True, help="sampling unit")
    add("--size", required=True, metavar="n", help=_HELP["size"])
    add("--spares", type=int, default=0, metavar="k", help="spares per stratum (default 0)")
    add("--seed", type=_seed, metavar="SEED", help=_HELP["seed"])
    add("--strata", metavar="BOUNDS", help=_HELP["strata"])
    add("--out", type=Path, required=True, metavar="DIR", help="output folder")
    for export in ALL_EXPORTS:
        add(f"--{export}", type=Path, metavar="PATH", help=_HELP["inputs"].format(export))
    draw.set_defaults(handler=_guarded(_cmd_draw))


_HELP = {
    "audit": "output folder of a finished `therapy-audit run` (with run.json)",
    "inputs": "the audit's {} input, when run.json records no path (a --redact run) or it "
    "moved; checked against the recorded SHA-256",
    "size": "sample size; with --strata a total shared in proportion to the strata, or one "
    "size per stratum: n1,n2,...",
    "seed": "random-number seed (default: made from the clock and recorded)",
    "strata": "stratify by paid amount: ascending dollar bounds, e.g. 100,500",
}
