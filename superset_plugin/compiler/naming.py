"""Every name and identity the compiler gives an asset, in one place.

UUIDs are uuid5 of stable spec ids, never of display names: renaming a metric
keeps its chart, deploying twice changes nothing, and two machines compiling
the same specs produce the same bundle.
"""

from __future__ import annotations

import re
import uuid

from northstar_spec.spec.model import CounterMetric, Input, Metric, NorthStar

#: The root of every northstar UUID. Never change it: it would orphan every
#: deployed asset.
NAMESPACE = uuid.UUID("5d0c3f0e-8f4a-5b6e-9a51-6e6f72746873")

BUNDLE_ROOT = "northstar_bundle"
PORTFOLIO_ID = "portfolio"


def asset_uuid(kind: str, *parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(("northstar", kind, *parts))))


def database_uuid(database: str) -> str:
    return asset_uuid("database", database)


def dataset_uuid(database: str, schema: str, table: str) -> str:
    """One dataset per table: Superset matches datasets by table, so two specs
    reading one table must share its dataset."""
    return asset_uuid("dataset", database, schema, table)


def chart_uuid(product_id: str, chart_key: str) -> str:
    return asset_uuid("chart", product_id, chart_key)


def dashboard_uuid(product_id: str) -> str:
    return asset_uuid("dashboard", product_id)


def _file_stem(*parts: str) -> str:
    return "__".join(re.sub(r"[^A-Za-z0-9_-]+", "_", p) for p in parts)


def database_file(database: str) -> str:
    return f"databases/{_file_stem(database)}.yaml"


def dataset_file(database: str, schema: str, table: str) -> str:
    return f"datasets/{_file_stem(database)}/{_file_stem(*filter(None, (schema, table)))}.yaml"


def chart_file(product_id: str, chart_key: str) -> str:
    return f"charts/{_file_stem(product_id, chart_key)}.yaml"


def dashboard_file(product_id: str) -> str:
    return f"dashboards/{_file_stem(product_id)}.yaml"


def dashboard_slug(product_id: str) -> str:
    return f"northstar-{product_id}"


def database_name(database: str) -> str:
    """The name users see in Superset's database list."""
    return f"northstar: {database}"


def chart_title(metric: Metric, variant: str | None = None) -> str:
    """Chart titles say what the tile is in the framework, then whose it is."""
    if isinstance(metric, NorthStar):
        if variant == "trend":
            return f"{metric.name} against target" if metric.target else f"{metric.name}: trend"
        return f"★ North Star: {metric.name}"
    if isinstance(metric, Input):
        lever = (metric.lever or "input").capitalize()
        return f"{lever}: {metric.name} ({metric.owner or 'no owner'})"
    if isinstance(metric, CounterMetric):
        return f"Guardrail: {metric.name} ({metric.owner or 'no owner'})"
    return metric.name


def metric_chart_key(metric: Metric) -> str:
    """The key of the chart that shows a metric's latest value on its dashboard."""
    if isinstance(metric, NorthStar):
        return "north_star"
    return f"{'counter' if isinstance(metric, CounterMetric) else 'input'}_{metric.id}"
