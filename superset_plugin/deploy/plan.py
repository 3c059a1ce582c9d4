"""What a deploy would do, decided before anything is sent; the dry run prints this very plan.

Superset's import hides its errors, never deletes, and lets a dashboard slug
or a dataset's table silently take over an asset made by hand. So the plan
checks what Superset would not:

- the bundle's own consistency (`preflight`);
- ownership: every asset carries its project in its certification, and
  nothing held by another project, or made by hand, is taken over; a
  database shared with another project is never changed;
- per asset, whether it is new, changed by the spec, edited in Superset
  (each field it would restore is listed), missing a tag, or unchanged;
- with `prune`, which of the project's assets and metrics the specs no longer
  make, and what that northstar does not manage still uses them.

Anything that must not happen is a refusal: the deploy sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from superset_plugin.compiler import Bundle, naming
from superset_plugin.compiler.assets import CERTIFIED_BY, fingerprint_of
from superset_plugin.deploy.live import (
    KINDS,
    TAGGED,
    Difference,
    LiveAsset,
    LiveState,
    asset_name,
    compare,
    dataset_certification,
    differences,
    extra_metrics,
    kind_of,
)

#: What a step does: create, update and tag send something; delete prunes; keep and unchanged send nothing.
ACTIONS = ("create", "update", "tag", "delete", "keep", "unchanged")
#: The order deletes go in: what uses a thing goes before it.
DELETE_ORDER = ("dashboards", "charts", "metrics", "datasets", "databases")
PORTFOLIO_DASHBOARD = naming.dashboard_uuid(naming.PORTFOLIO_ID)


@dataclass(frozen=True)
class Options:
    """What the person deploying asked for."""

    force: bool = False  # import every asset, changed or not (and send database passwords again)
    prune: bool = False  # delete the project's assets and metrics the specs no longer make
    prune_used: bool = False  # ... even when something northstar does not manage uses them
    no_overwrite: bool = False  # refuse instead of restoring what was edited in Superset
    send_passwords: bool = False  # send a database password even where Superset may log it
    whole_project: bool = True  # the deploy covers every spec of the project


@dataclass(frozen=True)
class Step:
    """One thing a deploy does to one asset (or, for kind `metrics`, to one metric of a dataset)."""

    kind: str  # a live.KINDS entry, or "metrics"
    uuid: str  # the asset's (for metrics: their dataset's)
    name: str
    action: str  # one of ACTIONS
    path: str | None = None  # the bundle file an import sends
    id: int | None = None  # the id in Superset
    why: tuple[str, ...] = ()
    #: Fields this update sets back to what the spec says: edits made in Superset.
    restores: tuple[Difference, ...] = ()
    #: Tags this step adds.
    tags: tuple[str, ...] = ()
    #: What northstar does not manage, and that uses what this delete removes.
    used_by: tuple[str, ...] = ()
    #: The import carries this database's password.
    sends_password: bool = False

    @property
    def label(self) -> str:
        return "metric" if self.kind == "metrics" else self.kind[:-1]


@dataclass
class Plan:
    project: str
    steps: list[Step] = field(default_factory=list)
    #: Why nothing may be sent. A plan with refusals is never carried out.
    refusals: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        """Steps on assets of the import (reports and alerts count apart: deploy.schedules.summary)."""
        return sum(s.action == action for s in self.steps if s.kind in KINDS)

    @property
    def changed_paths(self) -> list[str]:
        """The bundle files the import sends."""
        return sorted({s.path for s in self.steps if s.action in ("create", "update") and s.path and s.kind in KINDS})

    @property
    def password_paths(self) -> list[str]:
        return sorted(s.path for s in self.steps if s.sends_password and s.path)

    def deleted_metrics(self, dataset_uuid: str) -> set[str]:
        return {s.name for s in self.steps if s.kind == "metrics" and s.uuid == dataset_uuid and s.action == "delete"}

    def summary(self) -> str:
        return ", ".join(f"{self.count(a)} {a}" for a in ("create", "update", "tag", "unchanged", "delete"))

    def lines(self) -> list[str]:
        """The plan for people: one line per step that does something, restored fields below it."""
        out = []
        for step in self.steps:
            if step.action == "unchanged":
                continue
            why = f": {'; '.join(step.why)}" if step.why else ""
            out.append(f"{step.action:<9} {step.label:<9} {step.name!r}{why}")
            for restored in step.restores:
                out.append(
                    f"{'':<20}{restored.field}: spec says {_short(restored.compiled)}, "
                    f"Superset has {_short(restored.live)}"
                )
        return out


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def preflight(bundle: Bundle, known_charts: Iterable[str] = ()) -> list[str]:
    """What makes Superset's import fail with nothing but "unknown reason": checked here instead.

    `known_charts` are chart UUIDs Superset already holds that a dashboard may
    show without them being in the bundle (the portfolio shows every project's).
    """
    problems = []
    required = {
        "databases": ("database_name", "sqlalchemy_uri", "uuid", "version", "extra"),
        "datasets": ("table_name", "uuid", "database_uuid", "version"),
        "charts": ("slice_name", "viz_type", "uuid", "dataset_uuid", "version", "params"),
        "dashboards": ("dashboard_title", "uuid", "version", "position"),
    }
    uuids = {kind: {d.get("uuid") for p, d in bundle.files.items() if p.startswith(kind + "/")} for kind in required}
    charts = uuids["charts"] | set(known_charts)
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
                if isinstance(node, dict) and node.get("type") == "CHART" and node["meta"].get("uuid") not in charts:
                    problems.append(f"{path}: tile {node['id']} shows a chart that is not in the bundle")
    return problems


def wanted_tags(bundle: Bundle, uuid: str, project: str) -> frozenset[str]:
    """The tags an asset of this bundle carries: managed; its project and product unless it is shared."""
    if uuid == PORTFOLIO_DASHBOARD:
        return frozenset({naming.MANAGED_TAG})
    product = bundle.products.get(uuid)
    tags = {naming.MANAGED_TAG, naming.project_tag(project)}
    if product:
        tags.add(naming.spec_tag(product))
    return frozenset(tags)


def _fingerprint(data: dict) -> str | None:
    certification = data.get("certification_details") or (data.get("extra") or {}).get("certification", {}).get(
        "details"
    )
    return fingerprint_of(certification)


def _mentions(value: Any, name: str) -> bool:
    """Whether a chart's params use a saved metric of this name anywhere."""
    if isinstance(value, dict):
        return any(_mentions(v, name) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, name) for v in value)
    return value == name


def _params(row: dict) -> Any:
    try:
        return json.loads(row.get("params") or "{}")
    except ValueError:
        return {}


def _holder(certified_by: str | None, certification: str | None) -> str:
    """Who holds an asset that is in the way, as the end of a sentence."""
    holder = naming.project_of(certification) if certified_by == CERTIFIED_BY else None
    return f"belongs to project {holder!r}" if holder else "is not managed by northstar"


def _who(row: dict, kind: str) -> str:
    name = row.get("slice_name") or row.get("dashboard_title") or row.get("table_name") or "?"
    return f"{kind} {name!r} (id {row.get('id')})"


class _Planner:
    def __init__(
        self,
        bundle: Bundle,
        state: LiveState,
        project: str,
        options: Options,
        published: dict[str, dict] | None,
        scrubs: bool | None,
        dataset_charts: Sequence[dict],
    ):
        self.bundle, self.state, self.project, self.options = bundle, state, project, options
        self.published = published or {}
        self.scrubs = scrubs
        self.dataset_charts = dataset_charts
        self.plan = Plan(project)
        self.ours = {d["uuid"] for d in bundle.files.values() if "uuid" in d}
        #: The spec files this deploy compiles (its metrics say where they are defined).
        self.deployed_files = {
            m["extra"]["certification"]["details"]
            for p, d in bundle.files.items()
            if p.startswith("datasets/")
            for m in d.get("metrics", [])
        }

    def refuse(self, message: str) -> None:
        self.plan.refusals.append(message)

    # --- who holds what -------------------------------------------------------------------------

    def claims(self) -> None:
        """Refuse what another project, or a person, holds under this bundle's names."""
        adopted = 0
        for _path, kind, data, live, _ in compare(self.bundle, self.state):
            if live is None or data["uuid"] == PORTFOLIO_DASHBOARD:
                continue
            holder = live.project
            if holder is None and live.managed and kind != "databases":
                adopted += 1
            if holder and holder != self.project:
                self.refuse(self._held(kind, data, live, holder))
        if adopted:
            self.plan.notes.append(
                f"{adopted} asset(s) were deployed before projects had ids; project {self.project!r} adopts them"
            )
        for path, data in self.bundle.files.items():
            if path.startswith("dashboards/"):
                row = self.state.slugs.get(data.get("slug") or "")
                if row and row["uuid"] != data["uuid"]:
                    owner = _holder(row.get("certified_by"), row.get("certification_details"))
                    self.refuse(
                        f"dashboard {row.get('dashboard_title')!r} (id {row.get('id')}) already has the slug "
                        f"{data['slug']!r} and {owner}; importing would take it over: rename or delete it in "
                        "Superset, or change the product id"
                    )
            elif path.startswith("databases/"):
                for row in self.state.databases:
                    if row["database_name"] == data["database_name"] and row["uuid"] != data["uuid"]:
                        self.refuse(
                            f"database {row['database_name']!r} (id {row['id']}) exists and is not managed by "
                            "northstar; importing would take it over: rename it in Superset"
                        )
            elif path.startswith("datasets/"):
                for row in self.state.datasets:
                    same_table = (row.get("table_name"), row.get("schema") or None) == (
                        data["table_name"],
                        data.get("schema") or None,
                    )
                    same_db = (row.get("database") or {}).get("uuid") == data["database_uuid"]
                    if same_table and same_db and row["uuid"] not in self.ours:
                        certification = dataset_certification(row)
                        who = _holder(certification.get("certified_by"), certification.get("details"))
                        self.refuse(
                            f"dataset {row['table_name']!r} (id {row['id']}) on the same database {who}; importing "
                            "would take it over"
                        )
        for holder, model in sorted(self.published.items()):
            if holder == self.project:
                continue
            for product in model.get("products", []):
                if product.get("id") in set(self.bundle.products.values()):
                    self.refuse(
                        f"product {product['id']!r} is published on the North Star page by project {holder!r}: "
                        "choose another product id, or deploy it from that project"
                    )

    def _held(self, kind: str, data: dict, live: LiveAsset, holder: str) -> str:
        name = f"{kind[:-1]} {asset_name(data)!r} (id {live.id})"
        if kind == "datasets":
            return (
                f"{name} belongs to project {holder!r}: two projects cannot share a dataset. Declare the database "
                "under another name in this project's northstar.yaml, so that it gets a Superset database and "
                "datasets of its own"
            )
        product = self.bundle.products.get(data["uuid"], "?")
        return (
            f"{name} belongs to project {holder!r}: product {product!r} is deployed from that project. Choose "
            "another product id, or deploy it from there"
        )

    def _other_projects_on(self, database_uuid: str) -> list[str]:
        found = set()
        for row in self.state.datasets:
            if (row.get("database") or {}).get("uuid") != database_uuid:
                continue
            certification = dataset_certification(row)
            holder = naming.project_of(certification.get("details"))
            if holder and holder != self.project and certification.get("certified_by") == CERTIFIED_BY:
                found.add(holder)
        return sorted(found)

    # --- each asset of the bundle ---------------------------------------------------------------

    def assets(self) -> None:
        for path, kind, data, live, _ in compare(self.bundle, self.state):
            uuid, name = data["uuid"], asset_name(data)
            tags = wanted_tags(self.bundle, uuid, self.project) if kind in TAGGED else frozenset()
            password = path in self.bundle.passwords
            if live is None:
                self.plan.steps.append(
                    Step(kind, uuid, name, "create", path, tags=tuple(sorted(tags)), sends_password=password)
                )
                continue
            diffs = differences(data, live, with_extra_metrics=False)
            why: list[str] = []
            restores: tuple[Difference, ...] = ()
            if kind == "databases":
                if diffs:
                    why.append("differs from what northstar.yaml and its URI say: " + ", ".join(d.field for d in diffs))
                    shared = self._other_projects_on(uuid)
                    if shared:
                        self.refuse(
                            f"database {name!r} is shared with project(s) {', '.join(map(repr, shared))}, whose "
                            f"datasets use it; this deploy would change its {', '.join(d.field for d in diffs)}. "
                            "Give the database another name in this project's northstar.yaml, or make both "
                            "projects declare the same URI"
                        )
                password = password and (self.options.force or any(d.field == "sqlalchemy_uri" for d in diffs))
            elif live.fingerprint is not None and _fingerprint(data) != live.fingerprint:
                why.append("the spec changed" + (f": {', '.join(d.field for d in diffs)}" if diffs else ""))
            elif diffs:
                restores = tuple(diffs)
                fields = "field" if len(diffs) == 1 else "fields"
                why.append(f"restores {len(diffs)} {fields} edited in Superset")
            pruned = self.stale_metrics(path, data, live) if kind == "datasets" else []
            if pruned:
                why.append("prunes metric(s) " + ", ".join(pruned))
            missing = tags - live.tags if kind in TAGGED else frozenset()
            if why or self.options.force:
                action = "update"
            elif missing:
                action = "tag"
                why.append("missing " + ", ".join(sorted(missing)))
            else:
                action = "unchanged"
            if self.options.force and not why:
                why.append("--force")
            self.plan.steps.append(
                Step(
                    kind,
                    uuid,
                    name,
                    action,
                    path,
                    live.id,
                    tuple(why),
                    restores,
                    tuple(sorted(missing)),
                    sends_password=password and action == "update",
                )
            )
            if restores and self.options.no_overwrite:
                self.refuse(
                    f"{kind[:-1]} {name!r} (id {live.id}) was edited in Superset "
                    f"({', '.join(d.field for d in restores)}) and --no-overwrite is set: put the edit in the "
                    "spec, or deploy without --no-overwrite to restore what the spec says"
                )

    def stale_metrics(self, path: str, data: dict, live: LiveAsset) -> list[str]:
        """Northstar metrics the live dataset has and this deploy does not define: kept, or pruned.

        Metrics made by hand, and (in a deploy of some of the project's specs)
        metrics of the specs not deployed now, are kept without a word.
        """
        pruned = []
        for metric in extra_metrics(data, live):
            certification = (live.metrics[metric].get("extra") or {}).get("certification") or {}
            if certification.get("certified_by") != CERTIFIED_BY:
                continue  # made by hand: not ours
            if not self.options.whole_project and certification.get("details") not in self.deployed_files:
                continue  # another spec of this project defines it
            if not self.options.prune:
                self.plan.steps.append(
                    Step(
                        "metrics",
                        data["uuid"],
                        metric,
                        "keep",
                        path,
                        live.id,
                        (f"dataset {live.name!r}: the specs no longer define it; --prune deletes it",),
                    )
                )
                continue
            users = tuple(
                _who(row, "chart")
                for row in self.dataset_charts
                if row.get("datasource_id") == live.id
                and row["uuid"] not in self.ours
                and not self._deleted("charts", row["uuid"])
                and _mentions(_params(row), metric)
            )
            self.plan.steps.append(
                Step(
                    "metrics", data["uuid"], metric, "delete", path, live.id, (f"dataset {live.name!r}",), used_by=users
                )
            )
            pruned.append(metric)
        return pruned

    # --- pruning ---------------------------------------------------------------------------------

    def _deleted(self, kind: str, uuid: str) -> bool:
        return any(s.kind == kind and s.uuid == uuid and s.action == "delete" for s in self.plan.steps)

    def prune(self) -> None:
        """Delete steps for the project's dashboards, charts and datasets the specs no longer make."""
        if not self.options.whole_project:
            self.refuse(
                "--prune needs the whole project: deploy without paths (or with every spec of the project), "
                "so that what the other specs make is not mistaken for what is gone"
            )
            return
        ours = lambda row: naming.project_of(row.get("certification_details")) == self.project  # noqa: E731
        for row in self.state.certified.get("dashboards", []):
            if row["uuid"] not in self.ours and row.get("certified_by") == CERTIFIED_BY and ours(row):
                self.plan.steps.append(Step("dashboards", row["uuid"], row["dashboard_title"], "delete", id=row["id"]))
        kept_dashboards = {a.id for a in self.state.assets.values() if a.kind == "dashboards"} | {
            s.id for s in self.plan.steps if s.kind == "dashboards" and s.action == "delete"
        }
        for row in self.state.certified.get("charts", []):
            if row["uuid"] in self.ours or row.get("certified_by") != CERTIFIED_BY or not ours(row):
                continue
            users = tuple(_who(d, "dashboard") for d in row.get("dashboards") or [] if d["id"] not in kept_dashboards)
            self.plan.steps.append(
                Step("charts", row["uuid"], row["slice_name"], "delete", id=row["id"], used_by=users)
            )
        for row in self.state.datasets:
            certification = dataset_certification(row)
            if (
                row["uuid"] in self.ours
                or certification.get("certified_by") != CERTIFIED_BY
                or naming.project_of(certification.get("details")) != self.project
            ):
                continue
            users = tuple(
                _who(chart, "chart")
                for chart in self.dataset_charts
                if chart.get("datasource_id") == row["id"] and not self._deleted("charts", chart["uuid"])
            )
            self.plan.steps.append(
                Step("datasets", row["uuid"], row["table_name"], "delete", id=row["id"], used_by=users)
            )

    def used(self) -> None:
        for step in self.plan.steps:
            if step.action == "delete" and step.used_by and not self.options.prune_used:
                self.refuse(
                    f"pruning {step.label} {step.name!r} would break {', '.join(step.used_by)}, which northstar "
                    "does not manage: remove that use in Superset, deploy without --prune to keep it, or pass "
                    "--prune-used to delete it anyway"
                )

    def passwords(self) -> None:
        sending = [s for s in self.plan.steps if s.sends_password]
        if sending and not self.scrubs and not self.options.send_passwords:
            names = ", ".join(repr(s.name) for s in sending)
            self.refuse(
                f"the import would carry the password of database {names}, and this Superset does not say that "
                "it keeps passwords out of its action log (the `logs` table stores every request's form fields "
                "in clear). Enable the North Star page on it (FLASK_APP_MUTATOR = init_northstar), which "
                "scrubs them, or pass --send-passwords to send it anyway (README: secrets and the action log)"
            )


def make_plan(
    bundle: Bundle,
    state: LiveState,
    project: str,
    options: Options | None = None,
    *,
    published: dict[str, dict] | None = None,
    scrubs: bool | None = None,
    dataset_charts: Sequence[dict] = (),
) -> Plan:
    """The plan of a deploy of `bundle` for `project`, given what Superset holds.

    `published` are the models on the North Star page, by project; `scrubs`
    whether Superset keeps passwords out of its action log; `dataset_charts`
    every chart on the project's datasets (to see what a prune would break).
    """
    options = options or Options()
    planner = _Planner(bundle, state, project, options, published, scrubs, dataset_charts)
    planner.claims()
    if options.prune:
        planner.prune()
    planner.assets()
    planner.used()
    planner.passwords()
    order = {kind: i for i, kind in enumerate(KINDS)}
    planner.plan.steps.sort(key=lambda s: (ACTIONS.index(s.action), order.get(s.kind, len(order)), s.name))
    return planner.plan


def charts_on(client, dataset_ids: Sequence[int]) -> list[dict]:
    """Every chart on these datasets, with what a prune needs to see who uses what."""
    if not dataset_ids:
        return []
    return client.list_all(
        "chart",
        {
            "filters": [{"col": "datasource_id", "opr": "in", "value": sorted(dataset_ids)}],
            "columns": ["id", "uuid", "slice_name", "datasource_id", "params"],
        },
    )


def project_datasets(state: LiveState, project: str) -> list[int]:
    """The ids of the datasets that carry this project's marker."""
    return [
        row["id"]
        for row in state.datasets
        if dataset_certification(row).get("certified_by") == CERTIFIED_BY
        and naming.project_of(dataset_certification(row).get("details")) == project
    ]
