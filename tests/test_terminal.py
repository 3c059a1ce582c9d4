"""The CLI on a terminal: colour by severity, live progress, NO_COLOR and
--color/--no-color, shell completion in a real bash, and a start that
imports no command for `--version` and `--help`.

A terminal is given by script(1) (util-linux), which runs the installed
command on a pseudo-terminal and records what it wrote, escape sequences
and all.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from helpers import FIXTURES, ROOT, northstar_executable, run_cli, run_installed
from on_terminal import COLOUR, SPINNER, on_a_terminal
from shop import URI_ENV, write_project, write_rows

from northstar_spec.cli import COMMANDS, plugged_commands

ESCAPE = re.compile(r"\x1b\[")
INVALID = FIXTURES / "invalid" / "NS402-owner-not-a-team.yaml"


def test_findings_are_coloured_by_severity_on_a_terminal():
    code, shown = on_a_terminal(["validate", str(INVALID)])
    assert code == 1
    assert re.search(r"\x1b\[31m\x1b\[1merror\x1b\[0m|\x1b\[1m\x1b\[31merror|\x1b\[31;1merror", shown), shown
    code, shown = on_a_terminal(["validate", "--today", "2027-09-01"])
    assert code == 0 and re.search(r"\x1b\[[0-9;]*33[0-9;]*m(\x1b\[1m)?warning", shown), shown


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["validate", str(INVALID)], {"NO_COLOR": "1"}),
        (["--no-color", "validate", str(INVALID)], {}),
    ],
)
def test_no_color_and_no_color_flag_show_no_colour(args, env):
    code, shown = on_a_terminal(args, **env)
    assert code == 1 and "NS402 error" in shown
    assert not COLOUR.search(shown), repr(shown)


def test_piped_output_has_no_escapes_unless_color_is_asked_for():
    piped = run_installed("validate", INVALID, cwd=ROOT)
    assert piped.returncode == 1 and "NS402 error" in piped.stdout and not ESCAPE.search(piped.stdout)
    forced = run_installed("--color", "validate", INVALID, cwd=ROOT)
    assert COLOUR.search(forced.stdout)
    # --color wins over NO_COLOR: the person typing it asked for colour now.
    both = run_installed("--color", "validate", INVALID, cwd=ROOT, env={**os.environ, "NO_COLOR": "1"})
    assert COLOUR.search(both.stdout)


@pytest.fixture(scope="module")
def shop_project(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("terminal-shop")
    write_project(folder)
    uri = write_rows(f"sqlite:///{folder / 'shop.db'}")
    return folder, {URI_ENV: uri}


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "--end", "2026-11-18", "--periods", "4"],
        ["backtest", "--end", "2026-11-18", "--periods", "4", "--max-lag", "1"],
    ],
)
def test_live_progress_on_a_terminal(shop_project, args):
    folder, env = shop_project
    code, shown = on_a_terminal(args, cwd=folder, **env)
    assert code in (0, 1), shown
    assert "querying the warehouse…" in shown and SPINNER.search(shown), repr(shown)
    assert re.search(r"✓\x1b\[0m corner-shop: shop \(shop_events\) per week", shown), repr(shown)
    assert COLOUR.search(shown)
    code, plain = on_a_terminal(args, cwd=folder, NO_COLOR="1", **env)
    assert "querying the warehouse…" in plain and "✓ corner-shop: shop (shop_events) per week" in plain
    assert not COLOUR.search(plain), repr(plain)


def test_progress_off_a_terminal_is_one_plain_line_per_query(shop_project):
    folder, env = shop_project
    done = run_installed(
        "evaluate", "--end", "2026-11-18", "--periods", "4", "--progress", cwd=folder, env={**os.environ, **env}
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("· corner-shop: shop (shop_events) per week: ") and not ESCAPE.search(done.stderr)
    quiet = run_installed("evaluate", "--end", "2026-11-18", cwd=folder, env={**os.environ, **env})
    assert quiet.stderr == ""


def test_the_command_tables_hold_each_command_s_own_help():
    """`northstar --help` lists commands from the tables, without importing them: they must not drift."""
    for name, (place, short) in {**plugged_commands(), **COMMANDS}.items():
        module, _, attribute = place.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command) and command.name == name
        assert short == command.get_short_help_str(limit=1_000), name


def test_version_and_help_import_no_command():
    probe = (
        "import sys\n"
        "from northstar_spec.cli import main\n"
        "sys.argv = ['northstar', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('northstar_spec.', 'superset_plugin.', 'rich'))),"
        " file=sys.stderr)\n"
    )
    for flag in ("--version", "--help"):
        done = subprocess.run([sys.executable, "-c", probe, flag], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        loaded = set(ast.literal_eval(done.stderr.strip()))
        # The package itself, and the plugins' tables of commands: no command module, no rich.
        assert loaded <= {"northstar_spec.cli", "superset_plugin.commands"}, loaded
    assert "deploy      Compile specs and deploy them to Superset, as their project." in run_cli("--help").stdout


def completions(words: str, cwd: Path = ROOT) -> list[str]:
    """What a real bash offers after `words` (the last word being completed), with the script northstar prints."""
    script = run_installed("completion", "bash").stdout
    program = (
        f"{script}\n"
        f"COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n"
        f'[[ "{words}" == *" " ]] && {{ COMP_WORDS+=(""); COMP_CWORD=$((COMP_CWORD + 1)); }}\n'
        "_northstar_completion northstar\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    path = f"{Path(northstar_executable()).parent}{os.pathsep}{os.environ['PATH']}"
    done = subprocess.run(
        ["bash", "--norc", "-c", program], cwd=cwd, env={**os.environ, "PATH": path}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_commands_rule_codes_and_names():
    assert {"rules", "validate"} <= set(completions("northstar "))
    assert completions("northstar ru") == ["rules"]
    assert completions("northstar rules NS40") == [f"NS40{i}" for i in range(1, 10)]
    assert completions("northstar rules owner-") == ["owner-exists"]


def test_bash_completes_spec_paths_and_product_ids():
    assert completions("northstar validate specs/team") == ["specs/teamspace.yaml"]
    assert "specs/" in completions("northstar validate sp")
    assert completions("northstar tree team") == ["teamspace"]
    assert {"acme-invoicing", "staybnb", "teamspace", "tunewave", "specs/"} <= set(completions("northstar tree "))


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell):
    done = run_cli("completion", shell)
    assert done.returncode == 0 and "_NORTHSTAR_COMPLETE" in done.stdout
    assert f"{shell}_complete" in done.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error():
    done = run_cli("completion", "powershell")
    assert done.returncode == 2 and "'powershell' is not one of 'bash', 'zsh', 'fish'" in done.stderr


def test_tree_over_many_specs_and_product_ids():
    done = run_cli("tree", "teamspace", ROOT / "specs" / "staybnb.yaml", cwd=ROOT)
    assert done.returncode == 0 and done.stdout.count("★") == 2
    assert done.stdout.startswith("Staybnb") or done.stdout.startswith("Teamspace")
    every = run_cli("tree", cwd=ROOT)
    assert every.returncode == 0 and every.stdout.count("★") == 4
    wrong = run_cli("tree", "teamspce", cwd=ROOT)
    assert wrong.returncode == 2 and "did you mean 'teamspace'?" in wrong.stderr
