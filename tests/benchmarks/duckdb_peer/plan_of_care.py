"""POC-UNSIGNED as DuckDB SQL, following the rule docstring in checks/rules/plan_of_care.py.

A day (patient, date, line discipline) with therapy lines is flagged when none of the plans of
its discipline whose range holds the date is certified: signed within the delay after the plan's
first treatment, or (from the order path's first date, where the profile accepts it) a signed
order dated no later than the day the plan was sent, sent within its delay. The first treatment
is POC-EXPIRED's: the earliest day in the plan's range with a service of its discipline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from tests.benchmarks.duckdb_peer.base import (
    PeerContext,
    first_treatment,
    plan_ok,
    profile_groups,
    sql_list,
)


def _date(value: dt.date) -> str:
    return f"DATE '{value.isoformat()}'"


def _certified(params: dict[str, Any]) -> str:
    """A plan row certifies the day: signed in time, or by the CY 2025 order path (89 Fed. Reg.
    97912-97918); a null comparison counts as a failed test of the order path's, as ours does."""
    signed = (
        "(p.signed_date IS NOT NULL"
        f" AND p.signed_date - f.first_tx <= {params['max_signature_delay_days']})"
    )
    if not params["accept_order_path"]:
        return f"coalesce({signed}, false)"
    order = (
        f"(d.service_date >= {_date(params['order_path_from'])}"
        " AND p.order_signed_date IS NOT NULL AND p.sent_date IS NOT NULL"
        " AND p.order_signed_date <= p.sent_date"
        f" AND NOT coalesce(p.sent_date - f.first_tx > {params['max_sent_delay_days']}, false))"
    )
    return f"coalesce({signed} OR {order}, false)"


def prepare(con: duckdb.DuckDBPyConnection, ctx: PeerContext) -> None:
    """The plans export as a view with the order path's optional columns (blank when the export
    lacks them, as the audit reads it)."""
    plans = ctx.table("plans")
    present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {plans}").fetchall()}
    optional = ", ".join(
        c if c in present else f"NULL::DATE AS {c}" for c in ("order_signed_date", "sent_date")
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW poc_unsigned_plans AS "
        f"SELECT patient_id, discipline, cert_start, cert_end, signed_date, {optional} "
        f"FROM {plans}"
    )


def statements(ctx: PeerContext) -> dict[str, str]:
    """POC-UNSIGNED: one statement, a certification column per configuration of the profiles."""
    codes = ctx.codes
    therapy = sql_list(codes.therapy)
    groups = profile_groups(ctx, "POC-UNSIGNED")
    if not groups:
        return {"POC-UNSIGNED": "SELECT NULL::VARCHAR, NULL::BIGINT, 'POC-UNSIGNED' WHERE false"}
    ok = ", ".join(
        f"bool_or({_certified(params)}) AS ok{i}" for i, (params, _) in enumerate(groups)
    )
    flagged = " OR ".join(
        f"(l.payer_type IN {payers} AND NOT dp.ok{i})" for i, (_, payers) in enumerate(groups)
    )
    sql = f"""
        WITH p AS (
            SELECT row_number() OVER () AS plan_row, patient_id, discipline AS pd,
                   cert_start, cert_end, signed_date, order_signed_date, sent_date
            FROM poc_unsigned_plans),
        {first_treatment(codes)},
        days AS (
            SELECT DISTINCT patient_id, service_date, ld FROM l
            WHERE units > 0 AND procedure_code IN {therapy}),
        -- a day whose date no plan's range holds is POC-MISSING's or POC-EXPIRED's
        dp AS (
            SELECT d.patient_id, d.service_date, d.ld, {ok}
            FROM days d
            JOIN p ON p.patient_id = d.patient_id AND {plan_ok("d.ld", "p.pd")}
             AND d.service_date BETWEEN p.cert_start AND p.cert_end
            LEFT JOIN first_tx f ON f.plan_row = p.plan_row
            GROUP BY ALL)
        SELECT l.claim_id, l.line_number, 'POC-UNSIGNED' FROM l
        JOIN dp ON dp.patient_id = l.patient_id AND dp.service_date = l.service_date
               AND dp.ld IS NOT DISTINCT FROM l.ld
        WHERE l.units > 0 AND l.procedure_code IN {therapy} AND ({flagged})"""
    return {"POC-UNSIGNED": sql}
