"""Typed, immutable spec objects, built only from schema-valid documents.

Every object keeps the JSON path of the node it came from, so a lint rule
can point at the exact line of what it complains about without reaching back
into raw YAML.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from northstar_spec.spec import dbt
from northstar_spec.spec.diagnostics import Location, Severity
from northstar_spec.spec.loading import Document, JsonPath


class Role(str, enum.Enum):
    NORTH_STAR = "north_star"
    INPUT = "input"
    COUNTER = "counter_metric"
    OUTCOME = "outcome"
    CANDIDATE = "candidate"


@dataclass(frozen=True)
class Measure:
    aggregate: str
    column: str | None = None


@dataclass(frozen=True)
class RatioPart:
    measure: Measure
    filter: str | None = None


@dataclass(frozen=True)
class Ratio:
    numerator: RatioPart
    denominator: RatioPart


#: A target without `start` is tracked from this many days before its `by` date.
DEFAULT_TARGET_RUNWAY = dt.timedelta(days=365)


@dataclass(frozen=True)
class Target:
    value: float
    by: dt.date | None = None
    #: Where the straight line to the target starts (see `starts`).
    start: dt.date | None = None

    @property
    def starts(self) -> dt.date | None:
        """The start of the way to the target: `start`, else DEFAULT_TARGET_RUNWAY before `by`; None without `by`."""
        if self.start is not None:
            return self.start
        return self.by - DEFAULT_TARGET_RUNWAY if self.by else None


@dataclass(frozen=True)
class Threshold:
    max: float | None = None
    min: float | None = None

    def breached_by(self, value: float) -> bool:
        return (self.max is not None and value > self.max) or (self.min is not None and value < self.min)


def guardrail_status(threshold: Threshold | None, value: float | None) -> str:
    """How a guardrail stands: breached, ok, no value (nothing measured) or no threshold."""
    if threshold is None:
        return "no threshold"
    if value is None:
        return "no value"
    return "breached" if threshold.breached_by(value) else "ok"


@dataclass(frozen=True, kw_only=True)
class Metric:
    """What every metric has. Exactly one of measure, ratio and sql is set."""

    role: Role
    id: str
    name: str
    source: str
    grain: str
    path: JsonPath
    definition: str | None = None
    description: str | None = None
    measure: Measure | None = None
    filter: str | None = None
    ratio: Ratio | None = None
    sql: str | None = None
    owner: str | None = None
    target: Target | None = None
    grain_declared: bool = True
    #: How values read (formatting.py): number, percent, currency or duration; None: the default for its kind.
    format: str | None = None
    decimals: int | None = None
    unit: str | None = None
    currency: str | None = None

    @property
    def kind(self) -> str:
        return "measure" if self.measure else "ratio" if self.ratio else "sql"


#: What makes a North Star the same metric: its id and what it computes. A
#: North Star whose identity changes is a different North Star: lint rule
#: NS601 wants a history entry for it, `northstar diff` flags it.
NORTH_STAR_IDENTITY = ("id", "source", "measure", "ratio", "sql", "filter", "grain")


@dataclass(frozen=True, kw_only=True)
class NorthStar(Metric):
    leads_revenue_because: str | None = None


@dataclass(frozen=True, kw_only=True)
class Input(Metric):
    lever: str | None = None
    direction: str | None = None


@dataclass(frozen=True, kw_only=True)
class CounterMetric(Metric):
    guards: str | None = None
    threshold: Threshold | None = None


@dataclass(frozen=True, kw_only=True)
class Outcome(Metric):
    """The business result the North Star claims to lead (revenue, paid conversions).

    Not part of the framework's metrics: nobody owns it as a lever and no
    dashboard tile shows it; `northstar backtest` checks the claim against it.
    """


@dataclass(frozen=True, kw_only=True)
class Candidate(Metric):
    """A metric that could be the North Star (`candidates:`): `northstar candidates` scores it on the data.

    Not part of the framework either: computed only when candidates are scored.
    """


@dataclass(frozen=True)
class Retained:
    """What "retained" means for `northstar candidates`: a unit of `source` with a row
    matching `filter` in the last `within` periods of the window."""

    source: str
    filter: str
    path: JsonPath
    within: int = 4


@dataclass(frozen=True)
class Source:
    id: str
    database: str
    table: str
    schema: str | None
    time_column: str
    path: JsonPath
    description: str | None = None
    #: The dbt model the source names instead of a table; its relation becomes `schema` and `table`.
    dbt_model: str | None = None
    #: Columns to break its metrics down by (`northstar explain`).
    dimensions: tuple[str, ...] = ()
    #: The column naming whose action a row records (`northstar candidates`).
    unit: str | None = None


CADENCE_MONTHS = {"monthly": 1, "quarterly": 3, "semiannually": 6, "annually": 12}
CADENCE_DAYS = {"weekly": 7, "biweekly": 14}


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Ritual:
    cadence: str
    path: JsonPath
    day: str | None = None
    last: dt.date | None = None
    owner: str | None = None
    #: When its report is delivered (HH:MM) and in which timezone; None: the project's default.
    time: str | None = None
    timezone: str | None = None
    #: What the report delivers of the dashboard: "png" or "pdf".
    format: str = "png"

    @property
    def next_due(self) -> dt.date | None:
        """One cadence after the last review; unknown when it was never held."""
        if self.last is None:
            return None
        if self.cadence in CADENCE_DAYS:
            return self.last + dt.timedelta(days=CADENCE_DAYS[self.cadence])
        return add_months(self.last, CADENCE_MONTHS[self.cadence])


#: A review whose next date falls within this many days is due (digest, dashboards, the North Star page).
DUE_WITHIN = dt.timedelta(days=7)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def review_due(ritual: Ritual, today: dt.date) -> dt.date | None:
    """When a ritual is next due: one cadence after its last review, or for a weekly ritual held on a
    set day and never recorded, that day this week (today included); None when nothing says."""
    if ritual.next_due is not None:
        return ritual.next_due
    if ritual.cadence == "weekly" and ritual.day:
        return today + dt.timedelta(days=(WEEKDAYS.index(ritual.day) - today.weekday()) % 7)
    return None


def review_state(ritual: Ritual, today: dt.date) -> str:
    """The one notion of "due" every surface shares: overdue, due today, due soon (within DUE_WITHIN),
    scheduled (later), or unrecorded (no `last:` and no weekly day)."""
    due = review_due(ritual, today)
    if due is None:
        return "unrecorded"
    if due < today:
        return "overdue"
    if due == today:
        return "due today"
    return "due soon" if due - today <= DUE_WITHIN else "scheduled"


@dataclass(frozen=True)
class Review:
    path: JsonPath
    inputs: Ritual | None = None
    north_star: Ritual | None = None
    revalidation: Ritual | None = None

    def rituals(self) -> Iterator[tuple[str, Ritual | None]]:
        yield "inputs", self.inputs
        yield "north_star", self.north_star
        yield "revalidation", self.revalidation


@dataclass(frozen=True)
class HistoryEntry:
    north_star: str
    until: dt.date
    reason: str
    path: JsonPath
    name: str | None = None
    definition: str | None = None


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    category: str | None = None
    value_moment: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Spec:
    file: str
    document: Document = field(repr=False, compare=False)
    product: Product
    sources: dict[str, Source]
    north_star: NorthStar
    inputs: tuple[Input, ...]
    counter_metrics: tuple[CounterMetric, ...]
    review: Review
    history: tuple[HistoryEntry, ...]
    #: The file on disk, when the spec came from one (not from a git revision).
    path: Path | None = None
    outcome: Outcome | None = None
    candidates: tuple[Candidate, ...] = ()
    retained: Retained | None = None

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return (self.north_star, *self.inputs, *self.counter_metrics)

    @property
    def metrics_and_outcome(self) -> tuple[Metric, ...]:
        """Everything that is computed from a source: the framework's metrics and the outcome."""
        return (*self.metrics, self.outcome) if self.outcome else self.metrics

    @property
    def computable(self) -> tuple[Metric, ...]:
        """Every metric the spec lets northstar compute: the framework's, the outcome and the candidates."""
        return (*self.metrics_and_outcome, *self.candidates)

    def metric(self, metric_id: str) -> Metric | None:
        return next((m for m in self.metrics if m.id == metric_id), None)

    def at(self, path: JsonPath, *, key: bool = False) -> Location:
        return self.document.locate(path, key=key)


def north_star_changes(before: Spec, after: Spec) -> tuple[str, ...]:
    """Which parts of the North Star's identity differ between two versions of a spec."""
    old, new = before.north_star, after.north_star
    return tuple(name for name in NORTH_STAR_IDENTITY if getattr(old, name) != getattr(new, name))


def change_recorded(before: Spec, after: Spec) -> bool:
    """Whether `after` adds a history entry for the North Star of `before`."""
    earlier = {(h.north_star, h.until) for h in before.history}
    return any(h.north_star == before.north_star.id and (h.north_star, h.until) not in earlier for h in after.history)


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    contacts: tuple[str, ...] = ()
    review_handle: str | None = None
    #: The Slack channel its reports and alerts go to (Superset holds the token).
    slack: str | None = None
    #: The environment variable holding its webhook URL (never the URL itself: it often carries a secret).
    webhook_env: str | None = None

    @property
    def emails(self) -> tuple[str, ...]:
        """The contacts that are email addresses: where its reports and alerts are mailed."""
        return tuple(c for c in self.contacts if "@" in c and not c.startswith("@"))


@dataclass(frozen=True)
class RitualDefaults:
    """`rituals:` of northstar.yaml: how the rituals are delivered unless a ritual says otherwise."""

    time: str = "09:00"
    timezone: str = "UTC"
    #: Each counter-metric with a threshold becomes a Superset alert.
    alerts: bool = True
    #: Seconds after an alert fired during which it does not fire again.
    grace_period: int = 86400
    #: When Superset checks the guardrail alerts (crontab, in `timezone`).
    alert_cron: str = "0 * * * *"


#: Seconds a warehouse query may run before the database cancels it, unless northstar.yaml says otherwise.
DEFAULT_STATEMENT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Database:
    name: str
    uri_env: str
    description: str | None = None
    #: The SQL dialect its fragments are written in (SQLAlchemy's name: postgresql, mysql, sqlite …);
    #: None: offline checks read them as portable SQL, and the URI decides when they run.
    dialect: str | None = None
    #: Seconds a query may run before the database cancels it.
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT


@dataclass(frozen=True)
class Project:
    file: str
    root: Path
    document: Document | None = field(repr=False, compare=False)
    spec_paths: tuple[str, ...] = ("specs",)
    teams: dict[str, Team] = field(default_factory=dict)
    databases: dict[str, Database] = field(default_factory=dict)
    repository_url: str | None = None
    repository_branch: str = "main"
    superset_url: str | None = None
    severities: dict[str, Severity] = field(default_factory=dict)
    #: The dbt project sources may name models of (`dbt:`).
    dbt: dbt.Setting | None = None
    #: The project's stable id: what a deploy owns in a Superset shared with other spec repositories.
    id: str = "default"
    #: Where `id` came from when northstar.yaml does not set `project:` (None when it does).
    id_derived_from: str | None = None
    rituals: RitualDefaults = field(default_factory=RitualDefaults)


# --- building ----------------------------------------------------------------


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _measure(data: dict | None) -> Measure | None:
    return Measure(data["aggregate"], data.get("column")) if data else None


def _ratio(data: dict | None) -> Ratio | None:
    if not data:
        return None

    def part(side: dict) -> RatioPart:
        return RatioPart(Measure(side["measure"]["aggregate"], side["measure"].get("column")), side.get("filter"))

    return Ratio(part(data["numerator"]), part(data["denominator"]))


def _metric_fields(data: dict, path: JsonPath, default_grain: str) -> dict:
    target = data.get("target")
    return {
        "id": data["id"],
        "name": data["name"],
        "source": data["source"],
        "path": path,
        "grain": data.get("grain", default_grain),
        "grain_declared": "grain" in data,
        "definition": data.get("definition"),
        "description": data.get("description"),
        "measure": _measure(data.get("measure")),
        "filter": data.get("filter"),
        "ratio": _ratio(data.get("ratio")),
        "sql": data.get("sql"),
        "owner": data.get("owner"),
        "target": Target(target["value"], _date(target.get("by")), _date(target.get("start"))) if target else None,
        "format": data.get("format"),
        "decimals": data.get("decimals"),
        "unit": data.get("unit"),
        "currency": data.get("currency"),
    }


def _ritual(data: dict | None, path: JsonPath) -> Ritual | None:
    if data is None:
        return None
    return Ritual(
        data["cadence"],
        path,
        data.get("day"),
        _date(data.get("last")),
        data.get("owner"),
        data.get("time"),
        data.get("timezone"),
        data.get("format", "png"),
    )


def build_spec(document: Document, path: Path | None = None) -> Spec:
    """Build the model of a document that passed the spec schema."""
    data = document.data
    ns_data = data["north_star"]
    grain = ns_data.get("grain", "week")
    north_star = NorthStar(
        role=Role.NORTH_STAR,
        leads_revenue_because=ns_data.get("leads_revenue_because"),
        **_metric_fields(ns_data, ("north_star",), grain),
    )
    inputs = tuple(
        Input(
            role=Role.INPUT,
            lever=d.get("lever"),
            direction=d.get("direction"),
            **_metric_fields(d, ("inputs", i), grain),
        )
        for i, d in enumerate(data.get("inputs", []))
    )
    counters = tuple(
        CounterMetric(
            role=Role.COUNTER,
            guards=d.get("guards"),
            threshold=Threshold(d["threshold"].get("max"), d["threshold"].get("min")) if "threshold" in d else None,
            **_metric_fields(d, ("counter_metrics", i), grain),
        )
        for i, d in enumerate(data.get("counter_metrics", []))
    )
    outcome = None
    if "outcome" in data:
        outcome = Outcome(role=Role.OUTCOME, **_metric_fields(data["outcome"], ("outcome",), grain))
    sources = {}
    for source_id, s in data["sources"].items():
        # A dbt model stands in for its table until the pipeline resolves it (dbt.py, pipeline.check).
        schema, _, table = s.get("table", s.get("dbt_model", "")).rpartition(".")
        sources[source_id] = Source(
            source_id,
            s["database"],
            table,
            schema or None,
            s["time_column"],
            ("sources", source_id),
            s.get("description"),
            s.get("dbt_model"),
            tuple(s.get("dimensions", ())),
            s.get("unit"),
        )
    review_data = data.get("review", {})
    review = Review(
        ("review",),
        *(_ritual(review_data.get(name), ("review", name)) for name in ("inputs", "north_star", "revalidation")),
    )
    history = tuple(
        HistoryEntry(
            h["north_star"],
            dt.date.fromisoformat(h["until"]),
            h["reason"],
            ("history", i),
            h.get("name"),
            h.get("definition"),
        )
        for i, h in enumerate(data.get("history", []))
    )
    candidates = tuple(
        Candidate(role=Role.CANDIDATE, **_metric_fields(d, ("candidates", i), grain))
        for i, d in enumerate(data.get("candidates", []))
    )
    retained = None
    if "retained" in data:
        r = data["retained"]
        retained = Retained(r["source"], r["filter"], ("retained",), r.get("within", 4))
    p = data["product"]
    product = Product(p["id"], p["name"], p.get("category"), p.get("value_moment"), p.get("description"))
    return Spec(
        document.file,
        document,
        product,
        sources,
        north_star,
        inputs,
        counters,
        review,
        history,
        path,
        outcome,
        candidates,
        retained,
    )


def _slug(text: str) -> str:
    """A project id (`^[a-z][a-z0-9-]{0,39}$`) made of any name."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug if slug[:1].isalpha() else f"p-{slug}")[:40].rstrip("-")


def project_id(data: dict, root: Path) -> tuple[str, str | None]:
    """(id, where it came from): `project:` as written, else the repository's name, else the folder's.

    A derived id is stable as long as the repository keeps its name (or, without
    `repository.url`, as long as the checkout's folder does); northstar.yaml
    should say it, so that a rename never changes what a deploy owns.
    """
    if data.get("project"):
        return data["project"], None
    url = (data.get("repository") or {}).get("url") or ""
    name = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") if "/" in url else ""
    if name and _slug(name) != "p":
        return _slug(name), "the repository URL"
    folder = Path(root).resolve().name
    if folder and _slug(folder) != "p":
        return _slug(folder), "the project folder's name"
    return "default", "nothing (no project, repository or folder name)"


def build_project(document: Document, root: Path) -> Project:
    """Build the model of a northstar.yaml that passed the project schema."""
    data = document.data
    identity, derived_from = project_id(data, root)
    teams = {
        team_id: Team(
            team_id,
            t["name"],
            tuple(t.get("contacts", ())),
            t.get("review_handle"),
            t.get("slack"),
            t.get("webhook_env"),
        )
        for team_id, t in data.get("teams", {}).items()
    }
    databases = {
        name: Database(
            name,
            d["uri_env"],
            d.get("description"),
            d.get("dialect"),
            float(d.get("statement_timeout", DEFAULT_STATEMENT_TIMEOUT)),
        )
        for name, d in data.get("databases", {}).items()
    }
    repo = data.get("repository", {})
    return Project(
        file=document.file,
        root=root,
        document=document,
        spec_paths=tuple(data.get("specs", ["specs"])),
        teams=teams,
        databases=databases,
        repository_url=repo.get("url"),
        repository_branch=repo.get("branch", "main"),
        superset_url=data.get("superset", {}).get("url"),
        severities={key: Severity(value) for key, value in data.get("rules", {}).items()},
        dbt=_dbt_setting(data.get("dbt"), root),
        id=identity,
        id_derived_from=derived_from,
        rituals=RitualDefaults(**data.get("rituals", {})),
    )


def _dbt_setting(data: dict | None, root: Path) -> dbt.Setting | None:
    if not data:
        return None
    return dbt.Setting(root / data["manifest"], root / data["catalog"] if data.get("catalog") else None)
