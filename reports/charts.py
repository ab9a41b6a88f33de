"""The report's charts: findings and dollars by rule (from summary.json), by provider and by month
(reports/metrics.py), laid out as inline SVG bar charts. The template draws them from this
geometry; no chart library, so the page makes no request and prints as crisp vectors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from reports import metrics
from reports.formatting import fmt_int, fmt_money

WIDTH = 480
LABEL_WIDTH = 150
VALUE_ROOM = 86  # room right of the longest bar for its value label
BAR_HEIGHT = 16
BAR_GAP = 7
TOP = 6
MAX_LABEL_CHARS = 22
CHART_PROVIDERS = 12
CHART_MONTHS = 36


@dataclass(frozen=True)
class Bar:
    label: str  # full label (tooltip and screen readers)
    short: str  # label drawn on the chart
    display: str  # value as shown
    y: float
    width: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class BarChart:
    chart_id: str
    title: str
    measure: str  # "count" or "money": which colour the bars take
    width: int
    height: int
    label_x: int
    bar_x: int
    bar_height: int
    bars: tuple[Bar, ...]
    note: str  # e.g. "12 of 40 providers shown"


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    items: Sequence[tuple[str, float]],
    fmt: Callable[[float], str],
    *,
    measure: str,
    note: str = "",
) -> BarChart:
    """A horizontal bar chart of `items` (label, value) in the given order; bars are scaled to
    the largest value, a zero value draws no bar but keeps its label and value."""
    largest = max((v for _, v in items), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_ROOM
    bars = []
    for i, (label, value) in enumerate(items):
        y = TOP + i * (BAR_HEIGHT + BAR_GAP)
        width = round(span * max(value, 0) / largest, 1)
        bars.append(
            Bar(
                label=label,
                short=_short(label),
                display=fmt(value),
                y=y,
                width=width,
                text_x=round(LABEL_WIDTH + width + 6, 1),
                text_y=y + BAR_HEIGHT - 4,
            )
        )
    height = TOP * 2 + max(len(items), 1) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    return BarChart(
        chart_id=chart_id,
        title=title,
        measure=measure,
        width=WIDTH,
        height=height,
        label_x=LABEL_WIDTH - 8,
        bar_x=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        bars=tuple(bars),
        note=note,
    )


def _pair(
    key: str, items: Sequence[tuple[str, int, float]], what: str, note: str = ""
) -> list[BarChart]:
    return [
        bar_chart(
            f"chart-{key}-findings",
            f"Findings by {what}",
            [(label, n) for label, n, _ in items],
            fmt_int,
            measure="count",
            note=note,
        ),
        bar_chart(
            f"chart-{key}-amount",
            f"Amount at risk by {what}",
            [(label, amount) for label, _, amount in items],
            fmt_money,
            measure="money",
            note=note,
        ),
    ]


def chart_groups(
    summary: Mapping[str, Any],
    findings: pl.DataFrame,
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """By rule, by provider (the largest amounts), by month: a findings and a dollars chart each.
    `names`: provider NPI -> name, shown beside the NPI when given."""
    names = names or {}
    rules = sorted(
        ((r, v["findings"], v["amount_at_risk"]) for r, v in summary["by_rule"].items()),
        key=lambda t: (-t[2], -t[1], t[0]),
    )
    rules = [t for t in rules if t[1]]
    lines = metrics.per_line(findings)
    providers = metrics.by_provider(findings, lines)
    shown = providers.head(CHART_PROVIDERS)
    months = metrics.by_month(findings, lines).tail(CHART_MONTHS)
    provider_note = (
        f"{shown.height} of {providers.height} providers with findings, largest amount first"
        if providers.height > shown.height
        else ""
    )
    return [
        {
            "key": "rule",
            "title": "By rule",
            "caption": "A line flagged by several rules counts under each of them here; the "
            "total amount at risk counts it once.",
            "charts": _pair("rule", rules, "rule"),
            "empty": not rules,
        },
        {
            "key": "provider",
            "title": "By rendering provider",
            "caption": "Each flagged line counted once, at its largest amount at risk.",
            "charts": _pair(
                "provider",
                [
                    (f"{npi} {names[npi]}" if npi in names else npi, n, amount)
                    for npi, n, amount in shown.select(
                        "key", "findings", "amount_at_risk"
                    ).iter_rows()
                ],
                "provider",
                provider_note,
            ),
            "empty": providers.height == 0,
        },
        {
            "key": "month",
            "title": "By month of service",
            "caption": "Each flagged line counted once, at its largest amount at risk.",
            "charts": _pair(
                "month",
                list(months.select("key", "findings", "amount_at_risk").iter_rows()),
                "month",
            ),
            "empty": months.height == 0,
        },
    ]
