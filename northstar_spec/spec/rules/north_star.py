"""NS1xx: the North Star itself and the product it serves."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlglot import exp

from northstar_spec.spec import fragments
from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.lint import Finding, LintContext
from northstar_spec.spec.model import NorthStar, Spec
from northstar_spec.spec.rule import rule

E, W = Severity.ERROR, Severity.WARNING

MAX_DEFINITION_CHARS = 200
#: A sentence ends at . ! or ? followed by a capital or a digit ("Acme Inc. who" is one sentence).
_SENTENCE_BREAK = re.compile(r"[.!?]+\s+(?=[A-Z0-9\"'])")
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|approx|incl)\.", re.IGNORECASE)
_CUMULATIVE = re.compile(
    r"\b(cumulative|all[- ]time|lifetime|to[- ]date|since (launch|signup|inception)|ever|total (number of )?"
    r"(registered|signed[- ]up|users|customers|accounts))\b",
    re.IGNORECASE,
)
_REVENUE = re.compile(
    r"\b(revenue|mrr|arr|income|profit|sales|gmv|arpu|ltv|bookings value|dollars?|euros?)\b", re.IGNORECASE
)
_MONEY_COLUMN = re.compile(r"(^|_)(revenue|amount|price|gmv|mrr|arr|cents|dollars|euros)(_|$)", re.IGNORECASE)
_VANITY = re.compile(
    r"\b(sign[- ]?ups?|registrations?|registered|downloads?|installs?|page ?views?|pageviews|visits?|visitors|"
    r"impressions|followers|app opens|logins?|logged in)\b",
    re.IGNORECASE,
)


def _texts(ns: NorthStar) -> Iterator[tuple[tuple, str]]:
    """The parts of a North Star a reader judges it by: id, name, definition, filters."""
    yield ns.path + ("id",), ns.id.replace("_", " ")
    yield ns.path + ("name",), ns.name
    if ns.definition:
        yield ns.path + ("definition",), ns.definition
    if ns.filter:
        yield ns.path + ("filter",), ns.filter
    if ns.ratio:
        for side in ("numerator", "denominator"):
            part = getattr(ns.ratio, side)
            if part.filter:
                yield ns.path + ("ratio", side, "filter"), part.filter


def _sql_tree(ctx: LintContext, spec: Spec) -> exp.Expression | None:
    """The North Star's parsed `sql` (None without one, or when it does not parse: NS701 says so)."""
    ns = spec.north_star
    if not ns.sql:
        return None
    source = spec.sources.get(ns.source)
    dialect = fragments.dialect_of(ctx.project, source.database if source else None)
    return fragments.parse(ns.sql, fragments.Kind.AGGREGATE, dialect).tree


def _running_total(window: exp.Window) -> bool:
    """A window over every earlier period (or all of them): SQL's default frame with ORDER BY, an
    UNBOUNDED PRECEDING start, or no frame and no order at all. A moving window of N periods is not."""
    frame = window.args.get("spec")
    if frame is None:
        return True
    return str(frame.args.get("start", "")).upper() == "UNBOUNDED"


def _first_match(ns: NorthStar, pattern: re.Pattern) -> tuple[tuple, str] | None:
    for path, text in _texts(ns):
        match = pattern.search(text)
        if match:
            return path, match.group(0)
    return None


@rule("NS101", "north-star-defined", E, "add `definition:` with one sentence saying what is counted")
def north_star_defined(ctx: LintContext) -> Iterator[Finding]:
    """The North Star has a definition.

    Why: the North Star is the one metric everybody quotes; everybody must
    mean the same thing by it, so it is defined in words next to its SQL.

    Bad:

        north_star:
          id: weekly_active_teams
          name: Weekly active teams

    Good:

        north_star:
          id: weekly_active_teams
          name: Weekly active teams
          definition: Teams that completed at least one project in the week.
    """
    for spec in ctx.specs:
        if not spec.north_star.definition:
            yield Finding(spec.document, ("north_star",), "the North Star has no definition", key=True)


@rule("NS102", "north-star-one-sentence", W, "say what is counted in one short sentence; move detail to `description:`")
def north_star_one_sentence(ctx: LintContext) -> Iterator[Finding]:
    """The North Star is defined in one sentence.

    Why: a definition that needs a paragraph is a smell: the metric is too
    complicated to rally a company around. One sentence of at most 200
    characters; detail belongs in `description`.

    Bad:

        definition: Teams that completed a project. Only paid teams count. Trials are excluded.

    Good:

        definition: Paying teams that completed at least one project in the week.
    """
    for spec in ctx.specs:
        text = spec.north_star.definition
        if not text:
            continue
        sentences = len(_SENTENCE_BREAK.findall(_ABBREVIATIONS.sub("", text.strip()))) + 1
        path = spec.north_star.path + ("definition",)
        if sentences > 1:
            yield Finding(spec.document, path, f"the definition has {sentences} sentences; use one")
        elif len(text) > MAX_DEFINITION_CHARS:
            yield Finding(
                spec.document, path, f"the definition is {len(text)} characters; keep it under {MAX_DEFINITION_CHARS}"
            )


@rule("NS103", "north-star-windowed", E, "set `grain: week` or `grain: month`")
def north_star_windowed(ctx: LintContext) -> Iterator[Finding]:
    """The North Star is measured over a weekly or monthly window.

    Why: a North Star is a rate of value delivered per period, so that a bad
    week shows as a bad week. Daily values are noise; quarterly values come
    too late to steer by.

    Bad:

        north_star:
          grain: quarter

    Good:

        north_star:
          grain: week
    """
    for spec in ctx.specs:
        ns = spec.north_star
        if not ns.grain_declared:
            yield Finding(spec.document, ns.path, "the North Star declares no `grain` (its time window)", key=True)
        elif ns.grain not in ("week", "month"):
            yield Finding(
                spec.document, ns.path + ("grain",), f"the North Star is measured per {ns.grain}; use week or month"
            )


@rule(
    "NS104",
    "north-star-not-cumulative",
    W,
    "count what happened in the period (e.g. 'active in the week'), not a running total",
)
def north_star_not_cumulative(ctx: LintContext) -> Iterator[Finding]:
    """The North Star is not a cumulative total.

    Why: a running total ("total registered users") only goes up, so it can
    never show that things got worse. Words such as cumulative, all-time,
    lifetime, to date, ever, total users give it away, and so does a `sql`
    whose window function sums over every earlier period.

    Bad:

        north_star:
          name: Total registered users

        north_star:
          sql: "SUM(COUNT(DISTINCT team_id)) OVER (ORDER BY MIN(occurred_at))"

    Good:

        north_star:
          name: Weekly active teams
    """
    for spec in ctx.specs:
        found = _first_match(spec.north_star, _CUMULATIVE)
        if found:
            yield Finding(spec.document, found[0], f"the North Star looks cumulative ({found[1]!r})")
            continue
        tree = _sql_tree(ctx, spec)
        window = next((w for w in tree.find_all(exp.Window) if _running_total(w)), None) if tree else None
        if window is not None:
            yield Finding(
                spec.document,
                spec.north_star.path + ("sql",),
                "the North Star's `sql` is a running total (a window over every earlier period)",
                offset=fragments.node_offset(window),
            )


@rule("NS105", "north-star-not-revenue", W, "measure the value customers get; revenue is the outcome it should lead")
def north_star_not_revenue(ctx: LintContext) -> Iterator[Finding]:
    """The North Star is not revenue.

    Why: revenue lags: it tells you about value delivered months ago. The
    North Star measures the value delivered to users now, which revenue then
    follows (`leads_revenue_because` says how). Money words (revenue, MRR,
    GMV, sales …) or a sum of a money column give it away, in a `measure` or
    in `sql`.

    Bad:

        north_star:
          name: Monthly recurring revenue
          measure: {aggregate: sum, column: amount}

        north_star:
          sql: "SUM(price_cents) / 100.0"

    Good:

        north_star:
          name: Nights booked
          measure: {aggregate: sum, column: nights}
    """
    for spec in ctx.specs:
        ns = spec.north_star
        found = _first_match(ns, _REVENUE)
        if found:
            yield Finding(spec.document, found[0], f"the North Star looks like revenue ({found[1]!r})")
        elif (
            ns.measure
            and ns.measure.aggregate == "sum"
            and ns.measure.column
            and _MONEY_COLUMN.search(ns.measure.column)
        ):
            yield Finding(
                spec.document,
                ns.path + ("measure", "column"),
                f"the North Star sums a money column ({ns.measure.column!r})",
            )
        elif money := _summed_money_column(ctx, spec):
            yield Finding(
                spec.document,
                ns.path + ("sql",),
                f"the North Star's `sql` sums a money column ({money.name!r})",
                offset=fragments.node_offset(money),
            )


def _summed_money_column(ctx: LintContext, spec: Spec) -> exp.Column | None:
    tree = _sql_tree(ctx, spec)
    if tree is None:
        return None
    for total in tree.find_all(exp.Sum):
        for column in total.find_all(exp.Column):
            if _MONEY_COLUMN.search(column.name):
                return column
    return None


@rule("NS106", "north-star-not-vanity", W, "count users reaching the value moment, not sign-ups, downloads or views")
def north_star_not_vanity(ctx: LintContext) -> Iterator[Finding]:
    """The North Star is not a vanity metric.

    Why: sign-ups, downloads, installs, page views, visits and logins can be
    inflated by marketing without anyone getting value. Count the value
    moment instead.

    Bad:

        north_star:
          name: Weekly sign-ups

    Good:

        north_star:
          name: Weekly teams completing a project
    """
    for spec in ctx.specs:
        found = _first_match(spec.north_star, _VANITY)
        if found:
            yield Finding(spec.document, found[0], f"the North Star looks like a vanity metric ({found[1]!r})")


@rule(
    "NS107",
    "north-star-leads-revenue",
    E,
    "add `leads_revenue_because:` with the logic chain from this metric to revenue",
)
def north_star_leads_revenue(ctx: LintContext) -> Iterator[Finding]:
    """The North Star states why it leads revenue.

    Why: a North Star that grows while the business does not is the wrong
    North Star. Writing down the logic chain makes it checkable (and
    `northstar backtest` checks it against history).

    Bad:

        north_star:
          id: weekly_active_teams

    Good:

        north_star:
          id: weekly_active_teams
          leads_revenue_because: Teams that finish projects expand seats and renew.
    """
    for spec in ctx.specs:
        if not spec.north_star.leads_revenue_because:
            yield Finding(spec.document, ("north_star",), "the North Star does not say why it leads revenue", key=True)


@rule("NS110", "value-moment", E, "add `value_moment:` to `product:` (the moment a customer gets real value)")
def value_moment(ctx: LintContext) -> Iterator[Finding]:
    """The product names its value moment.

    Why: the North Star should count value moments, the moments a customer
    gets real value ("a team completes a project together"). Naming it is the
    first step of the method.

    Bad:

        product:
          id: acme-collab
          name: Acme Collab

    Good:

        product:
          id: acme-collab
          name: Acme Collab
          value_moment: A team completes a project together.
    """
    for spec in ctx.specs:
        if not spec.product.value_moment:
            yield Finding(spec.document, ("product",), "the product names no value moment", key=True)


@rule("NS111", "value-category", E, "add `category:` attention, transaction or productivity")
def value_category(ctx: LintContext) -> Iterator[Finding]:
    """The product names its value-creation category.

    Why: attention products (time spent), transaction products (exchanges
    completed) and productivity products (work done) need different North
    Stars; the category makes the choice explicit.

    Bad:

        product:
          id: tunewave

    Good:

        product:
          id: tunewave
          category: attention
    """
    for spec in ctx.specs:
        if not spec.product.category:
            yield Finding(spec.document, ("product",), "the product names no value-creation category", key=True)


RULES = [
    north_star_defined,
    north_star_one_sentence,
    north_star_windowed,
    north_star_not_cumulative,
    north_star_not_revenue,
    north_star_not_vanity,
    north_star_leads_revenue,
    value_moment,
    value_category,
]
