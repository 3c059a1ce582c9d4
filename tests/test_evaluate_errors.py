"""What a user sees when the warehouse is not as the spec says: one clear
message naming the spec file, the metric and the cause, exit code 2, never
a traceback and never a password."""

from __future__ import annotations

import os
import re

import pytest
from helpers import run_cli
from shop import END, URI_ENV, shop, write_project  # noqa: F401

# SQL through SQLAlchemy: runs on 2.x (CLI virtualenv) and on 1.4 (Superset's).
pytestmark = pytest.mark.sqlalchemy

PASSWORD = "s3cr3t-Pa55"
COMMANDS = [("evaluate",), ("guardrails",), ("digest",), ("backtest",)]


def _run(folder, uri, *args):
    env = {**os.environ, URI_ENV: uri} if uri is not None else {k: v for k, v in os.environ.items() if k != URI_ENV}
    command = args or ("evaluate", "--end", END.isoformat())
    done = run_cli(*command, cwd=folder, env=env)
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert PASSWORD not in output and "s3cr3t" not in output
    return done


@pytest.mark.parametrize(
    "uri",
    [
        f"postgresql://northstar:{PASSWORD}@127.0.0.1:notaport/warehouse",
        f"not a URI at all {PASSWORD}",
        f"postgresql://northstar:{PASSWORD}@/warehouse?host=127.0.0.1:5432:5433",
    ],
    ids=["bad-port", "not-a-uri", "bad-host"],
)
def test_a_bad_uri_is_named_without_its_password(tmp_path, uri):
    write_project(tmp_path)
    done = _run(tmp_path, uri)
    assert done.returncode == 2
    message = done.stderr.strip()
    assert message.startswith("northstar: specs/corner-shop.yaml:"), message
    assert "source 'shop'" in message and "database 'warehouse'" in message


def test_a_uri_that_does_not_parse_is_explained(tmp_path):
    write_project(tmp_path)
    done = _run(tmp_path, f"not a URI at all {PASSWORD}")
    assert done.stderr.strip() == (
        "northstar: specs/corner-shop.yaml:11:15: source 'shop': database 'warehouse': NORTHSTAR_TEST_SHOP_URI does "
        "not hold a valid SQLAlchemy URI (dialect+driver://user:password@host:port/database)"
    )


def test_an_unknown_dialect_is_named(tmp_path):
    write_project(tmp_path)
    done = _run(tmp_path, f"postgresq://northstar:{PASSWORD}@127.0.0.1/warehouse")
    assert done.returncode == 2
    assert "SQLAlchemy has no dialect 'postgresq'" in done.stderr
    assert "postgresq://northstar:***@127.0.0.1/warehouse" in done.stderr


def test_a_missing_environment_variable_is_named(tmp_path):
    write_project(tmp_path)
    done = _run(tmp_path, None)
    assert done.returncode == 2
    assert "the environment variable NORTHSTAR_TEST_SHOP_URI is not set" in done.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_an_unreachable_database(tmp_path, command):
    """Nothing listens on port 1: every command says which database it could not reach, password masked."""
    write_project(tmp_path)
    done = _run(tmp_path, f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/warehouse", *command)
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr.strip()
    assert message.startswith(
        "northstar: specs/corner-shop.yaml:11:15: source 'shop': cannot connect to database "
        "'warehouse' (NORTHSTAR_TEST_SHOP_URI=postgresql://postgres:***@127.0.0.1:1/warehouse): "
        "OperationalError: "
    ), message
    assert done.stdout == ""


def test_a_missing_table(shop, tmp_path):  # noqa: F811
    write_project(tmp_path, table="no_such_table")
    done = _run(tmp_path, shop)
    assert done.returncode == 2
    message = done.stderr.strip()
    assert message.startswith(
        "northstar: specs/corner-shop.yaml:12:12: source 'shop' (table no_such_table in database 'warehouse'): "
    ), message
    assert re.search(r"no such table: no_such_table|relation \"no_such_table\" does not exist", message), message
    assert message.count("\n") == 0


def test_a_column_that_does_not_exist(shop, tmp_path):  # noqa: F811
    write_project(tmp_path, average_column="amount_typo")
    done = _run(tmp_path, shop)
    assert done.returncode == 2
    message = done.stderr.strip()
    assert message.startswith(
        "northstar: specs/corner-shop.yaml:42:5: metric 'average_order' (source 'shop', "
        "table shop_events in database 'warehouse'): "
    ), message
    assert re.search(r"no such column: amount_typo|column \"amount_typo\" does not exist", message), message
    assert "order_value" not in message  # only the broken metric is named


def test_a_sql_error_in_a_raw_sql_metric(shop, tmp_path):  # noqa: F811
    # Valid SQL to the parser (a syntax error is a validate finding, NS701), an error to the database.
    write_project(tmp_path, spread_sql="SUM(SUM(amount))")
    done = _run(tmp_path, shop)
    assert done.returncode == 2
    message = done.stderr.strip()
    assert message.startswith("northstar: specs/corner-shop.yaml:59:5: metric 'amount_spread' "), message
    assert "aggregate" in message.lower()


def test_a_metric_that_is_not_a_number(shop, tmp_path):  # noqa: F811
    write_project(tmp_path, spread_sql="MAX(event_type)")
    done = _run(tmp_path, shop)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "northstar: specs/corner-shop.yaml:59:5: metric 'amount_spread': the database "
        "returned str 'order', not a number"
    )


def test_an_error_only_the_data_can_raise_is_found(tmp_path):
    """PostgreSQL cannot tell that 'order' is no integer before it reads the rows."""
    from shop import database, write_rows

    uri = write_rows(database("postgresql", tmp_path, "northstar_test_errors"))
    write_project(tmp_path, spread_sql="SUM(CAST(event_type AS INTEGER))")
    done = _run(tmp_path, uri)
    assert done.returncode == 2
    message = done.stderr.strip()
    assert message.startswith("northstar: specs/corner-shop.yaml:59:5: metric 'amount_spread' "), message
    assert 'invalid input syntax for type integer: "' in message
