"""The North Star page, served by Superset itself.

Enable it in superset_config.py:

    from superset_plugin.inside import init_northstar
    FLASK_APP_MUTATOR = init_northstar

then run `superset init` (it creates the page's permissions and gives them to
Admin only).

Superset 6.1's frontend extension points are all in SQL Lab, so this part is
server-side: a FAB view for the page (login required, permission
`can_read on NorthStar`) and a FAB API that `northstar deploy` publishes each
project's compiled spec model to (`PUT /api/v1/northstar/model/<project>`,
permission `can_write on NorthStar`). The page never reads spec files and
never opens a connection of its own: the numbers are fetched by the reader's
browser from Superset's chart data API for the generated charts, so
Superset's permissions, query engine and cache decide what a reader may see.

Permissions: `superset init` gives every permission to Admin and, by default,
most of them to Alpha and Gamma too; `init_northstar` lists the page's among
the Admin-only ones, so nobody else reads the published models (owners,
targets, review dates) or publishes until an admin grants it (README).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from importlib import resources
from typing import Any, ClassVar
from uuid import UUID

from flask import Response, render_template_string, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.api import BaseApi, protect, safe
from jsonschema import Draft202012Validator

from northstar_spec.spec.model import Ritual, review_due, review_state
from superset_plugin.inside import action_log

log = logging.getLogger(__name__)

PERMISSION = "NorthStar"
MENU_CATEGORY, MENU_ITEM = "North Star", "Metric trees"
#: Where the published models live: Superset's own key-value table, one entry holding every
#: project's model, so every worker and every host of a Superset sees the same. (Version 1
#: kept one model for everything under 6b0f4ad2-…; it is no longer read: deploy again.)
MODEL_KEY = "6b0f4ad2-3f7e-5c7d-9d8e-6e6f72746874"
MODEL_VERSION = 1
MAX_MODEL_BYTES = 2 * 1024 * 1024
MAX_PROJECTS = 200

_PAGE = resources.files("superset_plugin.inside").joinpath("templates/northstar_page.html").read_text(encoding="utf-8")
_SCHEMA = json.loads(
    resources.files("superset_plugin.inside").joinpath("model.schema.json").read_text(encoding="utf-8")
)
_VALIDATOR = Draft202012Validator(_SCHEMA)


# --- the store ----------------------------------------------------------------------------------


def _store():
    from superset.daos.key_value import KeyValueDAO
    from superset.key_value.types import JsonKeyValueCodec, KeyValueResource

    return KeyValueDAO, KeyValueResource.APP, UUID(MODEL_KEY), JsonKeyValueCodec()


def load_models() -> dict[str, dict]:
    """Every project's published model that is fit to show, by project id.

    Checked again on the way out: the table may hold what an older plugin or a
    hand wrote, and the page must never fail because of what it reads.
    """
    dao, resource, key, codec = _store()
    try:
        stored = dao.get_value(resource, key, codec)
    except Exception:  # an undecodable value is nothing to show, not a failure of the page
        log.exception("the stored North Star models cannot be read")
        return {}
    projects = stored.get("projects") if isinstance(stored, dict) else None
    if not isinstance(projects, dict):
        return {}
    return {pid: model for pid, model in projects.items() if problem_with(model, pid) is None}


def save_model(project: str, model: dict | None) -> None:
    """Store (or, with None, remove) one project's model, leaving the others' as they are.

    The read-modify-write holds a row lock where the database has them, so
    two projects publishing at once do not lose each other's model.
    """
    from sqlalchemy.exc import IntegrityError
    from superset.extensions import db
    from superset.key_value.models import KeyValueEntry

    dao, resource, key, codec = _store()
    for attempt in range(2):
        entry = (
            db.session.query(KeyValueEntry).filter_by(resource=resource.value, uuid=key).with_for_update().one_or_none()
        )
        try:
            stored = codec.decode(entry.value) if entry else {}
        except Exception:
            stored = {}
        projects = stored.get("projects") if isinstance(stored, dict) else None
        projects = dict(projects) if isinstance(projects, dict) else {}
        if model is None:
            projects.pop(project, None)
        else:
            projects[project] = model
        value = {"projects": projects}
        if entry is None:
            dao.create_entry(resource, value, codec, key)
        else:
            entry.value = codec.encode(value)
            entry.changed_on = dt.datetime.now()
        try:
            db.session.commit()
            return
        except IntegrityError:  # another publication created the entry first: read it again
            db.session.rollback()
            if attempt:
                raise


# --- checks -------------------------------------------------------------------------------------


def problem_with(model: Any, project: str) -> str | None:
    """Why a project's model cannot be published or shown, or None."""
    errors = sorted(_VALIDATOR.iter_errors(model), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "the model"
        return f"{where}: {first.message[:300]}"
    if model["project"] != project:
        return f"the model says project {model['project']!r}, but it is published as {project!r}"
    ids = [p["id"] for p in model["products"]]
    if len(ids) != len(set(ids)):
        return "two products have the same id"
    return None


def _uuid(text: Any) -> str | None:
    try:
        return str(UUID(str(text)))
    except ValueError:
        return None


def _chart_ids(uuids: list[str]) -> dict[str, int]:
    from superset.extensions import db
    from superset.models.slice import Slice

    valid = sorted({u for u in map(_uuid, uuids) if u})
    if not valid:
        return {}
    rows = db.session.query(Slice.id, Slice.uuid).filter(Slice.uuid.in_([UUID(u) for u in valid])).all()
    return {str(uuid): chart_id for chart_id, uuid in rows}


def _saved_queries(uuids: list[str]) -> dict[str, tuple[int, dict]]:
    """chart uuid -> (dataset id, the chart's saved query context), for charts that have one."""
    from superset.extensions import db
    from superset.models.slice import Slice

    valid = sorted({u for u in map(_uuid, uuids) if u})
    if not valid:
        return {}
    rows = (
        db.session.query(Slice.uuid, Slice.datasource_id, Slice.query_context)
        .filter(Slice.uuid.in_([UUID(u) for u in valid]))
        .all()
    )
    found = {}
    for uuid, dataset_id, text in rows:
        try:
            context = json.loads(text or "")
            query = context["queries"][0]
            if isinstance(query["metrics"][0], str) and dataset_id:
                found[str(uuid)] = (dataset_id, context)
        except (ValueError, KeyError, IndexError, TypeError):
            continue
    return found


def _periods(context: dict) -> int:
    """How many periods a saved query reads (the number in its complete-periods time range)."""
    ranges = [f.get("val", "") for f in context["queries"][0].get("filters", []) if f.get("op") == "TEMPORAL_RANGE"]
    found = re.search(r"-(\d+),", ranges[0]) if ranges else None
    return int(found.group(1)) if found else 0


def batches(metrics: list[dict], saved: dict[str, tuple[int, dict]]) -> list[dict]:
    """One chart data query per dataset, grain and time axis for a product's metrics, instead of one per chart.

    Each is the saved query of one of the product's charts (the one reading the most periods) asking for
    every metric of that dataset at once; Superset checks the reader's access to the dataset as it would
    for each chart. `series` lists the metric names the answer has a column for.
    """
    groups: dict[tuple, list[tuple[str, dict]]] = {}
    for metric in metrics:
        if metric.get("chart_uuid") not in saved:
            continue
        dataset_id, context = saved[metric["chart_uuid"]]
        query = context["queries"][0]
        axis = json.dumps(query.get("columns"), sort_keys=True)
        key = (dataset_id, query.get("extras", {}).get("time_grain_sqla"), axis, json.dumps(query.get("extras")))
        groups.setdefault(key, []).append((query["metrics"][0], context))
    out = []
    for members in groups.values():
        series = list(dict.fromkeys(name for name, _ in members))
        base = json.loads(json.dumps(max((c for _, c in members), key=_periods)))
        query = base["queries"][0]
        query["metrics"] = series
        query["orderby"] = [[series[0], False]]
        for step in query.get("post_processing", []):
            if step.get("operation") == "pivot":
                step["options"]["aggregates"] = {name: {"operator": "mean"} for name in series}
        out.append({"series": series, "query": base})
    return out


def _review_state(review: dict, today: dt.date) -> dict:
    """A published review with its state and date as of today, by the notion of "due" `digest` uses."""
    try:
        last = dt.date.fromisoformat(review["last"]) if review.get("last") else None
        ritual = Ritual(review["cadence"], (), review.get("day"), last)
        due = review_due(ritual, today)
        return {**review, "state": review_state(ritual, today), "due": due.isoformat() if due else None}
    except (KeyError, ValueError, TypeError):  # a cadence or day this version does not know
        return {**review, "state": "unrecorded", "due": None}


# --- the page and its API -----------------------------------------------------------------------


class NorthStarView(BaseView):
    """The page: every project's products as metric trees, and the portfolio of all North Stars."""

    route_base = "/northstar"
    class_permission_name = PERMISSION
    method_permission_name: ClassVar[dict[str, str]] = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Response:
        models = load_models()
        today = dt.date.today()
        products = []
        for pid, model in sorted(models.items()):
            for product in model["products"]:
                products.append(
                    {
                        **product,
                        "project": pid,
                        "review_states": [_review_state(r, today) for r in product.get("reviews", [])],
                    }
                )
        products.sort(key=lambda p: (p["name"].lower(), p["project"]))
        uuids = [
            m["chart_uuid"]
            for p in products
            for m in [p["north_star"], *p.get("inputs", []), *p.get("counter_metrics", [])]
            if m.get("chart_uuid")
        ]
        saved = _saved_queries(uuids)
        for p in products:
            p["batches"] = batches([p["north_star"], *p.get("inputs", []), *p.get("counter_metrics", [])], saved)
        from superset.views.base import get_spa_template_context

        # Superset's own page shell (its "spa" bundle): the navigation bar and theme of every Superset
        # page, drawn by Superset's front end from its bootstrap data, above the trees.
        html = render_template_string(
            _PAGE,
            appbuilder=self.appbuilder,
            **get_spa_template_context("spa"),
            models=models,
            products=products,
            charts=_chart_ids(uuids),
            series={uuid: context["queries"][0]["metrics"][0] for uuid, (_, context) in saved.items()},
            today=today,
            published={pid: m.get("published_at") for pid, m in models.items()},
        )
        return Response(html, mimetype="text/html")


class NorthStarApi(BaseApi):
    """The models the page shows, one per project; `northstar deploy` publishes its project's."""

    resource_name = "northstar"
    #: FAB exempts APIs from CSRF by default; Superset's own APIs opt back in, so do we.
    csrf_exempt = False
    class_permission_name = PERMISSION
    method_permission_name: ClassVar[dict[str, str]] = {
        "info": "read",
        "get_models": "read",
        "get_model": "read",
        "put_model": "write",
        "delete_model": "write",
    }
    allow_browser_login = True

    @expose("/info", methods=("GET",))
    @protect()
    @safe
    def info(self) -> Response:
        """What a deploy needs to know about this Superset before it sends anything."""
        from superset.extensions import event_logger

        return self.response(
            200,
            result={"model_version": MODEL_VERSION, "scrubs_action_log": action_log.scrubs(_current(event_logger))},
        )

    @expose("/model", methods=("GET",))
    @protect()
    @safe
    def get_models(self) -> Response:
        return self.response(200, result={"projects": load_models()})

    @expose("/model/<project>", methods=("GET",))
    @protect()
    @safe
    def get_model(self, project: str) -> Response:
        model = load_models().get(project)
        if model is None:
            return self.response_404()
        return self.response(200, result=model)

    @expose("/model/<project>", methods=("PUT",))
    @protect()
    @safe
    def put_model(self, project: str) -> Response:
        if (request.content_length or 0) > MAX_MODEL_BYTES:
            return self.response(413, message="the model is too large")
        model = request.get_json(silent=True)
        problem = problem_with(model, project)
        if problem or not isinstance(model, dict):
            return self.response(400, message=f"not a northstar model: {problem}")
        models = load_models()
        if project not in models and len(models) >= MAX_PROJECTS:
            return self.response(400, message=f"at most {MAX_PROJECTS} projects can publish")
        held = {p["id"]: pid for pid, m in models.items() if pid != project for p in m["products"]}
        claimed = sorted({(p["id"], held[p["id"]]) for p in model["products"] if p["id"] in held})
        if claimed:
            return self.response(
                409,
                message="; ".join(f"product {pid!r} is published by project {holder!r}" for pid, holder in claimed),
            )
        save_model(project, model)
        return self.response(200, result={"project": project, "products": len(model["products"])})

    @expose("/model/<project>", methods=("DELETE",))
    @protect()
    @safe
    def delete_model(self, project: str) -> Response:
        if project not in load_models():
            return self.response_404()
        save_model(project, None)
        return self.response(200, message=f"the model of project {project!r} is no longer published")


def _current(proxy: Any) -> Any:
    """The object behind a werkzeug LocalProxy (or the object itself)."""
    getter = getattr(proxy, "_get_current_object", None)
    return getter() if callable(getter) else proxy


def init_northstar(app) -> None:
    """FLASK_APP_MUTATOR: the page, its API, the menu entry, Admin-only permissions, a scrubbed action log."""
    from superset.extensions import appbuilder, event_logger

    action_log.install(_current(event_logger))
    appbuilder.add_view_no_menu(NorthStarView())
    appbuilder.add_api(NorthStarApi)
    appbuilder.add_link(MENU_ITEM, href="/northstar/", category=MENU_CATEGORY, category_label=MENU_CATEGORY)
    # What `superset init` (sync_role_definitions) gives only to Admin. An instance attribute,
    # so the class's own set (shared by every app in the process) stays as Superset made it.
    security_manager = appbuilder.sm
    security_manager.ADMIN_ONLY_VIEW_MENUS = set(security_manager.ADMIN_ONLY_VIEW_MENUS) | {
        PERMISSION,
        MENU_CATEGORY,
        MENU_ITEM,
    }
