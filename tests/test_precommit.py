"""northstar in a spec repository's checks: as a pre-commit hook, run by the
real pre-commit, and in the CI workflow that `northstar init` writes.

`.pre-commit-hooks.yaml` says `language: python`: for a user, pre-commit
installs northstar from the repository into a virtualenv of its own. That
needs the network, which tests do not have; so the run here uses a copy of
the manifest in a throwaway hook repository with `language: system`, which
runs the `northstar` already installed next to this interpreter. Everything
else (ids, entries, the files that trigger a hook, pass_filenames) comes from
the manifest itself, through pre-commit's own clone, parse and run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, northstar_executable
from release import git

MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def pre_commit() -> str:
    script = Path(sys.executable).parent / "pre-commit"
    if not script.exists():
        pytest.fail(f"pre-commit is not installed in {script.parent}: install the `test` extra")
    return str(script)


def hooks() -> dict[str, dict]:
    return {hook["id"]: hook for hook in yaml.safe_load(MANIFEST.read_text())}


def test_pre_commit_accepts_the_manifest():
    done = subprocess.run([pre_commit(), "validate-manifest", str(MANIFEST)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_manifest_defines_both_hooks():
    found = hooks()
    assert {k: (h["entry"], h["language"], h["pass_filenames"]) for k, h in found.items()} == {
        "northstar-validate": ("northstar validate", "python", False),
        "northstar-codeowners": ("northstar codeowners --check", "python", False),
    }
    for path in ("northstar.yaml", "specs/teamspace.yaml", "metrics/specs/a.yml"):
        assert all(re.search(h["files"], path) for h in found.values()), path
    assert not any(re.search(h["files"], "README.md") for h in found.values())
    assert re.search(found["northstar-codeowners"]["files"], ".github/CODEOWNERS")


@pytest.fixture
def spec_repo(tmp_path: Path) -> tuple[Path, dict]:
    """A spec repository whose .pre-commit-config.yaml uses a hook repository made from the manifest."""
    hook_repo = tmp_path / "hooks"
    hook_repo.mkdir()
    manifest = MANIFEST.read_text()
    assert manifest.count("language: python") == len(hooks())
    (hook_repo / ".pre-commit-hooks.yaml").write_text(manifest.replace("language: python", "language: system"))
    git(hook_repo, "init", "-q")
    git(hook_repo, "add", "-A")
    git(hook_repo, "commit", "-qm", "hooks")
    rev = git(hook_repo, "rev-parse", "HEAD").strip()

    repo = tmp_path / "metrics"
    repo.mkdir()
    shutil.copy(ROOT / "northstar.yaml", repo / "northstar.yaml")
    shutil.copytree(ROOT / "specs", repo / "specs")
    config = {
        "repos": [
            {
                "repo": str(hook_repo),
                "rev": rev,
                "hooks": [{"id": "northstar-validate"}, {"id": "northstar-codeowners"}],
            }
        ]
    }
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(repo, "init", "-q")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PATH": f"{Path(northstar_executable()).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run([northstar_executable(), "codeowners"], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return repo, env


def run_hooks(repo: Path, env: dict) -> subprocess.CompletedProcess:
    git(repo, "add", "-A")
    return subprocess.run(
        [pre_commit(), "run", "--all-files", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_hooks_pass_on_valid_specs(spec_repo):
    repo, env = spec_repo
    done = run_hooks(repo, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^northstar validate\.+Passed$", done.stdout, re.M), done.stdout
    assert re.search(r"^northstar codeowners\.+Passed$", done.stdout, re.M), done.stdout


def test_hooks_fail_with_located_findings(spec_repo):
    repo, env = spec_repo
    spec = repo / "specs" / "teamspace.yaml"
    lines = spec.read_text().split("\n")
    row = next(i for i, line in enumerate(lines) if line == "    owner: growth")
    lines[row] = "    owner: grwoth"
    spec.write_text("\n".join(lines))
    done = run_hooks(repo, env)
    assert done.returncode == 1
    assert re.search(r"^northstar validate\.+Failed$", done.stdout, re.M), done.stdout
    assert f"specs/teamspace.yaml:{row + 1}:12: NS402 error metric " in done.stdout
    assert "hint: did you mean 'growth'?" in done.stdout


def test_hooks_fail_when_codeowners_is_stale(spec_repo):
    repo, env = spec_repo
    spec = repo / "specs" / "teamspace.yaml"
    spec.write_text(spec.read_text().replace("owner: activation-squad", "owner: growth"))
    done = run_hooks(repo, env)
    assert done.returncode == 1
    assert re.search(r"^northstar validate\.+Passed$", done.stdout, re.M), done.stdout
    assert re.search(r"^northstar codeowners\.+Failed$", done.stdout, re.M), done.stdout
    assert "-/specs/teamspace.yaml @northstar-demo/activation" in done.stdout


def test_the_workflow_init_writes(tmp_path: Path):
    """A valid GitHub workflow (check-jsonschema's copy of its schema) that runs the whole review loop."""
    assert subprocess.run([northstar_executable(), "init", str(tmp_path)], capture_output=True).returncode == 0
    workflow = tmp_path / ".github" / "workflows" / "northstar.yml"
    checker = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(workflow)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    review = "\n".join(str(step.get("run", "")) for step in jobs["review"]["steps"])
    assert 'northstar validate --format github --base "$BASE"' in review
    assert 'northstar diff --base "$BASE" --format markdown' in review
    assert "northstar codeowners --check" in review
    assert jobs["review"]["env"]["BASE"] == "origin/${{ github.base_ref }}"
    assert any(step.get("uses", "").startswith("actions/github-script@") for step in jobs["review"]["steps"])
    (deploy,) = [step for step in jobs["deploy"]["steps"] if step.get("run") == "northstar deploy"]
    assert set(deploy["env"]) == {"SUPERSET_URL", "SUPERSET_USERNAME", "SUPERSET_PASSWORD", "NORTHSTAR_WAREHOUSE_URI"}
    assert all(value.startswith("${{ secrets.") for value in deploy["env"].values())
    assert jobs["deploy"]["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
