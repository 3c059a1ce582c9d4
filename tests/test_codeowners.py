"""`northstar codeowners`: the teams owning a spec's metrics review changes to it,
through generated lines that leave the hand-written rest of CODEOWNERS alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT, run_cli

from northstar_spec.review import codeowners
from northstar_spec.review.codeowners import BEGIN, END

TEAMSPACE = (
    "/specs/teamspace.yaml @northstar-demo/activation @northstar-demo/collaboration "
    "@northstar-demo/growth @northstar-demo/product-leadership"
)


def project(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "northstar.yaml", target / "northstar.yaml")
    shutil.copytree(ROOT / "specs", target / "specs")
    return target


def generated_lines(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[lines.index(BEGIN) + 2 : lines.index(END)]


def test_one_line_per_spec_with_every_owning_team(tmp_path: Path):
    repo = project(tmp_path)
    done = run_cli("codeowners", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "wrote .github/CODEOWNERS (4 specs)"
    lines = generated_lines((repo / ".github" / "CODEOWNERS").read_text())
    assert [line.split()[0] for line in lines] == [
        "/specs/acme-invoicing.yaml",
        "/specs/staybnb.yaml",
        "/specs/teamspace.yaml",
        "/specs/tunewave.yaml",
    ]
    assert TEAMSPACE in lines


def test_check_passes_when_current_and_fails_with_the_diff_when_stale(tmp_path: Path):
    repo = project(tmp_path)
    missing = run_cli("codeowners", "--check", cwd=repo)
    assert missing.returncode == 1 and "+" + TEAMSPACE in missing.stdout
    assert not (repo / ".github" / "CODEOWNERS").exists()  # --check writes nothing

    assert run_cli("codeowners", cwd=repo).returncode == 0
    current = run_cli("codeowners", "--check", cwd=repo)
    assert (current.returncode, current.stdout.strip()) == (0, ".github/CODEOWNERS is up to date")

    spec = repo / "specs" / "teamspace.yaml"
    spec.write_text(spec.read_text().replace("owner: activation-squad", "owner: growth"))
    stale = run_cli("codeowners", "--check", cwd=repo)
    assert stale.returncode == 1
    assert "-" + TEAMSPACE in stale.stdout
    assert (
        "+/specs/teamspace.yaml @northstar-demo/collaboration @northstar-demo/growth "
        "@northstar-demo/product-leadership" in stale.stdout
    )
    assert "is out of date; run `northstar codeowners`" in stale.stderr


def test_hand_written_lines_outside_the_markers_are_kept(tmp_path: Path):
    repo = project(tmp_path)
    owners_file = repo / "CODEOWNERS"  # at the root: where GitHub also looks, so the default finds it
    owners_file.write_text(f"* @acme/admins\n\n{BEGIN}\n/old/line @nobody\n{END}\n/docs/ @acme/writers\n")
    done = run_cli("codeowners", cwd=repo)
    assert done.returncode == 0 and done.stdout.startswith("wrote CODEOWNERS")
    text = owners_file.read_text()
    assert text.startswith("* @acme/admins\n\n" + BEGIN + "\n")
    assert text.endswith(f"{END}\n/docs/ @acme/writers\n")
    assert "/old/line" not in text and TEAMSPACE in text
    assert not (repo / ".github").exists()


def test_a_team_without_review_handle_is_a_warning(tmp_path: Path):
    repo = project(tmp_path)
    project_file = repo / "northstar.yaml"
    text = project_file.read_text()
    old = ', review_handle: "@northstar-demo/growth"}'
    assert old in text
    project_file.write_text(text.replace(old, "}"))
    done = run_cli("codeowners", "--output", "owners.txt", cwd=repo)
    assert done.returncode == 0
    assert done.stderr == (
        "warning: team 'growth' owns metrics in specs/teamspace.yaml but has no review_handle "
        "in northstar.yaml; it is not asked to review them\n"
    )
    assert "@northstar-demo/growth" not in (repo / "owners.txt").read_text()


def test_paths_are_relative_to_the_top_of_the_git_repository(tmp_path: Path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    metrics = project(tmp_path / "metrics")
    done = run_cli("codeowners", cwd=metrics)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / ".github" / "CODEOWNERS").read_text()
    assert "/metrics/specs/teamspace.yaml @northstar-demo/activation" in text


def test_invalid_specs_are_reported_not_written(tmp_path: Path):
    repo = project(tmp_path)
    spec = repo / "specs" / "teamspace.yaml"
    spec.write_text(spec.read_text().replace("owner: growth", "owner: grwoth", 1))
    done = run_cli("codeowners", cwd=repo)
    assert done.returncode == 1 and "NS402" in done.stderr
    assert not (repo / ".github" / "CODEOWNERS").exists()


def test_broken_markers_are_a_usage_error(tmp_path: Path):
    repo = project(tmp_path)
    (repo / ".github").mkdir()
    (repo / ".github" / "CODEOWNERS").write_text(f"{END}\n* @x\n{BEGIN}\n")
    done = run_cli("codeowners", cwd=repo)
    assert done.returncode == 2 and "must appear once each, in that order" in done.stderr


def test_init_writes_a_current_codeowners(tmp_path: Path):
    assert run_cli("init", tmp_path / "m", "--product", "Acme Notes").returncode == 0
    assert (
        "/specs/acme-notes.yaml @your-org/core @your-org/growth @your-org/product-leadership"
        in (tmp_path / "m" / ".github" / "CODEOWNERS").read_text()
    )
    done = run_cli("codeowners", "--check", cwd=tmp_path / "m")
    assert done.returncode == 0, done.stdout + done.stderr


def test_init_inside_a_larger_repository_leaves_codeowners_to_its_top(tmp_path: Path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert run_cli("init", tmp_path / "metrics").returncode == 0
    assert not (tmp_path / "metrics" / ".github" / "CODEOWNERS").exists()


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (None, f"{BEGIN}\nNOTE\n/a @t\n{END}\n"),
        ("* @x\n", f"* @x\n\n{BEGIN}\nNOTE\n/a @t\n{END}\n"),
        ("* @x", f"* @x\n\n{BEGIN}\nNOTE\n/a @t\n{END}\n"),
        (f"* @x\n{BEGIN}\nold\n{END}\n# tail\n", f"* @x\n{BEGIN}\nNOTE\n/a @t\n{END}\n# tail\n"),
    ],
)
def test_merge(existing, expected):
    block = codeowners.block([codeowners.Entry("/a", ("@t",))])
    assert codeowners.merge(existing, block) == expected.replace("NOTE", codeowners.NOTE)


def test_special_characters_in_paths_are_escaped():
    assert codeowners.pattern("specs/my spec #1.yaml") == "/specs/my\\ spec\\ \\#1.yaml"


def test_help_reads_well():
    done = run_cli("codeowners", "--help")
    assert done.returncode == 0 and done.stdout.startswith("Usage: northstar codeowners [OPTIONS]")
    assert done.stdout.split("\n\n")[1].strip().startswith("Make the team that owns a metric review")
