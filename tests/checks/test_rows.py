"""Rows in memory or scanned (checks/rows.py): every measure the last stages take of the claim
lines gives the same answer over the frame in memory and over the same rows scanned from
Parquet files on the streaming engine, as a partitioned run's store is read
(flows/run/partitioned.py). Hypothesis draws the lines: codes known and unknown, dates in and
out of the audit period, blank payer types, claim ids spread over several files."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.assemble import count_claims
from checks.dataset_metrics import date_stats, timed_units, unknown_stats
from checks.period import split_period
from checks.registry import all_rules
from checks.rows import engine_of, line_count, payer_types
from checks.unclassified import unclassified_codes
from flows.run.config import default_profiles
from reports.metrics import service_period

CODES = ("97110", "97530", "97140", "99999", "G0283", "XYZ12")
KNOWN = frozenset({"97110", "97530", "97140", "G0283"})
TIMED = frozenset({"97110", "97530", "97140"})
CFG = {"timed_units.min_lines": 2, "timed_units.max_units_per_line": 4}
PERIOD = (dt.date(2026, 2, 1), dt.date(2026, 3, 31))

line = st.fixed_dictionaries(
    {
        "claim_id": st.sampled_from([f"C{i}" for i in range(12)]),
        "procedure_code": st.sampled_from(CODES),
        "service_date": st.dates(dt.date(2026, 1, 1), dt.date(2026, 5, 31)),
        "units": st.integers(0, 9),
        "payer_type": st.sampled_from(["medicare", "medicaid", None]),
        "file": st.integers(0, 3),
    }
)
SCHEMA = {
    "claim_id": pl.String,
    "procedure_code": pl.String,
    "service_date": pl.Date,
    "units": pl.Int64,
    "payer_type": pl.String,
    "file": pl.Int64,
}


def scanned(frame: pl.DataFrame, folder: Path) -> pl.LazyFrame:
    """`frame` written as one Parquet file per `file` value and scanned back (all of them)."""
    paths = []
    for i in range(4):
        path = folder / f"part-{i}.parquet"
        frame.filter(pl.col("file") == i).write_parquet(path)
        paths.append(path)
    return pl.scan_parquet(paths)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=40))
def test_a_scan_measures_what_the_frame_in_memory_does(rows: list[dict]) -> None:
    frame = pl.DataFrame(rows, schema=SCHEMA)
    with tempfile.TemporaryDirectory() as tmp:
        scan = scanned(frame, Path(tmp))
        assert engine_of(scan) == "streaming" and engine_of(frame) == "auto"
        assert line_count(scan) == line_count(frame) == len(rows)
        assert count_claims(scan) == count_claims(frame)
        assert payer_types(scan) == payer_types(frame)
        assert service_period(scan) == service_period(frame)
        assert date_stats(scan, PERIOD) == date_stats(frame, PERIOD)
        assert date_stats(scan, None) == date_stats(frame, None)
        assert unknown_stats(scan, KNOWN) == unknown_stats(frame, KNOWN)
        assert timed_units(scan, TIMED, CFG).equals(timed_units(frame, TIMED, CFG))
        profiles = default_profiles().values()
        assert unclassified_codes(scan, profiles, all_rules()) == unclassified_codes(
            frame, profiles, all_rules()
        )
        kept, outside = split_period(scan, PERIOD)
        in_memory, outside_in_memory = split_period(frame, PERIOD)
        assert isinstance(kept, pl.LazyFrame) and outside == outside_in_memory
        assert line_count(kept) == in_memory.height


def test_an_empty_scan() -> None:
    frame = pl.DataFrame(schema=SCHEMA)
    with tempfile.TemporaryDirectory() as tmp:
        scan = scanned(frame, Path(tmp))
        assert line_count(scan) == 0 and count_claims(scan) == 0
        assert service_period(scan) is None and payer_types(scan) == []
