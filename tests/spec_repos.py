"""Spec repositories made for a test: several projects sharing one Superset."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from helpers import ROOT, run_cli

from superset_plugin.deploy.client import SupersetClient

EXAMPLES = ("acme-invoicing", "staybnb", "teamspace", "tunewave")


def spec_repo(
    folder: Path,
    project: str,
    specs: tuple[str, ...] = EXAMPLES,
    *,
    database: str = "warehouse",
    products: dict[str, str] | None = None,
) -> Path:
    """A copy of the example repository as project `project`, with some of its specs.

    `database` renames the declared database (a project of its own in Superset
    gets its own database and datasets that way); `products` renames product ids
    (example id -> new id), so one spec can be deployed by several projects.
    """
    folder.mkdir(parents=True, exist_ok=True)
    project_file = (ROOT / "northstar.yaml").read_text(encoding="utf-8")
    project_file = re.sub(r"(?m)^project: .*$", f"project: {project}", project_file)
    project_file = project_file.replace("\n  warehouse:\n", f"\n  {database}:\n")
    (folder / "northstar.yaml").write_text(project_file, encoding="utf-8")
    (folder / "specs").mkdir(exist_ok=True)
    for name in specs:
        text = (ROOT / "specs" / f"{name}.yaml").read_text(encoding="utf-8")
        text = text.replace("database: warehouse\n", f"database: {database}\n")
        new_id = (products or {}).get(name)
        if new_id:
            text = text.replace(f"\n  id: {name}\n", f"\n  id: {new_id}\n")
        (folder / "specs" / f"{new_id or name}.yaml").write_text(text, encoding="utf-8")
    return folder


def deploy_env(url: str, username: str, password: str, warehouse_uri: str) -> dict[str, str]:
    return {
        **os.environ,
        "NORTHSTAR_WAREHOUSE_URI": warehouse_uri,
        "SUPERSET_URL": url,
        "SUPERSET_USERNAME": username,
        "SUPERSET_PASSWORD": password,
    }


def run_in(repo: Path, env: dict[str, str], *args: object):
    """`northstar ARGS` in a spec repository, in this process."""
    return run_cli(*args, cwd=repo, env=env)


def example_repo(folder: Path) -> Path:
    """A copy of this repository's northstar.yaml and specs/, so a test can change or delete specs."""
    shutil.copy(ROOT / "northstar.yaml", folder / "northstar.yaml")
    shutil.copytree(ROOT / "specs", folder / "specs")
    return folder


def client_for(server) -> SupersetClient:
    """A client logged in as the test Superset's admin."""
    return SupersetClient(server.url, username=server.username, password=server.password)


def run_deploy(server, repo: Path, uri: str, *args: str, password: str | None = None):
    """`northstar ARGS` in `repo` against the test Superset, reading the warehouse at `uri`."""
    return run_in(repo, deploy_env(server.url, server.username, password or server.password, uri), *args)
