"""A run's findings against the previous run of its scope: new, persisting and resolved.

Pure: the two runs' findings in, one status per finding id out. Reading and writing the runs is
flows/state/history.py's job (DuckDB); this module decides what changed, and what a run's totals
are when summary.json does not give them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from checks.assemble import claim_line_of
from checks.dispositions import MARK_SCHEMA
from checks.rows import Lines, engine_of
from checks.summary import line_totals, money

STATUSES = ("new", "persisting", "resolved")
# what a run keeps of each finding, and what a diff shows of it
COLUMNS = ("finding_id", "rule_id", "severity", "amount_at_risk")


@dataclass(frozen=True)
class HistoryDiff:
    """Current findings against the previous run of the same scope.

    `statuses`: one row per finding id with columns finding_id, status (new / persisting /
    resolved), rule_id, severity, amount_at_risk (the current run's, or for resolved the
    previous run's). Current findings keep their order; resolved ones follow, by finding_id.
    With no previous run (`previous_run_id` None) every current finding is "new".
    """

    scope: str
    run_id: str
    previous_run_id: str | None
    previous_started_at: str | None
    statuses: pl.DataFrame

    def _ids(self, status: str) -> list[str]:
        return sorted(self.statuses.filter(pl.col("status") == status)["finding_id"].to_list())

    @property
    def new(self) -> list[str]:
        return self._ids("new")

    @property
    def persisting(self) -> list[str]:
        return self._ids("persisting")

    @property
    def resolved(self) -> list[str]:
        return self._ids("resolved")

    @property
    def counts(self) -> dict[str, int]:
        got = dict(self.statuses.group_by("status").len().iter_rows())
        return {status: int(got.get(status, 0)) for status in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (counts, not ids: a run can have a million findings)."""
        return {
            "scope": self.scope,
            "run_id": self.run_id,
            "previous_run_id": self.previous_run_id,
            "previous_started_at": self.previous_started_at,
            "counts": self.counts,
        }


def finding_statuses(
    current: pl.DataFrame,
    previous: pl.DataFrame | None,
    audited: Lines | None = None,
    unchecked: Collection[str] = (),
) -> pl.DataFrame:
    """New (now, not before), persisting (both) and resolved (before, not now) finding ids.

    `current` and `previous` have at least COLUMNS (`previous` None: no previous run). Returns
    finding_id, status, rule_id, severity, amount_at_risk: the current findings in their order,
    then the resolved ones by finding_id, with the previous run's values. `audited`: the claim
    lines (claim_id, line_number) this run audited, when it audited only some (an audit
    period): a previous finding on a line not audited now was not looked at, so it is not
    resolved either and is left out. `unchecked`: the rules that did not check this run (not
    applicable, e.g. its notes export not given, or failed to run): their previous findings
    are left out for the same reason."""
    now = current.select(COLUMNS)
    before = now.clear() if previous is None else previous.select(COLUMNS)
    seen = before.select("finding_id", pl.lit(True).alias("_seen"))
    marked = now.join(seen, on="finding_id", how="left", maintain_order="left")
    status = pl.when(pl.col("_seen")).then(pl.lit("persisting")).otherwise(pl.lit("new"))
    kept = marked.select("finding_id", status.alias("status"), *COLUMNS[1:])
    gone = before.join(now, on="finding_id", how="anti")
    if unchecked:
        gone = gone.filter(~pl.col("rule_id").is_in(list(unchecked)))
    if audited is not None:
        line = audited.lazy().select("claim_id", "line_number")
        gone = (
            gone.lazy()
            .with_columns(claim_line_of("finding_id"))
            .join(line, on=["claim_id", "line_number"], how="semi", nulls_equal=True)
            .drop("claim_id", "line_number")
            .collect(engine=engine_of(audited))
        )
    gone = gone.sort("finding_id").select(
        "finding_id", pl.lit("resolved").alias("status"), *COLUMNS[1:]
    )
    return pl.concat([kept, gone.cast(kept.schema)], how="vertical")


def run_totals(summary: Mapping[str, Any], findings: pl.DataFrame) -> tuple[int, int, float]:
    """(findings, lines with findings, amount at risk) of a run: summary.json's figures, or
    counted from the findings (each line once, at its largest amount) when it lacks them."""
    count = int(summary.get("findings", findings.height))
    if "lines_with_findings" in summary and "amount_at_risk" in summary:
        return count, int(summary["lines_with_findings"]), float(summary["amount_at_risk"])
    totals = line_totals(findings.lazy().select("claim_id", "line_number", "amount_at_risk"))
    lines, amount = totals.select("lines", "amount").collect().row(0)
    return count, int(lines), money(amount)


def status_rows(
    findings: pl.DataFrame, statuses: pl.DataFrame | None, marks: pl.DataFrame | None
) -> pl.DataFrame:
    """findings_status.csv's rows: every current finding (findings order), then the resolved
    ones, with its status against the previous run (`statuses`: finding_statuses) and its
    reviewer disposition (`marks`: checks.dispositions.apply_dispositions), if any."""
    ids = findings.select("finding_id", "rule_id", "claim_id", "line_number")
    if statuses is not None:
        gone = statuses.filter(pl.col("status") == "resolved").select(
            "finding_id", "rule_id", *claim_line_of("finding_id")
        )
        ids = pl.concat([ids, gone.cast(ids.schema)])
        ids = ids.join(
            statuses.select("finding_id", "status"),
            on="finding_id",
            how="left",
            maintain_order="left",
        )
    else:
        ids = ids.with_columns(pl.lit(None, pl.String).alias("status"))
    if marks is None:  # the same columns, empty, whether or not a file was given
        return ids.with_columns(
            pl.lit(None, dtype).alias(c) for c, dtype in MARK_SCHEMA.items() if c != "finding_id"
        )
    return ids.join(marks, on="finding_id", how="left", maintain_order="left")
