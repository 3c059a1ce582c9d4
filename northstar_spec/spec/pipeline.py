"""The named stages, load -> check schema -> build model -> lint, as one call.

`check()` is what `northstar validate` runs and what every later command
(compile, deploy, evaluate) starts from, so "valid" always means "the rest of
the tool can work with it".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from northstar_spec.spec import file_rules, registry
from northstar_spec.spec.diagnostics import Diagnostic, has_errors
from northstar_spec.spec.lint import LintContext, apply_severities, lint
from northstar_spec.spec.loading import Document, load
from northstar_spec.spec.model import Project, Spec, build_project, build_spec
from northstar_spec.spec.schema import PROJECT_SCHEMA, SPEC_SCHEMA, validate

PROJECT_FILE = "northstar.yaml"
SPEC_SUFFIXES = (".yaml", ".yml")


class UsageError(Exception):
    """A problem with how northstar was called or set up (exit code 2), not with a spec."""


#: The specs to compare with (NS601), by product id, given the project: e.g.
#: the specs at a git revision (northstar_spec.review.snapshots.previous_at).
PreviousSpecs = Callable[[Project], Mapping[str, Spec]]


@dataclass(frozen=True)
class Result:
    project: Project
    specs: tuple[Spec, ...]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: tuple[str, ...] = ()

    def failed(self, strict: bool = False) -> bool:
        return has_errors(self.diagnostics, strict)


def display_path(path: Path, cwd: Path | None = None) -> str:
    """Paths as the user would type them: relative to the working directory when inside it."""
    cwd = (cwd or Path.cwd()).resolve()
    try:
        return str(path.resolve().relative_to(cwd))
    except ValueError:
        return str(path)


def find_project_file(start: Path) -> Path | None:
    start = start.resolve()
    for folder in (start if start.is_dir() else start.parent, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def load_project(path: Path, cwd: Path | None = None) -> tuple[Project, list[Diagnostic]]:
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
        if registry.find(key) is None:
            problems.append(
                file_rules.UNKNOWN_RULE.diagnostic(
                    document.locate(("rules", key), key=True),
                    f"no rule has the code or name {key!r}",
                    hint=registry.unknown_rule_hint(key),
                )
            )
    severities = {}
    for key, severity in project.severities.items():
        found = registry.find(key)
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
    document: Document | None, problems: list[Diagnostic], path: Path | None = None
) -> tuple[Spec | None, list[Diagnostic]]:
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
    project_file: Path | None = None,
    today: dt.date | None = None,
    previous: PreviousSpecs | None = None,
    cwd: Path | None = None,
) -> Result:
    """Validate specs: the whole pipeline but writing anything.

    Without paths, the specs listed in the project file are checked. Raises
    UsageError for what is not a finding about a spec (no project file, a
    path that does not exist, previous specs that cannot be read).
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
        before = dict(previous(project)) if previous else None
        context = LintContext(tuple(specs), project, today or dt.date.today(), before)
        diagnostics += lint(context, registry.LINT_RULES)
    diagnostics = apply_severities(diagnostics, project.severities)
    return Result(
        project, tuple(specs), sorted(diagnostics, key=lambda d: d.sort_key), tuple(display_path(f, cwd) for f in files)
    )
