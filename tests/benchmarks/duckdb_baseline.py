"""The baseline a data analyst would write: four core rule families as DuckDB SQL over the same
Parquet files. The benchmark times it against our rules stage and checks that both flag the same
claim lines.

Semantics follow the rule docstrings in checks/rules/:
UNITS-8MIN with the CMS total-time method (medicare and medicaid lines), OVERLAP-TIMED,
POC-MISSING / POC-EXPIRED, TIME-MISSING.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from checks.base import CodeSets


def _sql_list(codes: frozenset[str] | set[str]) -> str:
    return "(" + ", ".join(f"'{c}'" for c in sorted(codes)) + ")"


def _discipline(codes: CodeSets) -> str:
    by_code = " ".join(f"WHEN '{c}' THEN '{d}'" for c, d in sorted(codes.discipline.items()))
    return f"""CASE
        WHEN regexp_matches(coalesce(modifiers, ''), '(^|:)GP(:|$)') THEN 'PT'
        WHEN regexp_matches(coalesce(modifiers, ''), '(^|:)GO(:|$)') THEN 'OT'
        WHEN regexp_matches(coalesce(modifiers, ''), '(^|:)GN(:|$)') THEN 'SLP'
        ELSE CASE procedure_code {by_code} ELSE NULL END END"""


def statements(folder: Path, codes: CodeSets, cms_payers: tuple[str, ...]) -> dict[str, str]:
    claims = f"read_parquet('{folder / 'claims.parquet'}')"
    notes = f"read_parquet('{folder / 'notes.parquet'}')"
    plans = f"read_parquet('{folder / 'plans.parquet'}')"
    timed, one_on_one = _sql_list(codes.timed), _sql_list(codes.one_on_one)
    therapy = _sql_list(codes.therapy)
    documented = _sql_list(codes.timed | codes.per_session)
    notes_by_key = f"""
        SELECT patient_id, service_date, procedure_code,
               sum(minutes) AS m,
               count(*) FILTER (WHERE minutes IS NULL) AS minutes_missing,
               count(*) FILTER (WHERE start_time IS NULL OR end_time IS NULL) AS times_missing
        FROM {notes} GROUP BY ALL"""
    units = f"""
        WITH n AS ({notes_by_key}),
        l AS (
            SELECT c.claim_id, c.line_number, c.patient_id, c.service_date, c.procedure_code,
                   c.units, coalesce({_discipline(codes)}, '~') AS pool, n.m
            FROM {claims} c JOIN n USING (patient_id, service_date, procedure_code)
            WHERE c.units > 0 AND c.procedure_code IN {timed}
              AND c.payer_type IN {_sql_list(set(cms_payers))}
              AND n.m IS NOT NULL AND n.minutes_missing = 0),
        k AS (
            SELECT patient_id, service_date, procedure_code, min(pool) AS pool,
                   sum(units) AS b, any_value(m) AS m
            FROM l GROUP BY ALL),
        d AS (
            SELECT *,
                   sum(m) OVER w AS t, sum(b) OVER w AS day_b,
                   CASE WHEN m > 0 THEN m // 15 + 1 ELSE 0 END AS cap
            FROM k WINDOW w AS (PARTITION BY patient_id, service_date, pool)),
        e AS (
            SELECT *, greatest(b - cap, 0) AS cap_excess,
                   CASE WHEN t < 8 THEN 0 ELSE (t + 7) // 15 END AS n_units
            FROM d),
        r AS (
            SELECT *,
                   greatest(greatest(day_b - n_units, 0)
                            - sum(cap_excess) OVER (PARTITION BY patient_id, service_date, pool),
                            0) AS remainder,
                   b - cap_excess AS room,
                   coalesce(sum(b - cap_excess) OVER (
                       PARTITION BY patient_id, service_date, pool
                       ORDER BY 15 * b - m DESC, procedure_code
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS room_before
            FROM e),
        ke AS (
            SELECT patient_id, service_date, procedure_code,
                   cap_excess + least(room, greatest(remainder - room_before, 0)) AS key_excess
            FROM r),
        la AS (
            SELECT l.claim_id, l.line_number, l.units, ke.key_excess,
                   coalesce(sum(l.units) OVER (
                       PARTITION BY l.patient_id, l.service_date, l.procedure_code
                       ORDER BY l.claim_id DESC, l.line_number DESC
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM l JOIN ke USING (patient_id, service_date, procedure_code))
        SELECT claim_id, line_number FROM la
        WHERE least(units, greatest(key_excess - before, 0)) > 0"""
    overlap = f"""
        WITH iv AS (
            SELECT patient_id, service_date, procedure_code, note_id,
                   hour(start_time) * 60 + minute(start_time) AS s,
                   hour(end_time) * 60 + minute(end_time) AS e
            FROM {notes}
            WHERE procedure_code IN {one_on_one} AND start_time IS NOT NULL
              AND end_time IS NOT NULL AND end_time > start_time),
        o AS (
            SELECT *, max(e) OVER (
                PARTITION BY patient_id, service_date
                ORDER BY s, e, note_id, procedure_code
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
            FROM iv),
        k AS (
            SELECT DISTINCT patient_id, service_date, procedure_code FROM o
            WHERE prev_end IS NOT NULL AND least(e, prev_end) - s > 0)
        SELECT c.claim_id, c.line_number FROM {claims} c
        JOIN k USING (patient_id, service_date, procedure_code) WHERE c.units > 0"""
    poc = f"""
        WITH l AS (
            SELECT claim_id, line_number, patient_id, service_date,
                   {_discipline(codes)} AS discipline
            FROM {claims} WHERE units > 0 AND procedure_code IN {therapy}),
        m AS (
            SELECT l.claim_id, l.line_number,
                   bool_or(p.cert_start <= l.service_date) AS started,
                   bool_or(p.cert_start <= l.service_date
                           AND l.service_date <= least(p.cert_end, p.cert_start + 89))
                       AS covered
            FROM l LEFT JOIN {plans} p
              ON p.patient_id = l.patient_id
             AND (l.discipline IS NULL OR p.discipline IS NULL OR p.discipline = l.discipline)
            GROUP BY ALL)
        SELECT claim_id, line_number,
               CASE WHEN coalesce(started, false) THEN 'POC-EXPIRED' ELSE 'POC-MISSING' END
                   AS rule_id
        FROM m WHERE NOT coalesce(covered, false)"""
    time_missing = f"""
        WITH n AS ({notes_by_key})
        SELECT c.claim_id, c.line_number FROM {claims} c
        JOIN n USING (patient_id, service_date, procedure_code)
        WHERE c.units > 0 AND c.procedure_code IN {documented} AND n.times_missing > 0"""
    return {
        "UNITS-8MIN": units,
        "OVERLAP-TIMED": overlap,
        "POC": poc,
        "TIME-MISSING": time_missing,
    }


def run_baseline(
    folder: Path, codes: CodeSets, cms_payers: tuple[str, ...], threads: int | None = None
) -> tuple[float, dict[str, set[tuple[str, int]]]]:
    """Seconds for the four families and the claim lines each flags."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    flagged: dict[str, set[tuple[str, int]]] = {}
    start = time.perf_counter()
    for name, sql in statements(folder, codes, cms_payers).items():
        rows = con.execute(sql).fetchall()
        if name == "POC":
            for rule_id in ("POC-MISSING", "POC-EXPIRED"):
                flagged[rule_id] = {(r[0], int(r[1])) for r in rows if r[2] == rule_id}
        else:
            flagged[name] = {(r[0], int(r[1])) for r in rows}
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed, flagged
