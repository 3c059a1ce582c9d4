"""Valid means it works: `northstar validate` runs every installed target's
compiler to nowhere (NS901), and the malformed specs that used to pass
(numbers, ids, history) stop every command at validation, located, never
with an internal error."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, TODAY, run_cli, run_installed

INVALID = FIXTURES / "invalid"
URI_ENV = "FIXTURE_WAREHOUSE_URI"


def env_with(**values: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != URI_ENV}
    env.update({k: v for k, v in values.items() if v is not None})
    return env


def codes(done) -> list[tuple[str, str, int, int]]:
    return [
        (f["code"], Path(f["location"]["file"]).name, f["location"]["line"], f["location"]["col"])
        for f in json.loads(done.stdout)
    ]


@pytest.fixture
def two_time_columns(tmp_path) -> Path:
    """Two specs reading one table by two time columns: a project of their own."""
    shutil.copytree(INVALID / "NS407-two-specs-one-table-two-time-columns", tmp_path / "specs")
    (tmp_path / "northstar.yaml").write_bytes((FIXTURES / "northstar.yaml").read_bytes())
    return tmp_path


def test_the_compiler_runs_offline_with_a_placeholder_uri():
    """No URI in the environment: the examples still compile to nowhere, and validate."""
    done = run_cli("validate", "--today", TODAY.isoformat(), cwd=ROOT, env=env_with())
    assert (done.returncode, done.stdout.strip()) == (0, "4 specs valid"), done.stdout + done.stderr


def test_what_only_the_compiler_knows_is_a_located_finding(two_time_columns):
    """With NS407 off, the Superset compiler still refuses the second time column, at it."""
    project = two_time_columns / "northstar.yaml"
    project.write_text(project.read_text() + "rules: {one-time-column-per-table: off}\n")
    done = run_cli("validate", "--format", "json", "--today", TODAY.isoformat(), cwd=two_time_columns)
    assert done.returncode == 1
    assert codes(done) == [("NS901", "b.yaml", 10, 61)]
    (finding,) = json.loads(done.stdout)
    assert finding["message"].startswith("the Superset compiler refuses: source 'events' reads events by 'created_at'")


def test_lint_says_it_first_and_the_compiler_does_not_repeat_it(two_time_columns):
    done = run_cli("validate", "--format", "json", "--today", TODAY.isoformat(), cwd=two_time_columns)
    assert codes(done) == [("NS407", "b.yaml", 10, 61)]


def test_an_unusable_uri_is_found_by_validate_at_its_declaration():
    secret = "pa55word-never-shown"
    done = run_cli(
        "validate",
        FIXTURES / "valid" / "minimal.yaml",
        "--format",
        "json",
        "--today",
        TODAY.isoformat(),
        env=env_with(FIXTURE_WAREHOUSE_URI=f"warehouse.example:{secret}@db"),
    )
    assert done.returncode == 1 and secret not in done.stdout + done.stderr
    assert codes(done) == [("NS901", "northstar.yaml", 9, 24)]
    assert "FIXTURE_WAREHOUSE_URI is not a usable SQLAlchemy URI" in done.stdout


@pytest.mark.installed_cli
def test_the_installed_cli_finds_the_superset_check_by_entry_point():
    """The wheel registers the check under `northstar.checks`; validate never imports superset_plugin itself."""
    done = run_installed(
        "validate",
        FIXTURES / "valid" / "minimal.yaml",
        "--today",
        TODAY,
        env=env_with(FIXTURE_WAREHOUSE_URI="not a uri"),
    )
    assert done.returncode == 1 and "NS901 error the Superset compiler refuses" in done.stdout, done.stdout


# --- the malformed specs of issue 12, through the commands that used to take them --------------------------


CASES = {
    "NS017-400-digit-target.yaml": "NS017",  # compile and digest died with "internal error: OverflowError"
    "NS017-nan-target.yaml": "NS017",  # deployed, and the chart showed "Data error"
    "NS017-infinite-threshold.yaml": "NS017",
    "NS304-min-above-max.yaml": "NS304",
    "NS405-outcome-reuses-north-star-id.yaml": "NS405",  # evaluate printed the outcome in the North Star's row
    "NS204-input-is-the-north-star.yaml": "NS204",
    "NS603-history-retires-the-current-north-star.yaml": "NS603",
    "NS802-denominator-filter-contradicts-itself.yaml": "NS802",
    "NS801-negative-max-on-a-count.yaml": "NS801",
}


@pytest.mark.parametrize("fixture", sorted(CASES))
@pytest.mark.parametrize("command", [("compile", "-o", "out"), ("digest",), ("evaluate",), ("tree",), ("deploy",)])
def test_a_malformed_spec_stops_every_command_at_validation(tmp_path, fixture, command):
    args = [*command, INVALID / fixture]
    if command[0] == "tree":
        args = ["tree", INVALID / fixture]
    env = env_with(FIXTURE_WAREHOUSE_URI="sqlite://", SUPERSET_URL="http://127.0.0.1:1", SUPERSET_USERNAME="x")
    env["SUPERSET_PASSWORD"] = "x"
    done = run_cli(*args, "--project", FIXTURES / "northstar.yaml", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f" {CASES[fixture]} error " in done.stderr and "internal error" not in done.stderr
    assert not (tmp_path / "out").exists()
