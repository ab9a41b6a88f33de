"""The rules of a cut audit: every rule over the validated store (flows/scale/validate.py), one
partition in memory at a time, with the answer of one engine pass.

One pass over the store's patient partitions runs the patient-level rules on each, assembles its
findings while its lines are in memory (checks/assemble.py: every line a finding names is one of
the partition's), takes its providers' scorecard measures, and writes its lines and notes out
again by provider group, for the two provider-level rules. The groups (providers who meet on a
match key, flows/scale/partitions.groups_of) come from the edges validation collected from each
partition, so no pass over the store is needed to find them. Each provider partition is then
read and audited in turn. The rules' unmet needs (a column no row fills, an export without
accepted rows) are judged once over the whole store, as one pass judges them, so no partition
decides alone; the partitions' statuses are merged as the Dask run's are (checks/merge.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from checks.assemble import assemble
from checks.declare import Rule
from checks.engine import FAILED
from checks.measures import MEASURES_SCHEMA
from checks.merge import RulesOutput, merge_results
from checks.period import Period, in_period
from checks.registry import all_rules
from flows.run.context import RunContext
from flows.scale.cut import BUCKET, WORK_COMPRESSION
from flows.scale.partitions import (
    PATIENT,
    PROVIDER,
    Partition,
    bucket,
    groups_of,
    run_partition,
    unmet_inputs,
)
from flows.scale.validate import Store
from schemas.findings import FINDINGS_ORDER, FINDINGS_SCHEMA


def _lines(path: Path) -> int:
    return int(pl.scan_parquet(path).select(pl.len()).collect().item()) if path.exists() else 0


def _provider_pieces(part: Partition, labels: pl.DataFrame, k: int, folder: Path) -> None:
    """A patient partition's lines and notes written to the provider partitions of their
    providers' groups (`labels`: npi -> group), while the partition is in memory."""
    for export, frame, npi in (
        ("claims", part.claims, "rendering_npi"),
        ("notes", part.notes, "provider_npi"),
    ):
        group = labels.rename({"npi": npi, "group": "_group"})
        labelled = frame.join(group, on=npi, how="left", maintain_order="left").with_columns(
            bucket(pl.coalesce("_group", npi), k).cast(pl.Int32).alias(BUCKET)
        )
        for (j,), piece in labelled.drop("_group").partition_by(BUCKET, as_dict=True).items():
            where = folder / export / f"{BUCKET}={j}"
            where.mkdir(parents=True, exist_ok=True)
            piece.drop(BUCKET).write_parquet(
                where / f"{part.index:05d}.parquet", compression=WORK_COMPRESSION
            )


def _part(folder: Path, k: int, empty: pl.DataFrame) -> pl.DataFrame:
    where = folder / f"{BUCKET}={k}"
    if not where.is_dir():
        return empty
    # in patient-partition order, as the store was written
    return pl.read_parquet(where / "*.parquet", hive_partitioning=False)


class StoreFrames:
    """The store's frames, with the empty stand-ins of the evidence exports not in it."""

    def __init__(self, store: Store, stand_ins: dict[str, pl.DataFrame]) -> None:
        self.store, self.stand_ins = store, stand_ins

    def has(self, export: str) -> bool:
        return (self.store.folder / export).is_dir()

    def scan(self, export: str) -> pl.LazyFrame:
        return self.store.scan(export) if self.has(export) else self.stand_ins[export].lazy()

    def read(self, export: str, k: int) -> pl.DataFrame:
        return self.store.read(export, k) if self.has(export) else self.stand_ins[export]

    def empty(self, export: str) -> pl.DataFrame:
        return self.scan(export).head(0).collect()


def _patient_parts(
    frames: StoreFrames, rule_ids: tuple[str, ...], every: bool
) -> Iterator[tuple[Partition, bool]]:
    """(partition, whether its rules run), one at a time: only the one being run is in memory.
    A partition without claim lines runs no rule (no rule flags anything but a claim line; a
    store without any line runs the first, for the statuses); with `every`, it is still read,
    for the notes the provider rules see."""
    store = frames.store
    lines = [_lines(store.file("claims", k)) for k in range(store.partitions)]
    ran = [k for k, n in enumerate(lines) if n] or [0]
    for k in range(store.partitions) if every else ran:
        claims, notes = frames.read("claims", k), frames.read("notes", k)
        part = Partition(PATIENT, k, claims, notes, frames.read("plans", k), rule_ids)
        yield part, k in ran


def _provider_parts(
    frames: StoreFrames, rule_ids: tuple[str, ...], work: Path
) -> Iterator[Partition]:
    """The provider partitions _provider_pieces wrote, one at a time."""
    k = frames.store.partitions
    empty = {e: frames.empty(e) for e in ("claims", "notes")}
    with_lines = [j for j in range(k) if (work / "claims" / f"{BUCKET}={j}").is_dir()] or [0]
    for j in with_lines:
        lines = _part(work / "claims", j, empty["claims"])
        written = _part(work / "notes", j, empty["notes"])
        # no provider rule reads plans today; the plans of the partition's patients keep a
        # future one from seeing a patient without them (as flows/scale/partitions.py)
        patients = pl.concat([lines.select("patient_id"), written.select("patient_id")]).unique()
        plans = frames.scan("plans").join(patients.lazy(), on="patient_id", how="semi").collect()
        yield Partition(PROVIDER, j, lines, written, plans, rule_ids)


def _labels(store: Store) -> pl.DataFrame:
    """npi -> group of the providers who meet on a match key anywhere in the store."""
    edges = [e for e in store.edges if e.height]
    if not edges:
        return pl.DataFrame(schema={"npi": pl.String, "group": pl.String})
    return groups_of(pl.concat(edges))


def store_rules(
    frames: StoreFrames,
    context: RunContext,
    work: Path,
    *,
    absent: dict[str, str],
    period: Period | None = None,
    providers: pl.DataFrame | None = None,
    rules: dict[str, Rule] | None = None,
) -> RulesOutput:
    """Every rule over the store, one partition at a time; `work` takes the provider cut;
    `absent` the evidence exports unavailable (ValidationSummary.unavailable)."""
    rules = all_rules() if rules is None else rules
    unmet = unmet_inputs(
        frames.scan("claims"),
        frames.scan("notes"),
        frames.scan("plans"),
        providers=providers,
        reference=context.reference,
        rules=rules,
        absent=absent,
    )
    patient = tuple(r for r, rule in rules.items() if not rule.provider_scope)
    provider = tuple(r for r, rule in rules.items() if rule.provider_scope)
    outputs: list[RulesOutput] = []
    kinds: list[str] = []
    found: list[pl.DataFrame] = []
    scored = _Scorecard()

    def run(part: Partition, measured: bool) -> None:
        out = run_partition(
            part,
            profiles=context.profiles,
            mue=context.mue,
            override=context.override,
            rules=rules,
            period=period,
            providers=providers,
            reference=context.reference,
            unmet=unmet,
            measures=measured,
        )
        if out.providers is not None:
            scored.add(out.providers, part.claims.filter(in_period(period)))
        # assembled while the partition's lines are in memory: each flagged line is one of them
        found.append(assemble(out.raw, part.claims.lazy(), context.fee_schedule.lazy()))
        outputs.append(dataclasses.replace(out, raw=pl.DataFrame(), providers=None))
        kinds.append(part.kind)

    labels = _labels(frames.store) if provider else None
    for part, runs_rules in _patient_parts(frames, patient, every=labels is not None):
        if patient and runs_rules:
            run(part, measured=True)
        if labels is not None:
            _provider_pieces(part, labels, frames.store.partitions, work)
    if provider:
        for part in _provider_parts(frames, provider, work):
            run(part, measured=False)
    merged = merge_results(outputs, kinds)
    # as merge_results does with raw rows: a rule that failed in any partition keeps none
    failed = [r for r, run in merged.runs.items() if run.status == FAILED]
    findings = pl.concat([pl.DataFrame(schema=FINDINGS_SCHEMA), *found])
    findings = findings.filter(~pl.col("rule_id").is_in(failed)).sort(FINDINGS_ORDER)
    return dataclasses.replace(merged, providers=scored.measures(), findings=findings)


class _Scorecard:
    """The scorecard's per-provider measures (checks/measures.provider_measures) of the patient
    partitions, added up: a service and its notes are one patient's, so each partition holds
    all of its lines; a provider's claims are counted over the (provider, claim) pairs of every
    partition, so a claim id seen under two patients is still one claim."""

    def __init__(self) -> None:
        self.parts: list[pl.DataFrame] = []
        self.claims: list[pl.DataFrame] = []

    def add(self, measures: pl.DataFrame, lines: pl.DataFrame) -> None:
        """One partition's measures and its audited `lines`."""
        self.parts.append(measures)
        self.claims.append(lines.select("rendering_npi", "claim_id").unique())

    def measures(self) -> pl.DataFrame:
        if not self.parts:
            return pl.DataFrame(schema=MEASURES_SCHEMA)
        claims = (
            pl.concat(self.claims)
            .unique()
            .group_by(pl.col("rendering_npi").alias("provider_npi"))
            .agg(pl.col("claim_id").n_unique().alias("claims"))
        )
        summed = (
            pl.concat(self.parts)
            .group_by("provider_npi", maintain_order=True)
            .agg(pl.col("lines", "timed_units", "documented_minutes").sum())
        )
        return (
            summed.join(claims, on="provider_npi", how="left", nulls_equal=True)
            .select(MEASURES_SCHEMA.keys())
            .cast(MEASURES_SCHEMA)
        )
