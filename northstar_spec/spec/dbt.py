"""A dbt project as northstar reads it: its models (the relation each builds,
and the columns it has) and its semantic metrics, from the files dbt writes
(`target/manifest.json`, and `target/catalog.json` when `dbt docs generate`
ran). Read offline: no warehouse, no credentials, no dbt installed.

Which columns a model has: the catalog lists every column with its type, as
the warehouse reported it; without a catalog, the manifest's columns count
only for a model with an enforced contract (otherwise they are just the
documented ones, maybe not all); else the columns are unknown and are not
checked.

How dbt metrics and northstar metrics stay in step: by name. A northstar
metric whose id is the name of a dbt metric claims to be that metric; lint
rule NS913 compares what the two compute (aggregate, column, filter) and
reports a drift. A northstar metric with an id of its own is northstar's
alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: The manifest versions whose shape this reads (dbt 1.8 to 1.11 write v12).
MANIFEST_VERSIONS = re.compile(r"/manifest/v(1[0-9]|[2-9][0-9])\.json$")


class DbtError(Exception):
    """A manifest or catalog that cannot be read as one."""


@dataclass(frozen=True)
class Setting:
    """`dbt:` in northstar.yaml: where the manifest and catalog are."""

    manifest: Path
    catalog: Path | None = None


@dataclass(frozen=True)
class Model:
    name: str
    unique_id: str
    schema: str | None
    alias: str
    description: str = ""
    #: Column name (lower case) -> type, or None for a documented column without one; None: not known.
    columns: Mapping[str, str | None] | None = None
    #: A time spine (MetricFlow's calendar table) is no source of events.
    time_spine: bool = False

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.alias}" if self.schema else self.alias


@dataclass(frozen=True)
class Metric:
    """A dbt semantic metric of type simple: one measure of one semantic model, maybe filtered."""

    name: str
    unique_id: str
    label: str
    aggregate: str | None
    expression: str | None
    filter: str | None
    #: The dbt model its semantic model reads.
    model: str | None = None


@dataclass(frozen=True)
class Project:
    manifest: Path
    catalog: Path | None
    models: dict[str, Model] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _json(path: Path, what: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DbtError(f"no dbt {what} at {_shown(path)}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DbtError(f"the dbt {what} {_shown(path)} cannot be read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), dict):
        raise DbtError(f"{_shown(path)} is not a dbt {what} (it has no `nodes`)")
    return data


def load(setting: Setting) -> Project:
    """The models and metrics of a dbt project. Raises DbtError."""
    manifest = _json(setting.manifest, "manifest")
    version = str(manifest.get("metadata", {}).get("dbt_schema_version", ""))
    if not MANIFEST_VERSIONS.search(version):
        raise DbtError(
            f"{_shown(setting.manifest)} is a dbt manifest of version {version or 'unknown'}; northstar reads v10+"
        )
    catalog_path = setting.catalog or (setting.manifest.parent / "catalog.json")
    catalog = _json(catalog_path, "catalog") if setting.catalog or catalog_path.is_file() else None
    models = {}
    for unique_id, node in manifest["nodes"].items():
        if not isinstance(node, dict) or node.get("resource_type") != "model":
            continue
        columns: dict[str, str | None] | None = None
        known = (catalog or {}).get("nodes", {}).get(unique_id)
        if isinstance(known, dict):
            columns = {str(c.get("name", n)).lower(): c.get("type") for n, c in known.get("columns", {}).items()}
        elif (node.get("contract") or {}).get("enforced") and node.get("columns"):
            # An enforced contract lists every column; otherwise the documented ones may be only some.
            columns = {str(c.get("name", n)).lower(): c.get("data_type") for n, c in node["columns"].items()}
        name = str(node["name"])
        models[name] = Model(
            name,
            unique_id,
            node.get("schema"),
            str(node.get("alias") or name),
            node.get("description") or "",
            columns,
            bool(node.get("time_spine")),
        )
    return Project(setting.manifest, catalog_path if catalog else None, models, _metrics(manifest))


def _metrics(manifest: dict) -> dict[str, Metric]:
    measures: dict[str, tuple[str | None, str | None, dict[str, str], str | None]] = {}
    for semantic in (manifest.get("semantic_models") or {}).values():
        reads = [n for n in (semantic.get("depends_on") or {}).get("nodes", []) if n.startswith("model.")]
        model = manifest["nodes"].get(reads[0], {}).get("name") if reads else None
        dimensions = {
            f"{entity['name']}__{d['name']}": d.get("expr") or d["name"]
            for entity in semantic.get("entities", [])
            for d in semantic.get("dimensions", [])
        }
        for measure in semantic.get("measures", []):
            measures[measure["name"]] = (measure.get("agg"), measure.get("expr") or measure["name"], dimensions, model)
    found = {}
    for unique_id, metric in (manifest.get("metrics") or {}).items():
        if metric.get("type") != "simple":
            continue
        measure = (metric.get("type_params") or {}).get("measure") or {}
        aggregate, expression, dimensions, model = measures.get(measure.get("name", ""), (None, None, {}, None))
        wheres = [
            w["where_sql_template"]
            for source in (metric.get("filter"), measure.get("filter"))
            for w in ((source or {}).get("where_filters") or [])
        ]
        condition = " AND ".join(_dimensions(w, dimensions) for w in wheres) or None
        label = metric.get("label") or metric["name"]
        found[metric["name"]] = Metric(metric["name"], unique_id, label, aggregate, expression, condition, model)
    return found


def _dimensions(template: str, dimensions: dict[str, str]) -> str:
    """`{{ Dimension('event__event_type') }} = 'x'` as the SQL it stands for: `event_type = 'x'`."""
    return re.sub(
        r"\{\{\s*Dimension\(\s*'([^']+)'\s*\)\s*\}\}",
        lambda m: dimensions.get(m.group(1), m.group(1).rpartition("__")[2]),
        template,
    )
