"""Superset's own v1 import schemas, run locally on a bundle before it is sent.

Superset's assets import answers every schema error with a bare 500 "Import
failed for an unknown reason"; these are the same marshmallow schemas it
applies, so a problem is named here, per file, before anything is sent.
They need an initialised Superset app, so the check runs in a subprocess
with a throwaway configuration, and only where apache-superset is installed.

    python -m superset_plugin.deploy.import_schemas BUNDLE_DIR   # prints errors; exit 1 on any
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from superset_plugin.compiler.bundle import Bundle
from superset_plugin.compiler.naming import BUNDLE_ROOT

MASK = "XXXXXXXXXX"


def available() -> bool:
    return importlib.util.find_spec("superset") is not None


def check(bundle: Bundle, timeout: float = 300) -> list[str] | None:
    """Problems Superset's schemas find in the bundle; None when Superset is not installed here."""
    if not available():
        return None
    with tempfile.TemporaryDirectory(prefix="northstar-schemas-") as tmp:
        folder = Path(tmp)
        bundle.write(folder)
        config = folder / "superset_config.py"
        config.write_text(f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{folder / 'meta.db'}'\n")
        env = {
            **os.environ,
            "SUPERSET_CONFIG_PATH": str(config),
            "SUPERSET_HOME": str(folder),
            "SUPERSET_SECRET_KEY": secrets.token_urlsafe(32),
        }
        done = subprocess.run(
            [sys.executable, "-m", "superset_plugin.deploy.import_schemas", str(folder / BUNDLE_ROOT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    problems = [line.removeprefix("problem: ") for line in done.stdout.splitlines() if line.startswith("problem: ")]
    if done.returncode != 0 and not problems:
        problems = [f"Superset's import schemas could not be run (exit {done.returncode})"]
    return problems


def main(root: Path) -> int:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        import superset.connectors.sqla.models
        import superset.models.core  # noqa: F401
        from flask_appbuilder import Model
        from superset.charts.schemas import ImportV1ChartSchema
        from superset.commands.importers.v1.utils import METADATA_FILE_NAME, load_metadata, load_yaml
        from superset.dashboards.schemas import ImportV1DashboardSchema
        from superset.databases.schemas import ImportV1DatabaseSchema
        from superset.datasets.schemas import ImportV1DatasetSchema
        from superset.extensions import db

        Model.metadata.create_all(db.engine)  # the database schema looks up existing databases by uuid
        schemas = {
            "databases": ImportV1DatabaseSchema(),
            "datasets": ImportV1DatasetSchema(),
            "charts": ImportV1ChartSchema(),
            "dashboards": ImportV1DashboardSchema(),
        }
        errors, checked = 0, 0
        for path in sorted(root.rglob("*.yaml")):
            relative = path.relative_to(root).as_posix()
            text = path.read_text(encoding="utf-8")
            checked += 1
            try:
                if relative == METADATA_FILE_NAME:
                    load_metadata({relative: text})
                    continue
                config = load_yaml(relative, text)
                if relative.startswith("databases/") and MASK in config.get("sqlalchemy_uri", ""):
                    config["password"] = "given-at-import"  # as the import does with its `passwords` field
                schemas[relative.split("/")[0]].load(config)
            except Exception as exc:  # a ValidationError, or anything else the importer would raise
                errors += 1
                print(f"problem: {relative}: {type(exc).__name__}: {exc}")
        print(f"checked {checked} files, {errors} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
