"""Files as they were at a git revision, read without touching the work tree."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path


class GitError(Exception):
    pass


def _git(repo: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise GitError("git is not installed") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {' '.join(args)} failed")
    return done.stdout


def toplevel(folder: Path) -> Path | None:
    """The top of the git work tree `folder` is in; None outside one, or without git."""
    folder = folder.resolve()
    while not folder.is_dir():  # a folder about to be created: ask its nearest existing parent
        folder = folder.parent
    try:
        return Path(_git(folder, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    except GitError:
        return None


def read_files(folder: Path, ref: str, paths: Iterable[str], suffixes: tuple[str, ...]) -> dict[str, bytes]:
    """{path relative to `folder`: content at `ref`} for files under `paths` with one of `suffixes`."""
    folder = folder.resolve()
    top = Path(_git(folder, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    try:
        _git(folder, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        raise GitError(f"{ref!r} is not a commit of this repository") from None
    prefix = folder.relative_to(top)
    listing = _git(
        top, "ls-tree", "-r", "-z", "--name-only", ref, "--", *[str(prefix / p) for p in paths] or [str(prefix)]
    ).decode("utf-8", "replace")
    files = {}
    for name in filter(None, listing.split("\0")):
        if name.endswith(suffixes):
            files[str(Path(name).relative_to(prefix))] = _git(top, "show", f"{ref}:{name}")
    return files
