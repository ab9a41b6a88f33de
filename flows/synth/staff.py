"""The generator's optional inputs: the providers export, the notes' note_type and the claims'
allowed_amount, all clean by construction.

Each function reads export-shaped frames (the lines with their discipline, the notes), so the
generator and the shipped sample (data/sample) derive them the same way, and each draws from a
random stream of its own: the claims, notes and plans the generator wrote before these columns
existed keep their bytes, and its labels stay what they were.

- Providers: every rendering and documenting NPI with its discipline; therapists are PTs and
  OTs, behavioral-health clinicians LCSWs, LPCs or psychologists. Beside them, per block, the
  assistants a practice employs (PTAs supervised by a PT, OTAs by an OT) and a speech-language
  pathologist with an assistant. The assistants render no line here: a line of an assistant
  needs the CQ/CO modifier (BBA 2018 §53107), which is an injection of its own.
- Note types: the first treatment day of a patient and discipline is the evaluation (a later day
  with an evaluation code a re-evaluation); a progress report every eighth treatment day after
  it, inside the ten the Medicare rule allows (Pub. 100-02 Ch. 15 §220.3 D); the last day of an
  episode that ended well before the export's end the discharge; daily notes otherwise.
- Allowed amounts: the payer's allowed charge, coinsurance included (Medicare and commercial
  pay 80 % of it, Medicaid all of it); a few left blank, as remittance exports leave them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from flows.synth.practice import npis

# The stream of these columns: (seed, block, STREAM), apart from the block's own (seed, block).
STREAM = 15
# Support staff NPIs: prefix 1, then 7, the block and a running number (no clash with the
# providers, partner OTs or certifying physicians of flows/synth).
STAFF_BASE = 70_000_000
BH_ROLES = ("LCSW", "LPC", "psychologist")
ASSISTANT = {"PT": "PTA", "OT": "OTA", "SLP": "SLPA"}
# one assistant for about this many therapists of the discipline
THERAPISTS_PER_ASSISTANT = 4
EVAL_CODES = ("97161", "97162", "97163", "97165", "97166", "97167", "H0031")
# progress report on treatment days 9, 17, 25, ... of a reporting period (the evaluation day is
# day 1): within the 10 treatment days even when a line or two of the period lacks its note
PROGRESS_EVERY = 8
# an episode whose last visit lies this many days before the export's last date has ended
DISCHARGE_AFTER_DAYS = 14
COINSURANCE = {"medicare": 0.2, "medicaid": 0.0, "commercial": 0.2, "other": 0.2}
BLANK_ALLOWED = 0.08
FIRST = ("Alex", "Blair", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indy", "Jules",
         "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage",
         "Taylor")  # fmt: skip
LAST = ("Synthia", "Testwell", "Sampleton", "Mockford", "Fakeley", "Demoson", "Placeholder",
        "Examplar", "Dummett", "Fictive", "Madeup", "Notreal")  # fmt: skip
PROVIDER_COLUMNS = ("npi", "name", "role", "discipline", "supervising_npi")
# how a name shows the licence ("Dana Testwell, PT"); a psychologist's is their degree
CREDENTIAL = {"psychologist": "PsyD", "other": "staff"}


def modifier_discipline(otherwise: pl.Expr) -> pl.Expr:
    """The discipline a generated line's GP/GO/GN modifier names, else `otherwise`."""
    mods = pl.col("modifiers").fill_null("")
    return (
        pl.when(mods.str.contains("GP"))
        .then(pl.lit("PT"))
        .when(mods.str.contains("GO"))
        .then(pl.lit("OT"))
        .when(mods.str.contains("GN"))
        .then(pl.lit("SLP"))
        .otherwise(otherwise)
    )


def stream(seed: int, block: int) -> np.random.Generator:
    return np.random.default_rng([seed, block, STREAM])


def _names(rng: np.random.Generator, n: int, roles: pl.Series) -> pl.Series:
    first = rng.choice(np.array(FIRST), size=n)
    last = rng.choice(np.array(LAST), size=n)
    return pl.Series(
        [
            f"{f} {la}, {CREDENTIAL.get(r, r)}"
            for f, la, r in zip(first, last, roles.to_list(), strict=True)
        ],
        dtype=pl.String,
    )


def providers(rendering: pl.DataFrame, rng: np.random.Generator, block: int) -> pl.DataFrame:
    """The providers export of one block. `rendering`: provider_npi and discipline of every
    clinician who renders or documents a line (one discipline each)."""
    people = rendering.select("provider_npi", "discipline").unique().sort("provider_npi")
    draw = pl.Series(rng.integers(0, len(BH_ROLES), size=people.height))
    bh_role = draw.replace_strict(dict(enumerate(BH_ROLES)), return_dtype=pl.String)
    people = people.with_columns(
        role=pl.when(pl.col("discipline") == "BH").then(bh_role).otherwise(pl.col("discipline")),
        supervising_npi=pl.lit(None, pl.String),
    )
    staff = []
    for discipline in ("PT", "OT"):
        therapists = people.filter(pl.col("discipline") == discipline)["provider_npi"]
        n = -(-therapists.len() // THERAPISTS_PER_ASSISTANT)
        staff += [
            (ASSISTANT[discipline], discipline, therapists[i * THERAPISTS_PER_ASSISTANT])
            for i in range(n)
        ]
    staff.append(("SLP", "SLP", None))
    numbers = np.arange(len(staff) + 1) + STAFF_BASE + block * 1000
    staff_npis = npis(numbers)
    slp = staff_npis[len(staff) - 1]
    staff.append(("SLPA", "SLP", slp))
    support = pl.DataFrame(
        {
            "provider_npi": staff_npis,
            "discipline": [d for _, d, _ in staff],
            "role": [r for r, _, _ in staff],
            "supervising_npi": [s for _, _, s in staff],
        },
        schema={k: pl.String for k in ("provider_npi", "discipline", "role", "supervising_npi")},
    )
    every = pl.concat([people, support.select(people.columns)])
    return every.with_columns(name=_names(rng, every.height, every["role"])).select(
        pl.col("provider_npi").alias("npi"), *PROVIDER_COLUMNS[1:]
    )


def note_types(notes: pl.DataFrame, until: dt.date) -> pl.Series:
    """note_type of each row of `notes` (patient_id, discipline, service_date, procedure_code:
    the discipline the note was written under, never blank), lower-case; `until` the export's
    last date of service."""
    key = ["patient_id", "discipline"]
    days = (
        notes.group_by(*key, "service_date")
        .agg(pl.col("procedure_code").is_in(EVAL_CODES).any().alias("eval_code"))
        .sort(*key, "service_date")
        .with_columns(day=pl.int_range(pl.len()).over(key))
        .with_columns(reset=(pl.col("day") == 0) | pl.col("eval_code"))
        .with_columns(period=pl.col("reset").cum_sum().over(key))
        .with_columns(
            in_period=pl.int_range(pl.len()).over(*key, "period"),
            last=pl.col("service_date") == pl.col("service_date").max().over(key),
        )
    )
    ended = pl.col("last") & (pl.col("service_date") <= until - dt.timedelta(DISCHARGE_AFTER_DAYS))
    kind = (
        pl.when(pl.col("day") == 0)
        .then(pl.lit("evaluation"))
        .when(pl.col("reset"))
        .then(pl.lit("re-evaluation"))
        .when(ended)
        .then(pl.lit("discharge"))
        .when(pl.col("in_period") % PROGRESS_EVERY == 0)
        .then(pl.lit("progress"))
        .otherwise(pl.lit("daily"))
    )
    typed = days.select(*key, "service_date", kind.alias("note_type"))
    return notes.join(typed, on=[*key, "service_date"], how="left", maintain_order="left")[
        "note_type"
    ]


def allowed_amounts(claims: pl.DataFrame, rng: np.random.Generator) -> pl.Series:
    """allowed_amount of each claim line (payer_type, paid_amount): paid ÷ (1 − coinsurance),
    blank where the paid amount is blank and on a few lines more."""
    share = 1 - pl.col("payer_type").replace_strict(COINSURANCE, return_dtype=pl.Float64)
    blank = pl.lit(pl.Series(rng.random(claims.height) < BLANK_ALLOWED))
    allowed = pl.when(~blank).then((pl.col("paid_amount") / share).round(2))
    return claims.select(allowed.alias("allowed_amount"))["allowed_amount"]


def extend(
    claims: pl.DataFrame, notes: pl.DataFrame, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Exports written before these columns existed (data/sample: text frames as read), with
    allowed_amount, note_type and their providers export added the generator's way, as one block.
    A provider's discipline is that of their lines (GP: PT, GO: OT, GN: SLP, else BH)."""
    rng = stream(seed, 0)
    discipline = modifier_discipline(pl.lit("BH"))
    rendering = claims.select(
        pl.col("rendering_npi").alias("provider_npi"), discipline.alias("discipline")
    )
    paid = claims.select("payer_type", pl.col("paid_amount").cast(pl.Float64, strict=False))
    allowed = allowed_amounts(paid, rng).cast(pl.String)
    dated = notes.select(
        "patient_id",
        "procedure_code",
        pl.col("service_date").str.to_date(),
        pl.col("provider_npi")
        .replace_strict(dict(rendering.unique().iter_rows()), default=None)
        .alias("discipline"),
    )
    until = dated["service_date"].max()
    assert isinstance(until, dt.date)
    return (
        claims.with_columns(allowed_amount=allowed),
        notes.with_columns(note_type=note_types(dated, until)),
        providers(rendering, rng, 0),
    )
