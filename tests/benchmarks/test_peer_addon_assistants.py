"""The DuckDB peers of ADDON-NO-PRIMARY (duckdb_peer/addon.py) and ASSISTANT-MOD-MISSING
(duckdb_peer/assistants.py) and our rules flag the lines the sources expect: an add-on code with
its primary by the same practitioner that day (AMA CPT add-on convention, CMS NCCI add-on edits),
and the CQ/CO units of services furnished in whole or in part by a PTA or OTA (CMS's billing
examples for the CY 2022 per-unit method, Pub. 100-04 ch. 5 §20.1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from tests.benchmarks.duckdb_peer import addon, assistants
from tests.benchmarks.test_peer_core import D, _write
from tests.benchmarks.test_peer_units import flagged_both

PROVIDERS = [("A", "PT"), ("B", "OT"), ("C", "psychologist"), ("P", "PTA"), ("O", "OTA")]

# fmt: off
ADDON_CLAIMS = [
    # 97130 with 97129 by the same provider that day, on the same claim or another: clean
    ("X1", 1, "X1", "A", "medicare", D, "97129", "GO", 1),
    ("X1", 2, "X1", "A", "medicare", D, "97130", "GO", 1),
    ("X4a", 1, "X4", "A", "medicare", D, "97129", "GO", 1),
    ("X4b", 1, "X4", "A", "medicare", D, "97130", "GO", 1),
    # alone, with the primary by another practitioner, or with a primary that billed no unit
    ("X2", 1, "X2", "A", "medicare", D, "97130", "GO", 1),
    ("X3", 1, "X3", "A", "medicare", D, "97129", "GO", 1),
    ("X3", 2, "X3", "B", "medicare", D, "97130", "GO", 1),
    ("X5", 1, "X5", "A", "medicare", D, "97129", "GO", 0),
    ("X5", 2, "X5", "A", "medicare", D, "97130", "GO", 1),
    # psychotherapy with an E/M visit: +90833 with 99213 is clean, alone it is not
    ("X6", 1, "X6", "C", "medicaid", D, "99213", None, 1),
    ("X6", 2, "X6", "C", "medicaid", D, "90833", None, 1),
    ("X7", 1, "X7", "C", "medicaid", D, "90833", None, 1),
    # a 2025 service, before the table's first year: the earliest table applies
    ("X8", 1, "X8", "A", "commercial", dt.date(2025, 6, 2), "97130", "GO", 1),
]
ADDON_NOTES = [("x1", "X1", "A", D, "97129", "09:00", "09:20", 20, "OT")]
ADDON_EXPECTED = {"ADDON-NO-PRIMARY": ["X2|1", "X3|2", "X5|2", "X7|1", "X8|1"]}

ASSISTANT_CLAIMS = [
    # rendered by the PTA: every unit needs CQ (a Medicare rule, off for Medicaid)
    ("Y1", 1, "Y1", "P", "medicare", D, "97110", "GP", 1),
    ("Y2", 1, "Y2", "P", "medicare", D, "97110", "GP:CQ", 1),
    ("Y3", 1, "Y3", "P", "medicaid", D, "97110", "GP", 1),
    # CMS scenario: PTA 23 and PT 13 minutes of 97110 make 2 units; the PTA's whole 15 minutes
    # are one CQ unit, the PT furnished more of the rest: one unit with CQ, one without
    ("Y4", 1, "Y4", "A", "medicare", D, "97110", "GP", 1),
    ("Y4", 2, "Y4", "A", "medicare", D, "97110", "GP:CQ", 1),
    ("Y5", 1, "Y5", "A", "medicare", D, "97110", "GP", 2),
    # PTA 10 and PT 5 minutes: one unit, the PTA furnished more of it
    ("Y6", 1, "Y6", "A", "medicare", D, "97110", "GP", 1),
    # PT 25 and PTA 8 minutes: the PT's whole unit, then the PT furnished more of the rest
    ("Y7", 1, "Y7", "A", "medicare", D, "97110", "GP", 2),
    # PT 30 and PTA 1 minute: de minimis (10 % of a unit or less), no CQ
    ("Y8", 1, "Y8", "A", "medicare", D, "97110", "GP", 2),
    # an OTA furnished the whole service: CO, whoever is the rendering provider
    ("Y9", 1, "Y9", "B", "medicare", D, "97530", "GO", 1),
    ("Y10", 1, "Y10", "B", "medicare", D, "97530", "GO:CO", 1),
    # the PTA's note has no minutes: at least one unit needs CQ
    ("Y11", 1, "Y11", "A", "medicare", D, "97110", "GP", 2),
]
ASSISTANT_NOTES = [
    ("y4p", "Y4", "P", D, "97110", "09:00", "09:23", 23, "PT"),
    ("y4a", "Y4", "A", D, "97110", "09:23", "09:36", 13, "PT"),
    ("y5p", "Y5", "P", D, "97110", "09:00", "09:23", 23, "PT"),
    ("y5a", "Y5", "A", D, "97110", "09:23", "09:36", 13, "PT"),
    ("y6p", "Y6", "P", D, "97110", "09:00", "09:10", 10, "PT"),
    ("y6a", "Y6", "A", D, "97110", "09:10", "09:15", 5, "PT"),
    ("y7a", "Y7", "A", D, "97110", "09:00", "09:25", 25, "PT"),
    ("y7p", "Y7", "P", D, "97110", "09:25", "09:33", 8, "PT"),
    ("y8a", "Y8", "A", D, "97110", "09:00", "09:30", 30, "PT"),
    ("y8p", "Y8", "P", D, "97110", "09:30", "09:31", 1, "PT"),
    ("y9o", "Y9", "O", D, "97530", "09:00", "09:20", 20, "OT"),
    ("y10o", "Y10", "O", D, "97530", "09:00", "09:20", 20, "OT"),
    ("y11a", "Y11", "A", D, "97110", "09:00", "09:30", 30, "PT"),
    ("y11p", "Y11", "P", D, "97110", "09:30", "09:40", None, "PT"),
]
ASSISTANT_EXPECTED = {"ASSISTANT-MOD-MISSING": ["Y11|1", "Y1|1", "Y5|1", "Y6|1", "Y9|1"]}
# fmt: on


def _providers(folder: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"npi": npi, "name": npi, "role": role, "discipline": None, "supervising_npi": None}
        for npi, role in PROVIDERS
    ]
    frame = pl.DataFrame(rows, schema={c: pl.String for c in rows[0]})
    frame.write_parquet(folder / "providers.parquet")


def test_addon_codes_need_their_primary(tmp_path: Path) -> None:
    _write(tmp_path, ADDON_CLAIMS, ADDON_NOTES)
    ours, peer = flagged_both(tmp_path, set(ADDON_EXPECTED), addon)
    assert ours == ADDON_EXPECTED
    assert peer == ADDON_EXPECTED


def test_assistant_units_carry_cq_or_co(tmp_path: Path) -> None:
    _write(tmp_path, ASSISTANT_CLAIMS, ASSISTANT_NOTES)
    _providers(tmp_path)
    ours, peer = flagged_both(tmp_path, set(ASSISTANT_EXPECTED), assistants)
    assert ours == ASSISTANT_EXPECTED
    assert peer == ASSISTANT_EXPECTED


def test_a_pta_service_does_not_put_cq_on_the_ot_line(tmp_path: Path) -> None:
    # the PTA furnished all 30 PT minutes of 97110 and the PT line carries CQ; an OT billed
    # 97110 the same day from her own 30 minutes: CQ is a PT modifier (Pub. 100-04 ch. 5
    # §20.1), nothing is missing
    claims = [
        ("Z1", 1, "Z1", "A", "medicare", D, "97110", "GP:CQ", 2),
        ("Z1", 2, "Z1", "B", "medicare", D, "97110", "GO", 2),
    ]
    notes = [
        ("z1p", "Z1", "P", D, "97110", "09:00", "09:30", 30, "PT"),
        ("z1b", "Z1", "B", D, "97110", "10:00", "10:30", 30, "OT"),
    ]
    _write(tmp_path, claims, notes)
    _providers(tmp_path)
    ours, peer = flagged_both(tmp_path, {"ASSISTANT-MOD-MISSING"}, assistants)
    assert ours == {}
    assert peer == {}
