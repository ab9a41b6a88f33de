"""The generator's Medicare billing (flows/synth/billing.py) and the injections of the rules it
learnt last: each labelled line looks as its rule describes, and the clean lines do not."""

from __future__ import annotations

import polars as pl
import pytest

from flows.synth.billing import kx_threshold
from flows.synth.generate import generate

LINE = ["claim_id", "line_number"]


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    out = tmp_path_factory.mktemp("billing")
    generate(20_000, 22, out)
    frames = {e: pl.read_parquet(out / f"{e}.parquet") for e in ("claims", "notes", "labels")}
    frames["providers"] = pl.read_parquet(out / "providers.parquet")
    # each line with its own note row (note ids are the claim ids with N for C)
    frames["noted"] = frames["claims"].join(
        frames["notes"].with_columns(claim_id=pl.col("note_id").str.replace("^N", "C")),
        on=["claim_id", "patient_id", "service_date", "procedure_code"],
        suffix="_note",
    )
    return frames


def labelled(frames: dict[str, pl.DataFrame], rule: str, frame: str = "noted") -> pl.DataFrame:
    labels = frames["labels"].filter(pl.col("rule_id") == rule)
    assert labels.height > 0, rule
    return frames[frame].join(labels, on=LINE, suffix="_label")


def clean(frames: dict[str, pl.DataFrame], rule: str, frame: str = "noted") -> pl.DataFrame:
    return frames[frame].join(
        frames["labels"].filter(pl.col("rule_id") == rule), on=LINE, how="anti"
    )


def test_psychotherapy_minutes(practice) -> None:
    """90837 needs 53 minutes or more (AMA CPT psychotherapy time rules): 45 is injected."""
    assert (labelled(practice, "TIME-PSYCHOTHERAPY")["minutes"] == 45).all()
    ok = clean(practice, "TIME-PSYCHOTHERAPY").filter(pl.col("procedure_code") == "90837")
    assert ok.height > 0 and ok["minutes"].is_between(53, 60).all()


def test_addon_with_and_without_its_primary(practice) -> None:
    """97130 is reported with 97129 for the patient and day (CPT add-on convention)."""
    claims = practice["claims"]
    day = ["patient_id", "service_date"]
    primary = claims.filter(pl.col("procedure_code") == "97129").select(day).unique()
    alone = labelled(practice, "ADDON-NO-PRIMARY", "claims")
    assert (alone["procedure_code"] == "97130").all()
    assert alone.join(primary, on=day, how="semi").is_empty()
    ok = clean(practice, "ADDON-NO-PRIMARY", "claims").filter(pl.col("procedure_code") == "97130")
    assert ok.height > 0 and ok.join(primary, on=day, how="anti").is_empty()


def test_signatures(practice) -> None:
    """Unsigned notes are errors; notes signed more than 7 days late warnings with nothing at
    risk; every other note is signed on the day of service."""
    bad = labelled(practice, "DOC-NOTE-UNSIGNED")
    unsigned = bad.filter(pl.col("severity") == "error")
    assert unsigned["signed_at"].null_count() == unsigned.height > 0
    late = bad.filter(pl.col("severity") == "warning")
    days = (late["signed_at"].dt.date() - late["service_date"]).dt.total_days()
    assert late.height > 0 and days.is_between(8, 20).all()
    assert (late["amount_at_risk"] == 0).all()
    ok = clean(practice, "DOC-NOTE-UNSIGNED")
    assert (ok["signed_at"].dt.date() == ok["service_date"]).all()


def test_therapy_modifiers(practice) -> None:
    """A labelled line lacks GP/GO/GN, or carries GO though a PT rendered it."""
    bad = labelled(practice, "MOD-THERAPY-MISSING").join(
        practice["providers"], left_on="rendering_npi", right_on="npi"
    )
    mods = pl.col("modifiers").fill_null("")
    missing = bad.filter(~mods.str.contains("G[PON]"))
    other = bad.filter(mods.str.starts_with("GO") & (pl.col("discipline_right") == "PT"))
    assert missing.height > 0 and other.height > 0
    assert missing.height + other.height == bad.height


def test_assistant_notes(practice) -> None:
    """A PTA's or OTA's note documents the line, which carries no CQ/CO; 15 % is at risk."""
    bad = labelled(practice, "ASSISTANT-MOD-MISSING").join(
        practice["providers"], left_on="provider_npi", right_on="npi"
    )
    assert bad["role"].is_in(["PTA", "OTA"]).all()
    assert not bad["modifiers"].str.contains("CQ|CO").any()
    paid = bad.filter(pl.col("paid_amount").is_not_null())
    assert paid.height > 0
    assert ((paid["paid_amount"] * 0.15 - paid["amount_at_risk"]).abs() < 0.006).all()
    assistants = practice["providers"].filter(pl.col("role").is_in(["PTA", "OTA", "SLPA"]))
    clean_notes = clean(practice, "ASSISTANT-MOD-MISSING")
    assert clean_notes.join(assistants, left_on="provider_npi", right_on="npi").is_empty()


def test_kx_past_the_threshold(practice) -> None:
    """Per Medicare beneficiary and group, KX is on every line from the one whose allowed
    amount crosses the threshold on (CMS Pub. 100-04 Ch. 5 §10.3), and on none before; the
    groups injected carry no KX at all."""
    claims = practice["claims"].filter(pl.col("payer_type") == "medicare")
    mods = pl.col("modifiers").fill_null("")
    group = pl.when(mods.str.contains("GO")).then(pl.lit("OT")).otherwise(pl.lit("PT+SLP"))
    kx = claims.filter(mods.str.contains("KX")).with_columns(group=group)
    assert kx.height > 0
    ordered = (
        claims.filter(mods.str.contains("G[PON]"))
        .with_columns(group=group, kx=mods.str.contains("KX"))
        .sort("patient_id", "group", "service_date", "claim_id", "line_number")
    )
    # once on, KX stays on
    runs = ordered.group_by("patient_id", "group").agg(
        flips=(pl.col("kx").cast(pl.Int8).diff().fill_null(0) != 0).sum(),
        first=pl.col("kx").first(),
    )
    assert (runs["flips"] <= 1).all() and not runs["first"].any()
    assert kx_threshold() == 2480.0
    missing = labelled(practice, "KX-MISSING", "claims").with_columns(group=group)
    assert missing.join(kx, on=["patient_id", "group"], how="semi").is_empty()
