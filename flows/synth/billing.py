"""Billing on the synthetic lines: paid amounts at the payer's rate, Medicare's modifiers, and
the injections that break Medicare's billing rules.

Clean billing: every Medicare PT, SLP and OT line past the year's therapy threshold carries KX
(CMS Pub. 100-04 Ch. 5 §10.3), counted on the basis KX-MISSING uses (the allowed amount, else
the fee schedule's rate x units, else paid / (1 - 20 % coinsurance)), per beneficiary and year,
PT and SLP together and OT apart, in order of date, claim and line; every therapy line names its
provider's discipline with GP or GO; assistants document nothing (so no line needs CQ or CO);
a progress report falls on every eighth treatment day (flows/synth/staff.py).

| injection | where | rule, at risk |
|---|---|---|
| no GP | a Medicare PT visit's 97110 without GP | MOD-THERAPY-MISSING, whole |
| GO by a PT | a PT's timed line billed with GO, noted under OT | MOD-THERAPY-MISSING, whole |
| assistant | a PTA's/OTA's note of a daily line, no CQ/CO | ASSISTANT-MOD-MISSING, 15 % |
| progress late | first progress report written as a daily note | PROGRESS-REPORT-LATE, whole |
| KX missing | a group past the threshold billed without KX | KX-MISSING, crossing line: part |

KX missing: on the crossing line the part past the threshold, every later line whole.

Each draws from a random stream of its own (seed, block, STREAM), and only among visits that
carry no other injection and no co-treatment, so each triggers its own rule alone.
"""

from __future__ import annotations

import csv

import numpy as np
import polars as pl

from data import THERAPY_THRESHOLDS
from flows.synth.practice import NORMAL, Rates
from flows.synth.staff import modifier_discipline

STREAM = 16
PAYER_FACTOR = {"medicare": 1.0, "medicaid": 0.85, "commercial": 1.15}
YEAR = 2026
KX_COINSURANCE = 0.20
ASSISTANT_SHARE = 0.15  # the CQ/CO payment reduction the ASSISTANT-MOD-MISSING label puts at risk
EVAL_DISCIPLINE = {"97161": "PT", "97162": "PT", "97163": "PT", "97165": "OT", "97166": "OT",
                   "97167": "OT"}  # fmt: skip
REPORTS = ("evaluation", "re-evaluation", "progress", "discharge")  # as the rule counts
MAX_TREATMENT_DAYS = 10
TIMED = ("97110", "97112", "97116", "97140", "97530", "97535")


def money(
    lines: pl.DataFrame, rates: dict[str, float], fee: dict[str, float], rng: np.random.Generator
) -> pl.DataFrame:
    """Paid amounts at the payer's rate for the billed units; a few blank paid amounts on
    codes the fee schedule prices (the audit then prices them from the schedule)."""
    factor = pl.col("payer_type").replace_strict(PAYER_FACTOR, return_dtype=pl.Float64)
    rate = pl.col("procedure_code").replace_strict(rates, return_dtype=pl.Float64)
    paid = (rate * factor * pl.col("units")).round(2)
    blank = pl.lit(pl.Series(rng.random(lines.height) < 0.03)) & pl.col("procedure_code").is_in(
        list(fee)
    )
    fee_rate = pl.col("procedure_code").replace_strict(fee, default=None, return_dtype=pl.Float64)
    return lines.with_columns(
        paid_amount=pl.when(blank).then(None).otherwise(paid),
        charge_amount=(rate * pl.col("units") * 1.8).round(2),
        # what the audit must price the line at: paid, or the fee schedule when blank
        line_value=pl.when(blank).then(fee_rate * pl.col("units")).otherwise(paid),
    )


def stream(seed: int, block: int) -> np.random.Generator:
    return np.random.default_rng([seed, block, STREAM])


def kx_threshold(year: int = YEAR) -> float:
    with THERAPY_THRESHOLDS.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if int(r["year"]) <= year]
    return float(max(rows, key=lambda r: int(r["year"]))["kx_threshold"])


def clean_visits(lines: pl.DataFrame) -> pl.DataFrame:
    """Medicare PT/OT visits of normal kind with no injection and no co-treatment, no evaluation
    (kind, payer, discipline and evaluation are the same on every line of a visit)."""
    co = pl.col("claim_id").str.starts_with("CO")
    tainted = lines.filter(co | pl.col("injection").is_not_null()).select("visit")
    return (
        lines.filter(
            (pl.col("kind") == NORMAL)
            & (pl.col("payer_type") == "medicare")
            & pl.col("discipline").is_in(["PT", "OT"])
            & ~pl.col("is_eval")
        )
        .join(tainted, on="visit", how="anti")
        .group_by("visit")
        .agg(
            pl.first("discipline", "provider_npi", "patient_id", "service_date"),
            n_lines=pl.len(),
            line_97110=pl.col("line_number").filter(pl.col("procedure_code") == "97110").min(),
            first_timed=pl.col("line_number").filter(pl.col("procedure_code").is_in(TIMED)).min(),
        )
        .sort("visit")
    )


def _mark(lines: pl.DataFrame, chosen: pl.DataFrame, name: str) -> pl.DataFrame:
    """`lines` with `name`: the value `chosen` (visit, line_number, value) gives the line, else
    null; a lookup on one integer key, cheaper than a join on millions of lines (chosen lines
    are never a co-treatment's, which shares its PT visit's number)."""
    key = pl.col("visit") * 64 + pl.col("line_number")
    mapping = dict(chosen.select(key, chosen.columns[2]).iter_rows())
    dtype = chosen.schema[chosen.columns[2]]
    value = key.replace_strict(mapping, default=None, return_dtype=dtype)
    return lines.with_columns(value.alias(name))


def discipline_modifiers(
    rng: np.random.Generator,
    lines: pl.DataFrame,
    clean: pl.DataFrame,
    plan_frame: pl.DataFrame,
    rates: Rates,
) -> pl.DataFrame:
    """MOD-THERAPY-MISSING: a PT's 97110 without GP, or a PT's timed line billed (and noted)
    under OT, on patients whose plans are clean (an OT copy of them covers the OT line)."""
    clean_plans = plan_frame.group_by("patient_id").agg(
        ok=(pl.col("poc").is_null() & pl.col("discipline").is_not_null()).all()
    )
    visits = clean.filter(pl.col("discipline") == "PT").join(
        clean_plans.filter("ok"), on="patient_id", how="semi"
    )
    r = pl.lit(pl.Series(rng.random(visits.height)))
    chosen = (
        visits.with_columns(
            injection=pl.when((r < rates.no_gp) & pl.col("line_97110").is_not_null())
            .then(pl.lit("no_gp"))
            .when(
                (r >= rates.no_gp)
                & (r < rates.no_gp + rates.go_by_pt)
                & (pl.col("n_lines") >= 2)
                & pl.col("first_timed").is_not_null()
            )
            .then(pl.lit("go_by_pt"))
        )
        .filter(pl.col("injection").is_not_null())
        .select(
            "visit",
            pl.when(pl.col("injection") == "no_gp")
            .then(pl.col("line_97110"))
            .otherwise(pl.col("first_timed"))
            .alias("line_number"),
            "injection",
        )
    )
    lines = _mark(lines, chosen, "_mod")
    mods = pl.col("modifiers")
    as_ot = mods.str.replace("^GP", "GO").str.replace("CQ", "CO")
    return lines.with_columns(
        modifiers=pl.when(pl.col("_mod") == "no_gp")
        .then(pl.when(mods != "GP").then(mods.str.replace("^GP:", "")))
        .when(pl.col("_mod") == "go_by_pt")
        .then(as_ot)
        .otherwise(mods),
        discipline=pl.when(pl.col("_mod") == "go_by_pt")
        .then(pl.lit("OT"))
        .otherwise(pl.col("discipline")),
        injection=pl.coalesce("_mod", "injection"),
    ).drop("_mod")


def assistants(
    rng: np.random.Generator,
    lines: pl.DataFrame,
    notes: pl.DataFrame,
    providers: pl.DataFrame,
    clean: pl.DataFrame,
    rates: Rates,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """ASSISTANT-MOD-MISSING: the supervising therapist's assistant writes the note of a daily
    visit's first timed line, which is billed without CQ/CO. Only the therapist's own visits,
    which never overlap, so the assistant's notes never overlap either. `clean`: clean_visits
    of the lines before discipline_modifiers, whose visits are left out here."""
    helper = providers.filter(pl.col("role").is_in(["PTA", "OTA"])).select(
        pl.col("supervising_npi").alias("provider_npi"), pl.col("npi").alias("_assistant")
    )
    modified = lines.filter(pl.col("injection").is_in(["no_gp", "go_by_pt"])).select("visit")
    visits = (
        clean.join(modified, on="visit", how="anti")
        .filter(pl.col("first_timed").is_not_null())
        .join(helper.unique("provider_npi"), on="provider_npi", how="inner")
        .sort("visit")
    )
    drawn = visits.filter(pl.Series(rng.random(visits.height) < rates.assistant))
    # only a daily visit: an assistant's progress report is PROGRESS-REPORT-LATE's
    day = ["patient_id", "service_date", "discipline"]
    daily = (
        notes.join(drawn.select(day), on=day, how="semi")
        .filter(pl.col("note_type") == "daily")
        .select(day)
        .unique()
    )
    chosen = drawn.join(daily, on=day, how="semi").select(
        "visit", pl.col("first_timed").alias("line_number"), "_assistant"
    )
    lines = _mark(lines, chosen, "_assistant")
    lines = lines.with_columns(
        modifiers=pl.when(pl.col("_assistant").is_not_null())
        .then(pl.col("modifiers").str.replace(":C[QO]", ""))
        .otherwise(pl.col("modifiers")),
        injection=pl.when(pl.col("_assistant").is_not_null())
        .then(pl.lit("assistant"))
        .otherwise(pl.col("injection")),
    )
    written = lines.filter(pl.col("_assistant").is_not_null()).select(
        pl.col("claim_id").str.replace("^C", "N").alias("note_id"), "procedure_code", "_assistant"
    )
    # one chosen line per note id: look the note row up by its id and code
    ids = written["note_id"]
    code = pl.col("note_id").replace_strict(ids, written["procedure_code"], default=None)
    npi = pl.col("note_id").replace_strict(ids, written["_assistant"], default=None)
    notes = notes.with_columns(
        provider_npi=pl.when(pl.col("procedure_code") == code)
        .then(npi)
        .otherwise(pl.col("provider_npi"))
    )
    return lines.drop("_assistant"), notes


def progress_late(
    rng: np.random.Generator, lines: pl.DataFrame, notes: pl.DataFrame, rates: Rates
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """PROGRESS-REPORT-LATE: a Medicare PT/OT patient of more than 11 treatment days whose
    first progress report is written as a daily note; the labels (returned) are the lines of
    every treatment day past the 10th since the last report, counted as the rule counts them.
    Not on patients whose note days and billed days of the discipline may differ (a line
    without its note, or without GP, or under OT) nor co-treated ones (an OT's report of
    unknown discipline would count for the PT too)."""
    tainted = lines.filter(
        pl.col("injection").is_in(["no_note", "no_gp", "go_by_pt"])
        | pl.col("claim_id").str.starts_with("CO")
    ).select("patient_id")
    patients = (
        lines.filter(
            (pl.col("payer_type") == "medicare") & pl.col("discipline").is_in(["PT", "OT"])
        )
        .group_by("patient_id")
        .agg(days=pl.col("service_date").n_unique())
        .filter(pl.col("days") > MAX_TREATMENT_DAYS + 1)
        .select("patient_id")
        .join(tainted.unique(), on="patient_id", how="anti")
        .sort("patient_id")
    )
    chosen = patients.filter(pl.Series(rng.random(patients.height) < rates.progress_late))
    first = (
        notes.join(chosen, on="patient_id", how="semi")
        .filter(pl.col("note_type") == "progress")
        .group_by("patient_id")
        .agg(pl.col("service_date").min().alias("_first"))
    )
    day = pl.col("patient_id").replace_strict(
        first["patient_id"], first["_first"], default=None, return_dtype=pl.Date
    )
    notes = notes.with_columns(
        note_type=pl.when(pl.col("service_date") == day)
        .then(pl.lit("daily"))
        .otherwise(pl.col("note_type"))
    )
    key = ["patient_id", "discipline"]
    days = (
        notes.join(first, on="patient_id", how="semi")
        .group_by(*key, "service_date")
        .agg(
            anchor=pl.col("note_type").is_in(REPORTS).any(),
            opens=(pl.col("note_type") == "evaluation").any(),
        )
        .sort(*key, "service_date")
        .with_columns(period=pl.col("anchor").cum_sum().over(key))
        # the evaluation opening the episode is treatment day 1 of the first period
        .with_columns(
            count=pl.int_range(pl.len()).over(*key, "period")
            + pl.col("opens").first().over(*key, "period").cast(pl.Int64)
        )
        .filter((pl.col("count") > MAX_TREATMENT_DAYS) & (pl.col("period") > 0))
    )
    late = lines.join(days, on=[*key, "service_date"], how="semi").with_columns(
        injection=pl.lit("progress_late")
    )
    return late, notes


def threshold_kx(
    rng: np.random.Generator, lines: pl.DataFrame, fees: dict[str, float], rates: Rates
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """KX on every Medicare therapy line past the threshold; in a share of the groups past it
    none (KX-MISSING: the crossing line and every later one, returned as the labelled lines)."""
    discipline = modifier_discipline(
        pl.col("procedure_code").replace_strict(EVAL_DISCIPLINE, default=None)
    )
    rate = pl.col("procedure_code").replace_strict(fees, default=None, return_dtype=pl.Float64)
    allowed = pl.coalesce(
        pl.col("allowed_amount"),
        rate * pl.col("units"),
        pl.col("paid_amount") / (1 - KX_COINSURANCE),
    ).fill_null(0.0)
    key = ["patient_id", "_group"]
    lines = lines.with_row_index("_row")
    threshold = kx_threshold()
    therapy = (
        lines.filter(pl.col("payer_type") == "medicare")
        .with_columns(_d=discipline)
        .filter(pl.col("_d").is_in(["PT", "SLP", "OT"]))
        .select(
            "_row",
            "patient_id",
            "service_date",
            "claim_id",
            "line_number",
            _group=pl.when(pl.col("_d") == "OT").then(pl.lit("OT")).otherwise(pl.lit("PT+SLP")),
            _allowed=allowed,
        )
    )
    # only the groups whose total passes the threshold are put in order
    over = therapy.group_by(key).agg(total=pl.col("_allowed").sum())
    over = over.filter(pl.col("total") > threshold)
    therapy = (
        therapy.join(over.select(key), on=key, how="semi")
        .sort(*key, "service_date", "claim_id", "line_number")
        .with_columns(_cum=pl.col("_allowed").cum_sum().over(key))
        .filter(pl.col("_cum") > threshold)
        # on the crossing line only the part past the threshold is at risk, as the rule counts
        .with_columns(
            _share=pl.when(
                (pl.col("_cum") - threshold < pl.col("_allowed")) & (pl.col("_allowed") > 0)
            )
            .then(((pl.col("_cum") - threshold) / pl.col("_allowed")).round(6))
            .otherwise(1.0)
        )
    )
    groups = therapy.select(key).unique().sort(key)
    groups = groups.with_columns(_skip=pl.Series(rng.random(groups.height) < rates.kx_missing))
    past = therapy.join(groups, on=key).select("_row", "_skip", "_share")
    lines = lines.join(past, on="_row", how="left", maintain_order="left")
    lines = lines.with_columns(
        modifiers=pl.when(pl.col("_skip").is_not_null() & ~pl.col("_skip"))
        .then(pl.concat_str(pl.col("modifiers"), pl.lit("KX"), separator=":", ignore_nulls=True))
        .otherwise(pl.col("modifiers"))
    )
    missing = lines.filter(pl.col("_skip").fill_null(False)).with_columns(
        injection=pl.lit("kx_missing")
    )
    return lines.drop("_row", "_skip", "_share"), missing.drop("_row", "_skip")


def labels(lines: pl.DataFrame, late: pl.DataFrame, kx_missing: pl.DataFrame) -> pl.DataFrame:
    """The labels of this module's injections (the schema of flows/synth/violations.py)."""

    def one(frame: pl.DataFrame, rule: str, share: float | pl.Expr, tag: str) -> pl.DataFrame:
        return frame.select(
            "claim_id",
            "line_number",
            rule_id=pl.lit(rule),
            severity=pl.lit("error"),
            excess_units=pl.lit(None, dtype=pl.Int64),
            amount_at_risk=(pl.col("line_value") * share).round(2),
            injection=pl.lit(tag),
        )

    inj = pl.col("injection")
    mod = lines.filter(inj.is_in(["no_gp", "go_by_pt"]))
    assisted = lines.filter(inj == "assistant")
    return pl.concat(
        [
            one(mod, "MOD-THERAPY-MISSING", 1.0, "modifier"),
            one(assisted, "ASSISTANT-MOD-MISSING", ASSISTANT_SHARE, "assistant"),
            one(late, "PROGRESS-REPORT-LATE", 1.0, "progress_late"),
            one(kx_missing, "KX-MISSING", pl.col("_share"), "kx_missing"),
        ]
    )
