"""Property-based: whatever a user does to a valid spec, northstar answers with
findings, never a traceback (and a spec that validates compiles)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from helpers import FIXTURES, ROOT, TODAY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from northstar_spec.spec.pipeline import check
from superset_plugin.compiler.check import check as superset_check

VALID = [ROOT / "specs" / "teamspace.yaml", ROOT / "specs" / "tunewave.yaml", FIXTURES / "valid" / "minimal.yaml"]
PROJECT = FIXTURES / "northstar.yaml"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["", "week", "2026-02-30", "NS001", "*", "&a", "{", "- x", "\x00"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, prefix + (i,))


def _mutate(data, path, action, value):
    if not path:
        return value if action == "replace" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif action == "insert" and isinstance(parent[last], dict):
        parent[last][str(value)[:12] or "k"] = value
    elif action == "insert" and isinstance(parent[last], list):
        parent[last].append(value)
    return data


def _assert_clean_answer(tmp_path: Path, text_or_bytes) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(
        text_or_bytes if isinstance(text_or_bytes, bytes) else text_or_bytes.encode("utf-8", "surrogatepass")
    )
    result = check([spec], project_file=PROJECT, today=TODAY)
    if not result.failed():  # what validate does next: the Superset compiler, to nowhere
        result = result.adding(superset_check(result.specs, result.project, {}))
    for d in result.diagnostics:
        assert d.location.line >= 1 and d.location.col >= 1 and d.message and d.code.startswith("NS")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from(VALID), data=st.data(), action=st.sampled_from(["delete", "replace", "insert"]), value=values
)
def test_structural_mutations_never_crash(tmp_path, base, data, action, value):
    document = yaml.safe_load(base.read_text())
    document = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in document.items()}
    path = data.draw(st.sampled_from(list(_paths(document))))
    mutated = _mutate(document, path, action, value)
    _assert_clean_answer(tmp_path, yaml.safe_dump(mutated, allow_unicode=True))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from(VALID), data=st.data())
def test_textual_mutations_never_crash(tmp_path, base, data):
    raw = bytearray(base.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        edit = data.draw(st.sampled_from(["cut", "insert", "flip"]))
        if edit == "cut":
            del raw[at : at + data.draw(st.integers(1, 40))]
        elif edit == "insert":
            raw[at:at] = data.draw(
                st.binary(max_size=8)
                | st.sampled_from(
                    [b":", b"- ", b"\n  ", b"\t", b"&x ", b"*x", b"!!python/object ", b"'", b'"', b"{", b"]", b"\xff"]
                )
            )
        elif raw and at < len(raw):
            raw[at] = data.draw(st.integers(0, 255))
    _assert_clean_answer(tmp_path, bytes(raw))
