"""The semantic diff for people and tools: text for a terminal, markdown for a
pull-request comment (tables, the metric tree before and after as mermaid,
the owners whose review the change needs), json for anything else.

Spec text reaches a pull-request page here, so every value is escaped for the
place it lands in: a table cell, inline code, a mermaid label (tree.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from northstar_spec.review.diff import (
    ADDED,
    CHANGED,
    REMOVED,
    Change,
    Diff,
    MetricDiff,
    NorthStarChange,
    Owner,
    ProductDiff,
)
from northstar_spec.spec.tree import mermaid_tree

#: The first line of every markdown report, so a CI job can find and update
#: its earlier comment instead of adding one per push.
MARKDOWN_MARKER = "<!-- northstar-diff -->"

ROLE = {"north_star": "North Star", "input": "input", "counter_metric": "counter-metric", "candidate": "candidate"}
NS601 = "lint rule NS601 requires a history entry for the previous North Star (`northstar validate --base REF`)"


def _role(role: str) -> str:
    return ROLE.get(role, role)


def _summary(diff: Diff) -> str:
    count = len(diff.products)
    if not count:
        return "no change to any North Star spec"
    return f"{count} product{'s' * (count != 1)} changed"


@dataclass(frozen=True)
class _Row:
    """One line of a product's diff, as both renderers lay it out."""

    status: str
    #: "product", "review", "history", or the metric the line is about.
    subject: str | MetricDiff
    #: What changed ("filter", "renamed", "inputs.cadence"); empty for a whole metric or history entry.
    field: str
    before: str | None
    after: str | None


def _status(change: Change) -> str:
    return ADDED if change.before is None else REMOVED if change.after is None else CHANGED


def _rows(product: ProductDiff) -> Iterator[_Row]:
    """Every line of a product's diff, in reading order: product, metrics, reviews, history."""
    for c in product.product:
        yield _Row(_status(c), "product", c.field, c.before, c.after)
    for metric in product.metrics:
        for c in metric.changes:
            field = "" if c.field == "metric" else "renamed" if c.field == "name" else c.field
            yield _Row(metric.status, metric, field, c.before, c.after)
    for c in product.review:
        yield _Row(_status(c), "review", c.field.removeprefix("review."), c.before, c.after)
    for c in product.history:
        yield _Row(_status(c), "history", "", c.before, c.after)


def _north_star_change(change: NorthStarChange) -> str:
    if change.before != change.after:
        return f"{change.before} -> {change.after} (new {', '.join(change.fields)})"
    return f"{change.after} computes differently (new {', '.join(change.fields)})"


def _owner_text(owner: Owner) -> str:
    return f"{owner.team} ({owner.review_handle or 'no review handle'})"


# --- text -------------------------------------------------------------------------

_MARK = {ADDED: "+", REMOVED: "-", CHANGED: "~"}


def _quote(value: str | None) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


def _text_line(row: _Row) -> str:
    subject = row.subject if isinstance(row.subject, str) else f"{_role(row.subject.role)} {row.subject.id}"
    values = f"{_quote(row.before)} -> {_quote(row.after)}" if row.status == CHANGED else row.after or row.before
    return f"  {_MARK[row.status]} {subject}{' ' + row.field if row.field else ''}: {values}"


def format_text(diff: Diff) -> str:
    lines = [f"{diff.base} -> {diff.head}: {_summary(diff)}"]
    for product in diff.products:
        lines += ["", f"{product.name} ({product.id}, {product.file_after or product.file_before}): {product.status}"]
        change = product.north_star_change
        if change:
            lines.append(f"  !! the North Star changed: {_north_star_change(change)}")
            lines.append(f"     {NS601}: {'recorded' if change.history_recorded else 'MISSING'}")
        lines += [_text_line(row) for row in _rows(product)]
        if product.owners:
            lines.append("  owners: " + ", ".join(_owner_text(o) for o in product.owners))
    for file in diff.unreadable:
        lines.append(f"not compared (does not pass validation): {file}")
    return "\n".join(lines)


# --- markdown ---------------------------------------------------------------------

_ICON = {ADDED: "➕", REMOVED: "➖", CHANGED: "✏️"}
_LEGEND = "Outlined: added (green), changed (amber), removed (red)."


def _text(value: str) -> str:
    """Spec text as markdown text: no markup, no HTML, no table break, one line."""
    value = " ".join(value.split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_{}\[\]()#+!|~])", r"\\\1", value)


def _code(value: str | None) -> str:
    """Spec text as inline code inside a table cell."""
    if value is None:
        return ""
    value = " ".join(value.split()).replace("|", "\\|")
    fence = "`" * (max(map(len, re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _handle(owner: Owner) -> str:
    name = f" ({_text(owner.name)})" if owner.name else ""
    if owner.review_handle:
        return f"{owner.review_handle}{name}"
    return f"`{owner.team}`{name}, which has no review handle in northstar.yaml"


def _table(product: ProductDiff) -> list[str]:
    lines = ["| | what | field | before | after |", "|---|---|---|---|---|"]
    for row in _rows(product):
        metric = row.subject
        what = metric if isinstance(metric, str) else f"{_text(metric.name)} `{metric.id}` · {_role(metric.role)}"
        lines.append(
            f"| {_ICON[row.status]} | {what} | {row.field or row.status} | {_code(row.before)} | {_code(row.after)} |"
        )
    return lines


def _north_star_alert(change: NorthStarChange) -> list[str]:
    if change.before != change.after:
        what = f"`{change.before}` → `{change.after}` (new {', '.join(change.fields)})"
    else:
        what = f"`{change.after}` computes differently (new {', '.join(change.fields)})"
    recorded = (
        "✅ this change adds one."
        if change.history_recorded
        else "❌ this change adds none, so `northstar validate --base` fails until it does."
    )
    return [
        "> [!IMPORTANT]",
        f"> **The North Star changes:** {what}.",
        "> Its trend starts over and every input is read against a new goal: leadership should sign this off.",
        f"> {NS601[0].upper() + NS601[1:]}: {recorded}",
        "",
    ]


def _marks(product: ProductDiff) -> tuple[dict[str, str], dict[str, str]]:
    """Which nodes to outline in the tree before (removed, changed) and after (added, changed)."""
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for metric in product.metrics:
        if metric.status == CHANGED:
            after[metric.id] = CHANGED
            old_id = next((c.before for c in metric.changes if c.field == "id"), None) or metric.id
            before[old_id] = CHANGED
        else:
            (after if metric.status == ADDED else before)[metric.id] = metric.status
    return before, after


def _trees(product: ProductDiff) -> list[str]:
    marks = _marks(product)
    lines = []
    for title, spec, marked in (("Before", product.before, marks[0]), ("After", product.after, marks[1])):
        if spec is not None:
            lines += [f"{title}:", "", "```mermaid", mermaid_tree(spec, marked), "```", ""]
    return lines


def format_markdown(diff: Diff) -> str:
    """A pull-request comment: per product a table of changes, the tree before and after, who reviews."""
    lines = [MARKDOWN_MARKER, f"### North Star specs: {_label(diff.base)} → {_label(diff.head)}", ""]
    redefined = [p.name for p in diff.products if p.north_star_change]
    if redefined:
        lines += [f"⚠️ **This change redefines the North Star of {_text(', '.join(redefined))}.**", ""]
    summary = _summary(diff)
    lines.append(summary[0].upper() + summary[1:] + ".")
    for product in diff.products:
        files = " → ".join(_code(f) for f in dict.fromkeys(filter(None, (product.file_before, product.file_after))))
        lines += ["", f"#### {_text(product.name)} · `{product.id}` · {product.status}", "", files, ""]
        if product.north_star_change:
            lines += _north_star_alert(product.north_star_change)
        lines += _table(product) + ["", f"**Metric tree.** {_LEGEND}", ""] + _trees(product)
        if product.owners:
            lines += ["**Review requested from:** " + ", ".join(_handle(o) for o in product.owners), ""]
    if diff.unreadable:
        lines += ["", "Not compared, because they do not pass validation (see `northstar validate`):", ""]
        lines += [f"- {_code(f)}" for f in diff.unreadable]
    lines += ["", "<sub>Generated by `northstar diff`.</sub>"]
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def _label(side: str) -> str:
    return "the working tree" if side == "working tree" else _code(side)


# --- json -------------------------------------------------------------------------


def format_json(diff: Diff) -> str:
    return json.dumps(diff.as_dict(), indent=2, ensure_ascii=False)


FORMATS: dict[str, Callable[[Diff], str]] = {"text": format_text, "markdown": format_markdown, "json": format_json}
