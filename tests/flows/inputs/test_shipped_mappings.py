"""The ready-made mappings of data/mappings/, each reading a small hand-written file in the layout
it is for (the rows are this project's own, written to the published column layouts)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from data import MAPPINGS
from flows.inputs.mapping import load_mapping
from flows.inputs.read import read_export
from schemas.contract import VALID_NPI
from schemas.normalize import normalize
from schemas.validate import ValidationResult, validate_export
from tests.support.rows import make_npi, write_csv_text

CMS = MAPPINGS / "cms-synthetic-carrier.toml"
SYNTHEA = MAPPINGS / "synthea-claims-transactions.toml"


def _validated(path: Path, mapping_file: Path) -> tuple[ValidationResult, int]:
    mapping = load_mapping(mapping_file)
    raw = read_export("claims", path, mapping)
    normalized = normalize("claims", raw.frame, raw.formats)
    warn = frozenset({VALID_NPI}) if mapping.npi_check == "warn" else None
    result = validate_export("claims", normalized.typed, normalized.failures, warn=warn)
    return result, sum(f.filtered_rows for f in raw.files)


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_mapping_loads(path: Path) -> None:
    assert load_mapping(path).name


# CMS synthetic carrier-line file (RIF layout): CLM_ID, LINE_NUM, BENE_ID, ... as in CMS's data
# dictionary; pipe-delimited, dates as 02-MAR-2015.
CARRIER = {
    "BENE_ID": "-10000010254618",
    "CLM_ID": "-10000930037921",
    "LINE_NUM": "1",
    "CLM_THRU_DT": "06-Mar-2015",
    "PRF_PHYSN_NPI": make_npi("111222333"),
    "LINE_SRVC_CNT": "2",
    "LINE_1ST_EXPNS_DT": "02-Mar-2015",
    "HCPCS_CD": "97110",
    "HCPCS_1ST_MDFR_CD": "GP",
    "HCPCS_2ND_MDFR_CD": "",
    "LINE_NCH_PMT_AMT": "47.85",
    "LINE_SBMTD_CHRG_AMT": "120.00",
    "LINE_ALOWD_CHRG_AMT": "61.06",
}


def test_cms_synthetic_carrier_file(tmp_path: Path) -> None:
    rows = [
        CARRIER,
        {**CARRIER, "LINE_NUM": "2", "HCPCS_CD": "97140", "HCPCS_2ND_MDFR_CD": "KX",
         "LINE_SRVC_CNT": "1.0"},
        {**CARRIER, "LINE_NUM": "3", "HCPCS_CD": "97161", "HCPCS_1ST_MDFR_CD": "",
         "LINE_1ST_EXPNS_DT": "6-MAR-2015"},
    ]  # fmt: skip
    path = tmp_path / "carrier.csv"
    header = list(rows[0])
    frame = pl.DataFrame([[r.get(c) for c in header] for r in rows], schema=header, orient="row")
    frame.write_csv(path, separator="|")
    result, filtered = _validated(path, CMS)
    assert (result.rows_quarantined, filtered) == (0, 0)
    lines = result.accepted.sort("line_number")
    assert lines["payer_type"].to_list() == ["medicare"] * 3
    assert lines["modifiers"].to_list() == ["GP", "GP:KX", None]
    assert lines["units"].to_list() == [2, 1, 2]
    assert lines["service_date"].to_list() == [dt.date(2015, 3, 2)] * 2 + [dt.date(2015, 3, 6)]
    assert lines["paid_amount"].to_list() == [47.85] * 3
    assert lines["allowed_amount"].to_list() == [61.06] * 3
    assert lines["patient_id"].unique().to_list() == ["-10000010254618"]


# Synthea claims_transactions.csv: one row per transaction; FROMDATE as ISO 8601 UTC; PROVIDERID
# a clinician UUID where the contract wants an NPI.
CHARGE = {
    "ID": "6b1d4f3e-0000-4000-8000-000000000001",
    "CLAIMID": "0f2c8a51-0000-4000-8000-0000000000aa",
    "CHARGEID": "1",
    "PATIENTID": "b9a3c1d2-0000-4000-8000-0000000000bb",
    "TYPE": "CHARGE",
    "AMOUNT": "129.16",
    "METHOD": "",
    "FROMDATE": "2021-03-02T09:30:00Z",
    "TODATE": "2021-03-02T10:15:00Z",
    "PLACEOFSERVICE": "c1f5e0a4-0000-4000-8000-0000000000cc",
    "PROCEDURECODE": "97110",
    "MODIFIER1": "",
    "MODIFIER2": "",
    "UNITS": "1",
    "PAYMENTS": "0.00",
    "PROVIDERID": "d7e6a5b4-0000-4000-8000-0000000000dd",
}


def test_synthea_claims_transactions(tmp_path: Path) -> None:
    rows = [
        CHARGE,
        {**CHARGE, "TYPE": "PAYMENT", "CHARGEID": "2", "AMOUNT": "", "METHOD": "CHECK",
         "PAYMENTS": "129.16"},
        {**CHARGE, "TYPE": "TRANSFEROUT", "CHARGEID": "3", "AMOUNT": ""},
        {**CHARGE, "CHARGEID": "4", "PROCEDURECODE": "185345009"},  # a SNOMED CT code
        {**CHARGE, "CHARGEID": "5", "PROCEDURECODE": "97140", "MODIFIER2": "GP"},
    ]  # fmt: skip
    result, filtered = _validated(
        write_csv_text(tmp_path / "claims_transactions.csv", rows), SYNTHEA
    )
    # read 5 = accepted 2 + quarantined 1 + filtered 2 (the payment and the transfer)
    assert (result.rows_accepted, result.rows_quarantined, filtered) == (2, 1, 2)
    assert result.problems["reason"].to_list() == [
        "procedure_code is not a CPT (5 digits) or HCPCS (letter + 4 digits) code"
    ]
    lines = result.accepted.sort("line_number")
    assert lines["line_number"].to_list() == [1, 5]
    assert lines["service_date"].to_list() == [dt.date(2021, 3, 2)] * 2
    assert lines["payer_type"].to_list() == ["other"] * 2
    assert lines["modifiers"].to_list() == [None, "GP"]
    assert lines["paid_amount"].null_count() == 2
    # no NPI in the file: the clinician's UUID stands in, each line counted as a warning
    assert lines["rendering_npi"].unique().to_list() == [CHARGE["PROVIDERID"]]
    assert result.warnings.height == 3
    assert set(result.warnings.get_column("column")) == {"rendering_npi"}
    assert result.warnings.select(pl.col("source_row")).to_series().to_list() == [1, 4, 5]
