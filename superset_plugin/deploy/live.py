"""What Superset holds now, for the assets a bundle describes, compared field by
field with what the bundle would import.

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

from superset_plugin.compiler.bundle import Bundle
from superset_plugin.deploy.client import SupersetClient

KINDS = ("databases", "datasets", "charts", "dashboards")
API = {"databases": "database", "datasets": "dataset", "charts": "chart", "dashboards": "dashboard"}
#: Placeholders the importer replaces with real ids: never a difference.
_ID_KEYS = {"datasource", "chartId", "datasetId", "datasetUuid"}


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


@dataclass
class LiveState:
    assets: dict[str, LiveAsset] = field(default_factory=dict)  # uuid -> asset
    datasets: list[dict] = field(default_factory=list)  # every dataset row, for clash checks and pruning
    databases: list[dict] = field(default_factory=list)


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


def fetch(client: SupersetClient, bundle: Bundle) -> LiveState:
    """The live counterpart of every asset in the bundle, in a handful of requests."""
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
        "dataset", {"columns": ["id", "uuid", "table_name", "schema", "database.uuid", "extra"]}
    )
    for row in state.datasets:
        if row["uuid"] in wanted["datasets"]:
            detail = client.get(f"/api/v1/dataset/{row['id']}")["result"]
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
                    "extra": _loads(detail.get("extra")),
                    "metrics": {
                        m["metric_name"]: {
                            k: m.get(k) for k in ("expression", "verbose_name", "d3format", "description")
                        }
                        for m in detail.get("metrics", [])
                    },
                },
            )

    for chunk in _chunks(wanted["charts"]):
        for row in client.list_all(
            "chart",
            {
                "filters": [{"col": "uuid", "opr": "in", "value": chunk}],
                "columns": [
                    "id",
                    "uuid",
                    "slice_name",
                    "viz_type",
                    "description",
                    "certification_details",
                    "params",
                    "owners.id",
                ],
            },
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
                    "certification_details": row.get("certification_details"),
                    "params": _loads(row.get("params")) or {},
                    "owners": sorted(o["id"] for o in row.get("owners", [])),
                },
            )

    for chunk in _chunks(wanted["dashboards"]):
        for row in client.list_all(
            "dashboard",
            {
                "filters": [{"col": "uuid", "opr": "in", "value": chunk}],
                "columns": ["id", "uuid", "dashboard_title", "owners.id"],
            },
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
                    "certification_details": detail.get("certification_details"),
                    "position": _loads(detail.get("position_json")) or {},
                    "metadata": _loads(detail.get("json_metadata")) or {},
                    "owners": sorted(o["id"] for o in row.get("owners", [])),
                },
            )
    return state


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


def differences(compiled: dict, live: LiveAsset) -> list[Difference]:
    out: list[Difference] = []
    if live.kind == "datasets":
        compiled = {
            **compiled,
            "metrics": {
                m["metric_name"]: {k: m.get(k) for k in ("expression", "verbose_name", "d3format", "description")}
                for m in compiled.get("metrics", [])
            },
        }
        extra_metrics = sorted(set(live.fields["metrics"]) - set(compiled["metrics"]))
        for name in extra_metrics:
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
