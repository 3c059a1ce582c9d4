"""The digest in the other forms `northstar digest --format` writes: plain
text for a terminal or an e-mail, and JSON for tools (a chat bot, a report).

Plain text is the markdown digest (digest.py) with its markup taken out, so
the two never say different things. JSON holds the same facts as numbers:
each spec's North Star now and before, its target and outcome, what drove
the change (as `northstar explain --format json` has it), every input's
move, every guardrail against its threshold, and the reviews due.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from northstar_spec.spec import formatting
from northstar_spec.spec.model import Spec, guardrail_status
from northstar_spec.warehouse import digest, explain, periods
from northstar_spec.warehouse.evaluate import Evaluation, Series

FORMATS = ("markdown", "text", "json")


def as_text(markdown: str) -> str:
    """The markdown digest as plain text: headings underlined, tables aligned, no markup."""
    out: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if table:
            widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
            out.extend("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [_plain(c.strip().replace("\\|", "|")) for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
            if not all(re.fullmatch(r"-+:?|:?-+", c) for c in cells):
                table.append(cells)
            continue
        flush()
        heading = re.match(r"(#+) (.*)", line)
        if heading:
            title = _plain(heading.group(2))
            out += [title, ("=" if len(heading.group(1)) == 1 else "-") * len(title)]
        else:
            out.append(_plain(line))
    flush()
    return "\n".join(out).rstrip() + "\n"


def _plain(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*|`([^`]*)`", lambda m: m.group(1) or m.group(2) or "", text)


def as_json(
    specs: Sequence[Spec],
    evaluation: Evaluation,
    today: dt.date,
    explained: Sequence[explain.Explanation] = (),
) -> list[dict]:
    """The digest's facts, one object per spec (with what drove the change, when explained)."""
    drivers = {e.spec.product.id: explain.to_json(e) for e in explained}
    return [{**_spec(spec, evaluation, today), "what_drove": drivers.get(spec.product.id)} for spec in specs]


def _series(series: Series) -> dict:
    return {
        "period": periods.name(series.periods[-1], series.grain),
        "start": series.periods[-1].isoformat(),
        "grain": series.grain,
        "value": series.last,
        "previous": series.previous,
        "change": formatting.change(series.previous, series.last),
    }


def _spec(spec: Spec, evaluation: Evaluation, today: dt.date) -> dict:
    north_star = spec.north_star
    outcome = evaluation.outcome_of(spec)
    target = north_star.target
    return {
        "product": {"id": spec.product.id, "name": spec.product.name},
        "north_star": {
            "id": north_star.id,
            "name": north_star.name,
            **_series(evaluation.of(spec, north_star)),
            "target": {"value": target.value, "by": target.by.isoformat() if target.by else None} if target else None,
        },
        "outcome": {"id": spec.outcome.id, "name": spec.outcome.name, **_series(outcome)}
        if spec.outcome and outcome
        else None,
        "inputs": [
            {"id": m.id, "name": m.name, "owner": m.owner, "direction": m.direction, **_series(evaluation.of(spec, m))}
            for m in spec.inputs
        ],
        "guardrails": [
            {
                "id": m.id,
                "name": m.name,
                "owner": m.owner,
                "guards": m.guards,
                **_series(evaluation.of(spec, m)),
                "threshold": {"min": m.threshold.min, "max": m.threshold.max} if m.threshold else None,
                "status": guardrail_status(m.threshold, evaluation.of(spec, m).last),
            }
            for m in spec.counter_metrics
        ],
        "reviews": [
            {"ritual": name, "cadence": ritual.cadence, "owner": ritual.owner, "status": _plain(status)}
            for name, ritual in spec.review.rituals()
            if ritual is not None and (status := digest._review_status(ritual, today)) is not None
        ],
    }
