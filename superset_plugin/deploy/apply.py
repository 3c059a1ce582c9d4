"""Carry out a deploy plan on a live Superset: boring on purpose.

Only what changed is sent (a sparse import, all or nothing); what northstar
manages is marked with tags; owners come from the spec's teams; and, when
asked, managed assets whose spec is gone are pruned, users of a thing first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from northstar_spec.spec.model import Project, Spec
from superset_plugin.compiler import Bundle, naming
from superset_plugin.deploy import import_schemas
from superset_plugin.deploy.client import NotFound, SupersetClient
from superset_plugin.deploy.live import API, LiveState, fetch
from superset_plugin.deploy.plan import MANAGED_TAG, Plan, clashes, make_plan, managed_objects, preflight
from superset_plugin.deploy.publish import publish

TAG_TYPES = {"charts": "chart", "dashboards": "dashboard", "datasets": "dataset"}
Progress = Callable[[str], None]


class DeployRefused(Exception):
    """Deploying would damage assets northstar does not manage, or the bundle is unsound: nothing was sent."""


@dataclass
class Result:
    plan: Plan
    imported: bool = False
    pruned: int = 0
    tagged: int = 0
    owners_set: int = 0
    notes: list[str] = field(default_factory=list)


def _sparse_zip(bundle: Bundle, paths: list[str]) -> tuple[bytes, dict[str, str]]:
    """The bundle's metadata and the changed files only, with the passwords of those files."""
    rendered = bundle.rendered()
    archive = bundle.to_zip({p: rendered[p] for p in ["metadata.yaml", *paths]})
    return archive, {p: pw for p, pw in bundle.passwords.items() if p in paths}


def _tag(client: SupersetClient, bundle: Bundle, specs: Sequence[Spec], progress: Progress) -> int:
    ids: dict[str, tuple[str, int]] = {}
    for kind, api in TAG_TYPES.items():
        uuids = [d["uuid"] for p, d in bundle.files.items() if p.startswith(kind + "/")]
        for start in range(0, len(uuids), 80):
            rows = client.list_all(
                api,
                {
                    "filters": [{"col": "uuid", "opr": "in", "value": uuids[start : start + 80]}],
                    "columns": ["id", "uuid"],
                },
            )
            ids.update({r["uuid"]: (api, r["id"]) for r in rows})
    everything = [[api, i] for api, i in ids.values()]
    client.post(
        "/api/v1/tag/",
        json={
            "name": MANAGED_TAG,
            "description": "Generated and managed by northstar: edit the spec, not the asset.",
            "objects_to_tag": everything,
        },
    )
    for spec in [*specs, None]:
        product = spec.product.id if spec else naming.PORTFOLIO_ID
        objects = [
            [api, i]
            for path, d in bundle.files.items()
            if d.get("uuid") in ids
            for api, i in [ids[d["uuid"]]]
            if path.startswith((f"charts/{product}__", f"dashboards/{product}."))
        ]
        if objects:
            client.post(
                "/api/v1/tag/",
                json={
                    "name": f"northstar:spec:{product}",
                    "description": f"Generated from the spec of {product}",
                    "objects_to_tag": objects,
                },
            )
    progress(f"tagged {len(everything)} assets {MANAGED_TAG}")
    return len(everything)


def _users_by_email(client: SupersetClient) -> dict[str, int]:
    rows = client.all_pages("/api/v1/dashboard/related/owners")
    return {email: row["value"] for row in rows if (email := ((row.get("extra") or {}).get("email") or "").lower())}


def _set_owners(
    client: SupersetClient, bundle: Bundle, project: Project, state: LiveState, progress: Progress
) -> tuple[int, list[str]]:
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


def _check_schemas(bundle: Bundle, progress: Progress) -> None:
    """Superset's own import schemas, run here: names per file what its import would answer with a bare 500.

    Off by default: it starts a Superset app (about 10 s), and the compiler's
    output is proven against the same schemas by northstar's own tests.
    """
    rejected = import_schemas.check(bundle)
    if rejected is None:
        raise DeployRefused(
            "--check-schemas needs apache-superset installed here (pip install 'northstar-spec[superset]')"
        )
    if rejected:
        raise DeployRefused(
            "Superset's import schemas reject the bundle; nothing was sent:\n  " + "\n  ".join(rejected)
        )
    progress("checked the bundle with Superset's import schemas")


def deploy(
    client: SupersetClient,
    bundle: Bundle,
    specs: Sequence[Spec],
    project: Project,
    *,
    dry_run: bool = False,
    prune: bool = False,
    force: bool = False,
    check_schemas: bool = False,
    progress: Progress = lambda message: None,
) -> Result:
    problems = preflight(bundle)
    if problems:
        raise DeployRefused("the bundle is not sound; nothing was sent:\n  " + "\n  ".join(problems))
    progress(f"connecting to {client.url}")
    state = fetch(client, bundle)
    problems = clashes(client, bundle, state)
    if problems:
        raise DeployRefused(
            "nothing was sent, because:\n  "
            + "\n  ".join(problems)
            + "\n  rename or delete those assets in Superset, or change the product id"
        )
    managed = managed_objects(client) if prune else []
    plan = make_plan(bundle, state, force=force, prune=prune, managed=managed)
    result = Result(plan)
    progress(f"plan: {plan.summary()}")
    if dry_run:
        return result
    if plan.changed_paths:
        if check_schemas:
            _check_schemas(bundle, progress)
        archive, passwords = _sparse_zip(bundle, plan.changed_paths)
        progress(f"importing {len(plan.changed_paths)} assets")
        client.import_assets(archive, passwords, sparse=True)
        result.imported = True
        result.tagged = _tag(client, bundle, specs, progress)
    result.owners_set, unmatched = _set_owners(
        client, bundle, project, fetch(client, bundle) if result.imported else state, progress
    )
    if unmatched:
        result.notes.append(
            f"{len(unmatched)} team contact(s) match no Superset user, so they own nothing: "
            + ", ".join(unmatched[:5])
            + ("…" if len(unmatched) > 5 else "")
        )
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
