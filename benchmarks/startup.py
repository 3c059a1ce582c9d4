"""How long the installed `northstar` takes to start: `--version`, `--help`,
a command's `--help` and shell completion, each against `python -c pass` and
`python -c "import click"` measured in the same run (the least any Python CLI
on click can spend). The goal: `--version` and `--help` under 0.25 s.

Run with the interpreter whose `northstar` you want to time:
python benchmarks/startup.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate import best_of

RUNS = 15
NORTHSTAR = str(Path(sys.executable).parent / "northstar")


def timed(command: list[str], env: dict | None = None) -> float:
    return best_of(RUNS, lambda: subprocess.run(command, check=True, capture_output=True, env=env))


def main() -> None:
    print(f"python {sys.version.split()[0]}, best of {RUNS}")
    baseline = timed([sys.executable, "-c", "pass"])
    click = timed([sys.executable, "-c", "import click"])
    print(f"  python -c pass (baseline)     {baseline * 1000:7.1f} ms")
    print(f"  python -c 'import click'      {click * 1000:7.1f} ms  ({click / baseline:.1f}x baseline)")
    complete = {**os.environ, "_NORTHSTAR_COMPLETE": "bash_complete", "COMP_WORDS": "northstar ru", "COMP_CWORD": "1"}
    for label, command, env in [
        ("northstar --version", [NORTHSTAR, "--version"], None),
        ("northstar --help", [NORTHSTAR, "--help"], None),
        ("northstar validate --help", [NORTHSTAR, "validate", "--help"], None),
        ("completion of a command name", [NORTHSTAR], complete),
    ]:
        took = timed(command, env)
        print(f"  {label:<29} {took * 1000:7.1f} ms  ({took / baseline:.1f}x baseline)")


if __name__ == "__main__":
    main()
