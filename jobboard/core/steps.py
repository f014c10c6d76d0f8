"""Step texts whose numbers follow the reader's locale.

A worker names a step with numbers in it by a template and the values of its fields:

    progress.update(step="Comparing products {done} of {total}",
                    step_values={"done": 12664, "total": 300617})

The job's progress data then holds the step twice. `current_step` is the text in the neutral
en-US form ("Comparing products 12,664 of 300,617"): what the REST API, SSE, webhooks and
the cancel and failure summaries read, the same for everyone. `step_template` and
`step_values` are what the pages write it again from, through the one formatter, in the
viewer's locale ("Comparing products 12 664 of 300 617" in Czech; the words stay English,
as everywhere). A step without numbers is plain text and has neither.

Numbers (int, float) are formatted; strings (a product's title) are put in as they are, so
nothing in a value is ever read as a field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jobboard.core.format import DEFAULT_LOCALE, count, number, use_locale

TEMPLATE = "step_template"
VALUES = "step_values"

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")


class _Missing(Exception):
    pass


def _value(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    if isinstance(value, bool) or value is None:  # bool is an int: not a count
        raise _Missing(name)
    if isinstance(value, int):
        return count(value)
    if isinstance(value, float):
        return number(value, 1, trim=True)
    if isinstance(value, str):
        return value
    raise _Missing(name)


def render(template: str, values: Mapping[str, Any]) -> str | None:
    """`template` with each `{name}` filled in, numbers in the current context's locale;
    None when a field has no usable value."""
    try:
        return _FIELD.sub(lambda match: _value(values, match[1]), template)
    except _Missing:
        return None


def english(template: str, values: Mapping[str, Any]) -> str:
    """The neutral en-US text of a step, whoever's context this runs in."""
    with use_locale(DEFAULT_LOCALE):
        text = render(template, values)
    if text is None:  # a worker's mistake: say which step
        raise ValueError(f"step {template!r}: a field has no number or text in {sorted(values)}")
    return text


def has_fields(template: str) -> bool:
    return _FIELD.search(template) is not None


def shown(progress: Mapping[str, Any]) -> str:
    """The step as this context's reader sees it: from its template, in their locale, when it
    has one that fills in; else the stored text."""
    text = progress.get("current_step") or ""
    template, values = progress.get(TEMPLATE), progress.get(VALUES)
    if isinstance(template, str) and isinstance(values, Mapping):
        return render(template, values) or str(text)
    return str(text)


def at_step(
    progress: Mapping[str, Any], step: str, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A copy of `progress` at a new step: plain text, or a template with its `values`. The
    old step's template goes, so no page shows it for the new text."""
    out = {k: v for k, v in progress.items() if k not in (TEMPLATE, VALUES)}
    if values and has_fields(step):
        out |= {"current_step": english(step, values), TEMPLATE: step, VALUES: dict(values)}
    else:
        out["current_step"] = step
    return out
