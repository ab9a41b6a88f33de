"""sampling-plan.json and the printable, self-contained, autoescaped sampling-plan.html: every
item of the sampling plan the OIG Provider Self-Disclosure Protocol (2013) §III.B asks for
(sampling unit, frame and how it differs from the population, sample size, source of random
numbers with its seed, selection method, design, treatment of missing items, estimator)."""

from __future__ import annotations

from typing import Any

import jinja2

from checks.sampling.frame import StratumDraw
from checks.sampling.rng import GENERATOR

PLAN_JSON = "sampling-plan.json"
PLAN_HTML = "sampling-plan.html"

UNIT_TEXT = {
    "line": "one claim service line (claim_id and line_number)",
    "claim": "one claim: every service line of the claim together",
    "patient-day": "one patient on one date of service: every line billed for that patient "
    "and date together (a cluster)",
}
ORDER_TEXT = {
    "line": "claim_id (text order), then line_number (numeric order)",
    "claim": "claim_id (text order)",
    "patient-day": "patient_id (text order), then service_date",
}
MISSING = (
    "A sampled unit whose records cannot be found, or do not support the service, is an error: "
    "its audited amount is what the records support (0 when nothing is), so the whole examined "
    "amount counts as an overpayment. It is never dropped or replaced. A spare replaces only a "
    "sampled unit found to be outside the universe (not paid, not the provider's, outside the "
    "period), taking the spares of its stratum in selection order."
)
ESTIMATOR = (
    "Difference estimator: for each sampled unit, difference = examined (paid) - audited "
    "(supported) amount; the point estimate of the overpayment is the universe size times the "
    "mean difference (per stratum, summed for a stratified design), with confidence limits from "
    "Student's t (n - 1 degrees of freedom; the overall limits of a stratified sample with the "
    "normal z), as OIG's RAT-STATS appraises a variable sample. `therapy-audit sample appraise` "
    "computes it from the reviewed worksheet. The OIG Provider Self-Disclosure Protocol asks for "
    "the point estimate, underpayments not netted; a Medicare contractor demands the lower limit "
    "of the one-sided 90 % interval (CMS Pub. 100-08 Ch. 8 §8.4.5.1)."
)


def _money(cents: int | None) -> float | None:
    return None if cents is None else round(cents / 100, 2)


def strata_json(
    draws: list[StratumDraw],
    ranges: dict[str, tuple[int | None, int | None]],
    examined: dict[str, int],
) -> list[dict[str, Any]]:
    return [
        {
            "stratum": d.stratum,
            "examined_above": _money(ranges[d.stratum][0]),
            "examined_up_to": _money(ranges[d.stratum][1]),
            "frame_size": d.frame_size,
            "examined_total": _money(examined.get(d.stratum, 0)),
            "sample_size": d.sample_size,
            "spares": d.spares,
            "seed": int(d.seed) if float(d.seed).is_integer() else d.seed,
            "wichmann_hill_seeds": list(d.wichmann_hill_seeds),
            "sample_frame_numbers": sorted(d.selection_order),
            "selection_order": list(d.selection_order),
            "spares_selection_order": list(d.spare_order),
            "sum": d.total,
        }
        for d in draws
    ]


def describe_design(stratified: bool) -> str:
    if not stratified:
        return (
            "Simple random sample without replacement from the whole frame (RAT-STATS "
            "single-stage random numbers on frame numbers 1..N)."
        )
    return (
        "Stratified random sample by examined (paid) amount: each stratum a simple random "
        "sample without replacement, drawn with RAT-STATS single-stage random numbers on the "
        "stratum's own frame numbers 1..N_h (stratum_frame_number); stratum h uses the seed "
        "+ (h - 1). Sample sizes per stratum: as given, or the total shared in proportion to "
        "the strata's frame sizes (largest remainders, at least 1 each)."
    )


def frame_differences(unit: str, quarantined: int, outside: int, unpaid: int) -> str:
    parts = [
        f"The population is every {unit} of the audited claims export with a paid amount "
        "above 0 (in the audit's period, when it had one). The frame leaves out: "
        f"{quarantined} claim line(s) the input contract quarantined (see the audit's "
        "quarantine.csv; they were not audited and cannot be numbered reliably)",
        f"{outside} claim line(s) outside the audit's period",
        f"{unpaid} {unit} unit(s) with nothing paid (no overpayment is possible on them)",
    ]
    return "; ".join(parts) + "."


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sampling plan</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f3f3}code{font-size:.9em;word-break:break-all}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}}
</style></head><body>
<h1>Sampling plan</h1>
<p>Written by therapy-audit {{ p.program.version }} on {{ p.created_at }} for the audit run
{{ p.audit.run_id }}. Items as the OIG Provider Self-Disclosure Protocol (2013) §III.B lists them.
</p>
<h2>1. Sampling unit</h2><p>{{ p.sampling_unit.definition }} (<code>--unit
{{ p.sampling_unit.unit }}</code>).</p>
<h2>2. Population (universe) and sampling frame</h2>
<p>{{ p.universe.definition }}</p>
<p>{{ p.frame.differences }}</p>
<table>
<tr><th>claim lines read</th><td>{{ p.universe.claim_lines_read }}</td></tr>
<tr><th>quarantined lines</th><td>{{ p.frame.excluded.claim_lines_quarantined }}</td></tr>
<tr><th>lines the mapping filtered out</th>
<td>{{ p.frame.excluded.claim_lines_filtered }}</td></tr>
<tr><th>lines outside the period</th><td>{{ p.frame.excluded.claim_lines_outside_period }}</td></tr>
<tr><th>units not paid</th><td>{{ p.frame.excluded.units_not_paid }}</td></tr>
<tr><th>units in the frame (N)</th><td>{{ p.frame.units }}</td></tr>
<tr><th>paid amount in the frame</th><td>${{ "{:,.2f}".format(p.frame.examined_total) }}</td></tr>
<tr><th>frame order</th><td>{{ p.frame.order }}</td></tr>
<tr><th>frame file</th><td>{{ p.frame.file }}, SHA-256 <code>{{ p.frame.sha256 }}</code></td></tr>
<tr><th>claims input</th><td>{{ p.audit.claims.name }}, SHA-256
<code>{{ p.audit.claims.sha256 }}</code></td></tr>
</table>
<h2>3. Sample size</h2>
<p>{{ p.sample_size.total }} units{% if p.sample_size.spares_per_stratum %}, and
{{ p.sample_size.spares_per_stratum }} spare(s) per stratum{% endif %}.
{{ p.sample_size.note }}</p>
<h2>4. Source of random numbers</h2>
<p>{{ p.random_numbers.source }}. Generator: {{ p.random_numbers.generator }}. Seed
<strong>{{ p.random_numbers.seed }}</strong>{% if p.random_numbers.seed_from_clock %} (made from
the clock, as no seed was given){% endif %}.</p>
<h2>5. Design and selection</h2><p>{{ p.design.description }}</p>
<table><tr><th>stratum</th><th>paid above</th><th>paid up to</th><th>frame size</th>
<th>paid total</th><th>sample</th><th>spares</th><th>seed</th><th>Wichmann-Hill seeds</th>
<th>sum of numbers drawn</th></tr>
{% for s in p.design.strata %}<tr><td>{{ s.stratum }}</td>
<td>{{ "-" if s.examined_above is none else "{:,.2f}".format(s.examined_above) }}</td>
<td>{{ "-" if s.examined_up_to is none else "{:,.2f}".format(s.examined_up_to) }}</td>
<td>{{ s.frame_size }}</td><td>{{ "{:,.2f}".format(s.examined_total) }}</td>
<td>{{ s.sample_size }}</td><td>{{ s.spares }}</td><td>{{ s.seed }}</td>
<td>{{ s.wichmann_hill_seeds|join(", ") }}</td><td>{{ s.sum }}</td></tr>
{% endfor %}</table>
{% for s in p.design.strata %}<p>Stratum {{ s.stratum }} frame numbers drawn (ascending):
{{ s.sample_frame_numbers|join(", ") }}{% if s.spares_selection_order %}; spares in selection
order: {{ s.spares_selection_order|join(", ") }}{% endif %}.</p>{% endfor %}
<h2>6. Missing items</h2><p>{{ p.missing_items }}</p>
<h2>7. Estimation</h2><p>{{ p.estimator }}</p>
<h2>Files</h2><ul>{% for f in p.files %}<li>{{ f }}</li>{% endfor %}</ul>
</body></html>
"""


def plan_html(plan: dict[str, Any]) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATE).render(p=plan)


GENERATOR_SOURCE = (
    "OIG RAT-STATS single-stage random numbers (RAT-STATS 2010 User Guide), reproduced exactly: "
    "the same seed and frame size give the same numbers in RAT-STATS"
)
__all__ = ["GENERATOR", "GENERATOR_SOURCE", "PLAN_HTML", "PLAN_JSON", "plan_html"]
