"""The DuckDB peer of the unit rules (duckdb_peer/units.py) and our rules flag the lines the
sources expect: UNITS-8MIN under the AMA/CPT midpoint method (the commercial profile), the
untimed codes' once-a-day limit, the MUEs and the per-session minimum, at each threshold's edge."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path
from types import ModuleType

import duckdb
import polars as pl

from checks.engine import run_rules
from checks.registry import all_rules
from flows.run.context import load_context
from tests.benchmarks.duckdb_peer import units
from tests.benchmarks.duckdb_peer.base import PeerContext, setup
from tests.benchmarks.test_peer_core import D, _write

Flagged = dict[str, list[str]]


def flagged_both(
    folder: Path, rule_ids: Collection[str], module: ModuleType
) -> tuple[Flagged, Flagged]:
    """The lines our rules `rule_ids` flag and those the peer `module` flags ("claim|line" per
    rule id, rules flagging nothing left out), on the exports in `folder`."""
    context = load_context(None)
    given = folder / "providers.parquet"
    claims = pl.read_parquet(folder / "claims.parquet").lazy()
    raw, _, _ = run_rules(
        claims,
        pl.read_parquet(folder / "notes.parquet").lazy(),
        pl.read_parquet(folder / "plans.parquet").lazy(),
        profiles=context.profiles,
        mue=context.mue.lazy(),
        rules={r: all_rules()[r] for r in rule_ids},
        providers=pl.read_parquet(given).lazy() if given.exists() else None,
        reference=context.reference,
    )
    ours: dict[str, set[str]] = {}
    for claim_id, line_number, rule_id in raw.select("claim_id", "line_number", "rule_id").rows():
        ours.setdefault(rule_id, set()).add(f"{claim_id}|{line_number}")
    ctx = PeerContext(folder, context.profiles)
    con = duckdb.connect()
    for sql in setup(ctx):
        con.execute(sql)
    if hasattr(module, "prepare"):
        module.prepare(con, ctx)
    peer: dict[str, set[str]] = {}
    for sql in module.statements(ctx).values():
        for claim_id, line_number, rule_id in con.execute(sql).fetchall():
            if rule_id in rule_ids:
                peer.setdefault(rule_id, set()).add(f"{claim_id}|{line_number}")
    con.close()
    return (
        {k: sorted(v) for k, v in ours.items()},
        {k: sorted(v) for k, v in peer.items()},
    )


# fmt: off
CLAIMS = [
    # AMA/CPT midpoint, each code on its own (commercial profile): 8 minutes support 1 unit,
    # 7 none; 22 minutes 1 unit, 23 two
    ("A1", 1, "A1", "A", "commercial", D, "97110", "GP", 1),
    ("A2", 1, "A2", "A", "commercial", D, "97110", "GP", 1),
    ("A3", 1, "A3", "A", "commercial", D, "97110", "GP", 2),
    ("A4", 1, "A4", "A", "commercial", D, "97110", "GP", 2),
    # Pub. 100-04 ch. 5 §20.2 Example 5 (7 minutes each of three codes): one unit under the
    # CMS total-time method (the Medicare line, clean), none under the midpoint rule
    ("A5", 1, "A5", "A", "commercial", D, "97112", "GP", 1),
    ("E5", 1, "E5", "A", "medicare", D, "97112", "GP", 1),
    # a documented code nobody billed lends its minutes to no other code under AMA
    ("A6", 1, "A6", "A", "commercial", D, "97110", "GP", 2),
    # one code on two claims: the units pool, the later claim carries the excess
    ("A7a", 1, "A7", "A", "commercial", D, "97110", "GP", 1),
    ("A7b", 1, "A7", "A", "commercial", D, "97110", "GP", 1),
    # PT and OT both bill 97110; the notes' discipline comes from their providers' lines
    ("A8", 1, "A8", "A", "commercial", D, "97110", "GP", 2),
    ("A8", 2, "A8", "B", "commercial", D, "97110", "GO", 2),
    # payer type "other" is the commercial profile's too
    ("A9", 1, "A9", "A", "other", D, "97110", "GP", 1),
    # minutes missing (TIME-MISSING's finding), no note (DOC-NO-NOTE's), no units: skipped
    ("A10", 1, "A10", "A", "commercial", D, "97110", "GP", 2),
    ("A11", 1, "A11", "A", "commercial", D, "97110", "GP", 3),
    ("A12", 1, "A12", "A", "commercial", D, "97110", "GP", 0),
    # untimed codes: once per patient, day, discipline and provider (Transmittal 1019)
    ("U1", 1, "U1", "A", "medicare", D, "97010", "GP", 2),
    ("U2", 1, "U2", "A", "medicare", D, "97150", "GP", 1),
    ("U2", 2, "U2", "B", "medicare", D, "97150", "GO", 1),
    ("U3a", 1, "U3", "A", "medicare", D, "97161", "GP", 1),
    ("U3b", 1, "U3", "A", "medicare", D, "97161", "GP", 1),
    ("U4", 1, "U4", "A", "medicare", D, "97010", "GP", 1),
    ("U4", 2, "U4", "C", "medicare", D, "97010", "GP", 1),
    ("U6", 1, "U6", "A", "medicare", D, "97010", None, 1),
    ("U6", 2, "U6", "A", "medicare", D, "97010", "GP", 1),
    # a per-session code: once per patient and day whoever rendered it (state manuals)
    ("U5a", 1, "U5", "C", "medicaid", D, "H2032", None, 1),
    ("U5b", 1, "U5", "E", "medicaid", D, "H2032", None, 1),
    # MUEs (97110: 6, 97112: 4) per provider, patient and day (CMS NCCI); no notes, so the
    # 8-minute rule has nothing to say about these lines
    ("M1", 1, "M1", "A", "medicare", D, "97110", "GP", 7),
    ("M2", 1, "M2", "A", "medicare", D, "97110", "GP", 6),
    ("M3", 1, "M3", "A", "medicare", D, "97110", "GP", 4),
    ("M3", 2, "M3", "C", "medicare", D, "97110", "GP", 4),
    ("M4a", 1, "M4", "A", "medicare", D, "97110", "GP", 5),
    ("M4b", 1, "M4", "A", "medicare", D, "97110", "GP", 2),
    ("M5a", 1, "M5", "A", "medicare", D, "97110", "GP", 7),
    ("M5b", 1, "M5", "A", "medicare", D, "97110", "GP", 1),
    # a 2025 service, before the table's first year: the latest table applies
    ("M6", 1, "M6", "A", "medicare", dt.date(2025, 6, 2), "97112", "GP", 5),
    ("M7", 1, "M7", "A", "medicare", D, "97140", "GP", 10),
    ("M8", 1, "M8", "A", "commercial", D, "97112", "GP", 5),
    # H2032 sessions of at least 30 minutes (state manuals; the profiles' minimum)
    ("S1", 1, "S1", "C", "medicaid", D, "H2032", None, 1),
    ("S2", 1, "S2", "C", "medicaid", D, "H2032", None, 1),
    ("S3", 1, "S3", "C", "medicaid", D, "H2032", None, 1),
    ("S4", 1, "S4", "C", "medicaid", D, "H2032", None, 1),
    ("S5", 1, "S5", "C", "medicaid", D, "H2032", None, 1),
    ("S6", 1, "S6", "C", "commercial", D, "H2032", None, 1),
]
NOTES = [
    ("a1", "A1", "A", D, "97110", "09:00", "09:08", 8, "PT"),
    ("a2", "A2", "A", D, "97110", "09:00", "09:07", 7, "PT"),
    ("a3", "A3", "A", D, "97110", "09:00", "09:22", 22, "PT"),
    ("a4", "A4", "A", D, "97110", "09:00", "09:23", 23, "PT"),
    ("a5", "A5", "A", D, "97112", "09:00", "09:07", 7, "PT"),
    ("a5", "A5", "A", D, "97110", "09:07", "09:14", 7, "PT"),
    ("a5", "A5", "A", D, "97140", "09:14", "09:21", 7, "PT"),
    ("e5", "E5", "A", D, "97112", "09:00", "09:07", 7, "PT"),
    ("e5", "E5", "A", D, "97110", "09:07", "09:14", 7, "PT"),
    ("e5", "E5", "A", D, "97140", "09:14", "09:21", 7, "PT"),
    ("a6", "A6", "A", D, "97110", "09:00", "09:20", 20, "PT"),
    ("a6", "A6", "A", D, "97140", "09:20", "09:40", 20, "PT"),
    ("a7", "A7", "A", D, "97110", "09:00", "09:10", 10, "PT"),
    ("a8", "A8", "A", D, "97110", "09:00", "09:25", 25, None),
    ("b8", "A8", "B", D, "97110", "10:00", "10:10", 10, None),
    ("a9", "A9", "A", D, "97110", "09:00", "09:05", 5, "PT"),
    ("a10", "A10", "A", D, "97110", "09:00", "09:30", None, "PT"),
    ("a12", "A12", "A", D, "97110", "09:00", "09:05", 5, "PT"),
    ("s1", "S1", "C", D, "H2032", "09:00", "09:30", 30, "BH"),
    ("s2", "S2", "C", D, "H2032", "09:00", "09:29", 29, "BH"),
    ("s3", "S3", "C", D, "H2032", "09:00", "09:20", 20, "BH"),
    ("s3", "S3", "C", D, "H2032", "13:00", "13:15", 15, "BH"),
    ("s4", "S4", "C", D, "H2032", "09:00", "09:45", None, "BH"),
    ("s6", "S6", "C", D, "H2032", "09:00", "09:20", 20, "BH"),
]
EXPECTED = {
    "UNITS-8MIN": ["A2|1", "A3|1", "A5|1", "A6|1", "A7b|1", "A8|2", "A9|1"],
    "UNITS-UNTIMED": ["U1|1", "U3b|1", "U5b|1"],
    # 97161's MUE is 1 too; M5's excess of 2 takes the later claim's unit, then one earlier
    "UNITS-MUE": ["M1|1", "M4b|1", "M5a|1", "M5b|1", "M6|1", "M8|1", "U3b|1"],
    "UNITS-SESSION-MIN": ["S2|1", "S6|1"],
}
# fmt: on


def test_unit_rules_flag_what_the_sources_expect(tmp_path: Path) -> None:
    _write(tmp_path, CLAIMS, NOTES)
    ours, peer = flagged_both(tmp_path, set(EXPECTED), units)
    assert ours == EXPECTED
    assert peer == EXPECTED


def test_ama_units_stay_with_each_payer_types_claim(tmp_path: Path) -> None:
    """The commercial profile's two payer types (commercial, other) each carry their own units
    under the AMA midpoint: 30 minutes support 2 units on each claim of one session."""
    claims = [
        ("Y1", 1, "Y1", "A", "commercial", D, "97110", "GP", 2),
        ("Y1o", 1, "Y1", "A", "other", D, "97110", "GP", 2),
        ("Y2", 1, "Y2", "A", "commercial", D, "97110", "GP", 2),
        ("Y2o", 1, "Y2", "A", "other", D, "97110", "GP", 3),
    ]
    notes = [
        ("y1", "Y1", "A", D, "97110", "09:00", "09:30", 30, "PT"),
        ("y2", "Y2", "A", D, "97110", "09:00", "09:30", 30, "PT"),
    ]
    _write(tmp_path, claims, notes)
    ours, peer = flagged_both(tmp_path, {"UNITS-8MIN"}, units)
    assert ours == peer == {"UNITS-8MIN": ["Y2o|1"]}
