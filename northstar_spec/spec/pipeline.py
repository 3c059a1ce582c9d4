"""The named stages, load -> check schema -> build model -> lint, as one call.

`check()` is what `northstar validate` runs and what every later command
(compile, deploy, evaluate) starts from, so "valid" always means "the rest of
the tool can work with it".
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from northstar_spec.spec import file_rules, registry
from northstar_spec.spec.diagnostics import Diagnostic, has_errors
from northstar_spec.spec.lint import LintContext, apply_severities, lint
from northstar_spec.spec.loading import Document, load, parse
from northstar_spec.spec.model import Project, Spec, build_project, build_spec
from northstar_spec.spec.schema import PROJECT_SCHEMA, SPEC_SCHEMA, validate

PROJECT_FILE = "northstar.yaml"
SPEC_SUFFIXES = (".yaml", ".yml")
#: How a spec read from standard input (`northstar validate -`) is named in findings.
STDIN_NAME = "<stdin>"


class UsageError(Exception):
    """A problem with how northstar was called or set up (exit code 2), not with a spec."""


#: A target's check of valid specs (a compiler run to nowhere), registered by
#: the target under the `northstar.checks` entry point: specs, project and
#: environment in, findings (rule NS901) out.
TargetCheck = Callable[[Sequence[Spec], Project, Mapping[str, str]], list[Diagnostic]]

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

    def adding(self, diagnostics: Iterable[Diagnostic]) -> Result:
        """This result with the findings of a later stage (a target's compile check, the warehouse)."""
        extra = apply_severities(list(diagnostics), self.project.severities)
        return replace(self, diagnostics=sorted(self.diagnostics + extra, key=lambda d: d.sort_key))


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
    if document is None or file_rules.blocks(problems):
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
    """Spec files under the given files and directories, in a stable order.

    A path that is neither a regular file nor a folder (a device such as
    /dev/zero, a FIFO, a socket, or a symlink to one) is a usage error: it
    is never opened, so a FIFO cannot hang the command.
    """
    found: list[Path] = []
    for path in paths:
        try:
            mode = path.stat().st_mode  # follows symlinks: a link to /dev/null is a device
        except FileNotFoundError:
            raise UsageError(f"{path}: no such file or directory") from None
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror}") from None
        if stat.S_ISREG(mode):
            found.append(path)
            continue
        if not stat.S_ISDIR(mode):
            link = f"a symlink to {os.path.realpath(path)}, " if path.is_symlink() else ""
            raise UsageError(f"{path}: {link}{_kind(mode)}, not a spec file or a folder of specs")
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


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def spec_from_document(
    document: Document | None, problems: list[Diagnostic], path: Path | None = None
) -> tuple[Spec | None, list[Diagnostic]]:
    """Schema-check a parsed spec and build its model when it is sound."""
    if document is None:
        return None, problems
    problems = problems + validate(document, SPEC_SCHEMA)
    if file_rules.blocks(problems):
        return None, problems
    return build_spec(document, path), problems


def check(
    paths: Sequence[Path] = (),
    *,
    project_file: Path | None = None,
    today: dt.date | None = None,
    previous: PreviousSpecs | None = None,
    cwd: Path | None = None,
    stdin: bytes | None = None,
) -> Result:
    """Validate specs: the whole pipeline but writing anything.

    Without paths (and without `stdin`, the bytes of one spec read from
    standard input), the specs listed in the project file are checked.
    Raises UsageError for what is not a finding about a spec (no project
    file, a path that does not exist or is no file, no spec at all, previous
    specs that cannot be read).
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
    if not paths and stdin is None:
        paths = [project.root / p for p in project.spec_paths]
    files = [f for f in discover(Path(p) for p in paths) if f.resolve() != project_path.resolve()]
    documents: list[tuple[tuple[Document | None, list[Diagnostic]], Path | None]] = [
        (load(file, display_path(file, cwd)), file) for file in files
    ]
    if stdin is not None:
        documents.append((parse(stdin, STDIN_NAME), None))
    specs: list[Spec] = []
    for (document, problems), path in documents:
        spec, problems = spec_from_document(document, problems, path=path)
        diagnostics += problems
        if spec is not None:
            specs.append(spec)
    if project.document is not None:  # lint needs the teams and databases of a sound project file
        before = dict(previous(project)) if previous else None
        context = LintContext(tuple(specs), project, today or dt.date.today(), before)
        diagnostics += lint(context, registry.LINT_RULES)
    if not documents:
        where = ", ".join(display_path(Path(p), cwd) for p in paths)
        raise UsageError(f"no spec files ({', '.join('*' + s for s in SPEC_SUFFIXES)}) in {where}")
    diagnostics = apply_severities(diagnostics, project.severities)
    names = tuple(display_path(f, cwd) for f in files) + ((STDIN_NAME,) if stdin is not None else ())
    return Result(project, tuple(specs), sorted(diagnostics, key=lambda d: d.sort_key), names)
