"""The universe of a finished audit, for `sample draw`: run.json read, its inputs found at the
paths it recorded and checked against their SHA-256, the claims read and checked as the run did
(same mapping, redaction and period), and the audit's findings. Every problem is one InputError
line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flows.inputs.counts import rows_filtered
from flows.inputs.mapping import load_mapping
from flows.inputs.read import read_export
from flows.inputs.redact import KEY_ENV, redact_raw
from flows.inputs.validate import npi_warnings, validate_raw
from flows.run.record import RUN_JSON
from flows.schedule.drop import parse_period
from flows.state.history import describe_inputs
from schemas.errors import InputError

FINDINGS_PARQUET = "findings.parquet"
EXPORTS = ("claims", "notes", "plans", "providers")


@dataclass(frozen=True)
class AuditUniverse:
    """The accepted claim lines of the audit (within its period) and what was left out."""

    run: dict[str, Any]
    claims: pl.DataFrame
    findings: pl.DataFrame
    rows_read: int
    rows_quarantined: int
    # dropped by the mapping's row filter (rows_read = accepted + quarantined + filtered)
    rows_filtered: int
    rows_outside_period: int
    claims_sha256: str


def load_run(audit: Path, given: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """run.json, with the input paths of `given` (export -> path) in place of those recorded; a
    --redact run records none (the names may carry patient ids), so they must be given."""
    path = audit / RUN_JSON
    if not path.is_file():
        raise InputError(
            f"'{audit}' has no {RUN_JSON}: give the output folder of a finished `therapy-audit run`"
        )
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        raise InputError(f"'{path}' is not a run record (not readable JSON)") from None
    inputs = run.get("inputs") if isinstance(run, dict) else None
    if not isinstance(inputs, dict) or not isinstance(inputs.get("claims"), dict):
        raise InputError(f"'{path}' records no inputs: re-run the audit")
    for export, where in (given or {}).items():
        if isinstance(inputs.get(export), dict):
            inputs[export]["path"] = os.path.abspath(where)
    missing = [e for e, i in inputs.items() if not (isinstance(i, dict) and i.get("path"))]
    if missing and (run.get("options") or {}).get("redact"):
        flags = ", ".join(f"--{e}" for e in missing)
        raise InputError(
            f"'{path}' records no input paths (a --redact run keeps them out): give {flags}"
        )
    if missing:
        raise InputError(
            f"'{path}' records no input paths (an older version wrote it): re-run the audit"
        )
    return run


def unchanged_inputs(
    run: dict[str, Any], audit: Path, exports: Iterable[str], then: str
) -> tuple[dict[str, Path], dict[str, Any]]:
    """The paths of `exports` where run.json says they are, and describe_inputs of them now;
    one line naming the first missing or changed since the run (`then`: what to do first)."""
    inputs = run["inputs"]
    paths = {e: Path(inputs[e]["path"]) for e in exports if e in inputs}
    for export, path in paths.items():
        if not path.exists():
            raise InputError(
                f"the audit's {export} input '{path}' (from {audit / RUN_JSON}) no longer exists"
            )
    try:
        now = describe_inputs(
            paths["claims"],
            paths.get("notes"),
            paths.get("plans"),
            providers=paths.get("providers"),
            remits=paths.get("remits"),
        )
    except (KeyError, OSError) as err:
        raise InputError(f"the audit's inputs could not be read ({type(err).__name__})") from None
    for export, info in now.items():
        if info["sha256"] != inputs[export].get("sha256"):
            raise InputError(
                f"the audit's {export} input '{paths[export]}' has changed since the run "
                f"(SHA-256 differs): {then}"
            )
    return paths, now


def _check_key(claims: pl.DataFrame, findings: pl.DataFrame) -> None:
    """A key other than the run's makes other pseudonyms: the findings' ids then differ."""
    keys = ["claim_id", "line_number"]
    ours = claims.select(*keys, pl.col("patient_id").alias("ours"))
    theirs = findings.select(pl.col(keys[0]), pl.col(keys[1]).cast(ours.schema[keys[1]]),
                             "patient_id")  # fmt: skip
    if theirs.join(ours, on=keys).filter(pl.col("patient_id") != pl.col("ours")).height:
        raise InputError(
            f"{KEY_ENV} is not the key the audit was redacted with: its patient pseudonyms differ"
        )


def load_universe(
    audit: Path, *, patient_ids: bool, inputs: Mapping[str, Path] | None = None
) -> AuditUniverse:
    """The run's claims, as accepted by the contract, in its period; `patient_ids`: the unit
    needs patient ids (a redacted run's are then re-hashed with the run's key). `inputs`: input
    paths given on the command line (load_run)."""
    if not audit.is_dir():
        raise InputError(f"audit folder '{audit}' does not exist or is not a folder")
    run = load_run(audit, inputs)
    findings_path = audit / FINDINGS_PARQUET
    if not findings_path.is_file():
        raise InputError(f"'{audit}' has no {FINDINGS_PARQUET}: re-run the audit")
    _, now = unchanged_inputs(run, audit, EXPORTS, "re-run the audit before drawing its sample")
    claims_sha = str(now["claims"]["sha256"])
    options = run.get("options") or {}
    mapping = load_mapping(options["mapping"]) if options.get("mapping") else None
    raw = read_export("claims", run["inputs"]["claims"]["path"], mapping)
    if options.get("redact") and patient_ids:
        # the same pseudonyms as the run's findings only with the run's key (flows/inputs/redact)
        key = os.environ.get(KEY_ENV, "")
        if not key:
            raise InputError(
                f"the audit was redacted: set {KEY_ENV} to its key to draw patient-days, or "
                "draw claims or lines"
            )
        raw = redact_raw(raw, key.encode("utf-8"))
    # the contract as the audit applied it: its mapping's NPI mode, X12 claims not read
    result = validate_raw("claims", raw, npi_warnings(mapping))
    filtered = rows_filtered(raw)
    accepted = result.accepted
    period = parse_period(options.get("period"))
    outside = 0
    if period is not None:
        start, end = period
        kept = accepted.filter(pl.col("service_date").is_between(start, end, closed="both"))
        outside = accepted.height - kept.height
        accepted = kept
    try:
        findings = pl.read_parquet(findings_path)
    except Exception as err:  # a damaged file is one line, not a traceback
        raise InputError(f"'{findings_path}' could not be read ({type(err).__name__})") from None
    if options.get("redact") and patient_ids and findings.height:
        _check_key(accepted, findings)
    return AuditUniverse(
        run=run,
        claims=accepted,
        findings=findings,
        rows_read=result.rows_read + filtered,
        rows_quarantined=result.rows_read - result.rows_accepted,
        rows_filtered=filtered,
        rows_outside_period=outside,
        claims_sha256=claims_sha,
    )
