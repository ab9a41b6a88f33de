"""The validation stage: read the exports, normalise, check the contract, quarantine.

Plain functions (a Prefect flow wraps them later). The claims export is required; notes, plans,
providers and remits are optional (a claims-only audit gives none of them) and, when given, go
through the same mapping, quarantine and counts. An export not given is absent from
validation.json and `results`; the audit gets an empty frame of its accepted columns instead
(`ValidationSummary` `absent` names them, so that the rules that need it say "no notes export
given"). All inputs are read before anything is written, so a whole-file problem (InputError)
leaves the output folder untouched.

`validation.json` (written next to the quarantine files):

    {
      "mapping": {"name": "ClinicSoft", "file": "data/mappings/example-ehr.toml"} | null,
      "totals": {"rows_read", "rows_accepted", "rows_quarantined", "problems"},
      "quarantine": {"csv": "quarantine.csv", "parquet": "quarantine.parquet", "problems": n},
      "exports": {
        "claims": {
          "input": "<path as given>", "rows_read", "rows_accepted", "rows_quarantined",
          "rows_filtered", "blank_rows_skipped", "problems", "problems_by_reason": {...},
          "warnings", "warnings_by_reason": {"<reason>": n, ...},
          "files": [{"source_file", "format", "encoding", "rows_read", "rows_accepted",
                     "rows_quarantined", "rows_filtered", "blank_rows_skipped", "problems",
                     "problems_by_reason", "warnings"}, ...]
        },
        "notes": {... same, plus "minutes_derived": n accepted rows with derived minutes},
        "plans": {...},
        "providers": {...},  # only when a providers export was given
        "remits": {...}      # only when a remits export was given (835 or a table)
      }
    }

rows_read = rows_accepted + rows_quarantined + rows_filtered (rows the mapping's row filter
dropped, flows/inputs/transform.py). `warnings`: contract problems the mapping turned into
warnings (`npi_check = "warn"`): counted, the row still accepted.

Reasons are grouped without the quoted raw value ("service_date is not a date ..."), so the
summary carries counts, never data.
"""

from __future__ import annotations

import dataclasses
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from checks.measures import note_text_hashes
from flows.inputs.counts import export_summary, summarize
from flows.inputs.mapping import SourceMapping, load_mapping
from flows.inputs.quarantine import export_quarantine, stack_quarantine, write_quarantine
from flows.inputs.read import RawExport, read_export
from flows.outputs.atomic import begin_run, write_text
from flows.outputs.files import VALIDATION_JSON
from schemas.contract import COLUMNS, SOURCE_FILE, SOURCE_ROW, VALID_NPI
from schemas.normalize import normalize
from schemas.validate import ValidationResult, validate_export

NOTE_TEXT = "note_text"
SOURCE_COLUMNS = ("_source_file", "_source_row")

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class ValidationSummary:
    """Accepted (typed) frames for the audit, per-export results and where the files went.
    `providers`: the accepted rows of the providers export (schemas.contract.PROVIDERS_COLUMNS),
    None when no providers export was given."""

    claims: pl.DataFrame
    notes: pl.DataFrame
    plans: pl.DataFrame
    results: dict[str, ValidationResult]
    quarantine_csv: Path
    quarantine_parquet: Path
    summary_path: Path
    summary: dict[str, Any]
    providers: pl.DataFrame | None = None
    # the accepted rows of the remits export (schemas.contract.REMITS_COLUMNS), None = not given
    remits: pl.DataFrame | None = None
    # (export, source_file as written) -> the file read; in memory only, since under --redact
    # the names written are not the files' names (flows/inputs/redact.py)
    source_paths: dict[tuple[str, str], Path] = dataclasses.field(default_factory=dict)

    @property
    def absent(self) -> tuple[str, ...]:
        """The evidence exports not given (notes, plans): their frames are empty stand-ins."""
        return tuple(e for e in ("notes", "plans") if e not in self.results)

    @property
    def unavailable(self) -> dict[str, str]:
        """Evidence export -> why the rules that need it cannot use it: not given, or given with
        no accepted row (every row quarantined or filtered out by the mapping)."""
        out = {e: f"no {e} export given" for e in self.absent}
        for export in ("notes", "plans"):
            if export not in out and self.results[export].rows_accepted == 0:
                out[export] = f"the {export} export has no accepted rows"
        return out

    def rechunked(self) -> ValidationSummary:
        """The same, with the accepted frames in one chunk per column. A frame of many chunks is
        copied whole by the first eager hstack or with_columns downstream (the engine's match did
        it to the claims and the notes, a second copy in the rules stage); the runners call this
        once the raw exports are freed, so the one copy made here never sits beside them."""
        results = {
            e: dataclasses.replace(r, accepted=unused_dropped(e, r.accepted).rechunk())
            for e, r in self.results.items()
        }
        providers = results["providers"].accepted if "providers" in results else None
        remits = results["remits"].accepted if "remits" in results else None
        return dataclasses.replace(
            self,
            remits=remits,
            claims=results["claims"].accepted,
            notes=results["notes"].accepted if "notes" in results else self.notes,
            plans=results["plans"].accepted if "plans" in results else self.plans,
            providers=providers,
            results=results,
        )


# Claims columns only an X12 file fills (its line control number, its minutes-billed note), which
# every reader of the claims adds back when absent (checks/remits.py, checks/assemble.py).
X12_ONLY = ("line_control", "line_note")


def unused_dropped(export: str, accepted: pl.DataFrame) -> pl.DataFrame:
    """`accepted` without the X12-only claims columns when no row fills them: a text column holds
    16 bytes per row even when blank, a third of a gigabyte at ten million lines."""
    if export != "claims":
        return accepted
    blank = [
        c for c in X12_ONLY if c in accepted.columns and accepted[c].null_count() == accepted.height
    ]
    return accepted.drop(blank)


def export_paths(
    claims: PathLike,
    notes: PathLike | None = None,
    plans: PathLike | None = None,
    providers: PathLike | None = None,
    remits: PathLike | None = None,
) -> dict[str, PathLike]:
    """export -> path of the exports given, in schemas.contract.ALL_EXPORTS order."""
    given = {
        "claims": claims,
        "notes": notes,
        "plans": plans,
        "providers": providers,
        "remits": remits,
    }
    return {e: p for e, p in given.items() if p is not None}


def _empty(export: str) -> pl.DataFrame:
    """An export with the contract's columns as text and no rows (an export not given)."""
    names = [c.name for c in COLUMNS[export]]
    return pl.DataFrame(
        schema={
            **dict.fromkeys(names, pl.String()),
            SOURCE_FILE: pl.String(),
            SOURCE_ROW: pl.Int64(),
        }
    )


def npi_warnings(mapping: SourceMapping | None) -> frozenset[str] | None:
    """The checks that only warn under the mapping (`npi_check = "warn"`), else None."""
    return frozenset({VALID_NPI}) if mapping is not None and mapping.npi_check == "warn" else None


def validate_raw(
    export: str, raw: RawExport | None, warn: frozenset[str] | None = None
) -> ValidationResult:
    """One export read (None: not given, an empty frame of its columns) through the contract
    exactly as an audit validates it; `warn`: npi_warnings(mapping)."""
    if raw is not None and raw.is_released:
        # its rows were let go when it was validated: checking it again would accept no row
        raise ValueError(f"the {export} export was already validated and its rows released")
    frame = _empty(export) if raw is None else raw.frame
    hashes = None
    if NOTE_TEXT in frame.columns:
        # note text is only hashed (checks.measures.note_text_hash, which trims it as the
        # contract's clean-up would) and checks nothing in the contract: it is hashed straight
        # from the rows read and blanked before the contract sees it, so no cleaned copy of the
        # largest column by far is made (the quarantine quotes the raw rows, not these)
        hashes = note_text_hashes(frame.get_column(NOTE_TEXT))
        frame = frame.with_columns(pl.lit(None, pl.String).alias(NOTE_TEXT))
    normalized = normalize(export, frame, {} if raw is None else raw.formats)
    typed = normalized.typed
    if hashes is not None:
        typed = typed.with_columns(hashes)
    failures = normalized.failures
    found = None if raw is None else raw.reader_problems()  # X12 claims not read
    if found is not None:
        failures = pl.concat([failures, found.cast(failures.schema)])
    return validate_export(export, typed, failures, warn=warn)


def validate_inputs(
    claims: PathLike,
    notes: PathLike | None,
    plans: PathLike | None,
    out_dir: PathLike,
    mapping: PathLike | SourceMapping | None = None,
    providers: PathLike | None = None,
    remits: PathLike | None = None,
) -> ValidationSummary:
    """Read, normalise and validate the claims export and the optional ones given (notes, plans,
    providers, remits: None = not given);
    write the quarantine and validation.json to `out_dir`. Raises InputError/MappingError for
    whole-file problems."""
    if mapping is not None and not isinstance(mapping, SourceMapping):
        mapping = load_mapping(mapping)
    paths = export_paths(claims, notes, plans, providers, remits)
    raws = {export: read_export(export, path, mapping) for export, path in paths.items()}
    return validate_raws(raws, out_dir, mapping)


def validate_raws(
    raws: dict[str, RawExport],
    out_dir: PathLike,
    mapping: SourceMapping | None = None,
    redacted: bool = False,
) -> ValidationSummary:
    """Normalise and validate exports already read (flows/inputs/read.read_export, one per export,
    possibly concurrently: claims and the optional notes, plans and providers); write the
    quarantine and validation.json to `out_dir`. `redacted`: the exports went through
    flows/inputs/redact, and the quarantine hides the cells that broke the contract. Each entry of
    `raws` is replaced by its RawExport.released() once that export is checked: a caller that
    keeps no other reference to the rows read frees them during validation."""

    # masked extracts: an NPI failing its check digit is counted, not quarantined
    warn = npi_warnings(mapping)

    def checked(export: str) -> tuple[ValidationResult, pl.DataFrame | None, dict[str, Any]]:
        """One export checked, its quarantine and validation.json part taken, and its rows
        released from `raws` at once: the exports read together hold several gigabytes at ten
        million lines, and the rows of an export already checked are not needed again."""
        raw = raws[export]
        result = validate_raw(export, raw, warn)
        part = export_quarantine(raw, result, hide_broken=redacted)
        described = export_summary(raw, result)
        raws[export] = raw.released()
        return result, part, described

    # the exports are independent; polars and Pandera's polars checks release the GIL, so
    # the smaller exports' checks fill the gaps between the largest one's
    with ThreadPoolExecutor(max_workers=len(raws) or 1, thread_name_prefix="validate") as pool:
        futures = {export: pool.submit(checked, export) for export in list(raws)}
    done = {e: f.result() for e, f in futures.items()}
    del futures
    results: dict[str, ValidationResult] = {e: d[0] for e, d in done.items()}
    quarantine = stack_quarantine({e: d[1] for e, d in done.items()})
    described = {e: d[2] for e, d in done.items()}
    del done
    paths = {(e, f.name): f.path for e, raw in raws.items() for f in raw.files}
    return validated(results, quarantine, described, out_dir, mapping, paths)


def validated(
    results: dict[str, ValidationResult],
    quarantine: pl.DataFrame,
    described: dict[str, dict[str, Any]],
    out_dir: PathLike,
    mapping: SourceMapping | None,
    source_paths: dict[tuple[str, str], Path],
) -> ValidationSummary:
    """The exports checked (results, their quarantine and validation.json parts), written to
    `out_dir`: validate_raws and the partitioned run (flows/scale/validate.py) end here."""
    warn = npi_warnings(mapping)
    # an evidence export not given: the same path over no rows gives the audit a frame of the
    # accepted columns (the rules read empty notes as no notes), never counted or reported
    stand_ins = {
        e: validate_raw(e, None, warn).accepted for e in ("notes", "plans") if e not in results
    }
    # No rule, report or export reads the accepted rows' source file and row once the contract
    # has checked them (the counts per file are taken above; the quarantine took its rows'
    # origin and original values in `checked`), nor the note text, which left one hash per row
    # in `validate_raw` (the cloned-documentation measure compares notes by it, never by words):
    # they leave here.
    for export, result in list(results.items()):
        unread = [c for c in (NOTE_TEXT, *SOURCE_COLUMNS) if c in result.accepted.columns]
        if unread:
            results[export] = dataclasses.replace(result, accepted=result.accepted.drop(unread))
    for export, frame in list(stand_ins.items()):
        unread = [c for c in (NOTE_TEXT, *SOURCE_COLUMNS) if c in frame.columns]
        stand_ins[export] = frame.drop(unread)
    accepted = {**stand_ins, **{e: r.accepted for e, r in results.items()}}

    out = Path(out_dir)
    # the first file this run writes: an earlier run's files leave the folder first (run.json
    # before the rest), so a crash from here on never leaves two runs' files side by side
    begin_run(out)
    csv_path, parquet_path = write_quarantine(quarantine, out)
    summary = summarize(described, results, mapping)
    summary_path = out / VALIDATION_JSON
    write_text(summary_path, json.dumps(summary, indent=2) + "\n")
    return ValidationSummary(
        claims=accepted["claims"],
        notes=accepted["notes"],
        plans=accepted["plans"],
        results=results,
        quarantine_csv=csv_path,
        quarantine_parquet=parquet_path,
        summary_path=summary_path,
        summary=summary,
        providers=results["providers"].accepted if "providers" in results else None,
        remits=results["remits"].accepted if "remits" in results else None,
        source_paths=source_paths,
    )
