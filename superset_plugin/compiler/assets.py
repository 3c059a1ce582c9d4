"""Spec model -> Superset v1 asset bundle: databases, datasets, charts, one
dashboard per spec and a portfolio dashboard.

A pure function of the specs, the project file and the database URIs in the
environment: no clock, no network. The URIs are needed for their dialect and
their (masked) form; their passwords go to `Bundle.passwords`, which only the
import request ever sees.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from northstar_spec.spec.bidi import escape_bidi
from northstar_spec.spec.diagnostics import Location
from northstar_spec.spec.model import Metric, Project, Spec
from northstar_spec.spec.sql import FragmentError, metric_sql, runtime_dialect, share_sql, source_table
from superset_plugin.compiler import charts, markdown, naming, portfolio, rituals
from superset_plugin.compiler.bundle import Bundle, dump_yaml
from superset_plugin.compiler.layout import Layout, dashboard_metadata, split_widths

VERSION = "1.0.0"
MASK = "XXXXXXXXXX"
CERTIFIED_BY = "northstar"


class CompileError(Exception):
    """These specs cannot be compiled: a missing URI, an unknown dialect, or SQL that does not pass its
    check in the database's dialect (the message names file:line:col): exit 2.

    `location` is where the cause is written (a database declaration, a
    source's time column), when the compiler knows it: `northstar validate`
    reports it there (NS901).
    """

    def __init__(self, message: str, location: Location | None = None):
        super().__init__(message)
        self.location = location


@dataclass(frozen=True)
class Database:
    name: str
    masked_uri: str
    password: str | None
    dialect: Dialect

    @property
    def dialect_name(self) -> str:
        return self.dialect.name


def _declared_at(project: Project, name: str) -> Location | None:
    if project.document is None:
        return None
    return project.document.locate(("databases", name, "uri_env"))


def resolve_database(project: Project, name: str, env: Mapping[str, str]) -> Database:
    declared = project.databases.get(name)
    if declared is None:
        raise CompileError(f"database {name!r} is not declared in {project.file}")
    uri = env.get(declared.uri_env)
    if not uri:
        raise CompileError(
            f"database {name!r}: the environment variable {declared.uri_env} is not set "
            f"(it holds the SQLAlchemy URI, e.g. postgresql://user:password@host/db)",
            _declared_at(project, name),
        )
    try:
        url = sa.engine.make_url(uri)
        dialect = url.get_dialect()()
    except Exception as exc:
        raise CompileError(
            f"database {name!r}: {declared.uri_env} is not a usable SQLAlchemy URI ({type(exc).__name__})",
            _declared_at(project, name),
        ) from None
    password = url.password
    if password is not None:
        url = url.set(password=MASK)
    return Database(name, url.render_as_string(hide_password=False), password, dialect)


def spec_url(project: Project, spec: Spec) -> str | None:
    """Where the spec file is browsed (external_url), when the project names its repository."""
    if not project.repository_url or spec.path is None:
        return None
    try:
        relative = Path(spec.path).resolve().relative_to(Path(project.root).resolve()).as_posix()
    except ValueError:
        return None
    return f"{project.repository_url.rstrip('/')}/blob/{project.repository_branch}/{relative}"


def _quote(dialect: Dialect, name: str) -> str:
    return dialect.identifier_preparer.quote(name)


class _Compiler:
    def __init__(self, project: Project, env: Mapping[str, str]):
        self.project = project
        self.env = env
        self.bundle = Bundle()
        self.databases: dict[str, Database] = {}
        self.datasets: dict[tuple, dict] = {}  # (database, schema, table) -> dataset YAML data
        self.team_names = {team_id: team.name for team_id, team in project.teams.items()}

    def database(self, name: str) -> Database:
        if name not in self.databases:
            db = resolve_database(self.project, name, self.env)
            self.databases[name] = db
            path = naming.database_file(name)
            self.bundle.files[path] = {
                "database_name": naming.database_name(name),
                "sqlalchemy_uri": db.masked_uri,
                "uuid": naming.database_uuid(name),
                "version": VERSION,
                "expose_in_sqllab": True,
                "allow_run_async": False,
                "allow_ctas": False,
                "allow_cvas": False,
                "allow_dml": False,
                "allow_file_upload": False,
                "cache_timeout": None,
                "extra": {"allows_virtual_table_explore": True},
                "is_managed_externally": True,
            }
            if db.password is not None:
                self.bundle.passwords[path] = db.password
        return self.databases[name]

    def dialect(self, name: str) -> str:
        """The dialect the fragments of a database are rendered in: its URI's, which must be the declared one."""
        return runtime_dialect(self.project, name, self.database(name).dialect_name)

    def dataset(self, spec: Spec, source_id: str) -> tuple[str, charts.Frame]:
        """The dataset of a source's table, shared by every spec that reads that table."""
        source = spec.sources[source_id]
        db = self.database(source.database)
        source_table(spec, source, self.dialect(source.database))
        key = (source.database, source.schema, source.table)
        if key not in self.datasets:
            self.datasets[key] = {
                "table_name": source.table,
                "schema": source.schema,
                "main_dttm_col": source.time_column,
                "description": source.description,
                "uuid": naming.dataset_uuid(source.database, source.schema or "", source.table),
                "database_uuid": naming.database_uuid(source.database),
                "version": VERSION,
                "offset": 0,
                "cache_timeout": None,
                "sql": None,
                "filter_select_enabled": True,
                "fetch_values_predicate": None,
                "extra": {
                    "certification": {"certified_by": CERTIFIED_BY, "details": naming.certification(self.project.id)}
                },
                "is_managed_externally": True,
                "columns": [
                    {
                        "column_name": source.time_column,
                        "is_dttm": True,
                        "type": "TIMESTAMP",
                        "groupby": True,
                        "filterable": True,
                    }
                ],
                "metrics": [],
                "normalize_columns": False,
            }
            self.bundle.files[naming.dataset_file(source.database, source.schema or "", source.table)] = self.datasets[
                key
            ]
        dataset = self.datasets[key]
        if dataset["main_dttm_col"] != source.time_column:
            raise CompileError(
                f"{spec.file}: source {source_id!r} reads {source.table} by {source.time_column!r}, but another "
                f"spec reads the same table by {dataset['main_dttm_col']!r}; one table has one time column",
                spec.at(source.path + ("time_column",)),
            )
        return dataset["uuid"], charts.Frame(_quote(db.dialect, source.time_column), db.dialect_name)

    def add_metric(self, spec: Spec, metric: Metric) -> tuple[str, charts.Frame]:
        dataset_uuid, frame = self.dataset(spec, metric.source)
        source = spec.sources[metric.source]
        dataset = self.datasets[(source.database, source.schema, source.table)]
        if any(m["metric_name"] == metric.id for m in dataset["metrics"]):
            return dataset_uuid, frame  # a metric shown by two charts is one dataset metric
        dataset["metrics"].append(
            {
                "metric_name": metric.id,
                "verbose_name": metric.name,
                "expression": metric_sql(spec, metric, self.dialect(source.database)),
                "description": metric.definition,
                "d3format": charts.number_format(metric),
                "metric_type": None,
                "warning_text": None,
                "extra": {"certification": {"certified_by": CERTIFIED_BY, "details": f"Defined in {spec.file}"}},
            }
        )
        columns = {c["column_name"] for c in dataset["columns"]}
        measures = (
            [metric.measure]
            if metric.measure
            else ([metric.ratio.numerator.measure, metric.ratio.denominator.measure] if metric.ratio else [])
        )
        for measure in measures:
            if measure.column and measure.column not in columns:
                dataset["columns"].append(
                    {"column_name": measure.column, "is_dttm": False, "groupby": True, "filterable": True}
                )
                columns.add(measure.column)
        return dataset_uuid, frame

    def add_share(self, spec: Spec, metric: Metric, whole: float) -> None:
        """The dataset metric of `metric` over `whole` (its target): what the progress tile shows."""
        source = spec.sources[metric.source]
        dataset = self.datasets[(source.database, source.schema, source.table)]
        dataset["metrics"].append(
            {
                "metric_name": metric.id + naming.TARGET_SHARE,
                "verbose_name": f"{metric.name}: share of target",
                "expression": share_sql(spec, metric, whole, self.dialect(source.database)),
                "description": f"{metric.name} over its target, {whole:g}",
                "d3format": ",.1%",
                "metric_type": None,
                "warning_text": None,
                "extra": {"certification": {"certified_by": CERTIFIED_BY, "details": f"Defined in {spec.file}"}},
            }
        )

    def chart(self, spec: Spec, product_id: str, chart: charts.ChartSpec, dataset_uuid: str, owner: str | None) -> str:
        uuid = naming.chart_uuid(product_id, chart.key)
        self.bundle.teams[uuid] = frozenset([owner] if owner else [])
        self.bundle.products[uuid] = spec.product.id
        url = spec_url(self.project, spec)
        data = {
            "slice_name": chart.name,
            "description": chart.description or None,
            "certified_by": CERTIFIED_BY,
            "certification_details": naming.certification(self.project.id, spec.file),
            "viz_type": chart.viz_type,
            "params": chart.params,
            "query_context": charts.encode_query_context(chart),
            "cache_timeout": None,
            "uuid": uuid,
            "version": VERSION,
            "dataset_uuid": dataset_uuid,
            "is_managed_externally": True,
        }
        if url:
            data["external_url"] = url
        self.bundle.files[naming.chart_file(product_id, chart.key)] = data
        return uuid

    def spec_dashboard(self, spec: Spec) -> None:
        product = spec.product.id
        ns = spec.north_star
        layout = Layout()
        header = markdown.header(spec, spec_url(self.project, spec), self.team_names)
        layout.row([layout.markdown("header", header, 12, 34)])

        dataset, frame = self.add_metric(spec, ns)
        number = charts.big_number(
            naming.metric_chart_key(ns), naming.chart_title(ns), ns, frame, ns.definition or "", hero=True
        )
        trend = charts.trend("north_star_trend", naming.chart_title(ns, "trend"), ns, frame, ns.definition or "")
        hero = [layout.chart(number.key, self.chart(spec, product, number, dataset, ns.owner), number.name, 4, 60)]
        if ns.target is not None and ns.target.value:
            self.add_share(spec, ns, ns.target.value)
            progress = charts.target_progress("north_star_target", "Progress to target", ns, frame)
            hero.append(
                layout.chart(progress.key, self.chart(spec, product, progress, dataset, ns.owner), progress.name, 3, 60)
            )
        width = 12 - sum(tile["meta"]["width"] for tile in hero)
        hero.append(layout.chart(trend.key, self.chart(spec, product, trend, dataset, ns.owner), trend.name, width, 60))
        layout.row(hero)

        layout.header("inputs", "Inputs: the levers squads move")
        self._rows(layout, self._tiles(spec, spec.inputs, charts.big_number), per_row=5)
        if spec.counter_metrics:
            layout.header("guardrails", "Guardrails: counter-metrics and their thresholds")
            for (now, now_uuid), (trend_chart, trend_uuid) in zip(
                self._tiles(spec, spec.counter_metrics, charts.guardrail_now, suffix="_now"),
                self._tiles(spec, spec.counter_metrics, charts.trend),
            ):
                layout.row(
                    [
                        layout.chart(now.key, now_uuid, now.name, 3, 40),
                        layout.chart(trend_chart.key, trend_uuid, trend_chart.name, 9, 40),
                    ]
                )

        tree, history = markdown.metric_tree(spec, self.team_names), markdown.history(spec) if spec.history else ""
        height = _markdown_height(tree, history)
        bottom = [layout.markdown("tree", tree, 6 if history else 12, height)]
        if history:
            bottom.append(layout.markdown("history", history, 6, height))
        layout.row(bottom)
        self.dashboard(
            product,
            f"North Star: {spec.product.name}",
            layout,
            spec_url(self.project, spec),
            description=spec.product.description,
            teams={m.owner for m in spec.metrics if m.owner},
        )

    def _tiles(self, spec: Spec, metrics: Sequence[Metric], make_chart, suffix: str = "") -> list:
        """One chart per metric, each made by `make_chart` (a big number or a trend)."""
        tiles = []
        for metric in metrics:
            dataset, frame = self.add_metric(spec, metric)
            team = self.project.teams.get(metric.owner or "")
            title = naming.chart_title(metric, owner_name=team.name if team else None)
            key = naming.metric_chart_key(metric) + suffix
            title = title if not suffix else f"{metric.name} now"
            chart = make_chart(key, title, metric, frame, metric.definition or "")
            tiles.append((chart, self.chart(spec, spec.product.id, chart, dataset, metric.owner)))
        return tiles

    def _rows(self, layout: Layout, tiles: list, per_row: int) -> None:
        widths = split_widths(len(tiles), per_row)
        index = 0
        for row in widths:
            items = []
            for width in row:
                chart, uuid = tiles[index]
                items.append(layout.chart(chart.key, uuid, chart.name, width))
                index += 1
            layout.row(items)

    def portfolio(self, specs: Sequence[Spec]) -> None:
        """This project's portfolio tiles, and the shared dashboard showing them (a deploy adds the others')."""
        entries = []
        for spec in specs:
            ns = spec.north_star
            dataset, frame = self.dataset(spec, ns.source)
            chart = charts.big_number(
                spec.product.id, f"{spec.product.name}: {ns.name}", ns, frame, ns.definition or ""
            )
            entry = portfolio.Entry(
                spec.product.id,
                spec.product.name,
                ns.name,
                ns.owner,
                self.project.id,
                naming.chart_uuid(naming.PORTFOLIO_ID, chart.key),
                chart.name,
            )
            chart = dataclasses.replace(chart, params={**chart.params, portfolio.PARAMS_KEY: entry.params()})
            self.chart(spec, naming.PORTFOLIO_ID, chart, dataset, ns.owner)
            entries.append(entry)
        self.bundle.files[naming.dashboard_file(naming.PORTFOLIO_ID)] = portfolio.dashboard(entries)

    def dashboard(
        self, product_id: str, title: str, layout: Layout, url: str | None, description: str | None, teams: set[str]
    ) -> None:
        self.bundle.teams[naming.dashboard_uuid(product_id)] = frozenset(teams)
        self.bundle.products[naming.dashboard_uuid(product_id)] = product_id
        data = {
            "dashboard_title": title,
            "description": description,
            "css": "",
            "slug": naming.dashboard_slug(product_id),
            "uuid": naming.dashboard_uuid(product_id),
            "position": layout.position(),
            "metadata": dashboard_metadata(product_id),
            "version": VERSION,
            "published": True,
            "certified_by": CERTIFIED_BY,
            "certification_details": naming.certification(self.project.id),
            "is_managed_externally": True,
        }
        if url:
            data["external_url"] = url
        self.bundle.files[naming.dashboard_file(product_id)] = data


def _markdown_height(*texts: str) -> int:
    """Grid units (8 px) for markdown tiles side by side: tall enough for the longest."""
    lines = max(len(t.splitlines()) for t in texts)
    return max(20, 8 + 3 * lines)


FINGERPRINT_MARK = " · fingerprint "


def stamp(path: str, data: dict) -> None:
    """Stamp a dataset, chart or dashboard with a hash of its own content.

    The stamp rides in the certification text, which Superset keeps and lists
    cheaply, so a deploy can tell what changed since the last one without
    fetching every asset in full.
    """
    kind = path.split("/")[0]
    if kind == "datasets":
        holder, key = data["extra"]["certification"], "details"
    elif kind in ("charts", "dashboards"):
        holder, key = data, "certification_details"
    else:
        return
    digest = hashlib.sha256(dump_yaml(data).encode("utf-8")).hexdigest()[:16]
    holder[key] = f"{holder[key]}{FINGERPRINT_MARK}{digest}"


def fingerprint_of(certification: str | None) -> str | None:
    if not certification or FINGERPRINT_MARK not in certification:
        return None
    return certification.rsplit(FINGERPRINT_MARK, 1)[1]


def compile_bundle(specs: Sequence[Spec], project: Project, env: Mapping[str, str] | None = None) -> Bundle:
    compiler = _Compiler(project, os.environ if env is None else env)
    ordered = sorted(specs, key=lambda s: s.product.id)
    try:
        for spec in ordered:
            compiler.spec_dashboard(spec)
        if ordered:
            compiler.portfolio(ordered)
    except FragmentError as exc:
        raise CompileError(str(exc)) from None
    compiler.bundle.files = {path: finish(path, data) for path, data in compiler.bundle.files.items()}
    try:
        dialects = {name: (db.dialect, compiler.dialect(name)) for name, db in compiler.databases.items()}
        compiler.bundle.schedules = rituals.compile_schedules(ordered, project, compiler.env, dialects)
    except (rituals.ScheduleError, FragmentError) as exc:
        raise CompileError(str(exc)) from None
    return compiler.bundle


def finish(path: str, data: dict) -> dict:
    """What every asset goes through last: bidi marks made visible, then its fingerprint (`stamp`)."""
    shown = _shown(data)
    stamp(path, shown)
    return shown


#: Keys whose values are SQL, run as written: the only strings not made safe to show.
_SQL_KEYS = frozenset({"expression", "sql", "sqlExpression", "sqlalchemy_uri", "fetch_values_predicate"})


def _shown(data: Any, key: str | None = None) -> Any:
    """Every title, name, description and markdown text of an asset with its bidi control
    characters made visible (markdown.text escapes the rest of what markdown could do)."""
    if isinstance(data, str):
        return data if key in _SQL_KEYS else escape_bidi(data)
    if isinstance(data, dict):
        return {k: _shown(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_shown(v, key) for v in data]
    return data
