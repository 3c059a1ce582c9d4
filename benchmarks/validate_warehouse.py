"""How long `northstar validate --warehouse` takes on the demo warehouse.

The demo warehouse (`northstar demo-data`: about 900,000 events of the four
example products, ending today) is written to SQLite in a temporary folder,
or read from --uri (write it first with `northstar demo-data --uri URI`).
Reported against baselines measured in the same run on the same specs and
database: the offline `validate` (schema, lint and the compiler to nowhere),
and one `northstar evaluate` of the same specs (12 complete periods of every
metric), which is what the preflight must stay far below.
Run: python benchmarks/validate_warehouse.py [--uri URI] [--runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from validate import ROOT, best_of

from northstar_spec import demo_data
from northstar_spec.spec.pipeline import check
from northstar_spec.warehouse.evaluate import evaluate
from northstar_spec.warehouse.preflight import preflight
from superset_plugin.compiler.check import check as compile_check

URI_ENV = "NORTHSTAR_WAREHOUSE_URI"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", help="an existing demo warehouse (default: generate one in SQLite)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        uri = args.uri
        if uri is None:
            uri = f"sqlite:///{Path(folder) / 'warehouse.db'}"
            engine = sa.create_engine(uri)
            started = time.perf_counter()
            demo_data.write(engine, demo_data.generate(seed=7, end=dt.date.today()))
            engine.dispose()
            print(f"wrote the demo warehouse in {time.perf_counter() - started:.1f} s")
        environ = {URI_ENV: uri}
        result = check([], project_file=ROOT / "northstar.yaml")
        assert not result.failed(), result.diagnostics[:3]
        offline = best_of(
            args.runs,
            lambda: compile_check(check([], project_file=ROOT / "northstar.yaml").specs, result.project, environ),
        )
        found = preflight(result.specs, result.project, environ=environ)
        assert not [d for d in found if d.code not in ("NS906",)], found
        warehouse = best_of(args.runs, lambda: preflight(result.specs, result.project, environ=environ))
        one_evaluate = best_of(args.runs, lambda: evaluate(result.specs, result.project, environ=environ))
    metrics = sum(len(s.metrics_and_outcome) for s in result.specs)
    print(f"{len(result.specs)} specs, {metrics} metrics on {sa.engine.make_url(uri).get_backend_name()}")
    print(f"validate (offline: schema, lint, compile to nowhere): {offline * 1000:7.0f} ms")
    print(f"the warehouse preflight alone (--warehouse adds this): {warehouse * 1000:7.0f} ms")
    print(f"validate --warehouse:                                {(offline + warehouse) * 1000:7.0f} ms")
    print(f"one evaluate of the same specs (baseline):           {one_evaluate * 1000:7.0f} ms")
    print(f"validate --warehouse / evaluate:                     {(offline + warehouse) / one_evaluate:7.2f}")


if __name__ == "__main__":
    sys.exit(main())
