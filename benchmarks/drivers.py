"""How long `northstar explain` and `northstar candidates` take on the demo warehouse.

The demo warehouse (northstar demo-data: seed 7, a fixed end day, --scale)
is written to SQLite in a temporary folder, or to PostgreSQL with
--postgres (database `northstar_bench_drivers`); Teamspace's spec reads its
collab_events table. Baseline, measured in the same run on the same table:
one full scan of it (`SELECT count(*), count(DISTINCT team_id)`). Reported:
the median of --runs runs of each, and each as a multiple of the scan.

explain runs one evaluation (26 weeks, the North Star and its inputs) and
one query per dimension over two weeks; candidates one evaluation (52
weeks, every metric but the counter-metrics, four candidates) and one
query grouped by unit for all of them.
Run: python benchmarks/drivers.py [--scale S] [--runs N] [--postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from northstar_spec import demo_data
from northstar_spec.spec.pipeline import check
from northstar_spec.warehouse import candidates, explain

ROOT = Path(__file__).resolve().parent.parent
END = dt.date(2026, 11, 30)
SERVER = os.environ.get("NORTHSTAR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DATABASE = "northstar_bench_drivers"


def warehouse(folder: Path, scale: float, postgres: bool) -> str:
    if postgres:
        admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
        admin.dispose()
        uri = f"{SERVER}/{DATABASE}"
    else:
        uri = f"sqlite:///{folder / 'warehouse.db'}"
    engine = sa.create_engine(uri)
    started = time.perf_counter()
    counts = demo_data.write(engine, demo_data.generate(seed=7, end=END, scale=scale))
    engine.dispose()
    print(
        f"demo warehouse ({uri.split(':')[0]}, scale {scale:g}): {counts['collab_events']:,} rows in collab_events, "
        f"{sum(counts.values()):,} in all, written in {time.perf_counter() - started:.1f} s"
    )
    return uri


def timed(run, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        uri = warehouse(Path(folder), args.scale, args.postgres)
        environ = {**os.environ, "NORTHSTAR_WAREHOUSE_URI": uri}
        result = check([ROOT / "specs" / "teamspace.yaml"], project_file=ROOT / "northstar.yaml", today=END)
        assert not result.failed(), "the example spec must be valid"
        engine = sa.create_engine(uri)

        def scan() -> None:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT count(*), count(DISTINCT team_id) FROM collab_events")).fetchall()

        def explaining() -> None:
            explain.run(result.specs, result.project, end=END, environ=environ)

        def scoring() -> None:
            candidates.run(result.specs, result.project, end=END, environ=environ)

        scan()  # warm the cache alike for all three
        baseline = timed(scan, args.runs)
        found = {"explain": timed(explaining, args.runs), "candidates": timed(scoring, args.runs)}
        engine.dispose()
    print(f"one full scan of collab_events: {baseline * 1000:.1f} ms (median of {args.runs})")
    for name, seconds in found.items():
        print(f"{name}: {seconds * 1000:.1f} ms, {seconds / baseline:.1f} x the scan")


if __name__ == "__main__":
    main()
