"""`therapy-audit packet`: the evidence packet of one claim, patient or provider of a finished
audit, written from its folder (run.json for the inputs and options, findings.parquet).

The exports are read again where run.json says they are, checked against their SHA-256, and
validated as the run did (same mapping, same redaction) into a temporary folder that is thrown
away: the packet shows the audit's evidence, and nothing in the audit folder changes. Every
problem is one InputError line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from flows.cli.sampling.universe import load_run, unchanged_inputs
from flows.inputs.mapping import load_mapping
from flows.inputs.read import read_export
from flows.inputs.redact import KEY_ENV, redact_raw
from flows.inputs.validate import ValidationSummary, validate_raws
from flows.outputs.files import FINDINGS_PARQUET
from flows.outputs.packets import packet_frames, packet_page, write_atomic
from flows.outputs.report import provider_names, run_info
from flows.run.context import load_context
from flows.schedule.drop import parse_period
from reports import metrics
from schemas.contract import ALL_EXPORTS
from schemas.errors import InputError


def add_packet_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "packet",
        help="write the evidence packet of a claim, patient or provider of a finished audit",
        description=(
            "Write one printable, self-contained page for a claim (its lines, the notes matched "
            "to them with times, minutes and signature, the patient's plans of care, the "
            "findings and the rule text), or for the claims with findings of a patient or a "
            "provider, from the output folder of a finished `therapy-audit run`. The exports "
            "are read again from where run.json recorded them and must be unchanged."
        ),
    )
    parser.add_argument(
        "--audit",
        required=True,
        type=Path,
        metavar="OUT",
        help="output folder of a finished `therapy-audit run` (with run.json)",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--claim", metavar="ID", help="the packet of this claim id")
    which.add_argument(
        "--patient",
        metavar="ID",
        help="the packet of this patient's claims with findings (a redacted audit: the "
        "pseudonym shown in its findings)",
    )
    which.add_argument(
        "--provider",
        metavar="NPI",
        help="the packet of this rendering provider's claims with findings",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="folder to write the packet to"
    )
    for export in ALL_EXPORTS:
        parser.add_argument(
            f"--{export}",
            type=Path,
            metavar="PATH",
            help=f"the audit's {export} input, when run.json records no path (a --redact run) "
            "or it moved; checked against the recorded SHA-256",
        )
    parser.set_defaults(handler=_cmd_packet)


def _validated(
    paths: dict[str, Path], options: dict[str, Any], *, need_key: bool
) -> tuple[ValidationSummary, str]:
    """The exports validated as the run did, and a sentence when pseudonyms may differ."""
    mapping = load_mapping(options["mapping"]) if options.get("mapping") else None
    raws = {e: read_export(e, p, mapping) for e, p in paths.items()}
    note = ""
    if options.get("redact"):
        key = os.environ.get(KEY_ENV, "")
        if not key and need_key:
            raise InputError(f"the audit was redacted: set {KEY_ENV} to its key to find a patient")
        if not key:
            note = (
                f"The audit was redacted and {KEY_ENV} is not set: the patient pseudonyms in "
                "this packet are this packet's own, not those of the audit's findings."
            )
        secret = key.encode("utf-8") if key else os.urandom(32)
        raws = {e: redact_raw(raw, secret) for e, raw in raws.items()}
    with tempfile.TemporaryDirectory(prefix="therapy-audit-packet-") as scratch:
        # the quarantine and validation.json land here and are thrown away
        return validate_raws(raws, scratch, mapping), note


def _findings(audit: Path) -> pl.DataFrame:
    path = audit / FINDINGS_PARQUET
    if not path.is_file():
        raise InputError(f"'{audit}' has no {FINDINGS_PARQUET}: re-run the audit")
    try:
        return pl.read_parquet(path)
    except Exception as err:  # a damaged file is one line, not a traceback
        raise InputError(f"'{path}' could not be read ({type(err).__name__})") from None


def _claims_of(
    kind: str, ident: str, claims: pl.DataFrame, findings: pl.DataFrame
) -> tuple[list[str], str]:
    """The claim ids of the packet and a sentence saying what it covers."""
    if kind == "claim":
        if claims.filter(pl.col("claim_id") == ident).height == 0:
            raise InputError(f"claim '{ident}' is not among the audit's accepted claim lines")
        return [ident], ""
    column = "patient_id" if kind == "patient" else "provider_npi"
    ids = findings.filter(pl.col(column) == ident).get_column("claim_id").unique().sort()
    if ids.len() == 0:
        raise InputError(f"the audit has no finding for {kind} '{ident}'")
    return ids.to_list(), f"The packet covers the {kind}'s {ids.len():,} claims with findings."


def _cmd_packet(args: argparse.Namespace) -> int:
    audit: Path = args.audit
    if not audit.is_dir():
        raise InputError(f"audit folder '{audit}' does not exist or is not a folder")
    kind, ident = next(
        (k, getattr(args, k)) for k in ("claim", "patient", "provider") if getattr(args, k)
    )
    given = {e: getattr(args, e) for e in ALL_EXPORTS if getattr(args, e, None) is not None}
    run = load_run(audit, given)
    findings = _findings(audit)
    paths, _ = unchanged_inputs(run, audit, run["inputs"], f"re-run the audit in '{audit}' first")
    options = run.get("options") or {}
    validation, note = _validated(paths, options, need_key=kind == "patient")
    claim_ids, covers = _claims_of(kind, ident, validation.claims, findings)
    context = load_context(options.get("profile"))
    period = parse_period(options.get("period"))
    started = dt.datetime.fromisoformat(run["started_at"]) if run.get("started_at") else None
    info = run_info(
        validation.summary,
        context.label,
        period if period is not None else metrics.service_period(validation.claims),
        redacted=bool(options.get("redact")),
        now=started,
        run_id=str(run.get("run_id") or ""),
        audit_period=period is not None,
    )
    frames = packet_frames(
        validation.claims, validation.notes, validation.plans, context, claim_ids
    )
    name, page = packet_page(
        kind, ident, frames, findings, context, info, provider_names(validation),
        note=" ".join(s for s in (covers, note) if s),
    )  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / name
    write_atomic(path, page)
    # the console never shows a patient id (the packet itself does, unless redacted)
    shown = "the patient" if kind == "patient" else f"{kind} {ident}"
    print(f"therapy-audit packet: {len(claim_ids):,} claim(s) of {shown}")
    print(f"packet: {path}")
    return 0
