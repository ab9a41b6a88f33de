"""The baseline a data analyst would write: four core rule families as DuckDB SQL over the same
Parquet files. The benchmark times it against our rules stage and checks that both flag the same
claim lines.

Semantics follow the rule docstrings in checks/rules/ and the matching of checks/matching.py:
a line's discipline is its GP/GO/GN modifier, else its code's; a note's is its `discipline`
column, else the one known discipline of the lines of its patient, date and code, else that of
the lines its provider rendered for that service, else the one discipline its provider billed the
patient that day. A line matches the notes of its service whose discipline is its own or unknown
(a line of unknown discipline matches them all). Rules: UNITS-8MIN with the CMS total-time method
(medicare and medicaid lines; every documented timed minute of the patient, day and discipline,
billed or not; the medicaid profile's per-code H-codes counted alone), OVERLAP-TIMED, POC-MISSING
/ POC-EXPIRED (90 days from the first treatment under the plan), TIME-MISSING.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from checks.base import CodeSets

# the medicaid profile's codes counted on their own under the CMS method (data/profiles)
MEDICAID_PER_CODE = frozenset({"H2014", "H2017", "H2033"})
MAX_CERT_DAYS = 90


def _sql_list(codes: frozenset[str] | set[str]) -> str:
    return "(" + ", ".join(f"'{c}'" for c in sorted(codes)) + ")"


def _code_discipline(codes: CodeSets) -> str:
    by_code = " ".join(f"WHEN '{c}' THEN '{d}'" for c, d in sorted(codes.discipline.items()))
    return f"CASE procedure_code {by_code} ELSE NULL END"


def _discipline(codes: CodeSets) -> str:
    return f"""CASE
        WHEN regexp_matches(coalesce(modifiers, ''), '(^|:)GP(:|$)') THEN 'PT'
        WHEN regexp_matches(coalesce(modifiers, ''), '(^|:)GO(:|$)') THEN 'OT'
        WHEN regexp_matches(coalesce(modifiers, ''), '(^|:)GN(:|$)') THEN 'SLP'
        ELSE {_code_discipline(codes)} END"""


# a note of discipline `n` documents a line of discipline `l` (either unknown: it does)
def _documents(line: str, note: str) -> str:
    return f"({line} IS NULL OR {note} IS NULL OR {line} = {note})"


# a plan of discipline `p` covers a line of discipline `l` (Pub. 100-02 ch. 15 §220.1)
def _plan_ok(line: str, plan: str) -> str:
    return f"({plan} IS NULL OR {line} = {plan} OR ({line} IS NULL AND {plan} <> 'BH'))"


def setup(folder: Path, codes: CodeSets) -> list[str]:
    """Temp tables `l` (claim lines with their discipline `ld`) and `n` (notes with their
    resolved discipline `nd` and `billed`: a line billing units documents them)."""
    claims = f"read_parquet('{folder / 'claims.parquet'}')"
    notes = f"read_parquet('{folder / 'notes.parquet'}')"
    explicit = (
        "CASE WHEN discipline IN ('PT', 'OT', 'SLP', 'BH') THEN discipline END"
        if "discipline"
        in duckdb.sql(f"DESCRIBE SELECT * FROM {notes}").df()["column_name"].tolist()
        else "NULL"
    )
    lines = f"""
        CREATE OR REPLACE TEMP TABLE l AS
        SELECT claim_id, line_number, patient_id, service_date, procedure_code, rendering_npi,
               payer_type, units, {_discipline(codes)} AS ld
        FROM {claims}"""
    resolved = f"""
        CREATE OR REPLACE TEMP TABLE n AS
        WITH svc AS (
            SELECT patient_id, service_date, procedure_code,
                   CASE WHEN min(ld) = max(ld) THEN min(ld) END AS svc_d,
                   bool_or(units > 0) AS b_any,
                   bool_or(units > 0 AND ld IS NULL) AS b_unknown,
                   bool_or(units > 0 AND ld = 'PT') AS b_pt,
                   bool_or(units > 0 AND ld = 'OT') AS b_ot,
                   bool_or(units > 0 AND ld = 'SLP') AS b_slp,
                   bool_or(units > 0 AND ld = 'BH') AS b_bh
            FROM l GROUP BY ALL),
        by_provider AS (
            SELECT patient_id, service_date, procedure_code, rendering_npi AS provider_npi,
                   CASE WHEN min(ld) = max(ld) THEN min(ld) END AS prov_d
            FROM l WHERE ld IS NOT NULL GROUP BY ALL),
        by_day AS (
            SELECT patient_id, service_date, rendering_npi AS provider_npi,
                   CASE WHEN min(ld) = max(ld) THEN min(ld) END AS day_d
            FROM l WHERE ld IS NOT NULL GROUP BY ALL),
        r AS (
            SELECT x.note_id, x.patient_id, x.service_date, x.procedure_code, x.minutes,
                   x.start_time, x.end_time,
                   coalesce(x.ed, s.svc_d, p.prov_d, d.day_d) AS nd, s.* EXCLUDE (
                       patient_id, service_date, procedure_code, svc_d)
            FROM (SELECT *, {explicit} AS ed FROM {notes}) x
            LEFT JOIN svc s USING (patient_id, service_date, procedure_code)
            LEFT JOIN by_provider p USING (patient_id, service_date, procedure_code, provider_npi)
            LEFT JOIN by_day d USING (patient_id, service_date, provider_npi))
        SELECT note_id, patient_id, service_date, procedure_code, minutes, start_time, end_time,
               nd,
               coalesce(CASE nd WHEN 'PT' THEN b_pt WHEN 'OT' THEN b_ot WHEN 'SLP' THEN b_slp
                                WHEN 'BH' THEN b_bh ELSE b_any END
                        OR (nd IS NOT NULL AND b_unknown), false) AS billed
        FROM r"""
    return [lines, resolved]


def statements(folder: Path, codes: CodeSets, cms_payers: tuple[str, ...]) -> dict[str, str]:
    plans = f"read_parquet('{folder / 'plans.parquet'}')"
    timed, one_on_one = _sql_list(codes.timed), _sql_list(codes.one_on_one)
    therapy = _sql_list(codes.therapy)
    documented = _sql_list(codes.timed | codes.per_session)
    per_code = _sql_list(MEDICAID_PER_CODE)
    # per service and note discipline: what its notes document
    notes_by_key = """
        SELECT patient_id, service_date, procedure_code, nd,
               sum(minutes) AS m,
               count(*) FILTER (WHERE minutes IS NULL) AS minutes_missing,
               count(*) FILTER (WHERE start_time IS NULL OR end_time IS NULL) AS times_missing
        FROM n GROUP BY ALL"""
    units = f"""
        WITH ns AS ({notes_by_key}),
        lk AS (
            SELECT patient_id, service_date, procedure_code, payer_type,
                   coalesce(ld, '') AS pool_d, any_value(ld) AS ld, sum(units) AS b
            FROM l
            WHERE units > 0 AND procedure_code IN {timed}
              AND payer_type IN {_sql_list(set(cms_payers))}
            GROUP BY patient_id, service_date, procedure_code, payer_type, pool_d),
        k AS (
            SELECT lk.patient_id, lk.service_date, lk.procedure_code, lk.payer_type, lk.pool_d,
                   any_value(lk.b) AS b, sum(ns.m) AS m,
                   CASE WHEN lk.payer_type = 'medicaid' AND lk.procedure_code IN {per_code}
                        THEN lk.procedure_code ELSE '' END AS pool_c
            FROM lk JOIN ns
              ON ns.patient_id = lk.patient_id AND ns.service_date = lk.service_date
             AND ns.procedure_code = lk.procedure_code AND {_documents("lk.ld", "ns.nd")}
            GROUP BY ALL
            HAVING sum(ns.minutes_missing) = 0 AND sum(ns.m) IS NOT NULL),
        -- documented timed minutes that no line billing units documents (Example 5)
        ub AS (
            SELECT patient_id, service_date, nd AS pool_d,
                   CASE WHEN procedure_code IN {per_code} THEN procedure_code ELSE '' END
                       AS pool_c,
                   sum(minutes) AS m
            FROM n
            WHERE NOT billed AND procedure_code IN {timed} AND nd IS NOT NULL
              AND minutes IS NOT NULL
            GROUP BY ALL),
        pools AS (
            SELECT p.patient_id, p.service_date, p.payer_type, p.pool_d, p.pool_c,
                   coalesce(sum(ub.m), 0) AS unbilled
            FROM (SELECT DISTINCT patient_id, service_date, payer_type, pool_d, pool_c FROM k) p
            LEFT JOIN ub
              ON ub.patient_id = p.patient_id AND ub.service_date = p.service_date
             AND ub.pool_d = p.pool_d AND (p.payer_type <> 'medicaid' OR ub.pool_c = p.pool_c)
            GROUP BY ALL),
        d AS (
            SELECT k.*,
                   sum(m) OVER w + pools.unbilled AS t, sum(b) OVER w AS day_b,
                   CASE WHEN m > 0 THEN m // 15 + 1 ELSE 0 END AS cap
            FROM k JOIN pools USING (patient_id, service_date, payer_type, pool_d, pool_c)
            WINDOW w AS (PARTITION BY patient_id, service_date, payer_type, pool_d, pool_c)),
        e AS (
            SELECT *, greatest(b - cap, 0) AS cap_excess,
                   CASE WHEN t < 8 THEN 0 ELSE (t + 7) // 15 END AS n_units
            FROM d),
        r AS (
            SELECT *,
                   greatest(greatest(day_b - n_units, 0)
                            - sum(cap_excess) OVER w, 0) AS remainder,
                   b - cap_excess AS room,
                   coalesce(sum(b - cap_excess) OVER (
                       w ORDER BY 15 * b - m DESC, procedure_code
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS room_before
            FROM e
            WINDOW w AS (PARTITION BY patient_id, service_date, payer_type, pool_d, pool_c)),
        ke AS (
            SELECT patient_id, service_date, procedure_code, payer_type, pool_d,
                   cap_excess + least(room, greatest(remainder - room_before, 0)) AS key_excess
            FROM r),
        la AS (
            SELECT l.claim_id, l.line_number, l.units, ke.key_excess,
                   coalesce(sum(l.units) OVER (
                       PARTITION BY l.patient_id, l.service_date, l.procedure_code,
                                    l.payer_type, ke.pool_d
                       ORDER BY l.claim_id DESC, l.line_number DESC
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM l JOIN ke
              ON ke.patient_id = l.patient_id AND ke.service_date = l.service_date
             AND ke.procedure_code = l.procedure_code AND ke.payer_type = l.payer_type
             AND ke.pool_d = coalesce(l.ld, '')
            WHERE l.units > 0 AND ke.key_excess > 0)
        SELECT claim_id, line_number FROM la
        WHERE least(units, greatest(key_excess - before, 0)) > 0"""
    overlap = f"""
        WITH iv AS (
            SELECT patient_id, service_date, procedure_code, note_id, nd,
                   hour(start_time) * 60 + minute(start_time) AS s,
                   hour(end_time) * 60 + minute(end_time) AS e
            FROM n
            WHERE procedure_code IN {one_on_one} AND start_time IS NOT NULL
              AND end_time IS NOT NULL AND end_time > start_time),
        o AS (
            SELECT *, max(e) OVER (
                PARTITION BY patient_id, service_date
                ORDER BY s, e, note_id, procedure_code
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
            FROM iv),
        k AS (
            SELECT DISTINCT patient_id, service_date, procedure_code, nd FROM o
            WHERE prev_end IS NOT NULL AND least(e, prev_end) - s > 0)
        SELECT DISTINCT l.claim_id, l.line_number FROM l
        JOIN k ON k.patient_id = l.patient_id AND k.service_date = l.service_date
              AND k.procedure_code = l.procedure_code AND {_documents("l.ld", "k.nd")}
        WHERE l.units > 0"""
    poc = f"""
        WITH p AS (
            SELECT row_number() OVER () AS plan_row, patient_id, discipline AS pd,
                   cert_start, cert_end
            FROM {plans}),
        -- days with a service of a discipline: billed lines (evaluations included) and notes
        -- of known discipline (resolved, else the code's)
        tx AS (
            SELECT patient_id, service_date, ld AS d FROM l WHERE units > 0
            UNION
            SELECT patient_id, service_date, coalesce(nd, {_code_discipline(codes)}) FROM n
            WHERE coalesce(nd, {_code_discipline(codes)}) IS NOT NULL),
        first_tx AS (
            SELECT p.plan_row, min(tx.service_date) AS first_tx
            FROM p JOIN tx ON tx.patient_id = p.patient_id AND {_plan_ok("tx.d", "p.pd")}
             AND tx.service_date BETWEEN p.cert_start AND p.cert_end
            GROUP BY ALL),
        pf AS (
            SELECT p.*,
                   least(p.cert_end, coalesce(f.first_tx + {MAX_CERT_DAYS - 1}, p.cert_end))
                       AS through
            FROM p LEFT JOIN first_tx f USING (plan_row)),
        m AS (
            SELECT l.claim_id, l.line_number,
                   bool_or(pf.cert_start <= l.service_date) AS started,
                   bool_or(pf.cert_start <= l.service_date AND l.service_date <= pf.through)
                       AS covered
            FROM l LEFT JOIN pf
              ON pf.patient_id = l.patient_id AND {_plan_ok("l.ld", "pf.pd")}
            WHERE l.units > 0 AND l.procedure_code IN {therapy}
            GROUP BY ALL)
        SELECT claim_id, line_number,
               CASE WHEN coalesce(started, false) THEN 'POC-EXPIRED' ELSE 'POC-MISSING' END
                   AS rule_id
        FROM m WHERE NOT coalesce(covered, false)"""
    time_missing = f"""
        WITH ns AS ({notes_by_key})
        SELECT DISTINCT l.claim_id, l.line_number FROM l
        JOIN ns ON ns.patient_id = l.patient_id AND ns.service_date = l.service_date
               AND ns.procedure_code = l.procedure_code AND {_documents("l.ld", "ns.nd")}
        WHERE l.units > 0 AND l.procedure_code IN {documented} AND ns.times_missing > 0"""
    return {
        "UNITS-8MIN": units,
        "OVERLAP-TIMED": overlap,
        "POC": poc,
        "TIME-MISSING": time_missing,
    }


def run_baseline(
    folder: Path, codes: CodeSets, cms_payers: tuple[str, ...], threads: int | None = None
) -> tuple[float, dict[str, set[tuple[str, int]]]]:
    """Seconds for the four families (the shared line and note tables included) and the claim
    lines each flags."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    flagged: dict[str, set[tuple[str, int]]] = {}
    prepare = setup(folder, codes)
    start = time.perf_counter()
    for sql in prepare:
        con.execute(sql)
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
