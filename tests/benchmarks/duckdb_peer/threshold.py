"""KX-MISSING as DuckDB SQL, following our rules' docstrings: per beneficiary, calendar year
and threshold group (PT and SLP together, OT apart), billed lines in order of date of service,
claim and line; the line whose allowed amount takes the year's running total past the year's
KX threshold, and every later one, when it lacks KX. The allowed amount is the claim's, else the
fee schedule's rate (the latest table year not after the service year, else the earliest) x
units, else paid / (1 - coinsurance), else 0.
"""

from __future__ import annotations

import duckdb

from checks.lines import codes_key
from flows.run.config import reference_tables
from tests.benchmarks.duckdb_peer.base import PeerContext
from tests.benchmarks.duckdb_peer.documentation import literal, owned, payer_list


def prepare(con: duckdb.DuckDBPyConnection, ctx: PeerContext) -> None:
    """The thresholds by year (`kx_thresholds`) and the fee schedule (`kx_fees`)."""
    # what load_context(None).reference holds, without reading the profiles and MUE again
    reference = reference_tables()
    if reference.thresholds is None:
        raise ValueError("KX-MISSING needs the therapy thresholds reference table")
    con.register("kx_thresholds", reference.thresholds.select("year", "kx_threshold"))
    fees = reference.fee_schedule
    if fees is None:
        con.execute("CREATE OR REPLACE TEMP TABLE kx_fees (code VARCHAR, year INT, rate DOUBLE)")
    else:
        con.register("kx_fees", fees.select("code", "year", "rate"))
    # an export without the amounts reads as if they were there and blank, as our rules read it
    for column in ("allowed_amount", "paid_amount"):
        con.execute(f"ALTER TABLE l ADD COLUMN IF NOT EXISTS {column} DOUBLE")


def _groups(ctx: PeerContext) -> list[tuple[tuple[str, ...], dict[str, object]]]:
    """(the payer types in scope, the parameters) per run of the rule: our engine runs it once
    for the profiles giving it the same parameters and code sets, whose lines then count
    together toward each beneficiary's threshold."""
    runs: dict[str, tuple[list[str], dict[str, object]]] = {}
    for name, payers in owned(ctx).items():
        settings = ctx.profiles[name].rules["KX-MISSING"]
        if settings.enabled and payers:
            key = repr((sorted(settings.params.items()), codes_key(ctx.profiles[name].codes)))
            runs.setdefault(key, ([], dict(settings.params)))[0].extend(payers)
    return [(tuple(scope), params) for scope, params in runs.values()]


def _statement(scope: tuple[str, ...], params: dict[str, object]) -> str:
    coinsurance = params["coinsurance"]
    assert isinstance(coinsurance, float | int)
    payers = params["payer_types"]
    assert isinstance(payers, list | tuple)
    counted = payer_list({*scope, *payers})
    from_paid = f"paid_amount / {literal(1 - float(coinsurance))}" if coinsurance < 1 else "NULL"
    # Pub. 100-04 ch. 5 §10.3: PT and SLP spending counts toward one threshold, OT toward
    # another, per beneficiary and calendar year; the allowed amount counts
    return f"""
        WITH t AS (
            SELECT claim_id, line_number, patient_id, service_date, procedure_code, units,
                   modifiers, allowed_amount, paid_amount,
                   year(service_date) AS year,
                   CASE WHEN ld = 'OT' THEN 'OT' ELSE 'PT+SLP' END AS grp,
                   payer_type IN {payer_list(scope)} AS in_scope
            FROM l
            WHERE units > 0 AND ld IN ('PT', 'SLP', 'OT') AND payer_type IN {counted}),
        fee_year AS (
            SELECT y.year, f.code,
                   coalesce(max(f.year) FILTER (WHERE f.year <= y.year), min(f.year)) AS t_year
            FROM (SELECT DISTINCT year FROM t) y CROSS JOIN kx_fees f GROUP BY ALL),
        fee AS (
            SELECT fy.year, fy.code, f.rate FROM fee_year fy
            JOIN kx_fees f ON f.code = fy.code AND f.year = fy.t_year),
        a AS (
            SELECT t.*,
                   coalesce(allowed_amount, fee.rate * units, {from_paid}, 0.0) AS allowed
            FROM t LEFT JOIN fee ON fee.year = t.year AND fee.code = t.procedure_code),
        -- only the groups whose year total passes the threshold are put in order
        past_year AS (
            SELECT a.patient_id, a.year, a.grp, any_value(th.kx_threshold) AS kx
            FROM a JOIN kx_thresholds th ON th.year = a.year
            GROUP BY ALL HAVING sum(a.allowed) > any_value(th.kx_threshold)),
        c AS (
            SELECT a.claim_id, a.line_number, a.modifiers, a.in_scope, past_year.kx,
                   sum(a.allowed) OVER (
                       PARTITION BY a.patient_id, a.year, a.grp
                       ORDER BY a.service_date, a.claim_id, a.line_number
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative
            FROM a JOIN past_year USING (patient_id, year, grp))
        SELECT claim_id, line_number, 'KX-MISSING' FROM c
        WHERE in_scope AND cumulative > kx
          AND NOT regexp_matches(coalesce(modifiers, ''), '(^|:)KX(:|$)')"""


def statements(ctx: PeerContext) -> dict[str, str]:
    """KX-MISSING; the statement gives (claim_id, line_number, rule_id)."""
    runs = [_statement(scope, params) for scope, params in _groups(ctx)]
    if not runs:
        runs = ["SELECT NULL AS claim_id, NULL AS line_number, 'KX-MISSING' WHERE false"]
    return {"KX-MISSING": "\nUNION ALL\n".join(f"({sql})" for sql in runs)}
