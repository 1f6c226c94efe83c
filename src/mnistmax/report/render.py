"""Rendering the report's HTML from template files (``report/templates/``) with Jinja2.

Autoescaping is on for every template: a value from a run folder, a config, a study or a class
name reaches the page only as text, whatever it holds. Trusted markup is explicit: the package's
own stylesheets and scripts (:func:`asset`) and HTML this module rendered already.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

# JSON inside <script type="application/json">: no character may end the element or open a
# comment, so <, > and & are written as JSON escapes (JSON.parse reads them back).
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def json_data(value: Any) -> Markup:
    """``value`` as compact JSON that is safe inside a ``<script>`` element."""
    return Markup(json.dumps(value, separators=(",", ":")).translate(_JSON_ESCAPES))


def asset(name: str) -> Markup:
    """A package file of ``report/assets/`` (stylesheet, script), trusted as it is."""
    text = (resources.files("mnistmax.report") / "assets" / name).read_text(encoding="utf-8")
    return Markup(text)


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mnistmax.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json_data"] = json_data
    return env


def render(template: str, **context: Any) -> Markup:
    """Render ``templates/<template>`` with ``context`` (every value escaped unless Markup)."""
    return Markup(_environment().get_template(template).render(**context))
