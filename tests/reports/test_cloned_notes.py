"""The cloned-notes measure of the provider scorecard: text_hash taken at validation before
note text is dropped, each provider's share of notes repeating another word for word, shown as
a measure (not a finding), and neither the text nor its hash in any output."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from checks.measures import TEXT_HASH, note_text_hash
from flows.inputs.validate import ValidationSummary
from flows.run.direct import AuditOutputs
from reports import metrics
from reports.render import render_report
from tests.support import report_fixture as fx

TIMED = {"medicare": {"97110", "97530"}, "commercial": {"97110"}}
# P1's first two notes say the same thing (case and spaces aside); P2's differ
TEXTS = {
    "C001": "Therapeutic exercise, tolerated well.",
    "C002": " therapeutic exercise, tolerated WELL.",
    "C003": "Gait training on stairs; 2 rails.",
    "C004": "Balance work, single-leg stance 3 x 20 s.",
    "C010": "Shoulder AROM, pain 3/10.",
    "C011": "Neuromuscular re-ed for posture.",
}


def notes_with_text() -> pl.DataFrame:
    """The fixture's notes with note ids, authors and text hashes (P3's note has no text)."""
    claims = fx.claims_frame().select("claim_id", "rendering_npi")
    return (
        pl.concat([fx.notes_frame(), claims], how="horizontal")
        .with_columns(
            pl.col("claim_id").str.replace("C", "N").alias("note_id"),
            pl.col("rendering_npi").alias("provider_npi"),
            pl.col("claim_id").replace_strict(TEXTS, default=None).alias("note_text"),
        )
        .with_columns(note_text_hash(pl.col("note_text")))
        .drop("claim_id", "rendering_npi", "note_text")
    )


def card(notes: pl.DataFrame) -> pl.DataFrame:
    return metrics.provider_scorecard(fx.claims_frame(), notes, fx.findings_frame(), TIMED)


def test_cloned_share_per_provider() -> None:
    got = {r["provider_npi"]: r for r in card(notes_with_text()).iter_rows(named=True)}
    assert (got[fx.P1]["cloned_notes"], got[fx.P1]["notes_with_text"]) == (2, 4)
    assert got[fx.P1]["cloned_share"] == 0.5
    assert (got[fx.P2]["cloned_notes"], got[fx.P2]["cloned_share"]) == (0, 0.0)
    # no note with text: nothing to measure, not "0 % cloned"
    assert got[fx.P3]["notes_with_text"] == 0 and got[fx.P3]["cloned_share"] is None


def test_scorecard_shows_the_measure_never_the_text_or_hash() -> None:
    notes = notes_with_text()
    html = render_report(fx.view(provider_card=card(notes)))
    assert 'data-col="cloned_share" data-value="0.5"' in html
    assert "50.00%" in html and "2 of 4 notes" in html
    assert "is a measure, not a finding" in html and "Not measured in this run" not in html
    for text in TEXTS.values():
        assert text not in html
    for value in notes[TEXT_HASH].drop_nulls():
        assert str(value) not in html


def test_without_note_text_the_scorecard_says_it_is_not_measured() -> None:
    html = render_report(fx.view())  # the fixture's notes carry no text
    assert 'data-col="cloned_share" data-value=""' in html
    assert "Not measured in this run" in html


def test_validation_keeps_a_hash_per_note_row_and_drops_the_text(
    validated_sample: ValidationSummary,
) -> None:
    notes = validated_sample.notes
    assert "note_text" not in notes.columns
    assert notes.schema[TEXT_HASH] == pl.UInt64
    assert notes[TEXT_HASH].null_count() < notes.height
    assert TEXT_HASH not in validated_sample.claims.columns


def test_demo_outputs_hold_neither_text_nor_hash(
    demo_run: AuditOutputs, validated_sample: ValidationSummary
) -> None:
    html = (demo_run.out_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="cloned-note"' in html
    assert re.search(r'data-col="cloned_share" data-value="[01]\.\d+"', html)
    hashes = [str(h) for h in validated_sample.notes[TEXT_HASH].drop_nulls().unique().head(50)]
    for path in sorted(Path(demo_run.out_dir).iterdir()):
        if path.suffix in (".html", ".json", ".csv"):
            text = path.read_text(encoding="utf-8")
            assert TEXT_HASH not in text, path.name
            assert not any(h in text for h in hashes), path.name
