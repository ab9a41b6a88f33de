"""`run --packets` as the Prefect flow: the same packets as a direct run (the one output list of
flows/outputs/registry.py writes them in both modes)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.run.prefect_flow import audit_flow
from reports.packet_view import packet_name, top_claims
from tests.support.paths import SAMPLE_INPUTS, SAMPLE_PROVIDERS


def test_flow_writes_the_packets_of_the_claims_with_most_at_risk(tmp_path: Path) -> None:
    claims, notes, plans = (str(p) for p in SAMPLE_INPUTS)
    out = audit_flow(out=str(tmp_path / "f"), claims=claims, notes=notes, plans=plans,
                     providers=str(SAMPLE_PROVIDERS), history=False, expectations=False,
                     packets=3)  # fmt: skip
    top = top_claims(pl.read_parquet(out.findings_parquet), 3)
    written = sorted(p.name for p in (out.out_dir / "packets").glob("claim-*.html"))
    assert written == sorted(packet_name("claim", c) for c in top)
    assert (out.out_dir / "packets" / "index.html").is_file()
