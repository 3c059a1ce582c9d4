"""How long `northstar deploy` takes against a real Superset 6.1, for 1, 10 and
50 specs, next to the raw import request for the same bundle measured in the
same run, and the time and requests of an unchanged redeploy (which sends no import).

Needs the Superset virtualenv: .venv-superset/bin/python benchmarks/deploy.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from superset_server import running_superset
from validate import generate

from northstar_spec.spec.pipeline import check
from superset_plugin.compiler.assets import compile_bundle
from superset_plugin.deploy.apply import deploy
from superset_plugin.deploy.client import SupersetClient


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_superset(root=Path(tmp) / "superset") as server:
        env = {"NORTHSTAR_WAREHOUSE_URI": f"sqlite:///{tmp}/warehouse.db"}
        print(f"Superset 6.1 on {server.url}; figures in seconds")
        print(
            f"{'specs':>5} {'assets':>6} {'first deploy':>13} {'raw import':>11} {'ratio':>6} "
            f"{'unchanged redeploy':>19} {'ratio':>6} {'requests':>9}"
        )
        for count in (1, 10, 50):
            folder = Path(tmp) / f"specs{count}"
            generate(folder, count, tag=f"n{count}x")
            result = check([], project_file=folder / "northstar.yaml")
            bundle = compile_bundle(result.specs, result.project, env)
            client = SupersetClient(server.url, username=server.username, password=server.password)
            client.login()
            first, outcome = timed(lambda: deploy(client, bundle, result.specs, result.project))
            assert outcome.imported
            archive = bundle.to_zip()
            raw, _ = timed(lambda: client.import_assets(archive, bundle.passwords))
            before = client.requests
            again, outcome = timed(lambda: deploy(client, bundle, result.specs, result.project))
            assert not outcome.imported, outcome.plan.summary()
            requests = client.requests - before
            assets = len(bundle.files) - 1
            print(
                f"{count:>5} {assets:>6} {first:>13.2f} {raw:>11.2f} {first / raw:>6.2f} {again:>19.2f} "
                f"{again / raw:>6.2f} {requests:>9}"
            )


if __name__ == "__main__":
    main()
