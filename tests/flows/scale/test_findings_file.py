"""The partition worker's one file of findings (flows/scale/store_rules.write_findings): what the
run's process reads is every partition's findings in the findings' order, less those of a rule
that failed in any partition, as one pass assembles them."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.engine import FAILED, FINDINGS, RuleRun
from checks.merge import RulesOutput
from flows.scale.store_rules import write_findings
from schemas.findings import FINDINGS_ORDER, FINDINGS_SCHEMA
from tests.support.report_fixture import finding, findings_frame

RULES = ("UNITS-8MIN", "DOC-NO-NOTE", "POC-MISSING")


def _output(failed: set[str]) -> RulesOutput:
    runs = {r: RuleRun(r, FAILED if r in failed else FINDINGS) for r in RULES}
    return RulesOutput(pl.DataFrame(), runs)


def _written(tmp_path: Path, pieces: list[pl.DataFrame], failed: set[str]) -> pl.DataFrame:
    files = []
    for i, piece in enumerate(pieces):
        files.append(tmp_path / f"part-{i}.parquet")
        piece.write_parquet(files[-1])
    return pl.read_parquet(write_findings(files, _output(failed), tmp_path / "all.parquet"))


def test_no_partition_findings_is_an_empty_file_of_the_contract(tmp_path: Path) -> None:
    written = _written(tmp_path, [], set())
    assert written.is_empty() and written.schema == pl.Schema(FINDINGS_SCHEMA)


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 6), max_size=4),
    failed=st.sets(st.sampled_from(RULES), max_size=2),
    shuffle=st.randoms(use_true_random=False),
)
def test_pieces_in_any_order_read_back_as_one_pass_orders_them(
    tmp_path_factory, cuts: list[int], failed: set[str], shuffle
) -> None:
    # a claim id that sorts before every other: the pieces' order is not the findings' order
    first = pl.DataFrame([finding("UNITS-8MIN", "error", "C0", 9, "1", 1, 1.0)], FINDINGS_SCHEMA)
    whole = pl.concat([findings_frame(), first])
    rows = list(range(whole.height))
    shuffle.shuffle(rows)
    bounds = sorted({0, *cuts, whole.height})
    pieces = [whole[rows[a:b]] for a, b in itertools.pairwise(bounds)]
    written = _written(tmp_path_factory.mktemp("found"), pieces, failed)
    expected = whole.filter(~pl.col("rule_id").is_in(list(failed))).sort(FINDINGS_ORDER)
    assert written.equals(expected)
