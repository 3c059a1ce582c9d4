"""The bundle compiler: golden files, determinism, identity, secrets, escaping,
and Superset's own import schemas."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, TODAY, run_cli

from northstar_spec.spec.pipeline import check
from superset_plugin.compiler import naming
from superset_plugin.compiler.assets import CompileError, compile_bundle
from superset_plugin.compiler.bundle import BANNER, Bundle, OutputError
from superset_plugin.deploy import import_schemas

# SQL through SQLAlchemy: runs on 2.x (CLI virtualenv) and on 1.4 (Superset's).
pytestmark = pytest.mark.sqlalchemy

GOLDEN = Path(__file__).parent / "golden" / "bundle"
PASSWORD = "s3cr3t-pa55"
ENV = {"NORTHSTAR_WAREHOUSE_URI": f"postgresql://northstar:{PASSWORD}@warehouse.example:5432/analytics"}


def example_bundle(env=ENV, specs=ROOT / "specs") -> Bundle:
    result = check([specs], project_file=ROOT / "northstar.yaml", today=TODAY)
    assert not result.failed()
    return compile_bundle(result.specs, result.project, env)


def test_bundle_matches_the_golden_files():
    """Regenerate with NORTHSTAR_UPDATE_GOLDEN=1 and review the diff like any other."""
    rendered = example_bundle().rendered()
    if os.environ.get("NORTHSTAR_UPDATE_GOLDEN"):
        for old in GOLDEN.rglob("*.yaml"):
            old.unlink()
        for path, text in rendered.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_text(text, encoding="utf-8")
    golden = {p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8") for p in GOLDEN.rglob("*.yaml")}
    assert sorted(rendered) == sorted(golden)
    for path, text in rendered.items():
        assert text == golden[path], f"{path} differs from its golden file"


def test_recompiling_is_byte_identical():
    assert example_bundle().to_zip() == example_bundle().to_zip()


def test_zip_has_one_root_folder_and_only_yaml():
    with zipfile.ZipFile(__import__("io").BytesIO(example_bundle().to_zip())) as archive:
        names = archive.namelist()
    assert {n.split("/")[0] for n in names} == {naming.BUNDLE_ROOT}
    assert all(n.endswith(".yaml") for n in names)
    assert f"{naming.BUNDLE_ROOT}/metadata.yaml" in names


def test_every_uuid_reference_resolves_inside_the_bundle():
    files = example_bundle().files
    uuids = {
        kind: {d["uuid"] for p, d in files.items() if p.startswith(kind)}
        for kind in ("databases", "datasets", "charts", "dashboards")
    }
    for path, data in files.items():
        if path.startswith("datasets/"):
            assert data["database_uuid"] in uuids["databases"], path
        if path.startswith("charts/"):
            assert data["dataset_uuid"] in uuids["datasets"], path
        if path.startswith("dashboards/"):
            referenced = {
                n["meta"]["uuid"] for n in data["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"
            }
            assert referenced and referenced <= uuids["charts"], path
    used = {
        n["meta"]["uuid"]
        for p, d in files.items()
        if p.startswith("dashboards/")
        for n in d["position"].values()
        if isinstance(n, dict) and n.get("type") == "CHART"
    }
    assert used == uuids["charts"], "every chart sits on a dashboard"


def test_every_chart_metric_is_a_metric_of_its_dataset():
    files = example_bundle().files
    metrics = {
        d["uuid"]: {m["metric_name"] for m in d["metrics"]} for p, d in files.items() if p.startswith("datasets/")
    }
    for path, data in files.items():
        if path.startswith("charts/"):
            names = data["params"].get("metrics") or [data["params"]["metric"]]
            assert set(names) <= metrics[data["dataset_uuid"]], path


def test_renaming_a_metric_keeps_its_chart(tmp_path: Path):
    specs = tmp_path / "specs"
    specs.mkdir()
    text = (ROOT / "specs" / "teamspace.yaml").read_text()
    (specs / "teamspace.yaml").write_text(text.replace("name: Invites accepted", "name: Invitations accepted"))
    before = {
        p: d["uuid"] for p, d in example_bundle(specs=ROOT / "specs" / "teamspace.yaml").files.items() if "uuid" in d
    }
    after_bundle = example_bundle(specs=specs / "teamspace.yaml")
    after = {p: d["uuid"] for p, d in after_bundle.files.items() if "uuid" in d}
    assert before == after
    chart = after_bundle.files["charts/teamspace__input_invites_accepted.yaml"]
    assert chart["slice_name"] == "Breadth: Invitations accepted (Growth squad)"  # the team name, not its id


def test_passwords_never_enter_the_bundle(tmp_path: Path):
    bundle = example_bundle()
    assert bundle.passwords == {"databases/warehouse.yaml": PASSWORD}
    assert PASSWORD not in repr(bundle)
    assert PASSWORD.encode() not in bundle.to_zip()
    assert all(PASSWORD not in text for text in bundle.rendered().values())
    assert (
        bundle.files["databases/warehouse.yaml"]["sqlalchemy_uri"]
        == "postgresql://northstar:XXXXXXXXXX@warehouse.example:5432/analytics"
    )


def test_weeks_start_on_monday_on_sqlite():
    bundle = example_bundle(env={"NORTHSTAR_WAREHOUSE_URI": "sqlite:////tmp/warehouse.db"})
    chart = bundle.files["charts/teamspace__north_star.yaml"]
    assert chart["params"]["time_grain_sqla"] == "1969-12-29T00:00:00Z/P1W"
    cutoff = [f["sqlExpression"] for f in chart["params"]["adhoc_filters"] if f["expressionType"] == "SQL"]
    assert cutoff == ["occurred_at < DATE('now', 'weekday 0', '-6 days')"]


def test_every_chart_leaves_out_the_current_period():
    for path, data in example_bundle().files.items():
        if path.startswith("charts/"):
            filters = data["params"]["adhoc_filters"]
            assert any(
                f["expressionType"] == "SQL" and "DATE_TRUNC('week', CURRENT_DATE)" in f["sqlExpression"]
                for f in filters
            ), path
            time_range = next(f["comparator"] for f in filters if f.get("operator") == "TEMPORAL_RANGE")
            assert time_range.endswith(': DATETRUNC(DATETIME("today"), week)'), path


def test_spec_text_cannot_inject_markup(tmp_path: Path):
    project, specs = tmp_path / "northstar.yaml", tmp_path / "specs"
    specs.mkdir()
    project.write_text((ROOT / "northstar.yaml").read_text())
    evil = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    text = (ROOT / "specs" / "teamspace.yaml").read_text()
    text = text.replace("value_moment: A team completes a project together.", f"value_moment: '{evil}'")
    text = text.replace("name: Invites accepted", "name: '[click](javascript:alert(1)) <b>x</b>'")
    (specs / "teamspace.yaml").write_text(text)
    result = check([specs], project_file=project, today=TODAY)
    bundle = compile_bundle(result.specs, result.project, ENV)
    dashboard = bundle.files["dashboards/teamspace.yaml"]
    code = "\n".join(
        n["meta"]["code"] for n in dashboard["position"].values() if isinstance(n, dict) and n.get("type") == "MARKDOWN"
    )
    assert "<script" not in code and "<img" not in code and "<b>" not in code
    assert "&lt;script&gt;" in code
    assert "](javascript" not in code and "\\[click\\]\\(javascript:alert" in code


def test_missing_database_uri_is_an_environment_error():
    with pytest.raises(CompileError, match="NORTHSTAR_WAREHOUSE_URI is not set"):
        example_bundle(env={})


def test_cli_compile_writes_folder_and_zip(tmp_path: Path):
    env = {**os.environ, **ENV}
    done = run_cli("compile", "-o", tmp_path / "out", cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("compiled 4 specs: 5 dashboards, 46 charts, 4 datasets, 1 databases")
    assert (tmp_path / "out" / "northstar_bundle.zip").is_file()
    assert (tmp_path / "out" / "northstar_bundle" / "dashboards" / "teamspace.yaml").read_text().startswith(BANNER)
    assert PASSWORD not in done.stdout + done.stderr


def test_cli_compile_without_uri_exits_2(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "NORTHSTAR_WAREHOUSE_URI"}
    done = run_cli("compile", "-o", tmp_path, cwd=ROOT, env=env)
    assert done.returncode == 2 and "NORTHSTAR_WAREHOUSE_URI is not set" in done.stderr


def test_cli_compile_refuses_invalid_specs(tmp_path: Path):
    done = run_cli(
        "compile",
        FIXTURES / "invalid" / "NS402-owner-not-a-team.yaml",
        "-o",
        tmp_path,
        env={**os.environ, "FIXTURE_WAREHOUSE_URI": "sqlite://"},
    )
    assert done.returncode == 1 and "NS402" in done.stderr and not any(tmp_path.iterdir())


def test_output_folder_keeps_what_northstar_did_not_write(tmp_path: Path):
    bundle = example_bundle()
    root = tmp_path / naming.BUNDLE_ROOT
    (root / "charts").mkdir(parents=True)
    mine = root / "charts" / "mine.yaml"
    mine.write_text("slice_name: hand-made\n")
    with pytest.raises(OutputError, match="was not written by northstar"):
        bundle.write(tmp_path)
    assert mine.read_text() == "slice_name: hand-made\n"
    mine.unlink()
    stale = root / "charts" / "gone.yaml"
    stale.write_text(BANNER + "slice_name: old\n")
    bundle.write(tmp_path)
    assert not stale.exists() and (root / "charts" / "teamspace__north_star.yaml").exists()


@pytest.mark.superset
def test_superset_import_schemas_accept_every_file():
    """Loads each generated file through the apache-superset v1 import schemas."""
    assert import_schemas.check(example_bundle()) == []


@pytest.mark.superset
def test_superset_import_schemas_name_what_they_reject():
    bundle = example_bundle()
    chart = bundle.files["charts/teamspace__north_star.yaml"]
    chart["owners"] = [1]
    chart["query_context"] = {"not": "a string"}
    problems = import_schemas.check(bundle)
    assert len(problems) == 1 and problems[0].startswith("charts/teamspace__north_star.yaml: ValidationError")
    assert "owners" in problems[0] and "query_context" in problems[0]
