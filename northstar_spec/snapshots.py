"""One side of a comparison: the specs, and the teams that own them, as they
are at a git revision, in the working tree, or in a folder.

`northstar diff` compares two snapshots. The project file is read on the same
side as the specs, so a pull request that adds a team and gives it a metric
shows that team's review handle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import gitrefs
from .diagnostics import has_errors
from .loading import parse
from .model import Project, build_project
from .pipeline import (
    PROJECT_FILE, SpecSet, UsageError, display_path, find_project_file, load_project, specs_at_ref, specs_on_disk,
)
from .schema import PROJECT_SCHEMA, validate


@dataclass(frozen=True)
class Snapshot:
    #: How the side is named in a report: a git revision, "working tree", a folder.
    label: str
    specs: SpecSet
    #: The project file of that side; None when there is none or it is broken.
    project: Optional[Project]


def _sound(project: Project) -> Optional[Project]:
    return project if project.document is not None else None


def _project_at_ref(root: Path, ref: str) -> Optional[Project]:
    raw = gitrefs.read_files(root, ref, [PROJECT_FILE], (PROJECT_FILE,)).get(PROJECT_FILE)
    if raw is None:
        return None
    document, problems = parse(raw, f"{ref}:{PROJECT_FILE}")
    if document is None or has_errors(problems + validate(document, PROJECT_SCHEMA)):
        return None
    return build_project(document, root)


def at_ref(project: Project, ref: str) -> Snapshot:
    """The project's specs at a git revision (its `specs:` folders as they were then)."""
    try:
        then = _project_at_ref(project.root, ref)
        specs = specs_at_ref(project.root, ref, (then or project).spec_paths)
    except gitrefs.GitError as exc:
        raise UsageError(f"{ref}: {exc}") from None
    return Snapshot(ref, specs, then or _sound(project))


def working_tree(project: Project, cwd: Optional[Path] = None) -> Snapshot:
    """The project's specs as they are on disk now, saved or not."""
    paths = [project.root / p for p in project.spec_paths if (project.root / p).exists()]
    return Snapshot("working tree", specs_on_disk(project.root, paths, cwd), _sound(project))


def in_folder(folder: Path, cwd: Optional[Path] = None) -> Snapshot:
    """The specs in a folder: the `specs:` of its northstar.yaml, or every spec file under it.

    Without a project file of its own, the nearest one above it names the teams.
    """
    own = folder / PROJECT_FILE
    if own.is_file():
        project, _ = load_project(own, cwd)
        paths = [folder / p for p in project.spec_paths if (folder / p).exists()]
        return Snapshot(display_path(folder, cwd), specs_on_disk(folder, paths, cwd), _sound(project))
    above = find_project_file(folder)
    project = _sound(load_project(above, cwd)[0]) if above else None
    return Snapshot(display_path(folder, cwd), specs_on_disk(folder, [folder], cwd), project)


def find_project(project_file: Optional[Path], cwd: Path) -> Project:
    """The project a git comparison is about: --project, or northstar.yaml here or above."""
    path = project_file or find_project_file(cwd)
    if path is None or not path.is_file():
        raise UsageError(f"no {PROJECT_FILE} found in this directory or its parents; "
                         "create one with `northstar init`, or pass --project")
    project, _ = load_project(path, cwd)
    return project
