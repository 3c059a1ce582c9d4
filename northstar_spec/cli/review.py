"""Commands for reviewing a change: diff, codeowners."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from northstar_spec.cli.common import EXIT_FINDINGS, project_option, validated
from northstar_spec.review import codeowners, diff, diff_report, snapshots
from northstar_spec.spec.bidi import escape_bidi
from northstar_spec.spec.pipeline import UsageError, display_path


@click.command("diff")
@click.argument(
    "folders", nargs=-1, metavar="[FOLDER_A FOLDER_B]", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("--base", metavar="REF", help="The git revision to compare from.")
@click.option("--head", metavar="REF", help="The git revision to compare to (default: the working tree).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(diff_report.FORMATS)),
    default="text",
    show_default=True,
    help="text for people, markdown for a pull-request comment, json for tools.",
)
@project_option
def diff_command(folders, base, head, fmt, project_file) -> None:
    """Show what a change does to the North Star frameworks, product by product.

    Metrics added, removed or renamed; changes to a definition, measure,
    filter, source, grain, owner, lever, direction, target, threshold or
    guard; product fields, reviews and history; a changed North Star, flagged.
    Between a git revision and the working tree (--base), two revisions
    (--base and --head), or two folders (FOLDER_A FOLDER_B). Exits 0 whether
    or not anything changed.

    \b
    Examples:
      northstar diff --base origin/main
      northstar diff --base v1 --head v2 --format json
      northstar diff old-specs/ specs/ --format markdown
    """
    if folders and (base or head):
        raise click.UsageError("compare two folders, or git revisions with --base/--head, not both")
    if head and not base:
        raise click.UsageError("--head needs --base: the revision to compare it with")
    if not folders and not base:
        raise click.UsageError("nothing to compare: give --base REF (and --head REF), or two folders")
    if folders and len(folders) != 2:
        raise click.UsageError(f"give two folders to compare, not {len(folders)}")
    try:
        if folders:
            before, after = snapshots.in_folder(folders[0]), snapshots.in_folder(folders[1])
        else:
            project = snapshots.find_project(project_file, Path.cwd())
            before = snapshots.at_ref(project, base)
            after = snapshots.at_ref(project, head) if head else snapshots.working_tree(project)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(escape_bidi(diff_report.FORMATS[fmt](diff.compare(before, after))))


@click.command("codeowners")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The CODEOWNERS file. Default: the one GitHub reads at the repository root, else .github/CODEOWNERS.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1, showing the difference, if the file is stale.")
@project_option
def codeowners_command(output, check, project_file) -> None:
    """Make the team that owns a metric review changes to its spec.

    Writes one CODEOWNERS line per spec file with the review handles
    (northstar.yaml `review_handle`) of every team owning one of its metrics,
    between `# BEGIN northstar` and `# END northstar` marker comments;
    hand-written lines outside the markers are kept. Paths are relative to the
    git repository's top (or northstar.yaml's folder outside git).
    """
    result = validated([], project_file)
    root = codeowners.repository_root(result.project.root)
    placed, warnings = codeowners.spec_files(result.specs, root)
    found, unowned = codeowners.entries(placed, result.project.teams)
    for warning in warnings + unowned:
        click.echo(f"warning: {warning}", err=True)
    target = output or codeowners.default_path(root)
    try:
        existing = target.read_text(encoding="utf-8") if target.is_file() else None
        updated = codeowners.merge(existing, codeowners.block(found))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"cannot read {target}: {exc}") from None
    except codeowners.CodeownersError as exc:
        raise click.UsageError(f"{target}: {exc}") from None
    shown = display_path(target)
    if check:
        if updated != existing:
            click.echo(codeowners.unified_diff(existing, updated, shown), nl=False)
            click.echo(f"{shown} is out of date; run `northstar codeowners` and commit it", err=True)
            sys.exit(EXIT_FINDINGS)
        click.echo(f"{shown} is up to date")
        return
    if updated == existing:
        click.echo(f"{shown} is up to date")
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(updated, encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"cannot write {target}: {exc.strerror}") from None
    click.echo(f"wrote {shown} ({len(found)} spec{'s' * (len(found) != 1)})")
