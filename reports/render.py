"""Render report.html from the view model (reports/view_model.py) with Jinja2.

Autoescaping is on for every template whatever its name (`select_autoescape()` would leave
`*.html.j2` unescaped), and StrictUndefined turns a misspelt field into an error instead of a
silently blank cell. The CSS and JS are inlined, and a Content-Security-Policy with their
SHA-256 hashes forbids every other script, style and request: the page works from a file or an
e-mail attachment and cannot call out even if data were to smuggle markup in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from reports.formatting import words

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
TEMPLATE = "base.html.j2"

# Characters that could end a <script> element or open an HTML comment inside it; JSON allows
# their \u escapes, so the data parses to the same values.
_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}
_SCRIPT_UNSAFE_RE = re.compile("[<>&\u2028]")


def script_json(value: Any) -> Markup:
    """JSON for a `<script type="application/json">` element: `</script>` and `<!--` in the
    data cannot break out because `<`, `>` and `&` are written as \\u escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Markup(_SCRIPT_UNSAFE_RE.sub(lambda m: _SCRIPT_UNSAFE[m.group(0)], text))


def code_ticks(text: str) -> Markup:
    """Escape `text`, then show `backticked` names (rule parameters) as code."""
    escaped = str(escape(text))
    return Markup(re.sub(r"`([^`<>]+)`", r"<code>\1</code>", escaped))


def csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["script_json"] = script_json
    env.filters["code_ticks"] = code_ticks
    env.filters["words"] = words
    return env


@cache
def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def render_report(view: dict[str, Any]) -> str:
    """The complete, self-contained HTML page for `view` (reports.view_model.build_view)."""
    css, js = _static("report.css"), _static("report.js")
    if "</" in css or "</script" in js.lower():
        raise ValueError("inline assets must not contain '</'")  # would end their element
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            view=view,
            css=Markup(css),
            js=Markup(js),
            csp_style=csp_hash(css),
            csp_script=csp_hash(js),
        )
    )


def _page(template: str, view: dict[str, Any]) -> str:
    """A page with no script: the report's styles and the packets' own, inlined and hashed."""
    css = _static("report.css") + "\n" + _static("packet.css")
    if "</" in css:
        raise ValueError("inline assets must not contain '</'")
    return (
        environment()
        .get_template(template)
        .render(view=view, css=Markup(css), csp_style=csp_hash(css))
    )


def render_packet(view: dict[str, Any]) -> str:
    """An evidence packet's page (reports.packet_view.build_packet)."""
    return _page("packet.html.j2", view)


def render_packet_index(view: dict[str, Any]) -> str:
    """packets/index.html (reports.packet_view.packet_index)."""
    return _page("packets.html.j2", view)
