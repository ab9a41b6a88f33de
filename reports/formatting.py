"""How the report writes numbers and rule text (one place, so the page, the workbook and the
tests agree on "2,434", "$10,671.33" and "11.79%")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def fmt_int(n: float) -> str:
    return f"{int(n):,}"


def fmt_money(x: float) -> str:
    return f"${float(x):,.2f}"


def fmt_pct(rate: float) -> str:
    return f"{float(rate) * 100:.2f}%"


def first_paragraph(text: str) -> str:
    return paragraphs(text)[0] if text.strip() else ""


def paragraphs(text: str) -> list[str]:
    """Docstring paragraphs with their hard line breaks joined."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def describe(value: Any) -> str:
    """A JSON value (an expectation's observed / expected) as one line of plain text."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return "; ".join(f"{str(k).replace('_', ' ')}: {describe(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        if all(isinstance(v, dict) for v in value):
            # per-code tables (GE distributions) would swamp a cell: name the codes only
            keys = [str(v.get("procedure_code", "")) for v in value if v.get("procedure_code")]
            return f"{len(value)} ({', '.join(keys)})" if keys else f"{len(value)} entries"
        return ", ".join(describe(v) for v in value)
    return str(value)


def period_sentence(period: Mapping[str, Any]) -> str:
    """summary.json's `period` in words, as the report, the console and Prefect say it:
    "Audit period 2026-01-01 to 2026-03-31; 1,234 lines outside it were not audited"."""
    outside = int(period["lines_outside_period"])
    if outside == 0:
        rest = "no claim line is outside it"
    elif outside == 1:
        rest = "1 line outside it was not audited"
    else:
        rest = f"{fmt_int(outside)} lines outside it were not audited"
    text = f"Audit period {period['start']} to {period['end']}; {rest}"
    if not period["lines_audited"]:
        text += "; no claim line is dated within it, so no line was audited"
    return text


def unclassified_sentence(found: Mapping[str, Any]) -> str:
    """ "12 lines with codes no profile classifies (3 codes)", as the console and report say
    (summary.json `unclassified_codes`)."""
    lines, codes = found["lines"], found["codes"]
    return (
        f"{lines:,} line{'s' if lines != 1 else ''} with codes no profile classifies "
        f"({codes:,} code{'s' if codes != 1 else ''})"
    )
