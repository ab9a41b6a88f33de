"""PROGRESS-REPORT-LATE as DuckDB SQL, following the rule docstring in checks/rules/progress.py.

Per patient and discipline (PT, OT, SLP) the days with a billed line or a report are taken in
date order; a clinician's report (evaluation, re-evaluation, progress, discharge: the profile's
note types) starts a period, an assistant's does not (providers export); a period's treatment
days are counted after its report's day, the report's day included when it is an evaluation
(Pub. 100-02 ch. 15 §220.3 D), and the lines of the days beyond the limit are flagged. A report
of unknown discipline stands for every discipline treated that day; days before the first
clinician's report are not judged.
"""

from __future__ import annotations

from typing import Any

import duckdb

from tests.benchmarks.duckdb_peer.base import PeerContext, profile_groups, sql_list

THERAPY = ("PT", "OT", "SLP")
RULE = "PROGRESS-REPORT-LATE"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def _part(params: dict[str, Any], payers: str) -> str:
    kinds = sql_list({k.lower() for k in params["report_types"]})
    roles = sql_list({r.upper() for r in params["assistant_roles"]})
    return f"""
        WITH rep AS (
            SELECT patient_id, service_date, nd,
                   coalesce(provider_npi IN (SELECT npi FROM progress_providers
                                             WHERE role IN {roles}), false) AS asst,
                   lower(note_type) = 'evaluation' AS opens
            FROM progress_notes WHERE lower(note_type) IN {kinds}),
        treated AS (
            SELECT DISTINCT patient_id, ld AS d, service_date, 1 AS treat FROM l
            WHERE units > 0 AND ld IN {sql_list(set(THERAPY))}
              AND patient_id IN (SELECT patient_id FROM rep)),
        rd AS (
            SELECT patient_id, d, service_date, bool_or(NOT asst) AS anchor,
                   bool_or(opens AND NOT asst) AS opens
            FROM (
                SELECT patient_id, nd AS d, service_date, asst, opens FROM rep
                WHERE nd IS NOT NULL
                UNION ALL
                SELECT t.patient_id, t.d, t.service_date, r.asst, r.opens
                FROM rep r JOIN treated t USING (patient_id, service_date)
                WHERE r.nd IS NULL)
            GROUP BY ALL),
        days AS (
            SELECT patient_id, d, service_date, coalesce(treat, 0) AS treat,
                   coalesce(anchor, false) AS anchor, coalesce(opens, false) AS opens
            FROM treated FULL JOIN rd USING (patient_id, d, service_date)),
        run AS (
            SELECT *, sum(treat) OVER w AS through FROM days
            WINDOW w AS (PARTITION BY patient_id, d ORDER BY service_date
                         ROWS UNBOUNDED PRECEDING)),
        -- treatment days since the last clinician's report: the running count less the count
        -- at the report's day, an evaluation's own treatment day being day 1 (§220.3 D); the
        -- count at the latest report is the largest, the running count only growing
        counted AS (
            SELECT *, through - max(CASE WHEN anchor
                                         THEN through - (opens AND treat = 1)::INT END) OVER w
                          AS since
            FROM run
            WINDOW w AS (PARTITION BY patient_id, d ORDER BY service_date
                         ROWS UNBOUNDED PRECEDING))
        SELECT l.claim_id, l.line_number, '{RULE}' FROM l
        JOIN counted c ON c.patient_id = l.patient_id AND c.d = l.ld
                      AND c.service_date = l.service_date
        WHERE c.treat = 1 AND c.since > {params["max_treatment_days"]}
          AND l.units > 0 AND l.payer_type IN {payers}"""


def prepare(con: duckdb.DuckDBPyConnection, ctx: PeerContext) -> None:
    """The notes' report columns (note_type blank when the export lacks it: the rule then has
    nothing to read) and the providers' NPIs and roles, trimmed and upper-cased as the audit
    reads them ("pta " is a PTA; no export: no assistant)."""
    note_type = "note_type" if "note_type" in _columns(con, "n") else "NULL::VARCHAR"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW progress_notes AS "
        f"SELECT patient_id, service_date, provider_npi, nd, {note_type} AS note_type FROM n"
    )
    providers = "SELECT NULL::VARCHAR AS npi, NULL::VARCHAR AS role WHERE false"
    if ctx.has("providers"):
        table = ctx.table("providers")
        role = "upper(trim(role, ' \t\n\r'))" if "role" in _columns(con, table) else "NULL"
        providers = f"SELECT npi::VARCHAR AS npi, {role}::VARCHAR AS role FROM {table}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE progress_providers AS {providers}")


def statements(ctx: PeerContext) -> dict[str, str]:
    """PROGRESS-REPORT-LATE per configuration of the profiles that enable it."""
    parts = [_part(params, payers) for params, payers in profile_groups(ctx, RULE)]
    empty = f"SELECT NULL::VARCHAR, NULL::BIGINT, '{RULE}' WHERE false"
    return {RULE: "\nUNION ALL\n".join(f"({p})" for p in parts) or empty}
