"""What `northstar validate` is pointed at: a spec on standard input, and
paths that are no spec (devices, FIFOs, links to devices, empty folders):
a usage error (exit 2) that says what the path is, never "0 specs valid",
and never a hang."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import FIXTURES, TODAY, run_cli, run_installed

PROJECT = FIXTURES / "northstar.yaml"
MINIMAL = (FIXTURES / "valid" / "minimal.yaml").read_text()


def test_a_spec_on_standard_input(tmp_path):
    done = run_cli("validate", "-", "--project", PROJECT, "--today", TODAY.isoformat(), input=MINIMAL, cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "1 spec valid"), done.stderr


def test_findings_on_standard_input_are_named_stdin(tmp_path):
    broken = MINIMAL.replace("owner: growth}", "owner: grwoth}", 1)
    done = run_cli(
        "validate", "-", "--project", PROJECT, "--format", "json", "--today", TODAY.isoformat(), input=broken
    )
    assert done.returncode == 1
    (finding,) = json.loads(done.stdout)
    assert (finding["code"], finding["location"]["file"], finding["location"]["line"]) == ("NS402", "<stdin>", 22)


def test_standard_input_beside_files_is_checked_with_them():
    """Cross-spec rules see both: the same product on stdin and in a file is one product twice."""
    done = run_cli("validate", FIXTURES / "valid" / "minimal.yaml", "-", "--project", PROJECT, input=MINIMAL)
    assert done.returncode == 1 and "<stdin>:5:7: NS406 error" in done.stdout


def test_standard_input_once_only():
    done = run_cli("validate", "-", "-", "--project", PROJECT, input=MINIMAL)
    assert done.returncode == 2 and "`-` (standard input) may be given once" in done.stderr


def test_binary_on_standard_input_is_a_finding():
    done = run_cli("validate", "-", "--project", PROJECT, input="\x00" * 100)
    assert done.returncode == 1 and "<stdin>:1:1: NS004" in done.stdout


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_a_usage_error(device):
    done = run_cli("validate", device, "--project", PROJECT)
    assert done.returncode == 2
    assert f"{device}: a character device, not a spec file or a folder of specs" in done.stderr
    assert "valid" not in done.stdout


def test_a_symlink_to_a_device(tmp_path):
    link = tmp_path / "spec.yaml"
    link.symlink_to("/dev/null")
    done = run_cli("validate", link, "--project", PROJECT)
    assert done.returncode == 2
    assert f"{link}: a symlink to /dev/null, a character device, not a spec file" in done.stderr


def test_a_fifo_is_refused_without_being_opened(tmp_path):
    """Opening a FIFO blocks until a writer comes; the installed command must answer at once (timeout)."""
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    try:
        done = run_installed("validate", fifo, "--project", PROJECT, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("validate opened the FIFO and hung")
    assert done.returncode == 2
    assert f"{fifo}: a FIFO (named pipe), not a spec file or a folder of specs" in done.stderr


def test_a_fifo_inside_a_folder_is_not_a_spec(tmp_path):
    (tmp_path / "specs").mkdir()
    os.mkfifo(tmp_path / "specs" / "pipe.yaml")
    (tmp_path / "specs" / "ok.yaml").write_text(MINIMAL)
    done = run_installed("validate", tmp_path / "specs", "--project", PROJECT, "--today", TODAY, timeout=30)
    assert (done.returncode, done.stdout.strip()) == (0, "1 spec valid"), done.stderr


@pytest.mark.parametrize("content", [[], ["README.md", "notes.txt"], [".hidden/spec.yaml"]])
def test_a_folder_without_specs_is_a_usage_error(tmp_path, content):
    folder = tmp_path / "specs"
    folder.mkdir()
    for name in content:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(MINIMAL)
    done = run_cli("validate", folder, "--project", PROJECT)
    assert done.returncode == 2
    assert f"no spec files (*.yaml, *.yml) in {folder}" in done.stderr
    assert "0 specs valid" not in done.stdout


def test_a_project_whose_spec_folder_is_empty(tmp_path):
    (tmp_path / "northstar.yaml").write_bytes(PROJECT.read_bytes())
    (tmp_path / "specs").mkdir()
    done = run_cli("validate", cwd=tmp_path)
    assert done.returncode == 2 and "no spec files (*.yaml, *.yml) in specs" in done.stderr


def test_only_the_project_file_is_no_spec(tmp_path: Path):
    (tmp_path / "northstar.yaml").write_bytes(PROJECT.read_bytes())
    done = run_cli("validate", tmp_path / "northstar.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "no spec files" in done.stderr
