"""The report: pure view-model builders (summary, findings, scorecard, history, catalogue, charts)
and the Jinja2 templates (`base` + `_partials`), CSS and JS that render them into one
self-contained, autoescaped HTML page."""
