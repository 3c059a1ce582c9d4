"""Specs on a dbt project, offline: the manifest and catalog of a small real
dbt project (tests/fixtures/dbt, see its README) are all there is; no
warehouse and no credentials.

Also covered by the invalid fixtures NS910 to NS913 (tests/fixtures/invalid).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, TODAY, run_cli

from northstar_spec.spec.pipeline import check

DBT = FIXTURES / "dbt"


@pytest.fixture
def scaffolded(tmp_path: Path) -> Path:
    """`northstar init --from-dbt` on a copy of the dbt project's target folder."""
    shutil.copytree(DBT, tmp_path / "dbt" / "target")
    done = run_cli("init", tmp_path / "metrics", "--from-dbt", tmp_path / "dbt", "--product", "Acme Collab")
    assert done.returncode == 0, done.stderr
    return tmp_path / "metrics"


def _offline() -> dict:
    return {k: v for k, v in os.environ.items() if not k.endswith("_URI")}


def test_init_from_dbt_writes_specs_that_validate(scaffolded: Path):
    spec = (scaffolded / "specs" / "acme-collab.yaml").read_text()
    assert "    dbt_model: collab_events\n    time_column: occurred_at\n" in spec
    assert "metricflow_time_spine" not in spec  # a calendar, not a source of events
    assert "dbt:\n  manifest: ../dbt/target/manifest.json\n" in (scaffolded / "northstar.yaml").read_text()
    done = run_cli("validate", "--today", TODAY.isoformat(), cwd=scaffolded, env=_offline())
    assert (done.returncode, done.stdout.strip()) == (0, "1 spec valid"), done.stdout + done.stderr


def test_a_misspelled_column_is_a_located_finding_offline(scaffolded: Path):
    spec = scaffolded / "specs" / "acme-collab.yaml"
    text = spec.read_text()
    spec.write_text(text.replace("column: event_id}", "column: evnt_id}", 1))
    line = next(n for n, row in enumerate(spec.read_text().splitlines(), 1) if "evnt_id" in row)
    done = run_cli("validate", "--today", TODAY.isoformat(), cwd=scaffolded, env=_offline())
    assert done.returncode == 1
    column = spec.read_text().splitlines()[line - 1].index("evnt_id") + 1
    assert done.stdout.startswith(
        f"specs/acme-collab.yaml:{line}:{column}: NS912 error 'evnt_id' is not a column of the dbt model "
        "'collab_events' (analytics.collab_events_v1) [dbt-column-exists]\n    hint: did you mean 'event_id'?"
    ), done.stdout


def test_a_source_reads_the_relation_its_model_builds(scaffolded: Path):
    result = check([], project_file=scaffolded / "northstar.yaml", today=TODAY)
    assert not result.failed(), result.diagnostics
    source = result.specs[0].sources["collab_events"]
    assert (source.schema, source.table, source.dbt_model) == ("analytics", "collab_events_v1", "collab_events")


def test_without_a_catalog_undocumented_columns_are_not_guessed(scaffolded: Path, tmp_path: Path):
    (tmp_path / "dbt" / "target" / "catalog.json").unlink()
    done = run_cli("validate", "--today", TODAY.isoformat(), cwd=scaffolded, env=_offline())
    assert done.returncode == 0, done.stdout  # the manifest documents 2 of 4 columns, and enforces no contract


def test_a_manifest_that_is_not_one_is_located_at_the_project_file(scaffolded: Path, tmp_path: Path):
    (tmp_path / "dbt" / "target" / "manifest.json").write_text(json.dumps({"nodes": {}, "metadata": {}}))
    done = run_cli("validate", cwd=scaffolded, env=_offline())
    assert done.returncode == 1
    assert done.stdout.startswith("northstar.yaml:") and "NS910 error" in done.stdout
    assert "a dbt manifest of version unknown" in done.stdout
    (tmp_path / "dbt" / "target" / "manifest.json").write_text("{not json")
    done = run_cli("validate", cwd=scaffolded, env=_offline())
    assert done.returncode == 1 and "NS910 error the dbt manifest" in done.stdout and "Traceback" not in done.stderr


def test_a_dbt_model_without_a_dbt_project_is_a_finding(scaffolded: Path):
    project = scaffolded / "northstar.yaml"
    project.write_text(project.read_text().split("# The dbt project")[0])
    done = run_cli("validate", cwd=scaffolded, env=_offline())
    assert done.returncode == 1 and "NS911 error source 'collab_events' names the dbt model" in done.stdout


def test_init_from_dbt_needs_a_catalog_and_a_manifest(tmp_path: Path):
    (tmp_path / "dbt" / "target").mkdir(parents=True)
    shutil.copy(DBT / "manifest.json", tmp_path / "dbt" / "target" / "manifest.json")
    done = run_cli("init", tmp_path / "metrics", "--from-dbt", tmp_path / "dbt")
    assert done.returncode == 2 and "run `dbt docs generate`" in done.stderr
    assert not (tmp_path / "metrics").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli("init", tmp_path / "other", "--from-dbt", empty)
    assert done.returncode == 2 and "has no target/manifest.json" in done.stderr


def test_the_north_star_is_the_dbt_metric_and_stays_in_step(scaffolded: Path):
    """init --from-dbt takes the dbt metric as the North Star, by name and definition; NS913 flags a drift."""
    spec = scaffolded / "specs" / "acme-collab.yaml"
    text = spec.read_text()
    assert "  id: weekly_active_teams\n" in text and "  filter: \"event_type = 'project_completed'\"\n" in text
    spec.write_text(text.replace("'project_completed'", "'team_created'"))
    done = run_cli("validate", "--today", TODAY.isoformat(), cwd=scaffolded, env=_offline())
    assert done.returncode == 0
    assert "NS913 warning metric 'weekly_active_teams' computes count_distinct(team_id) where event_type = " in (
        done.stdout
    )
