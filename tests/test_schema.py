"""The published JSON Schemas: valid 2020-12, documented, in step with the model,
and accepted by an independent validator (check-jsonschema)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT
from jsonschema import Draft202012Validator

from northstar_spec.spec import loading, model
from northstar_spec.spec import schema as spec_schema
from northstar_spec.spec.schema import PROJECT_SCHEMA, SPEC_SCHEMA, load_schema

SCHEMAS = [SPEC_SCHEMA, PROJECT_SCHEMA]
#: Fixtures whose only findings come from the schema stage: an independent
#: validator must reject them too.
SCHEMA_CODES = ("NS010", "NS011", "NS012", "NS013", "NS014")


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_passes_the_2020_12_metaschema(name):
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def _properties(schema: dict, root: dict, where: str):
    """Every (path, property schema, resolved target) in the schema."""
    for name, prop in schema.get("properties", {}).items():
        target = prop
        if "$ref" in prop:
            target = root["$defs"][prop["$ref"].split("/")[-1]]
        yield f"{where}.{name}", prop, target
    if isinstance(schema.get("additionalProperties"), dict):
        prop = schema["additionalProperties"]
        target = root["$defs"][prop["$ref"].split("/")[-1]] if "$ref" in prop else prop
        yield f"{where}.*", prop, target


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_property_has_a_description_and_examples(name):
    root = load_schema(name)
    objects = [("$", root)] + [(f"$defs.{k}", v) for k, v in root["$defs"].items()]
    undocumented = []
    for where, schema in objects:
        for path, prop, target in _properties(schema, root, where):
            description = prop.get("description") or target.get("description")
            # A list's example is a snippet (defaultSnippets): editors print an example list of objects as text.
            examples = (
                prop.get("examples")
                or target.get("examples")
                or target.get("enum")
                or prop.get("enum")
                or prop.get("defaultSnippets")
            )
            if not description or not examples:
                undocumented.append(path)
    assert undocumented == []


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize(
    ("definition", "cls", "renamed"),
    [
        ("product", model.Product, {}),
        ("source", model.Source, {}),
        ("north_star", model.NorthStar, {}),
        ("input", model.Input, {}),
        ("counter_metric", model.CounterMetric, {}),
        ("outcome", model.Outcome, {}),
        ("measure", model.Measure, {}),
        ("ratio", model.Ratio, {}),
        ("ratio_part", model.RatioPart, {}),
        ("target", model.Target, {}),
        ("threshold", model.Threshold, {}),
        ("ritual", model.Ritual, {}),
        ("history_entry", model.HistoryEntry, {}),
    ],
)
def test_schema_and_model_agree(definition, cls, renamed):
    """Every property the schema accepts has a home in the model: nothing a user writes is dropped."""
    properties = set(load_schema(SPEC_SCHEMA)["$defs"][definition]["properties"])
    assert {renamed.get(p, p) for p in properties} <= _fields(cls)


def test_project_schema_and_model_agree():
    schema = load_schema(PROJECT_SCHEMA)
    assert set(schema["$defs"]["team"]["properties"]) - {"id"} <= _fields(model.Team)
    assert set(schema["$defs"]["database"]["properties"]) <= _fields(model.Database) | {"uri_env"}


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--schemafile",
            str(ROOT / "schemas" / schema),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_jsonschema_accepts_every_example_spec():
    specs = sorted((ROOT / "specs").glob("*.yaml")) + sorted((FIXTURES / "valid").glob("*.yaml"))
    done = check_jsonschema(SPEC_SCHEMA, *specs)
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_jsonschema_accepts_the_project_files():
    done = check_jsonschema(PROJECT_SCHEMA, ROOT / "northstar.yaml", FIXTURES / "northstar.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def schema_level_fixtures() -> list[Path]:
    return sorted(p for p in (FIXTURES / "invalid").glob("NS01*.yaml") if p.name.startswith(SCHEMA_CODES))


def test_check_jsonschema_rejects_every_schema_level_invalid_fixture():
    """One run over all of them; its JSON report must name every fixture."""
    fixtures = schema_level_fixtures()
    assert len(fixtures) >= 30
    done = check_jsonschema(SPEC_SCHEMA, *fixtures, "--output-format", "JSON")
    report = json.loads(done.stdout)
    assert done.returncode == 1, done.stderr
    rejected = {Path(error["filename"]).name for error in report["errors"]}
    rejected |= {Path(error["filename"]).name for error in report["parse_errors"]}
    assert sorted(f.name for f in fixtures if f.name not in rejected) == []


def _loaded(paths):
    for path in paths:
        document, _ = loading.load(path)
        if document is not None:
            yield path, document.data


def test_the_fast_verdict_never_passes_what_jsonschema_rejects():
    """The compiled validator may only say "valid" where Python's jsonschema finds no error: on every example
    spec, every fixture, and documents crafted where the two libraries' semantics differ (regex `$` before a
    newline, dates, YAML types JSON lacks, huge integers, NaN)."""
    documents = list(_loaded([*sorted((ROOT / "specs").glob("*.yaml")), *sorted(FIXTURES.glob("*/*.yaml"))]))
    assert len(documents) >= 150
    good = loading.load(ROOT / "specs" / "staybnb.yaml")[0].data

    def target(**changes):
        return {**good, "north_star": {**good["north_star"], "target": {**good["north_star"]["target"], **changes}}}

    crafted = [
        {**good, "product": {**good["product"], "id": "staybnb\n"}},
        {**good, "product": {**good["product"], "id": "Staybnb"}},
        target(by="2026-02-30"),
        target(by="20261231"),
        target(value=10**400),
        target(value=float("nan")),
        target(value=True),
        {
            **good,
            "review": {**good["review"], "north_star": {**good["review"]["north_star"], "last": dt.date(2026, 1, 5)}},
        },
        {**good, "product": {**good["product"], 1: "x"}},
        {**good, "inputs": tuple(good["inputs"])},
    ]
    documents += [(f"crafted {i}", data) for i, data in enumerate(crafted)]
    verdicts = {"valid": 0, "invalid": 0}
    for where, data in documents:
        if spec_schema.is_valid(data, SPEC_SCHEMA):
            verdicts["valid"] += 1
            assert list(spec_schema._validator(SPEC_SCHEMA).iter_errors(data)) == [], where
        else:
            verdicts["invalid"] += 1
    assert verdicts["valid"] >= 10 and verdicts["invalid"] >= 10, verdicts
    assert not spec_schema.is_valid(crafted[0], SPEC_SCHEMA)
