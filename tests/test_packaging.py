"""What `pip install` gives: a wheel that carries its schemas and templates, a
CLI that needs no Superset, and a `[superset]` extra that brings Superset 6.1."""

from __future__ import annotations

import email
import importlib.util
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sqlalchemy
from helpers import ROOT, TODAY, run_cli, run_installed

import northstar_spec


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("northstar_spec-*.whl"))


def test_wheel_ships_schemas_identical_to_the_source(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        for name in ("northstar.schema.json", "project.schema.json"):
            packaged = json.loads(archive.read(f"northstar_spec/schemas/{name}"))
            assert packaged == json.loads((ROOT / "schemas" / name).read_text())
        names = archive.namelist()
    assert "northstar_spec/templates/spec.yaml" in names
    assert "superset_plugin/__init__.py" in names
    assert not any(n.startswith("tests/") for n in names)


def test_wheel_requires_only_the_cli_dependencies(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith("METADATA"))).decode()
    required = sorted(
        line.split(":", 1)[1].strip().split(">")[0].split("<")[0].split("=")[0].split(";")[0].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    )
    assert required == ["click", "jsonschema", "jsonschema-rs", "pyyaml", "rich", "sqlalchemy", "sqlglot"]


@pytest.mark.installed_cli
def test_cli_virtualenv_runs_the_installed_wheel_without_superset():
    assert "site-packages" in northstar_spec.__file__
    assert importlib.util.find_spec("superset") is None
    assert sqlalchemy.__version__.startswith("2.")
    done = run_installed("validate", ROOT / "specs", "--today", TODAY.isoformat())
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.superset
def test_superset_extra_brings_superset_6_1_on_sqlalchemy_1_4():
    from importlib.metadata import version

    assert version("apache-superset").startswith("6.1.")
    assert sqlalchemy.__version__.startswith("1.4.")
    import superset_plugin  # noqa: F401

    done = run_cli("validate", ROOT / "specs", "--today", TODAY.isoformat())
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_index_page_has_what_it_needs(wheel: Path):
    """License, classifiers, project links, and a README whose images and links work off GitHub."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = email.message_from_bytes(archive.read(next(n for n in names if n.endswith("METADATA"))))
        license_text = archive.read(next(n for n in names if n.endswith("licenses/LICENSE"))).decode()
    assert license_text == (ROOT / "LICENSE").read_text() and "Apache License" in license_text
    assert metadata["License-Expression"] == "Apache-2.0"
    classifiers = metadata.get_all("Classifier")
    assert "Programming Language :: Python :: 3 :: Only" in classifiers and "Environment :: Console" in classifiers
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls)
    readme = metadata.get_payload()
    assert readme.startswith("# northstar")
    links = re.findall(r"\]\(([^)\s]+)\)", readme) + re.findall(r'src="([^"]+)"', readme)
    assert [link for link in links if not link.startswith(("https://", "#"))] == []
    raw = "https://raw.githubusercontent.com/northstar-metrics/northstar/main/"
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert images and all(image.startswith(raw) and (ROOT / image.removeprefix(raw)).is_file() for image in images)
