"""The unit rules as DuckDB SQL, following the rule docstrings in checks/rules/units.py:
UNITS-8MIN with the AMA/CPT midpoint method (the payers whose profile says so: each code and
discipline on its own), UNITS-UNTIMED, UNITS-MUE and UNITS-SESSION-MIN.

Units pool per patient, date, code and payer type among the lines of the payers a rule runs for
with one configuration (the engine runs a rule once per distinct configuration of the profiles);
a key's excess goes to its later-billed lines first (claim_id, line_number descending).
"""

from __future__ import annotations

import duckdb

from tests.benchmarks.duckdb_peer.base import (
    PeerContext,
    documents,
    profile_groups,
    sql_list,
    union,
)

# the units of the lines before this one in the key, later-billed first
BEFORE = "ORDER BY claim_id DESC, line_number DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"


def prepare(con: duckdb.DuckDBPyConnection, ctx: PeerContext) -> None:
    """The MUE table (code, year, mue) as the audit reads it."""
    from flows.run.config import mue_table

    con.register("units_mue_ref", mue_table().collect())
    con.execute(
        """CREATE OR REPLACE TEMP TABLE units_mue AS
           SELECT upper(trim(code)) AS procedure_code, year AS mue_year, mue
           FROM units_mue_ref"""
    )
    con.unregister("units_mue_ref")


def _ama(ctx: PeerContext) -> str:
    timed = sql_list(ctx.codes.timed)
    parts = []
    for params, payers in profile_groups(ctx, "UNITS-8MIN", lambda p: p["method"] == "ama"):
        unit, least_minutes = params["unit_minutes"], params["min_minutes"]
        parts.append(f"""
        WITH lk AS (
            SELECT patient_id, service_date, procedure_code, payer_type,
                   coalesce(ld, '') AS kd, any_value(ld) AS ld, sum(units) AS b
            FROM l
            WHERE units > 0 AND procedure_code IN {timed} AND payer_type IN {payers}
            GROUP BY patient_id, service_date, procedure_code, payer_type, kd),
        -- the notes of these services only
        ns AS (
            SELECT patient_id, service_date, procedure_code, nd, sum(minutes) AS m,
                   count(*) FILTER (WHERE minutes IS NULL) AS missing
            FROM n SEMI JOIN lk USING (patient_id, service_date, procedure_code)
            GROUP BY ALL),
        -- one code of one discipline, every note row it matches documenting minutes
        k AS (
            SELECT lk.patient_id, lk.service_date, lk.procedure_code, lk.payer_type, lk.kd,
                   any_value(lk.b) AS b, sum(ns.m) AS m
            FROM lk JOIN ns
              ON ns.patient_id = lk.patient_id AND ns.service_date = lk.service_date
             AND ns.procedure_code = lk.procedure_code AND {documents("lk.ld", "ns.nd")}
            GROUP BY ALL
            HAVING sum(ns.missing) = 0 AND sum(ns.m) IS NOT NULL),
        ke AS (
            SELECT *, b - CASE WHEN m < {least_minutes} THEN 0
                               ELSE (m + {unit - least_minutes}) // {unit} END AS excess
            FROM k),
        la AS (
            SELECT l.claim_id, l.line_number, l.units, ke.excess,
                   coalesce(sum(l.units) OVER (
                       PARTITION BY l.patient_id, l.service_date, l.procedure_code,
                                    l.payer_type, ke.kd
                       {BEFORE}), 0) AS before
            FROM l JOIN ke
              ON ke.patient_id = l.patient_id AND ke.service_date = l.service_date
             AND ke.procedure_code = l.procedure_code AND ke.payer_type = l.payer_type
             AND ke.kd = coalesce(l.ld, '')
            WHERE l.units > 0 AND l.payer_type IN {payers} AND ke.excess > 0)
        SELECT claim_id, line_number, 'UNITS-8MIN' FROM la
        WHERE least(units, greatest(excess - before, 0)) > 0""")
    return union(parts, "UNITS-8MIN")


def _untimed(ctx: PeerContext) -> str:
    codes = ctx.codes
    # code classes as the rules see them: timed first, then per session, then untimed
    per_session = codes.per_session - codes.timed
    untimed = codes.untimed - codes.timed - per_session
    parts = []
    for params, payers in profile_groups(ctx, "UNITS-UNTIMED"):
        most = params["max_units_per_day"]
        # an untimed code once per discipline and provider (Transmittal 1019); a per-session
        # code once per patient and day whoever rendered it
        parts.append(f"""
        WITH b AS (
            SELECT claim_id, line_number, patient_id, service_date, procedure_code, payer_type,
                   units,
                   CASE WHEN procedure_code IN {sql_list(untimed)} THEN coalesce(ld, 'none')
                   END AS kd,
                   CASE WHEN procedure_code IN {sql_list(untimed)} THEN rendering_npi END AS kp
            FROM l
            WHERE units > 0 AND payer_type IN {payers}
              AND procedure_code IN {sql_list(untimed | per_session)}),
        k AS (
            SELECT patient_id, service_date, procedure_code, payer_type, kd, kp,
                   sum(units) AS billed
            FROM b GROUP BY ALL HAVING sum(units) > {most}),
        la AS (
            SELECT b.claim_id, b.line_number, b.units, k.billed,
                   coalesce(sum(b.units) OVER (
                       PARTITION BY b.patient_id, b.service_date, b.procedure_code,
                                    b.payer_type, b.kd, b.kp
                       {BEFORE}), 0) AS before
            FROM b JOIN k
              ON k.patient_id = b.patient_id AND k.service_date = b.service_date
             AND k.procedure_code = b.procedure_code AND k.payer_type = b.payer_type
             AND k.kd IS NOT DISTINCT FROM b.kd AND k.kp IS NOT DISTINCT FROM b.kp)
        SELECT claim_id, line_number, 'UNITS-UNTIMED' FROM la
        WHERE least(units, greatest(billed - {most} - before, 0)) > 0""")
    return union(parts, "UNITS-UNTIMED")


def _mue(ctx: PeerContext) -> str:
    parts = []
    for _, payers in profile_groups(ctx, "UNITS-MUE"):
        parts.append(f"""
        WITH b AS (
            SELECT claim_id, line_number, patient_id, service_date, procedure_code,
                   payer_type, rendering_npi, units, year(service_date) AS sy
            FROM l
            WHERE units > 0 AND payer_type IN {payers}
              AND procedure_code IN (SELECT procedure_code FROM units_mue)),
        -- the MUE of the latest table year not after the service's, else the latest there is
        lim AS (
            SELECT s.procedure_code, s.sy,
                   arg_max(t.mue, (t.mue_year <= s.sy)::INT * 100000 + t.mue_year) AS mue
            FROM (SELECT DISTINCT procedure_code, sy FROM b) s
            JOIN units_mue t USING (procedure_code)
            GROUP BY ALL),
        -- one provider's units for one patient, date and code on one payer's claims (NCCI)
        k AS (
            SELECT patient_id, service_date, procedure_code, payer_type, rendering_npi, sy,
                   sum(units) AS billed
            FROM b GROUP BY ALL),
        over AS (
            SELECT k.*, lim.mue FROM k JOIN lim USING (procedure_code, sy)
            WHERE k.billed > lim.mue),
        la AS (
            SELECT b.claim_id, b.line_number, b.units, over.billed - over.mue AS excess,
                   coalesce(sum(b.units) OVER (
                       PARTITION BY b.patient_id, b.service_date, b.procedure_code,
                                    b.payer_type, b.rendering_npi
                       {BEFORE}), 0) AS before
            FROM b JOIN over
              USING (patient_id, service_date, procedure_code, payer_type, rendering_npi))
        SELECT claim_id, line_number, 'UNITS-MUE' FROM la
        WHERE least(units, greatest(excess - before, 0)) > 0""")
    return union(parts, "UNITS-MUE")


def _session_min(ctx: PeerContext) -> str:
    per_session = sql_list(ctx.codes.per_session - ctx.codes.timed)
    parts = []
    for params, payers in profile_groups(ctx, "UNITS-SESSION-MIN"):
        # a session below the minimum does not qualify at all: every unit of the line
        parts.append(f"""
        WITH ns AS (
            SELECT patient_id, service_date, procedure_code, nd, sum(minutes) AS m,
                   count(*) FILTER (WHERE minutes IS NULL) AS missing
            FROM n WHERE procedure_code IN {per_session} GROUP BY ALL)
        SELECT l.claim_id, l.line_number, 'UNITS-SESSION-MIN' FROM l
        JOIN ns ON ns.patient_id = l.patient_id AND ns.service_date = l.service_date
               AND ns.procedure_code = l.procedure_code AND {documents("l.ld", "ns.nd")}
        WHERE l.units > 0 AND l.procedure_code IN {per_session} AND l.payer_type IN {payers}
        GROUP BY l.claim_id, l.line_number
        HAVING sum(ns.missing) = 0 AND sum(ns.m) < {params["min_session_minutes"]}""")
    return union(parts, "UNITS-SESSION-MIN")


def statements(ctx: PeerContext) -> dict[str, str]:
    """UNITS-8MIN (the AMA method's payers), UNITS-UNTIMED, UNITS-MUE and UNITS-SESSION-MIN;
    each statement gives (claim_id, line_number, rule_id)."""
    return {
        "UNITS-8MIN (AMA)": _ama(ctx),
        "UNITS-UNTIMED": _untimed(ctx),
        "UNITS-MUE": _mue(ctx),
        "UNITS-SESSION-MIN": _session_min(ctx),
    }
