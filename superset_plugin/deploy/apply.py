"""Carry out a deploy plan on a live Superset: boring on purpose.

Only what changed is sent (a sparse import, all or nothing); what northstar
manages is marked with tags in one request; owners come from the spec's
teams; and, when asked, the project's assets whose spec is gone are pruned,
users of a thing first.

The import is the one request that is not safe to repeat blindly: after a
timeout, a dropped connection or an answer that is not Superset's, the
deploy looks at what Superset holds before it sends anything again, and
never resends after a timeout (Superset may still be applying the first).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from northstar_spec.spec.model import Project, Spec
from superset_plugin.compiler import Bundle, naming, portfolio
from superset_plugin.compiler.assets import CERTIFIED_BY, finish
from superset_plugin.deploy import import_schemas, schedules
from superset_plugin.deploy.client import (
    ImportFailed,
    NotFound,
    NotJson,
    ServerError,
    SupersetClient,
    Unreachable,
)
from superset_plugin.deploy.live import API, TAGGED, LiveState, extra_metrics, fetch, fetch_certified_dashboards
from superset_plugin.deploy.plan import (
    DELETE_ORDER,
    Options,
    Plan,
    charts_on,
    make_plan,
    preflight,
    project_datasets,
    wanted_tags,
)
from superset_plugin.deploy.publish import publish, published_models

INFO_PATH = "/api/v1/northstar/info"
Progress = Callable[[str], None]


class DeployRefused(Exception):
    """Deploying would damage what northstar does not own, or the bundle is unsound: nothing was sent."""

    def __init__(self, message: str, plan: Plan | None = None):
        super().__init__(message)
        self.plan = plan


class ImportUnconfirmed(Unreachable):
    """The import went out and no answer came in time: Superset may still apply it. Nothing was resent."""


@dataclass
class Result:
    plan: Plan
    imported: bool = False
    pruned: int = 0
    tagged: int = 0
    owners_set: int = 0
    notes: list[str] = field(default_factory=list)
    #: Reports and alerts sent: {"create": n, "update": n, "delete": n}.
    schedules: dict[str, int] = field(default_factory=dict)


def _portfolio_others(bundle: Bundle, state: LiveState, project: str, whole: bool) -> list[portfolio.Entry]:
    """The live portfolio tiles the bundle's portfolio dashboard shows besides its own products.

    Every other project's; in a deploy of some of the project's specs, also its
    other products'. A whole-project deploy leaves out its products that are gone.
    """
    mine = set(bundle.products.values())
    found = []
    for row in state.certified.get("charts", []):
        holder = naming.project_of(row.get("certification_details"))
        if row.get("certified_by") != CERTIFIED_BY or holder is None:
            continue
        entry = portfolio.Entry.from_chart(_json(row.get("params")), row["uuid"], row.get("slice_name") or "")
        if entry is None or entry.product in mine or entry.project != holder:
            continue
        if holder != project or not whole:
            found.append(entry)
    return found


def _json(text) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _scrubs(client: SupersetClient) -> bool:
    """Whether Superset says it keeps passwords out of its action log (only the North Star page can say so)."""
    try:
        return bool((client.get(INFO_PATH).get("result") or {}).get("scrubs_action_log"))
    except NotFound:
        return False


def _sparse_zip(bundle: Bundle, plan: Plan, state: LiveState) -> tuple[bytes, dict[str, str]]:
    """The bundle's metadata and the changed files, with the passwords the plan sends.

    A dataset is sent with the live metrics this deploy keeps (made in
    Superset, or defined by specs not deployed now), because Superset's import
    deletes every metric a dataset file does not list.
    """
    files = {}
    for path in plan.changed_paths:
        data = bundle.files[path]
        live = state.assets.get(data["uuid"])
        if path.startswith("datasets/") and live is not None:
            dropped = plan.deleted_metrics(data["uuid"])
            kept = [live.metrics[m] for m in extra_metrics(data, live) if m not in dropped]
            if kept:
                data = {**data, "metrics": [*data["metrics"], *kept]}
        files[path] = data
    return Bundle(files=files).to_zip(), {p: bundle.passwords[p] for p in plan.password_paths}


def _landed(client: SupersetClient, bundle: Bundle, plan: Plan) -> bool:
    """Whether Superset now holds every asset the import carried, as the bundle has it."""
    state = fetch(client, bundle)
    for path in plan.changed_paths:
        data = bundle.files[path]
        live = state.assets.get(data["uuid"])
        if live is None:
            return False
        compiled = data.get("certification_details") or ((data.get("extra") or {}).get("certification") or {}).get(
            "details"
        )
        if compiled and live.certification != compiled:
            return False
    return True


def _import(client: SupersetClient, bundle: Bundle, plan: Plan, state: LiveState, progress: Progress) -> list[str]:
    """Send the import; after an ambiguous failure, check what landed before sending it (once) again."""
    archive, passwords = _sparse_zip(bundle, plan, state)
    for attempt in (1, 2):
        progress(f"importing {len(plan.changed_paths)} assets" + (" again" if attempt > 1 else ""))
        try:
            client.import_assets(archive, passwords, sparse=True)
            return []
        except (Unreachable, ImportFailed, ServerError, NotJson) as exc:
            if isinstance(exc, Unreachable) and not exc.sent:
                raise  # never left this machine
            if isinstance(exc, ImportFailed) and exc.status is not None and exc.status < 500:
                raise  # Superset read it and said no
            progress(f"the import failed ({exc.detail or exc.status}); checking what Superset holds")
            if _landed(client, bundle, plan):
                return [f"the import answer was lost ({exc.detail or exc.status}), but Superset had applied it"]
            if isinstance(exc, Unreachable) and exc.timed_out:
                raise ImportUnconfirmed(
                    f"Superset at {client.url} did not answer the import within {client.timeout:g} s, and had not"
                    " applied it yet. It may still do so: the import is not sent again. Run the deploy again once"
                    " Superset is responsive; it checks what landed and completes the rest.",
                    method="POST",
                    path="/api/v1/assets/import/",
                    detail=exc.detail,
                ) from None
            if isinstance(exc, (ImportFailed, NotJson)):
                raise
            if attempt == 2:
                raise Unreachable(
                    f"The connection to Superset at {client.url} broke twice before it answered the import"
                    f" ({exc.detail}), and nothing of it had landed either time. Check the network path to Superset"
                    " (a proxy or load balancer with a short timeout?), then deploy again.",
                    method="POST",
                    path="/api/v1/assets/import/",
                    detail=exc.detail,
                ) from None
            progress("nothing of it landed, so it is sent once more")
    raise AssertionError("unreachable")  # pragma: no cover


def _tag_listing(client: SupersetClient, bundle: Bundle) -> dict[str, dict]:
    """uuid -> {kind, id, tags, owners} for the bundle's charts and dashboards, as Superset has them now."""
    found = {}
    for kind in TAGGED:
        uuids = [d["uuid"] for p, d in bundle.files.items() if p.startswith(kind + "/")]
        for start in range(0, len(uuids), 80):
            for row in client.list_all(
                API[kind],
                {
                    "filters": [{"col": "uuid", "opr": "in", "value": uuids[start : start + 80]}],
                    "columns": ["id", "uuid", "tags.name", "owners.id"],
                },
            ):
                found[row["uuid"]] = {
                    "kind": kind,
                    "id": row["id"],
                    "tags": {t["name"] for t in row.get("tags") or []},
                    "owners": sorted(o["id"] for o in row.get("owners") or []),
                }
    return found


def _missing_tags(bundle: Bundle, listing: dict[str, dict], project: str) -> dict[str, list[list]]:
    """tag -> the [type, id] objects that should carry it and do not."""
    missing: dict[str, list[list]] = {}
    for uuid, row in sorted(listing.items()):
        for tag in sorted(wanted_tags(bundle, uuid, project) - row["tags"]):
            missing.setdefault(tag, []).append([API[row["kind"]], row["id"]])
    return missing


def _tag(client: SupersetClient, bundle: Bundle, listing: dict[str, dict], project: str, progress: Progress) -> int:
    """Add the missing tags, every tag in one request.

    Superset creates a tag, and each tagging, under a unique constraint, so
    two deploys tagging the same assets at once collide and one gets a 500.
    What the other wrote is what this one wanted too: so after a 500 the tags
    are read again and only what is still missing is sent, until nothing is
    (three rounds at most).
    """
    sent = 0
    for round_ in range(3):
        missing = _missing_tags(bundle, listing, project)
        if not missing:
            break
        body = {
            "tags": [
                {"name": tag, "description": _TAG_DESCRIPTIONS.get(tag.rsplit(":", 1)[0], ""), "objects_to_tag": objs}
                for tag, objs in missing.items()
            ]
        }
        try:
            client.post("/api/v1/tag/bulk_create", json=body)
            sent = len({(t, i) for objs in missing.values() for t, i in objs})
            break
        except ServerError:
            if round_ == 2:
                raise
            progress("tagging collided with another writer; reading the tags again")
            listing = _tag_listing(client, bundle)
    if sent:
        progress(f"tagged {sent} assets")
    return sent


_TAG_DESCRIPTIONS = {
    "northstar:managed": "Generated and managed by northstar: edit the spec, not the asset.",
    "northstar:project": "Generated by northstar for this project (spec repository).",
    "northstar:spec": "Generated by northstar from the spec of this product.",
}


def _users_by_email(client: SupersetClient) -> dict[str, int]:
    rows = client.all_pages("/api/v1/dashboard/related/owners")
    return {email: row["value"] for row in rows if (email := ((row.get("extra") or {}).get("email") or "").lower())}


def _set_owners(
    client: SupersetClient, bundle: Bundle, project: Project, listing: dict[str, dict], progress: Progress
) -> tuple[int, list[str]]:
    """Owners from the spec's teams, where a team contact is a Superset user's email.

    The deploying user stays an owner, so the next deploy may still overwrite.
    """
    contacts = {team_id: {c.lower() for c in team.contacts} for team_id, team in project.teams.items()}
    if not any("@" in c for cs in contacts.values() for c in cs):
        return 0, []
    users = _users_by_email(client)
    me = client.get("/api/v1/me/")["result"]
    my_id = me.get("id") or me.get("user_id")
    unmatched = sorted({c for cs in contacts.values() for c in cs if "@" in c and c not in users})
    changed = 0
    for uuid, teams in sorted(bundle.teams.items()):
        owners = {users[c] for t in teams for c in contacts.get(t, ()) if c in users}
        live = listing.get(uuid)
        if live is None or not owners:
            continue
        target = sorted(owners | ({my_id} if my_id else set()))
        if target != live["owners"]:
            client.put(f"/api/v1/{API[live['kind']]}/{live['id']}", json={"owners": target})
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


def plan_deploy(
    client: SupersetClient,
    bundle: Bundle,
    project: Project,
    options: Options | None = None,
    progress: Progress = lambda message: None,
) -> tuple[Plan, LiveState, dict[str, dict] | None]:
    """Read Superset and decide; raises DeployRefused (with the plan) when the deploy must not happen."""
    options = options or Options()
    problems = preflight(bundle)
    if problems:
        raise DeployRefused("the bundle is not sound; nothing was sent:\n  " + "\n  ".join(problems))
    progress(f"connecting to {client.url} as project {project.id!r}")
    state = fetch(client, bundle)
    others = _portfolio_others(bundle, state, project.id, options.whole_project)
    portfolio.rebuild(bundle, others, finish)
    problems = preflight(bundle, known_charts=[e.chart_uuid for e in others])
    if problems:
        raise DeployRefused("the bundle is not sound; nothing was sent:\n  " + "\n  ".join(problems))
    published = published_models(client)
    if options.prune:
        fetch_certified_dashboards(client, state)
    dataset_charts = charts_on(client, project_datasets(state, project.id)) if options.prune else []
    plan = make_plan(bundle, state, project.id, options, published=published, dataset_charts=dataset_charts)
    if plan.password_paths:  # only then does it matter whether Superset keeps passwords out of its log
        scrubs = _scrubs(client)
        plan = make_plan(
            bundle, state, project.id, options, published=published, scrubs=scrubs, dataset_charts=dataset_charts
        )
    live_schedules = schedules.fetch(client, project.id)
    ids = schedules.resolve(client, state, bundle.schedules, look_up=False)
    schedules.plan(bundle.schedules, live_schedules, ids, project.id, options, plan)
    progress(f"plan: {plan.summary()}; reports and alerts: {schedules.summary(plan)}")
    if plan.refusals:
        raise DeployRefused("nothing was sent, because:\n  " + "\n  ".join(plan.refusals), plan)
    return plan, state, published


def deploy(
    client: SupersetClient,
    bundle: Bundle,
    specs: Sequence[Spec],
    project: Project,
    options: Options | None = None,
    *,
    dry_run: bool = False,
    check_schemas: bool = False,
    progress: Progress = lambda message: None,
) -> Result:
    """Plan, then carry out the plan: import, tag, set owners, publish the page's model, prune."""
    options = options or Options()
    plan, state, published = plan_deploy(client, bundle, project, options, progress)
    result = Result(plan, notes=list(plan.notes))
    if dry_run:
        return result
    if plan.changed_paths:
        if check_schemas:
            _check_schemas(bundle, progress)
        result.notes += _import(client, bundle, plan, state, progress)
        result.imported = True
    if result.imported or any(s.action == "tag" for s in plan.steps):
        listing = _tag_listing(client, bundle)
    else:
        listing = {
            a.uuid: {"kind": a.kind, "id": a.id, "tags": set(a.tags), "owners": a.fields.get("owners")}
            for a in state.assets.values()
            if a.kind in TAGGED
        }
    result.tagged = _tag(client, bundle, listing, project.id, progress)
    result.owners_set, unmatched = _set_owners(client, bundle, project, listing, progress)
    if unmatched:
        result.notes.append(
            f"{len(unmatched)} team contact(s) match no Superset user, so they own nothing: "
            + ", ".join(unmatched[:5])
            + ("…" if len(unmatched) > 5 else "")
        )
    if published is None:
        result.notes.append("the North Star page is not enabled on this Superset (see superset_plugin.inside)")
    elif publish(client, specs, project, published.get(project.id), whole=options.whole_project):
        progress("published the project's model to the North Star page")
    if any(s.kind in schedules.KINDS.values() and s.action in ("create", "update", "delete") for s in plan.steps):
        ids = schedules.resolve(client, state, bundle.schedules)
        result.schedules = schedules.apply(client, bundle.schedules, plan, ids, progress)
    for step in sorted(
        (
            s
            for s in plan.steps
            if s.action == "delete" and s.kind in DELETE_ORDER and s.kind != "metrics" and s.id is not None
        ),
        key=lambda s: DELETE_ORDER.index(s.kind),
    ):
        try:
            client.delete(f"/api/v1/{API[step.kind]}/{step.id}")
            result.pruned += 1
        except NotFound:
            pass
    if result.pruned:
        progress(f"pruned {result.pruned} assets whose spec or metric is gone")
    return result
