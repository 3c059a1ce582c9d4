"""NS91x: specs against the dbt project northstar.yaml points at (`dbt:`),
offline, from dbt's manifest and catalog (northstar_spec.spec.dbt): the
models sources name exist, the columns metrics read exist, and a metric that
shares its id with a dbt metric computes what the dbt metric computes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from northstar_spec.spec import fragments
from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.lint import Finding, LintContext
from northstar_spec.spec.model import Spec
from northstar_spec.spec.rule import declare, did_you_mean, rule

E, W = Severity.ERROR, Severity.WARNING

MANIFEST = declare(
    "NS910",
    "dbt-manifest",
    E,
    "run `dbt parse` (or `dbt docs generate` for the catalog) and check the path under `dbt:` in northstar.yaml",
    """
    The dbt manifest (or catalog) northstar.yaml names cannot be read.

    Why: sources that name dbt models are checked against it; without it
    nothing says which table a model builds or which columns it has.

    Bad:

        dbt: {manifest: dbt/target/manifest.json}   # never built

    Good:

        dbt: {manifest: dbt/target/manifest.json}   # after `dbt parse`
""",
)


@rule("NS911", "dbt-model-exists", E, "name a model of the dbt project, or use `table:`")
def model_exists(ctx: LintContext) -> Iterator[Finding]:
    """A source's `dbt_model` is a model of the dbt project.

    Why: the model decides the table the source reads; a misspelt or
    deleted model would be a table that does not exist.

    Bad:

        sources:
          events: {database: warehouse, dbt_model: colab_events, time_column: occurred_at}

    Good:

        sources:
          events: {database: warehouse, dbt_model: collab_events, time_column: occurred_at}
    """
    for spec in ctx.specs:
        for source in spec.sources.values():
            if not source.dbt_model:
                continue
            if ctx.project.dbt is None:
                yield Finding(
                    spec.document,
                    source.path + ("dbt_model",),
                    f"source {source.id!r} names the dbt model {source.dbt_model!r}, "
                    f"but {ctx.project.file} points at no dbt project",
                    hint="add `dbt: {manifest: path/to/target/manifest.json}` to northstar.yaml",
                )
            elif ctx.dbt is not None and source.dbt_model not in ctx.dbt.models:
                yield Finding(
                    spec.document,
                    source.path + ("dbt_model",),
                    f"source {source.id!r} names {source.dbt_model!r}, which is not a model of the dbt project",
                    hint=did_you_mean(source.dbt_model, sorted(ctx.dbt.models)),
                )


@rule("NS912", "dbt-column-exists", E, "use a column of the dbt model (its catalog lists them), or fix the model")
def column_exists(ctx: LintContext) -> Iterator[Finding]:
    """Every column a metric reads is a column of its source's dbt model.

    Why: a column that is not in the model fails on the warehouse; with the
    dbt project's manifest and catalog this is known before anything runs,
    without warehouse credentials in CI. Checked: the time column, measure
    columns and every column named in a filter or in `sql`.

    Bad:

        measure: {aggregate: count_distinct, column: teem_id}

    Good:

        measure: {aggregate: count_distinct, column: team_id}
    """
    if ctx.dbt is None:
        return
    for spec in ctx.specs:
        for site, source_id in _sites(spec):
            source = spec.sources.get(source_id)
            model = ctx.dbt.models.get(source.dbt_model or "") if source else None
            if model is None or model.columns is None or site.kind is fragments.Kind.TABLE:
                continue
            dialect = fragments.dialect_of(ctx.project, site.database)
            for name, offset in fragments.parse(site.text, site.kind, dialect).columns():
                if name.lower() not in model.columns:
                    yield Finding(
                        spec.document,
                        site.path,
                        f"{name!r} is not a column of the dbt model {model.name!r} ({model.relation})",
                        hint=did_you_mean(name.lower(), sorted(model.columns)),
                        offset=offset,
                    )


def _sites(spec: Spec) -> Iterator[tuple[fragments.Site, str]]:
    """Every fragment of a spec with the id of the source it reads."""
    owners = {metric.path: metric.source for metric in spec.computable}
    if spec.retained is not None:
        owners[spec.retained.path] = spec.retained.source
    for site in fragments.sites(spec):
        if site.path[0] == "sources":
            yield site, str(site.path[1])
            continue
        for length in (1, 2):
            if site.path[:length] in owners:
                yield site, owners[site.path[:length]] or ""
                break


@rule("NS913", "dbt-metric-in-step", W, "make the two definitions agree, or give the northstar metric its own id")
def metric_in_step(ctx: LintContext) -> Iterator[Finding]:
    """A metric with the id of a dbt metric computes what the dbt metric computes.

    Why: the id says they are the same metric; when one definition changes
    and the other does not, the dashboard and the dbt semantic layer give
    two numbers for one name. Compared: the aggregate, its column and the
    filter of a dbt `simple` metric against a northstar `measure` metric.

    Bad:

        # dbt: weekly_active_teams = count_distinct(team_id) where event_type = 'project_completed'
        north_star:
          id: weekly_active_teams
          measure: {aggregate: count, column: team_id}

    Good:

        north_star:
          id: weekly_active_teams
          measure: {aggregate: count_distinct, column: team_id}
          filter: "event_type = 'project_completed'"
    """
    if ctx.dbt is None:
        return
    for spec in ctx.specs:
        for metric in spec.metrics_and_outcome:
            theirs = ctx.dbt.metrics.get(metric.id)
            if theirs is None or metric.measure is None or theirs.aggregate is None:
                continue
            ours = _definition(metric.measure.aggregate, metric.measure.column, metric.filter)
            expected = _definition(theirs.aggregate, theirs.expression, theirs.filter)
            if _normal(ours) != _normal(expected):
                yield Finding(
                    spec.document,
                    metric.path + ("id",),
                    f"metric {metric.id!r} computes {ours}, the dbt metric {theirs.unique_id} computes {expected}",
                )


def _definition(aggregate: str, column: str | None, condition: str | None) -> str:
    counted = "*" if aggregate == "count" else (column or "*")  # count(x) of a dbt measure counts rows too
    return f"{aggregate}({counted})" + (f" where {condition}" if condition else "")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace('"', "")).strip().lower()


RULES = [MANIFEST, model_exists, column_exists, metric_in_step]
