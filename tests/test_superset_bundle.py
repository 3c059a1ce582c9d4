"""The compiled bundle in a real Superset 6.1: imported through the assets API,
every chart's numbers checked against plain SQL on the same warehouse, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import oracle
import pytest
import sqlalchemy as sa
from helpers import ROOT
from warehouses import demo_warehouse, postgres_uri, sqlite_warehouse

from northstar_spec.spec.pipeline import check
from superset_plugin.compiler import naming
from superset_plugin.compiler.assets import compile_bundle
from superset_plugin.deploy.client import SupersetClient

pytestmark = pytest.mark.superset


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@pytest.fixture(scope="module")
def specs():
    result = check([ROOT / "specs"], project_file=ROOT / "northstar.yaml")
    assert not result.failed()
    return result


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def warehouse(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return sqlite_warehouse(tmp_path_factory.mktemp("warehouse"))
    return demo_warehouse(postgres_uri("northstar_test_bundle"))


def test_every_chart_shows_the_numbers_plain_sql_computes(superset, specs, warehouse):
    bundle = compile_bundle(specs.specs, specs.project, {"NORTHSTAR_WAREHOUSE_URI": warehouse})
    client = SupersetClient(superset.url, username=superset.username, password=superset.password)
    client.import_assets(bundle.to_zip(), bundle.passwords)

    metrics = {m.id: (spec, m) for spec in specs.specs for m in spec.metrics}
    this_week = _monday(dt.date.today())
    engine = sa.create_engine(warehouse)
    checked = 0
    with engine.connect() as conn:
        for path, data in sorted(bundle.files.items()):
            if not path.startswith("charts/"):
                continue
            chart = client.find_by_uuid("chart", data["uuid"])
            assert chart is not None, f"{path} was not imported"
            payload = client.chart_data(chart["id"])
            rows = payload["result"][0]["data"]
            metric_id = data["params"].get("metric") or data["params"]["metrics"][0]
            spec, metric = metrics[metric_id.removesuffix(naming.TARGET_SHARE)]
            source = spec.sources[metric.source]
            if data["viz_type"] == "big_number_total":  # a value now (or its share of target): the last complete week
                week = this_week - dt.timedelta(days=7)
                expected = oracle.value(conn, source, metric, week, this_week)
                if metric_id.endswith(naming.TARGET_SHARE):
                    expected = expected / metric.target.value
                assert len(rows) == 1 and oracle.same(rows[0][metric_id], expected), f"{path}: {rows} != {expected}"
                checked += 1
                continue
            expected_weeks = 26 if data["viz_type"] == "big_number" else 52
            weeks = [dt.datetime.fromtimestamp(r[source.time_column] / 1000, dt.timezone.utc).date() for r in rows]
            assert all(w.weekday() == 0 for w in weeks), f"{path}: weeks must start on Monday: {weeks[:3]}"
            assert max(weeks) == this_week - dt.timedelta(days=7), f"{path}: the current week must be left out"
            assert len(weeks) == expected_weeks, f"{path}: {len(weeks)} weeks"
            for week, row in zip(weeks, rows):
                expected = oracle.value(conn, source, metric, week, week + dt.timedelta(days=7))
                assert oracle.same(row[metric_id], expected), f"{path} {week}: {row[metric_id]} != {expected}"
                checked += 1
    engine.dispose()
    assert checked > 35 * 26
