"""`northstar validate --warehouse`: every metric run on real SQLite and
PostgreSQL over the last day; what fails is a finding at the line and column
of the table, the column or the fragment, never a traceback; a database user
that can write is a warning."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import run_cli
from shop import END, SPEC, URI_ENV, database, write_project, write_rows

from northstar_spec.spec.pipeline import check
from northstar_spec.warehouse.engines import Warehouses, write_access
from northstar_spec.warehouse.preflight import preflight

pytestmark = pytest.mark.sqlalchemy


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def warehouse(request, tmp_path_factory) -> str:
    """The corner shop's rows in a database of this module's own (other modules drop theirs)."""
    return write_rows(database(request.param, tmp_path_factory.mktemp("preflight"), "northstar_test_preflight"))


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based line and column of the `occurrence`-th `needle` in `text`."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def validate(folder: Path, uri: str | None, *args: str):
    env = {**os.environ, URI_ENV: uri} if uri else {k: v for k, v in os.environ.items() if k != URI_ENV}
    done = run_cli(
        "validate", "--warehouse", "--today", END.isoformat(), "--format", "json", *args, cwd=folder, env=env
    )
    assert "Traceback" not in done.stderr
    return done


def findings(done, *codes: str) -> list[tuple[str, int, int]]:
    """(code, line, col) of the findings, of the given codes only when given (the shop has an overdue review)."""
    return [
        (f["code"], f["location"]["line"], f["location"]["col"])
        for f in json.loads(done.stdout)
        if f["code"] != "NS502" and (not codes or f["code"] in codes)
    ]


def errors(done) -> list[tuple[str, int, int]]:
    """The warehouse's findings about the specs (not about who may write)."""
    return findings(done, "NS902", "NS903", "NS904", "NS905")


def spec_with(old: str, new: str) -> str:
    assert SPEC.count(old) == 1, old
    return SPEC.replace(old, new)


def test_the_shop_runs_clean(tmp_path, warehouse):
    write_project(tmp_path)
    done = validate(tmp_path, warehouse)
    assert done.returncode == 0, done.stdout + done.stderr
    assert errors(done) == []


def test_a_misspelled_measure_column_is_found_at_the_column(tmp_path, warehouse):
    spec = write_project(tmp_path, average_column="amuont")
    done = validate(tmp_path, warehouse)
    assert done.returncode == 1
    assert errors(done) == [("NS903", *position(spec.read_text(), "amuont"))]
    (finding,) = [f for f in json.loads(done.stdout) if f["code"] == "NS903"]
    assert finding["message"].startswith("metric 'average_order' fails on table shop_events in database 'warehouse'")
    assert "amuont" in finding["message"]


def test_a_misspelled_column_in_a_filter_is_named(tmp_path, warehouse):
    text = spec_with("filter: \"event_type = 'visit'\"\n    lever", "filter: \"event_typ = 'visit'\"\n    lever")
    spec = write_project(tmp_path, spec=text)
    done = validate(tmp_path, warehouse)
    assert done.returncode == 1
    line, col = position(spec.read_text(), "event_typ = 'visit'")  # at the column, inside the filter
    assert errors(done) == [("NS903", line, col)]
    (finding,) = [f for f in json.loads(done.stdout) if f["code"] == "NS903"]
    assert "column 'event_typ' in this filter" in finding["message"], finding["message"]


def test_a_missing_table(tmp_path, warehouse):
    spec = write_project(tmp_path, table="shop_event")
    done = validate(tmp_path, warehouse)
    assert done.returncode == 1
    assert errors(done) == [("NS902", *position(spec.read_text(), "shop_event\n"))]


def test_a_time_column_that_does_not_exist(tmp_path, warehouse):
    spec = write_project(tmp_path, spec=spec_with("time_column: occurred_at", "time_column: occured_at"))
    done = validate(tmp_path, warehouse)
    assert done.returncode == 1
    assert errors(done) == [("NS903", *position(spec.read_text(), "occured_at"))]


def test_a_sql_error_in_a_raw_sql_metric(tmp_path, warehouse):
    """SQL that passes the fragment check offline, but no database runs: aggregates inside aggregates."""
    spec = write_project(tmp_path, spread_sql="SUM(SUM(amount))")
    done = validate(tmp_path, warehouse)
    assert done.returncode == 1
    assert errors(done) == [("NS904", *position(spec.read_text(), '"SUM(SUM(amount))"'))]


def test_a_metric_that_is_not_a_number(tmp_path, warehouse):
    spec = write_project(tmp_path, spread_sql="MAX(event_type)")
    done = validate(tmp_path, warehouse)
    assert done.returncode == 1
    assert errors(done) == [("NS904", *position(spec.read_text(), '"MAX(event_type)"'))]
    assert "not a number" in done.stdout


def test_an_error_only_the_data_raises(tmp_path):
    """PostgreSQL cannot tell that 'visit' is no integer before it reads the last day's row."""
    uri = write_rows(database("postgresql", tmp_path, "northstar_test_preflight_data"))
    spec = write_project(tmp_path, spread_sql="SUM(CAST(event_type AS INTEGER))")
    done = validate(tmp_path, uri)
    assert done.returncode == 1
    assert errors(done) == [("NS904", *position(spec.read_text(), '"SUM(CAST'))]
    assert 'invalid input syntax for type integer: \\"visit\\"' in done.stdout


def test_a_denominator_that_is_always_zero_is_a_warning(tmp_path, warehouse):
    text = spec_with(
        "denominator: {{measure: {{aggregate: count}}, filter: \"event_type = 'visit'\"}}",
        "denominator: {{measure: {{aggregate: count}}, filter: \"event_type = 'visits'\"}}",
    )
    spec = write_project(tmp_path, spec=text)
    done = validate(tmp_path, warehouse)
    assert done.returncode == 0, done.stdout
    assert errors(done) == [
        ("NS905", *position(spec.read_text(), "{measure: {aggregate: count}, filter: \"event_type = 'visits'"))
    ]
    assert "from 2026-08-24 to 2026-11-15 (12 weeks)" in done.stdout


def test_an_unreachable_database_is_an_environment_error(tmp_path):
    write_project(tmp_path)
    done = validate(tmp_path, "postgresql://postgres:s3cr3t@127.0.0.1:1/warehouse")
    assert done.returncode == 2 and "cannot connect to database 'warehouse'" in done.stderr
    assert "s3cr3t" not in done.stderr and done.stdout == ""
    unset = validate(tmp_path, None)
    assert unset.returncode == 2 and f"the environment variable {URI_ENV} is not set" in unset.stderr


def test_the_warehouse_is_not_run_for_specs_with_errors(tmp_path, warehouse):
    """Lint first: a spec with errors is not run, so the warehouse never sees a refused fragment."""
    spec = write_project(tmp_path, spec=spec_with("owner: sales\n  - id: visit", "owner: saless\n  - id: visit"))
    done = validate(tmp_path, warehouse)
    assert done.returncode == 1 and [code for code, *_ in findings(done)] == ["NS402"], spec


# --- who may write ----------------------------------------------------------------------------------------


def test_a_sqlite_file_is_opened_read_only_so_its_write_permission_is_no_warning(tmp_path):
    """northstar opens SQLite files mode=ro with query_only (engines.py): a writable file is no risk."""
    uri = write_rows(database("sqlite", tmp_path, "shop"))
    write_project(tmp_path)
    assert findings(validate(tmp_path, uri)) == []
    read_only = f"sqlite:///file:{tmp_path / 'shop.db'}?mode=ro&uri=true"
    assert findings(validate(tmp_path, read_only)) == []


@pytest.fixture
def reader(tmp_path):
    """A fresh PostgreSQL database with the shop's rows and a role that may only read them."""
    uri = write_rows(database("postgresql", tmp_path, "northstar_test_preflight_reader"))
    role = f"northstar_reader_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(uri, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(sa.text(f"GRANT SELECT ON shop_events TO {role}"))
    try:
        yield uri, sa.engine.make_url(uri).set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()


def test_postgresql_users_that_can_write_and_one_that_cannot(tmp_path, reader):
    owner, read_only = reader
    write_project(tmp_path)
    superuser = findings(validate(tmp_path, owner))
    assert superuser == [("NS906", *position((tmp_path / "northstar.yaml").read_text(), "warehouse: "))]
    assert findings(validate(tmp_path, read_only)) == []

    project = check([], project_file=tmp_path / "northstar.yaml")
    with Warehouses(project.project, {URI_ENV: read_only}) as warehouses:
        assert write_access(warehouses.get("warehouse"), ["shop_events"]) == []
    admin = sa.create_engine(owner, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        role = sa.engine.make_url(read_only).username
        conn.execute(sa.text(f"GRANT INSERT ON shop_events TO {role}"))
        conn.execute(sa.text(f"GRANT CREATE ON SCHEMA public TO {role}"))
    admin.dispose()
    with Warehouses(project.project, {URI_ENV: read_only}) as warehouses:
        assert write_access(warehouses.get("warehouse"), ["shop_events"]) == [
            f"{role} can INSERT on shop_events",
            f"{role} can create tables in schema public",
        ]


def test_the_library_call(tmp_path, warehouse):
    """What the CLI and deploy call: findings only, for valid specs."""
    write_project(tmp_path, average_column="amuont")
    result = check([], project_file=tmp_path / "northstar.yaml")
    found = preflight(result.specs, result.project, environ={URI_ENV: warehouse}, end=END)
    assert [d.code for d in found if d.code != "NS906"] == ["NS903"]


def test_a_candidate_and_a_dimension_the_table_lacks_are_found_where_they_are_written(tmp_path, warehouse):
    text = spec_with(
        "    time_column: occurred_at\n",
        "    time_column: occurred_at\n    dimensions: [event_type, region]\n    unit: customer_id\n",
    ).replace(
        "review:\n",
        "candidates:\n"
        "  - id: big_orders\n"
        "    name: Big orders\n"
        "    source: shop\n"
        "    measure: {{aggregate: sum, column: amonut}}\n"
        "retained:\n"
        "  source: shop\n"
        "  filter: \"event_typ = 'order'\"\n"
        "review:\n",
        1,
    )
    spec = write_project(tmp_path, spec=text)
    done = validate(tmp_path, warehouse)
    assert done.returncode == 1, done.stdout
    written = spec.read_text()
    assert sorted(errors(done)) == sorted(
        [
            ("NS903", *position(written, "amonut")),
            ("NS903", *position(written, "region")),
            ("NS903", *position(written, "\"event_typ = 'order'\"")),  # at the filter
        ]
    )
    messages = [f["message"] for f in json.loads(done.stdout) if f["code"] == "NS903"]
    assert any(m.startswith("source 'shop': dimension 'region' fails on table shop_events") for m in messages)
    assert any(m.startswith("source 'shop': the `retained:` filter fails") for m in messages)
