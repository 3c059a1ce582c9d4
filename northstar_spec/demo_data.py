"""The demo warehouse: synthetic event tables for the example specs in specs/.

Deterministic for a seed and an end date: the same call writes the same rows,
so tests can assert numbers and the demo always looks the same. The data ends
on the end date (today by default), so "the last 12 complete weeks" always
has data and the unfinished current week exists to be left out.

Every product's data has the shapes the method's charts should show: growth,
weekly seasonality, a launch spike followed by a drop, entities that activate
and churn, a recent guardrail breach, and an outcome (payouts, seats, stays,
upgrades) that follows the North Star about two weeks later. Teamspace's
last complete week has a dip that one country explains (an outage in
Germany: no German team completed a project), for `northstar explain` and
the digest to find.

Rows also carry dimensions to break metrics down by (country, plan,
platform). Each is a fixed function of the row's unit id (a team, an
account, a guest, a listener), not a random draw: adding them left every
other value of a seed unchanged, and a unit stays in one segment, so
distinct counts add up over segments.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

DAYS = 18 * 31  # a little over 18 months
#: Bumped whenever the generated rows change, so a kept demo warehouse is rebuilt.
DATA_VERSION = 3  # 3: dimension columns, and the outage in Teamspace's last week
#: Written by demo-data only: lists the tables it owns, so it never drops a user's table.
META_TABLE = "northstar_demo_tables"


@dataclass
class Table:
    name: str
    columns: list[tuple[str, sa.types.TypeEngine]]
    rows: list[tuple] = field(default_factory=list)


class _World:
    """Random draws and the calendar shared by every product's simulation."""

    def __init__(self, seed: int, end: dt.date, scale: float):
        self.rng = random.Random(seed)
        self.seed = seed
        self.end = end
        self.start = end - dt.timedelta(days=DAYS - 1)
        self.scale = scale

    def days(self) -> Iterator[tuple[int, dt.date]]:
        for offset in range(DAYS):
            yield offset, self.start + dt.timedelta(days=offset)

    def count(self, expected: float) -> int:
        """A Poisson draw: realistic noise around an expected count."""
        expected = max(expected * self.scale, 0.0)
        if expected > 50:
            return max(0, round(self.rng.gauss(expected, math.sqrt(expected))))
        limit, k, p = math.exp(-expected), 0, self.rng.random()
        while p > limit:
            k += 1
            p *= self.rng.random()
        return k

    def at(self, day: dt.date) -> dt.datetime:
        seconds = int(self.rng.triangular(7 * 3600, 23 * 3600, 14 * 3600))
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)

    def weeks_ago(self, day: dt.date) -> int:
        """Whole weeks between the week of `day` and the end's week (0 = the current week)."""
        monday = lambda d: d - dt.timedelta(days=d.weekday())  # noqa: E731
        return (monday(self.end) - monday(day)).days // 7

    def growth(self, offset: int, weekly_rate: float) -> float:
        return (1 + weekly_rate) ** (offset / 7)

    def launch(self, day: dt.date, weeks_ago: int = 30) -> float:
        """A launch spike and the drop after it: +60 %, +25 %, then 10 % below trend for two weeks."""
        return {weeks_ago: 1.6, weeks_ago - 1: 1.25, weeks_ago - 2: 0.9, weeks_ago - 3: 0.9}.get(
            self.weeks_ago(day), 1.0
        )

    def breach(self, day: dt.date, weeks: tuple[int, ...] = (3, 4)) -> bool:
        return self.weeks_ago(day) in weeks


#: Segments and their weights: what share of units falls in each.
COUNTRIES = (("US", 40), ("DE", 20), ("GB", 15), ("FR", 15), ("BR", 10))
PLANS = (("free", 55), ("team", 35), ("business", 10))
PLATFORMS = (("ios", 45), ("android", 40), ("web", 15))


def segment(unit: str | None, segments: tuple[tuple[str, int], ...], salt: str) -> str | None:
    """The segment of a unit: the same every time, spread by the weights (None without a unit)."""
    if unit is None:
        return None
    point = zlib.crc32(f"{salt}:{unit}".encode()) % sum(w for _, w in segments)
    for name, weight in segments:
        if point < weight:
            return name
        point -= weight
    raise AssertionError("unreachable")


def _with_dimensions(table: Table, unit: int, dimensions: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]) -> Table:
    """The table with one column per dimension, each a function of the row's unit (column `unit`)."""
    table.columns += [(name, sa.String(16)) for name, _ in dimensions]
    known: dict[str | None, tuple[str | None, ...]] = {}

    def cells(who: str | None) -> tuple[str | None, ...]:
        if who not in known:
            known[who] = tuple(segment(who, segments, name) for name, segments in dimensions)
        return known[who]

    table.rows = [(*row, *cells(row[unit])) for row in table.rows]
    return table


B2B_WEEKDAYS = (1.15, 1.1, 1.1, 1.05, 0.95, 0.35, 0.3)
LEISURE_WEEKDAYS = (0.85, 0.85, 0.9, 0.95, 1.1, 1.3, 1.25)


def _pool(world: _World, prefix: str, size: float) -> list[str]:
    return [f"{prefix}{i}" for i in range(1, max(2, int(size * world.scale)) + 1)]


def _skewed(world: _World, pool: list[str]) -> str:
    """Some customers are far more active than others."""
    return pool[min(len(pool) - 1, int(len(pool) * world.rng.random() ** 1.6))]


def _outcome(
    world: _World,
    table: Table,
    causes: Callable[[tuple], bool],
    share: float,
    make: Callable[[tuple, dt.datetime], tuple],
    lead_days: int = 14,
) -> None:
    """The outcome a North Star claims to lead: events that follow some of its
    events about two weeks later, so that `northstar backtest` finds the lead.

    A random stream of its own leaves every other row of a seed as it was.
    """
    rng = random.Random(f"{world.seed}:{table.name}:outcome")
    stop = dt.datetime.combine(world.end + dt.timedelta(days=1), dt.time())
    for row in [r for r in table.rows if causes(r)]:
        if rng.random() < share:
            at = row[0] + dt.timedelta(days=lead_days + rng.randint(-1, 1))
            if at < stop:
                table.rows.append(make(row, at))


def invoicing(world: _World) -> Table:
    """Acme Invoicing: accounts send invoices and get paid, more and more online."""
    table = Table(
        "invoicing_events",
        [
            ("occurred_at", sa.DateTime()),
            ("event_type", sa.String(32)),
            ("account_id", sa.String(16)),
            ("invoice_id", sa.String(16)),
            ("channel", sa.String(8)),
            ("days_to_pay", sa.Integer()),
        ],
    )
    add, invoice = table.rows.append, 0
    for offset, day in world.days():
        w = B2B_WEEKDAYS[day.weekday()] * world.launch(day)
        accounts = _pool(world, "a", 320 * world.growth(offset, 0.014))
        progress = offset / DAYS
        for _ in range(world.count(11 * w)):
            account = f"n{offset}-{world.rng.randrange(10**6)}"
            add((world.at(day), "account_created", account, None, None, None))
            if world.rng.random() < 0.32 + 0.12 * progress:
                add((world.at(day), "first_invoice_sent", account, None, None, None))
        for _ in range(world.count(0.26 * len(accounts) / world.scale * w)):
            invoice += 1
            add((world.at(day), "invoice_sent", _skewed(world, accounts), f"i{invoice}", None, None))
        for _ in range(world.count(0.22 * len(accounts) / world.scale * w)):
            online = world.rng.random() < 0.38 + 0.27 * progress
            days = max(0, round(world.rng.gauss(19 - 6 * progress, 6)))
            add(
                (world.at(day), "invoice_paid", _skewed(world, accounts), None, "online" if online else "offline", days)
            )
        disputes = 14.0 if world.breach(day) else 5.5
        for _ in range(world.count(disputes * w)):
            add((world.at(day), "payment_disputed", _skewed(world, accounts), None, None, None))
        for _ in range(world.count((18 if world.breach(day, (9,)) else 8.5) * B2B_WEEKDAYS[day.weekday()])):
            add((world.at(day), "account_cancelled", world.rng.choice(accounts), None, None, None))
    # Acme earns its fee when an online payment is paid out to the business, two weeks later.
    _outcome(
        world,
        table,
        lambda r: r[1] == "invoice_paid" and r[4] == "online",
        1.0,
        lambda r, at: (at, "payout_settled", r[2], None, "online", None),
    )
    return _with_dimensions(table, 2, (("country", COUNTRIES),))


def collab(world: _World) -> Table:
    """Teamspace: teams form, complete projects together, invite members, churn."""
    table = Table(
        "collab_events",
        [
            ("occurred_at", sa.DateTime()),
            ("event_type", sa.String(32)),
            ("team_id", sa.String(16)),
            ("user_id", sa.String(24)),
            ("project_id", sa.String(16)),
        ],
    )
    add, project = table.rows.append, 0
    for offset, day in world.days():
        w = B2B_WEEKDAYS[day.weekday()] * world.launch(day, 26)
        teams = _pool(world, "t", 140 * world.growth(offset, 0.019))
        for _ in range(world.count(9 * w)):
            team = f"n{offset}-{world.rng.randrange(10**6)}"
            add((world.at(day), "team_created", team, None, None))
            if world.rng.random() < 0.4 + 0.1 * offset / DAYS:
                add((world.at(day), "first_project_completed", team, None, None))
        for _ in range(world.count(0.3 * len(teams) / world.scale * w)):
            project += 1
            add((world.at(day), "project_completed", _skewed(world, teams), None, f"p{project}"))
        for _ in range(world.count(0.08 * len(teams) / world.scale * w)):
            add((world.at(day), "invite_accepted", world.rng.choice(teams), None, None))
        for _ in range(world.count(0.45 * len(teams) / world.scale * w)):
            team = _skewed(world, teams)
            add((world.at(day), "task_updated", team, f"{team}-u{world.rng.randrange(6)}", None))
        churn = 9.0 if world.breach(day) else 3.6
        for _ in range(world.count(churn * B2B_WEEKDAYS[day.weekday()])):
            add((world.at(day), "team_churned", world.rng.choice(teams), None, None))
    # Teams that finish projects add seats a couple of weeks later.
    _outcome(
        world, table, lambda r: r[1] == "project_completed", 0.5, lambda r, at: (at, "seat_added", r[2], None, None)
    )
    table = _with_dimensions(table, 2, (("country", COUNTRIES), ("plan", PLANS)))
    return _outage(world, table, "DE")


def _outage(world: _World, table: Table, country: str) -> Table:
    """Last week no team of one country completed a project (a regional outage):
    the change `northstar explain` and the digest should put on that country.

    Rows are only taken out, so every other row of a seed stays as it was."""
    at = [name for name, _ in table.columns].index("country")

    def out(row: tuple) -> bool:
        return row[1] == "project_completed" and row[at] == country and world.weeks_ago(row[0].date()) == 1

    table.rows = [row for row in table.rows if not out(row)]
    return table


def bookings(world: _World) -> Table:
    """Staybnb: guests search and book nights in hosts' listings; some cancel, some complain."""
    table = Table(
        "booking_events",
        [
            ("occurred_at", sa.DateTime()),
            ("event_type", sa.String(32)),
            ("guest_id", sa.String(16)),
            ("host_id", sa.String(16)),
            ("listing_id", sa.String(16)),
            ("nights", sa.Integer()),
            ("is_repeat_guest", sa.Integer()),
        ],
    )
    add = table.rows.append
    for offset, day in world.days():
        season = 1 + 0.25 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 80) / 365)
        w = LEISURE_WEEKDAYS[day.weekday()] * season * world.launch(day, 34)
        listings = _pool(world, "l", 260 * world.growth(offset, 0.012))
        guests = _pool(world, "g", 2600 * world.growth(offset, 0.012))
        if day.weekday() == 0:
            for listing in listings:
                if world.rng.random() < 0.82:
                    add((world.at(day), "listing_available", None, f"h{listing}", listing, None, None))
        for _ in range(world.count(0.06 * len(listings) / world.scale)):
            add(
                (
                    world.at(day),
                    "first_booking_hosted",
                    None,
                    f"hn{offset}-{world.rng.randrange(10**6)}",
                    None,
                    None,
                    None,
                )
            )
        for _ in range(world.count(0.075 * len(guests) / world.scale * w)):
            add((world.at(day), "search", world.rng.choice(guests), None, None, None, None))
        confirmed = world.count(0.0135 * len(guests) / world.scale * w)
        for _ in range(confirmed):
            nights = 1 + min(20, int(world.rng.expovariate(1 / 2.3)))
            add(
                (
                    world.at(day),
                    "booking_confirmed",
                    _skewed(world, guests),
                    None,
                    world.rng.choice(listings),
                    nights,
                    int(world.rng.random() < 0.3 + 0.1 * offset / DAYS),
                )
            )
        rate = 0.14 if world.breach(day, (2,)) else 0.055
        for _ in range(world.count(confirmed * rate / world.scale)):
            add((world.at(day), "booking_cancelled", world.rng.choice(guests), None, None, None, None))
        for _ in range(world.count((5.0 if world.breach(day, (7,)) else 1.4) * w)):
            add((world.at(day), "complaint_filed", world.rng.choice(guests), None, None, None, None))
    # Guests stay about two weeks after booking (the fee is earned at check-out); a few bookings never happen.
    _outcome(
        world,
        table,
        lambda r: r[1] == "booking_confirmed",
        0.94,
        lambda r, at: (at, "stay_completed", r[2], None, r[4], r[5], r[6]),
    )
    return _with_dimensions(table, 2, (("country", COUNTRIES),))


def listening(world: _World) -> Table:
    """Tunewave: listeners play, skip and save tracks; trials convert or expire; some cancel."""
    table = Table(
        "listening_events",
        [
            ("occurred_at", sa.DateTime()),
            ("event_type", sa.String(32)),
            ("listener_id", sa.String(16)),
            ("track_id", sa.String(16)),
            ("seconds_played", sa.Integer()),
            ("play_source", sa.String(16)),
        ],
    )
    add = table.rows.append
    for offset, day in world.days():
        w = LEISURE_WEEKDAYS[day.weekday()] * world.launch(day, 22)
        listeners = _pool(world, "u", 700 * world.growth(offset, 0.016))
        progress = offset / DAYS
        plays = world.count(0.2 * len(listeners) / world.scale * w)
        for _ in range(plays):
            source = "recommendation" if world.rng.random() < 0.25 + 0.2 * progress else "library"
            add(
                (
                    world.at(day),
                    "track_played",
                    _skewed(world, listeners),
                    f"s{world.rng.randrange(5000)}",
                    int(world.rng.gammavariate(2.0, 900)),
                    source,
                )
            )
        skip = 0.42 if world.breach(day, (5, 6)) else 0.27
        for _ in range(world.count(plays * skip / world.scale)):
            add(
                (
                    world.at(day),
                    "track_skipped",
                    _skewed(world, listeners),
                    f"s{world.rng.randrange(5000)}",
                    12,
                    "recommendation",
                )
            )
        for _ in range(world.count(plays * (0.05 + 0.04 * progress) / world.scale)):
            add(
                (
                    world.at(day),
                    "track_saved",
                    _skewed(world, listeners),
                    f"s{world.rng.randrange(5000)}",
                    None,
                    "recommendation" if world.rng.random() < 0.6 else "library",
                )
            )
        trials = world.count(0.012 * len(listeners) / world.scale)
        for _ in range(trials):
            converted = world.rng.random() < 0.28 + 0.1 * progress
            add(
                (
                    world.at(day),
                    "trial_converted" if converted else "trial_expired",
                    world.rng.choice(listeners),
                    None,
                    None,
                    None,
                )
            )
        for _ in range(world.count(0.004 * len(listeners) / world.scale)):
            add((world.at(day), "premium_cancelled", world.rng.choice(listeners), None, None, None))
    # Listeners who spend hours with Tunewave upgrade to premium a couple of weeks later.
    _outcome(
        world,
        table,
        lambda r: r[1] == "track_played",
        0.1,
        lambda r, at: (at, "premium_upgraded", r[2], None, None, None),
    )
    return _with_dimensions(table, 2, (("platform", PLATFORMS),))


GENERATORS: list[Callable[[_World], Table]] = [invoicing, collab, bookings, listening]


def generate(seed: int = 7, end: dt.date | None = None, scale: float = 1.0) -> list[Table]:
    world = _World(seed, end or dt.date.today(), scale)
    return [make(world) for make in GENERATORS]


class DemoDataError(Exception):
    pass


def write(engine: sa.engine.Engine, tables: list[Table], chunk: int = 20_000) -> dict[str, int]:
    """Replace the demo tables, and only those: a table of the same name that
    demo-data did not create is left alone and reported."""
    metadata = sa.MetaData()
    meta = sa.Table(META_TABLE, metadata, sa.Column("table_name", sa.String(64), primary_key=True))
    targets = {t.name: sa.Table(t.name, metadata, *(sa.Column(n, ty) for n, ty in t.columns)) for t in tables}
    with engine.begin() as conn:
        existing = set(sa.inspect(conn).get_table_names())
        meta.create(conn, checkfirst=True)
        owned = {row[0] for row in conn.execute(sa.select(meta.c.table_name))}
        foreign = sorted(name for name in targets if name in existing and name not in owned)
        if foreign:
            raise DemoDataError(
                f"table(s) {', '.join(foreign)} exist and were not created by northstar demo-data; "
                "nothing was written (use another database)"
            )
        counts = {}
        for table in tables:
            target = targets[table.name]
            target.drop(conn, checkfirst=True)
            target.create(conn)
            if table.name not in owned:
                conn.execute(meta.insert(), [{"table_name": table.name}])
            names = [n for n, _ in table.columns]
            for start in range(0, len(table.rows), chunk):
                conn.execute(target.insert(), [dict(zip(names, row)) for row in table.rows[start : start + chunk]])
            counts[table.name] = len(table.rows)
    return counts
