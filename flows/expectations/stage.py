"""Dataset expectations: Great Expectations checks on each export's accepted rows as a whole
(the metrics and what they mean are checks/dataset_metrics.py's; this is the GE glue).

Pandera (schemas/contract.py) checks values one row at a time; these check what only the whole
export shows: too few or too many rows, many notes without times, implausible units per timed
code, many codes outside the known code sets, dates outside the audit period. A failure never
stops the audit: it tells the reader how far to trust the findings.

API (a plain stage function; the flow runs it alongside the rules):

    run_expectations(claims, notes, plans, *, period=None, config_path=None, known_codes=None)
        -> list[dict]

`claims`, `notes`, `plans` are the accepted typed frames (`ValidationSummary.claims` ...). Used
columns: claims `service_date`, `procedure_code`, `units`; notes `service_date`,
`procedure_code`, `start_time`, `end_time`; plans: row count only. `period` is the audit period
(inclusive); without it the period is the first to the last claim service date. `config_path` is
an expectations TOML that overrides `data/expectations.toml` key by key (unknown key or bad
value -> `ExpectationsConfigError`, an `InputError`, naming the key and the file).
`known_codes` overrides the known code set (default: every code listed in the shipped profiles).

Each result is JSON-able, in this fixed order (export, name):
claims row_count, unknown_code_share, timed_units_mean, timed_units_share_above,
service_dates_in_period; notes row_count, without_times_share, unknown_code_share,
service_dates_in_period; plans row_count.

    {"name": "unknown_code_share", "export": "claims", "success": true,
     "observed": {"share": 0.0012, "rows_unknown": 3, "codes": ["99213"], "rows": 2434},
     "expected": {"max_share": 0.01},
     "description": "Share of claim lines whose procedure code ..."}

`observed` and `expected` are always dicts of counts, shares (6 decimals), ISO dates and
procedure codes, never patient data. `observed` keys: row_count {rows}; *_share {share, rows,
rows_unknown + codes (top 10) | rows_without_times}; service_dates_in_period {share,
rows_outside, min, max, rows} with expected {period: [start, end] | null, period_source,
max_share_outside}; timed_units_* {codes_checked, codes_below_min_lines, failing: [{procedure_code,
lines, ...}]}, and timed_units_mean also by_code: [{procedure_code, lines, mean_units,
lines_above, share_above}] (the distribution, for a table). If GE itself raised, success is false
and observed has "error".

Speed: importing great_expectations takes seconds, so it is never imported at module import.
Nothing is converted to pandas whole: checks/dataset_metrics.py reduces each export to a few
numbers (one metrics row) and one row per timed code, and GE validates those small frames
(flows/expectations/runner.py: in an ephemeral context, with progress bars and analytics off, in
the audit's GE worker process when one was started).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from checks.dataset_metrics import CODE_COLUMNS, describe, specs, timed_units
from checks.profile import Profile
from checks.rows import Lines
from flows.expectations.config import known_code_sets, load_config
from flows.expectations.runner import Check, evaluate
from flows.run.config import default_profiles


def run_expectations(
    claims: Lines,
    notes: Lines,
    plans: Lines,
    *,
    period: tuple[date, date] | None = None,
    config_path: Path | None = None,
    known_codes: Iterable[str] | None = None,
    profiles: Iterable[Profile] | None = None,
    absent: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Run every dataset expectation; results in a fixed order (see the module docstring).
    `profiles`: whose codes are known and timed (default: the shipped profiles); `absent`: the
    exports not given (a claims-only audit), whose expectations are left out rather than failed.
    Each export in memory or scanned (checks/rows.py): a scan is reduced as it is read."""
    cfg = load_config(config_path)
    known, timed = known_code_sets(default_profiles().values() if profiles is None else profiles)
    if known_codes is not None:
        known = frozenset(str(c).strip().upper() for c in known_codes)
    frames = {"claims": claims, "notes": notes, "plans": plans}
    # polars reduces every export to a handful of numbers first: this is what stays fast at 10M
    per_code = timed_units(claims, timed, cfg)
    skipped = set(absent)
    judged = [s for s in specs(frames, period, cfg, known, per_code) if s.export not in skipped]
    scalar = {s.column: s for s in judged if s.column not in CODE_COLUMNS}
    # the one-row metrics frame: a share where the expectation is about a share, else the count
    metrics = {c: [s.observed.get("share", s.observed.get("rows"))] for c, s in scalar.items()}

    code_checks: list[Check] = [
        ("each", s.column, s.lo, s.hi) for s in judged if s.column in CODE_COLUMNS
    ]
    code_frame = per_code.select("procedure_code", *sorted(CODE_COLUMNS)).to_dict(as_series=False)
    results = evaluate(
        [
            ("metrics", metrics, [("max", c, s.lo, s.hi) for c, s in scalar.items()]),
            ("timed_units", code_frame, code_checks),
        ]
    )
    return [describe(spec, results[spec.column], per_code) for spec in judged]
