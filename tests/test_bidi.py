"""Bidi control characters: a finding (NS008) that does not stop the spec
from being checked, and, for a project that turns it down to a warning,
shown as visible `⟨U+202E⟩` marks wherever spec text is shown: terminal,
markdown, the bundle Superset gets, the North Star page's model."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from helpers import FIXTURES, TODAY, run_cli

from northstar_spec.spec.bidi import BIDI_CONTROLS, escape_bidi
from northstar_spec.spec.diagnostics import Diagnostic, Location, Severity
from northstar_spec.spec.pipeline import check
from northstar_spec.spec.reporters import REPORTERS

RLO = "\u202e"


@pytest.fixture
def project(tmp_path):
    """A project that allows bidi characters (NS008 as a warning) and a spec whose names use them."""
    (tmp_path / "northstar.yaml").write_text((FIXTURES / "northstar.yaml").read_text() + "rules: {NS008: warning}\n")
    (tmp_path / "specs").mkdir()
    spec = (FIXTURES / "valid" / "minimal.yaml").read_text()
    spec = spec.replace("  name: Fixture\n", f"  name: Fixture {RLO}evil\n")
    spec = spec.replace("name: Weekly active customers", f"name: Weekly {RLO}active customers")
    spec = spec.replace("name: Churn,", f"name: Ch{RLO}urn,")
    (tmp_path / "specs" / "fixture.yaml").write_text(spec)
    return tmp_path


def test_escape_every_control_and_nothing_else():
    controls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    assert escape_bidi(f"a{controls}b") == "a" + "".join(f"⟨U+{ord(c):04X}⟩" for c in controls) + "b"
    assert escape_bidi("Café · ★ ⚠ عربي") == "Café · ★ ⚠ عربي"


def test_a_warning_leaves_the_spec_checked(project):
    done = run_cli("validate", "--format", "json", "--today", TODAY.isoformat(), cwd=project)
    assert done.returncode == 0
    assert {(f["code"], f["severity"]) for f in json.loads(done.stdout)} == {("NS008", "warning")}
    assert len(check([], project_file=project / "northstar.yaml").specs) == 1


def test_the_terminal_shows_marks(project):
    tree = run_cli("tree", "specs/fixture.yaml", cwd=project)
    assert tree.returncode == 0 and not BIDI_CONTROLS.search(tree.stdout)
    assert "★ Weekly ⟨U+202E⟩active customers" in tree.stdout
    mermaid = run_cli("tree", "specs/fixture.yaml", "--format", "mermaid", cwd=project)
    assert not BIDI_CONTROLS.search(mermaid.stdout) and "Weekly ⟨U+202E⟩active customers" in mermaid.stdout


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_reporters_show_marks(fmt):
    finding = Diagnostic("NS402", "owner-exists", Severity.ERROR, f"x {RLO}y", Location(f"a{RLO}.yaml"), f"h{RLO}")
    shown = REPORTERS[fmt]([finding])
    assert not BIDI_CONTROLS.search(shown) and "⟨U+202E⟩" in shown


def test_the_bundle_and_the_page_model_show_marks(project):
    from superset_plugin.compiler.assets import compile_bundle
    from superset_plugin.deploy.publish import model

    result = check([], project_file=project / "northstar.yaml")
    bundle = compile_bundle(result.specs, result.project, {"FIXTURE_WAREHOUSE_URI": "sqlite://"})
    rendered = bundle.rendered()
    assert not any(BIDI_CONTROLS.search(text) for text in rendered.values())
    dashboard = rendered["dashboards/fixture.yaml"]
    assert "North Star: Fixture ⟨U+202E⟩evil" in dashboard
    assert "Weekly ⟨U\\\\+202E⟩active customers" in dashboard  # the markdown header, escaped for markdown
    charts = "".join(text for path, text in rendered.items() if path.startswith("charts/"))
    assert "Guardrail: Ch⟨U+202E⟩urn (Growth squad)" in charts
    page = json.dumps(model(result.specs, result.project), ensure_ascii=False)
    assert not BIDI_CONTROLS.search(page) and "Weekly ⟨U+202E⟩active customers" in page


def test_compile_writes_no_control_character(project):
    env = {**os.environ, "FIXTURE_WAREHOUSE_URI": "sqlite://"}
    done = run_cli("compile", "-o", "out", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    for file in (project / "out" / "northstar_bundle").rglob("*.yaml"):
        assert not BIDI_CONTROLS.search(file.read_text(encoding="utf-8")), file


def test_the_diff_comment_shows_marks(project, tmp_path_factory):
    before = tmp_path_factory.mktemp("before")
    shutil.copytree(project, before, dirs_exist_ok=True)
    spec = project / "specs" / "fixture.yaml"
    spec.write_text(spec.read_text().replace("name: Depth", f"name: De{RLO}pth"))
    done = run_cli("diff", before, project, "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert not BIDI_CONTROLS.search(done.stdout) and "De⟨U+202E⟩pth" in done.stdout
