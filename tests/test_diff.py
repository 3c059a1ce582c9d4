"""`northstar diff` over real git history: a temporary repository with the
example specs, one commit per kind of change, each compared with the one
before it, through the library and through the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import ROOT, TODAY, run_cli

from northstar_spec.review import diff, diff_report, snapshots
from northstar_spec.spec.pipeline import UsageError


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def edit(repo: Path, spec: str, old: str, new: str) -> None:
    path = repo / "specs" / spec
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not in {spec} exactly once"
    path.write_text(text.replace(old, new))


def remove_item(repo: Path, spec: str, item_id: str) -> None:
    """Delete one list item (`  - id: ITEM` and its indented lines) from a spec."""
    path = repo / "specs" / spec
    lines = path.read_text().splitlines(keepends=True)
    start = lines.index(f"  - id: {item_id}\n")
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    path.write_text("".join(lines[:start] + lines[end:]))


def copy_project(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "northstar.yaml", target / "northstar.yaml")
    shutil.copytree(ROOT / "specs", target / "specs")


def append_to(repo: Path, spec: str, key: str, item: str) -> None:
    """Add an item at the end of a top-level list of a spec, wherever the list is in the file."""
    path = repo / "specs" / spec
    lines = path.read_text().splitlines(keepends=True)
    end = lines.index(f"{key}:\n") + 1
    while end < len(lines) and lines[end].startswith((" ", "#")):
        end += 1
    path.write_text("".join(lines[:end] + [item] + lines[end:]))


def new_north_star(repo: Path) -> None:
    """A new North Star id, what guarded the old one now guards the new one, and a history entry."""
    edit(
        repo,
        "teamspace.yaml",
        "  id: weekly_active_teams\n  name: Weekly active teams\n",
        "  id: weekly_collaborating_teams\n  name: Weekly collaborating teams\n",
    )
    edit(repo, "teamspace.yaml", "guards: weekly_active_teams", "guards: weekly_collaborating_teams")
    append_to(
        repo,
        "teamspace.yaml",
        "history",
        "  - north_star: weekly_active_teams\n    name: Weekly active teams\n    until: 2026-11-30\n"
        "    reason: A team of one completing a project is not a team working together.\n",
    )


NEW_INPUT = """  - id: shared_projects
    name: Projects shared with a guest
    definition: Projects that a team shared with someone outside it in the week.
    source: collab
    measure: {aggregate: count_distinct, column: project_id}
    filter: "event_type = 'project_shared'"
    lever: breadth
    direction: increase
    owner: growth
counter_metrics:
"""

#: One commit per kind of change, applied in this order; each step is compared with the one before.
STEPS: dict[str, Callable[[Path], None]] = {
    "rename": lambda r: edit(r, "teamspace.yaml", "name: Invites accepted", "name: Invitations accepted"),
    "filter": lambda r: edit(
        r,
        "teamspace.yaml",
        "filter: \"event_type = 'task_updated'\"\n    lever: frequency",  # the input's, not a candidate's
        "filter: \"event_type IN ('task_updated', 'comment_added')\"\n    lever: frequency",
    ),
    "owner": lambda r: edit(
        r,
        "teamspace.yaml",
        "    direction: increase\n    owner: activation-squad\n",
        "    direction: increase\n    owner: growth\n",
    ),
    "add-input": lambda r: edit(r, "teamspace.yaml", "counter_metrics:\n", NEW_INPUT),
    "remove-counter": lambda r: remove_item(r, "staybnb.yaml", "guest_complaints"),
    "threshold": lambda r: edit(r, "teamspace.yaml", "threshold: {max: 40}", "threshold: {max: 35}"),
    "north-star": lambda r: new_north_star(r),
    "cadence": lambda r: edit(
        r, "teamspace.yaml", "inputs: {cadence: weekly, day: wednesday,", "inputs: {cadence: biweekly, day: wednesday,"
    ),
    "product": lambda r: edit(
        r,
        "teamspace.yaml",
        "value_moment: A team completes a project together.",
        "value_moment: A team of two or more completes a project together.",
    ),
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A git repository with the example project, tagged `start` and then once per step."""
    repo = tmp_path_factory.mktemp("history")
    copy_project(repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    git(repo, "tag", "start")
    for name, step in STEPS.items():
        step(repo)
        git(repo, "commit", "-qam", name)
        git(repo, "tag", name)
    return repo


def compare(repo: Path, step: str) -> diff.Diff:
    """The library's diff between the commit of `step` and the one before it."""
    project = snapshots.find_project(None, repo)
    previous = list(STEPS)[list(STEPS).index(step) - 1] if step != next(iter(STEPS)) else "start"
    return diff.compare(snapshots.at_ref(project, previous), snapshots.at_ref(project, step))


def only_product(result: diff.Diff, product_id: str) -> diff.ProductDiff:
    assert [p.id for p in result.products] == [product_id]
    return result.products[0]


def test_every_step_is_a_valid_project(repo: Path):
    """The history is realistic: each commit passes validate against the one before (NS601 included)."""
    done = run_cli("validate", "--base", "start", "--today", TODAY.isoformat(), cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_rename_keeps_the_id(repo: Path):
    product = only_product(compare(repo, "rename"), "teamspace")
    (metric,) = product.metrics
    assert (metric.status, metric.role, metric.id, metric.name) == (
        "changed",
        "input",
        "invites_accepted",
        "Invitations accepted",
    )
    assert metric.renamed == diff.Change("name", "Invites accepted", "Invitations accepted")
    assert product.north_star_change is None
    assert [o.team for o in product.owners] == ["growth"]


def test_filter_change(repo: Path):
    (metric,) = only_product(compare(repo, "filter"), "teamspace").metrics
    assert metric.id == "collaborating_members" and metric.renamed is None
    assert metric.changes == (
        diff.Change("filter", "event_type = 'task_updated'", "event_type IN ('task_updated', 'comment_added')"),
    )


def test_owner_change_asks_both_teams(repo: Path):
    product = only_product(compare(repo, "owner"), "teamspace")
    (metric,) = product.metrics
    assert metric.changes == (diff.Change("owner", "activation-squad", "growth"),)
    assert [(o.team, o.review_handle) for o in product.owners] == [
        ("activation-squad", "@northstar-demo/activation"),
        ("growth", "@northstar-demo/growth"),
    ]


def test_added_input(repo: Path):
    (metric,) = only_product(compare(repo, "add-input"), "teamspace").metrics
    assert (metric.status, metric.role, metric.id) == ("added", "input", "shared_projects")
    (change,) = metric.changes
    assert change.before is None
    assert change.after == (
        "count_distinct(project_id) where event_type = 'project_shared' · per week · "
        "lever breadth (increase) · owner growth"
    )


def test_removed_counter_metric(repo: Path):
    product = only_product(compare(repo, "remove-counter"), "staybnb")
    (metric,) = product.metrics
    assert (metric.status, metric.role, metric.id, metric.name) == (
        "removed",
        "counter_metric",
        "guest_complaints",
        "Guest complaints",
    )
    assert "guards repeat_guest_bookings, max 25" in metric.changes[0].before
    assert [o.team for o in product.owners] == ["trust-safety"]


def test_threshold_change(repo: Path):
    (metric,) = only_product(compare(repo, "threshold"), "teamspace").metrics
    assert (metric.id, metric.changes) == ("weekly_churned_teams", (diff.Change("threshold", "max 40", "max 35"),))


def test_north_star_change_is_flagged_with_its_history(repo: Path):
    result = compare(repo, "north-star")
    product = only_product(result, "teamspace")
    assert result.north_star_changed
    assert product.north_star_change == diff.NorthStarChange(
        "weekly_active_teams", "weekly_collaborating_teams", ("id",), history_recorded=True
    )
    north_star, guard = product.metrics
    assert north_star.role == "north_star" and north_star.changes == (
        diff.Change("id", "weekly_active_teams", "weekly_collaborating_teams"),
        diff.Change("name", "Weekly active teams", "Weekly collaborating teams"),
    )
    assert guard.changes == (diff.Change("guards", "weekly_active_teams", "weekly_collaborating_teams"),)
    (entry,) = product.history
    assert entry.before is None and entry.after.startswith("weekly_active_teams until 2026-11-30: ")
    assert "product-leadership" in [o.team for o in product.owners]


def test_review_cadence(repo: Path):
    product = only_product(compare(repo, "cadence"), "teamspace")
    assert product.metrics == () and product.review == (diff.Change("review.inputs.cadence", "weekly", "biweekly"),)
    assert [o.team for o in product.owners] == ["collaboration-squad"]  # the owner of the input review


def test_product_field(repo: Path):
    product = only_product(compare(repo, "product"), "teamspace")
    assert product.product == (
        diff.Change(
            "value_moment",
            "A team completes a project together.",
            "A team of two or more completes a project together.",
        ),
    )
    assert [o.team for o in product.owners] == ["product-leadership"]  # the North Star's owner answers for the product


def test_markdown_for_a_pull_request(repo: Path):
    done = run_cli("diff", "--base", "threshold", "--head", "north-star", "--format", "markdown", cwd=repo)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(diff_report.MARKDOWN_MARKER + "\n### North Star specs: `threshold` → `north-star`\n")
    assert "⚠️ **This change redefines the North Star of Teamspace.**" in out
    assert "> [!IMPORTANT]\n> **The North Star changes:** `weekly_active_teams` → `weekly_collaborating_teams`" in out
    assert "Lint rule NS601 requires a history entry" in out and "✅ this change adds one." in out
    assert (
        "| ✏️ | Weekly collaborating teams `weekly_collaborating_teams` · North Star | renamed "
        "| `Weekly active teams` | `Weekly collaborating teams` |"
    ) in out
    before, after = re.findall(r"```mermaid\n(.*?)```", out, re.S)
    assert before.startswith('flowchart TD\n  m_weekly_active_teams["★ Weekly active teams')
    assert after.startswith('flowchart TD\n  m_weekly_collaborating_teams["★ Weekly collaborating teams')
    assert "class m_weekly_collaborating_teams,m_weekly_churned_teams changed" in after
    assert (
        "**Review requested from:** @northstar-demo/growth (Growth squad), "
        "@northstar-demo/product-leadership (Product leadership)" in out
    )


def test_markdown_of_added_and_removed_metrics(repo: Path):
    added = run_cli("diff", "--base", "owner", "--head", "add-input", "--format", "markdown", cwd=repo).stdout
    assert "| ➕ | Projects shared with a guest `shared_projects` · input | added | " in added
    assert added.count("```mermaid") == 2 and "class m_shared_projects added" in added
    removed = run_cli(
        "diff", "--base", "add-input", "--head", "remove-counter", "--format", "markdown", cwd=repo
    ).stdout
    assert "| ➖ | Guest complaints `guest_complaints` · counter-metric | removed | `" in removed
    assert "class m_guest_complaints removed" in removed
    assert "redefines" not in removed


def test_text_and_json_formats(repo: Path):
    text = run_cli("diff", "--base", "start", "--head", "filter", cwd=repo)
    assert text.returncode == 0
    assert text.stdout.splitlines()[0] == "start -> filter: 1 product changed"
    assert '  ~ input invites_accepted renamed: "Invites accepted" -> "Invitations accepted"' in text.stdout
    data = json.loads(run_cli("diff", "--base", "rename", "--head", "north-star", "--format", "json", cwd=repo).stdout)
    assert data["north_star_changed"] is True
    (products,) = [p for p in data["products"] if p["id"] == "teamspace"]
    assert products["north_star_change"]["history_recorded"] is True
    assert {m["id"] for m in products["metrics"]} >= {"shared_projects", "new_team_activation"}


def test_working_tree_against_a_revision(repo: Path):
    spec = repo / "specs" / "tunewave.yaml"
    original = spec.read_text()
    try:
        assert (
            run_cli("diff", "--base", "HEAD", cwd=repo).stdout.strip()
            == "HEAD -> working tree: no change to any North Star spec"
        )
        spec.write_text(original.replace("owner: premium", "owner: discovery", 1))
        done = run_cli("diff", "--base", "HEAD", cwd=repo)
        assert done.returncode == 0
        assert "Tunewave (tunewave, specs/tunewave.yaml): changed" in done.stdout
        assert "~ " in done.stdout and '"premium" -> "discovery"' in done.stdout
    finally:
        spec.write_text(original)


def test_a_file_broken_on_one_side_is_not_a_removed_product(repo: Path):
    spec = repo / "specs" / "tunewave.yaml"
    original = spec.read_text()
    try:
        spec.write_text(original.replace("north_star:", "north_star: [", 1))
        result = diff.compare(
            snapshots.at_ref(snapshots.find_project(None, repo), "HEAD"),
            snapshots.working_tree(snapshots.find_project(None, repo)),
        )
        assert result.products == () and result.unreadable == ("working tree: specs/tunewave.yaml",)
        done = run_cli("diff", "--base", "HEAD", "--format", "markdown", cwd=repo)
        assert done.returncode == 0 and "- `working tree: specs/tunewave.yaml`" in done.stdout
    finally:
        spec.write_text(original)


def test_two_folders_added_product_and_north_star_without_history(tmp_path: Path):
    old, new = tmp_path / "old", tmp_path / "new"
    copy_project(old)
    copy_project(new)
    (new / "specs" / "staybnb.yaml").unlink()
    (new / "specs" / "teamspace-copy.yaml").write_text(
        (old / "specs" / "teamspace.yaml").read_text().replace("id: teamspace", "id: teamspace-lite")
    )
    edit(new, "tunewave.yaml", "ELSE 0 END) / 3600.0", "ELSE 0 END) / 60.0")
    result = diff.compare(snapshots.in_folder(old), snapshots.in_folder(new))
    status = {p.id: p.status for p in result.products}
    assert status == {"staybnb": "removed", "teamspace-lite": "added", "tunewave": "changed"}
    tunewave = result.products[-1]
    assert tunewave.north_star_change.fields == ("sql",)
    assert tunewave.north_star_change.history_recorded is False
    added = result.products[1]
    assert {m.status for m in added.metrics} == {"added"}
    assert {m.id for m in added.after.metrics} <= {m.id for m in added.metrics}
    done = run_cli("diff", old, new, "--format", "markdown")
    assert done.returncode == 0
    assert "❌ this change adds none, so `northstar validate --base` fails until it does." in done.stdout
    assert done.stdout.count("```mermaid") == 4  # removed: before; added: after; changed: both


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("diff",), "nothing to compare"),
        (("diff", "--head", "start"), "--head needs --base"),
        (("diff", "--base", "no-such-ref"), "'no-such-ref' is not a commit"),
        (("diff", "specs"), "give two folders to compare, not 1"),
        (("diff", "specs", "specs", "--base", "start"), "not both"),
        (("diff", "--base", "start", "--format", "html"), "Invalid value for '--format'"),
    ],
)
def test_usage_errors_exit_2(repo: Path, args, message):
    done = run_cli(*args, cwd=repo)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_not_a_git_repository_is_a_usage_error(tmp_path: Path):
    copy_project(tmp_path)
    done = run_cli("diff", "--base", "HEAD", cwd=tmp_path)
    assert done.returncode == 2 and "not a git repository" in done.stderr.lower(), done.stderr
    with pytest.raises(UsageError):
        snapshots.at_ref(snapshots.find_project(None, tmp_path), "HEAD")


def count_real_teams(repo: Path) -> None:
    """The change the README shows: Teamspace counts teams of two or more, and more."""
    spec = "teamspace.yaml"
    edit(
        repo,
        spec,
        "  filter: \"event_type = 'project_completed'\"\n  grain: week",
        "  filter: \"event_type = 'project_completed' AND team_size >= 2\"\n  grain: week",
    )
    edit(
        repo,
        spec,
        "  definition: Teams that completed at least one project in the week.",
        "  definition: Teams of two or more that completed at least one project in the week.",
    )
    edit(repo, spec, "name: Invites accepted", "name: Invitations accepted")
    edit(repo, spec, "threshold: {max: 40}", "threshold: {max: 35}")
    edit(
        repo,
        spec,
        "    lever: frequency\n    direction: increase\n    owner: collaboration-squad",
        "    lever: frequency\n    direction: increase\n    owner: growth",
    )
    edit(repo, spec, "counter_metrics:\n", NEW_INPUT)
    append_to(
        repo,
        spec,
        "history",
        "  - north_star: weekly_active_teams\n"
        "    definition: Teams that completed at least one project in the week.\n    until: 2026-11-30\n"
        "    reason: A team of one completing a project is a person, not a team working "
        "together.\n",
    )


def test_the_readme_shows_real_output(tmp_path: Path):
    """The pull-request comment in the README is what the command prints for that change today."""
    copy_project(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "switch", "-qc", "count-real-teams")
    count_real_teams(tmp_path)
    git(tmp_path, "commit", "-qam", "Count teams of two or more")
    assert run_cli("validate", "--base", "main", "--today", TODAY.isoformat(), cwd=tmp_path).returncode == 0
    done = run_cli("diff", "--base", "main", "--head", "count-real-teams", "--format", "markdown", cwd=tmp_path)
    readme = (ROOT / "README.md").read_text()
    start = readme.index(diff_report.MARKDOWN_MARKER)
    end = readme.index("<sub>Generated by `northstar diff`.</sub>", start)
    assert done.stdout.rstrip("\n") == readme[start:end] + "<sub>Generated by `northstar diff`.</sub>"


def test_help_reads_well():
    done = run_cli("diff", "--help")
    assert done.returncode == 0 and done.stdout.startswith("Usage: northstar diff [OPTIONS] [FOLDER_A FOLDER_B]")
    assert done.stdout.split("\n\n")[1].strip().startswith("Show what a change does")


def test_a_grain_inherited_from_the_north_star_is_reported_once(tmp_path: Path):
    old, new = tmp_path / "old", tmp_path / "new"
    copy_project(old)
    copy_project(new)
    edit(new, "teamspace.yaml", "  grain: week\n  target:", "  grain: month\n  target:")
    product = only_product(diff.compare(snapshots.in_folder(old), snapshots.in_folder(new)), "teamspace")
    assert product.north_star_change.fields == ("grain",)
    assert [(m.id, m.changes) for m in product.metrics] == [
        ("weekly_active_teams", (diff.Change("grain", "week", "month"),))
    ]


def test_spec_text_cannot_break_the_comment(tmp_path: Path):
    old, new = tmp_path / "old", tmp_path / "new"
    copy_project(old)
    copy_project(new)
    edit(new, "teamspace.yaml", "name: Invites accepted", 'name: "<img src=x onerror=alert(1)> | **bold**"')
    edit(
        new,
        "teamspace.yaml",
        "filter: \"event_type = 'invite_accepted'\"",
        "filter: \"event_type = 'invite_accepted' OR note = '`|`'\"",
    )
    out = run_cli("diff", old, new, "--format", "markdown").stdout
    outside_code = re.sub(r"(`+).*?\1", "", out)
    assert "<img" not in outside_code and "&lt;img src=x onerror=alert\\(1\\)&gt; \\| \\*\\*bold\\*\\*" in out
    assert "| ``event_type = 'invite_accepted' OR note = '`\\|`'`` |" in out
    for row in [line for line in out.splitlines() if line.startswith("| ")]:
        assert len(re.findall(r"(?<!\\)\|", row.replace("\\|", ""))) == 6, row  # five cells, no more
