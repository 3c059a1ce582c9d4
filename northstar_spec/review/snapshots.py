"""One side of a comparison: the specs, and the teams that own them, as they
are at a git revision, in the working tree, or in a folder.

`northstar diff` compares two snapshots. The project file is read on the same
side as the specs, so a pull request that adds a team and gives it a metric
shows that team's review handle.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from northstar_spec.review import gitrefs
from northstar_spec.spec import file_rules
from northstar_spec.spec.diagnostics import Diagnostic
from northstar_spec.spec.loading import Document, load, parse
from northstar_spec.spec.model import Project, Spec, build_project
from northstar_spec.spec.pipeline import (
    PROJECT_FILE,
    SPEC_SUFFIXES,
    PreviousSpecs,
    UsageError,
    discover,
    display_path,
    find_project_file,
    load_project,
    spec_from_document,
)
from northstar_spec.spec.schema import PROJECT_SCHEMA, validate


@dataclass(frozen=True)
class SpecSet:
    """The specs found in one place (a git revision, files on disk), by product id.

    A file that does not parse or pass the schema there is listed in
    `unreadable` rather than dropped, so that a comparison does not mistake a
    broken file for a removed product.
    """

    specs: dict[str, Spec]
    #: product id -> its file, relative to the project root.
    files: dict[str, str]
    unreadable: tuple[str, ...] = ()


def _spec_set(entries: Iterable[tuple[str, tuple[Document | None, list[Diagnostic]], Path | None]]) -> SpecSet:
    specs: dict[str, Spec] = {}
    files: dict[str, str] = {}
    unreadable: list[str] = []
    for name, (document, problems), path in entries:
        spec, _ = spec_from_document(document, problems, path)
        if spec is None:
            unreadable.append(name)
        elif spec.product.id not in specs:  # a duplicate product is validate's business (NS4xx)
            specs[spec.product.id] = spec
            files[spec.product.id] = name
    return SpecSet(specs, files, tuple(unreadable))


def specs_at_ref(root: Path, ref: str, spec_paths: Sequence[str]) -> SpecSet:
    """The specs under `spec_paths` of the project at `root` as they were at a git revision.

    What `validate --base` compares with, and either side of `northstar diff`.
    Raises gitrefs.GitError when `root` is not in a git repository or `ref`
    is not a commit of it.
    """
    return _spec_set(
        (name, parse(raw, f"{ref}:{name}"), None)
        for name, raw in gitrefs.read_files(root, ref, spec_paths, SPEC_SUFFIXES).items()
        if os.path.basename(name) != PROJECT_FILE
    )


def specs_on_disk(root: Path, paths: Sequence[Path], cwd: Path | None = None) -> SpecSet:
    """The specs in files and folders on disk; names are relative to `root` when inside it."""

    def name(file: Path) -> str:
        try:
            return file.relative_to(root.resolve()).as_posix()
        except ValueError:
            return display_path(file, cwd)

    return _spec_set(
        (name(file), load(file, display_path(file, cwd)), file) for file in discover(paths) if file.name != PROJECT_FILE
    )


@dataclass(frozen=True)
class Snapshot:
    #: How the side is named in a report: a git revision, "working tree", a folder.
    label: str
    specs: SpecSet
    #: The project file of that side; None when there is none or it is broken.
    project: Project | None


def _sound(project: Project) -> Project | None:
    return project if project.document is not None else None


def _project_at_ref(root: Path, ref: str) -> Project | None:
    raw = gitrefs.read_files(root, ref, [PROJECT_FILE], (PROJECT_FILE,)).get(PROJECT_FILE)
    if raw is None:
        return None
    document, problems = parse(raw, f"{ref}:{PROJECT_FILE}")
    if document is None or file_rules.blocks(problems + validate(document, PROJECT_SCHEMA)):
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


def working_tree(project: Project, cwd: Path | None = None) -> Snapshot:
    """The project's specs as they are on disk now, saved or not."""
    paths = [project.root / p for p in project.spec_paths if (project.root / p).exists()]
    return Snapshot("working tree", specs_on_disk(project.root, paths, cwd), _sound(project))


def in_folder(folder: Path, cwd: Path | None = None) -> Snapshot:
    """The specs in a folder: the `specs:` of its northstar.yaml, or every spec file under it.

    Without a project file of its own, the nearest one above it names the teams.
    """
    own = folder / PROJECT_FILE
    if own.is_file():
        project, _ = load_project(own, cwd)
        paths = [folder / p for p in project.spec_paths if (folder / p).exists()]
        return Snapshot(display_path(folder, cwd), specs_on_disk(folder, paths, cwd), _sound(project))
    above = find_project_file(folder)
    nearest = _sound(load_project(above, cwd)[0]) if above else None
    return Snapshot(display_path(folder, cwd), specs_on_disk(folder, [folder], cwd), nearest)


def find_project(project_file: Path | None, cwd: Path) -> Project:
    """The project a git comparison is about: --project, or northstar.yaml here or above."""
    path = project_file or find_project_file(cwd)
    if path is None or not path.is_file():
        raise UsageError(
            f"no {PROJECT_FILE} found in this directory or its parents; "
            "create one with `northstar init`, or pass --project"
        )
    project, _ = load_project(path, cwd)
    return project


def previous_at(ref: str) -> PreviousSpecs:
    """The specs of a project at a git revision, for `validate --base` (lint rule NS601)."""

    def read(project: Project) -> Mapping[str, Spec]:
        try:
            return specs_at_ref(project.root, ref, project.spec_paths).specs
        except gitrefs.GitError as exc:
            raise UsageError(f"--base {ref}: {exc}") from None

    return read
