"""The synthetic generator: deterministic, contract-valid, every rule family injected,
labels that name real lines."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from checks.registry import all_rules
from flows.cli.main import main
from flows.inputs.validate import validate_inputs
from flows.synth.generate import generate

EXPORTS = ("claims", "notes", "plans", "providers", "labels")


def digests(folder: Path, fmt: str) -> dict[str, str]:
    return {
        name: hashlib.sha256((folder / f"{name}.{fmt}").read_bytes()).hexdigest()
        for name in EXPORTS
    }


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_same_bytes(tmp_path: Path, fmt: str) -> None:
    generate(3000, 11, tmp_path / "a", fmt)
    generate(3000, 11, tmp_path / "b", fmt)
    generate(3000, 12, tmp_path / "c", fmt)
    assert digests(tmp_path / "a", fmt) == digests(tmp_path / "b", fmt)
    assert digests(tmp_path / "a", fmt)["claims"] != digests(tmp_path / "c", fmt)["claims"]


def test_multi_block_output_is_deterministic_and_appends(tmp_path: Path, monkeypatch) -> None:
    # small blocks force several appended row groups, as at 10 million lines
    monkeypatch.setattr("flows.synth.generate.BLOCK_PROVIDERS", 4)
    one = generate(4000, 3, tmp_path / "a")
    generate(4000, 3, tmp_path / "b")
    assert digests(tmp_path / "a", "parquet") == digests(tmp_path / "b", "parquet")
    claims = pl.read_parquet(tmp_path / "a" / "claims.parquet")
    assert claims.height == one.claims
    assert claims.select("claim_id", "line_number").is_duplicated().sum() == 0


def test_generated_exports_pass_the_contract(tmp_path: Path) -> None:
    generate(3000, 5, tmp_path / "gen", "csv")
    g = tmp_path / "gen"
    result = validate_inputs(
        g / "claims.csv", g / "notes.csv", g / "plans.csv", tmp_path / "o",
        providers=g / "providers.csv",
    )  # fmt: skip
    for export in ("claims", "notes", "plans", "providers"):
        assert result.results[export].rows_quarantined == 0, export


def test_every_rule_is_injected_and_labels_name_real_lines(tmp_path: Path) -> None:
    generate(6000, 9, tmp_path)
    labels = pl.read_parquet(tmp_path / "labels.parquet")
    claims = pl.read_parquet(tmp_path / "claims.parquet")
    assert set(labels["rule_id"]) == set(all_rules())
    orphans = labels.join(claims, on=["claim_id", "line_number"], how="anti")
    assert orphans.is_empty()
    share = labels.select("claim_id", "line_number").n_unique() / claims.height
    assert 0.03 < share < 0.25, f"violations on {share:.1%} of lines: not 'mostly clean'"


def test_clean_generation_has_no_labels(tmp_path: Path) -> None:
    summary = generate(3000, 5, tmp_path, clean=True)
    assert summary.labels == 0


def test_generate_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--lines", "500", "--seed", "2", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "claims.parquet").exists()
    assert "claim lines" in capsys.readouterr().out
    assert main(["generate", "--lines", "0", "--out", str(tmp_path)]) == 2


def test_plans_use_the_order_path_and_one_is_sent_late(tmp_path: Path) -> None:
    """Some clean Medicare plans are certified by a signed order plus the plan sent within 30
    days (CY 2025 PFS final rule) instead of a signature; the `sent_late` injection is labelled
    POC-UNSIGNED."""
    generate(20_000, 21, tmp_path)
    plans = pl.read_parquet(tmp_path / "plans.parquet")
    by_order = plans.filter(
        pl.col("signed_date").is_null() & pl.col("order_signed_date").is_not_null()
    )
    assert by_order.height > 0
    assert (by_order["order_signed_date"] <= by_order["sent_date"]).all()
    labels = pl.read_parquet(tmp_path / "labels.parquet").filter(pl.col("injection") == "sent_late")
    assert labels.height > 0 and set(labels["rule_id"]) == {"POC-UNSIGNED"}
    assert set(labels["severity"]) == {"error"}


def test_disciplines_co_treatments_and_unbilled_services(tmp_path: Path) -> None:
    """Notes name their discipline (some leave it blank); a PT and an OT bill one code for one
    patient and day, some OT lines inflated and labelled on that line alone; some timed
    services are documented and not billed (CMS Pub. 100-04 Ch. 5 §20.2 counts them)."""
    generate(12_000, 5, tmp_path)
    claims, notes, labels = (
        pl.read_parquet(tmp_path / f"{n}.parquet") for n in ("claims", "notes", "labels")
    )
    share = notes["discipline"].is_null().mean()
    assert share is not None and 0.03 < share < 0.2
    assert set(notes["discipline"].drop_nulls()) == {"PT", "OT", "BH"}
    service = ["patient_id", "service_date", "procedure_code"]
    mods = pl.col("modifiers").str.slice(0, 2)
    pt = claims.filter(mods == "GP").select(*service, pt_npi="rendering_npi")
    ot = claims.filter(mods == "GO").select(*service, "claim_id", "line_number", "rendering_npi")
    both = ot.join(pt, on=service)
    assert both.height > 10 and (both["rendering_npi"] != both["pt_npi"]).all()
    # (a co-treated OT line may also be past the therapy threshold without KX)
    charged = labels.filter(pl.col("rule_id") != "KX-MISSING").join(
        both, on=["claim_id", "line_number"], how="semi"
    )
    assert set(charged["rule_id"]) == {"UNITS-8MIN"} and (charged["excess_units"] == 1).all()
    unbilled = notes.join(claims, on=service, how="anti").filter(pl.col("minutes") <= 7)
    assert unbilled.height > 10


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    out = tmp_path_factory.mktemp("practice")
    generate(6000, 13, out)
    return {e: pl.read_parquet(out / f"{e}.parquet") for e in EXPORTS}


def test_providers_name_every_clinician_with_their_discipline(practice) -> None:
    providers, claims, notes = practice["providers"], practice["claims"], practice["notes"]
    assert providers["npi"].is_unique().all()
    billing = set(claims["rendering_npi"]) | set(notes["provider_npi"])
    assert billing <= set(providers["npi"])
    # a line's therapy modifier names the discipline of the provider who rendered it, but for
    # the lines injected otherwise
    injected = practice["labels"].filter(pl.col("rule_id") == "MOD-THERAPY-MISSING")
    assert injected.height > 0
    clean = claims.join(injected, on=["claim_id", "line_number"], how="anti")
    mods = clean.join(providers, left_on="rendering_npi", right_on="npi").select(
        "modifiers", "discipline", "role"
    )
    assert mods.filter(pl.col("modifiers").str.contains("GP"))["discipline"].unique().to_list() == [
        "PT"
    ]  # fmt: skip
    assert mods.filter(pl.col("modifiers").str.contains("GO"))["discipline"].unique().to_list() == [
        "OT"
    ]  # fmt: skip
    assert set(mods["role"]) <= {"PT", "OT", "LCSW", "LPC", "psychologist"}
    # assistants render no line; the notes they write are an injection (their lines lack CQ or
    # CO); they are supervised by a therapist of their discipline who is in the export
    assistants = providers.filter(pl.col("role").is_in(["PTA", "OTA", "SLPA"]))
    assert set(assistants["role"]) == {"PTA", "OTA", "SLPA"}
    assert not set(assistants["npi"]) & set(claims["rendering_npi"])
    supervisors = assistants.join(providers, left_on="supervising_npi", right_on="npi")
    assert supervisors.height == assistants.height
    assert (supervisors["discipline"] == supervisors["discipline_right"]).all()
    assert supervisors["role_right"].is_in(["PT", "OT", "SLP"]).all()
    assert providers["name"].null_count() == 0


def test_note_types_follow_the_progress_report_interval(practice) -> None:
    """Evaluation first, a progress report (or re-evaluation, or the discharge summary on the
    last day) inside every 10 treatment days (Pub. 100-02 Ch. 15 §220.3 D), one type per
    patient, discipline and day."""
    # the patients of a late progress report or of a line billed under another discipline are
    # injections (flows/synth/billing.py)
    injected = (
        practice["labels"]
        .filter(pl.col("rule_id").is_in(["PROGRESS-REPORT-LATE", "MOD-THERAPY-MISSING"]))
        .join(practice["claims"], on=["claim_id", "line_number"])
        .select("patient_id")
    )
    notes = practice["notes"].join(injected, on="patient_id", how="anti")
    notes = notes.join(
        practice["providers"].select("npi", "discipline"),
        left_on="provider_npi", right_on="npi", suffix="_provider",
    )  # fmt: skip
    days = notes.group_by("patient_id", "discipline_provider", "service_date").agg(
        pl.col("note_type").unique()
    )
    assert (days["note_type"].list.len() == 1).all()
    days = days.with_columns(pl.col("note_type").list.first()).sort(
        "patient_id", "discipline_provider", "service_date"
    )
    key = ["patient_id", "discipline_provider"]
    first = days.group_by(key, maintain_order=True).first()
    assert (first["note_type"] == "evaluation").all()
    reset = pl.col("note_type").is_in(["evaluation", "re-evaluation", "progress", "discharge"])
    gaps = days.with_columns(period=reset.cum_sum().over(key)).group_by(*key, "period").len()
    assert gaps["len"].max() <= 9
    assert set(days["note_type"]) == {"evaluation", "progress", "daily", "discharge"}


def test_allowed_amounts_include_the_coinsurance_and_some_are_blank(practice) -> None:
    claims = practice["claims"]
    paid = claims.filter(pl.col("allowed_amount").is_not_null())
    assert (paid["allowed_amount"] >= paid["paid_amount"]).all()
    medicare = paid.filter(pl.col("payer_type") == "medicare")
    assert ((medicare["paid_amount"] / medicare["allowed_amount"] - 0.8).abs() < 0.01).all()
    assert claims.filter(pl.col("paid_amount").is_null())["allowed_amount"].null_count() == (
        claims["paid_amount"].null_count()
    )
    blank = claims["allowed_amount"].null_count() / claims.height
    assert 0.05 < blank < 0.15
