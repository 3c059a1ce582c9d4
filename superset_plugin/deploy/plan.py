"""What a deploy would do, decided before anything is sent.

Superset's import hides its errors, never deletes, and lets a dashboard slug
or a dataset's table silently take over an asset made by hand. So the plan
checks what Superset would not: the bundle's own consistency, that no slug,
table or database name is held by an asset northstar does not manage, and,
per asset, whether it is new, changed (its fingerprint or a live field
differs), unchanged, or gone from the specs (prune).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from superset_plugin.compiler import Bundle
from superset_plugin.compiler.assets import CERTIFIED_BY, fingerprint_of
from superset_plugin.deploy.client import NotFound, SupersetClient
from superset_plugin.deploy.live import LiveState, asset_name, compare, kind_of

MANAGED_TAG = "northstar:managed"


@dataclass(frozen=True)
class Step:
    kind: str
    uuid: str
    name: str
    action: str  # create | update | unchanged | delete
    path: str | None = None
    id: int | None = None
    why: tuple[str, ...] = ()


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(s.action == action for s in self.steps)

    @property
    def changed_paths(self) -> list[str]:
        return [s.path for s in self.steps if s.action in ("create", "update") and s.path]

    def summary(self) -> str:
        return ", ".join(f"{self.count(a)} {a}" for a in ("create", "update", "unchanged", "delete"))


def preflight(bundle: Bundle) -> list[str]:
    """What makes Superset's import fail with nothing but "unknown reason": checked here instead."""
    problems = []
    required = {
        "databases": ("database_name", "sqlalchemy_uri", "uuid", "version", "extra"),
        "datasets": ("table_name", "uuid", "database_uuid", "version"),
        "charts": ("slice_name", "viz_type", "uuid", "dataset_uuid", "version", "params"),
        "dashboards": ("dashboard_title", "uuid", "version", "position"),
    }
    uuids = {kind: {d.get("uuid") for p, d in bundle.files.items() if p.startswith(kind + "/")} for kind in required}
    for path, data in bundle.files.items():
        kind = kind_of(path)
        if kind is None:
            continue
        problems += [f"{path}: missing {key}" for key in required[kind] if key not in data]
        if kind == "datasets" and data.get("database_uuid") not in uuids["databases"]:
            problems.append(f"{path}: its database is not in the bundle")
        if kind == "charts":
            if data.get("dataset_uuid") not in uuids["datasets"]:
                problems.append(f"{path}: its dataset is not in the bundle")
            try:
                json.loads(data.get("query_context") or "null")
            except ValueError:
                problems.append(f"{path}: query_context is not JSON")
        if kind == "dashboards":
            for node in data.get("position", {}).values():
                if (
                    isinstance(node, dict)
                    and node.get("type") == "CHART"
                    and node["meta"].get("uuid") not in uuids["charts"]
                ):
                    problems.append(f"{path}: tile {node['id']} shows a chart that is not in the bundle")
    return problems


def _managed_dataset(row: dict) -> bool:
    extra = row.get("extra")
    try:
        extra = json.loads(extra) if isinstance(extra, str) else (extra or {})
    except ValueError:
        return False
    return (extra or {}).get("certification", {}).get("certified_by") == CERTIFIED_BY


def clashes(client: SupersetClient, bundle: Bundle, state: LiveState) -> list[str]:
    """Names that Superset matches on besides the UUID, held by something that is not ours."""
    problems = []
    ours = {d["uuid"] for d in bundle.files.values() if "uuid" in d}
    for path, data in bundle.files.items():
        if path.startswith("dashboards/"):
            try:
                holder = client.get(f"/api/v1/dashboard/{data['slug']}")["result"]
            except NotFound:
                continue
            if holder.get("uuid") != data["uuid"]:
                problems.append(
                    f"dashboard {holder.get('dashboard_title')!r} (id {holder.get('id')}) already has the "
                    f"slug {data['slug']!r}; importing would take it over"
                )
        elif path.startswith("databases/"):
            for row in state.databases:
                if row["database_name"] == data["database_name"] and row["uuid"] != data["uuid"]:
                    problems.append(
                        f"database {row['database_name']!r} (id {row['id']}) exists and is not managed by "
                        "northstar; importing would take it over"
                    )
        elif path.startswith("datasets/"):
            for row in state.datasets:
                same_table = (row.get("table_name"), row.get("schema") or None) == (
                    data["table_name"],
                    data.get("schema") or None,
                )
                same_db = (row.get("database") or {}).get("uuid") == data["database_uuid"]
                if same_table and same_db and row["uuid"] not in ours:
                    problems.append(
                        f"dataset {row['table_name']!r} (id {row['id']}) on the same database is not "
                        "managed by northstar; importing would take it over"
                    )
    return problems


def make_plan(
    bundle: Bundle, state: LiveState, *, force: bool = False, prune: bool = False, managed: Sequence[dict] = ()
) -> Plan:
    plan = Plan()
    for path, kind, data, live, diffs in compare(bundle, state):
        if live is None:
            plan.steps.append(Step(kind, data["uuid"], asset_name(data), "create", path))
            continue
        why = [f"{d.field} differs" for d in diffs]
        certification = data.get("certification_details") or (data.get("extra") or {}).get("certification", {}).get(
            "details"
        )
        live_certification = live.fields.get("certification_details") or (
            (live.fields.get("extra") or {}).get("certification") or {}
        ).get("details")
        if certification and fingerprint_of(certification) != fingerprint_of(live_certification):
            why.insert(0, "the spec changed")
        action = "update" if why or force else "unchanged"
        plan.steps.append(
            Step(
                kind,
                data["uuid"],
                asset_name(data),
                action,
                path,
                live.id,
                tuple(why or (["--force"] if force else [])),
            )
        )
    if prune:
        ours = {d["uuid"] for d in bundle.files.values() if "uuid" in d}
        for obj in managed:
            kind = {"chart": "charts", "dashboard": "dashboards"}[obj["type"]]
            detail_uuid = obj.get("uuid")
            if detail_uuid not in ours:
                plan.steps.append(Step(kind, detail_uuid or "", obj.get("name", ""), "delete", None, obj["id"]))
        for row in state.datasets:
            if _managed_dataset(row) and row["uuid"] not in ours:
                plan.steps.append(Step("datasets", row["uuid"], row["table_name"], "delete", None, row["id"]))
    return plan


def managed_objects(client: SupersetClient) -> list[dict]:
    """The charts and dashboards tagged as managed, with their UUIDs (the tag listing has none)."""
    answer = client.get("/api/v1/tag/get_objects/", params={"tags": MANAGED_TAG})
    found = []
    for obj in answer.get("result", []):
        if obj.get("type") not in ("chart", "dashboard"):
            continue
        try:
            detail = client.get(f"/api/v1/{obj['type']}/{obj['id']}")["result"]
        except NotFound:
            continue
        found.append({**obj, "uuid": str(detail.get("uuid"))})
    return found
