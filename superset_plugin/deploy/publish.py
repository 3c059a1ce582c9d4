"""The compiled spec model the North Star page shows, and its publication.

`northstar deploy` sends it to the page's API, one document per project, so
the page never reads the spec repository: what it shows is exactly what each
project deployed, side by side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from northstar_spec.spec import formatting
from northstar_spec.spec.bidi import escape_bidi_in
from northstar_spec.spec.model import CounterMetric, Input, Metric, Project, Spec
from northstar_spec.spec.rules.review import RITUAL_LABEL
from superset_plugin.compiler import naming
from superset_plugin.compiler.assets import spec_url
from superset_plugin.deploy.client import NotFound, SupersetClient

MODEL_PATH = "/api/v1/northstar/model"
MODEL_VERSION = 1


def _metric(metric: Metric, product_id: str, project: Project, names: dict[str, str]) -> dict:
    team = project.teams.get(metric.owner or "")
    data = {
        "id": metric.id,
        "name": metric.name,
        "definition": metric.definition,
        "grain": metric.grain,
        "owner": metric.owner,
        "owner_name": team.name if team else None,
        "ratio": metric.ratio is not None,
        "chart_uuid": naming.chart_uuid(product_id, naming.metric_chart_key(metric)),
        "target": {
            "value": metric.target.value,
            "by": metric.target.by.isoformat() if metric.target.by else None,
            "start": metric.target.starts.isoformat() if metric.target.starts else None,
        }
        if metric.target
        else None,
        "format": formatting.page_format(metric),
        "better": formatting.direction(metric),
    }
    if isinstance(metric, Input):
        data.update(lever=metric.lever, direction=metric.direction)
    if isinstance(metric, CounterMetric):
        data.update(
            guards=metric.guards,
            guards_name=names.get(metric.guards or ""),
            threshold={"max": metric.threshold.max, "min": metric.threshold.min} if metric.threshold else None,
        )
    return data


def _product(spec: Spec, project: Project) -> dict:
    names = {m.id: m.name for m in spec.metrics}
    pid = spec.product.id
    return {
        "id": pid,
        "name": spec.product.name,
        "category": spec.product.category,
        "value_moment": spec.product.value_moment,
        "description": spec.product.description,
        "spec_file": spec.file,
        "spec_url": spec_url(project, spec),
        "dashboard_slug": naming.dashboard_slug(pid),
        "north_star": _metric(spec.north_star, pid, project, names),
        "inputs": [_metric(m, pid, project, names) for m in spec.inputs],
        "counter_metrics": [_metric(m, pid, project, names) for m in spec.counter_metrics],
        "outcome": {"id": spec.outcome.id, "name": spec.outcome.name} if spec.outcome else None,
        "reviews": [
            {
                "name": name,
                "label": RITUAL_LABEL[name],
                "cadence": r.cadence,
                "day": r.day,
                "last": r.last.isoformat() if r.last else None,
                "next_due": r.next_due.isoformat() if r.next_due else None,
                "owner": r.owner,
            }
            for name, r in spec.review.rituals()
            if r
        ],
        "history": [
            {"north_star": h.north_star, "name": h.name, "until": h.until.isoformat(), "reason": h.reason}
            for h in spec.history
        ],
    }


def model(specs: Sequence[Spec], project: Project) -> dict:
    """The document of one project that the page shows (schema: superset_plugin/inside/model.schema.json),
    with bidi control characters made visible (the page shows text as text)."""
    return {
        "version": MODEL_VERSION,
        "project": project.id,
        "products": escape_bidi_in([_product(s, project) for s in sorted(specs, key=lambda s: s.product.id)]),
    }


def published_models(client: SupersetClient) -> dict[str, dict] | None:
    """Every project's published model, by project id; None when the page is not enabled on this Superset."""
    try:
        return (client.get(MODEL_PATH).get("result") or {}).get("projects") or {}
    except NotFound:
        return None


def publish(
    client: SupersetClient, specs: Sequence[Spec], project: Project, current: dict | None, *, whole: bool = True
) -> bool:
    """Publish the project's model when it differs from `current`, the one the page has; True when sent.

    A deploy of some of the project's specs (`whole=False`) replaces those
    products and keeps the others the page shows.
    """
    wanted = model(specs, project)
    if not whole and current:
        mine = {p["id"] for p in wanted["products"]}
        kept = [p for p in current.get("products", []) if p.get("id") not in mine]
        wanted["products"] = sorted([*wanted["products"], *kept], key=lambda p: p["id"])
    if current and {k: v for k, v in current.items() if k != "published_at"} == wanted:
        return False
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    client.put(f"{MODEL_PATH}/{project.id}", json={**wanted, "published_at": stamp})
    return True
