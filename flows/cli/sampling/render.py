"""appraisal.json's structure and the self-contained, autoescaped appraisal.html."""

from __future__ import annotations

from typing import Any

import jinja2

from checks.sampling.demand import demand_amounts, warnings
from checks.sampling.variable import Appraisal, SeriesAppraisal

SERIES_LABELS = {
    "examined": "Examined (paid) amount",
    "audited": "Audited (correct) amount",
    "difference": "Difference (examined - audited = overpayment, underpayments netted)",
    "overpayment": "Overpayment, underpayments counted as 0",
}


def series_json(s: SeriesAppraisal) -> dict[str, Any]:
    return {
        "universe_size": s.universe_size,
        "sample_size": s.sample_size,
        "sample_total": s.sample_total,
        "mean": s.mean,
        "sd": s.sd,
        "skewness": s.skewness,
        "kurtosis": s.kurtosis,
        "se_mean": s.se_mean,
        "se_total": s.se_total,
        "point_estimate": s.point_estimate,
        "limits": {
            f"{round(i.confidence * 100)}": {
                "distribution": i.distribution,
                "df": i.df,
                "factor": i.factor,
                "lower": i.lower,
                "upper": i.upper,
                "precision": i.precision,
                "precision_percent": i.precision_percent,
            }
            for i in s.intervals
        },
    }


def appraisal_json(appraisal: Appraisal, paired: bool, source: str) -> dict[str, Any]:
    names = ("examined", "audited", "difference", "overpayment") if paired else (
        "difference", "overpayment")  # fmt: skip
    out: dict[str, Any] = {
        "worksheet": source,
        "design": "stratified" if appraisal.stratified else "unrestricted",
        "estimator": "difference (examined minus audited), RAT-STATS variable appraisal",
        "universe_size": appraisal.overall["difference"].universe_size,
        "sample_size": appraisal.overall["difference"].sample_size,
        "overall": {n: series_json(appraisal.overall[n]) for n in names},
        "amounts": [
            {"key": a.key, "amount": a.amount, "rule": a.rule, "source": a.source}
            for a in demand_amounts(appraisal)
        ],
        "warnings": list(warnings(appraisal)),
    }
    if appraisal.stratified:
        out["overall_limits"] = "normal z over the strata (RAT-STATS), t within each stratum"
        out["strata"] = {
            name: {n: series_json(series[n]) for n in names}
            for name, series in appraisal.strata.items()
        }
    return out


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sample appraisal</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}
.amounts td{font-size:1.1em}.warn{color:#8a3b00}
@media print{body{margin:0}}
</style></head><body>
<h1>Sample appraisal</h1>
<p>Worksheet {{ a.worksheet }}: {{ a.design }} design, {{ a.sample_size }} sampled units from a
universe of {{ a.universe_size }}. Estimator: {{ a.estimator }}.</p>
<h2>Amounts</h2>
<table class="amounts"><tr><th>amount</th><th>dollars</th><th>rule</th><th>source</th></tr>
{% for m in a.amounts %}<tr><td>{{ m.key }}</td><td>{{ "{:,.2f}".format(m.amount) }}</td>
<td>{{ m.rule }}</td><td>{{ m.source }}</td></tr>{% endfor %}
</table>
{% if a.warnings %}<h2>Warnings</h2><ul>{% for w in a.warnings %}
<li class="warn">{{ w }}</li>{% endfor %}</ul>{% endif %}
{% macro block(title, series) %}
<h2>{{ title }}</h2>
{% for name, s in series.items() %}
<h3>{{ labels[name] }}</h3>
<table><tr><th>figure</th><th>value</th></tr>
<tr><td>universe / sample</td><td>{{ s.universe_size }} / {{ s.sample_size }}</td></tr>
<tr><td>sample total</td><td>{{ "{:,.2f}".format(s.sample_total) }}</td></tr>
<tr><td>mean</td><td>{{ "{:,.4f}".format(s.mean) }}</td></tr>
<tr><td>standard deviation</td><td>{{ num(s.sd) }}</td></tr>
<tr><td>skewness</td><td>{{ num(s.skewness) }}</td></tr>
<tr><td>kurtosis</td><td>{{ num(s.kurtosis) }}</td></tr>
<tr><td>standard error of the mean</td><td>{{ num(s.se_mean) }}</td></tr>
<tr><td>standard error of the total</td><td>{{ "{:,.2f}".format(s.se_total) }}</td></tr>
<tr><td>point estimate</td><td>{{ "{:,.2f}".format(s.point_estimate) }}</td></tr></table>
<table><tr><th>confidence</th><th>t or z</th><th>lower</th><th>upper</th><th>precision</th>
<th>precision %</th></tr>
{% for level, l in s.limits.items() %}<tr><td>{{ level }} % two-sided</td>
<td>{{ l.distribution }}{% if l.df is not none %} (df {{ l.df }}){% endif %}
= {{ "%.12f"|format(l.factor) }}</td><td>{{ "{:,.2f}".format(l.lower) }}</td>
<td>{{ "{:,.2f}".format(l.upper) }}</td><td>{{ "{:,.2f}".format(l.precision) }}</td>
<td>{{ "%.2f"|format(l.precision_percent) }}</td></tr>{% endfor %}</table>
{% endfor %}{% endmacro %}
{{ block("Overall" + (" (limits with z)" if strata else ""), a.overall) }}
{% for name, series in strata.items() %}{{ block("Stratum " + name, series) }}
{% endfor %}
<p>Inputs rounded to cents; SD with n - 1; skewness and kurtosis from central moments over n;
limits are point estimate +/- t (n - 1 df) x SE of the total, as OIG's RAT-STATS computes them.</p>
</body></html>
"""


def appraisal_html(data: dict[str, Any]) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_TEMPLATE)
    return template.render(
        a=data,
        strata=data.get("strata", {}),
        labels=SERIES_LABELS,
        num=lambda v: "-" if v is None else f"{v:,.4f}",
    )
