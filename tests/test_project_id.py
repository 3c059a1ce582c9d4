"""A project's id: as northstar.yaml declares it, or derived from the repository or the folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT, run_cli

from northstar_spec.spec.model import project_id
from northstar_spec.spec.pipeline import check


@pytest.mark.parametrize(
    ("data", "folder", "expected"),
    [
        (
            {"project": "acme-metrics", "repository": {"url": "https://github.com/acme/x"}},
            "/w/y",
            ("acme-metrics", None),
        ),
        ({"repository": {"url": "https://github.com/acme/Metrics.git"}}, "/w/y", ("metrics", "the repository URL")),
        ({"repository": {"url": "https://git.example/acme/2024_KPIs/"}}, "/w/y", ("p-2024-kpis", "the repository URL")),
        ({}, "/work/North Star Specs", ("north-star-specs", "the project folder's name")),
        ({}, "/work/" + "x" * 60, ("x" * 40, "the project folder's name")),
    ],
)
def test_the_id_is_declared_or_derived(data, folder, expected):
    assert project_id(data, Path(folder)) == expected


def test_the_example_project_declares_its_id():
    assert check([], project_file=ROOT / "northstar.yaml").project.id == "northstar-demo"


def test_a_malformed_id_is_a_located_error(tmp_path):
    text = (ROOT / "northstar.yaml").read_text().replace("project: northstar-demo", 'project: "Acme Metrics"')
    (tmp_path / "northstar.yaml").write_text(text)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "teamspace.yaml").write_text((ROOT / "specs" / "teamspace.yaml").read_text())
    done = run_cli("validate", cwd=tmp_path)
    assert done.returncode == 1
    assert "northstar.yaml:6:10: NS013 error 'project' 'Acme Metrics' is not well-formed" in done.stdout
