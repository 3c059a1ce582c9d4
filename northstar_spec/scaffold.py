"""`northstar init`: a new spec repository that validates clean from the start."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path

from .schema import PROJECT_SCHEMA, SPEC_SCHEMA, schema_dir


class ScaffoldError(Exception):
    pass


def _template(name: str) -> str:
    return (resources.files("northstar_spec") / "templates" / name).read_text(encoding="utf-8")


def plan(product_name: str, today: dt.date) -> dict[str, str]:
    """Relative path -> content of every file `init` writes."""
    product_id = re.sub(r"[^a-z0-9]+", "-", product_name.lower()).strip("-") or "my-product"
    if not product_id[0].isalpha():
        product_id = "p-" + product_id
    spec = _template("spec.yaml").format(
        product_id=product_id, product_name=product_name.replace('"', "'"), today=today.isoformat()
    )
    return {
        "northstar.yaml": _template("northstar.yaml"),
        f"specs/{product_id}.yaml": spec,
        f"schemas/{SPEC_SCHEMA}": (schema_dir() / SPEC_SCHEMA).read_text(encoding="utf-8"),
        f"schemas/{PROJECT_SCHEMA}": (schema_dir() / PROJECT_SCHEMA).read_text(encoding="utf-8"),
        ".pre-commit-config.yaml": _template("pre-commit-config.yaml"),
        ".github/workflows/northstar.yml": _template("workflow.yml"),
    }


def init(directory: Path, product_name: str = "My Product", today: dt.date | None = None) -> list[Path]:
    """Write the scaffold; refuse, writing nothing, if any of its files already exists."""
    files = plan(product_name, today or dt.date.today())
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
