"""What Superset holds now, for the assets a bundle describes, compared field by
field with what the bundle would import, plus what a deploy must know about
everything else northstar made there (other projects' assets, pruning
candidates) and the markers that say who owns what.

Deploy uses the comparison to plan (create, update, unchanged) and to send
only what changed; `northstar drift` uses it to report edits made in
Superset's UI. Only fields the bundle sets are compared: Superset adds many
defaults of its own, and those are not edits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from superset_plugin.compiler import naming
from superset_plugin.compiler.assets import CERTIFIED_BY, fingerprint_of
from superset_plugin.compiler.bundle import Bundle
from superset_plugin.deploy.client import SupersetClient

#: Every kind of asset a deploy handles, in the order an import needs them (each may use those before it).
#: A new kind (e.g. reports) is one more entry here, in API, and a fetch below.
KINDS = ("databases", "datasets", "charts", "dashboards")
API = {"databases": "database", "datasets": "dataset", "charts": "chart", "dashboards": "dashboard"}
#: The kinds whose tags Superset 6.1 can list (it tags datasets but shows and lists no dataset tag).
TAGGED = ("charts", "dashboards")
#: Placeholders the importer replaces with real ids: never a difference.
_ID_KEYS = {"datasource", "chartId", "datasetId", "datasetUuid"}
#: The fields of a dataset metric a deploy compares and, for metrics it keeps, writes back.
METRIC_FIELDS = ("expression", "verbose_name", "d3format", "description")


@dataclass(frozen=True)
class Difference:
    field: str
    compiled: Any
    live: Any


@dataclass
class LiveAsset:
    kind: str
    uuid: str
    id: int
    name: str
    fields: dict  # the live values of what the bundle sets, in the bundle's shape
    #: The certification text: says northstar made it, for which project, and the fingerprint of its spec.
    certification: str | None = None
    certified_by: str | None = None
    #: Its tags, for the kinds in TAGGED.
    tags: frozenset[str] = frozenset()
    changed_by: int | None = None
    #: Datasets: every live metric, as a bundle writes it, by name.
    metrics: dict[str, dict] = field(default_factory=dict)

    @property
    def managed(self) -> bool:
        return self.certified_by == CERTIFIED_BY

    @property
    def project(self) -> str | None:
        return naming.project_of(self.certification) if self.managed else None

    @property
    def fingerprint(self) -> str | None:
        return fingerprint_of(self.certification)


@dataclass
class LiveState:
    assets: dict[str, LiveAsset] = field(default_factory=dict)  # uuid -> asset, for the bundle's assets
    datasets: list[dict] = field(default_factory=list)  # every dataset row, for clash checks and pruning
    databases: list[dict] = field(default_factory=list)
    #: Every certified chart (and, for a prune, dashboard), by kind: northstar's of every project, and people's.
    certified: dict[str, list[dict]] = field(default_factory=dict)
    #: Dashboards holding one of the bundle's slugs, by slug.
    slugs: dict[str, dict] = field(default_factory=dict)


def _chunks(items: list[str], size: int = 80) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _loads(text: Any) -> Any:
    if isinstance(text, str):
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            return text
    return text


def dataset_certification(row: dict) -> dict:
    """A dataset's `extra.certification` ({} when it has none or its extra is not JSON)."""
    extra = _loads(row.get("extra"))
    certification = extra.get("certification") if isinstance(extra, dict) else None
    return certification if isinstance(certification, dict) else {}


def _tags(row: dict) -> frozenset[str]:
    return frozenset(t["name"] for t in row.get("tags") or [] if isinstance(t, dict) and t.get("name"))


def _changed_by(row: dict) -> int | None:
    return (row.get("changed_by") or {}).get("id")


def _live_metric(metric: dict) -> dict:
    """A live metric as a bundle writes it, so a deploy can send back what it keeps."""
    return {
        "metric_name": metric["metric_name"],
        **{k: metric.get(k) for k in METRIC_FIELDS},
        "metric_type": metric.get("metric_type"),
        "warning_text": metric.get("warning_text"),
        "extra": _loads(metric.get("extra")) or {},
    }


def fetch(client: SupersetClient, bundle: Bundle) -> LiveState:
    """The live counterpart of every asset in the bundle and the markers of northstar's others, in few requests."""
    state = LiveState()
    wanted = {kind: [d["uuid"] for p, d in bundle.files.items() if p.startswith(kind + "/")] for kind in KINDS}

    state.databases = client.list_all("database", {"columns": ["id", "uuid", "database_name"]})
    for row in state.databases:
        if row["uuid"] in wanted["databases"]:
            detail = client.get(f"/api/v1/database/{row['id']}/connection")["result"]  # has the (masked) URI
            state.assets[row["uuid"]] = LiveAsset(
                "databases",
                row["uuid"],
                row["id"],
                row["database_name"],
                {
                    "database_name": detail.get("database_name"),
                    "sqlalchemy_uri": detail.get("sqlalchemy_uri"),
                    **{
                        k: detail.get(k)
                        for k in (
                            "expose_in_sqllab",
                            "allow_run_async",
                            "allow_ctas",
                            "allow_cvas",
                            "allow_dml",
                            "allow_file_upload",
                            "cache_timeout",
                        )
                    },
                },
            )

    state.datasets = client.list_all(
        "dataset",
        {"columns": ["id", "uuid", "table_name", "schema", "database.uuid", "database.database_name", "extra"]},
    )
    for row in state.datasets:
        if row["uuid"] in wanted["datasets"]:
            detail = client.get(f"/api/v1/dataset/{row['id']}")["result"]
            certification = dataset_certification(detail)
            state.assets[row["uuid"]] = LiveAsset(
                "datasets",
                row["uuid"],
                row["id"],
                row["table_name"],
                {
                    "table_name": detail.get("table_name"),
                    "schema": detail.get("schema"),
                    "main_dttm_col": detail.get("main_dttm_col"),
                    "description": detail.get("description"),
                    "is_managed_externally": detail.get("is_managed_externally"),
                    "extra": _loads(detail.get("extra")),
                    "metrics": {
                        m["metric_name"]: {k: m.get(k) for k in METRIC_FIELDS} for m in detail.get("metrics", [])
                    },
                },
                certification=certification.get("details"),
                certified_by=certification.get("certified_by"),
                changed_by=_changed_by(detail),
                metrics={m["metric_name"]: _live_metric(m) for m in detail.get("metrics", [])},
            )

    chart_columns = [
        "id",
        "uuid",
        "slice_name",
        "viz_type",
        "description",
        "certified_by",
        "certification_details",
        "is_managed_externally",
        "params",
        "owners.id",
        "tags.name",
        "changed_by.id",
    ]
    for chunk in _chunks(wanted["charts"]):
        for row in client.list_all(
            "chart", {"filters": [{"col": "uuid", "opr": "in", "value": chunk}], "columns": chart_columns}
        ):
            state.assets[row["uuid"]] = LiveAsset(
                "charts",
                row["uuid"],
                row["id"],
                row["slice_name"],
                {
                    "slice_name": row.get("slice_name"),
                    "viz_type": row.get("viz_type"),
                    "description": row.get("description"),
                    "certified_by": row.get("certified_by"),
                    "certification_details": row.get("certification_details"),
                    "is_managed_externally": row.get("is_managed_externally"),
                    "params": _loads(row.get("params")) or {},
                    "owners": sorted(o["id"] for o in row.get("owners", [])),
                },
                certification=row.get("certification_details"),
                certified_by=row.get("certified_by"),
                tags=_tags(row),
                changed_by=_changed_by(row),
            )

    dashboard_columns = [
        "id",
        "uuid",
        "slug",
        "dashboard_title",
        "certified_by",
        "certification_details",
        "is_managed_externally",
        "owners.id",
        "tags.name",
        "changed_by.id",
    ]
    for chunk in _chunks(wanted["dashboards"]):
        for row in client.list_all(
            "dashboard", {"filters": [{"col": "uuid", "opr": "in", "value": chunk}], "columns": dashboard_columns}
        ):
            detail = client.get(f"/api/v1/dashboard/{row['id']}")["result"]
            state.assets[row["uuid"]] = LiveAsset(
                "dashboards",
                row["uuid"],
                row["id"],
                row["dashboard_title"],
                {
                    "dashboard_title": detail.get("dashboard_title"),
                    "slug": detail.get("slug"),
                    "css": detail.get("css"),
                    "published": detail.get("published"),
                    "certified_by": row.get("certified_by"),
                    "certification_details": detail.get("certification_details"),
                    "is_managed_externally": row.get("is_managed_externally"),
                    "position": _loads(detail.get("position_json")) or {},
                    "metadata": _loads(detail.get("json_metadata")) or {},
                    "owners": sorted(o["id"] for o in row.get("owners", [])),
                },
                certification=row.get("certification_details"),
                certified_by=row.get("certified_by"),
                tags=_tags(row),
                changed_by=_changed_by(row),
            )
    slugs = [d["slug"] for p, d in bundle.files.items() if p.startswith("dashboards/") and d.get("slug")]
    for chunk in _chunks(slugs):
        for row in client.list_all(
            "dashboard", {"filters": [{"col": "slug", "opr": "in", "value": chunk}], "columns": dashboard_columns}
        ):
            state.slugs[row["slug"]] = row

    state.certified["charts"] = client.list_all(
        "chart",
        {
            "filters": [{"col": "id", "opr": "chart_is_certified", "value": True}],
            "columns": [
                "id",
                "uuid",
                "slice_name",
                "certified_by",
                "certification_details",
                "params",
                "dashboards.id",
                "dashboards.dashboard_title",
            ],
        },
    )
    return state


def fetch_certified_dashboards(client: SupersetClient, state: LiveState) -> None:
    """Every certified dashboard, for a prune to find the project's that the specs no longer make."""
    state.certified["dashboards"] = client.list_all(
        "dashboard",
        {
            "filters": [{"col": "id", "opr": "dashboard_is_certified", "value": True}],
            "columns": ["id", "uuid", "slug", "dashboard_title", "certified_by", "certification_details"],
        },
    )


def _compare(compiled: Any, live: Any, path: str, out: list[Difference]) -> None:
    """Differences in what `compiled` sets; keys only the live side has are Superset's own."""
    if isinstance(compiled, dict) and isinstance(live, dict):
        for key, value in compiled.items():
            if key in _ID_KEYS:
                continue
            _compare(value, live.get(key), f"{path}.{key}" if path else key, out)
        return
    if isinstance(compiled, list) and isinstance(live, list) and len(compiled) == len(live):
        for index, (a, b) in enumerate(zip(compiled, live)):
            _compare(a, b, f"{path}[{index}]", out)
        return
    if compiled != live and not (compiled in (None, "", {}, []) and live in (None, "", {}, [])):
        out.append(Difference(path, compiled, live))


def extra_metrics(compiled: dict, live: LiveAsset) -> list[str]:
    """Metrics a live dataset has that the compiled one does not define."""
    defined = {m["metric_name"] for m in compiled.get("metrics", [])}
    return sorted(set(live.metrics) - defined)


def differences(compiled: dict, live: LiveAsset, *, with_extra_metrics: bool = True) -> list[Difference]:
    """What differs between the compiled asset and the live one; `with_extra_metrics` also lists
    metrics only the live dataset has (drift does; a deploy keeps or prunes those on its own)."""
    out: list[Difference] = []
    if live.kind == "datasets":
        compiled = {
            **compiled,
            "metrics": {m["metric_name"]: {k: m.get(k) for k in METRIC_FIELDS} for m in compiled.get("metrics", [])},
        }
        if with_extra_metrics:
            for name in sorted(set(live.fields["metrics"]) - set(compiled["metrics"])):
                out.append(Difference(f"metrics.{name}", None, live.fields["metrics"][name]))
    for key in live.fields:
        if key in compiled and key != "owners":
            _compare(compiled[key], live.fields[key], key, out)
    return out


def asset_name(data: dict) -> str:
    return (
        data.get("slice_name")
        or data.get("dashboard_title")
        or data.get("table_name")
        or data.get("database_name")
        or data.get("uuid", "")
    )


def kind_of(path: str) -> str | None:
    kind = path.split("/")[0]
    return kind if kind in KINDS else None


def compare(bundle: Bundle, state: LiveState) -> Iterable[tuple[str, str, dict, LiveAsset | None, list[Difference]]]:
    """(path, kind, compiled data, live asset or None, differences) for every asset of the bundle."""
    for path, data in sorted(bundle.files.items()):
        kind = kind_of(path)
        if kind is None:
            continue
        live = state.assets.get(data["uuid"])
        yield path, kind, data, live, differences(data, live) if live else []
