"""What a change to the specs means for the framework, product by product.

A line diff of YAML says that line 52 changed; a reviewer needs to hear that
the input `invites_accepted` now counts something else, that its owner moved
from growth to core, or that the North Star itself changed, which restarts
the trend everybody watches. `compare()` turns two snapshots into that
answer as plain data; diff_report renders it for a terminal, a pull request
or a tool.

Values are compared and reported as the short strings a reviewer reads
(`count_distinct(team_id)`, `max 40`, `700 by 2027-06-30`), so the result is
JSON as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from northstar_spec.review.snapshots import Snapshot
from northstar_spec.spec import formatting
from northstar_spec.spec.model import (
    CounterMetric,
    HistoryEntry,
    Input,
    Measure,
    Metric,
    NorthStar,
    Product,
    Project,
    Ratio,
    RatioPart,
    Ritual,
    Role,
    Source,
    Spec,
    Team,
    Threshold,
    change_recorded,
    north_star_changes,
)

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class Change:
    """One field that differs: `before` is None for something added, `after` for something removed."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class MetricDiff:
    status: str
    #: north_star, input, counter_metric, outcome or candidate: the role after the change (before, when removed).
    role: str
    id: str
    #: The display name after the change (before, when removed).
    name: str
    #: Added or removed: one entry with the metric's summary. Changed: every field that differs.
    changes: tuple[Change, ...]
    #: The teams owning the metric before and after.
    owners: tuple[str, ...]

    @property
    def renamed(self) -> Change | None:
        """Same id, new display name: the chart keeps its identity, the dashboard shows the new name."""
        return next((c for c in self.changes if c.field == "name" and self.status == CHANGED), None)


@dataclass(frozen=True)
class NorthStarChange:
    """The North Star is a different metric now: a new id, or a new computation."""

    before: str
    after: str
    #: Which of NORTH_STAR_IDENTITY changed.
    fields: tuple[str, ...]
    #: Whether the spec gained a history entry for the previous North Star (what NS601 requires).
    history_recorded: bool


@dataclass(frozen=True)
class Owner:
    """A team whose metrics the change touches, and the handle that asks for its review."""

    team: str
    name: str | None = None
    review_handle: str | None = None


@dataclass(frozen=True)
class ProductDiff:
    id: str
    name: str
    status: str
    file_before: str | None
    file_after: str | None
    #: Product fields, the spec's file and its sources.
    product: tuple[Change, ...]
    #: The North Star first, then inputs and counter-metrics in the order of the spec.
    metrics: tuple[MetricDiff, ...]
    review: tuple[Change, ...]
    history: tuple[Change, ...]
    north_star_change: NorthStarChange | None
    owners: tuple[Owner, ...]
    #: The specs themselves, for pictures of the metric tree; not part of the data.
    before: Spec | None = field(default=None, repr=False, compare=False)
    after: Spec | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "file_before": self.file_before,
            "file_after": self.file_after,
            "north_star_change": _plain(self.north_star_change),
            "product": [_plain(c) for c in self.product],
            "metrics": [{**asdict(m), "renamed": m.renamed is not None} for m in self.metrics],
            "review": [_plain(c) for c in self.review],
            "history": [_plain(c) for c in self.history],
            "owners": [_plain(o) for o in self.owners],
        }


@dataclass(frozen=True)
class Diff:
    base: str
    head: str
    #: Products that differ, by id.
    products: tuple[ProductDiff, ...]
    #: "side: file" for spec files that do not pass the schema on a side and were left out.
    unreadable: tuple[str, ...] = ()

    @property
    def north_star_changed(self) -> bool:
        return any(p.north_star_change for p in self.products)

    def as_dict(self) -> dict:
        return {
            "base": self.base,
            "head": self.head,
            "north_star_changed": self.north_star_changed,
            "products": [p.as_dict() for p in self.products],
            "unreadable": list(self.unreadable),
        }


def _plain(value) -> dict | None:
    return asdict(value) if value is not None else None


# --- values as a reviewer reads them ----------------------------------------------


def measure_text(measure: Measure) -> str:
    return f"{measure.aggregate}({measure.column or '*'})"


def ratio_text(ratio: Ratio) -> str:
    def side(part: RatioPart) -> str:
        return measure_text(part.measure) + (f" where {part.filter}" if part.filter else "")

    return f"{side(ratio.numerator)} / {side(ratio.denominator)}"


def threshold_text(threshold: Threshold | None, metric: Metric | None = None) -> str | None:
    if not threshold:
        return None
    return formatting.threshold_text(threshold, formatting.shown(metric) if metric else formatting.number)


def target_text(metric: Metric) -> str | None:
    if not metric.target:
        return None
    text = formatting.target_text(metric.target, formatting.shown(metric))
    return text + (f" from {metric.target.start.isoformat()}" if metric.target.start else "")


def format_text(metric: Metric) -> str | None:
    """How the metric reads, when the spec says so (the defaults are no change worth showing)."""
    if not (metric.format or metric.decimals is not None or metric.unit or metric.currency):
        return None
    fmt = formatting.format_of(metric)
    parts = [fmt.kind + (f" {fmt.currency}" if fmt.currency else "")]
    parts += [f"{fmt.decimals} decimals"] if fmt.decimals is not None else []
    parts += [f"unit {fmt.unit}"] if fmt.unit else []
    return ", ".join(parts)


def computation_text(metric: Metric) -> str:
    """The whole computation on one line: what an added or removed metric counts."""
    if metric.sql:
        return metric.sql
    body = measure_text(metric.measure) if metric.measure else ratio_text(metric.ratio) if metric.ratio else ""
    return body + (f" where {metric.filter}" if metric.filter else "")


_METRIC_FIELDS: dict[str, Callable[[Metric], str | None]] = {
    "name": lambda m: m.name,
    "definition": lambda m: m.definition,
    "description": lambda m: m.description,
    "source": lambda m: m.source,
    "measure": lambda m: measure_text(m.measure) if m.measure else None,
    "ratio": lambda m: ratio_text(m.ratio) if m.ratio else None,
    "sql": lambda m: m.sql,
    "filter": lambda m: m.filter,
    "grain": lambda m: m.grain,
    "owner": lambda m: m.owner,
    "target": target_text,
    "leads_revenue_because": lambda m: getattr(m, "leads_revenue_because", None),
    "lever": lambda m: getattr(m, "lever", None),
    "direction": lambda m: getattr(m, "direction", None),
    "guards": lambda m: getattr(m, "guards", None),
    "threshold": lambda m: threshold_text(getattr(m, "threshold", None), m),
    "format": format_text,
}


def metric_summary(metric: Metric) -> str:
    """What an added or removed metric is, in one line."""
    parts = [computation_text(metric), f"per {metric.grain}"]
    if isinstance(metric, Input):
        parts.append(f"lever {metric.lever or '?'} ({metric.direction or '?'})")
    if isinstance(metric, CounterMetric):
        parts.append(f"guards {metric.guards or '?'}, {threshold_text(metric.threshold, metric) or 'no threshold'}")
    if isinstance(metric, NorthStar) and metric.target:
        parts.append(f"target {target_text(metric)}")
    parts.append(f"owner {metric.owner or '?'}")
    return " · ".join(parts)


def _source_text(source: Source) -> str:
    table = f"{source.schema}.{source.table}" if source.schema else source.table
    text = f"{source.database}: {table} by {source.time_column}"
    return text + (f" ({source.description})" if source.description else "")


def _ritual_text(ritual: Ritual) -> str:
    parts = [ritual.cadence + (f" on {ritual.day}" if ritual.day else "")]
    if ritual.last:
        parts.append(f"last {ritual.last.isoformat()}")
    if ritual.owner:
        parts.append(f"owner {ritual.owner}")
    return ", ".join(parts)


def _history_text(entry: HistoryEntry) -> str:
    return f"{entry.north_star} until {entry.until.isoformat()}: {entry.reason}"


# --- comparing ------------------------------------------------------------------


def _changes(fields: dict[str, Callable], before, after) -> tuple[Change, ...]:
    found = []
    for name, read in fields.items():
        old, new = read(before), read(after)
        if old != new:
            found.append(Change(name, old, new))
    return tuple(found)


def _owners_of(*metrics: Metric | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.owner for m in metrics if m is not None and m.owner))


def _compare_metrics(before: Spec | None, after: Spec | None) -> tuple[MetricDiff, ...]:
    """Pair the two North Stars, then the other metrics by id."""
    diffs: list[MetricDiff] = []
    old_ns, new_ns = (before.north_star if before else None), (after.north_star if after else None)
    old_rest = {m.id: m for m in (before.computable[1:] if before else ())}
    new_rest = list(after.computable[1:] if after else ())
    pairs: list[tuple[Metric | None, Metric | None]] = [(old_ns, new_ns)]
    pairs += [(old_rest.pop(m.id, None), m) for m in new_rest]
    pairs += [(m, None) for m in old_rest.values()]
    for old, new in pairs:
        if old is None and new is None:
            continue
        if old is None or new is None:
            metric = new or old
            assert metric is not None
            status = ADDED if new else REMOVED
            summary = metric_summary(metric)
            change = Change("metric", None, summary) if new else Change("metric", summary, None)
            diffs.append(MetricDiff(status, metric.role.value, metric.id, metric.name, (change,), _owners_of(metric)))
            continue
        changes = _changes(_METRIC_FIELDS, old, new)
        if new.role is not Role.NORTH_STAR and not (old.grain_declared or new.grain_declared):
            # A grain inherited from the North Star moves with it; that change is reported once, there.
            changes = tuple(c for c in changes if c.field != "grain")
        if old.id != new.id:
            changes = (Change("id", old.id, new.id), *changes)
        if old.role is not new.role:
            changes = (Change("role", old.role.value, new.role.value), *changes)
        if changes:
            diffs.append(MetricDiff(CHANGED, new.role.value, new.id, new.name, changes, _owners_of(old, new)))
    return tuple(diffs)


_PRODUCT_FIELDS: dict[str, Callable[[Product], str | None]] = {
    "name": lambda p: p.name,
    "category": lambda p: p.category,
    "value_moment": lambda p: p.value_moment,
    "description": lambda p: p.description,
}


def _compare_product(before: Spec, after: Spec, file_before: str | None, file_after: str | None) -> tuple[Change, ...]:
    changes = list(_changes(_PRODUCT_FIELDS, before.product, after.product))
    if file_before != file_after:
        changes.append(Change("file", file_before, file_after))
    for source_id in dict.fromkeys([*before.sources, *after.sources]):
        old, new = before.sources.get(source_id), after.sources.get(source_id)
        old_text, new_text = (_source_text(old) if old else None), (_source_text(new) if new else None)
        if old_text != new_text:
            changes.append(Change(f"sources.{source_id}", old_text, new_text))
    return tuple(changes)


def _compare_review(before: Spec | None, after: Spec | None) -> tuple[Change, ...]:
    changes = []
    old_rituals = dict(before.review.rituals()) if before else {}
    new_rituals = dict(after.review.rituals()) if after else {}
    for name in ("inputs", "north_star", "revalidation"):
        old, new = old_rituals.get(name), new_rituals.get(name)
        if old is None or new is None:
            if old is not new:
                old_text, new_text = (_ritual_text(old) if old else None), (_ritual_text(new) if new else None)
                changes.append(Change(f"review.{name}", old_text, new_text))
            continue
        for part in ("cadence", "day", "last", "owner"):
            a, b = getattr(old, part), getattr(new, part)
            if a != b:
                changes.append(Change(f"review.{name}.{part}", a and str(a), b and str(b)))
    return tuple(changes)


def _compare_history(before: Spec | None, after: Spec | None) -> tuple[Change, ...]:
    old = [_history_text(h) for h in (before.history if before else ())]
    new = [_history_text(h) for h in (after.history if after else ())]
    return tuple(
        [Change("history", None, h) for h in new if h not in old]
        + [Change("history", h, None) for h in old if h not in new]
    )


def north_star_change(before: Spec, after: Spec) -> NorthStarChange | None:
    """Whether the North Star became another metric, and whether its history says so."""
    fields = north_star_changes(before, after)
    if not fields:
        return None
    return NorthStarChange(before.north_star.id, after.north_star.id, fields, change_recorded(before, after))


def _ritual_owners(spec: Spec | None, changed: Iterable[Change]) -> list[str]:
    if spec is None:
        return []
    rituals = dict(spec.review.rituals())
    names = {c.field.split(".")[1] for c in changed}
    return [r.owner for name, r in rituals.items() if name in names and r is not None and r.owner]


def _owners(diff_metrics, before, after, product, review, history, ns_change, teams) -> tuple[Owner, ...]:
    """Who should review: the owners of every changed metric and ritual; the North Star's owner
    for what belongs to the whole product (its fields, sources, history, the North Star itself)."""
    ids: list[str] = [owner for m in diff_metrics for owner in m.owners]
    ids += _ritual_owners(before, review) + _ritual_owners(after, review)
    if product or history or ns_change:
        ids += [s.north_star.owner for s in (after, before) if s is not None and s.north_star.owner]
    owners = []
    for team_id in dict.fromkeys(ids):
        team: Team | None = teams.get(team_id)
        owners.append(Owner(team_id, team.name if team else None, team.review_handle if team else None))
    return tuple(sorted(owners, key=lambda o: o.team))


def compare_specs(
    before: Spec | None,
    after: Spec | None,
    *,
    file_before: str | None = None,
    file_after: str | None = None,
    teams: dict[str, Team] | None = None,
) -> ProductDiff | None:
    """How one product changed; None when it did not."""
    spec = after or before
    if spec is None:
        return None
    status = ADDED if before is None else REMOVED if after is None else CHANGED
    metrics = _compare_metrics(before, after)
    product: tuple[Change, ...] = ()
    review: tuple[Change, ...] = ()
    history: tuple[Change, ...] = ()
    ns_change = None
    if before is not None and after is not None:
        product = _compare_product(before, after, file_before, file_after)
        review = _compare_review(before, after)
        history = _compare_history(before, after)
        ns_change = north_star_change(before, after)
    if status == CHANGED and not (product or metrics or review or history):
        return None
    owners = _owners(metrics, before, after, product, review, history, ns_change, teams or {})
    return ProductDiff(
        spec.product.id,
        spec.product.name,
        status,
        file_before,
        file_after,
        product,
        metrics,
        review,
        history,
        ns_change,
        owners,
        before,
        after,
    )


def _teams(*projects: Project | None) -> dict[str, Team]:
    """Teams of both sides; the head's win, so a new review handle is the one asked."""
    teams: dict[str, Team] = {}
    for project in projects:
        if project is not None:
            teams.update(project.teams)
    return teams


def compare(base: Snapshot, head: Snapshot) -> Diff:
    """The semantic diff between two snapshots, by product id."""
    teams = _teams(base.project, head.project)
    products = []
    unreadable = [f"{base.label}: {f}" for f in base.specs.unreadable]
    unreadable += [f"{head.label}: {f}" for f in head.specs.unreadable]
    for product_id in sorted({*base.specs.specs, *head.specs.specs}):
        before, after = base.specs.specs.get(product_id), head.specs.specs.get(product_id)
        file_before, file_after = base.specs.files.get(product_id), head.specs.files.get(product_id)
        # A product whose file is broken on the other side was not removed or added: it cannot be compared.
        if before is None and file_after in base.specs.unreadable:
            continue
        if after is None and file_before in head.specs.unreadable:
            continue
        diff = compare_specs(before, after, file_before=file_before, file_after=file_after, teams=teams)
        if diff is not None:
            products.append(diff)
    return Diff(base.label, head.label, tuple(products), tuple(unreadable))
