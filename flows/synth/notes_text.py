"""What the generated session notes say: each timed or session code's phrase, and what the visit
measured, so that notes differ from visit to visit as real ones do, except for one clinician who
copies the same phrase at every visit (the example of the report's cloned-documentation measure).
"""

from __future__ import annotations

import polars as pl

PHRASES = {
    "97110": "Therapeutic exercise for strength and range of motion; tolerated well.",
    "97112": "Neuromuscular re-education, balance and proprioception drills.",
    "97116": "Gait training on level surfaces and stairs with cues.",
    "97140": "Manual therapy, soft tissue mobilisation to the lumbar region.",
    "97530": "Therapeutic activities: transfers and functional reaching tasks.",
    "97535": "Self-care training: dressing and kitchen safety.",
    "97010": "Hot pack applied before exercise.",
    "H2032": "Activity therapy group session, engaged throughout.",
    "H2014": "Skills training: coping strategies and role play.",
    "H0031": "Mental health assessment completed.",
}


def note_text() -> pl.Expr:
    """The code's phrase and what this visit measured (pain, repetitions, goal progress, from
    the claim number, line and minutes: no random draw, so the other columns keep their bytes),
    except for one clinician who writes the phrase alone at every visit: the cloned-
    documentation measure's example (the behavioral-health provider with the lowest NPI)."""
    phrase = pl.col("procedure_code").replace_strict(
        PHRASES, default="Treatment provided per plan."
    )
    v = (
        pl.col("claim_id").str.extract(r"(\d+)").cast(pl.Int64) * 2_654_435_761
        + pl.col("line_number").cast(pl.Int64) * 40_503
        + pl.col("minutes").fill_null(0).cast(pl.Int64) * 97
    ) % 1_000_003
    before = v % 8 + 2
    visit = pl.format(
        "{} Pain {}/10 before, {}/10 after; {} sets of {} repetitions; {}% of the short-term "
        "goal met.",
        phrase,
        before,
        (before - 1 - v // 8 % 3).clip(lower_bound=0),
        v // 24 % 3 + 2,
        v // 72 % 24 + 8,
        v // 1728 % 100,
    )
    copier = pl.col("provider_npi").filter(pl.col("discipline") == "BH").min()
    return pl.when(pl.col("provider_npi") == copier).then(phrase).otherwise(visit)
