"""The time rules as DuckDB SQL, following our rules' docstrings (TIME-MISSING is in core):
TIME-INVALID (a matched note row ending at or before its start, spanning more than the
profile's maximum, or whose minutes disagree with its times beyond the tolerance) and
TIME-PSYCHOTHERAPY (a psychotherapy time code whose matched notes document fewer minutes than
its range, none at all, or more). Named time_rules so that no module of the package is named
like the standard library's.
"""

from __future__ import annotations

from tests.benchmarks.duckdb_peer.base import PeerContext, documents
from tests.benchmarks.duckdb_peer.documentation import scope_table

SAME_SERVICE = """
    k.patient_id = l.patient_id AND k.service_date = l.service_date
    AND k.procedure_code = l.procedure_code"""


def statements(ctx: PeerContext) -> dict[str, str]:
    """TIME-INVALID and TIME-PSYCHOTHERAPY; each statement gives (claim_id, line_number,
    rule_id)."""
    limits = scope_table(
        ctx,
        "TIME-INVALID",
        ["max_span_minutes", "minutes_tolerance"],
        lambda p: [(p["max_span_minutes"], p["minutes_tolerance"])],
    )
    # Pub. 100-02 ch. 15 §220.3: times that cannot be true do not document the service; the
    # span is whole seconds, minutes compared with it as a fraction
    invalid = f"""
        WITH p AS {limits},
        t AS (
            SELECT patient_id, service_date, procedure_code, nd, minutes,
                   end_time <= start_time AS reversed,
                   ((epoch_ns(end_time) - epoch_ns(start_time)) // 1000000000) / 60 AS span
            FROM n WHERE start_time IS NOT NULL AND end_time IS NOT NULL),
        k AS (
            SELECT * FROM t
            WHERE reversed OR span > (SELECT min(max_span_minutes) FROM p)
               OR abs(minutes - span) > (SELECT min(minutes_tolerance) FROM p))
        SELECT DISTINCT l.claim_id, l.line_number, 'TIME-INVALID' FROM l
        JOIN p ON p.payer_type = l.payer_type
        JOIN k ON {SAME_SERVICE} AND {documents("l.ld", "k.nd")}
        WHERE l.units > 0
          AND (k.reversed OR k.span > p.max_span_minutes
               OR coalesce(abs(k.minutes - k.span) > p.minutes_tolerance, false))"""
    ranges = scope_table(
        ctx,
        "TIME-PSYCHOTHERAPY",
        ["code", "low", "high"],
        lambda p: [
            (c, low, p["max_minutes"].get(c)) for c, low in sorted(p["min_minutes"].items())
        ],
    )
    # AMA CPT psychotherapy time rules: the minutes of the notes that document the line, summed
    # (null when no row has minutes), must fall within the code's range
    psychotherapy = f"""
        WITH p AS {ranges},
        k AS (
            SELECT patient_id, service_date, procedure_code, nd, sum(minutes) AS m
            FROM n WHERE procedure_code IN (SELECT code FROM p)
            GROUP BY ALL),
        m AS (
            SELECT l.claim_id, l.line_number, any_value(p.low) AS low,
                   any_value(p.high) AS high, sum(k.m) AS minutes
            FROM l
            JOIN p ON p.payer_type = l.payer_type AND p.code = l.procedure_code
            JOIN k ON {SAME_SERVICE} AND {documents("l.ld", "k.nd")}
            WHERE l.units > 0
            GROUP BY l.claim_id, l.line_number)
        SELECT claim_id, line_number, 'TIME-PSYCHOTHERAPY' FROM m
        WHERE (minutes IS NULL OR minutes < low OR coalesce(minutes > high, false))
          -- not applicable when no note of the export has minutes
          AND EXISTS (SELECT 1 FROM n WHERE minutes IS NOT NULL)"""
    return {"TIME-INVALID": invalid, "TIME-PSYCHOTHERAPY": psychotherapy}
