"""`northstar evaluate`'s output: a table for people, json and csv for tools.

The table shows one block per spec and grain, a metric per row and a period
per column, oldest first, so a trend reads left to right. json and csv are
long: one row per (spec, metric, period) with the period's first day.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from northstar_spec.spec import formatting
from northstar_spec.spec.model import Role
from northstar_spec.warehouse import periods
from northstar_spec.warehouse.evaluate import Evaluation

MARK = {Role.NORTH_STAR: "★ ", Role.INPUT: "  ", Role.COUNTER: "⚠ ", Role.OUTCOME: "$ ", Role.CANDIDATE: "? "}


def as_table(evaluation: Evaluation) -> str:
    blocks: dict[tuple[int, str], list] = {}
    for series in evaluation.series:
        blocks.setdefault((id(series.spec), series.grain), []).append(series)
    out = []
    for group in blocks.values():
        first = group[0]
        spec, grain, starts = first.spec, first.grain, first.periods
        title = (
            f"{spec.product.name} ({spec.product.id}), per {grain}: {len(starts)} complete "
            f"{grain}{'s' * (len(starts) != 1)}, {starts[0]} to {periods.last_day(starts[-1], grain)}"
        )
        header = ["metric", *(periods.label(p, grain) for p in starts)]
        rows = [
            [MARK[s.metric.role] + s.metric.id, *(formatting.value_text(s.metric, v, unit=False) for v in s.values)]
            for s in group
        ]
        out.append(f"{title}\n{formatting.table(header, rows)}")
    legend = "★ North Star  ⚠ counter-metric  $ outcome"
    return "\n\n".join(out + [legend]) if out else "nothing to evaluate"


def _records(evaluation: Evaluation) -> list[dict]:
    return [
        {
            "spec": v.spec,
            "metric": v.metric,
            "role": v.role,
            "grain": v.grain,
            "period_start": v.period.isoformat(),
            "value": v.value,
        }
        for v in evaluation.values()
    ]


def as_json(evaluation: Evaluation) -> str:
    return json.dumps(_records(evaluation), indent=2)


def as_csv(evaluation: Evaluation) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["spec", "metric", "role", "grain", "period_start", "value"], lineterminator="\n")
    writer.writeheader()
    for record in _records(evaluation):
        writer.writerow({**record, "value": "" if record["value"] is None else repr(record["value"])})
    return buffer.getvalue().rstrip("\n")


FORMATS: dict[str, Callable[[Evaluation], str]] = {"table": as_table, "json": as_json, "csv": as_csv}
