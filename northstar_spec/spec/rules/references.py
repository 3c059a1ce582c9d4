"""NS4xx: ownership and references: every name a spec uses must resolve."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.lint import Finding, LintContext
from northstar_spec.spec.model import Source, Spec
from northstar_spec.spec.rule import did_you_mean, rule
from northstar_spec.spec.rules.review import RITUAL_LABEL

E = Severity.ERROR


@rule("NS401", "metric-owned", E, "add `owner:` with the id of the one team accountable for it")
def metric_owned(ctx: LintContext) -> Iterator[Finding]:
    """Every metric has an owning team.

    Why: a metric nobody owns is a metric nobody moves. Each input is owned
    by one team, the North Star by leadership, each guardrail by the team
    that acts when it breaches.

    Bad:

        - id: new_team_activation
          lever: activation

    Good:

        - id: new_team_activation
          lever: activation
          owner: activation-squad
    """
    for spec in ctx.specs:
        for metric in spec.metrics:
            if not metric.owner:
                yield Finding(spec.document, metric.path, f"metric {metric.id!r} has no owner", key=True)


@rule("NS402", "owner-exists", E, "declare the team under `teams:` in northstar.yaml, or fix the id")
def owner_exists(ctx: LintContext) -> Iterator[Finding]:
    """Every owner names a team declared in northstar.yaml.

    Why: owners become code reviewers (CODEOWNERS) and contacts on the
    dashboard; a misspelt team would silently lose both.

    Bad:

        owner: activaton-squad

    Good:

        owner: activation-squad
    """
    teams = sorted(ctx.project.teams)
    for spec in ctx.specs:
        owned = [(m.path, m.owner, f"metric {m.id!r}") for m in spec.metrics]
        owned += [(r.path, r.owner, f"the {RITUAL_LABEL[name]} review") for name, r in spec.review.rituals() if r]
        for path, owner, what in owned:
            if owner and owner not in ctx.project.teams:
                yield Finding(
                    spec.document,
                    path + ("owner",),
                    f"{what} is owned by {owner!r}, which is not a team in {ctx.project.file}",
                    hint=did_you_mean(owner, teams),
                )


@rule("NS403", "source-exists", E, "declare the source under `sources:` or fix the id")
def source_exists(ctx: LintContext) -> Iterator[Finding]:
    """Every metric's source is declared under `sources:`.

    Why: the source says which table and time column a metric is computed
    from; without it there is nothing to compile.

    Bad:

        sources:
          events: {database: warehouse, table: analytics.events, time_column: occurred_at}
        north_star:
          source: event

    Good:

        north_star:
          source: events
    """
    for spec in ctx.specs:
        for metric in spec.computable:
            if metric.source not in spec.sources:
                yield Finding(
                    spec.document,
                    metric.path + ("source",),
                    f"metric {metric.id!r} reads source {metric.source!r}, which is not declared",
                    hint=did_you_mean(metric.source, list(spec.sources)),
                )


@rule("NS404", "database-exists", E, "declare the database under `databases:` in northstar.yaml, or fix the name")
def database_exists(ctx: LintContext) -> Iterator[Finding]:
    """Every source's database is declared in northstar.yaml.

    Why: northstar.yaml says which environment variable holds each
    database's URI; a source on an undeclared database cannot be reached.

    Bad:

        sources:
          events: {database: warehous, table: events, time_column: occurred_at}

    Good:

        sources:
          events: {database: warehouse, table: events, time_column: occurred_at}
    """
    databases = sorted(ctx.project.databases)
    for spec in ctx.specs:
        for source in spec.sources.values():
            if source.database not in ctx.project.databases:
                yield Finding(
                    spec.document,
                    source.path + ("database",),
                    f"source {source.id!r} uses database {source.database!r}, which is not declared in "
                    f"{ctx.project.file}",
                    hint=did_you_mean(source.database, databases),
                )


@rule("NS405", "unique-metric-id", E, "give each metric an id of its own")
def unique_metric_id(ctx: LintContext) -> Iterator[Finding]:
    """Metric ids are unique across all specs.

    Why: ids name Superset metrics, charts and evaluation rows; two metrics
    with one id would overwrite each other. The North Star, the inputs, the
    counter-metrics and the outcome share one namespace (an outcome with the
    North Star's id would print its values in the North Star's row).

    Bad:

        inputs:
          - id: active_teams
        counter_metrics:
          - id: active_teams

    Good:

        inputs:
          - id: active_teams
        counter_metrics:
          - id: churned_teams
    """
    seen: dict[str, list] = defaultdict(list)
    for spec in ctx.specs:
        for metric in spec.computable:
            seen[metric.id].append((spec, metric))
    for metric_id, places in seen.items():
        first_spec, first = places[0]
        for spec, metric in places[1:]:
            where = first_spec.at(first.path + ("id",))
            yield Finding(
                spec.document,
                metric.path + ("id",),
                f"metric id {metric_id!r} is already used at {where}",
                related=(where,),
            )


@rule("NS406", "one-north-star-per-product", E, "merge the two specs, or give the second product an id of its own")
def one_north_star_per_product(ctx: LintContext) -> Iterator[Finding]:
    """Each product has exactly one North Star: one spec per product id.

    Why: two North Stars are no North Star. Two spec files that declare the
    same product would give it two.

    Bad:

        # specs/collab.yaml and specs/collab-v2.yaml both declare
        product:
          id: acme-collab

    Good:

        # one file per product id
        product:
          id: acme-collab
    """
    seen: dict[str, Spec] = {}
    for spec in ctx.specs:
        pid = spec.product.id
        if pid in seen:
            where = seen[pid].at(("product", "id"))
            yield Finding(
                spec.document,
                ("product", "id"),
                f"product {pid!r} already has a North Star in {where.file}",
                related=(where,),
            )
        else:
            seen[pid] = spec


@rule(
    "NS407",
    "one-time-column-per-table",
    E,
    "read the table by the same `time_column` in every source, or point one source at a view of its own",
)
def one_time_column_per_table(ctx: LintContext) -> Iterator[Finding]:
    """Every source that reads one table dates its rows by the same time column.

    Why: a table is one Superset dataset, shared by every metric and spec
    that reads it, and a dataset has one time column: two sources that read
    one table by different columns cannot both be compiled. Checked across
    all specs.

    Bad:

        # specs/a.yaml
        sources:
          events: {database: warehouse, table: events, time_column: occurred_at}
        # specs/b.yaml
        sources:
          events: {database: warehouse, table: events, time_column: created_at}

    Good:

        # both specs
        sources:
          events: {database: warehouse, table: events, time_column: occurred_at}
    """
    first: dict[tuple, tuple[Spec, Source]] = {}
    for spec in ctx.specs:
        for source in spec.sources.values():
            table = (source.database, source.schema, source.table)
            earlier_spec, earlier = first.setdefault(table, (spec, source))
            if earlier.time_column != source.time_column:
                where = earlier_spec.at(earlier.path + ("time_column",))
                name = f"{source.schema}.{source.table}" if source.schema else source.table
                yield Finding(
                    spec.document,
                    source.path + ("time_column",),
                    f"source {source.id!r} reads table {name} by {source.time_column!r}, but source "
                    f"{earlier.id!r} ({where}) reads it by {earlier.time_column!r}; one table has one time column",
                    related=(where,),
                )


@rule("NS408", "retained-source", E, "name a source under `sources:` that declares its `unit:` column")
def retained_source(ctx: LintContext) -> Iterator[Finding]:
    """`retained:` reads a declared source that says whose action each row records.

    Why: telling retained from churned units needs the unit (team, account,
    listener) of every row: `northstar candidates` groups rows by the
    source's `unit:` column to see who came back. Without one, the criterion
    "separates retained from churned units" cannot be judged.

    Bad:

        sources:
          events: {database: warehouse, table: events, time_column: occurred_at}
        retained: {source: events, filter: "event_type = 'project_completed'"}

    Good:

        sources:
          events: {database: warehouse, table: events, time_column: occurred_at, unit: team_id}
        retained: {source: events, filter: "event_type = 'project_completed'"}
    """
    for spec in ctx.specs:
        retained = spec.retained
        if retained is None:
            continue
        source = spec.sources.get(retained.source)
        if source is None:
            yield Finding(
                spec.document,
                retained.path + ("source",),
                f"`retained:` reads source {retained.source!r}, which is not declared",
                hint=did_you_mean(retained.source, list(spec.sources)),
            )
        elif not source.unit:
            yield Finding(
                spec.document,
                retained.path + ("source",),
                f"`retained:` reads source {retained.source!r}, which declares no `unit:` column: "
                "nothing says whose rows were retained",
            )


@rule("NS409", "dimension-not-time", E, "break metrics down by a column other than the time column")
def dimension_not_time(ctx: LintContext) -> Iterator[Finding]:
    """A source's dimensions are columns other than its time column.

    Why: the time column places rows in periods; as a dimension every
    timestamp would be a segment of its own, and `northstar explain` would
    attribute each change to "the rows of that second".

    Bad:

        sources:
          events: {database: warehouse, table: events, time_column: occurred_at, dimensions: [occurred_at]}

    Good:

        sources:
          events: {database: warehouse, table: events, time_column: occurred_at, dimensions: [plan, country]}
    """
    for spec in ctx.specs:
        for source in spec.sources.values():
            for i, dimension in enumerate(source.dimensions):
                if dimension.lower() == source.time_column.lower():
                    yield Finding(
                        spec.document,
                        source.path + ("dimensions", i),
                        f"source {source.id!r}: dimension {dimension!r} is its time column",
                    )


RULES = [
    metric_owned,
    owner_exists,
    source_exists,
    database_exists,
    unique_metric_id,
    one_north_star_per_product,
    one_time_column_per_table,
    retained_source,
    dimension_not_time,
]
