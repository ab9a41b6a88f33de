"""The scorecard's per-provider measures: from the engine's matched lines (checks/measures.py)
they must equal what reports.metrics.exports_measures computes from the exports: the
computation moved, the figures may not."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from checks.engine import match
from checks.measures import MEASURES_SCHEMA, provider_measures
from flows.inputs.validate import validate_inputs
from flows.outputs.report import timed_codes
from flows.run.config import default_profiles, resolve_profile
from flows.run.context import load_context
from flows.synth.generate import generate
from reports.metrics import exports_measures


@pytest.fixture(scope="module")
def exports(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("measures")
    generate(4000, 11, folder / "gen")
    g = folder / "gen"
    v = validate_inputs(
        g / "claims.parquet", g / "notes.parquet", g / "plans.parquet", folder / "o"
    )
    # a second note on some services (the grouped path of the match) and services without one
    notes = pl.concat([v.notes, v.notes.head(300).with_columns(minutes=pl.lit(7, pl.Int64))])
    return v.claims, notes.slice(200), v.plans


def _both(claims: pl.DataFrame, notes: pl.DataFrame, plans: pl.DataFrame, profile: str | None):
    profiles = default_profiles()
    override = resolve_profile(profile) if profile else None
    matched = match(claims.lazy(), notes.lazy(), plans.lazy(), profiles=profiles, override=override)
    ours = provider_measures(matched, profiles, override).sort("provider_npi")
    timed = timed_codes(claims, load_context(profile))
    theirs = exports_measures(claims, notes, timed).sort("provider_npi")
    return ours, theirs


@pytest.mark.parametrize("profile", [None, "medicare", "commercial"])
def test_matched_measures_equal_the_exports_measures(exports, profile: str | None) -> None:
    ours, theirs = _both(*exports, profile)
    assert ours.schema == pl.Schema(MEASURES_SCHEMA)
    assert ours["timed_units"].sum() > 0 and ours["documented_minutes"].sum() > 0
    assert_frame_equal(ours, theirs)


def test_a_service_billed_on_two_lines_counts_its_minutes_once(exports) -> None:
    claims, notes, plans = exports
    timed = claims.filter(pl.col("procedure_code") == "97110").head(1)
    twice = pl.concat([timed, timed.with_columns(line_number=pl.col("line_number") + 100)])
    ours, theirs = _both(twice, notes, plans, "medicare")
    assert_frame_equal(ours, theirs)
    assert ours["lines"].item() == 2 and ours["claims"].item() == 1
    assert ours["timed_units"].item() == 2 * timed["units"].item()


def test_no_lines_no_providers(exports) -> None:
    claims, notes, plans = exports
    ours, theirs = _both(claims.head(0), notes, plans, None)
    assert ours.is_empty() and theirs.is_empty()


def test_cloned_documentation_share_per_provider() -> None:
    """A note whose normalised text repeats another visit's note counts as cloned for its
    author; case and surrounding spaces do not matter, punctuation does; a note's rows in any
    order."""
    from checks.measures import cloned_documentation, note_text_hash

    rows = [
        ("N1", "A", "Gait training, 20 min."),
        ("N2", "A", "GAIT TRAINING, 20 MIN. "),
        ("N3", "A", "Gait training 20 min"),
        ("N4", "B", "  gait training, 20 min."),
        ("N5", "B", None),
        ("N6", "B", "Step one."),
        ("N6", "B", "Step two."),
        ("N7", "A", "Step two."),
        ("N7", "A", "step one."),
    ]
    notes = pl.LazyFrame(rows, schema=["note_id", "provider_npi", "note_text"], orient="row")
    out = cloned_documentation(notes.with_columns(note_text_hash(pl.col("note_text"))))
    assert out.rows() == [("A", 4, 3, 0.75), ("B", 2, 2, 1.0)]
    assert cloned_documentation(notes).is_empty()
