"""The North Star page, served by Superset itself.

Enable it in superset_config.py:

    from superset_plugin.inside import init_northstar
    FLASK_APP_MUTATOR = init_northstar

then run `superset init` once (it grants the new permissions to Admin).

Superset 6.1's frontend extension points are all in SQL Lab, so this part is
server-side: a FAB view for the page (login required, permission
`can_read on NorthStar`) and a FAB API that `northstar deploy` publishes the
compiled spec model to (`PUT /api/v1/northstar/model`, Admin only). The page
never reads spec files and never opens a connection of its own: the numbers
are fetched by the reader's browser from Superset's chart data API for the
generated charts, so Superset's permissions, query engine and cache decide
what a reader may see.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any, ClassVar

from flask import Response, render_template_string, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.api import BaseApi, protect, safe

PERMISSION = "NorthStar"
#: Where the published model lives: Superset's own key-value table, so every
#: worker and every host of a Superset sees the same model.
MODEL_KEY = "6b0f4ad2-3f7e-5c7d-9d8e-6e6f72746873"
MODEL_VERSION = 1
MAX_MODEL_BYTES = 2 * 1024 * 1024

_PAGE = resources.files("superset_plugin.inside").joinpath("templates/northstar_page.html").read_text(encoding="utf-8")


def _store():
    from uuid import UUID

    from superset.daos.key_value import KeyValueDAO
    from superset.key_value.types import JsonKeyValueCodec, KeyValueResource

    return KeyValueDAO, KeyValueResource.APP, UUID(MODEL_KEY), JsonKeyValueCodec()


def load_model() -> dict | None:
    dao, resource, key, codec = _store()
    return dao.get_value(resource, key, codec)


def save_model(model: dict) -> None:
    from superset.extensions import db

    dao, resource, key, codec = _store()
    dao.upsert_entry(resource, model, codec, key)
    db.session.commit()


def _valid(model: Any) -> str | None:
    """Why a published model cannot be shown, or None; the page trusts nothing it did not check."""
    if not isinstance(model, dict) or model.get("version") != MODEL_VERSION:
        return f"expected a northstar model of version {MODEL_VERSION}"
    products = model.get("products")
    if not isinstance(products, list):
        return "products must be a list"
    for product in products:
        if not isinstance(product, dict) or not isinstance(product.get("north_star"), dict):
            return "every product needs a north_star"
        for key in ("inputs", "counter_metrics", "reviews", "history"):
            if not isinstance(product.get(key, []), list):
                return f"{key} must be a list"
    return None


def _chart_ids(uuids: list[str]) -> dict[str, int]:
    from superset.extensions import db
    from superset.models.slice import Slice

    if not uuids:
        return {}
    rows = db.session.query(Slice.id, Slice.uuid).filter(Slice.uuid.in_(uuids)).all()
    return {str(uuid): chart_id for chart_id, uuid in rows}


def _review_state(review: dict, today: dt.date) -> dict:
    due = review.get("next_due")
    state = "unscheduled"
    if due:
        days = (dt.date.fromisoformat(due) - today).days
        state = "overdue" if days < 0 else "due soon" if days <= 7 else "scheduled"
    return {**review, "state": state}


class NorthStarView(BaseView):
    """The page: every product's metric tree, and the portfolio of North Stars."""

    route_base = "/northstar"
    class_permission_name = PERMISSION
    method_permission_name: ClassVar[dict[str, str]] = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Response:
        model = load_model()
        products = (model or {}).get("products", [])
        today = dt.date.today()
        uuids = [
            m["chart_uuid"]
            for p in products
            for m in [p["north_star"], *p.get("inputs", []), *p.get("counter_metrics", [])]
            if m.get("chart_uuid")
        ]
        charts = _chart_ids(uuids)
        for product in products:
            product["review_states"] = [_review_state(r, today) for r in product.get("reviews", [])]
        html = render_template_string(_PAGE, model=model, products=products, charts=charts, today=today)
        return Response(html, mimetype="text/html")


class NorthStarApi(BaseApi):
    """The model the page shows; `northstar deploy` publishes it."""

    resource_name = "northstar"
    #: FAB exempts APIs from CSRF by default; Superset's own APIs opt back in, so do we.
    csrf_exempt = False
    class_permission_name = PERMISSION
    method_permission_name: ClassVar[dict[str, str]] = {"get_model": "read", "put_model": "write"}
    allow_browser_login = True

    @expose("/model", methods=("GET",))
    @protect()
    @safe
    def get_model(self) -> Response:
        model = load_model()
        if model is None:
            return self.response_404()
        return self.response(200, result=model)

    @expose("/model", methods=("PUT",))
    @protect()
    @safe
    def put_model(self) -> Response:
        from superset import security_manager

        if not security_manager.is_admin():
            return self.response(403, message="publishing the North Star model needs the Admin role")
        if (request.content_length or 0) > MAX_MODEL_BYTES:
            return self.response(413, message="the model is too large")
        model = request.get_json(silent=True)
        problem = _valid(model)
        if problem:
            return self.response(400, message=problem)
        save_model(model)
        return self.response(200, result={"products": len(model["products"])})


def init_northstar(app) -> None:
    """FLASK_APP_MUTATOR: register the page, its API and the menu entry."""
    from superset.extensions import appbuilder

    appbuilder.add_view_no_menu(NorthStarView())
    appbuilder.add_api(NorthStarApi)
    appbuilder.add_link("Metric trees", href="/northstar/", category="North Star", category_label="North Star")
