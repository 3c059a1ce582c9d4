"""A release of this repository on this machine: the working tree committed
and tagged `v<version>` in a throwaway git repository, so that the commands
`northstar init` writes for users (pip from a git tag, pre-commit hooks at a
tag) can be run here, word for word, with only the repository's address
changed from GitHub to this clone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from helpers import ROOT

from northstar_spec import scaffold


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def make_release(where: Path) -> Path:
    """The files of the working tree (tracked and new, not ignored) as one commit tagged as this release."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet committed is still listed
            target = where / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(where, "init", "-q")
    git(where, "add", "-A")
    git(where, "commit", "-qm", "release")
    git(where, "tag", scaffold.release_tag())
    return where


def local(text: str, clone: Path) -> str:
    """`text` (a workflow step, a pre-commit config) with this clone in place of the repository on GitHub."""
    assert scaffold.REPOSITORY in text
    return text.replace(f"git+{scaffold.REPOSITORY}", f"git+{clone.as_uri()}").replace(scaffold.REPOSITORY, str(clone))
