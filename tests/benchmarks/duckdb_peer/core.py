"""The core rule families as DuckDB SQL, following the rule docstrings in checks/rules/:
UNITS-8MIN with the CMS total-time method (the payers whose profile says so; every documented
timed minute of the patient, day and discipline, billed or not; the medicaid profile's per-code
codes counted alone), OVERLAP-TIMED, POC-MISSING / POC-EXPIRED (the certification's days from the
first treatment under the plan), TIME-MISSING.
"""

from __future__ import annotations

from tests.benchmarks.duckdb_peer.base import (
    NOTE_MINUTES,
    PeerContext,
    documents,
    first_treatment,
    plan_ok,
    sql_list,
)


def _cms_payers(ctx: PeerContext) -> tuple[str, ...]:
    return tuple(
        payer
        for profile in ctx.profiles.values()
        if profile.rules["UNITS-8MIN"].params["method"] == "cms"
        for payer in profile.payer_types
    )


def statements(ctx: PeerContext) -> dict[str, str]:
    """UNITS-8MIN (the CMS method's payers), OVERLAP-TIMED, POC-MISSING / POC-EXPIRED and
    TIME-MISSING; each statement gives (claim_id, line_number, rule_id)."""
    codes, plans = ctx.codes, ctx.table("plans")
    cms_payers = _cms_payers(ctx)
    per_code_list = ctx.profiles["medicaid"].rules["UNITS-8MIN"].params.get("per_code", ())
    max_cert_days = ctx.profiles["medicare"].rules["POC-EXPIRED"].params["max_cert_days"]
    timed, one_on_one = sql_list(codes.timed), sql_list(codes.one_on_one)
    therapy = sql_list(codes.therapy)
    documented = sql_list(codes.timed | codes.per_session)
    per_code = sql_list(set(per_code_list))
    medicaid = sql_list(set(ctx.profiles["medicaid"].payer_types))
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
              AND payer_type IN {sql_list(set(cms_payers))}
            GROUP BY patient_id, service_date, procedure_code, payer_type, pool_d),
        k AS (
            SELECT lk.patient_id, lk.service_date, lk.procedure_code, lk.payer_type, lk.pool_d,
                   any_value(lk.b) AS b, sum(ns.m) AS m,
                   CASE WHEN lk.payer_type IN {medicaid} AND lk.procedure_code IN {per_code}
                        THEN lk.procedure_code ELSE '' END AS pool_c
            FROM lk JOIN ns
              ON ns.patient_id = lk.patient_id AND ns.service_date = lk.service_date
             AND ns.procedure_code = lk.procedure_code AND {documents("lk.ld", "ns.nd")}
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
             AND ub.pool_d = p.pool_d AND (p.payer_type NOT IN {medicaid} OR ub.pool_c = p.pool_c)
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
        SELECT claim_id, line_number, 'UNITS-8MIN' FROM la
        WHERE least(units, greatest(key_excess - before, 0)) > 0"""
    overlap = f"""
        WITH iv AS (
            SELECT patient_id, service_date, procedure_code, note_id, nd,
                   {NOTE_MINUTES}
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
        SELECT DISTINCT l.claim_id, l.line_number, 'OVERLAP-TIMED' FROM l
        JOIN k ON k.patient_id = l.patient_id AND k.service_date = l.service_date
              AND k.procedure_code = l.procedure_code AND {documents("l.ld", "k.nd")}
        WHERE l.units > 0"""
    poc = f"""
        WITH p AS (
            SELECT row_number() OVER () AS plan_row, patient_id, discipline AS pd,
                   cert_start, cert_end
            FROM {plans}),
        {first_treatment(codes)},
        pf AS (
            SELECT p.*,
                   least(p.cert_end, coalesce(f.first_tx + {max_cert_days - 1}, p.cert_end))
                       AS through
            FROM p LEFT JOIN first_tx f USING (plan_row)),
        m AS (
            SELECT l.claim_id, l.line_number,
                   bool_or(pf.cert_start <= l.service_date) AS started,
                   bool_or(pf.cert_start <= l.service_date AND l.service_date <= pf.through)
                       AS covered
            FROM l LEFT JOIN pf
              ON pf.patient_id = l.patient_id AND {plan_ok("l.ld", "pf.pd")}
            WHERE l.units > 0 AND l.procedure_code IN {therapy}
            GROUP BY ALL)
        SELECT claim_id, line_number,
               CASE WHEN coalesce(started, false) THEN 'POC-EXPIRED' ELSE 'POC-MISSING' END
                   AS rule_id
        FROM m WHERE NOT coalesce(covered, false)"""
    time_missing = f"""
        WITH ns AS ({notes_by_key})
        SELECT DISTINCT l.claim_id, l.line_number, 'TIME-MISSING' FROM l
        JOIN ns ON ns.patient_id = l.patient_id AND ns.service_date = l.service_date
               AND ns.procedure_code = l.procedure_code AND {documents("l.ld", "ns.nd")}
        WHERE l.units > 0 AND l.procedure_code IN {documented} AND ns.times_missing > 0"""
    return {
        "UNITS-8MIN": units,
        "OVERLAP-TIMED": overlap,
        "POC-MISSING/POC-EXPIRED": poc,
        "TIME-MISSING": time_missing,
    }
