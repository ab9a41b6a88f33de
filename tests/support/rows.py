"""Rows of the exports for the ingest and validation tests: contract-valid rows to vary one
cell at a time, an all-text frame with source columns, a CSV writer for such rows, the example
mapping's billing-system rows, and the read-normalise-validate path that must accept them."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from data import MAPPINGS
from schemas.contract import SOURCE_FILE, SOURCE_ROW, npi_check_digit
from schemas.normalize import normalize
from schemas.validate import validate_export

EXAMPLE_MAPPING = MAPPINGS / "example-ehr.toml"


def make_npi(first_nine: str) -> str:
    return first_nine + str(npi_check_digit(first_nine))


NPI = make_npi("123456789")

VALID: dict[str, dict[str, str]] = {
    "claims": {
        "claim_id": "C1",
        "line_number": "1",
        "patient_id": "P1",
        "rendering_npi": NPI,
        "payer_type": "medicare",
        "payer_id": "MCR",
        "service_date": "2026-01-05",
        "procedure_code": "97110",
        "modifiers": "GP",
        "units": "2",
        "charge_amount": "150.00",
        "paid_amount": "100.00",
    },
    "notes": {
        "note_id": "N1",
        "patient_id": "P1",
        "provider_npi": NPI,
        "service_date": "2026-01-05",
        "procedure_code": "97110",
        "start_time": "09:00",
        "end_time": "09:30",
        "minutes": "30",
        "signed_at": "2026-01-05 12:00",
        "note_text": "Therapeutic exercise.",
    },
    "plans": {
        "plan_id": "PL1",
        "patient_id": "P1",
        "discipline": "PT",
        "cert_start": "2026-01-01",
        "cert_end": "2026-03-31",
        "signed_date": "2026-01-02",
        "certifying_npi": NPI,
    },
    "providers": {
        "npi": NPI,
        "name": "Dana Synthetic, PT",
        "role": "PT",
        "discipline": "PT",
        "supervising_npi": "",
    },
    "remits": {
        "claim_id": "C1",
        "line_control": "C1-1",
        "procedure_code": "97110",
        "modifiers": "GP",
        "service_date": "2026-01-05",
        "units": "2",
        "charge_amount": "150.00",
        "paid_amount": "100.00",
        "allowed_amount": "",
        "co_adjustment": "25.00",
        "adjustments": "CO-45 25.00",
        "claim_status": "1",
    },
}


def valid_row(export: str, **changes: str | None) -> dict[str, str | None]:
    return {**VALID[export], **changes}


def text_frame(rows: list[dict[str, str | None]], source_file: str = "f.csv") -> pl.DataFrame:
    """Rows as an all-text frame with `_source_file` and 1-based `_source_row`."""
    columns = list(rows[0])
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String)
    ).with_columns(
        pl.lit(source_file).alias(SOURCE_FILE),
        pl.int_range(1, len(rows) + 1, dtype=pl.Int64).alias(SOURCE_ROW),
    )


def write_csv_text(path: Path, rows: list[dict[str, str | None]], encoding: str = "utf-8") -> Path:
    header = list(rows[0])
    frame = pl.DataFrame([[r.get(c) for c in header] for r in rows], schema=header, orient="row")
    path.write_bytes(frame.cast(pl.String).write_csv().encode(encoding))
    return path


def accepted(raw_export) -> pl.DataFrame:
    normalized = normalize(raw_export.export, raw_export.frame, raw_export.formats)
    result = validate_export(raw_export.export, normalized.typed, normalized.failures)
    assert result.problems.height == 0, result.problems["reason"].to_list()
    return result.accepted


# ------------------------------------------------------------------------------ folders


# One row per export as the example mapping's billing system writes it (mapping and CLI tests).
CLINICSOFT = {
    "claims": {
        "Claim #": "CS-100",
        "Line": "1",
        "Patient Acct": "000123",
        "Rendering NPI": NPI,
        "Payer Class": "Medicare",
        "DOS": "01/05/2026",
        "CPT": "97110",
        "Mods": "GP 59",
        "Units": "2",
        "Billed": "$1,200.00",
        "Paid": "",
        "Front Desk Notes": "extra column",
    },
    "notes": {
        "Visit #": "V1",
        "Patient Acct": "000123",
        "Clinician NPI": NPI,
        "Visit Date": "1/5/2026",
        "CPT": "97110",
        "Time In": "9:00 AM",
        "Time Out": "9:50 AM",
        "Total Min": "",
        "Signed On": "01/05/2026 4:15 PM",
        "Narrative": "Gait training.",
    },
    "plans": {
        "POC #": "POC-9",
        "Patient Acct": "000123",
        "Discipline": "pt",
        "Cert From": "01/01/2026",
        "Cert Thru": "03/31/2026",
        "MD Signed": "01/03/2026",
        "Certifying NPI": NPI,
    },
}

# The three exports of a full audit (claims with their evidence: notes and plans).
THREE_EXPORTS = ("claims", "notes", "plans")
