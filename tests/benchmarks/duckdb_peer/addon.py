"""ADDON-NO-PRIMARY as DuckDB SQL, following the rule docstring in checks/rules/addon.py: a billed
add-on code with no billed line of one of its primary codes by the same rendering provider for
the same patient and date (the primary on any payer's claim), the pairs taken from the add-on
table of the latest year not after the service year (else its earliest year).
"""

from __future__ import annotations

import duckdb

from tests.benchmarks.duckdb_peer.base import PeerContext, profile_groups, union


def prepare(con: duckdb.DuckDBPyConnection, ctx: PeerContext) -> None:
    """The add-on pairs (addon, prim, year) as the audit reads them."""
    from flows.run.config import reference_tables

    table = reference_tables().addon_codes
    assert table is not None  # the shipped reference tables include it
    con.register("addon_ref", table)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE addon_pairs AS
           SELECT addon, "primary" AS prim, year FROM addon_ref"""
    )
    con.unregister("addon_ref")


def statements(ctx: PeerContext) -> dict[str, str]:
    """ADDON-NO-PRIMARY; the statement gives (claim_id, line_number, rule_id)."""
    parts = []
    for _, payers in profile_groups(ctx, "ADDON-NO-PRIMARY"):
        parts.append(f"""
        WITH a AS (
            SELECT claim_id, line_number, patient_id, service_date, rendering_npi,
                   procedure_code, year(service_date) AS sy
            FROM l
            WHERE units > 0 AND payer_type IN {payers}
              AND procedure_code IN (SELECT addon FROM addon_pairs)),
        -- one table year per service year, for the whole table
        ty AS (
            SELECT s.sy, coalesce(max(t.year) FILTER (WHERE t.year <= s.sy), min(t.year)) AS ty
            FROM (SELECT DISTINCT sy FROM a) s CROSS JOIN addon_pairs t
            GROUP BY s.sy),
        w AS (
            SELECT a.*, p.prim FROM a JOIN ty USING (sy)
            JOIN addon_pairs p ON p.year = ty.ty AND p.addon = a.procedure_code),
        -- primaries billed by the provider for the patient that day, whatever the payer
        billed AS (
            SELECT DISTINCT patient_id, service_date, rendering_npi, procedure_code AS prim
            FROM l
            SEMI JOIN (SELECT DISTINCT patient_id, service_date, rendering_npi FROM w) d
              USING (patient_id, service_date, rendering_npi)
            WHERE units > 0 AND procedure_code IN (SELECT prim FROM w))
        SELECT w.claim_id, w.line_number, 'ADDON-NO-PRIMARY' FROM w
        LEFT JOIN billed USING (patient_id, service_date, rendering_npi, prim)
        GROUP BY w.claim_id, w.line_number
        HAVING count(billed.prim) = 0""")
    return {"ADDON-NO-PRIMARY": union(parts, "ADDON-NO-PRIMARY")}
