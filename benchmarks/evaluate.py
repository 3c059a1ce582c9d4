"""How long `northstar evaluate` takes on 10 million events in PostgreSQL.

The events are generated server-side (generate_series, a fixed seed) into a
dedicated database, `northstar_bench_evaluate`, shaped like Teamspace's
collab_events; the spec is specs/teamspace.yaml pointed at that table (seven
metrics, outcome included: count, count_distinct, ratios, raw SQL).

Baselines, measured in the same run on the same table: one full scan
(`SELECT count(*)`, and a sum over a column), and the same metrics computed
with one query per metric, which is what a tool without filtered aggregates
would do. Run: python benchmarks/evaluate.py [--rows N] [--runs N]
(server: NORTHSTAR_TEST_POSTGRES, default postgresql://postgres@127.0.0.1:5432)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from northstar_spec.spec.pipeline import check
from northstar_spec.warehouse import periods
from northstar_spec.warehouse.evaluate import evaluate, statement

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("NORTHSTAR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DATABASE = "northstar_bench_evaluate"
TABLE = "bench_events"
END = dt.date(2026, 11, 22)
DAYS = 560

GENERATE = f"""
CREATE UNLOGGED TABLE {TABLE} AS
SELECT
  TIMESTAMP '{END.isoformat()}' - make_interval(secs => floor(random() * {DAYS} * 86400)::int) AS occurred_at,
  CASE
    WHEN r < 0.50 THEN 'task_updated'
    WHEN r < 0.80 THEN 'project_completed'
    WHEN r < 0.88 THEN 'invite_accepted'
    WHEN r < 0.93 THEN 'team_created'
    WHEN r < 0.96 THEN 'first_project_completed'
    WHEN r < 0.98 THEN 'team_churned'
    ELSE 'seat_added'
  END AS event_type,
  't' || floor(random() * 20000)::int AS team_id,
  'u' || floor(random() * 120000)::int AS user_id,
  'p' || g AS project_id
FROM (SELECT g, random() AS r FROM generate_series(1, :rows) AS g) AS draws
"""


def fresh_table(rows: int) -> str:
    """The benchmark database with `rows` events, generated once and reused while the count matches."""
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": DATABASE}).scalar():
            conn.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    uri = f"{SERVER}/{DATABASE}"
    engine = sa.create_engine(uri, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": TABLE}).scalar()
        count = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar() if exists else 0
        if count != rows:
            started = time.perf_counter()
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}"))
            conn.execute(sa.text("SELECT setseed(0.42)"))
            conn.execute(sa.text(GENERATE), {"rows": rows})
            conn.execute(sa.text(f"VACUUM ANALYZE {TABLE}"))
            print(f"generated {rows:,} events in {time.perf_counter() - started:.1f} s")
        size = conn.execute(sa.text("SELECT pg_size_pretty(pg_total_relation_size(:t))"), {"t": TABLE}).scalar()
        print(f"{TABLE}: {rows:,} events, {size}, {DAYS} days to {END}")
    engine.dispose()
    return uri


def project(folder: Path) -> Path:
    """northstar.yaml and Teamspace's spec, its source pointed at the benchmark table."""
    (folder / "specs").mkdir()
    (folder / "northstar.yaml").write_text((ROOT / "northstar.yaml").read_text())
    spec = (ROOT / "specs" / "teamspace.yaml").read_text().replace("table: collab_events", f"table: {TABLE}")
    (folder / "specs" / "teamspace.yaml").write_text(spec)
    return folder / "northstar.yaml"


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, SQLAlchemy {sa.__version__}")
    uri = fresh_table(args.rows)
    engine = sa.create_engine(uri)
    with engine.connect() as conn:
        print(conn.execute(sa.text("SELECT version()")).scalar().split(" on ")[0])

    def scan(sql: str, serial: bool = False) -> float:
        def run():
            with engine.connect() as conn:
                if serial:
                    conn.execute(sa.text("SET max_parallel_workers_per_gather = 0"))
                conn.execute(sa.text(sql)).fetchall()

        return best_of(args.runs, run)

    count_all = scan(f"SELECT count(*) FROM {TABLE}")
    sum_all = scan(f"SELECT sum(length(team_id)) FROM {TABLE}")
    serial = scan(f"SELECT count(*) FROM {TABLE}", serial=True)
    print(f"  full scan: SELECT count(*)                {count_all:7.2f} s")
    print(f"  full scan: SELECT sum(length(team_id))    {sum_all:7.2f} s")
    # DISTINCT aggregates never run in parallel in PostgreSQL: a one-core scan is the fair floor.
    print(f"  full scan: count(*) on one core           {serial:7.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        result = check([], project_file=project(Path(tmp)), today=END)
        assert not result.failed(), [d.message for d in result.diagnostics]
        spec = result.specs[0]
        metrics = spec.metrics_and_outcome
        environ = {"NORTHSTAR_WAREHOUSE_URI": uri}
        source = spec.sources["collab"]
        for weeks, label in ((12, "12 weeks (the default)"), (80, "80 weeks (every row)")):
            queries = []
            together = best_of(
                args.runs,
                lambda: queries.append(
                    evaluate(result.specs, result.project, periods=weeks, end=END, environ=environ).queries
                ),
            )
            assert len(queries[-1]) == 1
            starts = periods.complete_periods(END, "week", weeks)

            def one_per_metric():
                with engine.connect() as conn:
                    for metric in metrics:
                        conn.execute(statement(spec, source, [metric], "postgresql", "week", starts)).fetchall()

            apart = best_of(args.runs, one_per_metric)
            print(f"{label}, {len(metrics)} metrics:")
            print(
                f"  evaluate, 1 query                       {together:7.2f} s  "
                f"({together / count_all:.1f}x count(*), {together / sum_all:.1f}x sum, "
                f"{together / serial:.1f}x one-core count(*))"
            )
            print(
                f"  one query per metric, {len(metrics)} queries         {apart:7.2f} s  "
                f"({apart / together:.1f}x evaluate, {apart / count_all:.1f}x count(*))"
            )
    engine.dispose()


if __name__ == "__main__":
    main()
