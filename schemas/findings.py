"""The findings contract: one output schema for every rule (as Tuva does for its checks).

findings.csv / findings.parquet hold one row per finding per affected claim line, columns exactly
FINDINGS_COLUMNS, sorted by claim_id, line_number, rule_id.
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl

FINDINGS_SCHEMA = pl.Schema(
    {
        "finding_id": pl.String(),
        "rule_id": pl.String(),
        "severity": pl.String(),
        "claim_id": pl.String(),
        "line_number": pl.Int64(),
        "patient_id": pl.String(),
        "provider_npi": pl.String(),
        "service_date": pl.Date(),
        "procedure_code": pl.String(),
        "billed_units": pl.Int64(),
        "supported_units": pl.Int64(),
        "excess_units": pl.Int64(),
        "amount_at_risk": pl.Float64(),
        "message": pl.String(),
        "evidence": pl.String(),
    }
)
FINDINGS_COLUMNS = tuple(FINDINGS_SCHEMA)
FINDINGS_ORDER = ("claim_id", "line_number", "rule_id")


class FindingsSchema(pa.DataFrameModel):
    """What every audit run writes; checked on the collected findings before they are saved."""

    finding_id: str = pa.Field(nullable=False, unique=True)
    rule_id: str = pa.Field(nullable=False, str_matches=r"^[A-Z]+(?:-[A-Z0-9]+)+$")
    severity: str = pa.Field(nullable=False, isin=["error", "warning", "info"])
    claim_id: str = pa.Field(nullable=False)
    line_number: int = pa.Field(nullable=False, ge=1)
    patient_id: str = pa.Field(nullable=False)
    provider_npi: str = pa.Field(nullable=False)
    service_date: dt.date = pa.Field(nullable=False)
    procedure_code: str = pa.Field(nullable=False)
    billed_units: int = pa.Field(nullable=False, ge=0)
    supported_units: int = pa.Field(nullable=True, ge=0)
    excess_units: int = pa.Field(nullable=True, ge=0)
    amount_at_risk: float = pa.Field(nullable=False, ge=0)
    message: str = pa.Field(nullable=False)
    evidence: str = pa.Field(nullable=False)

    class Config:
        strict = True
        ordered = True


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDINGS_SCHEMA)
