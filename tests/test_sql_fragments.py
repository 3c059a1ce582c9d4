"""SQL fragments: parsed per dialect, located inside their YAML value, rendered from the tree,
and refused by compile and evaluate when they do not pass in the database they run on."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from helpers import ROOT, TODAY, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from shop import END, EXPECTED, URI_ENV, WEEKS, database, shop, write_project, write_rows  # noqa: F401
from test_compile import ENV, example_bundle

from northstar_spec.spec import loading, scalars, sql_allowlist
from northstar_spec.spec.fragments import DIALECTS, Kind, parse, render
from northstar_spec.spec.pipeline import check
from northstar_spec.spec.schema import load_schema
from northstar_spec.warehouse.evaluate import evaluate
from superset_plugin.compiler.assets import CompileError, compile_bundle

pytestmark = pytest.mark.sqlalchemy


# --- parsing and rendering -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("postgresql", """"event_type" = 'it''s' AND LOWER("plan") IN ('pro', 'team')"""),
        ("sqlite", """`event_type` = 'it''s' AND LOWER(`plan`) IN ('pro', 'team')"""),
        ("mysql", """`Event_Type` = 'it''s' AND LOWER(`plan`) IN ('pro', 'team')"""),  # MySQL columns ignore case
        ("snowflake", """"EVENT_TYPE" = 'it\\'s' AND LOWER("PLAN") IN ('pro', 'team')"""),
    ],
)
def test_a_filter_is_rendered_from_its_tree_for_each_dialect(dialect, expected):
    """Identifiers are folded as the database folds them, then quoted: a name can never be read as a keyword."""
    assert parse("Event_Type = 'it''s' AND lower(plan) in ('pro','team')", Kind.FILTER, dialect).sql() == expected


def test_what_is_rendered_is_the_tree_not_the_text():
    fragment = parse("event_type   =   'order'  OR  user = 'x'", Kind.FILTER, "postgresql")
    assert fragment.sql() == """"event_type" = 'order' OR "user" = 'x'"""  # `user` alone would be CURRENT_USER


def test_the_columns_a_fragment_reads_and_where():
    fragment = parse("amount > 10 AND lower(plan) = 'pro'", Kind.FILTER)
    assert fragment.columns() == (("amount", 0), ("plan", 22))


def test_a_fragment_that_does_not_pass_is_never_rendered():
    fragment = parse("pg_sleep(1) IS NULL", Kind.FILTER, "postgresql")
    assert not fragment.ok
    with pytest.raises(Exception, match="NS706"):
        fragment.sql()


@pytest.mark.parametrize(
    ("text", "dialect", "code"),
    [
        ("x = $1", "postgresql", "NS709"),  # a placeholder in PostgreSQL, a column name in portable SQL
        ("x::regclass IS NOT NULL", "postgresql", "NS706"),
        ("x = @@hostname", "mysql", "NS709"),
        ("x = 'a' # comment", "mysql", "NS705"),
    ],
)
def test_the_same_text_is_read_in_its_database_dialect(text, dialect, code):
    assert [p.code for p in parse(text, Kind.FILTER, dialect).problems] == [code]


def test_every_declarable_dialect_has_a_grammar():
    declared = load_schema("project.schema.json")["$defs"]["database"]["properties"]["dialect"]["enum"]
    assert sorted(declared) == sorted(DIALECTS)
    for dialect in DIALECTS:
        assert parse("SUM(x) / 2.0", Kind.AGGREGATE, dialect).ok, dialect


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("SUM(SUM(seconds)) OVER (ORDER BY MIN(occurred_at))", True),
        ("AVG(SUM(seconds)) OVER (ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)", True),
        ("SUM(seconds) OVER ()", False),  # the window's own function aggregates nothing: seconds is per row
        ("COUNT(*) + 1", True),
        ("seconds / 60", False),
        ("1", False),
    ],
)
def test_sql_is_an_aggregate(text, ok):
    assert parse(text, Kind.AGGREGATE, "postgresql").ok is ok


def test_a_misspelled_column_fails_on_sqlite_instead_of_counting_a_string(tmp_path):
    """SQLite reads a "double-quoted" name that matches no column as a string: backticks never are."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (amount INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1), (2)"))
        text = parse("SUM(amout)", Kind.AGGREGATE, "sqlite").sql()
        assert text == "SUM(`amout`)"
        with pytest.raises(sa.exc.OperationalError, match="no such column: amout"):
            conn.execute(sa.text(f"SELECT {text} FROM t"))
        assert conn.execute(sa.text('SELECT SUM("amout") FROM t')).scalar() == 0  # what double quotes did
    engine.dispose()


# --- where a finding points inside a YAML value -----------------------------------------------------------

STYLES = [None, "'", '"', "|", ">"]


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(alphabet=string.ascii_letters + string.digits + " '\"\\;()=%-_#:,.é€\t", min_size=1, max_size=80),
    style=st.sampled_from(STYLES),
    width=st.sampled_from([20, 80]),
)
def test_every_character_of_a_value_maps_back_to_the_file(value, style, width):
    text = yaml.dump({"f": value}, default_style=style, width=width, allow_unicode=True)
    document, _ = loading.parse(text, "x.yaml")
    assert document is not None and document.data["f"] == value
    lines = scalars.LINE_BREAK.split(text)
    where = scalars.positions(lines, document.spans[("f",)], value)
    assert where is not None, text
    quoted = document.spans[("f",)].style
    for char, (line, col) in zip(value, where):
        found = lines[line][col] if col < len(lines[line]) else "\n"
        # Escapes and folded line breaks are written otherwise; every other character is itself.
        assert found == char or char in " \n\t" or (quoted == '"' and found == "\\"), (value, text, char, found)


def test_a_position_that_cannot_be_told_points_at_the_start_of_the_value(tmp_path):
    """A fragment with nothing but a comment: NS701 has no character to point at, so the value's start."""
    write_project(tmp_path, spread_sql="/* nothing */")
    done = run_cli("validate", "--format", "json", "--today", TODAY.isoformat(), cwd=tmp_path)
    findings = {
        (f["code"], f["location"]["col"]) for f in yaml.safe_load(done.stdout) if f["code"] in ("NS701", "NS705")
    }
    line = next(
        line for line in (tmp_path / "specs" / "corner-shop.yaml").read_text().splitlines() if "nothing" in line
    )
    start = line.index('"') + 1
    assert findings == {("NS705", start + 1), ("NS701", start)}


# --- compile and evaluate refuse what does not pass in the database's dialect --------------------------------


def _specs(tmp_path: Path, **fields) -> tuple:
    write_project(tmp_path, **fields)
    result = check([], project_file=tmp_path / "northstar.yaml", today=TODAY, cwd=tmp_path)
    return result.specs, result.project


def test_compile_refuses_a_hostile_fragment_naming_where_it_is(tmp_path):
    specs, project = _specs(tmp_path, spread_sql="MAX(amount) - pg_read_file('/etc/passwd')::int")
    with pytest.raises(CompileError) as refused:
        compile_bundle(specs, project, {"NORTHSTAR_TEST_SHOP_URI": "postgresql://u@db.example/w"})
    assert re.match(r"specs/corner-shop\.yaml:\d+:\d+: NS706 function PG_READ_FILE", str(refused.value))


def test_compile_reads_fragments_in_the_dialect_of_the_uri(tmp_path):
    """`$1` is a column name to portable SQL (validate passes) and a placeholder to PostgreSQL."""
    write_project(tmp_path, spread_sql="MAX(amount) - MIN($1)")
    env = {"NORTHSTAR_TEST_SHOP_URI": "postgresql://u@db.example/w"}
    done = run_cli("compile", "-o", tmp_path / "out", cwd=tmp_path, env=env)
    assert done.returncode == 2
    line = next(
        n for n, text in enumerate((tmp_path / "specs" / "corner-shop.yaml").read_text().split("\n"), 1) if "$1" in text
    )
    assert re.search(rf"specs/corner-shop\.yaml:{line}:\d+: NS709 a parameter", done.stderr), done.stderr
    assert not (tmp_path / "out").exists()


def test_a_declared_dialect_must_be_the_uri_s(tmp_path):
    write_project(tmp_path)
    project = tmp_path / "northstar.yaml"
    project.write_text(
        project.read_text().replace(
            "uri_env: NORTHSTAR_TEST_SHOP_URI", "uri_env: NORTHSTAR_TEST_SHOP_URI, dialect: mysql"
        )
    )
    done = run_cli(
        "compile", "-o", tmp_path / "out", cwd=tmp_path, env={"NORTHSTAR_TEST_SHOP_URI": "postgresql://u@h/w"}
    )
    assert done.returncode == 2
    assert "declares `dialect: mysql`, but its URI is a postgresql database" in done.stderr


def test_evaluate_reads_fragments_in_the_dialect_of_the_uri(tmp_path):
    """`$1` is a column name to portable SQL (validate passes), a placeholder to PostgreSQL: exit 2, located."""
    uri = write_rows(database("postgresql", tmp_path, "northstar_test_fragments"))
    write_project(tmp_path, spread_sql="MAX(amount) - MIN($1)")
    done = run_cli("evaluate", "--end", END.isoformat(), cwd=tmp_path, env={"NORTHSTAR_TEST_SHOP_URI": uri})
    assert done.returncode == 2
    assert re.search(r"specs/corner-shop\.yaml:\d+:\d+: NS709 a parameter", done.stderr), done.stderr


def test_quotes_percent_signs_and_colons_reach_the_database_as_written(shop, tmp_path):  # noqa: F811
    """What drivers and SQLAlchemy treat specially inside SQL text (`%` for psycopg, `:name` for text())."""
    write_project(tmp_path, spread_sql="SUM(CASE WHEN event_type LIKE 'ord%' AND 'a:b' <> 'it''s' THEN amount END)")
    result = check([], project_file=tmp_path / "northstar.yaml", today=END)
    evaluation = evaluate(result.specs, result.project, periods=4, end=END, environ={URI_ENV: shop})
    spread = next(s for s in evaluation.series if s.metric.id == "amount_spread")
    assert spread.periods == WEEKS and list(spread.values) == EXPECTED["order_value"]


def test_the_golden_dataset_sql_is_the_parsers_rendering():
    """Every metric expression of the example bundle re-renders to itself: it is sqlglot's output, not spec text."""
    bundle = example_bundle(ENV)
    expressions = [m["expression"] for p, d in bundle.files.items() if p.startswith("datasets/") for m in d["metrics"]]
    assert len(expressions) > 20
    for expression in expressions:
        assert parse(expression, Kind.AGGREGATE, "postgresql").sql() == expression
    assert 'COUNT(DISTINCT CASE WHEN "event_type" = \'project_completed\' THEN "team_id" END)' in expressions


# --- documentation ----------------------------------------------------------------------------------------


def test_the_readme_lists_the_allow_list():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sql_allowlist.functions_list() in readme, "README: paste sql_allowlist.functions_list() in its section"
    assert sql_allowlist.forms_list() in readme, "README: paste sql_allowlist.forms_list() in its section"


def test_render_never_emits_comments():
    tree = parse("x = 1", Kind.FILTER).tree
    assert tree is not None
    tree.add_comments(["*/ DROP TABLE t; /*"])
    assert "DROP" not in render(tree, "postgresql")
