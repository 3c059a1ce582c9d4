"""`northstar init --from-dbt PATH`: a spec repository whose sources are the
models of a dbt project, that validates clean from the start.

Every model with a time column (a column the catalog types as a date or a
timestamp, or named like one) becomes a source that names it (`dbt_model:`);
the example framework is written on the first of them, with its columns, so
that `northstar validate` checks it against the manifest and catalog at once.
The metrics are placeholders to rewrite: the method (what the North Star is)
cannot be read from a warehouse schema.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from northstar_spec.spec import dbt

TIME_TYPES = re.compile(r"date|time", re.I)
TIME_NAMES = re.compile(r"(_at|_on|_date|_time|_ts|^date_day)$")


class FromDbtError(Exception):
    pass


def manifest_of(path: Path) -> Path:
    """The manifest of a dbt project folder (target/manifest.json), or the manifest file itself."""
    if path.is_dir():
        for candidate in (path / "target" / "manifest.json", path / "manifest.json"):
            if candidate.is_file():
                return candidate
        raise FromDbtError(f"{path} has no target/manifest.json: run `dbt parse` (and `dbt docs generate`) there first")
    return path


def _time_column(model: dbt.Model) -> str | None:
    columns = model.columns or {}
    typed = [name for name, kind in columns.items() if kind and TIME_TYPES.search(kind)]
    named = [name for name in columns if TIME_NAMES.search(name)]
    return next(iter(typed + named), None)


def _source_id(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return slug if slug[:1].isalpha() else f"m_{slug}"


def plan(path: Path, directory: Path, product_id: str, product_name: str, project_text: str, today: dt.date) -> dict:
    """Project files for `init --from-dbt`: northstar.yaml pointing at the manifest, one example spec."""
    manifest = manifest_of(path)
    try:
        linked = dbt.load(dbt.Setting(manifest))
    except dbt.DbtError as exc:
        raise FromDbtError(str(exc)) from None
    if linked.catalog is None:
        raise FromDbtError(
            f"no catalog.json beside {manifest}: run `dbt docs generate` so that the models' columns are known"
        )
    usable = [
        (model, time)
        for model in sorted(linked.models.values(), key=lambda m: m.name)
        if not model.time_spine and (time := _time_column(model))
    ]
    if not usable:
        raise FromDbtError(f"no model of {manifest} has a date or timestamp column to place its rows in periods")
    relative = os.path.relpath(manifest.resolve(), directory.resolve())
    project = (
        project_text.rstrip("\n")
        + f"\n# The dbt project whose models sources name (`dbt_model:`).\ndbt:\n  manifest: {relative}\n"
    )
    sources = "\n".join(
        f"  {_source_id(m.name)}:\n    database: warehouse\n    dbt_model: {m.name}\n    time_column: {time}"
        + (f"\n    description: {_text(m.description)}" if m.description else "")
        for m, time in usable
    )
    # A dbt metric on one of the models becomes the North Star, by name and definition (NS913 keeps them in step).
    chosen = next(
        (
            metric
            for metric in linked.metrics.values()
            if metric.aggregate in AGGREGATES and metric.model in {m.name for m, _ in usable}
        ),
        None,
    )
    model, time = next((u for u in usable if chosen and u[0].name == chosen.model), usable[0])
    columns = [c for c in (model.columns or {}) if c != time]
    ids = [c for c in columns if c.endswith("_id")] or columns or ["*"]
    # The first id column is usually the row's own key; the next one the unit that gets value (a team, a user).
    unit, other = (ids[1], ids[0]) if len(ids) > 1 else (ids[0], None)
    noun = unit.removesuffix("_id").replace("_", " ") or "row"
    spec = _spec(product_id, product_name, today, sources, _source_id(model.name), unit, other, noun)
    if chosen is not None:
        spec = _from_metric(spec, chosen, noun)
    return {"northstar.yaml": project, f"specs/{product_id}.yaml": spec}


def _text(value: str) -> str:
    return '"' + " ".join(value.split()).replace("\\", "").replace('"', "'") + '"'


def _spec(
    product_id: str,
    product_name: str,
    today: dt.date,
    sources: str,
    source: str,
    unit: str,
    other: str | None,
    noun: str,
) -> str:
    third = (
        f"    measure: {{aggregate: count_distinct, column: {other}}}"
        if other
        else f'    sql: "COUNT(DISTINCT {unit}) * 1.0 / NULLIF(COUNT(*), 0)"'
    )
    return f"""# yaml-language-server: $schema=../schemas/northstar.schema.json
# One product's North Star framework on the models of a dbt project. The
# sources were written from the dbt manifest; the metrics are placeholders:
# rewrite them with the North Star method (`northstar rules` explains each check).
apiVersion: northstar/v1
kind: NorthStar
product:
  id: {product_id}
  name: "{product_name.replace('"', "'")}"
  category: productivity
  value_moment: A customer finishes a piece of work with the product.
sources:
{sources}
north_star:
  id: weekly_active_{_id(noun)}s
  name: Weekly active {noun}s
  definition: Distinct {noun}s with at least one row in {source} in the week.
  source: {source}
  measure: {{aggregate: count_distinct, column: {unit}}}
  grain: week
  owner: product-leadership
  leads_revenue_because: Customers who get work done every week renew and buy more seats.
inputs:
  - id: {source}_rows
    name: Rows of {source}
    source: {source}
    measure: {{aggregate: count}}
    lever: frequency
    direction: increase
    owner: core
  - id: rows_per_{_id(noun)}
    name: Rows per {noun}
    source: {source}
    sql: "COUNT(*) * 1.0 / NULLIF(COUNT(DISTINCT {unit}), 0)"
    lever: depth
    direction: increase
    owner: core
  - id: {source}_breadth
    name: Breadth of {source}
    source: {source}
{third}
    lever: breadth
    direction: increase
    owner: growth
counter_metrics:
  - id: {source}_volume_guard
    name: Volume of {source}
    guards: weekly_active_{_id(noun)}s
    source: {source}
    measure: {{aggregate: count}}
    threshold: {{max: 1000000000}}
    owner: growth
review:
  inputs: {{cadence: weekly, day: wednesday, owner: core}}
  north_star: {{cadence: monthly, last: {today.isoformat()}, owner: product-leadership}}
  revalidation: {{cadence: annually, last: {today.isoformat()}, owner: product-leadership}}
"""


AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")


def _from_metric(spec: str, metric: dbt.Metric, noun: str) -> str:
    """The placeholder North Star replaced by the dbt metric: its name, label, measure and filter."""
    old_id = f"weekly_active_{_id(noun)}s"
    measure = (
        "{aggregate: count}"
        if metric.aggregate == "count"
        else (f"{{aggregate: {metric.aggregate}, column: {metric.expression}}}")
    )
    start = spec.index("north_star:\n")
    end = spec.index("  grain: week", start)
    lines = [
        "north_star:",
        f"  id: {metric.name}",
        f"  name: {_text(metric.label)}",
        f"  definition: The dbt metric {metric.name}, computed as dbt computes it.",
        f"  source: {_source_id(metric.model or '')}",
        f"  measure: {measure}",
    ]
    if metric.filter:
        lines.append(f"  filter: {_text(metric.filter)}")
    return (spec[:start] + "\n".join(lines) + "\n" + spec[end:]).replace(f"guards: {old_id}", f"guards: {metric.name}")


def _id(noun: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", noun.lower()).strip("_") or "row"
