"""`northstar init`: a new spec repository that validates clean from the start.

The project files go where `init` is pointed; the CI workflow and the
pre-commit config go to the top of the git repository that folder is in,
because that is the only place GitHub and pre-commit read them (with a
`working-directory` and `--project` pointing back at the folder).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

from northstar_spec import __version__, scaffold_dbt
from northstar_spec.review import codeowners
from northstar_spec.spec.loading import Document, parse
from northstar_spec.spec.model import build_project, build_spec, project_id
from northstar_spec.spec.schema import PROJECT_SCHEMA, SPEC_SCHEMA, schema_dir

CODEOWNERS = ".github/CODEOWNERS"
WORKFLOW = ".github/workflows/northstar.yml"
PRE_COMMIT = ".pre-commit-config.yaml"
#: Where northstar is released: a tag `v<version>` of this repository is a release,
#: installed by pip from git and by pre-commit from the same tag.
REPOSITORY = "https://github.com/northstar-metrics/northstar"
CODEOWNERS_HEADER = (
    "# Who must approve changes to what. Lines you write by hand go outside the\n"
    "# northstar block; `northstar codeowners` keeps that block in step with the specs' owners.\n\n"
)


class ScaffoldError(Exception):
    pass


def _template(name: str) -> str:
    return (resources.files("northstar_spec") / "templates" / name).read_text(encoding="utf-8")


def release_tag() -> str:
    """The tag of the release this northstar is: what the files `init` writes install."""
    return f"v{__version__}"


def requirement(extras: str = "", repository: str = REPOSITORY) -> str:
    """The pip requirement that installs this release of northstar from its repository's tag."""
    return f"northstar-spec{extras} @ git+{repository}@{release_tag()}"


def product_id_of(product_name: str) -> str:
    product_id = re.sub(r"[^a-z0-9]+", "-", product_name.lower()).strip("-") or "my-product"
    return product_id if product_id[0].isalpha() else "p-" + product_id


def _fill(template: str, values: dict[str, str]) -> str:
    """`@NAME@` markers replaced (a workflow is full of `${{ }}`, so no str.format)."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    return template


def workflow(folder: str = ".") -> str:
    """The CI workflow for a project in `folder` (relative to the repository root)."""
    prefix = "" if folder == "." else f"{folder}/"
    return _fill(
        _template("workflow.yml"),
        {
            "WORKING_DIRECTORY": folder,
            "INSTALL": requirement(),
            "INSTALL_DEPLOY": requirement("[postgres]"),
            "SARIF_FILE": f"{prefix}northstar.sarif",
            "DIFF_FILE": f"{prefix}northstar-diff.md",
        },
    )


def pre_commit_config(folder: str = ".") -> str:
    """pre-commit's config: the hooks of this repository at this release, installed by pre-commit."""
    args = "" if folder == "." else f"\n        args: [--project, {folder}/northstar.yaml]"
    return _fill(_template("pre-commit-config.yaml"), {"REPOSITORY": REPOSITORY, "REV": release_tag(), "ARGS": args})


def plan(product_name: str, today: dt.date, project: str = "metrics") -> dict[str, str]:
    """Path relative to the project folder -> content of every project file `init` writes."""
    product_id = product_id_of(product_name)
    spec = _template("spec.yaml").format(
        product_id=product_id, product_name=product_name.replace('"', "'"), today=today.isoformat()
    )
    project_file = _template("northstar.yaml").replace("{project_id}", project)
    return {"northstar.yaml": project_file, f"specs/{product_id}.yaml": spec, **_schemas()}


def _schemas() -> dict[str, str]:
    return {
        f"schemas/{name}": (schema_dir() / name).read_text(encoding="utf-8") for name in (SPEC_SCHEMA, PROJECT_SCHEMA)
    }


def plan_from_dbt(dbt_path: Path, directory: Path, product_name: str, today: dt.date) -> dict[str, str]:
    """The project files of `init --from-dbt`: sources from the dbt project's models (scaffold_dbt)."""
    project_file = _template("northstar.yaml").replace("{project_id}", project_id({}, directory)[0])
    try:
        files = scaffold_dbt.plan(dbt_path, directory, product_id_of(product_name), product_name, project_file, today)
    except scaffold_dbt.FromDbtError as exc:
        raise ScaffoldError(str(exc)) from None
    return {**files, **_schemas()}


def _document(text: str, name: str) -> Document:
    document, problems = parse(text, name)
    if document is None:  # a broken template: tests catch it, users never see it
        raise ScaffoldError(f"the scaffold's {name} does not parse: {problems[0].message}")
    return document


def _codeowners(project_text: str, specs: dict[str, str]) -> str:
    """What `northstar codeowners` writes for the scaffold (spec paths from the repository's top),
    so its `--check` passes from the start."""
    project = build_project(_document(project_text, "northstar.yaml"), Path("."))
    found, _ = codeowners.entries(
        [(name, build_spec(_document(text, name))) for name, text in specs.items()], project.teams
    )
    return CODEOWNERS_HEADER + codeowners.block(found)


@dataclass
class Scaffold:
    """What `init` wrote, and the repository-level files it left alone because they exist."""

    written: list[Path] = field(default_factory=list)
    #: An existing file left as it was -> what to add to it.
    kept: dict[Path, str] = field(default_factory=dict)


def init(
    directory: Path, product_name: str = "My Product", today: dt.date | None = None, files: dict[str, str] | None = None
) -> Scaffold:
    """Write the scaffold; refuse, writing nothing, if a project file or the workflow already exists.

    `files` replaces the example spec and project file (`init --from-dbt`).
    In a subfolder of a git repository the workflow and the pre-commit config
    go to the repository's top; an existing pre-commit config or CODEOWNERS
    there is kept (the user adds the hooks), an existing workflow stops init.
    """
    project = project_id({}, directory)[0]
    project_files = files if files is not None else plan(product_name, today or dt.date.today(), project)
    root = codeowners.repository_root(directory)
    here = directory.resolve()
    folder = PurePosixPath(*here.relative_to(root).parts).as_posix() if here != root else "."
    targets = {here / name: content for name, content in project_files.items()}
    targets[root / WORKFLOW] = workflow(folder)
    hooks = pre_commit_config(folder)
    optional = {root / PRE_COMMIT: (hooks, "add the northstar hooks:\n" + hooks[hooks.index("  - repo:") :])}
    owners = codeowners.default_path(root)
    optional[owners] = (_codeowners_for(project_files, folder), "run `northstar codeowners` to add the specs' owners")
    existing = [path for path in targets if path.exists()]
    if existing:
        names = ", ".join(str(p.relative_to(root)) for p in existing)
        raise ScaffoldError(f"{root} already has {names}; nothing was written (init never overwrites)")
    done = Scaffold()
    for path, (content, advice) in {**{p: (c, "") for p, c in targets.items()}, **optional}.items():
        if path.exists():
            done.kept[path] = advice
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        done.written.append(path)
    return done


def _codeowners_for(project_files: dict[str, str], folder: str) -> str:
    prefix = "" if folder == "." else f"{folder}/"
    specs = {name: text for name, text in project_files.items() if name.startswith("specs/")}
    return _codeowners(project_files["northstar.yaml"], {prefix + name: text for name, text in specs.items()})
