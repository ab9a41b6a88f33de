"""`--redact`: patient ids become keyed hashes and note text is left out of every output.

Redaction happens right after the files are read, before validation, so no later stage (the
quarantine, the audit, the findings, the report, the workbook) ever holds an original patient
id or a note's text. A patient id becomes `PT-` + the first 20 hex digits of
HMAC-SHA256(key, id): the same id gives the same pseudonym throughout a run, so notes, plans and
claims still match, but without the key nobody can test a guessed id against it (a plain hash
of a medical-record number could be reversed by trying every number).

The key is THERAPY_AUDIT_REDACT_KEY when set (pseudonyms then stay the same across runs, so a
reviewer holding the key can re-identify a finding); otherwise a random key is drawn for the run,
used in memory only and never written anywhere.

In the quarantine's original_values only the columns the contract reads are kept: extra columns
of the source files (a patient's name, a date of birth...) are unknown and may be PHI.

File names may carry patient ids too (`claims_<id>.csv`): each file is renamed, for every output
(validation.json, the quarantine, the report, the workbook, run.json, the history), to its
export and the first 12 hex digits of its SHA-256 (`claims-3fa9c2d10b7e.csv`; `sha256sum` finds
the file again), and the path given becomes the export's name. The files' real paths stay in
memory (`SourceFile.path`), for the report's input hashes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from flows.inputs.mapping import SourceMapping, load_mapping
from flows.inputs.read import RawExport, SourceFile, read_export
from flows.inputs.validate import PathLike, ValidationSummary, export_paths, validate_raws
from flows.run.provenance import sha256_file
from schemas.contract import SOURCE_FILE, SOURCE_ROW
from schemas.text import as_text, blank_to_null

KEY_ENV = "THERAPY_AUDIT_REDACT_KEY"
PREFIX = "PT-"
HEX_DIGITS = 20  # 80 bits: no collision in practice among a practice's patients
PATIENT = "patient_id"
NOTE_TEXT = "note_text"


def redaction_key(environ: Mapping[str, str] | None = None) -> bytes:
    """The key from THERAPY_AUDIT_REDACT_KEY, else 32 random bytes for this run only."""
    value = (os.environ if environ is None else environ).get(KEY_ENV, "")
    return value.encode("utf-8") if value else secrets.token_bytes(32)


def pseudonym(patient_id: str, key: bytes) -> str:
    digest = hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_DIGITS]


def hash_ids(values: pl.Series, key: bytes) -> pl.Series:
    """Pseudonyms of `values` as the contract reads them (text, surrounding blanks stripped, so
    " P1" in one file and "P1" in another stay the same patient); blank stays null."""
    text = (
        values.to_frame("v").select(blank_to_null(as_text(pl.col("v"), values.dtype))).to_series()
    )
    distinct = text.drop_nulls().unique().to_list()
    lookup = {v: pseudonym(v, key) for v in distinct}
    return text.replace_strict(lookup, default=None, return_dtype=pl.String).alias(values.name)


def _redact_source(source: SourceFile, key: bytes) -> SourceFile:
    header_map = {c: h for c, h in source.header_map.items() if c != NOTE_TEXT}
    keep = [h for h in header_map.values() if h in source.original.columns]
    original = source.original.select(*keep, SOURCE_ROW)
    patient = header_map.get(PATIENT)
    if patient in original.columns:
        original = original.with_columns(hash_ids(original[patient], key))
    return dataclasses.replace(source, original=original, header_map=header_map)


def redacted_names(export: str, paths: list[Path]) -> list[str]:
    """`<export>-<12 hex of the file's SHA-256><suffix>` per file; two files of one content in a
    folder are told apart by a counter, so rows keep a unique (file, row) identity."""
    names: list[str] = []
    for path in paths:
        name = f"{export}-{sha256_file(path)[:12]}"
        suffix = path.suffix.lower()
        taken = sum(1 for n in names if n.rsplit(".", 1)[0].startswith(name))
        names.append(f"{name}-{taken + 1}{suffix}" if taken else f"{name}{suffix}")
    return names


def redact_raw(raw: RawExport, key: bytes) -> RawExport:
    """`raw` with patient ids pseudonymised, note text removed (in the contract frame and in
    every file's original rows) and file names replaced (module doc)."""
    frame = raw.frame
    if PATIENT in frame.columns:
        frame = frame.with_columns(hash_ids(frame[PATIENT], key))
    if NOTE_TEXT in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias(NOTE_TEXT))
    names = redacted_names(raw.export, [s.path for s in raw.files])
    renamed = {s.name: n for s, n in zip(raw.files, names, strict=True)}
    frame = frame.with_columns(pl.col(SOURCE_FILE).replace_strict(renamed, return_dtype=pl.String))
    files = tuple(
        dataclasses.replace(_redact_source(s, key), name=renamed[s.name]) for s in raw.files
    )
    return dataclasses.replace(raw, frame=frame, files=files, path=Path(raw.export))


def validate_redacted(
    claims: PathLike,
    notes: PathLike | None,
    plans: PathLike | None,
    out_dir: PathLike,
    key: bytes,
    mapping: PathLike | SourceMapping | None = None,
    providers: PathLike | None = None,
    remits: PathLike | None = None,
) -> ValidationSummary:
    """flows.inputs.validate.validate_inputs with the exports redacted as soon as they are read
    (same outputs, same checks; nothing unredacted reaches the output folder)."""
    if mapping is not None and not isinstance(mapping, SourceMapping):
        mapping = load_mapping(mapping)
    paths = export_paths(claims, notes, plans, providers, remits)
    raws = {e: redact_raw(read_export(e, path, mapping), key) for e, path in paths.items()}
    return validate_raws(raws, out_dir, mapping, redacted=True)
