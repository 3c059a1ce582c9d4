"""How long `northstar validate` takes: the example specs, and 500 generated specs.

Figures are reported next to a baseline measured in the same run on the same
files: PyYAML's own safe_load (C loader when available), i.e. the least any
YAML-reading validator must spend, and check-jsonschema (schema only, no
method rules, no located errors) on the same files.
Run: python benchmarks/validate.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from northstar_spec.spec.pipeline import check

ROOT = Path(__file__).resolve().parent.parent
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def generate(folder: Path, count: int, tag: str = "") -> None:
    """`count` specs made from the example specs, each with its own product and metric ids."""
    (folder / "specs").mkdir(parents=True)
    (folder / "northstar.yaml").write_text((ROOT / "northstar.yaml").read_text())
    bases = sorted((ROOT / "specs").glob("*.yaml"))
    for i in range(count):
        base = bases[i % len(bases)]
        text = base.read_text()
        spec = yaml.load(text, Loader=SafeLoader)
        text = text.replace(f"id: {spec['product']['id']}\n", f"id: {spec['product']['id']}-{tag}{i}\n", 1)
        metric_ids = [spec["north_star"]["id"]] + [m["id"] for m in spec["inputs"] + spec["counter_metrics"]]
        metric_ids += [spec["outcome"]["id"]] if spec.get("outcome") else []
        for metric_id in sorted(metric_ids, key=len, reverse=True):
            text = text.replace(f"id: {metric_id}\n", f"id: {metric_id}_{tag}{i}\n")
            text = text.replace(f"guards: {metric_id}\n", f"guards: {metric_id}_{tag}{i}\n")
        (folder / "specs" / f"{i:03d}-{base.name}").write_text(text)


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(folder: Path, label: str, runs: int) -> None:
    files = sorted((folder / "specs").glob("*.yaml"))
    result = check([], project_file=folder / "northstar.yaml")
    assert not result.failed(), [str(d.location) + d.message for d in result.diagnostics[:3]]
    baseline = best_of(runs, lambda: [yaml.load(f.read_bytes(), Loader=SafeLoader) for f in files])
    library = best_of(runs, lambda: check([], project_file=folder / "northstar.yaml"))
    cli = best_of(
        max(1, runs // 2),
        lambda: subprocess.run(
            [str(Path(sys.executable).parent / "northstar"), "validate"], cwd=folder, check=True, capture_output=True
        ),
    )
    print(f"{label}: {len(files)} specs")
    print(f"  yaml.safe_load baseline  {baseline * 1000:8.1f} ms")
    print(
        f"  pipeline.check()         {library * 1000:8.1f} ms  ({library / baseline:.1f}x baseline, "
        f"{library / len(files) * 1000:.2f} ms/spec)"
    )
    peer = best_of(
        1,
        lambda: subprocess.run(
            [
                str(Path(sys.executable).parent / "check-jsonschema"),
                "--schemafile",
                str(ROOT / "schemas" / "northstar.schema.json"),
                *map(str, files),
            ],
            check=True,
            capture_output=True,
        ),
    )
    print(f"  northstar validate (CLI) {cli * 1000:8.1f} ms  (process start and imports included)")
    print(f"  check-jsonschema (CLI)   {peer * 1000:8.1f} ms  (northstar is {peer / cli:.1f}x faster)")


def main() -> None:
    print(f"python {sys.version.split()[0]}, yaml loader {SafeLoader.__name__}")
    measure(ROOT, "specs/", runs=7)
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), 500)
        measure(Path(tmp), "generated", runs=3)


if __name__ == "__main__":
    main()
