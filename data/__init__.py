"""What ships with the code besides it: payer profiles, versioned reference tables, the dataset
expectations' thresholds, an example column mapping and reviewed-findings file, and the synthetic
sample. Never real patient data.

This package is the one way to find those files, in a clone and in an installed copy alike: every
reader takes its path from here.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent
PROFILES = DATA / "profiles"
REFERENCE = DATA / "reference"
MAPPINGS = DATA / "mappings"
EXAMPLES = DATA / "examples"
SAMPLE = DATA / "sample"
EXPECTATIONS = DATA / "expectations.toml"
FEE_SCHEDULE = REFERENCE / "fee_schedule.csv"
MUE = REFERENCE / "mue.csv"
ADDON_CODES = REFERENCE / "addon_codes.csv"
THERAPY_CODES = REFERENCE / "therapy_codes.csv"
THERAPY_THRESHOLDS = REFERENCE / "therapy_thresholds.csv"
