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

Each partition is one job (PartitionRules) for patient_task or provider_task, which read the
work folder and send back a small answer, so the jobs run here or on a Dask cluster whose
workers share the folder (flows/scale/mapper.py); the answers are added up here in partition
order either way. So are the report's figures of the whole audit (checks/reduced.py): each
partition also writes what they need by bucket (flows/scale/cloned.py, flows/scale/exposure.py)
and lists its beneficiaries past the review threshold, and the buckets are reduced here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from checks.assemble import assemble
from checks.declare import Rule
from checks.engine import FAILED
from checks.measures import MEASURES_SCHEMA
from checks.merge import RulesOutput, merge_results
from checks.period import Period, in_period
from checks.reduced import Reduced
from checks.registry import all_rules
from checks.sampling.frame import cents
from flows.outputs.review import past_review, past_review_of
from flows.run.context import RunContext
from flows.scale.buckets import by_bucket, reduction_buckets, write_buckets, write_by_key
from flows.scale.cloned import NOTE_PARTS, WHOLE_NOTES, cloned_measure, write_note_parts
from flows.scale.cut import BUCKET, WORK_COMPRESSION
from flows.scale.exposure import RISK, claims_in, exposure_totals, write_risk
from flows.scale.mapper import PartitionMap, WorkMark, local_map
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

Piece = tuple[str, int, Path]  # (claims or notes, provider partition, file)
PAIRS = "pairs"  # in the provider cut's folder: the scorecard's (provider, claim) pairs by shard


def _provider_pieces(part: Partition, labels: pl.DataFrame, k: int, folder: Path) -> list[Piece]:
    """A patient partition's lines and notes written to the provider partitions of their
    providers' groups (`labels`: npi -> group)."""
    pieces = []
    for export, frame, npi in (
        ("claims", part.claims, "rendering_npi"),
        ("notes", part.notes, "provider_npi"),
    ):
        group = labels.rename({"npi": npi, "group": "_group"})
        labelled = frame.join(group, on=npi, how="left", maintain_order="left").with_columns(
            bucket(pl.coalesce("_group", npi), k).cast(pl.Int32).alias(BUCKET)
        )
        written = write_buckets(labelled.drop("_group"), folder / export, part.index)
        pieces += [(export, j, path) for j, path in written]
    return pieces


def _read(files: tuple[Path, ...], empty: pl.DataFrame) -> pl.DataFrame:
    # in patient-partition order, as the pieces were written
    return pl.read_parquet(list(files), hive_partitioning=False) if files else empty


class StoreFrames:
    """The store's frames, with the empty stand-ins of the evidence exports not in it."""

    def __init__(self, store: Store, stand_ins: dict[str, pl.DataFrame]) -> None:
        self.store, self.stand_ins = store, stand_ins

    def has(self, export: str) -> bool:
        return export in self.store.exports

    def scan(self, export: str) -> pl.LazyFrame:
        return self.store.scan(export) if self.has(export) else self.stand_ins[export].lazy()

    def read(self, export: str, k: int) -> pl.DataFrame:
        return self.store.read(export, k) if self.has(export) else self.stand_ins[export]

    def empty(self, export: str) -> pl.DataFrame:
        return self.scan(export).head(0).collect()


@dataclass(frozen=True)
class RuleInputs:
    """What every partition's rules need besides its rows: sent with each job."""

    context: RunContext
    rules: dict[str, Rule]
    unmet: dict[str, str]
    period: Period | None
    providers: pl.DataFrame | None


@dataclass(frozen=True)
class PartitionRules:
    """One partition's rules (patient: `kind` PATIENT and `k` its index; provider: PROVIDER and
    the provider partition's index), as patient_task and provider_task run them."""

    kind: str
    k: int
    frames: StoreFrames
    rule_ids: tuple[str, ...]
    inputs: RuleInputs
    work: Path  # the provider cut
    found: Path  # where its findings are written (read_findings)
    mark: WorkMark
    runs: bool = True  # False: a patient partition without lines, read for its notes only
    labels: pl.DataFrame | None = None  # npi -> provider group: write the provider pieces
    pieces: dict[str, tuple[Path, ...]] | None = None  # a provider partition's, by export


@dataclass(frozen=True)
class PartitionAnswer:
    """What a partition's task sends back: its rules' statuses and its scorecard pieces (None
    when its rules did not run); its findings it wrote to the work folder."""

    kind: str
    output: RulesOutput | None = None
    measures: pl.DataFrame | None = None
    pairs: tuple[Path, ...] = ()  # its audited lines' (rendering_npi, claim_id, paid) by shard
    findings: Path | None = None
    pieces: tuple[Piece, ...] = ()  # a patient partition's provider pieces
    notes: tuple[Path, ...] = ()  # a patient partition's note parts (flows/scale/cloned.py)
    risk: tuple[Path, ...] = ()  # its findings' amounts at risk (flows/scale/exposure.py)
    review: pl.DataFrame | None = None  # its beneficiaries past the review threshold


def _answer(job: PartitionRules, part: Partition, measured: bool) -> PartitionAnswer:
    i = job.inputs
    out = run_partition(
        part,
        profiles=i.context.profiles,
        mue=i.context.mue,
        override=i.context.override,
        rules=i.rules,
        period=i.period,
        providers=i.providers,
        reference=i.context.reference,
        unmet=i.unmet,
        measures=measured,
    )
    pairs: list[Path] = []
    review = None
    shards = reduction_buckets(job.frames.store.partitions)
    if out.providers is not None:
        audited = part.claims.filter(in_period(i.period))
        pairs = _write_pairs(audited, shards, job.work / PAIRS, part.index)
        review = past_review(audited, i.context)
    # assembled while the partition's lines are in memory (each flagged line is one of them),
    # and written where the run's process reads them all: neither the worker that runs the
    # partitions nor the answers carry them
    found = assemble(out.raw, part.claims.lazy(), i.context.fee_schedule.lazy())
    written = job.found / f"{part.kind}-{part.index:05d}.parquet"
    found.write_parquet(written, compression=WORK_COMPRESSION)
    risk = write_risk(found, shards, job.work / RISK / part.kind, part.index)
    slim = dataclasses.replace(out, raw=pl.DataFrame(), providers=None)
    answer = PartitionAnswer(part.kind, slim, out.providers, tuple(pairs), written)
    return dataclasses.replace(answer, risk=tuple(risk), review=review)


def _write_pairs(audited: pl.DataFrame, shards: int, folder: Path, k: int) -> list[Path]:
    """The distinct (rendering_npi, claim_id) of a partition's audited lines and what their
    lines were paid (cents), written by shard of the claim id: every pair of one claim id, from
    whichever partitions, is in one shard, so the claims of a provider are counted a shard at a
    time (_Scorecard), and the exposure's claims are summed so (flows/scale/exposure.py)."""
    paid = cents("paid_amount").sum().alias("paid")
    pairs = audited.group_by("rendering_npi", "claim_id").agg(paid)
    return write_by_key(pairs, "claim_id", shards, folder, k)


def read_findings(files: list[Path], output: RulesOutput) -> pl.DataFrame:
    """The partitions' findings `files` (store_rules), in the findings' order, without those of
    a rule that failed in any partition (as merge_results drops raw rows)."""
    failed = [r for r, run in output.runs.items() if run.status == FAILED]
    if not files:
        return pl.DataFrame(schema=FINDINGS_SCHEMA)
    scan = pl.scan_parquet(files).filter(~pl.col("rule_id").is_in(failed))
    found = pl.concat([pl.DataFrame(schema=FINDINGS_SCHEMA), scan.collect()])
    # put in order a column at a time, each read column dropped as its sorted copy is made:
    # a frame's sort gathers every column at once, which holds the findings twice
    order = found.select(pl.arg_sort_by(FINDINGS_ORDER)).to_series()
    columns = []
    for name in FINDINGS_SCHEMA:
        columns.append(found.get_column(name).gather(order))
        found = found.drop(name)
    return pl.DataFrame(columns)


def write_findings(files: list[Path], output: RulesOutput, path: Path) -> Path:
    """read_findings written to one file at `path`, for the run's process to read whole.

    A sorted text column is a list of pointers into the buffers it was read into, so the
    findings sorted in memory hold about twice the bytes of the same findings read from a
    file. The partition worker sorts them and writes them, and the memory of the sort goes
    back to the system when that process ends."""
    read_findings(files, output).write_parquet(path, compression=WORK_COMPRESSION)
    return path


def patient_task(job: PartitionRules) -> PartitionAnswer:
    """A patient partition read from the store, its rules run when it has lines, and its lines
    and notes written to their provider partitions when provider rules will run."""
    job.mark.check()
    frames, k = job.frames, job.k
    claims, notes = frames.read("claims", k), frames.read("notes", k)
    part = Partition(PATIENT, k, claims, notes, frames.read("plans", k), job.rule_ids)
    answer = _answer(job, part, measured=True) if job.runs else PartitionAnswer(PATIENT)
    if job.labels is not None:
        pieces = _provider_pieces(part, job.labels, frames.store.partitions, job.work)
        answer = dataclasses.replace(answer, pieces=tuple(pieces))
    shards, folder = reduction_buckets(frames.store.partitions), job.work / NOTE_PARTS
    parts = write_note_parts(notes, job.inputs.period, shards, folder, k)
    return dataclasses.replace(answer, notes=tuple(parts))


def provider_task(job: PartitionRules) -> PartitionAnswer:
    """A provider partition read from the pieces the patient partitions wrote, and its rules."""
    job.mark.check()
    frames, j, pieces = job.frames, job.k, job.pieces or {}
    lines = _read(pieces.get("claims", ()), frames.empty("claims"))
    written = _read(pieces.get("notes", ()), frames.empty("notes"))
    # no provider rule reads plans today; the plans of the partition's patients keep a future
    # one from seeing a patient without them (as flows/scale/partitions.py)
    patients = pl.concat([lines.select("patient_id"), written.select("patient_id")]).unique()
    plans = frames.scan("plans").join(patients.lazy(), on="patient_id", how="semi").collect()
    part = Partition(PROVIDER, j, lines, written, plans, job.rule_ids)
    return _answer(job, part, measured=False)


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
    found: Path,
    *,
    absent: dict[str, str],
    period: Period | None = None,
    providers: pl.DataFrame | None = None,
    rules: dict[str, Rule] | None = None,
    mapper: PartitionMap = local_map,
    mark: WorkMark | None = None,
) -> tuple[RulesOutput, list[Path]]:
    """Every rule over the store, one partition at a time, and the files of their findings
    (read_findings: the output's `findings` is None); `work` takes the provider cut and `found`
    the findings; `absent` the evidence exports unavailable (ValidationSummary.unavailable);
    `mapper` where the partitions run (flows/scale/mapper.py); `mark` the work folder's
    (default: made in `found`)."""
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
    inputs = RuleInputs(context, rules, unmet, period, providers)
    patient = tuple(r for r, rule in rules.items() if not rule.provider_scope)
    provider = tuple(r for r, rule in rules.items() if rule.provider_scope)
    store = frames.store
    # the folders the tasks write into, made here: a task makes none (PartitionRules.mark)
    made = (work / "claims", work / "notes", work / PAIRS, work / NOTE_PARTS)
    for folder in (found, *made, work / RISK / PATIENT, work / RISK / PROVIDER):
        folder.mkdir(parents=True, exist_ok=True)
    mark = WorkMark.create(found) if mark is None else mark
    sent = StoreFrames(store.slim(), frames.stand_ins)
    # A partition without claim lines runs no rule (no rule flags anything but a claim line; a
    # store without any line runs the first, for the statuses); it is still read for its notes,
    # which provider rules and the cloned-notes measure see.
    ran = [k for k, n in enumerate(store.lines) if n] or [0]
    labels = _labels(store) if provider else None
    runs = bool(patient)
    jobs = [
        PartitionRules(PATIENT, k, sent, patient, inputs, work, found, mark, runs and k in ran,
                       labels)
        for k in range(store.partitions)
    ]  # fmt: skip
    answers = list(mapper(patient_task, jobs))
    if provider:
        by_part: dict[int, dict[str, list[Path]]] = {}
        for export, j, path in (p for a in answers for p in a.pieces):
            by_part.setdefault(j, {}).setdefault(export, []).append(path)
        written = sorted(j for j, pieces in by_part.items() if "claims" in pieces) or [0]
        jobs = [
            PartitionRules(PROVIDER, j, sent, provider, inputs, work, found, mark,
                           pieces={e: tuple(f) for e, f in by_part.get(j, {}).items()})
            for j in written
        ]  # fmt: skip
        answers += mapper(provider_task, jobs)
    ran_answers = [a for a in answers if a.output is not None]
    merged = merge_results([a.output for a in ran_answers], [a.kind for a in ran_answers])
    scored = _Scorecard()
    for a in ran_answers:
        if a.measures is not None:
            scored.add(a.measures, a.pairs)
    files = [a.findings for a in ran_answers if a.findings is not None]
    merged = dataclasses.replace(merged, providers=scored.measures(), findings=None)
    failed = {r for r, run in merged.runs.items() if run.status == FAILED}
    reduced = _reduced(frames, context, work, answers, failed)
    return dataclasses.replace(merged, reduced=reduced), files


def _reduced(
    frames: StoreFrames,
    context: RunContext,
    work: Path,
    answers: list[PartitionAnswer],
    failed: set[str],
) -> Reduced:
    """The report's measures of the whole store, from what the partitions wrote and sent
    (`failed`: the rules that failed to run in any partition)."""
    ran = [a for a in answers if a.output is not None]
    paid, risk = [p for a in ran for p in a.pairs], (p for a in ran for p in a.risk)
    reviews = [a.review for a in ran if a.review is not None]
    return Reduced(
        cloned=cloned_measure((p for a in answers for p in a.notes), work / WHOLE_NOTES),
        exposure=exposure_totals(paid, risk, failed),
        past_review=past_review_of(reviews, frames.empty("claims"), context),
        claims=claims_in(paid),
    )


class _Scorecard:
    """The scorecard's per-provider measures (checks/measures.provider_measures) of the patient
    partitions, added up: a service and its notes are one patient's, so each partition holds
    all of its lines; a provider's claims are counted over the (provider, claim) pairs of every
    partition, so a claim id seen under two patients is still one claim. The pairs are read a
    claim shard at a time (_write_pairs): what is in memory is one shard's, not every claim's."""

    def __init__(self) -> None:
        self.parts: list[pl.DataFrame] = []
        self.pairs: list[Path] = []

    def add(self, measures: pl.DataFrame, pairs: tuple[Path, ...]) -> None:
        """One partition's measures and its files of (rendering_npi, claim_id) pairs."""
        self.parts.append(measures)
        self.pairs.extend(pairs)

    def _claims(self) -> pl.DataFrame:
        # n_unique counts a claim seen in two partitions once: no unique() of the pairs first
        per_shard = [
            pl.read_parquet(files)
            .group_by(pl.col("rendering_npi").alias("provider_npi"))
            .agg(pl.col("claim_id").n_unique().alias("claims"))
            for _, files in sorted(by_bucket(self.pairs).items())
        ]
        if not per_shard:
            return pl.DataFrame(schema={"provider_npi": pl.String, "claims": pl.UInt32})
        # a claim id is in one shard: the shards' counts add up
        return pl.concat(per_shard).group_by("provider_npi").agg(pl.col("claims").sum())

    def measures(self) -> pl.DataFrame:
        if not self.parts:
            return pl.DataFrame(schema=MEASURES_SCHEMA)
        claims = self._claims()
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
