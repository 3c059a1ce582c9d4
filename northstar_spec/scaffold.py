"""`northstar init`: a new spec repository that validates clean from the start."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path

from northstar_spec.review import codeowners
from northstar_spec.spec.loading import Document, parse
from northstar_spec.spec.model import build_project, build_spec, project_id
from northstar_spec.spec.schema import PROJECT_SCHEMA, SPEC_SCHEMA, schema_dir

CODEOWNERS = ".github/CODEOWNERS"
CODEOWNERS_HEADER = (
    "# Who must approve changes to what. Lines you write by hand go outside the\n"
    "# northstar block; `northstar codeowners` keeps that block in step with the specs' owners.\n\n"
)


class ScaffoldError(Exception):
    pass


def _template(name: str) -> str:
    return (resources.files("northstar_spec") / "templates" / name).read_text(encoding="utf-8")


def plan(product_name: str, today: dt.date, project: str = "metrics") -> dict[str, str]:
    """Relative path -> content of every file `init` writes; `project` is the project id it declares."""
    product_id = re.sub(r"[^a-z0-9]+", "-", product_name.lower()).strip("-") or "my-product"
    if not product_id[0].isalpha():
        product_id = "p-" + product_id
    spec = _template("spec.yaml").format(
        product_id=product_id, product_name=product_name.replace('"', "'"), today=today.isoformat()
    )
    project_file = _template("northstar.yaml").replace("{project_id}", project)
    return {
        "northstar.yaml": project_file,
        f"specs/{product_id}.yaml": spec,
        f"schemas/{SPEC_SCHEMA}": (schema_dir() / SPEC_SCHEMA).read_text(encoding="utf-8"),
        f"schemas/{PROJECT_SCHEMA}": (schema_dir() / PROJECT_SCHEMA).read_text(encoding="utf-8"),
        ".pre-commit-config.yaml": _template("pre-commit-config.yaml"),
        ".github/workflows/northstar.yml": _template("workflow.yml"),
        CODEOWNERS: _codeowners(project_file, f"specs/{product_id}.yaml", spec),
    }


def _document(text: str, name: str) -> Document:
    document, problems = parse(text, name)
    if document is None:  # a broken template: tests catch it, users never see it
        raise ScaffoldError(f"the scaffold's {name} does not parse: {problems[0].message}")
    return document


def _codeowners(project_text: str, spec_name: str, spec_text: str) -> str:
    """What `northstar codeowners` writes for the scaffold, so its `--check` passes from the start."""
    project = build_project(_document(project_text, "northstar.yaml"), Path("."))
    spec = build_spec(_document(spec_text, spec_name))
    found, _ = codeowners.entries([(spec_name, spec)], project.teams)
    return CODEOWNERS_HEADER + codeowners.block(found)


def init(directory: Path, product_name: str = "My Product", today: dt.date | None = None) -> list[Path]:
    """Write the scaffold; refuse, writing nothing, if any of its files already exists."""
    files = plan(product_name, today or dt.date.today(), project_id({}, directory)[0])
    if codeowners.repository_root(directory) != directory.resolve():
        # Inside a larger git repository GitHub reads CODEOWNERS at its top, not here:
        # `northstar codeowners` writes it there, with paths from there.
        del files[CODEOWNERS]
    existing = [name for name in files if (directory / name).exists()]
    if existing:
        raise ScaffoldError(
            f"{directory} already has {', '.join(existing)}; nothing was written (init never overwrites)"
        )
    written = []
    for name, content in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        written.append(target)
    return written
