"""The weekly digest: what a team reads on Monday morning, in markdown.

For each spec: the North Star's last complete period against the one before
and against its target, what drove the change (explain.summary: whether
the move is noise, the segments and the input behind it), the inputs that moved most (by relative change, the
way each should move beside it), the guardrails, and the reviews that are
due or overdue. Everything is computed as of `today`, so a fixed day gives
the same text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from northstar_spec.spec import formatting
from northstar_spec.spec.model import (
    DUE_WITHIN,
    WEEKDAYS,
    Project,
    Ritual,
    Spec,
    guardrail_status,
    review_due,
    review_state,
)
from northstar_spec.spec.rules.review import RITUAL_LABEL
from northstar_spec.warehouse import explain, periods
from northstar_spec.warehouse.evaluate import Evaluation, QueryRun, Series, evaluate

ARROW = {"increase": "↑", "decrease": "↓"}
ADJECTIVE = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}


def digest(
    specs: Sequence[Spec],
    project: Project,
    *,
    today: dt.date | None = None,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[QueryRun], None] | None = None,
) -> str:
    """The digest of every spec as one markdown document. Raises WarehouseError."""
    today = today or dt.date.today()
    evaluation = evaluate(specs, project, periods=2, end=today, environ=environ, progress=progress)
    explained = explain.run(specs, project, end=today, environ=environ, progress=progress)
    return "\n\n".join(render(spec, evaluation, today, e) for spec, e in zip(specs, explained)) + "\n"


def render(spec: Spec, evaluation: Evaluation, today: dt.date, explained: explain.Explanation | None = None) -> str:
    ns = evaluation.of(spec, spec.north_star)
    sections = [
        f"# {spec.product.name}: {ADJECTIVE[ns.grain]} digest, {periods.name(ns.periods[-1], ns.grain)}",
        *_headline(spec, ns, evaluation),
        _drivers(explained),
        _inputs(spec, evaluation, explained),
        _guardrails(spec, evaluation),
        _reviews(spec, today),
    ]
    return "\n\n".join(s for s in sections if s)


def _headline(spec: Spec, ns: Series, evaluation: Evaluation) -> list[str]:
    """The sentence everyone reads, then the North Star against its target and its outcome."""
    grain, metric = ns.grain, spec.north_star
    before, now = ns.previous, ns.last
    shown = formatting.shown(metric)
    moved = formatting.change_text(metric, before, now)
    sentence = f"Our North Star moved from {shown(before)} to {formatting.value_text(metric, now)} this {grain}" + (
        f" ({moved})." if moved != formatting.MISSING else "."
    )
    details = [
        f"**{metric.name}** (`{metric.id}`) {periods.phrase(ns.periods[-1], grain)}: "
        f"{formatting.value_text(metric, now)}, against {formatting.value_text(metric, before)} the {grain} before."
    ]
    target = metric.target
    if target is not None:
        text = f"Target: {formatting.target_text(target, shown)}"
        if now is not None and target.value:
            rest = target.value - now
            text += f", {formatting.percent(now / target.value, signed=False)} of the way" + (
                f", {shown(rest)} to go" if rest > 0 else ": reached"
            )
        details.append(text + ".")
    outcome = evaluation.outcome_of(spec)
    if spec.outcome is not None and outcome is not None:
        moved = formatting.change_text(spec.outcome, outcome.previous, outcome.last)
        details.append(
            f"The outcome it should lead, {spec.outcome.name} (`{spec.outcome.id}`): "
            f"{formatting.value_text(spec.outcome, outcome.last)} ({moved})."
        )
    return [sentence, " ".join(details)]


def _drivers(explained: explain.Explanation | None) -> str:
    """The second sentence of the digest: here is what drove the change (`northstar explain`)."""
    if explained is None:
        return ""
    return "## What drove the change\n\n" + explain.summary(explained, with_headline=False)


def _inputs(spec: Spec, evaluation: Evaluation, explained: explain.Explanation | None = None) -> str:
    """The inputs, largest move first, each with whether its move is more than noise (at the North Star's grain)."""
    moves = {e.metric.id: explain.verdict(e.move) for e in explained.inputs} if explained else {}
    rows = []
    for metric in spec.inputs:
        series = evaluation.of(spec, metric)
        moved = formatting.change(series.previous, series.last)
        rows.append((abs(moved) if moved is not None else -1.0, metric, series, moved))
    if not rows:
        return ""
    rows.sort(key=lambda r: -r[0])
    ns_grain = spec.north_star.grain
    table = [
        [
            metric.name + (f" (per {series.grain})" if series.grain != ns_grain else ""),
            metric.owner or "–",
            ARROW.get(metric.direction or "", "–"),
            formatting.value_text(metric, series.previous),
            formatting.value_text(metric, series.last),
            formatting.change_text(metric, series.previous, series.last),
            moves.get(metric.id, "–") if series.grain == ns_grain else "–",
        ]
        for _, metric, series, moved in rows
    ]
    header = ["input", "owner", "should go", "before", "now", "change", "against its history"]
    return "## Inputs, largest move first\n\n" + formatting.markdown_table(header, table, right={3, 4, 5})


def _guardrails(spec: Spec, evaluation: Evaluation) -> str:
    if not spec.counter_metrics:
        return "## Guardrails\n\nNo counter-metric guards this North Star."
    rows, crossed = [], []
    for metric in spec.counter_metrics:
        series = evaluation.of(spec, metric)
        value = series.last
        status = guardrail_status(metric.threshold, value)
        if status == "breached":
            status = "**crossed**"
            crossed.append(metric)
        rows.append(
            [
                metric.name,
                metric.owner or "–",
                formatting.value_text(metric, value),
                formatting.threshold_text(metric.threshold, formatting.shown(metric)),
                status,
            ]
        )
    table = formatting.markdown_table(["guardrail", "owner", "now", "threshold", "status"], rows, right={2})
    if crossed:
        teams = ", ".join(dict.fromkeys(m.owner for m in crossed if m.owner))
        summary = (
            f"**{len(crossed)} guardrail{'s' * (len(crossed) != 1)} crossed "
            f"{'its threshold' if len(crossed) == 1 else 'their thresholds'}**"
            + (f": over to {teams}." if teams else ".")
        )
    else:
        summary = "Every guardrail held."
    return f"## Guardrails\n\n{table}\n\n{summary}"


def _review_status(ritual: Ritual, today: dt.date) -> str | None:
    """How a ritual stands today, or None when it is not due within DUE_WITHIN."""
    due, state = review_due(ritual, today), review_state(ritual, today)
    if due is None:
        return "no date of the last review (`last:`) recorded"
    if state == "overdue":
        days = (today - due).days
        return f"**overdue** since {due.isoformat()} ({days} day{'s' * (days != 1)})"
    if state == "due today":
        return "due today"
    if state == "due soon":
        return f"due {WEEKDAYS[due.weekday()].capitalize()} {due.isoformat()}"
    return None


def _reviews(spec: Spec, today: dt.date) -> str:
    lines = []
    for name, ritual in spec.review.rituals():
        if ritual is None:
            continue
        status = _review_status(ritual, today)
        if status:
            owner = f" ({ritual.owner})" if ritual.owner else ""
            lines.append(
                f"- {RITUAL_LABEL[name][0].upper()}{RITUAL_LABEL[name][1:]} review{owner}, {ritual.cadence}: {status}"
            )
    body = "\n".join(lines) if lines else f"No review is due in the next {DUE_WITHIN.days} days."
    return f"## Reviews\n\n{body}"
