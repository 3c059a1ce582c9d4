"""Validate a bundle folder with Superset's own v1 import schemas (run in the Superset venv).

Usage: python tests/superset_schemas.py BUNDLE_DIR; prints one line per error and
`checked N files, E errors`; exit 1 on errors.
"""

import sys
from pathlib import Path

from superset.app import create_app

app = create_app()
with app.app_context():
    import superset.connectors.sqla.models  # noqa: F401  (registers the tables create_all makes)
    import superset.models.core  # noqa: F401
    from flask_appbuilder import Model
    from superset.extensions import db

    Model.metadata.create_all(db.engine)  # the database schema looks up existing databases by uuid
    from superset.charts.schemas import ImportV1ChartSchema
    from superset.commands.importers.v1.utils import METADATA_FILE_NAME, load_metadata, load_yaml
    from superset.dashboards.schemas import ImportV1DashboardSchema
    from superset.databases.schemas import ImportV1DatabaseSchema
    from superset.datasets.schemas import ImportV1DatasetSchema

    schemas = {"databases": ImportV1DatabaseSchema(), "datasets": ImportV1DatasetSchema(),
               "charts": ImportV1ChartSchema(), "dashboards": ImportV1DashboardSchema()}
    root = Path(sys.argv[1])
    errors, checked = 0, 0
    for path in sorted(root.rglob("*.yaml")):
        relative = path.relative_to(root).as_posix()
        contents = {relative: path.read_text(encoding="utf-8")}
        checked += 1
        try:
            if relative == METADATA_FILE_NAME:
                load_metadata(contents)
                continue
            config = load_yaml(relative, contents[relative])
            if relative.startswith("databases/") and "XXXXXXXXXX" in config.get("sqlalchemy_uri", ""):
                config["password"] = "given-at-import"  # as the import does with its `passwords` field
            schemas[relative.split("/")[0]].load(config)
        except Exception as exc:  # a ValidationError, or anything else the importer would raise
            errors += 1
            print(f"{relative}: {type(exc).__name__}: {exc}")
    print(f"checked {checked} files, {errors} errors")
    sys.exit(1 if errors else 0)
