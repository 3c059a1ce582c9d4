"""Deploy a compiled bundle to a live Superset: boring on purpose.

Superset's import hides its errors, never deletes, and lets a dashboard slug
or a dataset's table silently take over an asset made by hand. So before
sending anything this module checks what Superset would not: the bundle's
own consistency, and that no slug, table or database name is held by an
asset northstar does not manage. It then sends only what changed (a sparse
import, all or nothing), marks what it manages with tags, sets owners from
the spec's teams, and, when asked, prunes managed assets whose spec is gone.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from northstar_spec.model import Project, Spec

from . import import_schemas, naming
from .bundle import Bundle
from .client import NotFound, SupersetClient
from .compiler import CERTIFIED_BY, fingerprint_of
from .live import API, LiveState, asset_name, compare, fetch, kind_of
from .publish import publish

MANAGED_TAG = "northstar:managed"
TAG_TYPES = {"charts": "chart", "dashboards": "dashboard", "datasets": "dataset"}
Progress = Callable[[str], None]


class DeployRefused(Exception):
    """Deploying would damage assets northstar does not manage, or the bundle is unsound: nothing was sent."""


@dataclass(frozen=True)
class Step:
    kind: str
    uuid: str
    name: str
    action: str  # create | update | unchanged | delete
    path: Optional[str] = None
    id: Optional[int] = None
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


@dataclass
class Result:
    plan: Plan
    imported: bool = False
    pruned: int = 0
    tagged: int = 0
    owners_set: int = 0
    notes: list[str] = field(default_factory=list)


def preflight(bundle: Bundle) -> list[str]:
    """What makes Superset's import fail with nothing but "unknown reason": checked here instead."""
    problems = []
    required = {"databases": ("database_name", "sqlalchemy_uri", "uuid", "version", "extra"),
                "datasets": ("table_name", "uuid", "database_uuid", "version"),
                "charts": ("slice_name", "viz_type", "uuid", "dataset_uuid", "version", "params"),
                "dashboards": ("dashboard_title", "uuid", "version", "position")}
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
                if isinstance(node, dict) and node.get("type") == "CHART" and \
                        node["meta"].get("uuid") not in uuids["charts"]:
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
                problems.append(f"dashboard {holder.get('dashboard_title')!r} (id {holder.get('id')}) already has the "
                                f"slug {data['slug']!r}; importing would take it over")
        elif path.startswith("databases/"):
            for row in state.databases:
                if row["database_name"] == data["database_name"] and row["uuid"] != data["uuid"]:
                    problems.append(f"database {row['database_name']!r} (id {row['id']}) exists and is not managed by "
                                    "northstar; importing would take it over")
        elif path.startswith("datasets/"):
            for row in state.datasets:
                same_table = (row.get("table_name"), row.get("schema") or None) == \
                             (data["table_name"], data.get("schema") or None)
                same_db = (row.get("database") or {}).get("uuid") == data["database_uuid"]
                if same_table and same_db and row["uuid"] not in ours:
                    problems.append(f"dataset {row['table_name']!r} (id {row['id']}) on the same database is not "
                                    "managed by northstar; importing would take it over")
    return problems


def _managed_objects(client: SupersetClient) -> list[dict]:
    answer = client.get("/api/v1/tag/get_objects/", params={"tags": MANAGED_TAG})
    return [o for o in answer.get("result", []) if o.get("type") in ("chart", "dashboard")]


def make_plan(bundle: Bundle, state: LiveState, *, force: bool = False, prune: bool = False,
              managed: Sequence[dict] = ()) -> Plan:
    plan = Plan()
    for path, kind, data, live, diffs in compare(bundle, state):
        if live is None:
            plan.steps.append(Step(kind, data["uuid"], asset_name(data), "create", path))
            continue
        why = [f"{d.field} differs" for d in diffs]
        certification = data.get("certification_details") or \
            (data.get("extra") or {}).get("certification", {}).get("details")
        live_certification = live.fields.get("certification_details") or \
            ((live.fields.get("extra") or {}).get("certification") or {}).get("details")
        if certification and fingerprint_of(certification) != fingerprint_of(live_certification):
            why.insert(0, "the spec changed")
        action = "update" if why or force else "unchanged"
        plan.steps.append(Step(kind, data["uuid"], asset_name(data), action, path, live.id,
                               tuple(why or (["--force"] if force else []))))
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


def _sparse_zip(bundle: Bundle, paths: list[str]) -> tuple[bytes, dict[str, str]]:
    rendered = bundle.rendered()
    subset = {p: rendered[p] for p in ["metadata.yaml", *paths]}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(subset.items()):
            archive.writestr(zipfile.ZipInfo(f"{naming.BUNDLE_ROOT}/{path}", date_time=(1980, 1, 1, 0, 0, 0)),
                             text.encode("utf-8"))
    passwords = {p: pw for p, pw in bundle.passwords.items() if p in paths}
    return buffer.getvalue(), passwords


def _with_uuids(client: SupersetClient, managed: list[dict]) -> list[dict]:
    """get_objects lists ids without UUIDs; fetch them for the objects a prune may remove."""
    out = []
    for obj in managed:
        api = {"chart": "chart", "dashboard": "dashboard"}[obj["type"]]
        try:
            detail = client.get(f"/api/v1/{api}/{obj['id']}")["result"]
        except NotFound:
            continue
        out.append({**obj, "uuid": str(detail.get("uuid"))})
    return out


def _tag(client: SupersetClient, bundle: Bundle, specs: Sequence[Spec], progress: Progress) -> int:
    ids: dict[str, tuple[str, int]] = {}
    for kind, api in TAG_TYPES.items():
        uuids = [d["uuid"] for p, d in bundle.files.items() if p.startswith(kind + "/")]
        for start in range(0, len(uuids), 80):
            rows = client.list_all(api, {"filters": [{"col": "uuid", "opr": "in", "value": uuids[start:start + 80]}],
                                         "columns": ["id", "uuid"]})
            ids.update({r["uuid"]: (api, r["id"]) for r in rows})
    everything = [[api, i] for api, i in ids.values()]
    client.post("/api/v1/tag/", json={"name": MANAGED_TAG, "description": "Generated and managed by northstar: "
                                      "edit the spec, not the asset.", "objects_to_tag": everything})
    for spec in [*specs, None]:
        product = spec.product.id if spec else naming.PORTFOLIO_ID
        objects = [[api, i] for path, d in bundle.files.items() if d.get("uuid") in ids
                   for api, i in [ids[d["uuid"]]]
                   if path.startswith((f"charts/{product}__", f"dashboards/{product}."))]
        if objects:
            client.post("/api/v1/tag/", json={"name": f"northstar:spec:{product}",
                                              "description": f"Generated from the spec of {product}",
                                              "objects_to_tag": objects})
    progress(f"tagged {len(everything)} assets {MANAGED_TAG}")
    return len(everything)


def _users_by_email(client: SupersetClient) -> dict[str, int]:
    users: dict[str, int] = {}
    page = 0
    while True:
        answer = client.get("/api/v1/dashboard/related/owners", params={"q": {"page": page, "page_size": 100}})
        rows = answer.get("result", [])
        for row in rows:
            email = ((row.get("extra") or {}).get("email") or "").lower()
            if email:
                users[email] = row["value"]
        if len(rows) < 100:
            return users
        page += 1


def _set_owners(client: SupersetClient, bundle: Bundle, project: Project, state: LiveState,
                progress: Progress) -> tuple[int, list[str]]:
    """Owners from the spec's teams, where a team contact is a Superset user's email.

    The deploying user stays an owner, so the next deploy may still overwrite.
    """
    users = _users_by_email(client)
    me = client.get("/api/v1/me/")["result"]
    my_id = me.get("id") or me.get("user_id")
    contacts = {team_id: {c.lower() for c in team.contacts} for team_id, team in project.teams.items()}
    unmatched = sorted({c for cs in contacts.values() for c in cs if "@" in c and c not in users})
    changed = 0
    for uuid, teams in sorted(bundle.teams.items()):
        owners = {users[c] for t in teams for c in contacts.get(t, ()) if c in users}
        live = state.assets.get(uuid)
        if live is None or not owners:
            continue
        target = sorted(owners | ({my_id} if my_id else set()))
        if target != live.fields.get("owners"):
            client.put(f"/api/v1/{API[live.kind]}/{live.id}", json={"owners": target})
            changed += 1
    if changed:
        progress(f"set owners on {changed} assets from the spec teams")
    return changed, unmatched


def deploy(client: SupersetClient, bundle: Bundle, specs: Sequence[Spec], project: Project, *,
           dry_run: bool = False, prune: bool = False, force: bool = False,
           progress: Progress = lambda message: None) -> Result:
    problems = preflight(bundle)
    if problems:
        raise DeployRefused("the bundle is not sound; nothing was sent:\n  " + "\n  ".join(problems))
    progress(f"connecting to {client.url}")
    state = fetch(client, bundle)
    problems = clashes(client, bundle, state)
    if problems:
        raise DeployRefused("nothing was sent, because:\n  " + "\n  ".join(problems) +
                            "\n  rename or delete those assets in Superset, or change the product id")
    managed = _with_uuids(client, _managed_objects(client)) if prune else []
    plan = make_plan(bundle, state, force=force, prune=prune, managed=managed)
    result = Result(plan)
    progress(f"plan: {plan.summary()}")
    if dry_run:
        return result
    if plan.changed_paths:
        problems = import_schemas.check(bundle)
        if problems:
            raise DeployRefused("Superset's import schemas reject the bundle; nothing was sent:\n  "
                                + "\n  ".join(problems))
        progress("checked the bundle with Superset's import schemas" if problems is not None else
                 "Superset is not installed here: its import schemas were not run (the structure was checked)")
        archive, passwords = _sparse_zip(bundle, plan.changed_paths)
        progress(f"importing {len(plan.changed_paths)} assets")
        client.import_assets(archive, passwords, sparse=True)
        result.imported = True
        result.tagged = _tag(client, bundle, specs, progress)
    result.owners_set, unmatched = _set_owners(client, bundle, project, fetch(client, bundle)
                                               if result.imported else state, progress)
    if unmatched:
        result.notes.append(f"{len(unmatched)} team contact(s) match no Superset user, so they own nothing: "
                            + ", ".join(unmatched[:5]) + ("…" if len(unmatched) > 5 else ""))
    published = publish(client, specs, project)
    if published:
        progress("published the spec model to the North Star page")
    elif published is None:
        result.notes.append("the North Star page is not enabled on this Superset (see superset_plugin.inside)")
    order = {"dashboards": 0, "charts": 1, "datasets": 2}  # what uses a thing goes before it
    for step in sorted(plan.steps, key=lambda s: order.get(s.kind, 3)):
        if step.action == "delete" and step.id is not None:
            try:
                client.delete(f"/api/v1/{API[step.kind]}/{step.id}")
                result.pruned += 1
            except NotFound:
                pass
    if result.pruned:
        progress(f"pruned {result.pruned} assets whose spec or metric is gone")
    return result
