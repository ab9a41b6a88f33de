"""The rules stage split into independent partitions, for a cluster (flows/scale/cluster.py): how
the validated exports are cut, and how the partitions' answers are put back together so that the
findings are those of one engine pass over everything.

Two cuts, one per kind of rule (checks/declare.Rule.provider_scope):

- **patient**: every patient-level rule relates rows of one patient only (the match key, the
  unit pools, the plans are all keyed on patient_id), so claims, notes and plans are cut by a
  hash of patient_id and each patient is whole in one partition.
- **provider**: OVERLAP-PROVIDER sweeps each note provider's day over all of that provider's
  patients, then reports the claim lines matching the flagged notes on (patient, date, code)
  whoever rendered them; OVERLAP-DAY-CAP adds up each rendering provider's billed lines, ordered
  by their notes' start times, whoever wrote the notes. A provider partition must hold every
  note of its note providers, every line of its rendering providers, and the lines and notes
  that meet on a match key. So providers (rendering and note NPIs alike) who ever meet on a
  match key form one group (connected components, below), and groups are cut by a hash of the
  group's smallest NPI. Normally a note is written by the line's rendering provider and every
  provider is a group of one.

Each claim line is in exactly one partition of each cut, so the raw rule rows of the partitions
are those of one pass, in another order; `assemble` sorts them, and findings.csv is the same
bytes. The partitions' answers are merged as any engine passes' are (checks/merge.py), each
partition's cut being its kind.

The hash is polars' `hash(seed=HASH_SEED)`: fixed within one polars version, not across
versions. Which partition a row lands in never changes a finding, only the load of each
partition, and the cut is made once, in the process that runs the flow.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import polars as pl

from checks.base import MATCH_KEY
from checks.declare import Rule
from checks.engine import FAILED, RuleRun, match, run_matched
from checks.measures import provider_measures
from checks.merge import RulesOutput, merge_results
from checks.needs import providers_frame, unmet_needs
from checks.period import Period
from checks.profile import Profile
from checks.reference import Reference
from checks.registry import all_rules

PATIENT, PROVIDER = "patient", "provider"
HASH_SEED = 20_260_601


@dataclass(frozen=True)
class Partition:
    """One unit of work: a slice of the exports and the rules to run over it."""

    kind: str  # PATIENT or PROVIDER
    index: int
    claims: pl.DataFrame
    notes: pl.DataFrame
    plans: pl.DataFrame
    rule_ids: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.index}"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # on its way to a worker the frames go as LZ4-compressed Arrow IPC: a seventh of the
        # bytes of polars' own pickle, written and read in about half the time
        frames = tuple(_to_ipc(f) for f in (self.claims, self.notes, self.plans))
        return _rebuild, (self.kind, self.index, frames, self.rule_ids)


@dataclass(frozen=True)
class PartitionInputs:
    """What every partition gets whole besides its slice: the providers export, the reference
    tables and the needs unmet over all the data (unmet_inputs)."""

    providers: pl.DataFrame | None = None
    reference: Reference | None = None
    unmet: dict[str, str] | None = None


def _to_ipc(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="lz4")
    return buffer.getvalue()


def _rebuild(
    kind: str, index: int, frames: tuple[bytes, bytes, bytes], rule_ids: tuple[str, ...]
) -> Partition:
    claims, notes, plans = (pl.read_ipc(io.BytesIO(f)) for f in frames)
    return Partition(kind, index, claims, notes, plans, rule_ids)


def bucket(column: str | pl.Expr, k: int) -> pl.Expr:
    """Partition number 0..k-1 of each row's value."""
    expr = pl.col(column) if isinstance(column, str) else column
    return (expr.hash(seed=HASH_SEED) % k).cast(pl.Int64)


def _split(frame: pl.DataFrame, by: pl.Expr, k: int) -> list[pl.DataFrame]:
    """`frame` cut into k frames by the partition number `by` (empty frames keep the schema)."""
    parts = frame.with_columns(by.alias("_part")).partition_by("_part", as_dict=True)
    return [parts[(i,)].drop("_part") if (i,) in parts else frame.clear() for i in range(k)]


def provider_groups(claims: pl.LazyFrame, notes: pl.LazyFrame) -> pl.DataFrame:
    """`npi` -> `group` (the smallest NPI of its group) for every provider who shares a match
    key with another one; a provider missing here is a group of one."""
    return groups_of(provider_edges(claims, notes))


def provider_edges(claims: pl.LazyFrame, notes: pl.LazyFrame) -> pl.DataFrame:
    """(npi, other): each NPI of a match key shared by several providers, to the key's smallest
    NPI. A match key is one patient's, so the edges of patient partitions are those of all."""
    npis = pl.concat(
        [
            claims.select(*MATCH_KEY, npi=pl.col("rendering_npi")),
            notes.select(*MATCH_KEY, npi=pl.col("provider_npi")),
        ]
    )
    shared = (
        npis.group_by(MATCH_KEY)
        .agg(lo=pl.col("npi").min(), hi=pl.col("npi").max())
        .filter(pl.col("lo") != pl.col("hi"))
    )
    return (
        npis.join(shared.select(*MATCH_KEY, "lo"), on=list(MATCH_KEY), how="inner")
        .select("npi", other="lo")
        .filter(pl.col("npi") != pl.col("other"))
        .unique()
        .collect()
    )


def groups_of(star: pl.DataFrame) -> pl.DataFrame:
    """Connected components of the star-shaped edges: labels are propagated by taking the
    smallest label of the neighbours until none changes, one round per step of the longest
    path, and only providers who share keys take part."""
    edges = pl.concat([star, star.select(npi="other", other="npi")], how="vertical").unique()
    labels = edges.select("npi").unique().with_columns(group=pl.col("npi"))
    while True:
        offered = (
            edges.join(labels.rename({"npi": "other", "group": "_g"}), on="other")
            .group_by("npi")
            .agg(pl.col("_g").min())
        )
        moved = labels.join(offered, on="npi").filter(pl.col("_g") < pl.col("group"))
        if moved.is_empty():
            return labels.sort("npi")
        labels = labels.join(moved.select("npi", "_g"), on="npi", how="left").select(
            "npi", group=pl.coalesce("_g", "group")
        )


def _by_group(frame: pl.DataFrame, npi: str, groups: pl.DataFrame, k: int) -> list[pl.DataFrame]:
    """`frame` cut by the group of its `npi` column (the NPI itself for a group of one)."""
    labelled = frame.join(
        groups.rename({"npi": npi, "group": "_group"}), on=npi, how="left", maintain_order="left"
    )
    parts = _split(labelled, bucket(pl.coalesce("_group", npi), k), k)
    return [part.drop("_group") for part in parts]


def split_by_patient(
    claims: pl.DataFrame, notes: pl.DataFrame, plans: pl.DataFrame, k: int
) -> list[Partition]:
    by = bucket("patient_id", k)
    cut = [_split(frame, by, k) for frame in (claims, notes, plans)]
    return [Partition(PATIENT, i, cut[0][i], cut[1][i], cut[2][i]) for i in range(k)]


def split_by_provider(
    claims: pl.DataFrame, notes: pl.DataFrame, plans: pl.DataFrame, k: int
) -> list[Partition]:
    groups = provider_groups(claims.lazy(), notes.lazy())
    line_parts = _by_group(claims, "rendering_npi", groups, k)
    note_parts = _by_group(notes, "provider_npi", groups, k)
    out = []
    for i in range(k):
        # no provider rule reads plans today; the plans of the partition's patients keep a
        # future one from seeing a patient without them
        patients = pl.concat(
            [line_parts[i].select("patient_id"), note_parts[i].select("patient_id")]
        )
        mine = plans.join(patients.unique(), on="patient_id", how="semi", maintain_order="left")
        out.append(Partition(PROVIDER, i, line_parts[i], note_parts[i], mine))
    return out


def plan_partitions(
    claims: pl.DataFrame,
    notes: pl.DataFrame,
    plans: pl.DataFrame,
    k: int,
    rules: dict[str, Rule] | None = None,
) -> list[Partition]:
    """The partitions to run: k by patient for the patient-level rules and k by provider group
    for the provider-scope rules, leaving out partitions without claim lines (no rule flags
    anything but a claim line). A cut with no line at all keeps one partition, so its rules
    still get their statuses ("not applicable")."""
    if k < 1:
        raise ValueError("the number of partitions must be at least 1")
    rules = all_rules() if rules is None else rules
    patient = tuple(r for r, rule in rules.items() if not rule.provider_scope)
    provider = tuple(r for r, rule in rules.items() if rule.provider_scope)
    out: list[Partition] = []
    for rule_ids, split in ((patient, split_by_patient), (provider, split_by_provider)):
        if not rule_ids:
            continue
        parts = [
            Partition(p.kind, p.index, p.claims, p.notes, p.plans, rule_ids)
            for p in split(claims, notes, plans, k)
        ]
        out.extend([p for p in parts if p.claims.height] or parts[:1])
    return out


def run_partition(
    part: Partition,
    *,
    profiles: dict[str, Profile],
    mue: pl.DataFrame,
    override: Profile | None = None,
    rules: dict[str, Rule] | None = None,
    period: Period | None = None,
    providers: pl.DataFrame | None = None,
    reference: Reference | None = None,
    unmet: dict[str, str] | None = None,
    measures: bool = False,
) -> RulesOutput:
    """One engine pass over one partition (what a Dask worker runs); `rules` to look the
    partition's rule ids up in (default: the declared rules); `period` the audit period;
    `providers` the whole providers export (small: every partition gets all of it);
    `reference` the reference tables; `unmet` the needs unmet over all the data (unmet_inputs),
    so that a partition whose own notes happen to be blank in a column does not decide alone;
    `measures`: also the partition's scorecard measures, from the lines it matched."""
    rules = all_rules() if rules is None else rules
    chosen = {r: rules[r] for r in part.rule_ids}  # an unknown id raises before any work
    matched = match(
        part.claims.lazy(),
        part.notes.lazy(),
        part.plans.lazy(),
        profiles=profiles,
        override=override,
        period=period,
    )
    scorecard = provider_measures(matched, profiles, override, period) if measures else None
    raw, runs, by_profile = run_matched(
        matched,
        profiles=profiles,
        mue=mue.lazy(),
        override=override,
        rules=chosen,
        providers=None if providers is None else providers.lazy(),
        reference=reference,
        unmet=unmet,
    )
    return RulesOutput(raw, runs, by_profile, scorecard)


def unmet_inputs(
    claims: pl.DataFrame | pl.LazyFrame,
    notes: pl.DataFrame | pl.LazyFrame,
    plans: pl.DataFrame | pl.LazyFrame,
    *,
    providers: pl.DataFrame | None,
    reference: Reference | None,
    rules: dict[str, Rule] | None = None,
    absent: Collection[str] | Mapping[str, str] = (),
) -> dict[str, str]:
    """The rules' unmet needs judged over all the data (checks/needs.py), before it is cut;
    `absent`: the exports not given (a claims-only audit)."""
    rules = all_rules() if rules is None else rules
    return unmet_needs(
        {t for rule in rules.values() for t in rule.needs},
        frames={"claims": claims, "notes": notes, "plans": plans},
        providers=providers_frame(providers),
        reference=Reference() if reference is None else reference,
        absent=absent,
    )


def failed_partition(part: Partition, error: str) -> RulesOutput:
    """Every rule of a partition whose task raised: "failed to run" (and so over all data)."""
    return RulesOutput(
        pl.DataFrame(), {r: RuleRun(r, status=FAILED, error=error) for r in part.rule_ids}
    )


def run_rules_partitioned(
    claims: pl.DataFrame,
    notes: pl.DataFrame,
    plans: pl.DataFrame,
    k: int,
    *,
    profiles: dict[str, Profile],
    mue: pl.DataFrame,
    override: Profile | None = None,
    rules: dict[str, Rule] | None = None,
    period: Period | None = None,
    providers: pl.DataFrame | None = None,
    reference: Reference | None = None,
    absent: Collection[str] | Mapping[str, str] = (),
) -> RulesOutput:
    """The partitioned rules stage, one partition after another in this process: the reference
    the Dask run is held to, and what the tests compare with one engine pass. `absent`: the
    exports not given (their frames empty stand-ins)."""
    parts = plan_partitions(claims, notes, plans, k, rules)
    unmet = unmet_inputs(
        claims, notes, plans, providers=providers, reference=reference, rules=rules, absent=absent
    )
    outputs = [
        run_partition(
            p,
            profiles=profiles,
            mue=mue,
            override=override,
            rules=rules,
            period=period,
            providers=providers,
            reference=reference,
            unmet=unmet,
        )
        for p in parts
    ]
    return merge_results(outputs, [p.kind for p in parts])
