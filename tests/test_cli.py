"""The `northstar` command as a user runs it: its output and exit code.

Most tests run it in-process; the first ones run the installed console
script, as a user's shell does."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, TODAY, run_cli, run_installed

COMMANDS = [
    "validate",
    "tree",
    "rules",
    "init",
    "compile",
    "evaluate",
    "guardrails",
    "digest",
    "backtest",
    "explain",
    "candidates",
]


def test_example_specs_are_valid():
    done = run_installed("validate", "--today", TODAY.isoformat(), cwd=ROOT)
    assert (done.returncode, done.stdout.strip()) == (0, "4 specs valid"), done.stderr


def test_explicit_folder_and_json_format():
    done = run_cli("validate", ROOT / "specs", "--format", "json", "--today", TODAY.isoformat())
    assert done.returncode == 0 and json.loads(done.stdout) == []


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_reads_well(command):
    done = run_cli(*([command] if command else []), "--help")
    assert done.returncode == 0
    assert "Usage: northstar" in done.stdout
    first_line = done.stdout.split("\n\n")[1].strip()
    assert first_line and first_line[0].isupper()


def test_version():
    done = run_installed("--version")
    assert done.returncode == 0 and done.stdout.startswith("northstar, version ")


def test_findings_exit_1_with_located_text():
    fixture = Path("tests/fixtures/invalid/NS402-owner-not-a-team.yaml")
    done = run_cli("validate", fixture, cwd=ROOT)
    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"{fixture}:23:117: NS402 error ") and first.endswith("[owner-exists]")
    assert "hint: did you mean 'core'?" in done.stdout
    assert done.stdout.rstrip().endswith("1 error, 0 warnings in 1 file")


def test_github_annotations():
    fixture = Path("tests/fixtures/invalid/NS402-owner-not-a-team.yaml")
    done = run_cli("validate", fixture, "--format", "github", cwd=ROOT)
    assert done.returncode == 1
    assert done.stdout.startswith(f"::error file={fixture},line=23,col=117,title=NS402 owner-exists::")


def test_warnings_pass_unless_strict():
    args = ("validate", "--today", "2027-09-01")
    relaxed, strict = run_cli(*args, cwd=ROOT), run_cli(*args, "--strict", cwd=ROOT)
    assert relaxed.returncode == 0 and "NS502 warning" in relaxed.stdout
    assert strict.returncode == 1


def test_severity_overrides_from_the_project_file(tmp_path: Path):
    for name in ("northstar.yaml", "specs"):
        src = ROOT / name
        dst = tmp_path / name
        dst.write_bytes(src.read_bytes()) if src.is_file() else dst.mkdir()
    for spec in (ROOT / "specs").glob("*.yaml"):
        (tmp_path / "specs" / spec.name).write_bytes(spec.read_bytes())
    project = tmp_path / "northstar.yaml"
    project.write_text(project.read_text().replace("rules: {}", "rules: {review-overdue: error, NS503: off}"))
    done = run_cli("validate", "--today", "2027-09-01", cwd=tmp_path)
    assert done.returncode == 1 and "NS502 error" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("validate", "/nonexistent/spec.yaml"), "no such file or directory"),
        (("validate", "--format", "xml"), "Invalid value for '--format'"),
        (("validate", "--today", "tomorrow"), "is not a date"),
        (("rules", "NS999"), "no rule 'NS999'"),
        (("tree", "no-such-product"), "is neither a spec file nor a product id"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args, message):
    done = run_cli(*args, cwd=ROOT)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_no_project_file_is_a_usage_error(tmp_path: Path):
    (tmp_path / "spec.yaml").write_text("apiVersion: northstar/v1\n")
    done = run_cli("validate", "spec.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "no northstar.yaml found" in done.stderr


def test_rules_lists_every_code_and_documents_one():
    from northstar_spec.spec.registry import ALL_RULES

    listing = run_cli("rules")
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == [r.code for r in ALL_RULES]
    one = run_cli("rules", "input-count")
    assert one.returncode == 0 and one.stdout.startswith("NS201 input-count (default: error)")
    assert "Bad:" in one.stdout and "Good:" in one.stdout


def test_tree_text_and_mermaid():
    text = run_cli("tree", ROOT / "specs" / "teamspace.yaml")
    assert text.returncode == 0
    assert text.stdout.splitlines()[1].startswith("★ Weekly active teams [weekly_active_teams] per week")
    assert "└── Collaborating members [collaborating_members] frequency ↑, owner collaboration-squad" in text.stdout
    mermaid = run_cli("tree", ROOT / "specs" / "teamspace.yaml", "--format", "mermaid")
    assert mermaid.stdout.startswith("flowchart TD\n")
    assert (
        'm_new_team_activation["New team activation rate<br/>activation ↑ · activation-squad"] --> '
        "m_weekly_active_teams" in mermaid.stdout
    )


def test_tree_of_an_invalid_spec_shows_findings():
    done = run_cli("tree", FIXTURES / "invalid" / "NS402-owner-not-a-team.yaml")
    assert done.returncode == 1 and "NS402" in done.stderr


def test_init_scaffolds_a_repository_that_validates_clean(tmp_path: Path):
    target = tmp_path / "metrics"
    done = run_cli("init", target, "--product", "Acme Notes")
    assert done.returncode == 0, done.stderr
    spec = target / "specs" / "acme-notes.yaml"
    assert spec.read_text().startswith("# yaml-language-server: $schema=../schemas/northstar.schema.json\n")
    for name in (
        "northstar.yaml",
        ".pre-commit-config.yaml",
        ".github/workflows/northstar.yml",
        "schemas/northstar.schema.json",
        "schemas/project.schema.json",
    ):
        assert (target / name).is_file(), name
    check = run_cli("validate", "--format", "json", cwd=target)
    assert check.returncode == 0 and json.loads(check.stdout) == [], check.stdout


def test_init_never_overwrites(tmp_path: Path):
    (tmp_path / "northstar.yaml").write_text("mine: true\n")
    done = run_cli("init", tmp_path)
    assert done.returncode == 2 and "nothing was written" in done.stderr
    assert (tmp_path / "northstar.yaml").read_text() == "mine: true\n"
    assert not (tmp_path / "specs").exists()


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True, capture_output=True
    )


def test_changed_north_star_needs_a_history_entry(tmp_path: Path):
    """NS601 compares with a git revision: a new North Star id without history fails."""
    _git(tmp_path, "init", "-q")
    (tmp_path / "northstar.yaml").write_bytes((FIXTURES / "northstar.yaml").read_bytes())
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "p.yaml"
    original = (FIXTURES / "valid" / "minimal.yaml").read_text()
    spec.write_text(original)
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "first")

    changed = original.replace("weekly_active_customers", "weekly_finishing_customers")
    spec.write_text(changed)
    done = run_cli("validate", "--base", "HEAD", "--today", TODAY.isoformat(), cwd=tmp_path)
    assert done.returncode == 1
    line = changed.splitlines().index("north_star:") + 1
    assert done.stdout.startswith(
        f"specs/p.yaml:{line}:1: NS601 error the North Star changed from "
        "'weekly_active_customers' without a new history entry"
    )

    spec.write_text(
        changed + "history:\n  - {north_star: weekly_active_customers, until: 2026-11-15, "
        "reason: Finishing counts value better.}\n"
    )
    done = run_cli("validate", "--base", "HEAD", "--today", TODAY.isoformat(), cwd=tmp_path)
    assert done.returncode == 0, done.stdout

    spec.write_text(original.replace("filter: \"event_type = 'work_finished'\"", "filter: \"event_type = 'login'\""))
    done = run_cli("validate", "--base", "HEAD", "--today", TODAY.isoformat(), cwd=tmp_path)
    assert done.returncode == 1 and "changed its computation" in done.stdout


def test_unknown_base_revision_is_a_usage_error(tmp_path: Path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "northstar.yaml").write_bytes((FIXTURES / "northstar.yaml").read_bytes())
    (tmp_path / "specs").mkdir()
    done = run_cli("validate", "--base", "no-such-ref", cwd=tmp_path)
    assert done.returncode == 2 and "'no-such-ref' is not a commit" in done.stderr


def test_readme_documents_every_command_option_and_spec_key():
    """The README's references cannot silently fall behind the CLI and the schema."""
    import click

    from northstar_spec.cli import cli
    from northstar_spec.spec.schema import SPEC_SCHEMA, load_schema

    readme = (ROOT / "README.md").read_text()
    context = click.Context(cli)
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert f"`northstar {name}" in readme, name
        for param in command.params:
            if isinstance(param, click.Option) and param.opts[0] != "--help":
                assert param.opts[0] in readme, f"{name} {param.opts[0]}"
    schema = load_schema(SPEC_SCHEMA)
    keys = set(schema["properties"])
    for definition in schema["$defs"].values():
        keys |= set(definition.get("properties", {}))
    missing = sorted(k for k in keys if k not in readme)
    assert missing == []
