"""The named stages, load -> check schema -> build model -> lint, as one call.

`check()` is what `northstar validate` runs and what every later command
(compile, deploy, evaluate) starts from, so "valid" always means "the rest of
the tool can work with it".
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

from . import gitrefs, rules
from .diagnostics import Diagnostic, has_errors
from .lint import LintContext, apply_severities, lint
from .loading import Document, load, parse
from .model import Project, Spec, build_project, build_spec
from .rules import files as file_rules
from .schema import PROJECT_SCHEMA, SPEC_SCHEMA, validate

PROJECT_FILE = "northstar.yaml"
SPEC_SUFFIXES = (".yaml", ".yml")


class UsageError(Exception):
    """A problem with how northstar was called or set up (exit code 2), not with a spec."""


@dataclass(frozen=True)
class Result:
    project: Project
    specs: tuple[Spec, ...]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: tuple[str, ...] = ()

    def failed(self, strict: bool = False) -> bool:
        return has_errors(self.diagnostics, strict)


def display_path(path: Path, cwd: Optional[Path] = None) -> str:
    """Paths as the user would type them: relative to the working directory when inside it."""
    cwd = (cwd or Path.cwd()).resolve()
    try:
        return str(path.resolve().relative_to(cwd))
    except ValueError:
        return str(path)


def find_project_file(start: Path) -> Optional[Path]:
    start = start.resolve()
    for folder in (start if start.is_dir() else start.parent, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def load_project(path: Path, cwd: Optional[Path] = None) -> tuple[Project, list[Diagnostic]]:
    """The project file as a model, plus its findings.

    A project file with errors still yields a Project, without a document,
    so that the specs' own shape can be checked; lint is skipped.
    """
    document, problems = load(path, display_path(path, cwd))
    if document is not None:
        problems += validate(document, PROJECT_SCHEMA)
    if document is None or has_errors(problems):
        return Project(file=display_path(path, cwd), root=path.parent, document=None), problems
    project = build_project(document, path.parent)
    for key in project.severities:
        if rules.find(key) is None:
            problems.append(
                file_rules.UNKNOWN_RULE.diagnostic(
                    document.locate(("rules", key), key=True), f"no rule has the code or name {key!r}",
                    hint=rules.base.did_you_mean(key, [*rules.BY_CODE, *rules.BY_NAME],
                                                 "`northstar rules` lists every code and name"),
                )
            )
    severities = {}
    for key, severity in project.severities.items():
        found = rules.find(key)
        if found:
            severities[found.code] = severity
    return Project(**{**project.__dict__, "severities": severities}), problems


def discover(paths: Iterable[Path]) -> list[Path]:
    """Spec files under the given files and directories, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
        if path.is_file():
            found.append(path)
            continue
        for candidate in sorted(path.rglob("*")):
            relative = candidate.relative_to(path).parts
            if (
                candidate.suffix in SPEC_SUFFIXES
                and candidate.name != PROJECT_FILE
                and not any(part.startswith(".") for part in relative)
                and candidate.is_file()
            ):
                found.append(candidate)
    return list(dict.fromkeys(p.resolve() for p in found))


def spec_from_document(
    document: Optional[Document], problems: list[Diagnostic], path: Optional[Path] = None
) -> tuple[Optional[Spec], list[Diagnostic]]:
    """Schema-check a parsed spec and build its model when it is sound."""
    if document is None:
        return None, problems
    problems = problems + validate(document, SPEC_SCHEMA)
    if has_errors(problems):
        return None, problems
    return build_spec(document, path), problems


def check(
    paths: Sequence[Path] = (),
    *,
    project_file: Optional[Path] = None,
    today: Optional[dt.date] = None,
    base: Optional[str] = None,
    cwd: Optional[Path] = None,
) -> Result:
    """Validate specs: the whole pipeline but writing anything.

    Without paths, the specs listed in the project file are checked. Raises
    UsageError for what is not a finding about a spec (no project file, a
    path that does not exist, a git ref that does not resolve).
    """
    cwd = cwd or Path.cwd()
    start = Path(paths[0]) if paths else cwd
    project_path = project_file or find_project_file(start if start.exists() else cwd)
    if project_path is None or not project_path.is_file():
        raise UsageError(
            f"no {PROJECT_FILE} found in {display_path(start, cwd) if paths else 'this directory'} or its parents; "
            "create one with `northstar init`, or pass --project"
        )
    project, diagnostics = load_project(project_path, cwd)
    if not paths:
        paths = [project.root / p for p in project.spec_paths]
    files = discover(Path(p) for p in paths)
    specs: list[Spec] = []
    for file in files:
        if file.resolve() == project_path.resolve():
            continue
        spec, problems = spec_from_document(*load(file, display_path(file, cwd)), path=file)
        diagnostics += problems
        if spec is not None:
            specs.append(spec)
    if project.document is not None:  # lint needs the teams and databases of a sound project file
        try:
            previous = specs_at_ref(project.root, base, project.spec_paths).specs if base else None
        except gitrefs.GitError as exc:
            raise UsageError(f"--base {base}: {exc}") from None
        diagnostics += lint(LintContext(tuple(specs), project, today or dt.date.today(), previous))
    diagnostics = apply_severities(diagnostics, project.severities)
    return Result(project, tuple(specs), sorted(diagnostics, key=lambda d: d.sort_key),
                  tuple(display_path(f, cwd) for f in files))


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


def _spec_set(entries: Iterable[tuple[str, tuple[Optional[Document], list[Diagnostic]], Optional[Path]]]) -> SpecSet:
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


def specs_on_disk(root: Path, paths: Sequence[Path], cwd: Optional[Path] = None) -> SpecSet:
    """The specs in files and folders on disk; names are relative to `root` when inside it."""
    def name(file: Path) -> str:
        try:
            return file.relative_to(root.resolve()).as_posix()
        except ValueError:
            return display_path(file, cwd)

    return _spec_set(
        (name(file), load(file, display_path(file, cwd)), file)
        for file in discover(paths) if file.name != PROJECT_FILE
    )
