"""How long `northstar compile` takes: the example specs, and 500 generated specs.

Baseline, measured in the same run on the same specs: validation alone
(`pipeline.check`), which compile runs first. Run: python benchmarks/compile.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from validate import ROOT, best_of, generate

from northstar_spec.spec.pipeline import check
from superset_plugin.compiler.assets import compile_bundle

ENV = {"NORTHSTAR_WAREHOUSE_URI": "postgresql://northstar:secret@warehouse.example:5432/analytics"}


def measure(project_file: Path, label: str, runs: int) -> None:
    result = check([], project_file=project_file)
    assert not result.failed()
    validate = best_of(runs, lambda: check([], project_file=project_file))
    build = best_of(runs, lambda: compile_bundle(result.specs, result.project, ENV))
    bundle = compile_bundle(result.specs, result.project, ENV)
    package = best_of(runs, bundle.to_zip)
    with tempfile.TemporaryDirectory() as out:
        write = best_of(runs, lambda: bundle.write(Path(out)))
    total = validate + build + package + write
    print(f"{label}: {len(result.specs)} specs -> {len(bundle.files)} files, {len(bundle.to_zip()) // 1024} KiB zip")
    print(f"  validate (baseline)  {validate * 1000:8.1f} ms")
    print(f"  compile to model     {build * 1000:8.1f} ms  ({build / validate:.2f}x validate)")
    print(f"  zip                  {package * 1000:8.1f} ms")
    print(f"  write folder + zip   {write * 1000:8.1f} ms")
    print(
        f"  total                {total * 1000:8.1f} ms  ({total / validate:.2f}x validate, "
        f"{total / len(result.specs) * 1000:.2f} ms/spec)"
    )


def main() -> None:
    print(f"python {sys.version.split()[0]}")
    measure(ROOT / "northstar.yaml", "specs/", runs=5)
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), 500)
        measure(Path(tmp) / "northstar.yaml", "generated", runs=2)


if __name__ == "__main__":
    main()
