"""The metric tree of one spec: the North Star, the inputs that drive it, and
the guardrails beside what they guard, as text for a terminal and as mermaid
for markdown (pull-request comments, READMEs)."""

from __future__ import annotations

from collections.abc import Mapping

from northstar_spec.spec.bidi import escape_bidi
from northstar_spec.spec.formatting import shown, target_text, threshold_text
from northstar_spec.spec.model import CounterMetric, Metric, Spec

ARROW = {"increase": "↑", "decrease": "↓", None: "?"}


def _threshold(metric: CounterMetric) -> str:
    return threshold_text(metric.threshold, shown(metric))


def _guards_of(spec: Spec, metric: Metric) -> list[CounterMetric]:
    return [c for c in spec.counter_metrics if c.guards == metric.id]


def _target(metric: Metric) -> str:
    return f", target {target_text(metric.target, shown(metric))}" if metric.target else ""


def text_tree(spec: Spec) -> str:
    ns = spec.north_star
    category = f" · {spec.product.category}" if spec.product.category else ""
    lines = [
        f"{spec.product.name} ({spec.product.id}){category}",
        f"★ {ns.name} [{ns.id}] per {ns.grain}, owner {ns.owner or '?'}{_target(ns)}",
    ]
    for guard in _guards_of(spec, ns):
        lines.append(f"│ ⚠ {guard.name} [{guard.id}] {_threshold(guard)}, owner {guard.owner or '?'}")
    for i, metric in enumerate(spec.inputs):
        last = i == len(spec.inputs) - 1
        lines.append(
            f"{'└──' if last else '├──'} {metric.name} [{metric.id}] {metric.lever or '?'} "
            f"{ARROW[metric.direction]}, owner {metric.owner or '?'}{_target(metric)}"
        )
        for guard in _guards_of(spec, metric):
            lines.append(
                f"{'    ' if last else '│   '}⚠ {guard.name} [{guard.id}] {_threshold(guard)}, "
                f"owner {guard.owner or '?'}"
            )
    if spec.outcome:
        lines.append(f"→ leads the outcome {spec.outcome.name} [{spec.outcome.id}] per {spec.outcome.grain}")
    guardable = {ns.id, *(m.id for m in spec.inputs)}
    orphans = [c for c in spec.counter_metrics if c.guards not in guardable]
    for guard in orphans:
        lines.append(f"⚠ {guard.name} [{guard.id}] guards nothing known, {_threshold(guard)}")
    return escape_bidi("\n".join(lines))


def _label(*parts: str) -> str:
    """A mermaid node label; entity codes keep spec text from breaking the diagram or the page."""
    text = "<br/>".join(
        p.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") for p in parts if p
    )
    return f'["{text}"]'


#: Node styles for `marks`: how a diff shows what a change added, changed or removed.
MARK_STYLES = {
    "added": "stroke:#1a7f37,stroke-width:3px",
    "changed": "stroke:#bf8700,stroke-width:3px",
    "removed": "stroke:#cf222e,stroke-width:3px",
}


def mermaid_tree(spec: Spec, marks: Mapping[str, str] | None = None) -> str:
    """The tree as a mermaid flowchart; `marks` (metric id -> a MARK_STYLES key) outlines some nodes."""
    ns = spec.north_star
    node = {m.id: f"m_{m.id}" for m in spec.metrics}
    owner = lambda m: m.owner or "?"  # noqa: E731
    lines = ["flowchart TD", f"  {node[ns.id]}" + _label("★ " + ns.name, "owner: " + owner(ns))]
    for metric in spec.inputs:
        detail = f"{metric.lever or '?'} {ARROW[metric.direction]} · {owner(metric)}"
        lines.append(f"  {node[metric.id]}{_label(metric.name, detail)} --> {node[ns.id]}")
    for guard in spec.counter_metrics:
        detail = f"{_threshold(guard)} · {owner(guard)}"
        lines.append(f"  {node[guard.id]}{_label('⚠ ' + guard.name, detail)}")
        if guard.guards in node and guard.guards != guard.id:
            lines.append(f"  {node[guard.id]} -. guards .- {node[guard.guards]}")
    if spec.outcome:
        lines.append(f"  {node[ns.id]} -- leads --> outcome_{spec.outcome.id}" + _label("→ " + spec.outcome.name))
    if spec.counter_metrics:
        lines.append("  classDef guard stroke-dasharray: 4 2")
        lines.append("  class " + ",".join(node[g.id] for g in spec.counter_metrics) + " guard")
    for mark, style in MARK_STYLES.items():
        nodes = [node[i] for i, m in (marks or {}).items() if m == mark and i in node]
        if nodes:
            lines += [f"  classDef {mark} {style}", f"  class {','.join(nodes)} {mark}"]
    return escape_bidi("\n".join(lines))
