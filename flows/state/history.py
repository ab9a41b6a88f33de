"""Run history in an embedded DuckDB file: what each run saw and found, for trend and diff.

A plain stage module (the CLI, the report and the Prefect flow call it), I/O only: what changed
between two runs is decided in checks/history.py. Nothing to install or start: the database is
one file, by default `<parent of the output folder>/.therapy-audit/history.duckdb`
(`default_history_path`), so every audit written next to another shares it.

API:

    default_history_path(out_dir) -> Path
    default_scope(claims_path, notes_path, plans_path, profile) -> str
    describe_inputs(claims_path, notes_path, plans_path, rows=None) -> dict
    record_run(db_path, *, run_id, scope, started_at, inputs, summary, findings,
               finished_at=None, profile=None, program_version=None) -> None
    compare_with_previous(db_path, scope, findings, run_id) -> checks.history.HistoryDiff
    trend(db_path, scope, limit=12) -> list[dict]

**Scope**: runs are compared only with runs of the same scope. `default_scope` derives one from
the absolute input paths and the profile ("auto-" + 12 hex digits), so re-auditing the same
drop files is one series. Users who audit a new export file each month pass their own name
(`--scope clinic-north`) so the months form one series.

**Timestamps** are stored as UTC: aware datetimes are converted, naive ones are taken as UTC.
Returned timestamps are ISO 8601 strings with `+00:00`.

Schema (created on first use; `history_meta.schema_version` = 1):

    runs(run_id VARCHAR PRIMARY KEY, scope VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
         program_version VARCHAR, profile VARCHAR, inputs JSON, summary JSON,
         findings BIGINT, lines_with_findings BIGINT, amount_at_risk DOUBLE)
    run_findings(run_id VARCHAR, finding_id VARCHAR, rule_id VARCHAR, severity VARCHAR,
                 amount_at_risk DOUBLE)

`inputs` holds file names (never directories), SHA-256 and row counts; `summary` is summary.json
(counts and money, no patient data); `run_findings` holds finding ids, which name claim ids
and line numbers as findings.csv does, but no patient ids.

Concurrency: one writer at a time. DuckDB locks the file per process; a second process waits
(up to `LOCK_TIMEOUT_S`) and then fails with `HistoryError`. Each run is recorded in one
transaction: a crash leaves the previous state. Recording a run_id again replaces it (a retried
flow task does not duplicate a run). Findings are bulk-inserted through Arrow.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from checks.history import HistoryDiff, finding_statuses, run_totals
from checks.rows import Lines
from flows.inputs.formats import input_files
from flows.run.provenance import program_version as current_version
from flows.run.provenance import sha256_file
from schemas.errors import InputError

PathLike = str | os.PathLike[str]
HISTORY_DIR = ".therapy-audit"
HISTORY_FILE = "history.duckdb"
SCHEMA_VERSION = 1
LOCK_TIMEOUT_S = 60.0

# DuckDB refuses a second connection to one file with another configuration in the same
# process; serialising our own calls avoids that and keeps one writer per process.
_PROCESS_LOCK = threading.Lock()

_DDL = """
CREATE TABLE IF NOT EXISTS history_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    scope VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    program_version VARCHAR NOT NULL,
    profile VARCHAR,
    inputs JSON NOT NULL,
    summary JSON NOT NULL,
    findings BIGINT NOT NULL,
    lines_with_findings BIGINT NOT NULL,
    amount_at_risk DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS run_findings (
    run_id VARCHAR NOT NULL,
    finding_id VARCHAR NOT NULL,
    rule_id VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    amount_at_risk DOUBLE NOT NULL
);
INSERT OR IGNORE INTO history_meta VALUES ('schema_version', '1');
"""
# No index on run_findings: an ART index would slow the 1M-row insert; rows of one run are
# inserted together, so DuckDB's per-block min/max already skips other runs' blocks.


class HistoryError(InputError):
    """The history database cannot be used (locked by another run, not a DuckDB file, ...)."""


def default_history_path(out_dir: PathLike) -> Path:
    """`.therapy-audit/history.duckdb` in the parent of the output folder."""
    return Path(out_dir).resolve().parent / HISTORY_DIR / HISTORY_FILE


def default_scope(
    claims_path: PathLike,
    notes_path: PathLike | None,
    plans_path: PathLike | None,
    profile: str | None,
    providers: PathLike | None = None,
    remits: PathLike | None = None,
) -> str:
    """A short stable scope from the absolute input paths and the profile (or by-payer mode);
    a providers export, when given, is part of it (without one the scope is as before), and a
    notes or plans export not given (a claims-only audit) is a series of its own."""
    given = (("claims", claims_path), ("notes", notes_path), ("plans", plans_path))
    parts = [f"({e} not given)" if p is None else str(Path(p).resolve()) for e, p in given]
    if providers is not None:
        parts.append("providers=" + str(Path(providers).resolve()))
    if remits is not None:
        parts.append("remits=" + str(Path(remits).resolve()))
    if profile and Path(profile).suffix.lower() == ".toml":
        profile = str(Path(profile).resolve())
    parts.append(profile or "(profile by payer type)")
    return "auto-" + hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:12]


def _input_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return input_files(path)


def describe_inputs(
    claims_path: PathLike,
    notes_path: PathLike | None,
    plans_path: PathLike | None,
    rows: Mapping[str, int] | None = None,
    providers: PathLike | None = None,
    remits: PathLike | None = None,
) -> dict[str, Any]:
    """`inputs` for record_run: per export given its name, SHA-256, file count and rows read
    (notes, plans and providers only when given).

    A folder hashes its export files (as ingest selects them) in name order, each file's
    name and bytes, so renaming, adding or changing a file changes the hash.
    """
    out: dict[str, Any] = {}
    given = [
        (e, p)
        for e, p in (
            ("claims", claims_path),
            ("notes", notes_path),
            ("plans", plans_path),
            ("providers", providers),
            ("remits", remits),
        )
        if p is not None
    ]
    for export, raw in given:
        path = Path(raw)
        files = _input_files(path)
        digest = hashlib.sha256()
        for f in files:
            if path.is_dir():
                digest.update(f.name.encode("utf-8") + b"\0")
            # the report stage has hashed these files already in this run (flows/run/provenance.py)
            digest.update(sha256_file(f).encode("ascii"))
        out[export] = {
            "name": path.name,
            "sha256": digest.hexdigest(),
            "files": len(files),
            "rows": None if rows is None else rows.get(export),
        }
    return out


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=UTC).isoformat() if moment else None


@contextmanager
def connect(db_path: PathLike, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(db_path)
    # never reach for the network
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False
    }
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    delay = 0.05
    with _PROCESS_LOCK:
        while True:
            try:
                con = duckdb.connect(str(path), read_only=read_only, config=config)
                break
            except duckdb.IOException as err:
                if "lock" not in str(err).lower():
                    raise HistoryError(damaged(path, "it cannot be opened")) from None
                if time.monotonic() > deadline:
                    raise HistoryError(
                        f"history database '{path}' is in use by another run "
                        f"(waited {LOCK_TIMEOUT_S:.0f} s)"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except duckdb.Error:
                raise HistoryError(damaged(path, "not a readable DuckDB file")) from None
        try:
            yield con
        except duckdb.Error as err:
            # a truncated or corrupted file opens, then fails on the first block it lacks
            raise HistoryError(damaged(path, type(err).__name__)) from None
        finally:
            con.close()


def damaged(path: Path, why: str) -> str:
    return (
        f"history database '{path}' is damaged ({why}) and was left as it is: restore it or "
        "move it away, or run with --no-history to audit without it"
    )


def record_run(
    db_path: PathLike,
    *,
    run_id: str,
    scope: str,
    started_at: datetime,
    inputs: Mapping[str, Any],
    summary: Mapping[str, Any],
    findings: pl.DataFrame,
    finished_at: datetime | None = None,
    profile: str | None = None,
    program_version: str | None = None,
) -> None:
    """Store one run and its finding ids (replacing an earlier record of the same run_id).

    `inputs`: JSON-able (see `describe_inputs`). `summary`: summary.json. `findings`: the
    findings contract frame (finding_id, rule_id, severity, amount_at_risk and, when the summary
    lacks the totals, claim_id and line_number are used). `finished_at` defaults to now.
    """
    path = Path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count, lines, amount = run_totals(summary, findings)
    run_row = [
        run_id,
        scope,
        _utc(started_at),
        _utc(finished_at or datetime.now(UTC)),
        program_version or current_version(),
        profile,
        json.dumps(inputs, sort_keys=True, default=str),
        json.dumps(summary, default=str),
        count,
        lines,
        amount,
    ]
    incoming = findings.select(
        pl.col("finding_id").cast(pl.String),
        pl.col("rule_id").cast(pl.String),
        pl.col("severity").cast(pl.String),
        pl.col("amount_at_risk").cast(pl.Float64),
    ).to_arrow()
    with connect(path, read_only=False) as con:
        con.execute(_DDL)
        con.begin()
        try:
            con.execute("DELETE FROM run_findings WHERE run_id = ?", [run_id])
            con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", run_row)
            con.register("incoming_findings", incoming)
            con.execute(
                "INSERT INTO run_findings SELECT ?, finding_id, rule_id, severity, amount_at_risk"
                " FROM incoming_findings",
                [run_id],
            )
            con.unregister("incoming_findings")
            con.commit()
        except BaseException:
            con.rollback()
            raise


def _previous_run(
    con: duckdb.DuckDBPyConnection, scope: str, run_id: str
) -> tuple[str, datetime] | None:
    # Works before or after the current run is recorded: if it is, only runs that started
    # earlier than it count as "previous".
    row = con.execute(
        """
        SELECT run_id, started_at FROM runs
        WHERE scope = ? AND run_id <> ?
          AND started_at <= coalesce(
                (SELECT started_at FROM runs WHERE run_id = ?), 'infinity'::TIMESTAMP)
        ORDER BY started_at DESC, run_id DESC
        LIMIT 1
        """,
        [scope, run_id, run_id],
    ).fetchall()  # fetchall, not fetchone: DuckDB 2.0 keeps an undrained result open
    return (row[0][0], row[0][1]) if row else None


def compare_with_previous(
    db_path: PathLike,
    scope: str,
    findings: pl.DataFrame,
    run_id: str,
    audited: Lines | None = None,
    unchecked: Collection[str] = (),
) -> HistoryDiff:
    """The previous run of `scope` read from the database, and the findings' statuses against
    it (checks/history.py decides them; `audited`: the lines this run audited, when an audit
    period limited them; `unchecked`: the rules that did not check this run)."""
    previous = prev = None
    if Path(db_path).exists():
        with connect(db_path, read_only=True) as con:
            if con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'runs'"
            ).fetchall()[0][0]:
                prev = _previous_run(con, scope, run_id)
            if prev is not None:
                # a relation, not execute(): DuckDB 2.0 hands polars frames out of relations only
                columns = "finding_id, rule_id, severity, amount_at_risk"
                query = f"SELECT {columns} FROM run_findings WHERE run_id = ?"
                previous = con.sql(query, params=[prev[0]]).pl()
    return HistoryDiff(
        scope=scope,
        run_id=run_id,
        previous_run_id=prev[0] if prev else None,
        previous_started_at=_iso(prev[1]) if prev else None,
        statuses=finding_statuses(findings, previous, audited, unchecked),
    )


def trend(db_path: PathLike, scope: str, limit: int = 12) -> list[dict[str, Any]]:
    """The last `limit` recorded runs of `scope`, oldest first (ready to plot).

    Each: run_id, started_at (ISO, UTC), findings, lines_with_findings, amount_at_risk.
    """
    if not Path(db_path).exists():
        return []
    with connect(db_path, read_only=True) as con:
        has_runs = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'runs'"
        ).fetchall()[0][0]
        if not has_runs:
            return []
        rows = con.execute(
            """
            SELECT run_id, started_at, findings, lines_with_findings, amount_at_risk
            FROM runs WHERE scope = ? ORDER BY started_at DESC, run_id DESC LIMIT ?
            """,
            [scope, int(limit)],
        ).fetchall()
    return [
        {
            "run_id": run_id,
            "started_at": _iso(started),
            "findings": int(n),
            "lines_with_findings": int(lines),
            "amount_at_risk": round(float(amount), 2),
        }
        for run_id, started, n, lines, amount in reversed(rows)
    ]
